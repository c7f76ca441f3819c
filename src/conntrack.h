/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_CONNTRACK_H
#define XL4_CONNTRACK_H

#include <stdbool.h>

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

/* The datapath's flow cache (bpf/flow_cache.h) holds copies of IPv4 entries: whoever writes
 * or deletes entries of xl4_ct4_v1 from user space calls this after, with the fd of
 * xl4_fcgen_v1, and no CPU uses a copy taken before. 0, or -errno (fcgen_fd < 0: 0). */
int xl4_ct_cache_invalidate(int fcgen_fd);

/* Connection-table entries whose client address is in p: a full walk of p's family's table
 * (xl4_ct4_v1 by ct4_fd, xl4_ct_v1 by ct6_fd; IPv4 keys an older build left there are not
 * IPv6 clients), batched (thousands of entries per syscall). -errno when the table cannot be
 * read. Not thread-bound: the analyzer's thread
 * calls it. */
long long xl4_ct_count_from(int ct4_fd, int ct6_fd, const struct xl4_prefix *p);

/*
 * A build before the split kept both families in xl4_ct_v1; this build's datapath looks for
 * IPv4 flows in xl4_ct4_v1 only (a flow it does not find re-picks its backend through Maglev:
 * the same one, unless its VIP's backends changed). So a daemon that takes over such pins
 * copies the IPv4 flows across in two passes:
 *   - before its program is attached (remove false): copied, left in place, since the old
 *     program still serves from xl4_ct_v1;
 *   - once attached (remove true): copied again (what the old program inserted or re-pointed
 *     meanwhile), then deleted from xl4_ct_v1.
 * A key both tables hold keeps the entry seen last (xl4_flow.last_s; the old table's on a
 * tie): after a downgrade and a new upgrade, xl4_ct4_v1 still holds entries from before the
 * downgrade. With per-CPU LRU lists (BPF_F_NO_COMMON_LRU) each CPU's list holds its share of
 * the table and takes the entries written from that CPU, so the writes are spread over the
 * CPUs this thread may run on. Returns the number of IPv4 entries found in xl4_ct_v1 (*written:
 * how many of them were written to xl4_ct4_v1), or -errno.
 */
long xl4_ct_split_ipv4(int ct6_fd, int ct4_fd, bool remove, long *written);
/* The same, logged: "conntrack: N IPv4 flows in xl4_ct_v1 ... copied to / moved to ...", or a
 * warning naming what is lost when it fails. Silent when there was nothing to do. The flow
 * cache (fcgen_fd) is invalidated when an entry was written. */
void xl4_ct_split_pins(int ct6_fd, int ct4_fd, int fcgen_fd, bool remove);

#endif /* XL4_CONNTRACK_H */
