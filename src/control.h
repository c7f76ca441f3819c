/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: a Unix stream socket, root-only (0600 in a 0700 directory). One request
 * per connection: a JSON object on one line ({"cmd": "status", ...}), answered by one JSON
 * object on one line ({"ok": true, ...} or {"ok": false, "error": "..."}).
 */
#ifndef XL4_CONTROL_H
#define XL4_CONTROL_H

#include <stddef.h>
#include <jansson.h>

/* 16 MiB: room for `xl4 block add -f` with several hundred thousand prefixes in one request. */
#define XL4_CONTROL_MAX_REQUEST (16 << 20)

/* Server side. Returns the listening fd or -errno; refuses to replace a live socket. */
int xl4_control_listen(const char *path);
/* Read one request from a freshly accepted connection (bounded in size and time). NULL with
 * *err set on bad input. */
json_t *xl4_control_read_request(int fd, char *err, size_t errlen);
int xl4_control_send(int fd, json_t *msg);
json_t *xl4_control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Client side: send req, wait for the reply. Returns 0 with *resp set, or -errno with a
 * sentence in err (e.g. the daemon is not running). */
int xl4_control_call(const char *path, json_t *req, json_t **resp, char *err, size_t errlen);

#endif
