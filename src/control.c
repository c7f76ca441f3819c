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
#include <unistd.h>

#include "control.h"

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

int xl4_control_listen(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	int fd, err;

	if ((err = make_addr(path, &sa)))
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) && errno != EEXIST)
		return -errno;
	/* A socket file that still answers belongs to a running daemon: never steal it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err || chmod(path, 0600) || listen(fd, 16)) {
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

json_t *xl4_control_read_request(int fd, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *req;
	char *line;

	set_timeout(fd, 2000);
	line = read_line(fd, XL4_CONTROL_MAX_REQUEST, err, errlen);
	if (!line)
		return NULL;
	req = json_loads(line, JSON_DISABLE_EOF_CHECK, &jerr);
	free(line);
	if (!req) {
		snprintf(err, errlen, "request is not JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(req) || !json_is_string(json_object_get(req, "cmd"))) {
		snprintf(err, errlen, "request must be an object with a string \"cmd\"");
		json_decref(req);
		return NULL;
	}
	return req;
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
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
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
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			snprintf(err, errlen, "the xl4 daemon is not running (no daemon at %s)", path);
		else if (ret == -EACCES)
			snprintf(err, errlen, "permission denied on %s (run as root)", path);
		else
			snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
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
