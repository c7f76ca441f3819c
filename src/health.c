// SPDX-License-Identifier: GPL-2.0
/*
 * Backend health checker: one thread, one epoll set, one timer heap.
 *
 * Every target is always in the heap exactly once, keyed by `when_us`: while idle that is when
 * its next check starts, while a check is in flight it is the check's deadline. The thread
 * sleeps in epoll_wait until the earliest `when_us`, a socket becomes ready, or the eventfd
 * says that targets were added or that it must stop.
 *
 * Locking: `lock` guards the table, the heap and every target; the thread holds it while it
 * works (only non-blocking calls) and drops it to sleep, so add/remove/get wait at most one
 * batch. State changes found during a batch are queued and delivered after `lock` is dropped,
 * each under `cb_lock` and only if the target is still the one that changed (same id and
 * generation), so remove() can wait out a callback in flight by taking `cb_lock` once.
 * Epoll events carry (generation << 32 | id), never pointers, because remove() may free a
 * target whose event the thread has already been handed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "health.h"
#include "log.h"

#define WAKE_KEY UINT64_MAX
#define MAX_EVENTS 256
#define INITIAL_BUCKETS 64

enum phase { PH_IDLE, PH_CONNECT, PH_SEND, PH_RECV };

struct target {
	uint32_t id, gen;
	struct target *hnext;	/* hash chain */
	size_t heap_idx;
	uint64_t when_us;	/* idle: next start; in flight: deadline */
	uint64_t started_us;
	enum phase phase;
	int fd;
	struct xl4_health_spec spec;
	struct sockaddr_storage sa;
	socklen_t salen;
	size_t req_len, req_off;
	size_t rlen;
	char req[384];		/* HTTP request, built once at add */
	char rbuf[128];		/* start of the HTTP response */
	struct xl4_health_state st;
};

struct change {
	uint32_t id, gen;
	bool up;
	char why[96];
};

struct xl4_health {
	pthread_mutex_t lock;		/* everything below but the thread-only fields */
	pthread_mutex_t cb_lock;	/* held around each on_change call */
	xl4_health_cb on_change;
	void *ctx;
	int epfd, wakefd;
	pthread_t thread;
	bool started, stop;
	struct target **buckets;
	unsigned bucket_bits;
	size_t n;
	struct target **heap;
	size_t heap_len, heap_cap;
	uint32_t last_gen;
	uint64_t rng;
	/* thread-only: changes found in the current batch, delivered after unlocking */
	struct change *chg;
	size_t n_chg, chg_cap;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* xorshift64*: only for spreading first checks, no need for quality. */
static uint64_t next_rand(struct xl4_health *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545F4914F6CDD1DULL;
}

/* ---- id table ---- */

static size_t bucket_of(const struct xl4_health *h, uint32_t id)
{
	uint32_t x = id;

	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x & ((1u << h->bucket_bits) - 1);
}

static struct target *find(const struct xl4_health *h, uint32_t id)
{
	struct target *t;

	for (t = h->buckets[bucket_of(h, id)]; t; t = t->hnext)
		if (t->id == id)
			return t;
	return NULL;
}

static void table_insert(struct xl4_health *h, struct target *t)
{
	size_t b = bucket_of(h, t->id);

	t->hnext = h->buckets[b];
	h->buckets[b] = t;
}

static void table_unlink(struct xl4_health *h, struct target *t)
{
	struct target **pp = &h->buckets[bucket_of(h, t->id)];

	while (*pp != t)
		pp = &(*pp)->hnext;
	*pp = t->hnext;
}

/* Doubles the table when it is full; on ENOMEM keeps the old one (longer chains, still right). */
static void table_maybe_grow(struct xl4_health *h)
{
	unsigned old_bits = h->bucket_bits;
	struct target **old = h->buckets, **nb;
	size_t i, old_n = (size_t)1 << old_bits;

	if (h->n < old_n || old_bits >= 24)
		return;
	nb = calloc(old_n * 2, sizeof(*nb));
	if (!nb)
		return;
	h->buckets = nb;
	h->bucket_bits = old_bits + 1;
	for (i = 0; i < old_n; i++) {
		struct target *t = old[i], *next;

		for (; t; t = next) {
			next = t->hnext;
			table_insert(h, t);
		}
	}
	free(old);
}

/* ---- timer heap (min-heap on when_us) ---- */

static void heap_set(struct xl4_health *h, size_t i, struct target *t)
{
	h->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct xl4_health *h, size_t i)
{
	struct target *t = h->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (h->heap[p]->when_us <= t->when_us)
			break;
		heap_set(h, i, h->heap[p]);
		i = p;
	}
	heap_set(h, i, t);
}

static void heap_down(struct xl4_health *h, size_t i)
{
	struct target *t = h->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->heap_len)
			break;
		if (c + 1 < h->heap_len && h->heap[c + 1]->when_us < h->heap[c]->when_us)
			c++;
		if (t->when_us <= h->heap[c]->when_us)
			break;
		heap_set(h, i, h->heap[c]);
		i = c;
	}
	heap_set(h, i, t);
}

/* Call after changing t->when_us. */
static void heap_fix(struct xl4_health *h, struct target *t)
{
	heap_up(h, t->heap_idx);
	heap_down(h, t->heap_idx);
}

static void heap_push(struct xl4_health *h, struct target *t) /* capacity ensured by caller */
{
	heap_set(h, h->heap_len++, t);
	heap_up(h, t->heap_idx);
}

static void heap_remove(struct xl4_health *h, struct target *t)
{
	size_t i = t->heap_idx;
	struct target *last = h->heap[--h->heap_len];

	if (last == t)
		return;
	heap_set(h, i, last);
	heap_fix(h, last);
}

/* ---- spec ---- */

static bool printable_token(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static int spec_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int spec_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int xl4_health_spec_check(const struct xl4_health_spec *s, char *err, size_t errlen)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (!s)
		return spec_err(err, errlen, "no spec");
	if (s->family != AF_INET && s->family != AF_INET6)
		return spec_err(err, errlen, "family %d is neither AF_INET nor AF_INET6", s->family);
	if (!memchr(s->addr, '\0', sizeof(s->addr)))
		return spec_err(err, errlen, "addr is not terminated");
	if (inet_pton(s->family, s->addr, buf) != 1)
		return spec_err(err, errlen, "addr '%s' is not a numeric IPv%d address", s->addr,
				s->family == AF_INET ? 4 : 6);
	if (s->port == 0)
		return spec_err(err, errlen, "port must not be 0");
	if (s->kind != XL4_HC_TCP && s->kind != XL4_HC_HTTP)
		return spec_err(err, errlen, "kind %d is neither tcp nor http", (int)s->kind);
	if (s->interval_ms < 100 || s->interval_ms > 3600 * 1000)
		return spec_err(err, errlen, "interval_ms %u is out of range 100..3600000",
				s->interval_ms);
	if (s->timeout_ms < 1 || s->timeout_ms >= s->interval_ms)
		return spec_err(err, errlen, "timeout_ms %u must be 1..interval_ms-1 (%u)",
				s->timeout_ms, s->interval_ms - 1);
	if (s->rise < 1 || s->rise > 100)
		return spec_err(err, errlen, "rise %u is out of range 1..100", s->rise);
	if (s->fall < 1 || s->fall > 100)
		return spec_err(err, errlen, "fall %u is out of range 1..100", s->fall);
	if (s->kind != XL4_HC_HTTP)
		return 0;
	if (!memchr(s->http_path, '\0', sizeof(s->http_path)))
		return spec_err(err, errlen, "http_path is not terminated");
	if (s->http_path[0] && (s->http_path[0] != '/' || !printable_token(s->http_path)))
		return spec_err(err, errlen,
				"http_path must start with '/' and hold no spaces or control characters");
	if (!memchr(s->http_host, '\0', sizeof(s->http_host)))
		return spec_err(err, errlen, "http_host is not terminated");
	if (!printable_token(s->http_host))
		return spec_err(err, errlen, "http_host must hold no spaces or control characters");
	if (s->http_expect && (s->http_expect < 100 || s->http_expect > 599))
		return spec_err(err, errlen, "http_expect %d is out of range 100..599 (0 = 2xx/3xx)",
				s->http_expect);
	return 0;
}

/* Fills the socket address and, for HTTP, the request. The spec has been checked. */
static void target_prepare(struct target *t)
{
	const struct xl4_health_spec *s = &t->spec;
	char host[sizeof(s->http_host) + 8];

	memset(&t->sa, 0, sizeof(t->sa));
	if (s->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&t->sa;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(s->port);
		inet_pton(AF_INET, s->addr, &sin->sin_addr);
		t->salen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->sa;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(s->port);
		inet_pton(AF_INET6, s->addr, &sin6->sin6_addr);
		t->salen = sizeof(*sin6);
	}
	if (s->kind != XL4_HC_HTTP)
		return;
	if (!t->spec.http_path[0])
		strcpy(t->spec.http_path, "/");
	if (s->http_host[0])
		snprintf(host, sizeof(host), "%s", s->http_host);
	else if (s->port == 80)
		snprintf(host, sizeof(host), s->family == AF_INET6 ? "[%s]" : "%s", s->addr);
	else
		snprintf(host, sizeof(host), s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", s->addr,
			 s->port);
	t->req_len = (size_t)snprintf(t->req, sizeof(t->req),
				      "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n"
				      "User-Agent: xl4-health\r\n\r\n",
				      s->http_path, host);
}

/* ---- checks (thread side, under lock) ---- */

/* Closes with RST (linger 0): a checker opening thousands of connections must not pile up
 * TIME_WAIT sockets on its own side. */
static void close_check_fd(struct target *t)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (t->fd < 0)
		return;
	setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(t->fd);
	t->fd = -1;
}

static void queue_change(struct xl4_health *h, struct target *t, const char *why)
{
	struct change *c;

	if (h->n_chg == h->chg_cap) {
		size_t cap = h->chg_cap ? h->chg_cap * 2 : 64;
		struct change *nc = realloc(h->chg, cap * sizeof(*nc));

		if (!nc) {
			pr_warn("health: out of memory: state change of target %u not reported",
				t->id);
			return;
		}
		h->chg = nc;
		h->chg_cap = cap;
	}
	c = &h->chg[h->n_chg++];
	c->id = t->id;
	c->gen = t->gen;
	c->up = t->st.up;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

static void check_done(struct xl4_health *h, struct target *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Ends the check in flight: counts it, moves the state on rise/fall, schedules the next. */
static void check_done(struct xl4_health *h, struct target *t, bool ok, const char *fmt, ...)
{
	struct xl4_health_state *st = &t->st;
	uint64_t now = now_us(), lat = now - t->started_us, next;
	char why[sizeof(st->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	close_check_fd(t);
	t->phase = PH_IDLE;
	st->checks++;
	st->last_latency_us = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	if (ok) {
		st->fail_streak = 0;
		if (st->ok_streak < UINT_MAX)
			st->ok_streak++;
		if (!st->up && st->ok_streak >= t->spec.rise) {
			st->up = true;
			pr_debug("health: target %u (%s port %u) up: %s", t->id, t->spec.addr,
				 t->spec.port, why);
			queue_change(h, t, why);
		}
	} else {
		st->failures++;
		st->ok_streak = 0;
		if (st->fail_streak < UINT_MAX)
			st->fail_streak++;
		memcpy(st->last_error, why, sizeof(st->last_error));
		if (st->up && st->fail_streak >= t->spec.fall) {
			st->up = false;
			pr_debug("health: target %u (%s port %u) down: %s", t->id, t->spec.addr,
				 t->spec.port, why);
			queue_change(h, t, why);
		}
	}
	/* keep the cadence: checks start one interval apart, not interval + duration */
	next = t->started_us + (uint64_t)t->spec.interval_ms * 1000;
	t->when_us = next > now ? next : now;
	heap_fix(h, t);
}

static void check_start(struct xl4_health *h, struct target *t, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	int fd;

	t->started_us = now;
	t->rlen = 0;
	t->req_off = 0;
	fd = socket(t->spec.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		check_done(h, t, false, "socket: %m");
		return;
	}
	t->fd = fd;
	/* 0 (possible on loopback) or EINPROGRESS: either way EPOLLOUT reports the outcome */
	if (connect(fd, (struct sockaddr *)&t->sa, t->salen) < 0 && errno != EINPROGRESS) {
		check_done(h, t, false, "connect: %m");
		return;
	}
	ev.data.u64 = (uint64_t)t->gen << 32 | t->id;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		check_done(h, t, false, "epoll: %m");
		return;
	}
	t->phase = PH_CONNECT;
	t->when_us = now + (uint64_t)t->spec.timeout_ms * 1000;
	heap_fix(h, t);
}

/* "HTTP/1.x NNN ..." -> NNN, or -1. buf is NUL-terminated. */
static int parse_status_line(const char *buf)
{
	const char *p = buf;
	int code;

	if (strncmp(p, "HTTP/", 5))
		return -1;
	p += 5;
	if (*p < '0' || *p > '9' || p[1] != '.' || p[2] < '0' || p[2] > '9' || p[3] != ' ')
		return -1;
	p += 4;
	while (*p == ' ')
		p++;
	if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return -1;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (p[3] != ' ' && p[3] != '\r' && p[3] != '\n' && p[3] != '\0')
		return -1;
	return code;
}

static void http_judge(struct xl4_health *h, struct target *t)
{
	int code, want = t->spec.http_expect;
	bool ok;

	t->rbuf[t->rlen] = '\0';
	code = parse_status_line(t->rbuf);
	if (code < 0) {
		check_done(h, t, false, "HTTP: bad status line");
		return;
	}
	ok = want ? code == want : code >= 200 && code < 400;
	check_done(h, t, ok, "HTTP %d", code);
}

static void on_connect(struct xl4_health *h, struct target *t, uint32_t events)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)t->gen << 32 | t->id };
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err && !(events & EPOLLOUT))
		err = ECONNRESET;
	if (err) {
		errno = err;
		check_done(h, t, false, "connect: %m");
		return;
	}
	if (t->spec.kind == XL4_HC_TCP) {
		check_done(h, t, true, "connected");
		return;
	}
	/* HTTP: the request is small, so it nearly always leaves in one send() */
	t->phase = PH_SEND;
	while (t->req_off < t->req_len) {
		ssize_t n = send(t->fd, t->req + t->req_off, t->req_len - t->req_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* still registered for EPOLLOUT */
		if (n < 0) {
			check_done(h, t, false, "send: %m");
			return;
		}
		t->req_off += (size_t)n;
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, t->fd, &ev) < 0) {
		check_done(h, t, false, "epoll: %m");
		return;
	}
	t->phase = PH_RECV;
}

static void on_readable(struct xl4_health *h, struct target *t)
{
	for (;;) {
		ssize_t n = recv(t->fd, t->rbuf + t->rlen, sizeof(t->rbuf) - 1 - t->rlen, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			check_done(h, t, false, "recv: %m");
			return;
		}
		if (n == 0) {
			if (t->rlen)
				http_judge(h, t);
			else
				check_done(h, t, false, "HTTP: connection closed before status line");
			return;
		}
		t->rlen += (size_t)n;
		if (memchr(t->rbuf, '\n', t->rlen) || t->rlen == sizeof(t->rbuf) - 1) {
			http_judge(h, t);
			return;
		}
	}
}

static void on_event(struct xl4_health *h, uint64_t key, uint32_t events)
{
	struct target *t = find(h, (uint32_t)key);

	/* stale: removed (maybe re-added) since epoll_wait returned, or check already over */
	if (!t || t->gen != (uint32_t)(key >> 32) || t->fd < 0)
		return;
	switch (t->phase) {
	case PH_CONNECT:
	case PH_SEND:
		on_connect(h, t, events);
		break;
	case PH_RECV:
		on_readable(h, t);
		break;
	case PH_IDLE:
		break;
	}
}

static void run_timers(struct xl4_health *h)
{
	uint64_t now = now_us();

	while (h->heap_len && h->heap[0]->when_us <= now) {
		struct target *t = h->heap[0];

		if (t->phase == PH_IDLE)
			check_start(h, t, now);
		else
			check_done(h, t, false, "timeout after %u ms", t->spec.timeout_ms);
	}
}

static int next_timeout_ms(const struct xl4_health *h)
{
	uint64_t now = now_us(), when, ms;

	if (!h->heap_len)
		return -1;
	when = h->heap[0]->when_us;
	if (when <= now)
		return 0;
	ms = (when - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void deliver_changes(struct xl4_health *h)
{
	size_t i;

	for (i = 0; i < h->n_chg; i++) {
		const struct change *c = &h->chg[i];
		struct target *t;
		bool live;

		pthread_mutex_lock(&h->cb_lock);
		pthread_mutex_lock(&h->lock);
		t = find(h, c->id);
		live = t && t->gen == c->gen;
		pthread_mutex_unlock(&h->lock);
		if (live && h->on_change)
			h->on_change(h->ctx, c->id, c->up, c->why);
		pthread_mutex_unlock(&h->cb_lock);
	}
	h->n_chg = 0;
}

static void *health_thread(void *arg)
{
	struct xl4_health *h = arg;
	struct epoll_event evs[MAX_EVENTS];

	for (;;) {
		int i, n, timeout;
		bool stop;

		pthread_mutex_lock(&h->lock);
		stop = h->stop;
		timeout = next_timeout_ms(h);
		pthread_mutex_unlock(&h->lock);
		if (stop)
			break;

		n = epoll_wait(h->epfd, evs, MAX_EVENTS, timeout);
		if (n < 0) {
			struct timespec pause = { 0, 100 * 1000 * 1000 };

			if (errno == EINTR)
				continue;
			pr_warn("health: epoll_wait: %m");
			nanosleep(&pause, NULL);
			continue;
		}

		pthread_mutex_lock(&h->lock);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u64 == WAKE_KEY) {
				uint64_t v;

				if (read(h->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					pr_warn("health: eventfd read: %m");
				continue;
			}
			on_event(h, evs[i].data.u64, evs[i].events);
		}
		run_timers(h);
		pthread_mutex_unlock(&h->lock);

		deliver_changes(h);
	}
	return NULL;
}

static void wake(struct xl4_health *h)
{
	uint64_t one = 1;

	if (write(h->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("health: eventfd write: %m");
}

/* ---- public API ---- */

struct xl4_health *xl4_health_new(xl4_health_cb on_change, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WAKE_KEY };
	struct xl4_health *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	h->on_change = on_change;
	h->ctx = ctx;
	h->epfd = h->wakefd = -1;
	h->bucket_bits = 6;
	h->buckets = calloc((size_t)1 << h->bucket_bits, sizeof(*h->buckets));
	if (!h->buckets)
		goto err_free;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0)
		goto err_free;
	h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wakefd < 0)
		goto err_free;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->wakefd, &ev) < 0)
		goto err_free;
	h->rng = now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)h;
	if (!h->rng)
		h->rng = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->cb_lock, NULL);
	return h;

err_free:
	err = errno;
	if (h->wakefd >= 0)
		close(h->wakefd);
	if (h->epfd >= 0)
		close(h->epfd);
	free(h->buckets);
	free(h);
	errno = err;
	return NULL;
}

int xl4_health_start(struct xl4_health *h)
{
	sigset_t all, old;
	int err;

	pthread_mutex_lock(&h->lock);
	if (h->started) {
		pthread_mutex_unlock(&h->lock);
		return -EALREADY;
	}
	/* the thread inherits a full mask: signals stay with the daemon's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&h->thread, NULL, health_thread, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!err)
		h->started = true;
	pthread_mutex_unlock(&h->lock);
	return -err;
}

int xl4_health_add(struct xl4_health *h, uint32_t id, const struct xl4_health_spec *s,
		   bool initially_up)
{
	struct target *t;
	int err;

	err = xl4_health_spec_check(s, NULL, 0);
	if (err)
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->id = id;
	t->fd = -1;
	t->spec = *s;
	t->st.up = initially_up;
	target_prepare(t);

	pthread_mutex_lock(&h->lock);
	if (find(h, id)) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (h->heap_len == h->heap_cap) {
		size_t cap = h->heap_cap ? h->heap_cap * 2 : 64;
		struct target **nh = realloc(h->heap, cap * sizeof(*nh));

		if (!nh) {
			err = -ENOMEM;
			goto out_unlock;
		}
		h->heap = nh;
		h->heap_cap = cap;
	}
	do /* 0 is never used; all-ones would make a key equal to WAKE_KEY */
		t->gen = ++h->last_gen;
	while (t->gen == 0 || t->gen == UINT32_MAX);
	/* first check at a random point within one interval, so a batch does not fire at once */
	t->when_us = now_us() + next_rand(h) % ((uint64_t)s->interval_ms * 1000);
	table_insert(h, t);
	heap_push(h, t);
	h->n++;
	table_maybe_grow(h);
	t = NULL;
out_unlock:
	pthread_mutex_unlock(&h->lock);
	free(t);
	if (!err)
		wake(h);
	return err;
}

int xl4_health_remove(struct xl4_health *h, uint32_t id)
{
	struct target *t;
	bool barrier;

	pthread_mutex_lock(&h->lock);
	t = find(h, id);
	if (!t) {
		pthread_mutex_unlock(&h->lock);
		return -ENOENT;
	}
	table_unlink(h, t);
	heap_remove(h, t);
	close_check_fd(t); /* also leaves the epoll set */
	h->n--;
	barrier = h->started && !pthread_equal(pthread_self(), h->thread);
	pthread_mutex_unlock(&h->lock);
	free(t);
	/* wait out an on_change for this id that may be running now; later ones see it gone */
	if (barrier) {
		pthread_mutex_lock(&h->cb_lock);
		pthread_mutex_unlock(&h->cb_lock);
	}
	return 0;
}

int xl4_health_get(struct xl4_health *h, uint32_t id, struct xl4_health_state *out)
{
	struct target *t;

	pthread_mutex_lock(&h->lock);
	t = find(h, id);
	if (t)
		*out = t->st;
	pthread_mutex_unlock(&h->lock);
	return t ? 0 : -ENOENT;
}

void xl4_health_free(struct xl4_health *h)
{
	size_t i;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_mutex_unlock(&h->lock);
	if (h->started) {
		wake(h);
		pthread_join(h->thread, NULL);
	}
	for (i = 0; i < h->heap_len; i++) {
		close_check_fd(h->heap[i]);
		free(h->heap[i]);
	}
	free(h->heap);
	free(h->buckets);
	free(h->chg);
	close(h->wakefd);
	close(h->epfd);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->cb_lock);
	free(h);
}
