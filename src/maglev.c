// SPDX-License-Identifier: GPL-2.0
/*
 * Weighted Maglev table construction. Each active backend gets a permutation of the slots from
 * two SipHash-2-4 values of its key (offset = h1 % M, skip = h2 % (M - 1) + 1, M prime). Backends
 * then take turns claiming their next preferred free slot until the table is full. With equal
 * weights the turns are plain round robin in key order (the paper's algorithm). With weights,
 * backend i's t-th turn (t = 0, 1, ...) happens at virtual time (2t + 1) / (2 w_i), turns are
 * taken in virtual-time order and ties go to the smaller key: each backend then holds
 * round(T * w_i) slots for a common T, i.e. its weighted share to within one slot. The order of
 * the other backends' turns does not depend on any one backend, so removing a backend only
 * deletes its turns from the sequence: disruption stays as low as in unweighted Maglev.
 * The turn order is kept in a binary heap, so a build is O(M log N) plus the usual expected
 * O(M log M) for the permutation walks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "xl4/siphash.h"

/* The two hashes of a key: SipHash-2-4 under key = le32(seed) || "xl4-maglev-1" (resp. "-2"). */
static void key_hashes(const char *key, uint32_t seed, uint64_t *h1, uint64_t *h2)
{
	uint8_t k[16];
	size_t len = strlen(key);

	k[0] = seed & 0xff;
	k[1] = (seed >> 8) & 0xff;
	k[2] = (seed >> 16) & 0xff;
	k[3] = seed >> 24;
	memcpy(k + 4, "xl4-maglev-1", 12);
	*h1 = xl4_siphash24(k, key, len);
	k[15] = '2';
	*h2 = xl4_siphash24(k, key, len);
}

bool xl4_maglev_is_prime(uint32_t n)
{
	if (n < 4)
		return n >= 2;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (uint64_t d = 5; d * d <= n; d += 6)
		if (n % d == 0 || n % (d + 2) == 0)
			return false;
	return true;
}

size_t xl4_maglev_diff(const uint32_t *a, const uint32_t *b, uint32_t size)
{
	size_t n = 0;

	if (!a || !b)
		return size;
	for (uint32_t i = 0; i < size; i++)
		n += a[i] != b[i];
	return n;
}

/* ---- the build ---- */

struct mg_backend {
	uint32_t id;
	uint32_t weight;
	uint32_t pos;	/* next slot of the permutation to try */
	uint32_t skip;
	uint64_t turns; /* slots claimed so far */
};

static int cmp_key(const void *a, const void *b)
{
	const struct xl4_maglev_backend *x = *(const struct xl4_maglev_backend *const *)a;
	const struct xl4_maglev_backend *y = *(const struct xl4_maglev_backend *const *)b;

	return strcmp(x->key, y->key);
}

/*
 * Does backend a take its next turn before backend b? Turn t of backend i is at virtual time
 * (2t + 1) / (2 w_i); compare by cross-multiplying (turns <= 2^24, weights < 2^32: no overflow),
 * ties to the smaller index, i.e. the smaller key.
 */
static bool turn_before(const struct mg_backend *st, uint32_t a, uint32_t b)
{
	uint64_t ta = (2 * st[a].turns + 1) * st[b].weight;
	uint64_t tb = (2 * st[b].turns + 1) * st[a].weight;

	return ta != tb ? ta < tb : a < b;
}

static void sift_down(const struct mg_backend *st, uint32_t *heap, size_t n, size_t i)
{
	uint32_t x = heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && turn_before(st, heap[c + 1], heap[c]))
			c++;
		if (!turn_before(st, heap[c], x))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = x;
}

int xl4_maglev_build(const struct xl4_maglev_backend *b, size_t n, uint32_t size, uint32_t seed,
		     uint32_t *table)
{
	const struct xl4_maglev_backend **sorted = NULL;
	struct mg_backend *st = NULL;
	uint32_t *heap = NULL;
	size_t active = 0, i;
	uint32_t filled;
	int err = -EINVAL;

	if (!table || (!b && n) || size < 2 || size > XL4_MAGLEV_SIZE_MAX ||
	    !xl4_maglev_is_prime(size))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!b[i].key)
			return -EINVAL;
		if (b[i].weight) {
			if (b[i].id == XL4_MAGLEV_NONE)
				return -EINVAL;
			active++;
		}
	}
	if (active >= size)
		return -EINVAL;

	/* Sort by key: the table must not depend on the order the caller lists backends in. */
	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			sorted[i] = &b[i];
		qsort(sorted, n, sizeof(*sorted), cmp_key);
		for (i = 1; i < n; i++)
			if (!strcmp(sorted[i - 1]->key, sorted[i]->key))
				goto out; /* -EINVAL: duplicate key */
	}

	if (!active) {
		for (uint32_t s = 0; s < size; s++)
			table[s] = XL4_MAGLEV_NONE;
		err = -ENOENT;
		goto out;
	}

	err = -ENOMEM;
	st = calloc(active, sizeof(*st));
	heap = malloc(active * sizeof(*heap));
	if (!st || !heap)
		goto out;

	/* Each active backend's permutation, in key order; the heap starts in that order too
	 * (every first turn is at 1/(2w): a valid heap needs sifting, done below). */
	active = 0;
	for (i = 0; i < n; i++) {
		const struct xl4_maglev_backend *x = sorted[i];
		uint64_t h1, h2;

		if (!x->weight)
			continue;
		key_hashes(x->key, seed, &h1, &h2);
		st[active].id = x->id;
		st[active].weight = x->weight;
		st[active].pos = h1 % size;
		st[active].skip = h2 % (size - 1) + 1;
		heap[active] = active;
		active++;
	}
	for (i = active / 2; i-- > 0;)
		sift_down(st, heap, active, i);

	for (uint32_t s = 0; s < size; s++)
		table[s] = XL4_MAGLEV_NONE;
	/* Active ids are never XL4_MAGLEV_NONE, so NONE marks a free slot. Every permutation
	 * visits every slot (size prime, 0 < skip < size), so each walk finds a free one. */
	for (filled = 0; filled < size; filled++) {
		struct mg_backend *x = &st[heap[0]];

		while (table[x->pos] != XL4_MAGLEV_NONE) {
			x->pos += x->skip;
			if (x->pos >= size)
				x->pos -= size;
		}
		table[x->pos] = x->id;
		x->turns++;
		sift_down(st, heap, active, 0);
	}
	err = 0;
out:
	free(heap);
	free(st);
	free(sorted);
	return err;
}
