// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon: one struct of state and one epoll loop over the control socket, a 1 s timer
 * (counters into rates, and the metrics text), the drop-event ring buffer and a signalfd.
 * Every control request is answered from this loop. Two helper threads touch none of its
 * state: the health checker (results come back through a pipe) and the metrics HTTP server
 * (it copies the text this loop renders, under a mutex).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "adopt.h"
#include "control.h"
#include "counters.h"
#include "daemon.h"
#include "daemon_filter.h"
#include "daemon_guard.h"
#include "daemon_lb.h"
#include "daemon_log.h"
#include "engine.h"
#include "event_fmt.h"
#include "kernel_check.h"
#include "log.h"
#include "map_fill.h"
#include "metrics.h"
#include "names.h"
#include "reload.h"
#include "stats_view.h"
#include "version.h"

#define RECENT_EVENTS 64

struct attached_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	enum xl4_xdp_mode mode;
	int attached; /* 0 no, 1 attached by this daemon, 2 was running or replaced */
};

struct daemon {
	struct xl4_config cfg;
	bool cfg_owned;		/* after a reload: ours to free */
	struct xl4_daemon_opts opts;
	bool adopted;		/* took over the running program rather than loading one */
	__u64 fingerprint;	/* of the program this daemon runs */
	struct xl4_engine eng;
	struct attached_iface ifs[XL4_MAX_IFACES];
	int n_ifs;
	int epfd, sigfd, timerfd, ctlfd;
	int pin_lock;		/* flock on the pin directory, held while we run */
	struct ring_buffer *rb;
	struct xl4_totals prev, cur; /* the last two 1 s samples, for rates */
	double dt;
	int samples;
	time_t started;
	struct xl4_event recent[RECENT_EVENTS];
	__u64 events_total;
	struct daemon_lb lb;
	struct xl4_ctl_server ctl;
	bool lb_started;
	struct daemon_filter filter;
	bool filter_started;
	struct daemon_guard guard;
	bool guard_started;
	struct xl4_metrics metrics;
	bool metrics_started;
	struct xl4_map_fills fills; /* map pressure, counted every XL4_MAP_FILL_PERIOD_S */
	int stop;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int resolve_ifaces(struct daemon *d)
{
	for (int i = 0; i < d->cfg.n_ifaces; i++) {
		struct attached_iface *a = &d->ifs[i];

		snprintf(a->name, sizeof(a->name), "%s", d->cfg.ifaces[i]);
		a->ifindex = if_nametoindex(a->name);
		if (!a->ifindex) {
			daemon_log_start_failed("iface", a->name, "no such interface");
			return -ENODEV;
		}
	}
	d->n_ifs = d->cfg.n_ifaces;
	return 0;
}

static void meta_fill(struct daemon *d, struct xl4_meta *m, __u32 prog_id)
{
	m->fingerprint = d->fingerprint;
	m->prog_id = prog_id;
	for (int i = 0; i < d->n_ifs && i < XL4_META_MAX_IFS; i++)
		m->ifindex[m->n_ifs++] = d->ifs[i].ifindex;
}

/* fresh_only: undo a failed start, leaving interfaces where an xl4 program ran before it. */
static void detach_all(struct daemon *d, bool fresh_only)
{
	for (int i = 0; i < d->n_ifs; i++) {
		struct attached_iface *a = &d->ifs[i];

		if (!a->attached || (fresh_only && a->attached != 1))
			continue;
		daemon_log_detach(a->name, xl4_xdp_detach(a->ifindex, d->eng.prog_fd, a->mode) != 0);
		a->attached = 0;
	}
}

/* Every interface gets this program: already there (adopted), swapped in atomically for an
 * older xl4 program, or attached. Then xl4_meta_v1 records what runs where. */
static int attach_all(struct daemon *d)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct xl4_meta m = { 0 }, before;
	int keep[XL4_MAX_IFACES];
	bool had = xl4_meta_read(d->cfg.pin_path, &before) == 0;

	bpf_obj_get_info_by_fd(d->eng.prog_fd, &info, &len);
	for (int i = 0; i < d->n_ifs; i++) {
		struct attached_iface *a = &d->ifs[i];
		bool replaced;
		int err = xl4_xdp_install(a->ifindex, d->eng.prog_fd, d->cfg.pin_path, d->cfg.mode,
					  &a->mode, &replaced);

		if (err) {
			/* Only what this start attached afresh goes: a replaced interface keeps
			 * the new program, which serves the same maps. */
			detach_all(d, true);
			return err;
		}
		a->attached = !replaced && !d->adopted ? 1 : 2;
		daemon_log_attach(a->name, xl4_mode_name(a->mode), info.id,
				  d->adopted ? "running" : replaced ? "replaced" : "attached");
	}
	for (int i = 0; i < d->n_ifs; i++)
		keep[i] = d->ifs[i].ifindex;
	if (had)
		xl4_xdp_retire(&before, keep, d->n_ifs, d->cfg.pin_path);
	meta_fill(d, &m, info.id);
	return xl4_meta_write(d->cfg.pin_path, &m);
}

static json_t *status_json(struct daemon *d)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	json_t *ifs = json_array(), *vips = daemon_lb_json(&d->lb);

	bpf_obj_get_info_by_fd(d->eng.prog_fd, &info, &len);
	for (int i = 0; i < d->n_ifs; i++)
		json_array_append_new(ifs, json_pack("{s:s, s:i, s:s, s:b}", "name", d->ifs[i].name,
						     "ifindex", d->ifs[i].ifindex, "mode",
						     xl4_mode_name(d->ifs[i].mode), "attached",
						     d->ifs[i].attached));
	daemon_guard_annotate(&d->guard, vips);
	return json_pack("{s:b, s:s, s:i, s:I, s:i, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "ok", 1,
			 "version", XL4_VERSION, "pid", (int)getpid(), "uptime_s",
			 (json_int_t)(time(NULL) - d->started), "prog_id", (int)info.id,
			 "pin_path", d->cfg.pin_path, "config", d->cfg.path, "interfaces", ifs,
			 "events_sampled", (json_int_t)d->events_total, "vips", vips, "filter",
			 daemon_filter_json(&d->filter), "maps", xl4_map_fill_json(&d->fills), "guard",
			 daemon_guard_json(&d->guard));
}

/* Totals are read fresh for each request; rates come from the last two 1 s samples. */
static json_t *stats_reply(struct daemon *d)
{
	struct xl4_totals now;
	json_t *s, *rates, *group, *e, *r;
	const char *gname, *name;

	if (xl4_counters_read(d->eng.stats_fd, &now))
		return xl4_control_error("cannot read counters: %s", strerror(errno));
	s = xl4_stats_json(&now, NULL, 0);
	rates = d->samples > 1 ? xl4_stats_json(&d->cur, &d->prev, d->dt) : NULL;
	json_object_foreach(s, gname, group) {
		json_object_foreach(group, name, e) {
			r = rates ? json_object_get(json_object_get(rates, gname), name) : NULL;
			json_object_set_new(e, "pps", r ? json_incref(json_object_get(r, "pps")) : json_real(0));
			json_object_set_new(e, "bps", r ? json_incref(json_object_get(r, "bps")) : json_real(0));
		}
	}
	json_decref(rates);

	json_object_set_new(s, "ok", json_true());
	return s;
}

static json_int_t event_ts(json_t *e)
{
	return json_integer_value(json_object_get(e, "ts_ns"));
}

/* Drop samples and the guard's mode changes, oldest first (both on CLOCK_MONOTONIC). */
static json_t *events_reply(struct daemon *d)
{
	json_t *arr = json_array(), *guard = daemon_guard_events(&d->guard), *ge;
	__u64 first = d->events_total > RECENT_EVENTS ? d->events_total - RECENT_EVENTS : 0;
	size_t gi = 0;

	for (__u64 i = first; i < d->events_total; i++) {
		json_t *e = xl4_event_json(&d->recent[i % RECENT_EVENTS]);

		for (; (ge = json_array_get(guard, gi)) && event_ts(ge) <= event_ts(e); gi++)
			json_array_append(arr, ge);
		json_array_append_new(arr, e);
	}
	for (; (ge = json_array_get(guard, gi)); gi++)
		json_array_append(arr, ge);
	json_decref(guard);
	return json_pack("{s:b, s:I, s:o}", "ok", 1, "total", (json_int_t)d->events_total, "events",
			 arr);
}

/* Reload the config file (xl4 reload, SIGHUP). Each subsystem takes its part in turn; the
 * guard (or any later subsystem) adds one line to the table below. */
static json_t *do_reload(struct daemon *d, const char *via)
{
	const struct xl4_reloader subs[] = {
		{ "lb", daemon_lb_reload, &d->lb },
		{ "filter", daemon_filter_reload, &d->filter },
		{ "guard", daemon_guard_reload, &d->guard },
	};
	struct xl4_config next;
	char err[1024];
	double t0 = now_s(), ms;
	int ret, an_fd = daemon_guard_analyzer_fd(&d->guard);

	ret = xl4_reload_prepare(&d->cfg, &next, err, sizeof(err));
	if (!ret) {
		ret = xl4_reload_apply(subs, sizeof(subs) / sizeof(subs[0]), &d->cfg, &next, err,
				       sizeof(err));
		if (ret)
			xl4_config_free(&next);
	}
	if (an_fd != daemon_guard_analyzer_fd(&d->guard)) {
		/* the guard restarted its analyzer: the old fd is closed (and so out of epoll) */
		struct epoll_event ev = { .events = EPOLLIN };

		if ((ev.data.fd = daemon_guard_analyzer_fd(&d->guard)) >= 0)
			epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	if (ret) {
		pr_warn("reload (%s) refused: %s", via, err);
		return xl4_control_error("%s", err);
	}
	if (d->cfg_owned)
		xl4_config_free(&d->cfg);
	d->cfg = next;
	d->cfg_owned = true;
	ms = (now_s() - t0) * 1e3;
	pr_info("reload (%s): %s applied in %.1f ms: %d VIPs, %d rules", via, d->cfg.path, ms,
		d->cfg.n_vips, d->cfg.filter.n_rules);
	return json_pack("{s:b, s:s, s:f, s:i, s:i}", "ok", 1, "config", d->cfg.path, "ms", ms,
			 "vips", d->cfg.n_vips, "rules", d->cfg.filter.n_rules);
}

/* xl4 detach: stop handling traffic (the one way besides --detach-on-exit), then exit. */
static json_t *do_detach(struct daemon *d)
{
	json_t *ifs = json_array();

	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].attached)
			json_array_append_new(ifs, json_string(d->ifs[i].name));
	detach_all(d, false);
	d->stop = 1;
	pr_info("detached on request ('xl4 detach'); exiting");
	return json_pack("{s:b, s:o}", "ok", 1, "detached", ifs);
}

/* One control request (already a JSON object with a string "cmd"). */
static json_t *dispatch(void *ctx, json_t *req)
{
	static const char *const no_fields[] = { NULL };
	struct daemon *d = ctx;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *resp;

	if (!strcmp(cmd, "status") || !strcmp(cmd, "stats") || !strcmp(cmd, "events") ||
	    !strcmp(cmd, "ping") || !strcmp(cmd, "reload") || !strcmp(cmd, "detach")) {
		if ((resp = xl4_ctl_check_keys(req, cmd, no_fields)))
			return resp;
		if (!strcmp(cmd, "reload"))
			return do_reload(d, "xl4 reload");
		if (!strcmp(cmd, "detach"))
			return do_detach(d);
		if (!strcmp(cmd, "status"))
			return status_json(d);
		if (!strcmp(cmd, "stats"))
			return stats_reply(d);
		if (!strcmp(cmd, "events"))
			return events_reply(d);
		return json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "vip-list")) {
		/* the LB's list, with each VIP's flood-guard state */
		resp = daemon_lb_request(&d->lb, cmd, req);
		daemon_guard_annotate(&d->guard, json_object_get(resp, "vips"));
		return resp;
	}
	if ((resp = daemon_lb_request(&d->lb, cmd, req)) ||
	    (resp = daemon_filter_request(&d->filter, cmd, req)) ||
	    (resp = daemon_guard_request(&d->guard, cmd, req)))
		return resp;
	return xl4_control_error("unknown command '%.64s'", cmd);
}

static void sample_counters(struct daemon *d)
{
	static double last;
	double t = now_s();

	d->prev = d->cur;
	if (xl4_counters_read(d->eng.stats_fd, &d->cur)) {
		pr_warn("cannot read counters: %s", strerror(errno));
		return;
	}
	d->dt = last ? t - last : 0;
	last = t;
	d->samples++;
}

/* The metrics text from the latest sample (d->cur) and the LB and filter state, rendered here
 * on the loop and handed to the HTTP thread. */
static void render_metrics(struct daemon *d)
{
	struct xl4_metrics_input in;
	size_t len = 0;
	char *text;

	if (!d->metrics.mhd)
		return; /* metrics.listen = "" */
	in = (struct xl4_metrics_input){
		.totals = &d->cur,
		.vips = daemon_lb_json(&d->lb),
		.rules = xl4_filter_rules_json(&d->filter.f),
		.filter = daemon_filter_json(&d->filter),
		.guard = daemon_guard_json(&d->guard),
		.started = d->started,
		.events_sampled = d->events_total,
		.maps = xl4_map_fill_json(&d->fills),
	};
	daemon_guard_annotate(&d->guard, in.vips);
	text = xl4_metrics_render(&in, &len);
	if (text)
		xl4_metrics_publish(&d->metrics, text, len);
	else
		pr_warn("metrics: cannot render: out of memory");
	json_decref(in.vips);
	json_decref(in.rules);
	json_decref(in.filter);
	json_decref(in.maps);
	json_decref(in.guard);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct xl4_event ev;

	if (!xl4_event_read(data, size, &ev))
		return 0;
	d->recent[d->events_total++ % RECENT_EVENTS] = ev;
	daemon_guard_on_event(&d->guard, &ev);
	pr_debug("drop sample: %s, %u bytes", xl4_reason_name(ev.reason), ev.pkt_len);
	return 0;
}

static int setup_loop(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN); /* belt and braces: replies use MSG_NOSIGNAL already */
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->rb = ring_buffer__new(d->eng.events_fd, on_event, d, NULL);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0 || !d->rb)
		return -errno;
	timerfd_settime(d->timerfd, 0, &its, NULL);
	ev.data.fd = d->sigfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.fd = d->timerfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);
	ev.data.fd = d->ctlfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->ctlfd, &ev);
	xl4_ctl_server_init(&d->ctl, d->ctlfd, d->epfd, dispatch, d);
	ev.data.fd = ring_buffer__epoll_fd(d->rb);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = daemon_lb_health_fd(&d->lb);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	if ((ev.data.fd = daemon_guard_analyzer_fd(&d->guard)) >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	return 0;
}

static void run_loop(struct daemon *d)
{
	struct epoll_event evs[8];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, evs, 8, -1);

		if (n < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->sigfd) {
				struct signalfd_siginfo si;

				if (read(fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					json_decref(do_reload(d, "SIGHUP"));
					continue;
				}
				daemon_log_stop(si.ssi_signo, d->opts.detach_on_exit);
				d->stop = 1;
			} else if (fd == d->timerfd) {
				__u64 ticks;

				if (read(fd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
					xl4_ctl_server_expire(&d->ctl, now_s());
					sample_counters(d);
					daemon_lb_tick(&d->lb);
					daemon_filter_tick(&d->filter);
					xl4_map_fill_tick(&d->fills, &d->eng, &d->filter.f, now_s());
					daemon_guard_tick(&d->guard);
					render_metrics(d);
				}
			} else if (fd == d->ctlfd) {
				xl4_ctl_server_accept(&d->ctl, now_s());
			} else if (xl4_ctl_server_io(&d->ctl, fd, now_s())) {
				/* a control client's request */
			} else if (fd == daemon_lb_health_fd(&d->lb)) {
				daemon_lb_on_health(&d->lb);
			} else if (fd == daemon_guard_analyzer_fd(&d->guard)) {
				daemon_guard_on_analyzer(&d->guard);
			} else {
				ring_buffer__consume(d->rb);
			}
		}
	}
}

int xl4_daemon_run(const struct xl4_config *cfg, const struct xl4_daemon_opts *opts)
{
	struct xl4_engine_opts eo = { 0 };
	struct daemon *d = calloc(1, sizeof(*d));
	int err, rc = 1;

	if (!d)
		return 1;
	d->cfg = *cfg;
	d->opts = *opts;
	d->sigfd = d->timerfd = d->epfd = d->ctlfd = d->pin_lock = -1;
	xl4_ctl_server_init(&d->ctl, -1, -1, dispatch, d); /* no clients yet; set up for real later */
	d->started = time(NULL);
	daemon_log_start(cfg);

	/* check: say plainly what the kernel lacks before trying anything */
	if (xl4_features_check())
		goto out;
	if (resolve_ifaces(d))
		goto out;
	/* pin: shared maps live under pin_path so counters outlive this process */
	if (xl4_bpffs_prepare(cfg->pin_path))
		goto out;
	/* lock: one daemon per datapath (a second would adopt the same program) */
	if ((d->pin_lock = xl4_pins_lock(cfg->pin_path)) < 0)
		goto out;
	/* load-time knobs: they decide whether the running program can be adopted */
	eo.pin_path = cfg->pin_path;
	eo.frag_policy = cfg->frag_policy;
	eo.sample_per_sec = cfg->sample_per_sec;
	eo.ring_size = cfg->lb.table_size;
	eo.ct_max = cfg->lb.ct_max;
	eo.ct_per_cpu_lru = cfg->lb.ct_per_cpu_lru;
	eo.rate_max = cfg->filter.rate_table_size;
	eo.guard_grey_slots = cfg->guard.grey_slots;
	eo.guard_syn_slots = cfg->guard.syn_slots;
	eo.guard_verified_max = cfg->guard.verified_max;
	d->fingerprint = xl4_engine_fingerprint(&eo);
	/* adopt the running program (same build and knobs), or load one to replace it */
	if (xl4_datapath_open(&d->eng, &eo, opts->upgrade, &d->adopted))
		goto out;
	/* control socket before attaching, so a second daemon fails before touching interfaces */
	d->ctlfd = xl4_control_listen_as(cfg->control_socket, cfg->socket_gid);
	if (d->ctlfd < 0) {
		daemon_log_start_failed("socket", cfg->control_socket, d->ctlfd == -EADDRINUSE ?
					"another xl4 daemon is running" : strerror(-d->ctlfd));
		goto out_engine;
	}
	/* metrics endpoint: a taken or bad address stops the start here, before any attach */
	d->metrics_started = true;
	if (xl4_metrics_start(&d->metrics, &cfg->metrics))
		goto out_socket;
	/* VIPs before attaching: the first packet already sees the configured service */
	d->lb_started = true;
	if (daemon_lb_start(&d->lb, cfg, &d->eng, d->ifs[0].ifindex))
		goto out_socket;
	/* filter lists, rules and limits, also before the first packet */
	d->filter_started = true;
	if (daemon_filter_start(&d->filter, cfg, &d->eng))
		goto out_socket;
	/* flood guard: its settings before the first packet; the analyzer thread */
	d->guard_started = true;
	if (daemon_guard_start(&d->guard, cfg, &d->eng, &d->lb.lb, &d->filter))
		goto out_socket;
	if ((err = setup_loop(d))) {
		pr_warn("event loop setup failed: %s", strerror(-err));
		goto out_socket;
	}
	/* the seed in force (configured, adopted from the pins, or random): reload compares it */
	d->cfg.lb.seed = d->lb.lb.set.seed;
	/* attach: every interface (or replace atomically, or keep the adopted program), or none */
	if (attach_all(d))
		goto out_socket;
	sample_counters(d);
	xl4_map_fill_tick(&d->fills, &d->eng, &d->filter.f, now_s());
	render_metrics(d);
	daemon_log_ready(cfg, d->n_ifs);

	run_loop(d);
	rc = 0;

	if (d->opts.detach_on_exit) {
		detach_all(d, false);
	} else if (d->n_ifs && d->ifs[0].attached) {
		pr_info("leaving the program attached on %d interface(s): traffic is still handled "
			"('xl4 detach' or --detach-on-exit stop that)", d->n_ifs);
	}
out_socket:
	if (d->metrics_started)
		xl4_metrics_stop(&d->metrics);
	xl4_ctl_server_close(&d->ctl);
	if (d->guard_started)
		daemon_guard_stop(&d->guard);
	if (d->filter_started)
		daemon_filter_stop(&d->filter);
	if (d->lb_started)
		daemon_lb_stop(&d->lb);
	close(d->ctlfd);
	unlink(cfg->control_socket);
out_engine:
	if (d->rb)
		ring_buffer__free(d->rb);
	xl4_engine_close(&d->eng);
out:
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->pin_lock >= 0)
		close(d->pin_lock);
	if (d->cfg_owned)
		xl4_config_free(&d->cfg);
	free(d);
	return rc;
}
