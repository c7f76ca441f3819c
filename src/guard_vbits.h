/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_GUARD_VBITS_H
#define XL4_GUARD_VBITS_H

#include <stdbool.h>

#include "xl4/abi.h"

/*
 * xl4_gvbit_v1 (include/xl4/abi.h), the verified sources' presence bits, mapped into this
 * process: the words the datapath reads and sets, written here in place with atomic
 * operations, so no bit the datapath sets is lost to a write of ours.
 */
struct xl4_gvbits {
	__u64 *w; /* the live words (NULL: not mapped) */
	__u64 *fresh_set; /* xl4_gvnew_v1: bit indexes proofs set since the last copy (a half) */
	__u32 words; /* both halves: 2 * 2^(log2 - 6) */
	__u32 log2; /* 2^log2 bits a half (XL4_GUARD_VBITS_COOKIE, _ANY) */
};

/* Map the bits of map fd (its size read from the map) and, if new_fd >= 0, xl4_gvnew_v1 (a
 * half's size). 0 or -errno. */
int xl4_gvbits_map(struct xl4_gvbits *v, int fd, int new_fd);
void xl4_gvbits_unmap(struct xl4_gvbits *v);
/* Every word set to word (0: clear all); for tests and the bench. */
void xl4_gvbits_fill(struct xl4_gvbits *v, __u64 word);
bool xl4_gvbits_test(const struct xl4_gvbits *v, __u32 half, const struct xl4_guard_src *src);

/* A source's bits into words w, each half 2^log2 bits, as the datapath sets them for a proof
 * of that kind (cookie: both halves; First Drop: the "any" half), atomically. The walk's
 * callback and the rebuild's. */
void xl4_guard_vbits_add(__u64 *w, __u32 log2, bool cookie, const struct xl4_guard_src *src);

/*
 * A newly loaded program's bits start clear, while the tables it took over from pins may hold
 * sources: without this, each of them would be asked to prove itself again. Bits are ORed into
 * what the map holds. Returns the number of sources read, or -errno.
 */
int xl4_guard_vbits_rebuild(int vbits_fd, int ver_fd, int verc_fd);

/*
 * The datapath only ever sets bits, so the bits of sources that left the tables (expired,
 * evicted, `xl4 guard unverify`) stay set, and an attacker who gets sources verified (First
 * Drop admits any source that repeats its SYN) would fill the map until every flood SYN paid
 * the tables' lookups again. The daemon therefore replaces the bits, every few seconds, with
 * those of the sources its walk of the tables found unexpired (`fresh`), keeping every bit the
 * datapath set since it copied the words: xl4_gvbits_snapshot() clears xl4_gvnew_v1 and copies
 * the live words into `before` (in that order), and xl4_guard_vbits_refresh() makes each live
 * word fresh | (live & (~before | new)), by compare-and-swap. `~before` keeps a bit set since
 * the copy; `new` keeps one a proof set again although a stale source already held it (the
 * copy cannot tell them apart). So a source proven during the walk, which may have passed its
 * entry, keeps its bit. A proof whose live bit was set already changes no word the swap could
 * notice, so after each swap the new word is read again and what the swap cleared of it is
 * put back (tests/unit/test_vbits_race.c lost one bit in ~1.5M proofs, one run in twenty,
 * without that). Returns the bits set in the result.
 */
void xl4_gvbits_snapshot(struct xl4_gvbits *live, __u64 *before);
long xl4_guard_vbits_refresh(struct xl4_gvbits *live, const __u64 *fresh, const __u64 *before);

#endif /* XL4_GUARD_VBITS_H */
