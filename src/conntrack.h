/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_CONNTRACK_H
#define XL4_CONNTRACK_H

#include "prefix.h"
#include "xl4/abi.h"

/*
 * The connection table from user space. It is one map per family (include/xl4/abi.h): IPv4
 * flows in xl4_ct4_v1 under struct xl4_flow_key4, IPv6 flows in xl4_ct_v1 under struct
 * xl4_flow_key.
 */

/* A flow's entry, by its full key, in its family's table, as the datapath finds it: 0, or -1
 * with errno (ENOENT: none). */
int xl4_ct_lookup(int ct4_fd, int ct6_fd, const struct xl4_flow_key *k, struct xl4_flow *f);
/* Write a flow's entry in its family's table (flags: BPF_ANY, BPF_EXIST...): 0, or -1 with errno. */
int xl4_ct_update(int ct4_fd, int ct6_fd, const struct xl4_flow_key *k, const struct xl4_flow *f,
		  __u64 flags);

/* Connection-table entries whose client address is in p: a full walk of p's family's table
 * (xl4_ct4_v1 by ct4_fd, xl4_ct_v1 by ct6_fd), batched (thousands of entries per syscall), key
 * by key on a kernel without batch lookups. -errno when the table cannot be read. Not
 * thread-bound: the analyzer's thread calls it. */
long long xl4_ct_count_from(int ct4_fd, int ct6_fd, const struct xl4_prefix *p);

/*
 * A build before the split kept both families in xl4_ct_v1, so a
 * daemon that takes over its pins moves the IPv4 flows it finds there into xl4_ct4_v1, where
 * this build's datapath looks for them (else each would re-pick its backend through Maglev:
 * the same one, unless the VIP's backends changed). Call it before the program is attached;
 * an IPv4 flow the old program inserts after it is re-picked that way. Returns the number of
 * flows moved, or -errno.
 */
long xl4_ct_split_ipv4(int ct6_fd, int ct4_fd);

#endif /* XL4_CONNTRACK_H */
