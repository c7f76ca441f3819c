// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer_thread.h"
#include "log.h"

enum { MSG_OBS = 1, MSG_SAMPLE = 2 };

/* Written whole (well under PIPE_BUF), so a pipe never holds half a message. */
struct msg {
	uint32_t type;
	union {
		struct xl4_an_obs obs;
		struct {
			uint32_t vip;
			int family;
			uint8_t src[16];
		} sample;
	};
};

struct xl4_an_thread {
	struct xl4_analyzer *an;
	int in[2];  /* loop -> thread */
	int out[2]; /* thread -> loop */
	pthread_t thread;
	bool started;
	unsigned long lost;
};

static void *an_thread(void *arg)
{
	struct xl4_an_thread *t = arg;
	struct xl4_an_decision d[4];
	struct msg m;
	ssize_t r;

	/* EOF (the loop closed its end) stops the thread. */
	while ((r = read(t->in[0], &m, sizeof(m))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(m))
			break;
		if (m.type == MSG_SAMPLE) {
			xl4_analyzer_sample(t->an, m.sample.vip, m.sample.family, m.sample.src);
			continue;
		}
		int n = xl4_analyzer_observe(t->an, &m.obs, d, 4);

		for (int i = 0; i < n; i++)
			if (write(t->out[1], &d[i], sizeof(d[i])) != sizeof(d[i]))
				pr_warn("analyzer: lost a decision for VIP id %u", d[i].vip);
	}
	return NULL;
}

struct xl4_an_thread *xl4_an_thread_start(const struct xl4_analyzer_params *p)
{
	struct xl4_an_thread *t = calloc(1, sizeof(*t));
	sigset_t all, old;

	if (!t)
		return NULL;
	t->in[0] = t->in[1] = t->out[0] = t->out[1] = -1;
	t->an = xl4_analyzer_new(p);
	if (!t->an || pipe2(t->in, O_CLOEXEC) || pipe2(t->out, O_CLOEXEC))
		goto fail;
	/* Nobody ever waits on a full pipe: the loop's ends so that it is never held up, the
	 * thread's output so that stopping (the loop no longer reading) cannot hang the join.
	 * A full pipe loses a message, counted or logged. */
	if (fcntl(t->in[1], F_SETFL, O_NONBLOCK) || fcntl(t->out[0], F_SETFL, O_NONBLOCK) ||
	    fcntl(t->out[1], F_SETFL, O_NONBLOCK))
		goto fail;
	sigfillset(&all); /* signals stay with the daemon's signalfd */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	t->started = !pthread_create(&t->thread, NULL, an_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!t->started)
		goto fail;
	return t;
fail:
	pr_warn("analyzer: cannot start its thread: %s", strerror(errno));
	xl4_an_thread_stop(t);
	return NULL;
}

void xl4_an_thread_stop(struct xl4_an_thread *t)
{
	if (!t)
		return;
	if (t->in[1] >= 0)
		close(t->in[1]);
	if (t->started)
		pthread_join(t->thread, NULL);
	for (int i = 0; i < 2; i++) {
		if (t->out[i] >= 0)
			close(t->out[i]);
	}
	if (t->in[0] >= 0)
		close(t->in[0]);
	xl4_analyzer_free(t->an);
	free(t);
}

int xl4_an_thread_fd(const struct xl4_an_thread *t)
{
	return t ? t->out[0] : -1;
}

int xl4_an_thread_read(struct xl4_an_thread *t, struct xl4_an_decision *d)
{
	return read(t->out[0], d, sizeof(*d)) == sizeof(*d);
}

static void post(struct xl4_an_thread *t, const struct msg *m)
{
	if (write(t->in[1], m, sizeof(*m)) != sizeof(*m))
		t->lost++;
}

void xl4_an_thread_observe(struct xl4_an_thread *t, const struct xl4_an_obs *o)
{
	struct msg m = { .type = MSG_OBS, .obs = *o };

	post(t, &m);
}

void xl4_an_thread_sample(struct xl4_an_thread *t, uint32_t vip, int family, const uint8_t src[16])
{
	struct msg m = { .type = MSG_SAMPLE, .sample = { .vip = vip, .family = family } };

	memcpy(m.sample.src, src, 16);
	post(t, &m);
}

unsigned long xl4_an_thread_lost(const struct xl4_an_thread *t)
{
	return t ? t->lost : 0;
}
