/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IPv4 lists' DIR-24-8 index (include/xl4/abi.h, docs/filter.md): the one writer of the
 * idx/grp/ent arrays, which it reaches through plain pointers (the daemon maps them from the
 * kernel with mmap; the unit test hands it calloc'd memory). It keeps (addr, len) -> entry id
 * in a hash of its own, so it needs no kernel lookups.
 *
 * Entry 0 is the index's header, never a prefix: ent[0].other is the highest id ever used and
 * ent[0].addr the number of groups ever used, so a restart scans only that far.
 *
 * Write order (what a packet can see, docs/filter.md): an entry is written before any slot
 * names it; a new group is filled before its /24 slot names it; a deleted prefix's slots are
 * moved to its covering prefix before the entry is freed, and a freed entry or group keeps its
 * contents until it is reused, no sooner than grace_ns later. So every slot a packet reads
 * names a prefix that holds the address and was on the list just before or just after the
 * change, or a covering one.
 */
#ifndef XL4_DIR24_H
#define XL4_DIR24_H

#include <stddef.h>
#include <stdint.h>

#include "xl4/abi.h"

struct xl4_d24_fifo {
	uint32_t *v;
	uint64_t *at; /* when each was freed (CLOCK_MONOTONIC ns) */
	size_t head, n, cap;
};

struct xl4_dir24 {
	uint32_t *idx; /* XL4_D24_SLOTS slots */
	uint32_t *grp; /* n_groups * XL4_D24_GROUP_LEAVES leaves */
	struct xl4_d24_entry *ent; /* n_ent entries, entry 0 unused */
	uint32_t n_groups, n_ent;
	uint32_t *hash; /* open addressing: entry ids, 0 = empty */
	size_t hash_mask;
	struct xl4_d24_fifo free_ids, free_groups;
	size_t n; /* prefixes in the index */
	uint64_t grace_ns; /* a freed entry or group is reused this long after, at the earliest */
};

#define XL4_D24_GRACE_NS 1000000000ull

/* Take over the arrays as they are (zeroed, or what an earlier writer left). */
int xl4_dir24_init(struct xl4_dir24 *t, uint32_t *idx, uint32_t *grp, uint32_t n_groups,
		   struct xl4_d24_entry *ent, uint32_t n_ent);
void xl4_dir24_free(struct xl4_dir24 *t);

/* Add addr/len (network order, host bits zero) with value v, or update the entry it has.
 * -ENOSPC: no entry left; -ENOBUFS: no group left (nothing changed then). */
int xl4_dir24_set(struct xl4_dir24 *t, __be32 addr, uint8_t len, const struct xl4_prefix_entry *v);
/* As xl4_dir24_set, and an entry already there is published again wherever it should answer
 * (the restart after a writer died mid-change: filter_state.c d24_reconcile). */
int xl4_dir24_repair(struct xl4_dir24 *t, __be32 addr, uint8_t len,
		     const struct xl4_prefix_entry *v);
/* Remove addr/len: -ENOENT if it is not there. */
int xl4_dir24_del(struct xl4_dir24 *t, __be32 addr, uint8_t len);
/* The entry id of exactly addr/len, or 0. */
uint32_t xl4_dir24_find(const struct xl4_dir24 *t, __be32 addr, uint8_t len);
/* Groups in use (for xl4 status). */
uint32_t xl4_dir24_groups_used(const struct xl4_dir24 *t);
/* Ids 1..this were ever used (entry 0's high-water mark): where a scan of ent may stop. */
uint32_t xl4_dir24_ids_seen(const struct xl4_dir24 *t);
/* Prefixes in the index. */
size_t xl4_dir24_count(const struct xl4_dir24 *t);
/* A writer marks the index (entry 0) while it changes the index and the record beside it;
 * a mark found at start means a writer died in between: compare them in full. */
void xl4_dir24_mark(struct xl4_dir24 *t, int busy);
int xl4_dir24_marked(const struct xl4_dir24 *t);

/* What the datapath's first step finds for addr (bpf/filter.h d24_first, the same steps):
 * XL4_D24_NONE (no prefix holds it), XL4_D24_HIT (*out: the longest one), XL4_D24_WALK (a
 * slot that does not hold addr: the trie decides), XL4_D24_HIT_DIRECT (a direct slot's /32, abi.h:
 * decided without reading the entry; *out is the entry it names, for the caller to check). */
enum { XL4_D24_NONE = 0, XL4_D24_HIT = 1, XL4_D24_WALK = 2, XL4_D24_HIT_DIRECT = 3 };
int xl4_dir24_first(const struct xl4_dir24 *t, __be32 addr, const struct xl4_d24_entry **out);

#endif
