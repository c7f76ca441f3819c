// SPDX-License-Identifier: GPL-2.0
/* The daemon's control socket server: error replies stay JSON whatever bytes they quote, and a
 * client that does not read its (large) reply holds up neither the loop nor other clients. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "control.h"

static void expect_error_text(const char *raw, const char *want)
{
	json_t *e = xl4_control_error("VIP name '%s': only letters", raw);
	char full[256];
	char *line;

	snprintf(full, sizeof(full), "VIP name '%s': only letters", want);
	if (!e)
		fail_msg("no reply at all for '%s'", want);
	assert_string_equal(json_string_value(json_object_get(e, "error")), full);
	line = json_dumps(e, JSON_COMPACT);
	assert_non_null(line); /* it can go out on the socket */
	free(line);
	json_decref(e);
}

/* A reload that refuses a VIP name of non-UTF-8 bytes used to answer nothing at all. */
static void test_error_escapes_bytes(void **state)
{
	(void)state;
	expect_error_text("w\xff\xfe", "w\\xff\\xfe");
	expect_error_text("\xc3", "\\xc3");			/* a sequence cut short (%.64s) */
	expect_error_text("\xc3(", "\\xc3(");
	expect_error_text("\xed\xa0\x80", "\\xed\\xa0\\x80");	/* a UTF-16 surrogate */
	expect_error_text("\xc0\xaf", "\\xc0\\xaf");		/* overlong '/' */
	expect_error_text("\x1b[31mred\n", "\\x1b[31mred\\x0a");	/* terminal and log controls */
	expect_error_text("a\\xff", "a\\xff");			/* already text: unchanged */
	expect_error_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* ---- a server on a socket in /tmp, driven by hand as the daemon's loop drives it ---- */

static char sock_path[108];
static int big_items = 200000; /* about 3.6 MB of reply: far more than a socket buffer */

static json_t *handler(void *ctx, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *list;

	(void)ctx;
	if (strcmp(cmd, "big"))
		return json_pack("{s:b}", "ok", 1);
	list = json_array();
	for (int i = 0; i < big_items; i++)
		json_array_append_new(list, json_sprintf("198.18.%d.%d/32", (i >> 8) & 0xff, i & 0xff));
	return json_pack("{s:b, s:o}", "ok", 1, "items", list);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int client(const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, sock_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	return fd;
}

/* One turn of the daemon's loop: every ready fd handled once. */
static void turn(struct xl4_ctl_server *s, int epfd, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(epfd, evs, 16, timeout_ms);

	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == s->listen_fd)
			xl4_ctl_server_accept(s, mono());
		else
			assert_int_equal(xl4_ctl_server_io(s, evs[i].data.fd, mono()), 1);
	}
}

/* Read what is there without waiting; returns bytes read, -1 at EOF. */
static ssize_t drain(int fd, char **buf, size_t *len)
{
	char chunk[65536];
	ssize_t got = 0, n;

	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0) {
		*buf = realloc(*buf, *len + n + 1);
		memcpy(*buf + *len, chunk, n);
		*len += n;
		(*buf)[*len] = '\0';
		got += n;
	}
	return n == 0 ? -1 : got;
}

static void test_slow_reader_does_not_stall(void **state)
{
	struct xl4_ctl_server s;
	int lfd, epfd = epoll_create1(0), slow, quick;
	struct epoll_event ev = { .events = EPOLLIN };
	char *reply = NULL;
	size_t len = 0;
	double t0, worst = 0;
	ssize_t got;
	json_t *j;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/xl4-unit-ctl-%d/s.sock", getpid());
	lfd = xl4_control_listen(sock_path);
	assert_true(lfd >= 0);
	ev.data.fd = lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	xl4_ctl_server_init(&s, lfd, epfd, handler, NULL);

	slow = client("{\"cmd\":\"big\"}\n"); /* and then does not read */
	t0 = mono();
	turn(&s, epfd, 1000); /* accept */
	turn(&s, epfd, 1000); /* the request: answered, the reply mostly still to go */
	worst = mono() - t0;
	/* meanwhile another client's requests are answered at once, several times over */
	for (int round = 0; round < 5; round++) {
		char *r = NULL;
		size_t rl = 0;

		t0 = mono();
		quick = client("{\"cmd\":\"ping\"}\n");
		while (mono() - t0 < 5 && !(rl && r[rl - 1] == '\n')) {
			turn(&s, epfd, 50);
			drain(quick, &r, &rl);
		}
		if (mono() - t0 > worst)
			worst = mono() - t0;
		assert_non_null(r);
		assert_string_equal(r, "{\"ok\":true}\n");
		free(r);
		close(quick);
	}
	if (worst > 1.0)
		fail_msg("the loop stalled %.2f s behind a client that does not read", worst);

	/* the slow client reads after all: it gets the whole reply */
	t0 = mono();
	while (mono() - t0 < 5 && !(len && reply[len - 1] == '\n')) {
		turn(&s, epfd, 10);
		drain(slow, &reply, &len);
	}
	assert_non_null(reply);
	j = json_loads(reply, 0, NULL);
	if (!j)
		fail_msg("the slow reader got %zu bytes that do not parse", len);
	assert_int_equal(json_array_size(json_object_get(j, "items")), big_items);
	json_decref(j);
	free(reply);
	reply = NULL;
	len = 0;
	close(slow);

	/* one that never reads is dropped at its deadline, and its memory freed */
	slow = client("{\"cmd\":\"big\"}\n");
	turn(&s, epfd, 1000);
	turn(&s, epfd, 1000);
	xl4_ctl_server_expire(&s, mono() + 1);
	assert_true(drain(slow, &reply, &len) >= 0); /* before its deadline: still connected */
	xl4_ctl_server_expire(&s, mono() + 3600);
	t0 = mono(); /* what was in the socket buffer, then EOF */
	while ((got = drain(slow, &reply, &len)) >= 0 && mono() - t0 < 5)
		usleep(1000);
	if (got >= 0)
		fail_msg("a client that never read its reply was not dropped at its deadline");
	assert_true(len > 0);
	assert_true(len < 3000000);
	for (int i = 0; i < XL4_CONTROL_MAX_CLIENTS; i++)
		assert_int_equal(s.clients[i].fd, -1);
	assert_int_equal(s.pending, 0);
	free(reply);
	close(slow);
	xl4_ctl_server_close(&s);
	close(lfd);
	close(epfd);
	unlink(sock_path);
	*strrchr(sock_path, '/') = '\0';
	rmdir(sock_path);
}

/* A socket directory every user can write to: another user could take the socket's name
 * while no daemon holds it. Refused; the same directory made private is taken. */
static void test_shared_directory_refused(void **state)
{
	char dir[64], path[96];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xl4-unit-ctldir-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(xl4_control_listen(path), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	fd = xl4_control_listen(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	/* through a link to it (as /var/run -> /run): the directory's mode counts, not the
	 * link's 0777 */
	{
		char link[96], lpath[128];

		snprintf(link, sizeof(link), "%s-link", dir);
		assert_int_equal(symlink(dir, link), 0);
		snprintf(lpath, sizeof(lpath), "%s/s.sock", link);
		fd = xl4_control_listen(lpath);
		unlink(lpath);
		unlink(link);
		assert_true(fd >= 0);
		close(fd);
	}
	rmdir(dir);
}

/* The socket's path names something that is not a socket (a config file, by a slip of the
 * command line): refused, and the file is left as it was; a stale socket is replaced. */
static void test_non_socket_path_kept(void **state)
{
	char dir[64], path[96], buf[16] = "";
	struct stat st;
	int fd;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xl4-unit-ctlfile-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/xl4.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep me\n", f);
	fclose(f);
	assert_int_equal(xl4_control_listen(path), -ENOTSOCK);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me\n");
	unlink(path);
	/* a socket nobody serves (a daemon that died): taken */
	fd = xl4_control_listen(path);
	assert_true(fd >= 0);
	close(fd);
	fd = xl4_control_listen(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* A client asks only root's daemon, or one of its own user's: a socket served by another
 * user (who took the name) is refused before anything is sent. */
static void test_foreign_server_refused(void **state)
{
	char dir[64], path[96], err[256] = "";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_t *req = json_pack("{s:s}", "cmd", "status"), *resp = NULL;
	pid_t pid;
	int ret, st;

	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED: test_foreign_server_refused needs root (to serve as another uid)\n");
		json_decref(req);
		skip();
	}
	snprintf(dir, sizeof(dir), "/tmp/xl4-unit-ctlpeer-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* nobody's server: answers anything it is sent */
		int l, c;
		char buf[512];

		if (setgid(65534) || setuid(65534))
			_exit(2);
		l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
			_exit(3);
		alarm(10);
		c = accept(l, NULL, NULL);
		if (c >= 0 && read(c, buf, sizeof(buf)) > 0 && write(c, "{\"ok\":true}\n", 12) < 0)
			_exit(4);
		_exit(0);
	}
	for (int i = 0; i < 200 && access(path, F_OK); i++)
		usleep(10000);
	ret = xl4_control_call(path, req, &resp, err, sizeof(err));
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	unlink(path);
	rmdir(dir);
	json_decref(req);
	json_decref(resp);
	assert_int_equal(ret, -EPERM);
	assert_non_null(strstr(err, "served by uid 65534"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_escapes_bytes),
		cmocka_unit_test(test_slow_reader_does_not_stall),
		cmocka_unit_test(test_shared_directory_refused),
		cmocka_unit_test(test_non_socket_path_kept),
		cmocka_unit_test(test_foreign_server_refused),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
