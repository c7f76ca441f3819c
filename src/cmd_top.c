// SPDX-License-Identifier: GPL-2.0
/*
 * `xl4 top`: a live view of the running daemon. Every refresh asks the daemon for status,
 * stats and events over the control socket, feeds the screen model (top_view.c) and draws
 * its lines with ncurses. Only the terminal I/O lives here.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>

#include "commands.h"
#include "control.h"
#include "top_view.h"

struct top_args {
	struct xl4_args common;
	double delay;
	uint32_t top_n;
	bool ascii;
};

static const struct top_args top_defaults = { .delay = 1.0, .top_n = 8 };

static int parse_delay(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct top_args *a = args;
	char *end;

	a->delay = strtod(arg, &end);
	if (end == arg || *end || !(a->delay >= 0.2 && a->delay <= 3600))
		return xl4_cli_usage_error(cmd, "--delay '%s' is not 0.2..3600 seconds", arg);
	return 0;
}

static const struct xl4_opt top_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_FUNC("delay", 'd', "SECONDS", parse_delay,
		     "seconds between refreshes (0.2..3600, default 1)"),
	XL4_OPT_U32("top", 'n', "N", struct top_args, top_n, 1, 100,
		    "rows in the drop-reason and dropped-source tables (1..100, default 8)"),
	XL4_OPT_FLAG("ascii", 0, struct top_args, ascii,
		     "ASCII sparklines (also chosen when the locale is not UTF-8)"),
	{ 0 },
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request; NULL with the reason in err when the daemon cannot be asked or refuses. */
static json_t *ask(const char *sock, const char *what, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s}", "cmd", what), *resp = NULL;
	int ret = xl4_control_call(sock, req, &resp, err, errlen);

	json_decref(req);
	if (ret)
		return NULL;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		snprintf(err, errlen, "daemon: %s: %s", what,
			 json_string_value(json_object_get(resp, "error")) ?: "error");
		json_decref(resp);
		return NULL;
	}
	return resp;
}

/* One sample into the model; returns 0, or -1 when the daemon did not answer (said in m). */
static int sample(struct top_model *m, const char *sock)
{
	char err[256] = "";
	json_t *st = ask(sock, "status", err, sizeof(err));
	json_t *sa = st ? ask(sock, "stats", err, sizeof(err)) : NULL;
	json_t *ev = sa ? ask(sock, "events", err, sizeof(err)) : NULL;

	if (ev)
		top_model_update(m, st, sa, ev, mono_s());
	top_model_error(m, ev ? NULL : err);
	json_decref(st);
	json_decref(sa);
	json_decref(ev);
	return ev ? 0 : -1;
}

static void draw(const struct top_model *m)
{
	struct top_lines l;
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	erase();
	if (top_view_render(m, COLS, clock, &l) == 0) {
		for (int i = 0; i < l.n && i < LINES; i++)
			mvaddstr(i, 0, l.line[i]);
		top_lines_free(&l);
	} else {
		mvaddstr(0, 0, "xl4 top: out of memory");
	}
	refresh();
}

static int run_top(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct top_args *a = args;
	const char *sock = xl4_socket(&a->common);
	double delay = a->delay, next;
	struct top_model m;
	struct sigaction sa = { .sa_handler = on_signal };
	bool ascii = a->ascii;

	(void)cmd, (void)argc, (void)argv;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "xl4 top: needs a terminal; for scripts use 'xl4 stats --json' or "
				"'xl4 status --json'\n");
		return 1;
	}
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8"))
		ascii = true; /* block characters would print as garbage */
	if (top_model_init(&m, ascii, a->top_n)) {
		fprintf(stderr, "xl4: out of memory\n");
		return 1;
	}
	/* The first sample outside curses: a daemon that is not there is a plain error line. */
	if (sample(&m, sock)) {
		fprintf(stderr, "xl4: %s\n", m.error);
		top_model_free(&m);
		return 1;
	}
	/* Our handlers before initscr(), so curses leaves them alone; no SA_RESTART, so a
	 * signal ends the wait in getch() and the terminal is restored on the way out. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!initscr()) {
		fprintf(stderr, "xl4 top: cannot set up the terminal (TERM=%s)\n", getenv("TERM") ?: "");
		top_model_free(&m);
		return 1;
	}
	cbreak();
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	next = mono_s() + delay;
	draw(&m);
	while (!stop_signal) {
		double left = next - mono_s();
		int ch;

		if (left <= 0) {
			sample(&m, sock);
			draw(&m);
			next += delay;
			if (next < mono_s()) /* a slow daemon: do not try to catch up */
				next = mono_s() + delay;
			continue;
		}
		timeout((int)ceil(left * 1000));
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			break;
		if (ch == KEY_RESIZE || ch == 12 /* Ctrl-L */)
			draw(&m);
	}
	endwin();
	top_model_free(&m);
	return 0;
}

const struct xl4_cmd xl4_cmd_top = {
	.name = "top",
	.summary = "Live view: per-VIP rates, guard state, drops by reason, dropped sources, backends.",
	.description =
		"Asks the daemon for status, stats and recent drop samples every refresh and shows:\n"
		"per VIP packets, bits and new flows per second, the flood guard's mode and SYN:ACK\n"
		"ratio with a sparkline of the last 30 samples (\"-\" when the daemon has no guard),\n"
		"backends (health, state, weight, drain, packets per second), drop reasons by rate,\n"
		"the sources seen most in sampled drops over the last minute, and map fill.\n"
		"Keys: q quits, Ctrl-L redraws.",
	.opts = top_opts,
	XL4_DEFAULTS(struct top_args, top_defaults),
	.exec = run_top,
};
