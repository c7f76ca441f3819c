// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "log.h"
#include "vip_index.h"

/* Salts tried after the one in use: any fixed sequence does (the daemon and a restarted one
 * agree, and nothing depends on which salt wins). 64 VIPs in 4096 slots are parted by a
 * random salt six times in ten, so a few tries nearly always do. */
#define SALT_TRIES 64

int xl4_vip_index_fill(struct xl4_vip_index *ix, const struct xl4_vip_key *keys, const __u32 *ids,
		       int n, __u32 salt)
{
	int clashes = 0;

	memset(ix, 0, sizeof(*ix));
	ix->salt = salt;
	for (int i = 0; i < n; i++) {
		__u8 *slot = &ix->id1[xl4_vip_slot(&keys[i], salt) & (XL4_VIP_INDEX_SLOTS - 1)];

		if (*slot || ids[i] >= XL4_MAX_VIPS)
			clashes++;
		else
			*slot = ids[i] + 1;
	}
	return clashes;
}

int xl4_vip_index_build(struct xl4_vip_index *ix, const struct xl4_vip_key *keys, const __u32 *ids,
			int n, __u32 prefer)
{
	struct xl4_vip_index best;
	__u32 best_salt = prefer;
	int fewest = xl4_vip_index_fill(ix, keys, ids, n, prefer);

	for (__u32 t = 1; t <= SALT_TRIES && fewest; t++) {
		__u32 salt = t * 0x9e3779b9u;
		int c = xl4_vip_index_fill(&best, keys, ids, n, salt);

		if (c < fewest)
			fewest = c, best_salt = salt;
	}
	if (best_salt != ix->salt)
		xl4_vip_index_fill(ix, keys, ids, n, best_salt);
	return fewest;
}

int xl4_vip_index_write(int vips_fd, int vipkey_fd, int vidx_fd)
{
	static struct xl4_vip_index ix, cur; /* 4 KiB each: off the stack */
	static int clashes_said; /* say it once per change */
	struct xl4_vip_key keys[XL4_MAX_VIPS], key, next;
	__u32 ids[XL4_MAX_VIPS], zero = 0;
	struct xl4_vip val;
	void *prev = NULL;
	int n = 0, clashes;

	while (n < XL4_MAX_VIPS && bpf_map_get_next_key(vips_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(vips_fd, &key, &val) || val.id >= XL4_MAX_VIPS)
			continue;
		/* the key before the index: whatever slot names the id finds it */
		if (bpf_map_update_elem(vipkey_fd, &val.id, &key, BPF_ANY))
			return -errno;
		keys[n] = key;
		ids[n++] = val.id;
	}
	if (bpf_map_lookup_elem(vidx_fd, &zero, &cur))
		return -errno;
	clashes = xl4_vip_index_build(&ix, keys, ids, n, cur.salt);
	if (clashes && clashes != clashes_said)
		pr_info("VIP index: %d of %d VIPs share a slot with another under every salt tried: "
			"found by the VIP hash table instead (~30 ns more per SYN and new flow)",
			clashes, n);
	clashes_said = clashes;
	if (!memcmp(&ix, &cur, sizeof(ix)))
		return 0;
	return bpf_map_update_elem(vidx_fd, &zero, &ix, BPF_ANY) ? -errno : 0;
}

int xl4_vip_index_clear(int vidx_fd)
{
	static struct xl4_vip_index ix;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(vidx_fd, &zero, &ix))
		ix.salt = 0;
	memset(ix.id1, 0, sizeof(ix.id1));
	return bpf_map_update_elem(vidx_fd, &zero, &ix, BPF_ANY) ? -errno : 0;
}

bool xl4_vip_index_names_any(int vidx_fd)
{
	static struct xl4_vip_index ix;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(vidx_fd, &zero, &ix))
		return false;
	for (__u32 i = 0; i < XL4_VIP_INDEX_SLOTS; i++)
		if (ix.id1[i])
			return true;
	return false;
}

void xl4_vip_index_quiesce(void)
{
	/* MEMBARRIER_CMD_GLOBAL is synchronize_rcu(), and every XDP run is an RCU read-side
	 * section (on one online CPU the kernel skips it: no run can be under way while this
	 * thread runs, unless softirqs are preemptible, as on PREEMPT_RT). Kernels with nohz_full
	 * CPUs refuse it: a run takes microseconds, so a pause many times longer stands in. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(50 * 1000);
}
