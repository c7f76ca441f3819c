/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted. User space computes the
 * lookup table here and writes it into an array map; the datapath only indexes it with
 * table[flow_hash % size]. Pure C, no libbpf, no globals: every call is independent and
 * thread-safe. The same backend set, weights and seed give a byte-identical table on every node,
 * whatever the order the backends are given in and whatever the machine's endianness.
 * See docs/maglev.md for the algorithm, the hash and the guarantees the unit tests pin down.
 */
#ifndef XL4_MAGLEV_H
#define XL4_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table value for "no backend" (only written when no backend has weight > 0). */
#define XL4_MAGLEV_NONE 0xffffffffu
/* Largest accepted table size (the largest usable size is the largest prime below it). */
#define XL4_MAGLEV_SIZE_MAX (1u << 24)
/* The usual table size: prime, and large enough for ~650 backends at 1% imbalance. */
#define XL4_MAGLEV_SIZE_DEFAULT 65537u

struct xl4_maglev_backend {
	const char *key; /* stable identity, e.g. "198.18.2.1:8080"; the permutation derives from it */
	uint32_t weight; /* 0 = not in the table (drained/down); otherwise relative share */
	uint32_t id;	 /* the value written into the table for this backend */
};

/*
 * Fill table[0..size-1] with backend ids. size must be prime and larger than the number of
 * backends with weight > 0. seed is the deployment-wide secret (same on every node => identical
 * tables). Returns:
 *   0        table filled;
 *   -EINVAL  size not prime, < 2 or > XL4_MAGLEV_SIZE_MAX; size <= active backends; table NULL;
 *            b NULL with n > 0; a NULL or duplicate key; an active backend whose id is
 *            XL4_MAGLEV_NONE. The table is not written.
 *   -ENOENT  no backend has weight > 0; the table is filled with XL4_MAGLEV_NONE.
 *   -ENOMEM  scratch allocation failed; the table is not written.
 */
int xl4_maglev_build(const struct xl4_maglev_backend *b, size_t n, uint32_t size, uint32_t seed,
		     uint32_t *table);

bool xl4_maglev_is_prime(uint32_t n);

/* Number of slots whose value differs (for disruption measurements and tests). */
size_t xl4_maglev_diff(const uint32_t *a, const uint32_t *b, uint32_t size);

#endif /* XL4_MAGLEV_H */
