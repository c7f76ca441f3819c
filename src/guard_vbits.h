/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_GUARD_VBITS_H
#define XL4_GUARD_VBITS_H

#include "xl4/abi.h"

/*
 * xl4_gvbit_v1 (include/xl4/abi.h: struct xl4_guard_vbits) from what the verified tables hold.
 * A newly loaded program's bits start clear, while the tables it took over from pins may hold
 * sources: without this, each of them would be asked to prove itself again. Bits are ORed into
 * what the map holds. Call it before the program is attached (nothing sets bits then).
 * Returns the number of sources read, or -errno.
 */
int xl4_guard_vbits_rebuild(int vbits_fd, int ver_fd, int verc_fd);

/*
 * The datapath only ever sets bits, so the bits of sources that left the tables (expired,
 * evicted, `xl4 guard unverify`) stay set, and an attacker who gets sources verified (First
 * Drop admits any source that repeats its SYN) would fill the map until every flood SYN paid
 * the tables' lookups again. The daemon therefore replaces the bits, every few seconds, with
 * those of the sources its walk of the tables found unexpired (`fresh`), keeping every bit the
 * datapath set while the walk ran (the live bits read before it, `before`, against those read
 * after it): a source proven meanwhile keeps its bit even if the walk missed its entry.
 */
struct xl4_guard_vbits;

/* The bits to write: fresh | (after & ~before), into fresh. Returns the bits set in the result. */
long xl4_guard_vbits_merge(struct xl4_guard_vbits *fresh, const struct xl4_guard_vbits *before,
			   const struct xl4_guard_vbits *after);
/* A source's bit into v (the walk's callback sets them). */
void xl4_guard_vbits_add(struct xl4_guard_vbits *v, const struct xl4_guard_src *src);

#endif /* XL4_GUARD_VBITS_H */
