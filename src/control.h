/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: a Unix stream socket, root-only (0600 in a 0700 directory), or also
 * open to one group (daemon.socket_group: 0660 in a 0750 directory). One request
 * per connection: a JSON object on one line ({"cmd": "status", ...}), answered by one JSON
 * object on one line ({"ok": true, ...} or {"ok": false, "error": "..."}).
 */
#ifndef XL4_CONTROL_H
#define XL4_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/* 16 MiB: room for `xl4 block add -f` with several hundred thousand prefixes in one request. */
#define XL4_CONTROL_MAX_REQUEST (16 << 20)

/* Server side. Returns the listening fd or -errno; refuses to replace a live socket. */
int xl4_control_listen(const char *path);
/* The same; with gid >= 0 the socket is 0660 and its directory 0750, both group gid (the
 * directory only if created here or left root-only 0700/0750 by an earlier daemon). */
int xl4_control_listen_as(const char *path, long gid);
int xl4_control_send(int fd, json_t *msg);
json_t *xl4_control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Request fields, validated as bad input. Each command names the keys it takes: a typo or a
 * stray field is an error, not a default. */
json_t *xl4_ctl_check_keys(json_t *req, const char *cmd, const char *const *known);
/* Optional fields: 1 present (*out set), 0 absent, -1 bad (*bad set to an error reply). */
int xl4_ctl_int(json_t *req, const char *cmd, const char *key, long long min, long long max,
		long long *out, json_t **bad);
int xl4_ctl_str(json_t *req, const char *cmd, const char *key, const char **out, json_t **bad);
int xl4_ctl_bool(json_t *req, const char *cmd, const char *key, bool *out, json_t **bad);

/*
 * Command tables. Each subsystem declares its control commands once, as rows of a table
 * (daemon.c, daemon_lb.c, daemon_filter.c, daemon_guard.c); the daemon looks a request's "cmd"
 * up in them and xl4_ctl_run() refuses any field the row does not name before the handler
 * sees the request. docs/architecture.md lists the rows (xl4_ctl_markdown()).
 */
struct xl4_ctl_cmd;
typedef json_t *(*xl4_ctl_run_fn)(void *state, const struct xl4_ctl_cmd *c, json_t *req);

struct xl4_ctl_cmd {
	const char *name;		/* as sent in "cmd": "vip-add" */
	xl4_ctl_run_fn run;
	int arg;			/* for a handler that serves several rows (a list, an op) */
	const char *const *keys;	/* the fields it takes besides "cmd"; NULL: none */
	const char *help;		/* one line, for the docs */
};

/* The fields a row takes: XL4_CTL_KEYS("vip", "address"). */
#define XL4_CTL_KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* One subsystem's table, ended by a row with no name. */
struct xl4_ctl_table {
	const char *name;		/* "lb", ... */
	const struct xl4_ctl_cmd *cmds;
};

/* The row named cmd, or NULL. */
const struct xl4_ctl_cmd *xl4_ctl_find(const struct xl4_ctl_cmd *cmds, const char *cmd);
/* Check the request's fields against the row, then run its handler on state. */
json_t *xl4_ctl_run(const struct xl4_ctl_cmd *c, void *state, json_t *req);
/* Every row of the tables (n of them) as a Markdown table: command, fields, what it does. */
void xl4_ctl_markdown(FILE *out, const struct xl4_ctl_table *tables, size_t n);

/*
 * Server side, inside the daemon's epoll loop: many clients at once, none able to hold up
 * the loop. A connection is read without blocking until its request line is complete, then
 * answered; one that has not sent a whole request within XL4_CONTROL_DEADLINE_S is closed, and
 * when every slot is taken the oldest waiting connection makes room for the newest, so idle
 * connections can never lock real clients out. The reply is written without blocking too: what
 * the socket does not take at once is kept and sent as the client reads (EPOLLOUT), and a client
 * that has not read all of it within XL4_CONTROL_REPLY_DEADLINE_S is dropped. Unsent replies
 * together hold at most XL4_CONTROL_MAX_PENDING bytes; past that a reply is refused with a
 * short error instead.
 */
#define XL4_CONTROL_DEADLINE_S 2.0
#define XL4_CONTROL_REPLY_DEADLINE_S 10.0
#define XL4_CONTROL_MAX_CLIENTS 256
#define XL4_CONTROL_MAX_PENDING (256u << 20)

typedef json_t *(*xl4_ctl_handler)(void *ctx, json_t *req);

struct xl4_ctl_client {
	int fd;
	char *buf;		/* the request as read so far */
	size_t len, cap;
	char *out;		/* the reply (with its newline) once answered; NULL while reading */
	size_t out_len, out_off;
	double deadline;	/* for the whole request, then for the whole reply */
};

struct xl4_ctl_server {
	int listen_fd, epfd;
	struct xl4_ctl_client clients[XL4_CONTROL_MAX_CLIENTS];
	size_t pending;		/* unsent reply bytes, all clients */
	xl4_ctl_handler handler;
	void *ctx;
};

void xl4_ctl_server_init(struct xl4_ctl_server *s, int listen_fd, int epfd, xl4_ctl_handler h,
			 void *ctx);
/* The listening socket is readable: accept everyone waiting. */
void xl4_ctl_server_accept(struct xl4_ctl_server *s, double now);
/* fd is one of ours: read, and answer once the request is whole; or send more of the reply.
 * Never blocks. Returns 0 if not ours. */
int xl4_ctl_server_io(struct xl4_ctl_server *s, int fd, double now);
/* Close connections past their deadline (call from a periodic timer): a request not whole, or
 * a reply not read, in time. */
void xl4_ctl_server_expire(struct xl4_ctl_server *s, double now);
void xl4_ctl_server_close(struct xl4_ctl_server *s);

/* For commands: send req (consumed; NULL means it could not be built), print the daemon's error
 * or the connection problem as one line. Returns an exit code (0 or 1); *out gets the reply. */
int xl4_control_cli_call(const char *path, json_t *req, json_t **out);

/* Client side: send req, wait for the reply. Returns 0 with *resp set, or -errno with a
 * sentence in err (e.g. the daemon is not running). */
int xl4_control_call(const char *path, json_t *req, json_t **resp, char *err, size_t errlen);

#endif
