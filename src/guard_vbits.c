// SPDX-License-Identifier: GPL-2.0
/* The guard's verified-source bits, mapped, refreshed and rebuilt (guard_vbits.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "guard_vbits.h"

/* fd's words mapped, if the map is an mmapable array of u64 of min..max words (a power of two). */
static __u64 *map_words(int fd, __u32 min, __u32 max, __u32 *words)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), n;
	void *m;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return NULL;
	n = info.max_entries;
	/* what the loader makes (include/xl4/abi.h); anything else is not ours to read */
	if (info.value_size != sizeof(__u64) || !(info.map_flags & BPF_F_MMAPABLE) || !n ||
	    (n & (n - 1)) || n < min || n > max) {
		errno = EINVAL;
		return NULL;
	}
	m = mmap(NULL, (size_t)n * sizeof(__u64), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	*words = n;
	return m;
}

int xl4_gvbits_map(struct xl4_gvbits *v, int fd, int new_fd)
{
	__u32 nw = 0;

	memset(v, 0, sizeof(*v));
	v->w = map_words(fd, 2u << (XL4_GUARD_VBITS_LOG2_MIN - 6),
			 2u << (XL4_GUARD_VBITS_LOG2_MAX - 6), &v->words);
	if (!v->w)
		return -errno;
	v->log2 = (__u32)__builtin_ctz(v->words) - 1 + 6;
	if (new_fd >= 0) {
		v->fresh_set = map_words(new_fd, v->words / 2, v->words / 2, &nw);
		if (!v->fresh_set) {
			int err = -errno;

			xl4_gvbits_unmap(v);
			return err;
		}
	}
	return 0;
}

void xl4_gvbits_unmap(struct xl4_gvbits *v)
{
	if (v->w)
		munmap(v->w, (size_t)v->words * sizeof(__u64));
	if (v->fresh_set)
		munmap(v->fresh_set, (size_t)v->words / 2 * sizeof(__u64));
	memset(v, 0, sizeof(*v));
}

void xl4_gvbits_fill(struct xl4_gvbits *v, __u64 word)
{
	for (__u32 i = 0; i < v->words; i++)
		__atomic_store_n(&v->w[i], word, __ATOMIC_RELAXED);
}

/* A source's bit in half: its word's index, and the bit in it. */
static __u32 vbit_word(__u32 log2, __u32 half, const struct xl4_guard_src *src, __u64 *mask)
{
	__u32 bit = xl4_guard_vbit(src, log2);

	*mask = 1ull << (bit % 64);
	return bit / 64 + (half << (log2 - 6));
}

bool xl4_gvbits_test(const struct xl4_gvbits *v, __u32 half, const struct xl4_guard_src *src)
{
	__u64 mask;
	__u32 i = vbit_word(v->log2, half, src, &mask);

	return __atomic_load_n(&v->w[i], __ATOMIC_RELAXED) & mask;
}

void xl4_guard_vbits_add(__u64 *w, __u32 log2, bool cookie, const struct xl4_guard_src *src)
{
	__u64 mask;
	__u32 i = vbit_word(log2, XL4_GUARD_VBITS_ANY, src, &mask);

	/* atomic: w may be the live, mapped words (the rebuild) */
	__atomic_fetch_or(&w[i], mask, __ATOMIC_RELAXED);
	if (cookie) {
		i = vbit_word(log2, XL4_GUARD_VBITS_COOKIE, src, &mask);
		__atomic_fetch_or(&w[i], mask, __ATOMIC_RELAXED);
	}
}

void xl4_gvbits_snapshot(struct xl4_gvbits *live, __u64 *before)
{
	for (__u32 i = 0; live->fresh_set && i < live->words / 2; i++)
		__atomic_store_n(&live->fresh_set[i], 0, __ATOMIC_SEQ_CST);
	for (__u32 i = 0; i < live->words; i++)
		before[i] = __atomic_load_n(&live->w[i], __ATOMIC_SEQ_CST);
}

/* The bits proofs set since the snapshot, in the word that matches live word i. */
static __u64 proved_since(const struct xl4_gvbits *live, __u32 i)
{
	__u32 half = live->words / 2;

	return live->fresh_set ?
		       __atomic_load_n(&live->fresh_set[i & (half - 1)], __ATOMIC_SEQ_CST) :
		       0;
}

long xl4_guard_vbits_refresh(struct xl4_gvbits *live, const __u64 *fresh, const __u64 *before)
{
	long set = 0;

	for (__u32 i = 0; i < live->words; i++) {
		/* the live word first, then the proofs' (the datapath writes them the other way) */
		__u64 cur = __atomic_load_n(&live->w[i], __ATOMIC_SEQ_CST), want, late;

		do
			want = fresh[i] | (cur & (~before[i] | proved_since(live, i)));
		while (want != cur &&
		       !__atomic_compare_exchange_n(&live->w[i], &cur, want, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
		/* A proof whose live OR found its bit set already (a stale source's) changed
		 * nothing the swap could see: if its new bit came after the read above, the swap
		 * cleared its bit. Read the proofs' word again and put such bits back; a proof
		 * later than this read ORs its live bit after the swap, and keeps it itself. */
		late = cur & ~want & proved_since(live, i);
		if (late) {
			__atomic_fetch_or(&live->w[i], late, __ATOMIC_SEQ_CST);
			want |= late;
		}
		set += __builtin_popcountll(want);
	}
	return set;
}

/* Every key of one verified table into bits; the number of keys, or -errno. Bounded: a program
 * still running on the pinned table may evict the key the walk stands on, and the walk then
 * starts over from the first key; twice the table's size is enough for every key present. */
static long add_table(struct xl4_gvbits *v, int fd, bool cookie)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct xl4_guard_src key, next;
	long n = 0, max;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	max = 2L * info.max_entries;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err && n < max;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		xl4_guard_vbits_add(v->w, v->log2, cookie, &next);
		key = next;
		n++;
	}
	return err && errno != ENOENT ? -errno : n;
}

int xl4_guard_vbits_rebuild(int vbits_fd, int ver_fd, int verc_fd)
{
	struct xl4_gvbits v;
	long a = 0, b = 0;
	int err = xl4_gvbits_map(&v, vbits_fd, -1);

	if (err)
		return err;
	if (ver_fd >= 0)
		a = add_table(&v, ver_fd, false);
	if (verc_fd >= 0)
		b = add_table(&v, verc_fd, true);
	xl4_gvbits_unmap(&v);
	if (a < 0 || b < 0)
		return (int)(a < 0 ? a : b);
	return (int)(a + b);
}
