// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "engine.h"
#include "conntrack.h"
#include "guard_vbits.h"
#include "log.h"
#include "xl4/abi.h"
#include "xl4.skel.h"

static int pin_map(struct bpf_map *map, const char *pin_path, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	return bpf_map__set_pin_path(map, path);
}


/* The maps a daemon pins, and where their fds go in struct xl4_engine. Not xl4_rate_v1:
 * buckets refill in a second, and an unpinned table can change size (filter.rate_table_size)
 * without 'xl4 cleanup'. */
#define REBUILT "settings, rebuilt from the config"
/* v1 index slots hold plain entry ids; v2 ones may be direct (abi.h), which a v1 reader would
 * take for an id past its entries: a new name, and the index built again from the trie. */
#define D24_REBUILT "the IPv4 list's index, rebuilt from the list itself (its trie)"
#define LBF(f) offsetof(struct xl4_engine, lb.f)
#define FF(f) offsetof(struct xl4_engine, filter.f)
#define GF(f) offsetof(struct xl4_engine, guard.f)
static const struct {
	const char *name; /* its pin's name, and the map's in the object unless obj says */
	const char *obj;  /* a map read by address: its data section (bpf/maps.h XL4_BY_ADDRESS) */
	size_t fd_off;
	const char *key; /* the setting that sizes it, for "needs 'xl4 cleanup'" messages */
	const char *replaced; /* an older version's pin is replaced, not a reason to refuse,
			       * because this is all it holds that a restart does not rebuild
			       * (NULL: state a restart must keep) */
} pinned_maps[] = {
	{ XL4_MAP_STATS, NULL, offsetof(struct xl4_engine, stats_fd), NULL, NULL },
	{ XL4_MAP_EVENTS, NULL, offsetof(struct xl4_engine, events_fd), NULL, NULL },
	{ XL4_MAP_VIPS, NULL, LBF(vips), NULL, NULL },
	{ XL4_MAP_VIP_ADDRS, NULL, LBF(vaddr), NULL, NULL },
	{ XL4_MAP_VIP_BITS, ".data.vbits", LBF(vbits), NULL, NULL },
	{ XL4_MAP_VIP_BY_ID, NULL, LBF(vipid), NULL, NULL },
	{ XL4_MAP_VIP_KEYS, NULL, LBF(vipkey), NULL, NULL },
	{ XL4_MAP_VIP_INDEX, ".data.vidx", LBF(vidx), NULL, NULL },
	{ XL4_MAP_BACKENDS, NULL, LBF(backends), NULL, NULL },
	{ XL4_MAP_BACKEND_VIP, NULL, LBF(bevip), NULL, "each backend's VIP, rebuilt from the backends" },
	{ XL4_MAP_RING, NULL, LBF(ring), "lb.table_size", NULL },
	{ XL4_MAP_CT, NULL, LBF(ct), "lb.conntrack.max_entries, ipv6_max_entries or per_cpu_lru", NULL },
	{ XL4_MAP_CT4, NULL, LBF(ct4), "lb.conntrack.max_entries or lb.conntrack.per_cpu_lru", NULL },
	{ XL4_MAP_LB_GLOBALS, ".data.lbglob", LBF(globals), NULL, NULL },
	{ XL4_MAP_FCACHE_GEN, ".data.fcgen", LBF(fcgen), NULL,
	  "the flow cache's generation (a program's cache starts empty)" },
	{ XL4_MAP_ICMP_CFG, ".data.icmpcfg", LBF(icmp), NULL, REBUILT },
	{ XL4_MAP_VIP_STATS, NULL, LBF(vstats), NULL,
	  "the VIPs' counters: each VIP's total carried over into " XL4_MAP_VIP_RETIRED
	  " (src/lb_counters.c)" },
	{ XL4_MAP_VIP_RETIRED, NULL, LBF(vretired), NULL, NULL },
	{ XL4_MAP_BE_STATS, NULL, LBF(bstats), NULL, NULL },
	{ XL4_MAP_ALLOW4, NULL, FF(allow4), NULL, NULL },
	{ XL4_MAP_ALLOW6, NULL, FF(allow6), NULL, NULL },
	{ XL4_MAP_BLOCK4, NULL, FF(block4), NULL, NULL },
	{ XL4_MAP_BLOCK6, NULL, FF(block6), NULL, NULL },
	{ XL4_MAP_ALLOW4_IDX, NULL, FF(a4idx), NULL, D24_REBUILT },
	{ XL4_MAP_ALLOW4_GRP, NULL, FF(a4grp), NULL, D24_REBUILT },
	{ XL4_MAP_ALLOW4_ENT, NULL, FF(a4ent), NULL, D24_REBUILT },
	{ XL4_MAP_BLOCK4_IDX, NULL, FF(b4idx), NULL, D24_REBUILT },
	{ XL4_MAP_BLOCK4_GRP, NULL, FF(b4grp), "filter.ipv4_groups", D24_REBUILT },
	{ XL4_MAP_BLOCK4_ENT, NULL, FF(b4ent), NULL, D24_REBUILT },
	{ XL4_MAP_RULE_DST, NULL, FF(rdst), NULL, NULL },
	{ XL4_MAP_RULE_PORT, NULL, FF(rport), NULL, NULL },
	{ XL4_MAP_RULE_STATS, NULL, FF(rstats), NULL, NULL },
	{ XL4_MAP_FILTER_GLOBALS, ".data.fglob", FF(fglob), NULL, NULL },
	/* the guard: its settings, cookie keys (outstanding cookies stay valid), modes, counters,
	 * slot tables and verified sources; not the challenge budget, the windows or the source
	 * sketches (they refill within a second) */
	{ XL4_MAP_GUARD_CFG, ".data.gcfg", GF(cfg), NULL, REBUILT },
	{ XL4_MAP_GUARD_COOKIE_KEYS, ".data.gckey", GF(ckey), NULL, NULL },
	{ XL4_MAP_GUARD_CTL, NULL, GF(ctl), NULL, NULL },
	{ XL4_MAP_GUARD_VIP, NULL, GF(vip), NULL, NULL },
	{ XL4_MAP_GUARD_STATS, NULL, GF(stats), NULL,
	  "the guard's windows and counters, which start again from zero (the modes, in "
	  XL4_MAP_GUARD_VIP ", are kept)" },
	{ XL4_MAP_GUARD_GREY, NULL, GF(grey), "guard.greylist_slots", NULL },
	{ XL4_MAP_GUARD_SYN, NULL, GF(syn), "guard.syn_slots", NULL },
	{ XL4_MAP_GUARD_VERIFIED, NULL, GF(ver), "guard.verified_max", NULL },
	{ XL4_MAP_GUARD_VERIFIED_COOKIE, NULL, GF(verc), "guard.verified_max", NULL },
};
#define N_PINNED (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

/* Pinned map i in the object. */
static struct bpf_map *pinned_map(struct xl4_bpf *skel, size_t i)
{
	return bpf_object__find_map_by_name(skel->obj,
					    pinned_maps[i].obj ? pinned_maps[i].obj : pinned_maps[i].name);
}

int xl4_engine_pinned_fd(const struct xl4_engine *e, size_t i)
{
	if (i >= N_PINNED)
		return -ENOENT;
	return *(const int *)((const char *)e + pinned_maps[i].fd_off);
}

bool xl4_engine_pin_name_known(const char *name)
{
	for (size_t i = 0; i < N_PINNED; i++)
		if (!strcmp(pinned_maps[i].name, name))
			return true;
	return false;
}

const char *xl4_engine_pin_replaced(const char *name)
{
	for (size_t i = 0; i < N_PINNED; i++)
		if (!strcmp(pinned_maps[i].name, name))
			return pinned_maps[i].replaced;
	return NULL;
}

/* The size the kernel gives a per-CPU LRU hash of n entries: a multiple of the possible CPUs
 * (htab_map_alloc() rounds up). Asked for outright, so the map a restart asks for has the size
 * of the one pinned (libbpf and pins_fit() compare them: n itself would be refused on a machine
 * whose CPU count does not divide it). */
static __u32 per_cpu_lru_size(__u32 n)
{
	int cpus = libbpf_num_possible_cpus();

	return cpus > 1 ? (n + cpus - 1) / cpus * cpus : n;
}

/* libbpf would refuse a pinned map whose type, sizes or flags differ from this build's with a
 * bare -EINVAL; check first and name the map and the setting. The running datapath keeps its
 * state in the old map, so this is a refusal, never a silent reset. */
static int pins_fit(struct xl4_bpf *skel, const char *pin_path)
{
	for (size_t i = 0; i < N_PINNED; i++) {
		struct bpf_map *m = pinned_map(skel, i);
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", pin_path, pinned_maps[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* not pinned yet: created at load */
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			close(fd);
			continue;
		}
		close(fd);
		if (info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
		    info.value_size == bpf_map__value_size(m) &&
		    info.max_entries == bpf_map__max_entries(m) && info.map_flags == bpf_map__map_flags(m))
			continue;
		pr_warn("cannot reuse the pinned map %s: it holds %u entries of %u+%u bytes (flags 0x%x), "
			"this %s needs %u entries of %u+%u bytes (flags 0x%x). The running datapath keeps "
			"its state there, so xl4 will not replace it: keep the old setting, or stop "
			"traffic with 'xl4 detach' and remove the pins with 'xl4 cleanup' (every flow "
			"loses its backend)", path, info.max_entries, info.key_size, info.value_size,
			info.map_flags, pinned_maps[i].key ? pinned_maps[i].key : "build of xl4 (map layout)",
			bpf_map__max_entries(m), bpf_map__key_size(m), bpf_map__value_size(m),
			bpf_map__map_flags(m));
		return -ESTALE;
	}
	return 0;
}

/* The flow cache's slots per CPU, and the slot index's shift the datapath reads (0: off). */
static int fcache_size(struct xl4_bpf *skel, const struct xl4_engine_opts *o)
{
	__u32 slots = o->fcache_slots ? o->fcache_slots : XL4_FCACHE_SLOTS_DEFAULT;

	if (o->fcache_off) {
		skel->rodata->cfg_fcache_shift = 0;
		return bpf_map__set_max_entries(skel->maps.xl4_fcache_v1, 1);
	}
	if (!xl4_fcache_slots_ok(slots)) {
		pr_warn("flow cache of %u slots: want a power of two from %u to %u, or 0 (off)",
			slots, XL4_FCACHE_SLOTS_MIN, XL4_FCACHE_SLOTS_MAX);
		return -EINVAL;
	}
	skel->rodata->cfg_fcache_shift = 64 - __builtin_ctz(slots);
	return bpf_map__set_max_entries(skel->maps.xl4_fcache_v1, slots);
}

/* Open the object and size its maps as o says: nothing in the kernel yet. */
static int engine_open_sized(const struct xl4_engine_opts *o, struct xl4_bpf **out)
{
	struct xl4_bpf *skel;
	struct bpf_map *m;
	__u32 ring_size, ct4, ct6;
	int err;

	/* open: parse the object */
	skel = xl4_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	/* set rodata: the verifier sees these as constants and prunes what is off */
	skel->rodata->cfg_frag_policy = o->frag_policy;
	skel->rodata->cfg_sample_per_sec = o->sample_per_sec;
	skel->rodata->cfg_trace = o->trace;
	skel->rodata->cfg_test_clock = o->test_clock;
	/* the maps read by address (".data.*", bpf/maps.h XL4_BY_ADDRESS) are the one-entry
	 * arrays of earlier builds, whose pins they reuse: without the BPF_F_MMAPABLE libbpf
	 * gives a data section */
	bpf_object__for_each_map(m, skel->obj)
		if (!strncmp(bpf_map__name(m), ".data.", 6))
			bpf_map__set_map_flags(m, 0);

	/* size: the Maglev ring holds two tables per VIP; conntrack as configured */
	ring_size = o->ring_size ? o->ring_size : XL4_RING_SIZE_DEFAULT;
	if (ring_size > XL4_RING_SIZE_MAX) {
		pr_warn("Maglev table size %u is above the maximum %u", ring_size, XL4_RING_SIZE_MAX);
		err = -EINVAL;
		goto fail;
	}
	bpf_map__set_max_entries(skel->maps.xl4_ring_v1, XL4_MAX_VIPS * 2 * ring_size);
	/* each family's connection table: lb.conntrack.max_entries flows, or for IPv6
	 * lb.conntrack.ipv6_max_entries */
	ct4 = o->ct_max ? o->ct_max : bpf_map__max_entries(skel->maps.xl4_ct4_v1);
	ct6 = o->ct6_max ? o->ct6_max : ct4;
	if (o->ct_per_cpu_lru) {
		bpf_map__set_map_flags(skel->maps.xl4_ct_v1, BPF_F_NO_COMMON_LRU);
		bpf_map__set_map_flags(skel->maps.xl4_ct4_v1, BPF_F_NO_COMMON_LRU);
		ct4 = per_cpu_lru_size(ct4);
		ct6 = per_cpu_lru_size(ct6);
	}
	bpf_map__set_max_entries(skel->maps.xl4_ct4_v1, ct4);
	bpf_map__set_max_entries(skel->maps.xl4_ct_v1, ct6);
	if (o->rate_max)
		bpf_map__set_max_entries(skel->maps.xl4_rate_v1, o->rate_max);
	/* the established lane's flow cache (lb.conntrack.flow_cache): one slot when off */
	err = fcache_size(skel, o);
	if (err)
		goto fail;
	/* the IPv4 blocklist's second-level groups (filter.ipv4_groups), 1 KiB each */
	if (o->block4_groups)
		bpf_map__set_max_entries(skel->maps.xl4_b4grp_v2,
					 o->block4_groups * (XL4_D24_GROUP_LEAVES / XL4_D24_ROW));
	/* the guard's slot tables and verified sources, as configured (guard.*_slots) */
	/* the greylist holds its slots in buckets of XL4_GUARD_GREY_WAYS */
	if (o->guard_grey_slots)
		bpf_map__set_max_entries(skel->maps.xl4_ggrey_v1,
					 o->guard_grey_slots / XL4_GUARD_GREY_WAYS);
	if (o->guard_syn_slots)
		bpf_map__set_max_entries(skel->maps.xl4_gsyn_v1, o->guard_syn_slots);
	if (o->guard_verified_max) {
		bpf_map__set_max_entries(skel->maps.xl4_gver_v1, o->guard_verified_max);
		bpf_map__set_max_entries(skel->maps.xl4_gverc_v1, o->guard_verified_max);
	}
	/* their presence bits: a half per table, 4 per source it may hold (include/xl4/abi.h) */
	skel->rodata->cfg_gvbits_log2 =
		xl4_guard_vbits_log2(bpf_map__max_entries(skel->maps.xl4_gver_v1));
	bpf_map__set_max_entries(skel->maps.xl4_gvbit_v1, 2u << (skel->rodata->cfg_gvbits_log2 - 6));
	bpf_map__set_max_entries(skel->maps.xl4_gvnew_v1, 1u << (skel->rodata->cfg_gvbits_log2 - 6));
	*out = skel;
	return 0;
fail:
	xl4_bpf__destroy(skel);
	return err;
}

int xl4_engine_pins_fit(const struct xl4_engine_opts *o)
{
	struct xl4_bpf *skel;
	int err = engine_open_sized(o, &skel);

	if (err)
		return err;
	err = o->pin_path ? pins_fit(skel, o->pin_path) : 0;
	xl4_bpf__destroy(skel);
	return err;
}

int xl4_engine_load(struct xl4_engine *e, const struct xl4_engine_opts *o)
{
	struct xl4_bpf *skel;
	int err;

	memset(e, 0, sizeof(*e));
	if ((err = engine_open_sized(o, &skel)))
		return err;

	/* pin: shared state (counters, events, the LB tables and connections) outlives the
	 * daemon, so a restart keeps every flow; scratch maps stay private */
	if (o->pin_path) {
		for (size_t i = 0; i < N_PINNED; i++) {
			struct bpf_map *m = pinned_map(skel, i);

			if (!m || (err = pin_map(m, o->pin_path, pinned_maps[i].name)))
				goto fail;
		}
		/* a pin with another size or layout cannot be reused: say which and why */
		if ((err = pins_fit(skel, o->pin_path)))
			goto fail;
	}
	/* load: maps created or reused from pins, program verified */
	err = xl4_bpf__load(skel);
	if (err) {
		pr_warn("cannot load the XDP program: %s%s", strerror(-err),
			err == -EINVAL ? " (a pinned map with another size or layout, e.g. after a changed "
					 "Maglev table size, filter.rate_table_size or guard.greylist_slots, syn_slots or "
					 "verified_max: 'xl4 cleanup' removes old pins; "
					 "or a verifier rejection: run with -vv)" :
					 " (run with -vv for the verifier log)");
		goto fail;
	}
	/* clock: jiffies measured against CLOCK_MONOTONIC (the test clock needs nothing) */
	if (!o->test_clock) {
		struct xl4_clock c = { 0 };
		__u32 zero = 0;

		err = xl4_clock_calibrate(bpf_program__fd(skel->progs.xl4_clock_probe), &c);
		if (err)
			pr_warn("cannot measure the kernel's jiffies (%s): the datapath reads the "
				"coarse kernel clock instead (~20 ns more per packet)", strerror(-err));
		else if (bpf_map_update_elem(bpf_map__fd(skel->maps.data_clock), &zero, &c, BPF_ANY))
			pr_warn("cannot write the datapath's clock: %s", strerror(errno));
		else
			pr_debug("datapath clock: HZ %llu, offset %lld ns", 1000000000ull / c.tick_ns,
				 (long long)c.offset_ns);
	}
	e->skel = skel;
	e->prog_fd = bpf_program__fd(skel->progs.xl4_xdp);
	e->stats_fd = bpf_map__fd(skel->maps.xl4_stats_v1);
	e->events_fd = bpf_map__fd(skel->maps.xl4_events_v1);
	e->trace_fd = bpf_map__fd(skel->maps.xl4_trace_v1);
	e->lb = (struct xl4_lb_maps){
		.vips = bpf_map__fd(skel->maps.xl4_vips_v1),
		.vaddr = bpf_map__fd(skel->maps.xl4_vaddr_v1),
		.vbits = bpf_map__fd(skel->maps.data_vbits),
		.vipid = bpf_map__fd(skel->maps.xl4_vipid_v1),
		.vipkey = bpf_map__fd(skel->maps.xl4_vipkey_v1),
		.vidx = bpf_map__fd(skel->maps.data_vidx),
		.backends = bpf_map__fd(skel->maps.xl4_backends_v1),
		.bevip = bpf_map__fd(skel->maps.xl4_bevip_v1),
		.ring = bpf_map__fd(skel->maps.xl4_ring_v1),
		.ct = bpf_map__fd(skel->maps.xl4_ct_v1),
		.ct4 = bpf_map__fd(skel->maps.xl4_ct4_v1),
		.fcgen = bpf_map__fd(skel->maps.data_fcgen),
		.globals = bpf_map__fd(skel->maps.data_lbglob),
		.icmp = bpf_map__fd(skel->maps.data_icmpcfg),
		.vstats = bpf_map__fd(skel->maps.xl4_vstats_v2),
		.vretired = bpf_map__fd(skel->maps.xl4_vretired_v1),
		.vstats_old = -1,
		.bstats = bpf_map__fd(skel->maps.xl4_bstats_v1),
		.gctl = bpf_map__fd(skel->maps.xl4_gctl_v1),
		.gvip = bpf_map__fd(skel->maps.xl4_gvip_v1),
		.gstat = bpf_map__fd(skel->maps.xl4_gstat_v2),
		.gwin = bpf_map__fd(skel->maps.xl4_gwin_v1),
		.gsrc = bpf_map__fd(skel->maps.xl4_gsrc_v2),
		.ring_size = o->ring_size ? o->ring_size : XL4_RING_SIZE_DEFAULT,
	};
	e->guard = (struct xl4_guard_maps){
		.cfg = bpf_map__fd(skel->maps.data_gcfg),
		.ctl = bpf_map__fd(skel->maps.xl4_gctl_v1),
		.vip = bpf_map__fd(skel->maps.xl4_gvip_v1),
		.stats = bpf_map__fd(skel->maps.xl4_gstat_v2),
		.ver = bpf_map__fd(skel->maps.xl4_gver_v1),
		.verc = bpf_map__fd(skel->maps.xl4_gverc_v1),
		.grey = bpf_map__fd(skel->maps.xl4_ggrey_v1),
		.syn = bpf_map__fd(skel->maps.xl4_gsyn_v1),
		.ckey = bpf_map__fd(skel->maps.data_gckey),
		.vbit = bpf_map__fd(skel->maps.xl4_gvbit_v1),
		.vnew = bpf_map__fd(skel->maps.xl4_gvnew_v1),
		.grey_slots = bpf_map__max_entries(skel->maps.xl4_ggrey_v1) * XL4_GUARD_GREY_WAYS,
		.syn_slots = bpf_map__max_entries(skel->maps.xl4_gsyn_v1),
	};
	/* The tables may be pins an earlier program filled: their sources' bits, or each would
	 * be asked to prove itself again. Before this program is attached; a source the old one
	 * proves from now until then gets no bit here and proves itself once more. */
	err = xl4_guard_vbits_rebuild(e->guard.vbit, e->guard.ver, e->guard.verc);
	if (err < 0)
		pr_warn("cannot rebuild the guard's verified-source bits: %s (their sources must "
			"prove themselves again)", strerror(-err));
	else if (err > 0)
		pr_debug("guard: %d verified sources from the pinned tables", err);
	/* Pins of a build before the per-family tables hold IPv4 flows in xl4_ct_v1, where the
	 * old program, attached until this one replaces it, still serves them: copied now, moved
	 * once this one is attached (xl4_ct_split_pins() from the daemon) */
	if (o->pin_path)
		xl4_ct_split_pins(e->lb.ct, e->lb.ct4, e->lb.fcgen, false);
	e->filter = (struct xl4_filter_maps){
		.allow4 = bpf_map__fd(skel->maps.xl4_allow4_v1),
		.allow6 = bpf_map__fd(skel->maps.xl4_allow6_v1),
		.block4 = bpf_map__fd(skel->maps.xl4_block4_v1),
		.block6 = bpf_map__fd(skel->maps.xl4_block6_v1),
		.rdst = bpf_map__fd(skel->maps.xl4_rdst_v1),
		.rport = bpf_map__fd(skel->maps.xl4_rport_v1),
		.rstats = bpf_map__fd(skel->maps.xl4_rstats_v1),
		.fglob = bpf_map__fd(skel->maps.data_fglob),
		.a4idx = bpf_map__fd(skel->maps.xl4_a4idx_v2),
		.a4grp = bpf_map__fd(skel->maps.xl4_a4grp_v2),
		.a4ent = bpf_map__fd(skel->maps.xl4_a4ent_v2),
		.b4idx = bpf_map__fd(skel->maps.xl4_b4idx_v2),
		.b4grp = bpf_map__fd(skel->maps.xl4_b4grp_v2),
		.b4ent = bpf_map__fd(skel->maps.xl4_b4ent_v2),
		.index_check = o->pin_path != NULL,
	};
	return 0;
fail:
	xl4_bpf__destroy(skel);
	return err;
}

int xl4_prog_map_ids(int prog_fd, __u32 *ids, __u32 max)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	info.nr_map_ids = max;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	return (int)(info.nr_map_ids < max ? info.nr_map_ids : max);
}

/* A map of program prog_fd by name, opened (an fd), or -errno. */
static int prog_map_by_name(int prog_fd, const char *name)
{
	__u32 ids[64];
	int n = xl4_prog_map_ids(prog_fd, ids, 64);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct bpf_map_info m = {};
		__u32 mlen = sizeof(m);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &m, &mlen) && !strcmp(m.name, name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int xl4_engine_adopt(struct xl4_engine *e, const char *pin_path, __u32 prog_id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512];

	memset(e, 0, sizeof(*e));
	e->trace_fd = -1;
	for (size_t i = 0; i < N_PINNED; i++)
		*(int *)((char *)e + pinned_maps[i].fd_off) = -1;
	e->guard.vbit = e->guard.vnew = -1;
	e->lb.gwin = e->lb.gsrc = e->lb.vstats_old = -1;
	e->adopted = true;
	e->prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (e->prog_fd < 0)
		goto fail;
	for (size_t i = 0; i < N_PINNED; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", pin_path, pinned_maps[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			goto fail;
		*(int *)((char *)e + pinned_maps[i].fd_off) = fd;
	}
	if (bpf_obj_get_info_by_fd(e->lb.ring, &info, &len))
		goto fail;
	e->lb.ring_size = info.max_entries / (XL4_MAX_VIPS * 2);
	/* the LB resets a new VIP's guard entries through its own copies of these fds */
	e->lb.gctl = e->guard.ctl;
	e->lb.gvip = e->guard.vip;
	e->lb.gstat = e->guard.stats;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(e->guard.grey, &info, &len))
		goto fail;
	e->guard.grey_slots = info.max_entries * XL4_GUARD_GREY_WAYS;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(e->guard.syn, &info, &len))
		goto fail;
	e->guard.syn_slots = info.max_entries;
	/* not pinned: the running program's own, found among its maps */
	e->lb.gwin = prog_map_by_name(e->prog_fd, XL4_MAP_GUARD_WINDOWS);
	e->lb.gsrc = prog_map_by_name(e->prog_fd, XL4_MAP_GUARD_SOURCES);
	e->guard.vbit = prog_map_by_name(e->prog_fd, XL4_MAP_GUARD_VBITS);
	e->guard.vnew = prog_map_by_name(e->prog_fd, XL4_MAP_GUARD_VBITS_NEW);
	if (e->guard.vbit < 0 || e->guard.vnew < 0)
		pr_warn("the running program has no %s or %s: the guard's verified-source bits are "
			"not refreshed until it is replaced ('xl4 daemon --upgrade')",
			XL4_MAP_GUARD_VBITS, XL4_MAP_GUARD_VBITS_NEW);
	return 0;
fail:
	pr_warn("cannot adopt the running datapath (program id %u, pins in %s): %s", prog_id,
		pin_path, strerror(errno));
	xl4_engine_close(e);
	return -errno ?: -ENOENT;
}

void xl4_engine_close(struct xl4_engine *e)
{
	if (e->skel)
		xl4_bpf__destroy(e->skel);
	if (e->adopted) {
		/* fds we opened ourselves (no skeleton owns them) */
		if (e->prog_fd >= 0)
			close(e->prog_fd);
		for (size_t i = 0; i < N_PINNED; i++) {
			int fd = *(int *)((char *)e + pinned_maps[i].fd_off);

			if (fd >= 0)
				close(fd);
		}
		if (e->lb.gwin >= 0)
			close(e->lb.gwin);
		if (e->lb.gsrc >= 0)
			close(e->lb.gsrc);
		if (e->guard.vbit >= 0)
			close(e->guard.vbit);
		if (e->guard.vnew >= 0)
			close(e->guard.vnew);
	}
	if (e->lb.vstats_old > 0) /* xl4_datapath_open()'s (> 0: an engine never loaded holds 0s) */
		close(e->lb.vstats_old);
	memset(e, 0, sizeof(*e));
}

/* FNV-1a over n bytes: identity, not security. */
static __u64 fnv1a(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

__u64 xl4_engine_fingerprint(const struct xl4_engine_opts *o)
{
	/* every knob the loader applies, map sizes included: a daemon restarted with another
	 * size must not adopt the program (and keep its maps) as if nothing had changed; it loads
	 * a new one, and pins_fit() refuses the old pins by the setting's name. The sizes are
	 * taken as the loader sets them, so a setting written out at its default (262,144
	 * connections) is the same program as the setting left out. */
	struct {
		__u32 frag_policy, sample_per_sec;
		__u8 trace, test_clock, pad[2];
	} knobs = { o->frag_policy, o->sample_per_sec, o->trace, o->test_clock, { 0 } };
	size_t sz = 0;
	const void *elf = xl4_bpf__elf_bytes(&sz);
	__u64 h = fnv1a(0xcbf29ce484222325ull, elf, sz);
	struct xl4_bpf *skel;
	struct bpf_map *m;

	h = fnv1a(h, &knobs, sizeof(knobs));
	if (engine_open_sized(o, &skel)) {
		/* cannot happen once the object opens; then no running program matches */
		return h ^ 1;
	}
	bpf_object__for_each_map(m, skel->obj) {
		__u32 size[2] = { bpf_map__max_entries(m), bpf_map__map_flags(m) };

		h = fnv1a(h, size, sizeof(size));
	}
	xl4_bpf__destroy(skel);
	return h;
}

static __u32 mode_flags(enum xl4_xdp_mode mode)
{
	return mode == XL4_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

int xl4_xdp_attach(int ifindex, int prog_fd, enum xl4_xdp_mode mode, enum xl4_xdp_mode *got)
{
	char name[IF_NAMESIZE] = "?";
	int err;

	if_indextoname(ifindex, name);
	err = bpf_xdp_attach(ifindex, prog_fd, mode_flags(mode) | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err == -EBUSY || err == -EEXIST) {
		pr_warn("%s: another XDP program is attached; detach it first "
			"(ip link set dev %s xdp off)", name, name);
		return err;
	}
	if (err && mode == XL4_MODE_AUTO) {
		pr_warn("%s: native XDP not available (%s); falling back to generic (skb) mode, "
			"which is much slower", name, strerror(-err));
		mode = XL4_MODE_SKB;
		err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
				     NULL);
	}
	if (err) {
		pr_warn("%s: cannot attach XDP in %s mode: %s", name, xl4_mode_name(mode),
			strerror(-err));
		return err;
	}
	*got = mode == XL4_MODE_AUTO ? XL4_MODE_NATIVE : mode;
	return 0;
}

int xl4_xdp_detach(int ifindex, int prog_fd, enum xl4_xdp_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd);

	/* XDP_FLAGS_REPLACE with an old fd: never remove a program someone else attached since. */
	return bpf_xdp_attach(ifindex, -1, mode_flags(mode) | XDP_FLAGS_REPLACE, &opts);
}

const char *xl4_mode_name(enum xl4_xdp_mode mode)
{
	switch (mode) {
	case XL4_MODE_NATIVE:
		return "native";
	case XL4_MODE_SKB:
		return "skb";
	default:
		return "auto";
	}
}

int xl4_mode_parse(const char *s, enum xl4_xdp_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = XL4_MODE_AUTO;
	else if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*mode = XL4_MODE_NATIVE;
	else if (!strcmp(s, "skb") || !strcmp(s, "generic"))
		*mode = XL4_MODE_SKB;
	else
		return -EINVAL;
	return 0;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int xl4_bpffs_prepare(const char *pin_path)
{
	char parent[512];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", pin_path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (!is_bpffs(parent)) {
		if (strcmp(parent, "/sys/fs/bpf")) {
			pr_warn("%s is not on a BPF filesystem (bpffs)", pin_path);
			return -ENOTDIR;
		}
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			pr_warn("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
			return -errno;
		}
		pr_info("mounted bpffs on /sys/fs/bpf");
	}
	/* Root-only: pinned maps expose counters and, later, the connection table. */
	if (mkdir(pin_path, 0700) && errno != EEXIST) {
		pr_warn("cannot create %s: %s", pin_path, strerror(errno));
		return -errno;
	}
	return 0;
}

int xl4_unpin_all(const char *pin_path)
{
	DIR *d = opendir(pin_path);
	struct dirent *de;
	char path[768];
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "xl4_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_path, de->d_name);
		if (unlink(path)) {
			err = -errno;
			pr_warn("cannot remove %s: %s", path, strerror(errno));
		}
	}
	closedir(d);
	if (!err && rmdir(pin_path) && errno != ENOTEMPTY)
		err = -errno;
	return err;
}

int xl4_pins_in_use(const char *pin_path, __u32 *prog_id)
{
	struct bpf_map_info minfo = {};
	__u32 len = sizeof(minfo), id = 0;
	char path[768];
	int fd, in_use = 0;

	snprintf(path, sizeof(path), "%s/%s", pin_path, XL4_MAP_STATS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &minfo, &len)) {
		close(fd);
		return 0;
	}
	close(fd);
	/* Any loaded program that uses this very map (by id) keeps the pins alive. */
	while (!in_use && bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info = {};
		__u32 map_ids[64], ilen = sizeof(info);
		int pfd = bpf_prog_get_fd_by_id(id);

		if (pfd < 0)
			continue;
		info.nr_map_ids = 64;
		info.map_ids = (__u64)(unsigned long)map_ids;
		if (!bpf_obj_get_info_by_fd(pfd, &info, &ilen)) {
			for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++) {
				if (map_ids[i] == minfo.id) {
					in_use = 1;
					*prog_id = id;
				}
			}
		}
		close(pfd);
	}
	return in_use;
}
