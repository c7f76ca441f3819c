// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

static int make_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The socket's directory for a group: ours (made now, or root's and private as xl4 makes it)
 * becomes root:gid 0750; any other directory (say /tmp) is left exactly as it is. */
static int dir_for_group(const char *dir, bool created, long gid)
{
	struct stat st;

	if (lstat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!created && (st.st_uid != 0 || ((st.st_mode & 07777) != 0700 && (st.st_mode & 07777) != 0750)))
		return 0;
	if (chown(dir, 0, gid) || chmod(dir, 0750))
		return -errno;
	return 0;
}

/* A directory another user can write to (or owns) lets that user take the socket's name while
 * no daemon holds it, or plant files beside it (the cluster's drain mark): refused. 0, or
 * -EPERM with the reason logged. */
static int dir_private(const char *dir)
{
	struct stat st;

	/* the directory itself, not a link to it (/var/run -> /run: a link's mode is 0777) */
	if (stat(dir, &st))
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		pr_warn("control socket directory %s belongs to uid %u: that user could take the "
			"socket's name; give control_socket a directory of root's (default %s)",
			dir, (unsigned int)st.st_uid, "/run/xl4");
		return -EPERM;
	}
	if (st.st_mode & S_IWOTH) {
		pr_warn("control socket directory %s is writable by every user (mode %04o): another "
			"user could take the socket's name while no daemon holds it; give "
			"control_socket a directory only root can write (default %s)",
			dir, (unsigned int)(st.st_mode & 07777), "/run/xl4");
		return -EPERM;
	}
	return 0;
}

int xl4_control_listen(const char *path)
{
	return xl4_control_listen_as(path, -1);
}

int xl4_control_listen_as(const char *path, long gid)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	bool created;
	int fd, err;

	if ((err = make_addr(path, &sa)))
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	created = mkdir(dirname(dir), 0700) == 0;
	if (!created && errno != EEXIST)
		return -errno;
	if ((err = dir_private(dir)) || (gid >= 0 && (err = dir_for_group(dir, created, gid))))
		return err;
	/* A socket file that still answers belongs to a running daemon: never steal it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	/* A stale socket of a daemon that died is replaced; anything else at the path (a config
	 * file named by mistake) is not removed: as root, that would be a lost file. */
	{
		struct stat st;

		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			return -ENOTSOCK;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	/* 0600 from the bind on; opened to the group only once it is ours (chown, then chmod) */
	/* A backlog as deep as the client slots: a burst of connections (a monitoring fleet, a
	 * script's loop) queues while the loop is busy; past the backlog a non-blocking client's
	 * connect fails at once with EAGAIN. */
	if (err || chmod(path, 0600) || (gid >= 0 && (chown(path, 0, gid) || chmod(path, 0660))) ||
	    listen(fd, XL4_CONTROL_MAX_CLIENTS)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Read up to a newline (or EOF), at most max bytes. Returns a malloc'd string or NULL. */
static char *read_line(int fd, size_t max, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap >= max) {
				snprintf(err, errlen, "request longer than %zu bytes", max);
				free(buf);
				return NULL;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "reading: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
		if (memchr(buf + len - n, '\n', n))
			break;
	}
	buf[len] = '\0';
	return buf;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a client that hung up must not kill the daemon with SIGPIPE. */
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		s += n;
		len -= n;
	}
	return 0;
}

int xl4_control_send(int fd, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	int err;

	if (!s)
		return -ENOMEM;
	err = write_all(fd, s, strlen(s));
	if (!err)
		err = write_all(fd, "\n", 1);
	free(s);
	return err;
}

json_t *xl4_control_error(const char *fmt, ...)
{
	char raw[512], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* An error quotes what it refused, bytes that are not UTF-8 included; jansson takes only
	 * UTF-8 (and would leave the client with no reply at all). */
	return json_pack("{s:b, s:s}", "ok", 0, "error", xl4_visible(raw, msg, sizeof(msg)));
}

int xl4_control_call(const char *path, json_t *req, json_t **resp, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	json_error_t jerr;
	char *line;
	int fd, ret;

	if ((ret = make_addr(path, &sa))) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeout(fd, 5000);
	/* (a full backlog: connect waits, up to SO_SNDTIMEO) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			snprintf(err, errlen, "the xl4 daemon is not running (no daemon at %s)", path);
		else if (ret == -EACCES)
			snprintf(err, errlen, "permission denied on %s (run as root, or as a member of "
				 "the daemon's socket_group)", path);
		else
			snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	/* only root's daemon (or one of our own) is asked: another user who took the socket's
	 * name would read what we send and answer what it likes */
	{
		struct ucred cred;
		socklen_t cl = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cred.uid != 0 &&
		    cred.uid != geteuid()) {
			snprintf(err, errlen, "%s is served by uid %u, neither root nor you: not talking "
				 "to it", path, (unsigned int)cred.uid);
			close(fd);
			return -EPERM;
		}
	}
	if ((ret = xl4_control_send(fd, req))) {
		snprintf(err, errlen, "sending to the daemon: %s", strerror(-ret));
		close(fd);
		return ret;
	}
	shutdown(fd, SHUT_WR);
	line = read_line(fd, 64 << 20, err, errlen);
	close(fd);
	if (!line)
		return -EIO;
	*resp = json_loads(line, JSON_DISABLE_EOF_CHECK, &jerr);
	free(line);
	if (!*resp) {
		snprintf(err, errlen, "the daemon sent a reply that is not JSON: %s", jerr.text);
		return -EPROTO;
	}
	return 0;
}

/* ---- request fields ---- */

json_t *xl4_ctl_check_keys(json_t *req, const char *cmd, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(req, key, v) {
		bool found = !strcmp(key, "cmd");

		for (const char *const *k = known; k && *k && !found; k++)
			found = !strcmp(key, *k);
		if (!found)
			return xl4_control_error("%s: unknown field \"%s\"", cmd, key);
	}
	return NULL;
}

int xl4_ctl_int(json_t *req, const char *cmd, const char *key, long long min, long long max,
		long long *out, json_t **bad)
{
	json_t *v = json_object_get(req, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		*bad = xl4_control_error("%s: \"%s\" must be an integer %lld..%lld", cmd, key, min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 1;
}

int xl4_ctl_str(json_t *req, const char *cmd, const char *key, const char **out, json_t **bad)
{
	json_t *v = json_object_get(req, key);

	if (!v)
		return 0;
	if (!json_is_string(v)) {
		*bad = xl4_control_error("%s: \"%s\" must be a string", cmd, key);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int xl4_ctl_bool(json_t *req, const char *cmd, const char *key, bool *out, json_t **bad)
{
	json_t *v = json_object_get(req, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		*bad = xl4_control_error("%s: \"%s\" must be true or false", cmd, key);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

/* ---- command tables ---- */

const struct xl4_ctl_cmd *xl4_ctl_find(const struct xl4_ctl_cmd *cmds, const char *cmd)
{
	for (; cmds && cmds->name; cmds++)
		if (!strcmp(cmds->name, cmd))
			return cmds;
	return NULL;
}

json_t *xl4_ctl_run(const struct xl4_ctl_cmd *c, void *state, json_t *req)
{
	json_t *bad = xl4_ctl_check_keys(req, c->name, c->keys);

	return bad ? bad : c->run(state, c, req);
}

void xl4_ctl_markdown(FILE *out, const struct xl4_ctl_table *tables, size_t n)
{
	fprintf(out, "| command | fields | subsystem | what it does |\n|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		for (const struct xl4_ctl_cmd *c = tables[i].cmds; c && c->name; c++) {
			fprintf(out, "| `%s` | ", c->name);
			for (const char *const *k = c->keys; k && *k; k++)
				fprintf(out, "%s`%s`", k == c->keys ? "" : ", ", *k);
			fprintf(out, "%s | %s | %s |\n", c->keys && *c->keys ? "" : "none",
				tables[i].name, c->help);
		}
	}
}

/* ---- server ---- */

void xl4_ctl_server_init(struct xl4_ctl_server *s, int listen_fd, int epfd, xl4_ctl_handler h,
			 void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = listen_fd;
	s->epfd = epfd;
	s->handler = h;
	s->ctx = ctx;
	for (int i = 0; i < XL4_CONTROL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
}

static void client_drop(struct xl4_ctl_server *s, struct xl4_ctl_client *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	if (c->out)
		s->pending -= c->out_len - c->out_off;
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void xl4_ctl_server_accept(struct xl4_ctl_server *s, double now)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct xl4_ctl_client *c = NULL;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		for (int i = 0; i < XL4_CONTROL_MAX_CLIENTS && !c; i++)
			if (s->clients[i].fd < 0)
				c = &s->clients[i];
		if (!c) {
			struct xl4_ctl_client *oldest = &s->clients[0];
			json_t *busy = xl4_control_error("too many control connections: closed the "
							 "oldest waiting one (this)");

			for (int i = 1; i < XL4_CONTROL_MAX_CLIENTS; i++)
				if (s->clients[i].deadline < oldest->deadline)
					oldest = &s->clients[i];
			if (!oldest->out) /* one in the middle of its reply just ends short */
				xl4_control_send(oldest->fd, busy);
			json_decref(busy);
			client_drop(s, oldest);
			c = oldest;
		}
		c->fd = fd;
		c->deadline = now + XL4_CONTROL_DEADLINE_S;
		ev.data.fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
			client_drop(s, c);
	}
}

/* Send what the socket takes now. 1: all sent, 0: more to come, -errno: the client is gone. */
static int flush(struct xl4_ctl_client *c, size_t *pending)
{
	while (c->out_off < c->out_len) {
		/* MSG_NOSIGNAL: a client that hung up must not kill the daemon with SIGPIPE. */
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		c->out_off += n;
		*pending -= n;
	}
	return 1;
}

/* The reply as one line; a short error when it cannot be built or would hold too much memory. */
static char *reply_line(struct xl4_ctl_server *s, json_t *resp, size_t *len)
{
	char *line = resp ? json_dumps(resp, JSON_COMPACT) : NULL;

	if (line && s->pending + strlen(line) + 1 > XL4_CONTROL_MAX_PENDING) {
		free(line);
		line = strdup("{\"ok\":false,\"error\":\"the daemon is busy sending earlier replies "
			      "that their clients do not read: try again\"}");
	} else if (!line) {
		/* every reply is JSON, even when building it failed (out of memory) */
		line = strdup("{\"ok\":false,\"error\":\"the daemon could not build the reply\"}");
	}
	if (!line)
		return NULL;
	*len = strlen(line);
	line[*len] = '\n'; /* over the NUL: the line is sent by length */
	*len += 1;
	return line;
}

static void answer(struct xl4_ctl_server *s, struct xl4_ctl_client *c, double now)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = c->fd };
	json_error_t jerr;
	json_t *req, *resp;
	char *nl = memchr(c->buf, '\n', c->len);

	if (nl)
		*nl = '\0';
	else
		c->buf[c->len] = '\0';
	if (nl && (size_t)(nl - c->buf) + 1 < c->len) {
		resp = xl4_control_error("one request per connection: data after the first line");
	} else if (!(req = json_loads(c->buf, 0, &jerr))) {
		resp = xl4_control_error("request is not JSON (one object on one line): %s", jerr.text);
	} else if (!json_is_object(req) || !json_is_string(json_object_get(req, "cmd"))) {
		resp = xl4_control_error("request must be an object with a string \"cmd\"");
		json_decref(req);
	} else {
		resp = s->handler(s->ctx, req);
		json_decref(req);
	}
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->out = reply_line(s, resp, &c->out_len);
	json_decref(resp);
	if (!c->out) {
		client_drop(s, c);
		return;
	}
	s->pending += c->out_len;
	/* A large reply to a slow reader goes out as it reads, never holding up the loop. */
	c->deadline = now + XL4_CONTROL_REPLY_DEADLINE_S;
	if (flush(c, &s->pending) || epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		client_drop(s, c);
}

int xl4_ctl_server_io(struct xl4_ctl_server *s, int fd, double now)
{
	struct xl4_ctl_client *c = NULL;

	for (int i = 0; i < XL4_CONTROL_MAX_CLIENTS && !c; i++)
		if (s->clients[i].fd == fd)
			c = &s->clients[i];
	if (!c)
		return 0;
	if (c->out) {
		if (flush(c, &s->pending)) /* all sent, or the client is gone */
			client_drop(s, c);
		return 1;
	}
	for (;;) {
		ssize_t n;

		if (c->len + 1 >= c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 4096;
			char *nb;

			if (cap > XL4_CONTROL_MAX_REQUEST + 1) {
				json_t *e = xl4_control_error("request longer than %d bytes",
							      XL4_CONTROL_MAX_REQUEST);

				xl4_control_send(c->fd, e);
				json_decref(e);
				client_drop(s, c);
				return 1;
			}
			nb = realloc(c->buf, cap);
			if (!nb) {
				client_drop(s, c);
				return 1;
			}
			c->buf = nb;
			c->cap = cap;
		}
		n = read(fd, c->buf + c->len, c->cap - c->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1; /* the rest comes later */
		if (n < 0) {
			client_drop(s, c);
			return 1;
		}
		if (n == 0 || memchr(c->buf + c->len, '\n', n)) {
			c->len += n;
			if (c->len == 0) { /* connected and hung up: nothing to answer */
				client_drop(s, c);
				return 1;
			}
			answer(s, c, now);
			return 1;
		}
		c->len += n;
	}
}

void xl4_ctl_server_expire(struct xl4_ctl_server *s, double now)
{
	for (int i = 0; i < XL4_CONTROL_MAX_CLIENTS; i++) {
		struct xl4_ctl_client *c = &s->clients[i];

		if (c->fd < 0 || now <= c->deadline)
			continue;
		if (c->out) {
			/* mid-reply: nothing more can be said on this connection */
			pr_warn("control: dropped a client that read %zu of its %zu-byte reply in "
				"%.0f s", c->out_off, c->out_len, XL4_CONTROL_REPLY_DEADLINE_S);
		} else {
			json_t *e = xl4_control_error("no complete request within %.0f s",
						      XL4_CONTROL_DEADLINE_S);

			xl4_control_send(c->fd, e);
			json_decref(e);
		}
		client_drop(s, c);
	}
}

void xl4_ctl_server_close(struct xl4_ctl_server *s)
{
	for (int i = 0; i < XL4_CONTROL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_drop(s, &s->clients[i]);
}

int xl4_control_cli_call(const char *path, json_t *req, json_t **out)
{
	char err[256];
	json_t *resp = NULL;
	int ret;

	if (!req) {
		fprintf(stderr, "xl4: out of memory\n");
		return 1;
	}
	ret = xl4_control_call(path, req, &resp, err, sizeof(err));
	json_decref(req);
	if (ret) {
		fprintf(stderr, "xl4: %s\n", err);
		return 1;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "xl4: %s\n", json_string_value(json_object_get(resp, "error")) ?: "error");
		json_decref(resp);
		return 1;
	}
	if (json_string_value(json_object_get(resp, "warning")))
		fprintf(stderr, "xl4: warning: %s\n", json_string_value(json_object_get(resp, "warning")));
	if (out)
		*out = resp;
	else
		json_decref(resp);
	return 0;
}
