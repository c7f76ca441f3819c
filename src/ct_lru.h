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

/* Interface ifname's receive queues (/sys/class/net/IF/queues/rx-*), or -errno; *nic set when it
 * is a device (its sysfs entry has one: a NIC, not a veth, a bridge or a tunnel). */
int xl4_iface_rx_queues(const char *ifname, bool *nic);
/* Per-CPU lists fill only on the CPUs that receive, and a NIC's packets are received on at most
 * as many CPUs as it has receive queues: what that leaves of the IPv4 table (ct_max entries, in
 * cpus lists), written to buf for an interface with fewer queues than CPUs; 0 (nothing written)
 * otherwise. */
int xl4_ct_lru_queue_note(char *buf, size_t len, const char *ifname, int queues, int cpus,
			  unsigned int ct_max);
/* The note above logged, as a warning, for each NIC of ifnames when o has per-CPU lists. */
void xl4_ct_lru_check_ifaces(const struct xl4_engine_opts *o, const char *const *ifnames, int n);

#endif
