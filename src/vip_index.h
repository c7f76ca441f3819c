/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VIP index the datapath reads before the VIP hash table (include/xl4/abi.h: struct
 * xl4_vip_index, xl4_vipkey_v1): derived from xl4_vips_v1, rebuilt whole after each change.
 */
#ifndef XL4_VIP_INDEX_H
#define XL4_VIP_INDEX_H

#include <stdbool.h>
#include <linux/types.h>
#include "xl4/abi.h"

/* ix for n VIPs (keys[i] has id ids[i]) with the given salt: how many VIPs found their slot
 * taken (they are left to the hash table). */
int xl4_vip_index_fill(struct xl4_vip_index *ix, const struct xl4_vip_key *keys, const __u32 *ids,
		       int n, __u32 salt);

/* ix for these VIPs with the salt that parts them all: prefer (the salt in use) if it does,
 * else the first of a fixed sequence that does, else the one that leaves the fewest to the
 * hash table. Returns that number (0: every VIP is indexed). */
int xl4_vip_index_build(struct xl4_vip_index *ix, const struct xl4_vip_key *keys, const __u32 *ids,
			int n, __u32 prefer);

/* Write every VIP's key (xl4_vipkey_v1) and then the index (xl4_vidx_v1, only if it changed)
 * from what xl4_vips_v1 holds now. 0 or -errno. */
int xl4_vip_index_write(int vips_fd, int vipkey_fd, int vidx_fd);

/* Every slot emptied (the salt kept): what a failed rebuild falls back to, so that no slot
 * names a deleted VIP's id. 0 or -errno. */
int xl4_vip_index_clear(int vidx_fd);

/* Does any slot name a VIP (the index a previous daemon left in the pins, say)? */
bool xl4_vip_index_names_any(int vidx_fd);

/* Return once every datapath run that started before the call has ended, so that an id the
 * index no longer names can be given to another VIP: no run still holds it. */
void xl4_vip_index_quiesce(void);

#endif /* XL4_VIP_INDEX_H */
