/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which LRU lists the connection tables get when the configuration does not say
 * (lb.conntrack.per_cpu_lru left out): per-CPU lists, unless the pins in place were made with
 * one shared list (a restart must keep them, and every flow in them) or per-CPU lists would
 * be cut into more shares than there are CPUs to use them.
 */
#ifndef XL4_CT_LRU_H
#define XL4_CT_LRU_H

#include <stdbool.h>

#include "engine.h"

/* What the pinned IPv4 connection table under pin_path has (or, in pins of a build before it,
 * the one table xl4_ct_v1): 1 per-CPU lists, 0 one shared list, -errno (-ENOENT: none). */
int xl4_ct_lru_pinned(const char *pin_path);
/* The choice for o->ct_per_cpu_lru when o->ct_lru_open (nothing chose it), logged when it is
 * not the default's, and o->ct_lru_open cleared; nothing when the configuration chose.
 * possible and online are the CPU counts (the kernel's possible CPUs, the online ones). */
void xl4_ct_lru_settle(struct xl4_engine_opts *o, int possible, int online);
/* The same with this machine's CPU counts. */
void xl4_ct_lru_settle_here(struct xl4_engine_opts *o);

#endif
