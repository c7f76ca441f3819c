/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The analyzer's thread: observations and drop samples go in through one pipe, decisions come
 * back through another that the daemon's epoll loop watches, so filter and guard state keep
 * one writer (the loop). The loop never blocks on it: a full pipe drops the message (counted).
 */
#ifndef XL4_ANALYZER_THREAD_H
#define XL4_ANALYZER_THREAD_H

#include "analyzer.h"

struct xl4_an_thread;

/* NULL (with the reason logged) if the thread cannot start. */
struct xl4_an_thread *xl4_an_thread_start(const struct xl4_analyzer_params *p);
/* Stops and joins the thread. NULL is a no-op. */
void xl4_an_thread_stop(struct xl4_an_thread *t);
/* The fd that becomes readable when decisions wait. */
int xl4_an_thread_fd(const struct xl4_an_thread *t);
/* 1 with *d filled, 0 when none waits. */
int xl4_an_thread_read(struct xl4_an_thread *t, struct xl4_an_decision *d);
void xl4_an_thread_observe(struct xl4_an_thread *t, const struct xl4_an_obs *o);
void xl4_an_thread_sample(struct xl4_an_thread *t, uint32_t vip, int family, const uint8_t src[16]);
/* Messages lost to a full pipe (the analyzer fell behind). */
unsigned long xl4_an_thread_lost(const struct xl4_an_thread *t);

#endif
