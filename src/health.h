/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Backend health checks. One checker thread runs an epoll loop over non-blocking sockets, so
 * thousands of targets are checked concurrently and a slow one never delays another; the
 * daemon's own loop never waits on a check. A TCP check passes when connect() completes within
 * the timeout. An HTTP check connects, sends "GET path HTTP/1.0" with a Host header and
 * "Connection: close", and passes when the status line arrives within the timeout with the
 * expected status. A target goes down after `fall` consecutive failures and up after `rise`
 * consecutive successes; each such transition is reported once through on_change.
 *
 * Threading: every function may be called from any thread, except xl4_health_free (not from
 * on_change). on_change runs on the checker thread, one call at a time, with no lock held
 * that xl4_health_add/remove/get take, so it may call them; it should return quickly (the
 * daemon writes to an eventfd/queue and returns), since checks wait while it runs. Its `why`
 * string is valid only during the call. Once xl4_health_remove(id) has returned, no
 * on_change for that id is running or will be made (a re-added id starts afresh).
 */
#ifndef XL4_HEALTH_H
#define XL4_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xl4_health_kind { XL4_HC_TCP = 1, XL4_HC_HTTP = 2 };

struct xl4_health_spec {
	int family;		/* AF_INET / AF_INET6 */
	char addr[46];		/* numeric address */
	uint16_t port;		/* != 0 */
	enum xl4_health_kind kind;
	char http_path[128];	/* HTTP: path for GET, must start with '/'; "" = "/" */
	char http_host[128];	/* HTTP: Host header; "" = the address (":port" unless 80) */
	int http_expect;	/* HTTP: expected status 100..599, 0 = any 2xx/3xx */
	unsigned interval_ms;	/* >= 100: time between check starts, e.g. 1000 */
	unsigned timeout_ms;	/* 1..interval_ms-1, e.g. 500 */
	unsigned rise, fall;	/* 1..100 consecutive results to go up / down, e.g. 2, 3 */
};

/* Snapshot of one target for status/metrics. last_latency_us is the duration of the last
 * completed check whatever its outcome (connect time for TCP, time to the status line for
 * HTTP); last_error is "" until a check fails and then keeps the latest failure's reason. */
struct xl4_health_state {
	bool up;
	unsigned ok_streak, fail_streak;
	uint64_t checks, failures;
	uint32_t last_latency_us;
	char last_error[96];
};

struct xl4_health; /* opaque */

typedef void (*xl4_health_cb)(void *ctx, uint32_t id, bool up, const char *why);

/* NULL with errno set on failure. on_change may be NULL (poll with xl4_health_get). */
struct xl4_health *xl4_health_new(xl4_health_cb on_change, void *ctx);
/* Starts the checker thread (signals blocked in it). -EALREADY if started. */
int xl4_health_start(struct xl4_health *h);
/* Adds a target under a caller-chosen id, first checked after a random part of one interval.
 * -EINVAL for a bad spec, -EEXIST for a known id, -ENOMEM; on error nothing changed. Works
 * before xl4_health_start too. */
int xl4_health_add(struct xl4_health *h, uint32_t id, const struct xl4_health_spec *s,
		   bool initially_up);
/* Stops checking id and aborts its check in flight. -ENOENT if unknown. */
int xl4_health_remove(struct xl4_health *h, uint32_t id);
/* -ENOENT if unknown. */
int xl4_health_get(struct xl4_health *h, uint32_t id, struct xl4_health_state *out);
/* Stops and joins the thread, closes every socket, frees everything. NULL is a no-op. */
void xl4_health_free(struct xl4_health *h);

/* Checks a spec without adding it: 0, or -EINVAL with a reason in err (if err != NULL). */
int xl4_health_spec_check(const struct xl4_health_spec *s, char *err, size_t errlen);

#endif
