/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which VIP a key names: the index's slot first (two array reads and a 20-byte compare), the
 * hash table when the slot does not hold that very key (a VIP that shares its slot with
 * another, an index not written yet, a key that is no VIP). include/xl4/abi.h says why a slot
 * read concurrently with the daemon's writes is safe.
 */
#ifndef XL4_VIP_H
#define XL4_VIP_H

#include <linux/bpf.h>
#include "compat.h"
#include "maps.h"

static __always_inline int vip_key_eq(const struct xl4_vip_key *a, const struct xl4_vip_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]));
}

/* The VIP k names (its xl4_vipid_v1 copy when the index finds it: the same fields, flagged
 * live), or NULL. */
static __always_inline struct xl4_vip *vip_find(const struct xl4_vip_key *k)
{
	const struct xl4_vip_index *ix = &xl4_vidx;
	__u32 id = ix->id1[xl4_vip_slot(k, ix->salt) & (XL4_VIP_INDEX_SLOTS - 1)];
	struct xl4_vip_key *ik;
	struct xl4_vip *v;

	if (id--) {
		ik = bpf_map_lookup_elem(&xl4_vipkey_v1, &id);
		v = bpf_map_lookup_elem(&xl4_vipid_v1, &id);
		if (ik && v && (v->flags & XL4_VIP_F_LIVE) && vip_key_eq(ik, k))
			return v;
	}
	return bpf_map_lookup_elem(&xl4_vips_v1, k);
}

#endif /* XL4_VIP_H */
