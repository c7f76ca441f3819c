// SPDX-License-Identifier: GPL-2.0
/*
 * Per-path cost of the real xl4 XDP program with BPF_PROG_TEST_RUN, next to references measured
 * in the same run, and conntrack lookup cost and memory at 1k / 1M / 10M flows.
 *
 *   xl4-bench [--runs N] [--repeat N] [--ct-sizes 1000,1000000,...] [--rl-sources N] [--out DIR]
 *             [--cpu N] [--only LABEL,LABEL,...] [-v]
 *
 * --only measures the rows with those labels (the plot labels: "l2 est", "block 1M"...) and the
 * baselines, nothing else: for profiling one path (perf record -C CPU) or a quick comparison.
 *
 * Every figure is ns/packet: the CPU time this thread spent in the test_run call
 * (CLOCK_THREAD_CPUTIME_ID: preemption excluded) over `repeat` repetitions, taken as the
 * median of N runs, with min..max. The kernel's own `duration` is the same average truncated
 * to whole ns: on a machine where XDP_PASS costs 6.9 ns it reads 6, and every ratio over it
 * was up to 15% high. It is kept as a cross-check: a run whose two figures disagree by more
 * than 1 ns + 2% (the call's own ~2 us over a million repetitions is 0.002 ns) is reported.
 * Rows are measured round-robin, so every row of round k shares the machine's state of that moment with its baselines, and a ratio is the median of the
 * per-round ratios row/baseline.
 *
 * Two methods (the "method" column):
 *   direct  the program under test runs `repeat` times on the same packet. Right for paths that
 *           leave the packet as they found it (pass, drop, l2 established: a MAC swap).
 *   driven  bench/drive.bpf.c runs first on every repetition: it restores the frame from a
 *           template (and strips any header the previous repetition prepended), optionally
 *           varies the flow, then tail-calls the program under test. Used for new flows (each
 *           repetition a flow never seen), port mode (it rewrites the destination port), ipip
 *           (it prepends a header) and conntrack at scale (random prefilled flows). Its
 *           baselines are the same driver tail-calling XDP_PASS and parse-then-drop.
 * Every row checks its verdict on every run, and the LB rows check the VIP's counters
 * (new flows / conntrack hits) against what the row claims to measure.
 *
 * Floor rows ("floor ...", bench/floor.bpf.c) do only the work no conntrack Maglev balancer can
 * skip on a path (xl4's parser, key, hash and map types and sizes; "floor ipip lane" also the
 * least xl4's contract adds to an established packet); a goal with a floor shows
 * the floor's ratio, computed the same way in the same rounds, under xl4's. The driven floors
 * also check after every run that the last flow their driver sent is in their table. The
 * established floors ask their table on every packet; xl4's flow cache (bpf/flow_cache.h)
 * does not for a flow whose copy is current, as in these rows (one flow, again and again),
 * so xl4 may go below them there: "l2 est nocache" is xl4 asking the table every time.
 *
 * xl4 is provisioned exactly as the daemon does it (xl4_engine_load, xl4_lb_init,
 * xl4_lb_vip_add, xl4_lb_backend_add with known MACs), with production defaults: Maglev table
 * 65537, conntrack 262144 entries (shared LRU), drop sampling 100/s, no insert cap, no trace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "engine.h"
#include "filter_state.h"
#include "guard_state.h"
#include "guard_vbits.h"
#include "lb_spec.h"
#include "lb_state.h"
#include "log.h"
#include "xl4/abi.h"
#include "hash.h"
#include "drive.skel.h"
#include "floor.skel.h"
#include "floor_block.skel.h"
#include "xl4.skel.h"
/* The fixtures' packet builder, compiled into this binary (named addresses, checksums). */
#include "pktbuild.c"

#define RUNS_MAX 31
#define ROWS_MAX 48
#define NBE 10			/* backends per VIP */
#define SEED 0x5eed1234u
#define FLOW_SRC 0xc6130000u	/* 198.19.0.0: driven flow i is 198.19.<i >> 14>, port 0x4000 | i */
#define FLOW_SPORT 0x4000
#define NOT_VIP4 0xc6123201u	/* 198.18.50.1 */
#define ROUTER4 0xc6120301u	/* 198.18.3.1 */

/* Where distributions put xdp-tools' BPF objects. */
static const char *const xdpfilter_dirs[] = {
	"/usr/lib/x86_64-linux-gnu/bpf",
	"/usr/lib/bpf",
	"/usr/share/xdp-tools",
};

static int verbose;
static int runs = 7;
static __u32 repeat = 1000000;

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || verbose)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void fatal(const char *what, int err)
{
	fprintf(stderr, "xl4-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* ---- xl4 worlds: one engine and its LB state ----------------------------------------------- */

struct world {
	struct xl4_engine e;
	struct xl4_lb lb;
	__u32 ct_max;
};

/* The next world_open()'s flow cache off (lb.conntrack.flow_cache = 0). */
static bool world_fcache_off;

static void world_open(struct world *w, __u32 ct_max, bool per_cpu_lru)
{
	struct xl4_engine_opts o = { .pin_path = NULL, .trace = false, .sample_per_sec = 100,
				     .ct_max = ct_max, .ct_per_cpu_lru = per_cpu_lru,
				     .fcache_off = world_fcache_off,
				     .ct6_max = 1024, /* one IPv6 row (l2 est v6): no big idle table */
				     .frag_policy = XL4_FRAG_PASS };
	struct xl4_lb_settings s = { .seed = SEED, .ct_inserts_per_sec = 0,
				     .ipip_src4 = htonl(0xc6126400u), .ipip_src4_mask = 0xff };
	int err;

	memset(w, 0, sizeof(*w));
	w->ct_max = ct_max;
	if ((err = xl4_engine_load(&w->e, &o)))
		fatal("xl4_engine_load", err);
	s.ring_size = w->e.lb.ring_size;
	inet_pton(AF_INET6, "2001:db8:ffff::5a00", s.ipip_src6);
	if ((err = xl4_lb_init(&w->lb, &w->e.lb, &s)))
		fatal("xl4_lb_init", err);
}

/* A VIP "198.18.1.<k>:80/tcp" in mode with NBE backends 198.18.<10 + k>.<j>[:be_port], MACs known
 * (has_mac, as after neighbour resolution); with k >= 100 the IPv6 VIP
 * "[2001:db8:1::<k in hex>]:80/tcp" with backends 2001:db8:<10 + k>::<j> (hex). Returns the VIP's id. */
static __u32 world_vip(struct world *w, int k, uint8_t mode, uint16_t be_port)
{
	struct xl4_vip_spec v;
	struct xl4_lb_vip *lv;
	char s[64], name[16], err[160];
	bool v6 = k >= 100;

	memset(&v, 0, sizeof(v));
	if (v6)
		snprintf(s, sizeof(s), "[2001:db8:1::%x]:80/tcp", k);
	else
		snprintf(s, sizeof(s), "198.18.1.%d:80/tcp", k);
	snprintf(name, sizeof(name), "vip%d", k);
	if (xl4_parse_vip_addr(s, &v, err, sizeof(err)) ||
	    xl4_parse_name(name, v.name, err, sizeof(err))) {
		fprintf(stderr, "xl4-bench: %s: %s\n", s, err);
		exit(1);
	}
	v.mode = mode;
	if (xl4_lb_vip_add(&w->lb, &v, err, sizeof(err))) {
		fprintf(stderr, "xl4-bench: vip add %s: %s\n", s, err);
		exit(1);
	}
	for (int j = 1; j <= NBE; j++) {
		struct xl4_backend_spec b;

		memset(&b, 0, sizeof(b));
		if (v6)
			snprintf(s, sizeof(s), "2001:db8:%x::%x", 10 + k, j);
		else if (be_port)
			snprintf(s, sizeof(s), "198.18.%d.%d:%u", 10 + k, j, be_port);
		else
			snprintf(s, sizeof(s), "198.18.%d.%d", 10 + k, j);
		if (xl4_parse_backend_addr(s, &b, err, sizeof(err))) {
			fprintf(stderr, "xl4-bench: backend %s: %s\n", s, err);
			exit(1);
		}
		b.weight = 1;
		b.has_mac = true;
		memcpy(b.mac, (uint8_t[6]){ 0x02, 0, 0, 0, (uint8_t)k, (uint8_t)j }, 6);
		if (xl4_lb_backend_add(&w->lb, name, &b, err, sizeof(err))) {
			fprintf(stderr, "xl4-bench: backend add %s: %s\n", s, err);
			exit(1);
		}
	}
	lv = xl4_lb_vip_find(&w->lb, name);
	if (!lv)
		fatal("vip find", ENOENT);
	return lv->id;
}

static void world_close(struct world *w)
{
	xl4_lb_free(&w->lb);
	xl4_engine_close(&w->e);
}

/* The flood guard on (its default settings) and the VIP forced to a level, or (level 0) held
 * normal: a million SYNs that never complete are an attack, and the guard would say so. */
static void world_guard(struct world *w, __u32 vip, __u32 level)
{
	struct xl4_config cfg;
	bool kept;
	int err;

	xl4_config_defaults(&cfg);
	/* the budget (1M challenges/s per CPU by default) is code the row runs, not a cap it
	 * may hit: one CPU answers faster than that here (as in bench/capacity's row) */
	cfg.guard.challenge_per_sec = 100000000;
	if ((err = xl4_guard_keys_rotate(&w->e.guard, cfg.guard.key_rotation_s, 0)) < 0 ||
	    (err = xl4_guard_cfg_write(&w->e.guard, &cfg.guard, &kept)))
		fatal("guard settings", err);
	if ((err = xl4_guard_ctl_set(&w->e.guard, vip, level ? XL4_GUARD_OV_ON : XL4_GUARD_OV_OFF,
				     level)))
		fatal("guard override", err);
}

/* A verified source (as after a First Drop retransmission), for an hour: its table entry and
 * its bit (the datapath sets both with a proof; the loader's rebuild sets the bit here). */
static void world_verify(struct world *w, __u32 src)
{
	struct xl4_guard_src k = { .family = 4 };
	__u64 exp = xl4_mono_ns() + 3600ull * 1000000000ull;
	int err;

	k.addr[0] = htonl(src);
	if (bpf_map_update_elem(w->e.guard.ver, &k, &exp, BPF_ANY))
		fatal("verified source", errno);
	err = xl4_guard_vbits_rebuild(w->e.guard.vbit, w->e.guard.ver, w->e.guard.verc);
	if (err < 0)
		fatal("verified source's bit", -err);
}

/* Every verified-source bit set: the map as an attacker who had many sources verified could
 * leave it when nothing refreshed it (before round eight; docs/guard.md). Each flood SYN then
 * asks the verified tables, as before the bits existed. */
static void world_vbits_full(struct world *w)
{
	struct xl4_gvbits v;
	int err = xl4_gvbits_map(&v, w->e.guard.vbit, -1);

	if (err)
		fatal("verified-source bits", -err);
	xl4_gvbits_fill(&v, ~0ull);
	xl4_gvbits_unmap(&v);
}

/* The VIP's counters summed over CPUs: its own and its backends' (src/lb_counters.c). */
static void vip_counters(const struct world *w, __u32 vip, struct xl4_lb_counters *sum)
{
	int err = vip < XL4_MAX_VIPS ? xl4_lb_vip_counters(&w->lb, &w->lb.vips[vip], sum, NULL) : -EINVAL;

	if (err)
		fatal("VIP counters", err);
}

/* ---- packets --------------------------------------------------------------------------------- */

/* A 64-byte IPv4 TCP frame (14 + 20 + 20 + 10 bytes of payload), DF set. */
static void tcp_frame(struct pkt *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		      uint8_t flags)
{
	pb_init(p);
	pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = src, .dst = dst, .frag = IP4_DF });
	pb_tcp(p, sport, dport, flags);
	pb_payload(p, NULL, 10);
	pb_finish(p);
}

/* The IPv6 twin of tcp_frame(): 2001:db8:2::<src> -> 2001:db8:1::<dst> (world_vip()'s VIPs with k >= 100). */
static void tcp6_frame(struct pkt *p, uint16_t src, uint16_t dst, uint16_t sport, uint16_t dport,
		       uint8_t flags)
{
	struct pb_ip6 ip = { 0 };

	inet_pton(AF_INET6, "2001:db8:2::", &ip.src);
	inet_pton(AF_INET6, "2001:db8:1::", &ip.dst);
	ip.src.s6_addr[14] = (uint8_t)(src >> 8), ip.src.s6_addr[15] = (uint8_t)src;
	ip.dst.s6_addr[14] = (uint8_t)(dst >> 8), ip.dst.s6_addr[15] = (uint8_t)dst;
	pb_init(p);
	pb_eth(p, 0);
	pb_ip6(p, &ip);
	pb_tcp(p, sport, dport, flags);
	pb_payload(p, NULL, 10);
	pb_finish(p);
}

/* A router's frag-needed (MTU 1400) to VIP k about the reply VIP:80 -> client:sport. */
static void icmp_frag_needed(struct pkt *p, int k, uint32_t client, uint16_t sport)
{
	struct pkt q;

	pb_init(&q);
	pb_ip4(&q, &(struct pb_ip4){ .src = 0xc6120100u | k, .dst = client, .frag = IP4_DF });
	pb_tcp(&q, 80, sport, TH_SYN | TH_ACK);
	pb_payload(&q, NULL, 1300);
	pb_finish(&q);
	pb_init(p);
	pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = ROUTER4, .dst = 0xc6120100u | k });
	pb_icmp(p, 3, 4);
	pkt_set32(p, p->len - 4, 1400);
	pb_payload(p, q.b, 28); /* the quoted IP header and 8 bytes */
	pb_finish(p);
}

/* ---- programs -------------------------------------------------------------------------------- */

static int load_single(const char *path, const char *what, struct bpf_object **objp)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	if (!obj)
		return -errno;
	/* xdp-tools' objects pin their maps by name in /sys/fs/bpf: keep them private, so two
	 * instances do not share rules and nothing is left behind */
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	if ((err = bpf_object__load(obj))) {
		fprintf(stderr, "xl4-bench: load %s (%s): %s\n", what, path, strerror(-err));
		bpf_object__close(obj);
		return err;
	}
	prog = bpf_object__next_program(obj, NULL);
	if (!prog) {
		bpf_object__close(obj);
		return -ENOENT;
	}
	*objp = obj;
	return bpf_program__fd(prog);
}

/* An xdp-filter program from xdp-tools' objects; deny: with the rule "xdp-filter ip --mode src
 * <client>" (a per-CPU hash keyed by the address as on the wire, MAP_FLAG_SRC in the value's
 * low bits and a hit counter above them). Returns its fd, or -1 with *why saying what failed. */
static int xf_load(const char *name, bool deny, struct bpf_object **obj, const char **why)
{
	static char msg[3][128];
	static int nmsg;
	char path[256];
	bool found = false;
	int fd = -1;

	for (size_t i = 0; i < sizeof(xdpfilter_dirs) / sizeof(xdpfilter_dirs[0]) && !found; i++) {
		snprintf(path, sizeof(path), "%s/%s", xdpfilter_dirs[i], name);
		if ((found = access(path, R_OK) == 0))
			fd = load_single(path, "xdp-filter", obj);
	}
	if (fd < 0) {
		snprintf(msg[nmsg % 3], sizeof(msg[0]), "xdp-tools' %s %s", name,
			 found ? "did not load" : "not found");
		*why = msg[nmsg++ % 3];
		return -1;
	}
	if (deny) {
		struct bpf_map *m = bpf_object__find_map_by_name(*obj, "filter_ipv4");
		int ncpu = libbpf_num_possible_cpus();
		__u64 *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
		__u32 addr = htonl(CLIENT4);

		for (int i = 0; v && i < ncpu; i++)
			v[i] = 1u << 0;
		if (!m || !v || bpf_map__value_size(m) != sizeof(*v) ||
		    bpf_map_update_elem(bpf_map__fd(m), &addr, v, BPF_ANY)) {
			fprintf(stderr, "xl4-bench: xdp-filter address rule: %s\n", strerror(errno));
			snprintf(msg[nmsg % 3], sizeof(msg[0]), "%s: the deny rule could not be set", name);
			*why = msg[nmsg++ % 3];
			fd = -1;
		}
		free(v);
	}
	return fd;
}

/* A driver instance that tail-calls target_fd, with frame p as its template. */
static struct drive_bpf *driver_pairs(int target_fd, const struct pkt *p, bool seq_mode,
				      __u64 nflows, bool pairs)
{
	struct drive_bpf *d = drive_bpf__open_and_load();
	__u32 zero = 0;

	if (!d)
		fatal("load bench/drive.bpf.o", errno);
	if (p->len != sizeof(d->bss->tmpl))
		fatal("driven frames must be 64 bytes", EINVAL);
	memcpy(d->bss->tmpl, p->b, p->len);
	d->data->frame_len = p->len;
	d->bss->seq_mode = seq_mode;
	d->bss->pair_mode = pairs;
	d->data->nflows = nflows;
	if (bpf_map_update_elem(bpf_map__fd(d->maps.target), &zero, &target_fd, BPF_ANY))
		fatal("driver: prog array update", errno);
	return d;
}

static struct drive_bpf *driver(int target_fd, const struct pkt *p, bool seq_mode, __u64 nflows)
{
	return driver_pairs(target_fd, p, seq_mode, nflows, false);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- filter worlds: a blocklist of n random prefixes, or a limit rule ------------------------ */

struct fworld {
	struct xl4_engine e;
	struct xl4_filter f;
};

static __u64 xs_state = 0x9e3779b97f4a7c15ull;
static __u32 xs32(void) /* xorshift64*: reproducible prefixes */
{
	xs_state ^= xs_state >> 12;
	xs_state ^= xs_state << 25;
	xs_state ^= xs_state >> 27;
	return (__u32)((xs_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* A blocklist of n random IPv4 prefixes, /24 to /32 anywhere in the address space, plus the
 * probe's source as a /32 (so the probe hits a /32 among them, the deepest trie walk). */
static void fworld_block(struct fworld *w, size_t n, __u32 probe_src)
{
	struct xl4_engine_opts o = { .pin_path = NULL, .sample_per_sec = 100, .frag_policy = XL4_FRAG_PASS };
	struct xl4_prefix *p = calloc(n + 1, sizeof(*p));
	char err[256] = "";
	double t = now_s();
	int e;

	if (!p)
		fatal("calloc", -ENOMEM);
	if ((e = xl4_engine_load(&w->e, &o)) || (e = xl4_filter_init(&w->f, &w->e.filter, 100000)))
		fatal("filter engine", e);
	for (size_t i = 0; i < n; i++) {
		int len = 24 + (int)(xs32() % 9);

		p[i].family = 4;
		p[i].len = (uint8_t)len;
		p[i].addr[0] = htonl(xs32() & (len == 32 ? 0xffffffffu : ~(0xffffffffu >> len)));
	}
	p[n] = (struct xl4_prefix){ .family = 4, .len = 32, .addr = { htonl(probe_src) } };
	if ((e = xl4_filter_list_add(&w->f, XL4_LIST_BLOCK, p, n + 1, 0, err, sizeof(err))))
		fatal(err, e);
	fprintf(stderr, "xl4-bench: blocklist: %zu random /24../32 prefixes + the probe's /32 in %.2f s "
		"(IPv4 index: %u of %u groups)\n", n, now_s() - t,
		w->f.d24[XL4_LIST_BLOCK].on ? xl4_dir24_groups_used(&w->f.d24[XL4_LIST_BLOCK].t) : 0,
		w->f.d24[XL4_LIST_BLOCK].t.n_groups);
	free(p);
}

/* A limit rule (1000 pps, burst 10) on every port of dst: a source sending back to back is over
 * it after the first ten packets, so every measured packet takes the bucket and is dropped. */
/* The rate limiter at scale: a limit rule (1000 pps, burst 10, IPv6 sources per /64) on
 * 2001:db8:1::1, a bucket table of 2 x n slots, and no cap on new buckets (the prefill inserts n
 * of them back to back). */
static void fworld_limit6(struct fworld *w, __u32 n)
{
	struct xl4_engine_opts o = { .pin_path = NULL, .sample_per_sec = 100, .frag_policy = XL4_FRAG_PASS,
				     .rate_max = 2 * n };
	struct xl4_rule_spec r = { .dst = { .family = 6, .len = 128 }, .proto = XL4_PROTO_ANY,
				   .action = XL4_RULE_LIMIT, .rate = 1000, .burst = 10, .v6_prefix = 64 };
	char err[256] = "";
	int e;

	inet_pton(AF_INET6, "2001:db8:1::1", r.dst.addr);
	if ((e = xl4_engine_load(&w->e, &o)) || (e = xl4_filter_init(&w->f, &w->e.filter, 1u << 30)) ||
	    (e = xl4_filter_rule_add(&w->f, &r, NULL, err, sizeof(err))))
		fatal(err[0] ? err : "filter engine (rate limiter at scale)", e);
}

static void fworld_limit(struct fworld *w, __u32 dst)
{
	struct xl4_engine_opts o = { .pin_path = NULL, .sample_per_sec = 100, .frag_policy = XL4_FRAG_PASS };
	struct xl4_rule_spec r = { .dst = { .family = 4, .len = 32, .addr = { htonl(dst) } },
				   .proto = XL4_PROTO_ANY, .action = XL4_RULE_LIMIT, .rate = 1000,
				   .burst = 10, .v6_prefix = 64 };
	char err[256] = "";
	int e;

	if ((e = xl4_engine_load(&w->e, &o)) || (e = xl4_filter_init(&w->f, &w->e.filter, 100000)) ||
	    (e = xl4_filter_rule_add(&w->f, &r, NULL, err, sizeof(err))))
		fatal(err[0] ? err : "filter engine", e);
}

/* The row's packet must be dropped for `reason` (not merely dropped): one run, counters read. */
static void fworld_expect(struct fworld *w, const struct pkt *p, unsigned int reason, const char *what)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len, .repeat = 20);
	struct xl4_totals a, b;

	if (xl4_counters_read(w->e.stats_fd, &a) || bpf_prog_test_run_opts(w->e.prog_fd, &o) ||
	    xl4_counters_read(w->e.stats_fd, &b))
		fatal(what, -errno);
	if (b.c[XL4_STAT_REASON_BASE + reason].packets - a.c[XL4_STAT_REASON_BASE + reason].packets < 10)
		fatal(what, -EPROTO); /* the probe does not take the path the row names */
}

static void fworld_close(struct fworld *w)
{
	xl4_filter_free(&w->f);
	xl4_engine_close(&w->e);
}

/* ---- rows ------------------------------------------------------------------------------------- */

enum check { CK_NONE, CK_NEW, CK_HIT, CK_PAIR };

struct row {
	const char *label; /* short, for the plot */
	const char *desc;
	bool driven;
	int fd;
	struct pkt pkt;
	__u32 expect;	    /* XDP action every repetition must return */
	struct world *w;    /* LB rows: whose VIP counters to check */
	__u32 vip;
	enum check check;
	int base_pass, base_parse; /* baseline rows for the ratios */
	bool is_base;
	const char *skipped; /* why this row has no numbers */
	double ns[RUNS_MAX];
	double r_pass[RUNS_MAX], r_parse[RUNS_MAX];
	__u64 pkts, news, hits, acks, bad_verdict;
	__u32 got; /* the wrong verdict seen */ 
	struct floor_bpf *fl;	 /* floor rows: the reference's maps... */
	struct drive_bpf *drv;	 /* ...and its driver (which flow it sent last) */
	bool fl_pairs;		 /* the driver sends SYN/ACK pairs: only ACKs insert */
	__u64 fl_missing;	 /* runs after which the last flow was not in the floor's table */
};

static struct row rows[ROWS_MAX];
static int nrows;

static struct row *add_row(const char *label, const char *desc, bool driven, int fd,
			   const struct pkt *p, __u32 expect)
{
	struct row *r = &rows[nrows++];

	if (nrows > ROWS_MAX)
		fatal("too many rows", E2BIG);
	*r = (struct row){ .label = label, .desc = desc, .driven = driven, .fd = fd,
			   .expect = expect, .base_pass = -1, .base_parse = -1 };
	if (p)
		r->pkt = *p;
	return r;
}

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Runs where the thread's CPU time and the kernel's truncated average disagree (see the top),
 * the first few of them named for the report. */
static unsigned clock_disagree;
#define CLOCK_SEEN_MAX 8
static char clock_seen[CLOCK_SEEN_MAX][96];

static int run_once(const struct row *r, __u32 rep, __u32 *retval, double *ns)
{
	__u8 out[512];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->pkt.b, .data_size_in = r->pkt.len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = rep);
	double t0 = thread_cpu_ns(), cpu;

	if (bpf_prog_test_run_opts(r->fd, &o))
		return -errno;
	cpu = (thread_cpu_ns() - t0) / rep;
	*retval = o.retval;
	*ns = cpu;
	if (rep >= 100000 && (cpu < o.duration - 0.01 || cpu > (o.duration + 1) * 1.02)) {
		if (clock_disagree < CLOCK_SEEN_MAX)
			snprintf(clock_seen[clock_disagree], sizeof(clock_seen[0]),
				 "%s: thread CPU %.2f ns/pkt, kernel %u", r->label, cpu, o.duration);
		clock_disagree++;
	}
	return 0;
}

/* Handshakes the guard saw complete on a VIP (ACKs that claimed a remembered SYN). */
static __u64 guard_acks(const struct world *w, __u32 vip)
{
	struct xl4_guard_snap g;

	if (xl4_guard_read(&w->e.guard, vip, &g))
		fatal("guard stats read", errno);
	return g.sum.acks;
}

static bool floor_has_last(const struct row *r);

static void measure(struct row *r, int k)
{
	struct xl4_lb_counters before, after;
	__u64 acks = 0;
	__u32 ret;
	double ns;
	int err;

	if (r->w)
		vip_counters(r->w, r->vip, &before);
	if (r->check == CK_PAIR)
		acks = guard_acks(r->w, r->vip);
	if ((err = run_once(r, repeat, &ret, &ns)))
		fatal(r->desc, err);
	r->ns[k] = ns;
	if (ret != r->expect)
		r->bad_verdict++, r->got = ret;
	if (r->w) {
		vip_counters(r->w, r->vip, &after);
		r->pkts += after.packets - before.packets;
		r->news += after.new_flows - before.new_flows;
		r->hits += after.ct_hits - before.ct_hits;
	}
	if (r->check == CK_PAIR)
		r->acks += guard_acks(r->w, r->vip) - acks;
	if (r->fl && r->drv && !floor_has_last(r))
		r->fl_missing++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n, double *lo, double *hi)
{
	double s[RUNS_MAX];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	if (lo)
		*lo = s[0];
	if (hi)
		*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static const char *action_name(__u32 a)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return a < 5 ? n[a] : "?";
}

static const char *check_str(const struct row *r, char *buf, size_t len)
{
	if (r->bad_verdict) {
		snprintf(buf, len, "WRONG VERDICT %s in %llu runs", action_name(r->got),
			 (unsigned long long)r->bad_verdict);
		return buf;
	}
	if (r->fl_missing) {
		snprintf(buf, len, "LAST FLOW NOT INSERTED in %llu runs",
			 (unsigned long long)r->fl_missing);
		return buf;
	}
	if (r->fl && r->drv) {
		snprintf(buf, len, "verdict ok, last flow inserted");
		return buf;
	}
	switch (r->check) {
	case CK_NEW:
		snprintf(buf, len, "%.1f%% new flows", r->pkts ? 100.0 * r->news / r->pkts : 0);
		break;
	case CK_HIT:
		snprintf(buf, len, "%.1f%% ct hits", r->pkts ? 100.0 * r->hits / r->pkts : 0);
		break;
	case CK_PAIR: /* half the packets are ACKs, each completing its SYN and inserting the flow */
		snprintf(buf, len, "%.1f%% of ACKs complete, %.1f%% insert",
			 r->pkts ? 200.0 * r->acks / r->pkts : 0, r->pkts ? 200.0 * r->news / r->pkts : 0);
		break;
	default:
		snprintf(buf, len, "verdict ok");
	}
	return buf;
}

/* ---- conntrack at scale -------------------------------------------------------------------- */

struct ct_case {
	__u64 flows;
	struct world w;
	__u32 vip;
	double fill_s;
	__u64 memlock, max_entries;
	int row;
};

static __u64 fdinfo_field(int fd, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	__u64 v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}


/* Flow i as the driver writes it, client -> VIP 198.18.1.k:80. */
static void flow_key(struct xl4_flow_key *fk, __u64 i, int k)
{
	memset(fk, 0, sizeof(*fk));
	fk->saddr[0] = htonl(FLOW_SRC | (__u32)((i >> 14) & 0xffff));
	fk->daddr[0] = htonl(0xc6120100u | k);
	fk->sport = htons(FLOW_SPORT | (i & 0x3fff));
	fk->dport = htons(80);
	fk->proto = IPPROTO_TCP;
	fk->family = 4;
}

/* Fill the (IPv4) conntrack map with flows 0..n-1, each pointing at the VIP's first backend
 * (with its current generation), through bpf_map_update_batch as a restored table would be. */
static void ct_prefill(struct ct_case *c, int k)
{
	const __u32 chunk = 65536;
	struct xl4_lb_vip *lv = xl4_lb_vip_find(&c->w.lb, "vip1");
	struct xl4_flow_key4 *keys = calloc(chunk, sizeof(*keys));
	struct xl4_flow *vals = calloc(chunk, sizeof(*vals));
	struct xl4_flow_key fk;
	struct xl4_backend be;
	struct timespec ts;
	__u32 id;
	double t0;

	if (!lv || !lv->n_be || !keys || !vals)
		fatal("ct prefill setup", ENOMEM);
	id = lv->be[0].id;
	if (bpf_map_lookup_elem(c->w.e.lb.backends, &id, &be))
		fatal("backend lookup", errno);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = now_s();
	for (__u64 base = 0; base < c->flows; base += chunk) {
		__u32 n = c->flows - base < chunk ? (__u32)(c->flows - base) : chunk;
		LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);

		for (__u32 i = 0; i < n; i++) {
			flow_key(&fk, base + i, k);
			xl4_flow_key4_of(&keys[i], &fk);
			/* as the datapath writes them: the flow hash cached, the touch in 2^30 ns */
			vals[i] = (struct xl4_flow){ .backend_id = id, .gen = be.gen,
						     .flags = XL4_FLOW_F_HASH,
						     .hash = xl4_flow_hash(&fk, SEED),
						     .last_s = (__u32)(((__u64)ts.tv_sec * 1000000000ull +
									 ts.tv_nsec) >> XL4_FLOW_TOUCH_SHIFT) };
		}
		if (bpf_map_update_batch(c->w.e.lb.ct4, keys, vals, &n, &bo))
			fatal("bpf_map_update_batch (conntrack)", errno);
	}
	c->fill_s = now_s() - t0;
	c->memlock = fdinfo_field(c->w.e.lb.ct4, "memlock");
	c->max_entries = fdinfo_field(c->w.e.lb.ct4, "max_entries");
	free(keys);
	free(vals);
}

/* ---- floors: bench/floor.bpf.c, the work no conntrack Maglev balancer can skip --------------- */

/* A floor reference with maps of its own: NBE backends (ids 0..NBE-1, generation 1, the MACs
 * world_vip gives VIP 1's), one VIP's two Maglev tables of random backend ids, conntrack empty. */
/* A floor's object; per_cpu_lru: its connection table with per-CPU LRU lists, as xl4's rows it
 * bounds have them (the lookup-only floors' tables are the same either way). */
static struct floor_bpf *floor_open(bool per_cpu_lru)
{
	struct floor_bpf *fl = floor_bpf__open();
	__u32 n = 2 * XL4_RING_SIZE_DEFAULT, *keys, *vals;
	__u64 x = 0x2545f4914f6cdd1dull; /* its own xorshift: xs32() draws the blocklists */
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);

	if (!fl)
		fatal("open bench/floor.bpf.o", errno);
	fl->rodata->ipip_src4 = htonl(0xc612ff00u); /* 198.18.255.0, the low byte varied per flow */
	fl->bss->lane_src4 = fl->rodata->ipip_src4;
	fl->bss->lane_src4_mask = 0xff;
	if (per_cpu_lru)
		bpf_map__set_map_flags(fl->maps.ct, BPF_F_NO_COMMON_LRU);
	if (floor_bpf__load(fl))
		fatal("load bench/floor.bpf.o", errno);
	for (__u32 j = 0; j < NBE; j++) {
		struct xl4_backend be = { .family = 4, .gen = 1 };
		/* floor_ipip_lane's one VIP (the backends' VIP id 0), live, with an Ethernet MTU,
		 * where its lane reads it: by each backend's id */
		struct xl4_vip v = { .id = 0, .mode = XL4_FWD_IPIP, .flags = XL4_VIP_F_LIVE,
				     .mtu = 1500 };

		be.addr[0] = htonl(0xc6120b00u | (j + 1));
		memcpy(be.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 1, (uint8_t)(j + 1) }, 6);
		if (bpf_map_update_elem(bpf_map__fd(fl->maps.backends), &j, &be, BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(fl->maps.vips), &j, &v, BPF_ANY))
			fatal("floor: backend", errno);
	}
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	if (!keys || !vals)
		fatal("calloc", ENOMEM);
	for (__u32 i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		keys[i] = i;
		vals[i] = (__u32)(x % NBE);
	}
	if (bpf_map_update_batch(bpf_map__fd(fl->maps.ring), keys, vals, &n, &bo))
		fatal("floor: Maglev table", errno);
	free(keys);
	free(vals);
	return fl;
}

/* The blocklist floor with one /32, addr's, in its index: alone in its /24, so its slot is
 * direct (the host byte beside the id), as xl4's is. */
static struct floor_block_bpf *floor_block_open(__u32 addr)
{
	struct floor_block_bpf *fl = floor_block_bpf__open_and_load();
	struct { __u32 addr, len; } e = { addr, 32 };
	__u32 k = addr >> 8, id = 1, slot = id | XL4_D24_DIRECT | (addr & 0xff) << XL4_D24_HOST_SHIFT;

	if (!fl)
		fatal("load bench/floor_block.bpf.o", errno);
	if (bpf_map_update_elem(bpf_map__fd(fl->maps.idx), &k, &slot, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(fl->maps.ent), &id, &e, BPF_ANY))
		fatal("floor block: index", errno);
	return fl;
}

/* An established floor's one flow, client:sport -> vip:80, on backend 3. */
static void floor_add_flow(struct floor_bpf *fl, __u32 client, __u16 sport, __u32 vip)
{
	struct xl4_flow_key4 k4;
	struct xl4_flow f = { .backend_id = 3, .gen = 1, .hash = 0x9e3779b9u };

	xl4_flow_key4_set(&k4, htonl(client), htonl(vip), htons(sport), htons(80), IPPROTO_TCP);
	if (bpf_map_update_elem(bpf_map__fd(fl->maps.ct), &k4, &f, BPF_NOEXIST))
		fatal("floor: conntrack entry", errno);
}

/* Is the last flow the row's driver sent (in pair mode: the last ACK's) in the floor's
 * conntrack? The verdict is the last repetition's; this says the inserts took. */
static bool floor_has_last(const struct row *r)
{
	struct xl4_flow_key fk;
	struct xl4_flow_key4 k4;
	struct xl4_flow f;
	__u64 s = r->drv->bss->seq;

	if (!s--)
		return false;
	if (r->fl_pairs) {
		if (!(s & 1) && !s--)
			return false;
		s >>= 1;
	}
	flow_key(&fk, s, 1);
	xl4_flow_key4_of(&k4, &fk);
	return !bpf_map_lookup_elem(bpf_map__fd(r->fl->maps.ct), &k4, &f);
}

/* ---- output ---------------------------------------------------------------------------------- */

static void print_rows(FILE *f, bool md)
{
	char ck[64];

	if (md) {
		fprintf(f, "| # | path | method | verdict | ns/packet median [min–max] | × XDP_PASS | "
			   "× parse-drop | check |\n|---|---|---|---|---|---|---|---|\n");
	} else {
		fprintf(f, "%-3s %-52s %-7s %-8s %-22s %-10s %-12s %s\n", "#", "path", "method",
			"verdict", "ns/pkt med [min-max]", "x PASS", "x parse-drop", "check");
	}
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		double lo, hi, m, rp = 0, rq = 0;
		char a[32] = "—", b[32] = "—", v[40];

		if (r->skipped) {
			if (md)
				fprintf(f, "| %d | %s | — | — | not measured: %s | — | — | — |\n", i + 1,
					r->desc, r->skipped);
			else
				fprintf(f, "%-3d %-52s not measured: %s\n", i + 1, r->desc, r->skipped);
			continue;
		}
		m = median(r->ns, runs, &lo, &hi);
		if (r->base_pass >= 0 && r->base_pass != i) {
			rp = median(r->r_pass, runs, NULL, NULL);
			snprintf(a, sizeof(a), "%.2f", rp);
		} else if (r->base_pass == i) {
			snprintf(a, sizeof(a), "1 (base)");
		}
		if (r->base_parse >= 0 && r->base_parse != i) {
			rq = median(r->r_parse, runs, NULL, NULL);
			snprintf(b, sizeof(b), "%.2f", rq);
		} else if (r->base_parse == i) {
			snprintf(b, sizeof(b), "1 (base)");
		}
		if (hi < 100)
			snprintf(v, sizeof(v), "%.1f [%.1f–%.1f]", m, lo, hi);
		else
			snprintf(v, sizeof(v), "%.0f [%.0f–%.0f]", m, lo, hi);
		if (md)
			fprintf(f, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", i + 1, r->desc,
				r->driven ? "driven" : "direct", action_name(r->expect), v, a, b,
				check_str(r, ck, sizeof(ck)));
		else
			fprintf(f, "%-3d %-52s %-7s %-8s %-22s %-10s %-12s %s\n", i + 1, r->desc,
				r->driven ? "driven" : "direct", action_name(r->expect), v, a, b,
				check_str(r, ck, sizeof(ck)));
	}
}

/*
 * The datapath-cost goals (issue 11), each a ratio of two rows of this run: the median over
 * rounds of (scale * row a) / row b, so both sides come from the same round. A new connection
 * is two packets: twice the per-packet figure of the SYN-then-ACK row.
 * A goal with floor rows (fa, bench/floor.bpf.c: the work any conntrack Maglev balancer does;
 * bench/floor_block.bpf.c: what any indexed prefix filter does; for ipip also the floor with
 * the least that xl4's contract adds, "floor ipip lane") also shows each floor's ratio, the
 * same way against the same baseline b.
 */
static const struct goal {
	const char *what, *a, *b;
	double scale, limit;
	const char *fa[2]; /* its floors: the bare one, then (if any) one with the contract's work */
} goals[] = {
	{ "LB established ipip (driven) / driven XDP_PASS", "ipip est", "drv XDP_PASS", 1, 3.0,
	  { "floor ipip est", "floor ipip lane" } },
	{ "LB established l2 (direct) / XDP_PASS", "l2 est", "XDP_PASS", 1, 4.0,
	  { "floor l2 est", "floor l2 lane" } },
	{ "new connection, guard on (SYN + completing ACK) / driven XDP_PASS", "l2 conn guard",
	  "drv XDP_PASS", 2, 15.0, { "floor conn" } },
	{ "non-VIP pass / XDP_PASS", "xl4 pass", "XDP_PASS", 1, 2.5, { "floor pass" } },
	{ "malformed drop / parse-then-drop", "xl4 malformed", "parse+drop", 1, 1.5 },
	{ "blocklist hit, 1 prefix / xdp-filter ipv4 deny", "block 1", "xdp-filter ip drop", 1, 0.6,
	  { "floor block" } },
	{ "blocklist hit, a /32 among 1M / xdp-filter ipv4 deny", "block 1M", "xdp-filter ip drop", 1,
	  0.6, { "floor block" } },
};

static const struct row *row_by_label(const char *label)
{
	for (int i = 0; i < nrows; i++)
		if (!strcmp(rows[i].label, label))
			return rows[i].skipped ? NULL : &rows[i];
	return NULL;
}

/* A goal's floor (its row labelled fl): (scale * floor row) / b per round, and xl4's row over
 * the floor's. */
static void print_floor(FILE *f, bool md, const struct goal *g, const char *fl,
			const struct row *a, const struct row *b)
{
	const struct row *fa = row_by_label(fl);
	double q[RUNS_MAX], x[RUNS_MAX], m, lo, hi, mx;
	char what[96], v[48], sc[16] = "";

	if (g->scale != 1)
		snprintf(sc, sizeof(sc), "%g x ", g->scale);
	/* indented under its goal; a table cell loses leading blanks, so md gets an arrow */
	snprintf(what, sizeof(what), "%sfloor (reference rows: %s%s / %s)", md ? "↳ " : "  ", sc,
		 fl, g->b);
	if (!fa) {
		fprintf(f, md ? "| %s | not measured | | |\n" : "%-70s not measured\n", what);
		return;
	}
	for (int k = 0; k < runs; k++) {
		q[k] = g->scale * fa->ns[k] / (b->ns[k] ? b->ns[k] : 1);
		x[k] = a->ns[k] / (fa->ns[k] ? fa->ns[k] : 1);
	}
	m = median(q, runs, &lo, &hi);
	mx = median(x, runs, NULL, NULL);
	snprintf(v, sizeof(v), "%.2f [%.2f–%.2f]", m, lo, hi);
	if (md)
		fprintf(f, "| %s | %s | | floor %s the limit; xl4 = %.2f× the floor |\n", what, v,
			m <= g->limit ? "under" : "OVER", mx);
	else
		fprintf(f, "%-70s %-20s floor %s the limit; xl4 = %.2fx the floor\n", what, v,
			m <= g->limit ? "under" : "OVER", mx);
}

static void print_goals(FILE *f, bool md)
{
	if (md)
		fprintf(f, "| goal | ratio median [min–max] | limit | met |\n|---|---|---|---|\n");
	for (size_t g = 0; g < sizeof(goals) / sizeof(goals[0]); g++) {
		const struct row *a = row_by_label(goals[g].a), *b = row_by_label(goals[g].b);
		double q[RUNS_MAX], m, lo, hi;
		char v[48];

		if (!a || !b) {
			fprintf(f, md ? "| %s | not measured | %.1f | — |\n" : "%-70s not measured (limit %.1f)\n",
				goals[g].what, goals[g].limit);
			continue;
		}
		for (int k = 0; k < runs; k++)
			q[k] = goals[g].scale * a->ns[k] / (b->ns[k] ? b->ns[k] : 1);
		m = median(q, runs, &lo, &hi);
		snprintf(v, sizeof(v), "%.2f [%.2f–%.2f]", m, lo, hi);
		fprintf(f, md ? "| %s | %s | ≤ %.1f | %s |\n" : "%-70s %-20s limit %-5.1f %s\n",
			goals[g].what, v, goals[g].limit, m <= goals[g].limit ? "met" : "NOT MET");
		for (int k = 0; k < 2 && goals[g].fa[k]; k++)
			print_floor(f, md, &goals[g], goals[g].fa[k], a, b);
	}
}

static void write_dat(const char *dir)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/paths.dat", dir);
	f = fopen(path, "w");
	if (!f)
		fatal(path, errno);
	fprintf(f, "# idx label median min max driven\n");
	for (int i = 0; i < nrows; i++) {
		double lo, hi, m;

		if (rows[i].skipped)
			continue;
		m = median(rows[i].ns, runs, &lo, &hi);
		fprintf(f, "%d \"%s\" %.1f %.1f %.1f %d\n", i + 1, rows[i].label, m, lo, hi,
			rows[i].driven);
	}
	fclose(f);
}

static void print_ct(FILE *f, bool md, struct ct_case *cs, int n, int base_row)
{
	if (md)
		fprintf(f, "| flows in table | table size | fill (batch) ns/flow | ns/packet median "
			   "[min–max] | × driven XDP_PASS | bytes per flow slot (memlock) | check |\n"
			   "|---|---|---|---|---|---|---|\n");
	else
		fprintf(f, "%-12s %-12s %-16s %-22s %-14s %-16s %s\n", "flows", "table size",
			"fill ns/flow", "ns/pkt med [min-max]", "x drv PASS", "bytes/flow slot",
			"check");
	for (int i = 0; i < n; i++) {
		struct row *r = &rows[cs[i].row];
		double lo, hi, m = median(r->ns, runs, &lo, &hi);
		double rp = median(r->r_pass, runs, NULL, NULL);
		char v[48], ck[64];

		(void)base_row;
		snprintf(v, sizeof(v), "%.0f [%.0f–%.0f]", m, lo, hi);
		check_str(r, ck, sizeof(ck));
		if (md)
			fprintf(f, "| %llu | %llu | %.0f | %s | %.2f | %.0f (%.1f MiB total) | %s |\n",
				(unsigned long long)cs[i].flows, (unsigned long long)cs[i].max_entries,
				cs[i].fill_s * 1e9 / cs[i].flows, v, rp,
				(double)cs[i].memlock / cs[i].max_entries, cs[i].memlock / 1048576.0, ck);
		else
			fprintf(f, "%-12llu %-12llu %-16.0f %-22s %-14.2f %-16.0f %s\n",
				(unsigned long long)cs[i].flows, (unsigned long long)cs[i].max_entries,
				cs[i].fill_s * 1e9 / cs[i].flows, v, rp,
				(double)cs[i].memlock / cs[i].max_entries, ck);
	}
}

/* Is label one of the comma-separated list's items? */
static bool label_listed(const char *list, const char *label)
{
	size_t n = strlen(label);

	for (const char *s = list; s && *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == n && !strncmp(s, label, n))
			return true;
		s = e ? e + 1 : NULL;
	}
	return false;
}

static void usage(const char *p)
{
	fprintf(stderr,
		"usage: %s [--runs N] [--repeat N] [--ct-sizes N,N,...] [--rl-sources N] [--cpu N] [--out DIR]\n"
		"       [--only LABEL,LABEL,...] [-v]\n",
		p);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "runs", required_argument, NULL, 'r' },  { "repeat", required_argument, NULL, 'n' },
		{ "ct-sizes", required_argument, NULL, 'c' }, { "out", required_argument, NULL, 'o' },
		{ "cpu", required_argument, NULL, 'p' },   { "verbose", no_argument, NULL, 'v' },
		{ "rl-sources", required_argument, NULL, 's' },
		{ "only", required_argument, NULL, 'O' },
		{ 0 },
	};
	const char *out_dir = NULL, *only = NULL, *ct_sizes = "1000,1000000,10000000", *xf_why[3] = { NULL };
	struct world w_est, w_nc, w_new, w_shared, w_gfd, w_gfull, w_gch, w_gnew, w_gpair;
	static struct fworld fw_b1, fw_b10k, fw_b1m, fw_lim, fw_rl;
	__u32 rl_sources = 1000000;
	struct ct_case cs[8];
	int ncs = 0, cpu = -1, opt;
	struct bpf_object *o_pass, *o_parse, *o_xf_miss = NULL, *o_xf_hit = NULL, *o_xf_ip = NULL;
	struct bpf_object *o_fl_fd, *o_fl_chal, *o_fl_chalv;
	int fl_fd_fd, fl_chal_fd, fl_chalv_fd;
	int pass_fd, parse_fd, xf_miss_fd, xf_hit_fd, xf_ip_fd;
	__u32 vip_l2, vip_l2nc, vip_l2v6, vip_port, vip_ipip, n_l2, n_port, n_ipip, s_l2, g_pair;
	struct pkt valid, synfin, est, est6, icmp, dflow, dsyn;
	struct floor_bpf *fl_est, *fl_ipip, *fl_ins, *fl_conn, *fl_syn;
	struct floor_block_bpf *fl_blk;
	struct drive_bpf *fl_drv;
	char obj_dir[256], path[512];
	const char *o_env = getenv("O");
	int b_pass, b_parse, d_pass, d_parse;
	struct row *r;
	double t_start = now_s();

	while ((opt = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (opt) {
		case 'r':
			runs = atoi(optarg);
			break;
		case 'n':
			repeat = (__u32)strtoul(optarg, NULL, 10);
			break;
		case 's':
			rl_sources = (__u32)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			ct_sizes = optarg;
			break;
		case 'O':
			only = optarg;
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'p':
			cpu = atoi(optarg);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (runs < 5 || runs > RUNS_MAX || !repeat)
		usage(argv[0]);
	xl4_log_init(verbose);
	libbpf_set_print(libbpf_quiet);
	snprintf(obj_dir, sizeof(obj_dir), "%s", o_env ? o_env : "build");

	/* One CPU for the whole run: test_run executes on the caller's CPU. */
	if (cpu < 0)
		cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "xl4-bench: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
	}

	/* references */
	snprintf(path, sizeof(path), "%s/bpf/pass.bpf.o", obj_dir);
	if ((pass_fd = load_single(path, "XDP_PASS reference", &o_pass)) < 0)
		fatal(path, pass_fd);
	snprintf(path, sizeof(path), "%s/bench/parse_drop.bpf.o", obj_dir);
	if ((parse_fd = load_single(path, "parse-then-drop reference", &o_parse)) < 0)
		fatal(path, parse_fd);
	/* the guard's floors (bench/capacity's floor_fd, floor_chal and floor_chal_vip rows), here
	 * in a test run */
	snprintf(path, sizeof(path), "%s/bench/floor_fd.bpf.o", obj_dir);
	if ((fl_fd_fd = load_single(path, "First Drop floor", &o_fl_fd)) < 0)
		fatal(path, fl_fd_fd);
	snprintf(path, sizeof(path), "%s/bench/floor_chal.bpf.o", obj_dir);
	if ((fl_chal_fd = load_single(path, "challenge floor", &o_fl_chal)) < 0)
		fatal(path, fl_chal_fd);
	snprintf(path, sizeof(path), "%s/bench/floor_chal_vip.bpf.o", obj_dir);
	if ((fl_chalv_fd = load_single(path, "per-VIP challenge floor", &o_fl_chalv)) < 0)
		fatal(path, fl_chalv_fd);
	/* xdp-filter: the full program (alw_all) with no rule and with a deny rule for the client,
	 * and the program 'xdp-filter load -f ipv4' picks (alw_ip: IP addresses only) */
	xf_miss_fd = xf_load("xdpfilt_alw_all.o", false, &o_xf_miss, &xf_why[0]);
	xf_hit_fd = xf_load("xdpfilt_alw_all.o", true, &o_xf_hit, &xf_why[1]);
	xf_ip_fd = xf_load("xdpfilt_alw_ip.o", true, &o_xf_ip, &xf_why[2]);

	/* xl4: established-flow world, new-flow world, new flows with one shared LRU list. The
	 * worlds whose rows insert have per-CPU lists, as a configuration that leaves
	 * lb.conntrack.per_cpu_lru out gets them (src/ct_lru.h). */
	world_open(&w_est, 0, false);
	vip_l2 = world_vip(&w_est, 1, XL4_FWD_L2, 0);
	vip_port = world_vip(&w_est, 2, XL4_FWD_PORT, 8080);
	vip_ipip = world_vip(&w_est, 3, XL4_FWD_IPIP, 0);
	vip_l2v6 = world_vip(&w_est, 101, XL4_FWD_L2, 0);
	/* the same l2 VIP with the flow cache off: the table's lookup on every packet */
	world_fcache_off = true;
	world_open(&w_nc, 0, false);
	world_fcache_off = false;
	vip_l2nc = world_vip(&w_nc, 1, XL4_FWD_L2, 0);
	world_open(&w_new, 0, true);
	n_l2 = world_vip(&w_new, 1, XL4_FWD_L2, 0);
	n_port = world_vip(&w_new, 2, XL4_FWD_PORT, 8080);
	n_ipip = world_vip(&w_new, 3, XL4_FWD_IPIP, 0);
	world_open(&w_shared, 0, false);
	/* the flood guard: forced to First Drop, forced to the challenge, and on but normal */
	world_open(&w_gfd, 0, false);
	world_guard(&w_gfd, world_vip(&w_gfd, 1, XL4_FWD_L2, 0), XL4_GUARD_FIRST_DROP);
	world_verify(&w_gfd, CLIENT4);
	world_open(&w_gfull, 0, false);
	world_guard(&w_gfull, world_vip(&w_gfull, 1, XL4_FWD_L2, 0), XL4_GUARD_FIRST_DROP);
	world_verify(&w_gfull, CLIENT4);
	world_vbits_full(&w_gfull);
	world_open(&w_gch, 0, false);
	world_guard(&w_gch, world_vip(&w_gch, 1, XL4_FWD_L2, 0), XL4_GUARD_CHALLENGE);
	world_open(&w_gnew, 0, true);
	world_guard(&w_gnew, world_vip(&w_gnew, 1, XL4_FWD_L2, 0), 0);
	world_open(&w_gpair, 0, true);
	g_pair = world_vip(&w_gpair, 1, XL4_FWD_L2, 0);
	world_guard(&w_gpair, g_pair, 0);
	s_l2 = world_vip(&w_shared, 1, XL4_FWD_L2, 0);

	/* packets: all 64-byte IPv4 TCP frames except the ICMP error (70 bytes) */
	tcp_frame(&valid, CLIENT4, NOT_VIP4, CLIENT_PORT, 80, TH_ACK);
	tcp_frame(&synfin, CLIENT4, NOT_VIP4, CLIENT_PORT, 80, TH_SYN | TH_FIN);
	tcp_frame(&est, CLIENT4, 0xc6120101u, CLIENT_PORT, 80, TH_ACK | TH_PSH);
	tcp6_frame(&est6, 1, 101, CLIENT_PORT, 80, TH_ACK | TH_PSH);
	icmp_frag_needed(&icmp, 1, CLIENT4, CLIENT_PORT);

	/* direct rows */
	b_pass = nrows;
	r = add_row("XDP_PASS", "reference: trivial XDP_PASS (bpf/pass.bpf.o)", false, pass_fd,
		    &valid, XDP_PASS);
	r->is_base = true;
	b_parse = nrows;
	r = add_row("parse+drop", "reference: xl4 parse.h then XDP_DROP", false, parse_fd, &valid,
		    XDP_DROP);
	r->is_base = true;
	r = add_row("xdp-filter miss", "reference: xdp-filter (alw_all), no rule matches", false,
		    xf_miss_fd, &valid, XDP_PASS);
	r->skipped = xf_why[0];
	r = add_row("xdp-filter drop", "reference: xdp-filter (alw_all), source-address deny rule", false,
		    xf_hit_fd, &valid, XDP_DROP);
	r->skipped = xf_why[1];
	r = add_row("xdp-filter ip drop",
		    "reference: xdp-filter (alw_ip, as 'load -f ipv4' picks), source-address deny rule",
		    false, xf_ip_fd, &valid, XDP_DROP);
	r->skipped = xf_why[2];
	add_row("xl4 pass", "xl4: valid TCP, not a VIP -> PASS", false, w_est.e.prog_fd, &valid,
		XDP_PASS);
	add_row("xl4 malformed", "xl4: malformed drop (tcp_flags_syn_fin)", false, w_est.e.prog_fd,
		&synfin, XDP_DROP);
	r = add_row("l2 est", "xl4: LB l2, established flow", false, w_est.e.prog_fd, &est, XDP_TX);
	r->w = &w_est, r->vip = vip_l2, r->check = CK_HIT;
	r = add_row("l2 est nocache", "xl4: LB l2, established flow, flow cache off", false,
		    w_nc.e.prog_fd, &est, XDP_TX);
	r->w = &w_nc, r->vip = vip_l2nc, r->check = CK_HIT;
	r = add_row("l2 est v6", "xl4: LB l2, established flow, IPv6 (74-byte frame)", false,
		    w_est.e.prog_fd, &est6, XDP_TX);
	r->w = &w_est, r->vip = vip_l2v6, r->check = CK_HIT;
	r = add_row("icmp steer", "xl4: ICMP frag-needed to VIP, steered (l2, ct hit)", false,
		    w_est.e.prog_fd, &icmp, XDP_TX);
	r->w = &w_est, r->vip = vip_l2, r->check = CK_HIT;
	/* the filter: a blocklist hit at three sizes, and a source over a rate limit */
	fworld_block(&fw_b1, 0, CLIENT4);
	fworld_block(&fw_b10k, 10000, CLIENT4);
	fworld_block(&fw_b1m, 1000000, CLIENT4);
	fworld_limit(&fw_lim, NOT_VIP4);
	fworld_expect(&fw_b1, &valid, XL4_R_FILTER_BLOCK, "block 1: probe not blocked");
	fworld_expect(&fw_b10k, &valid, XL4_R_FILTER_BLOCK, "block 10k: probe not blocked");
	fworld_expect(&fw_b1m, &valid, XL4_R_FILTER_BLOCK, "block 1M: probe not blocked");
	fworld_expect(&fw_lim, &valid, XL4_R_FILTER_RATE, "rate limited: probe not limited");
	add_row("block 1", "xl4: blocklist hit, 1 prefix (/32)", false, fw_b1.e.prog_fd, &valid, XDP_DROP);
	add_row("block 10k", "xl4: blocklist hit on a /32 among 10,000 random /24../32", false,
		fw_b10k.e.prog_fd, &valid, XDP_DROP);
	add_row("block 1M", "xl4: blocklist hit on a /32 among 1,000,000 random /24../32", false,
		fw_b1m.e.prog_fd, &valid, XDP_DROP);
	add_row("rate limited", "xl4: limit rule, source over its rate (bucket empty) -> drop", false,
		fw_lim.e.prog_fd, &valid, XDP_DROP);
	{
		static struct pkt vsyn; /* a verified source's SYN in emergency mode */

		tcp_frame(&vsyn, CLIENT4, 0xc6120101u, 40000, 80, TH_SYN);
		add_row("guard verified", "xl4: guard, emergency SYN from a verified source -> LB", false,
			w_gfd.e.prog_fd, &vsyn, XDP_TX);
	}
	for (int i = 0; i < nrows; i++)
		rows[i].base_pass = b_pass, rows[i].base_parse = b_parse;

	/* driven rows: flow 0 is 198.19.0.0:16384 */
	tcp_frame(&dflow, FLOW_SRC, 0xc6120101u, FLOW_SPORT, 80, TH_ACK | TH_PSH);
	tcp_frame(&dsyn, FLOW_SRC, 0xc6120101u, FLOW_SPORT, 80, TH_SYN);
#define DRIVEN(label, desc, target, frame, seq, nfl, expect)                                       \
	add_row(label, desc, true, bpf_program__fd(driver(target, frame, seq, nfl)->progs.drive),   \
		frame, expect)
	d_pass = nrows;
	r = DRIVEN("drv XDP_PASS", "driven reference: driver -> XDP_PASS", pass_fd, &dflow, false, 1,
		   XDP_PASS);
	r->is_base = true;
	d_parse = nrows;
	r = DRIVEN("drv parse+drop", "driven reference: driver -> parse then XDP_DROP", parse_fd,
		   &dflow, false, 1, XDP_DROP);
	r->is_base = true;
	r = DRIVEN("drv l2 est", "xl4: LB l2, established flow (driven cross-check)",
		   w_est.e.prog_fd, &dflow, false, 1, XDP_TX);
	r->w = &w_est, r->vip = vip_l2, r->check = CK_HIT;
	{
		struct pkt f;

		tcp_frame(&f, FLOW_SRC, 0xc6120102u, FLOW_SPORT, 80, TH_ACK | TH_PSH);
		r = DRIVEN("port est", "xl4: LB port, established flow", w_est.e.prog_fd, &f, false,
			   1, XDP_TX);
		r->w = &w_est, r->vip = vip_port, r->check = CK_HIT;
		tcp_frame(&f, FLOW_SRC, 0xc6120103u, FLOW_SPORT, 80, TH_ACK | TH_PSH);
		r = DRIVEN("ipip est", "xl4: LB ipip encap, established flow", w_est.e.prog_fd, &f,
			   false, 1, XDP_TX);
		r->w = &w_est, r->vip = vip_ipip, r->check = CK_HIT;

		r = DRIVEN("l2 new", "xl4: LB l2, new flow (ct miss+Maglev+insert)", w_new.e.prog_fd,
			   &dsyn, true, 0, XDP_TX);
		r->w = &w_new, r->vip = n_l2, r->check = CK_NEW;
		tcp_frame(&f, FLOW_SRC, 0xc6120102u, FLOW_SPORT, 80, TH_SYN);
		r = DRIVEN("port new", "xl4: LB port, new flow", w_new.e.prog_fd, &f, true, 0, XDP_TX);
		r->w = &w_new, r->vip = n_port, r->check = CK_NEW;
		tcp_frame(&f, FLOW_SRC, 0xc6120103u, FLOW_SPORT, 80, TH_SYN);
		r = DRIVEN("ipip new", "xl4: LB ipip encap, new flow", w_new.e.prog_fd, &f, true, 0,
			   XDP_TX);
		r->w = &w_new, r->vip = n_ipip, r->check = CK_NEW;
		r = DRIVEN("l2 new shared", "xl4: LB l2, new flow, conntrack with one shared LRU list "
			   "(per_cpu_lru = false)", w_shared.e.prog_fd, &dsyn, true, 0, XDP_TX);
		r->w = &w_shared, r->vip = s_l2, r->check = CK_NEW;
		/* the flood guard: every SYN from a new source */
		DRIVEN("l2 new guard", "xl4: LB l2, new flow, guard on, normal (SYN slot, no insert)",
		       w_gnew.e.prog_fd, &dsyn, true, 0, XDP_TX);
		/* a whole new connection as the balancer sees it: SYN, then its completing ACK */
		r = add_row("l2 conn guard",
			    "xl4: LB l2, guard on: a SYN then its completing ACK (insert), per packet", true,
			    bpf_program__fd(driver_pairs(w_gpair.e.prog_fd, &dsyn, true, 0, true)->progs.drive),
			    &dsyn, XDP_TX);
		r->w = &w_gpair, r->vip = g_pair, r->check = CK_PAIR;
		DRIVEN("guard 1st drop", "xl4: guard, emergency SYN, First Drop (greylist write, drop)",
		       w_gfd.e.prog_fd, &dsyn, true, 0, XDP_DROP);
		DRIVEN("guard fd bits full", "xl4: guard, First Drop, every verified-source bit set "
		       "(the verified tables asked: what the bits' refresh prevents)",
		       w_gfull.e.prog_fd, &dsyn, true, 0, XDP_DROP);
		DRIVEN("guard challenge", "xl4: guard, emergency SYN, SYN-ACK challenge (XDP_TX)",
		       w_gch.e.prog_fd, &dsyn, true, 0, XDP_TX);
	}
	/* conntrack at scale: flows 0..n-1 prefilled, packets hit random ones */
	for (const char *s = ct_sizes; s && *s && ncs < 8;) {
		struct ct_case *c = &cs[ncs];
		__u64 n = strtoull(s, NULL, 10);
		__u64 max = n + n / 4 > 262144 ? n + n / 4 : 262144;
		char *desc = malloc(96), *label = malloc(32);

		s = strchr(s, ',');
		s = s ? s + 1 : NULL;
		if (!n || !desc || !label)
			continue;
		memset(c, 0, sizeof(*c));
		c->flows = n;
		fprintf(stderr, "xl4-bench: conntrack: %llu flows in a %llu-entry table...\n",
			(unsigned long long)n, (unsigned long long)max);
		world_open(&c->w, (__u32)max, false);
		c->vip = world_vip(&c->w, 1, XL4_FWD_L2, 0);
		ct_prefill(c, 1);
		snprintf(desc, 96, "xl4: LB l2, established, random of %llu flows in conntrack",
			 (unsigned long long)n);
		if (n >= 1000000)
			snprintf(label, 32, "ct %lluM", (unsigned long long)(n / 1000000));
		else if (n >= 1000)
			snprintf(label, 32, "ct %lluk", (unsigned long long)(n / 1000));
		else
			snprintf(label, 32, "ct %llu", (unsigned long long)n);
		c->row = nrows;
		r = DRIVEN(label, desc, c->w.e.prog_fd, &dflow, false, n, XDP_TX);
		r->w = &c->w, r->vip = c->vip, r->check = CK_HIT;
		ncs++;
	}
	/* the rate limiter at scale: n IPv6 sources (one /64 each) with a bucket; each packet from a
	 * random one of them, under its rate -> XDP_PASS */
	if (rl_sources) {
		struct drive_bpf *d;
		struct pkt f;
		struct in6_addr s6, d6;
		char *desc = malloc(200);
		double t = now_s();
		__u64 mem, slots;

		inet_pton(AF_INET6, "2001:db8::1", &s6);
		inet_pton(AF_INET6, "2001:db8:1::1", &d6);
		pb_init(&f);
		pb_eth(&f, 0);
		pb_ip6(&f, &(struct pb_ip6){ .src = s6, .dst = d6 });
		pb_udp(&f, FLOW_SPORT, 53);
		pb_finish(&f);
		pkt_pad(&f, 64);
		fworld_limit6(&fw_rl, rl_sources);
		d = driver(fw_rl.e.prog_fd, &f, true, rl_sources);
		d->bss->v6_src = 1;
		{
			/* prefill: sources 0..n-1 once each, in order: n bucket inserts */
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b, .data_size_in = f.len,
				    .repeat = rl_sources);

			if (bpf_prog_test_run_opts(bpf_program__fd(d->progs.drive), &o))
				fatal("rate limiter prefill", -errno);
		}
		d->bss->seq_mode = 0;
		mem = fdinfo_field(bpf_map__fd(fw_rl.e.skel->maps.xl4_rate_v1), "memlock");
		slots = fdinfo_field(bpf_map__fd(fw_rl.e.skel->maps.xl4_rate_v1), "max_entries");
		fprintf(stderr, "xl4-bench: rate limiter: %u sources prefilled in %.2f s, table %llu slots, "
			"%.1f MiB\n", rl_sources, now_s() - t, (unsigned long long)slots, mem / 1048576.0);
		snprintf(desc, 200, "xl4: limit rule, random one of %u IPv6 sources with a bucket, under "
			 "its rate -> PASS (%llu slots, %llu B/slot)", rl_sources,
			 (unsigned long long)slots, (unsigned long long)(slots ? mem / slots : 0));
		r = add_row("rate 1M src", desc, true, bpf_program__fd(d->progs.drive), &f, XDP_PASS);
	}
	/* floors (bench/floor.bpf.c, floor_block.bpf.c): the irreducible work of the LB paths and
	 * of a blocklist hit, after every other row so the rows' numbers stay those of earlier
	 * reports */
	fl_est = floor_open(false);
	floor_add_flow(fl_est, CLIENT4, CLIENT_PORT, 0xc6120101u); /* the direct rows' l2 flow */
	r = add_row("floor l2 est", "reference: floor of the l2 established path: xl4 parse + one "
		    "conntrack LRU lookup + backend MAC rewrite", false,
		    bpf_program__fd(fl_est->progs.floor_est), &est, XDP_TX);
	r->base_pass = b_pass, r->base_parse = b_parse;
	{
		struct pkt f; /* "ipip est"'s frame: driven flow 0 to the ipip VIP */

		fl_ipip = floor_open(false);
		floor_add_flow(fl_ipip, FLOW_SRC, FLOW_SPORT, 0xc6120103u);
		tcp_frame(&f, FLOW_SRC, 0xc6120103u, FLOW_SPORT, 80, TH_ACK | TH_PSH);
		DRIVEN("floor ipip est", "reference: floor of the ipip established path: xl4 parse + "
		       "one conntrack LRU lookup + backend + IPv4-in-IPv4 encapsulation",
		       bpf_program__fd(fl_ipip->progs.floor_ipip), &f, false, 1, XDP_TX);
		DRIVEN("floor ipip lane", "reference: floor ipip est + the contract's least: filter "
		       "flag, the backend's VIP (live, MTU), last-seen tick, one per-CPU counter",
		       bpf_program__fd(fl_ipip->progs.floor_ipip_lane), &f, false, 1, XDP_TX);
	}
	fl_ins = floor_open(true);
	r = add_row("floor insert", "reference: floor of a new flow: parse + jhash + Maglev read + "
		    "one conntrack LRU insert (evicting) + MAC", true,
		    bpf_program__fd((fl_drv = driver(bpf_program__fd(fl_ins->progs.floor_insert), &dsyn,
						     true, 0))->progs.drive),
		    &dsyn, XDP_TX);
	r->fl = fl_ins, r->drv = fl_drv;
	fl_conn = floor_open(true);
	r = add_row("floor conn", "reference: floor of a new connection, per packet: SYN (jhash, "
		    "Maglev read, slot write), ACK (ct miss, slot read, insert)", true,
		    bpf_program__fd((fl_drv = driver_pairs(bpf_program__fd(fl_conn->progs.floor_conn),
							   &dsyn, true, 0, true))->progs.drive),
		    &dsyn, XDP_TX);
	r->fl = fl_conn, r->drv = fl_drv, r->fl_pairs = true;
	/* the SYN half alone, next to "l2 new guard" */
	fl_syn = floor_open(true);
	add_row("floor syn", "reference: floor of a new connection's SYN: parse + jhash + Maglev "
		"read + slot write + MAC", true,
		bpf_program__fd(driver(bpf_program__fd(fl_syn->progs.floor_conn), &dsyn, true, 0)
					->progs.drive),
		&dsyn, XDP_TX);
	/* the guard's emergency SYNs, the same flood as "guard 1st drop" and "guard challenge" */
	DRIVEN("floor fd", "reference: floor of First Drop: xl4 parse + one keyed hash + its bucket "
	       "in an 8 MiB greylist, drop", fl_fd_fd, &dsyn, true, 0, XDP_DROP);
	DRIVEN("floor chal", "reference: floor of the challenge: xl4 parse + SipHash cookie + "
	       "SYN-ACK in place", fl_chal_fd, &dsyn, true, 0, XDP_TX);
	DRIVEN("floor chal vip", "reference: floor of a per-VIP challenge: floor chal + a VIP slot, "
	       "a per-VIP count and budget, a verified bit", fl_chalv_fd, &dsyn, true, 0, XDP_TX);
	/* the blocklist hit: the probe's source in a direct /24 slot (its /32 alone there) */
	fl_blk = floor_block_open(CLIENT4);
	r = add_row("floor block", "reference: floor of an IPv4 blocklist hit: xl4 parse head + /24 "
		    "slot (direct: the host byte) + drop counter", false,
		    bpf_program__fd(fl_blk->progs.floor_block), &valid, XDP_DROP);
	r->base_pass = b_pass, r->base_parse = b_parse;
	r = add_row("floor pass", "reference: floor of a packet for no VIP: xl4 parse + VIP-address "
		    "bit + verdict counter", false, bpf_program__fd(fl_blk->progs.floor_pass), &valid,
		    XDP_PASS);
	r->base_pass = b_pass, r->base_parse = b_parse;
	r = add_row("floor l2 lane", "reference: floor l2 est + the contract's least: filter flag, "
		    "the backend's VIP (live), last-seen tick, one per-CPU counter", false,
		    bpf_program__fd(fl_est->progs.floor_l2_lane), &est, XDP_TX);
	r->base_pass = b_pass, r->base_parse = b_parse;
	for (int i = b_parse + 1; i < nrows; i++)
		if (rows[i].driven)
			rows[i].base_pass = d_pass, rows[i].base_parse = d_parse;

	if (only)
		for (int i = 0; i < nrows; i++)
			if (!rows[i].is_base && !rows[i].skipped && !label_listed(only, rows[i].label))
				rows[i].skipped = "not selected (--only)";
	/* warm-up: one repetition each (establishes the flows of the established rows) */
	for (int i = 0; i < nrows; i++) {
		__u32 ret;
		double ns;

		if (!rows[i].skipped && run_once(&rows[i], 1, &ret, &ns))
			fatal(rows[i].desc, errno);
	}
	/* the measurement: round-robin, `runs` rounds */
	fprintf(stderr, "xl4-bench: %d rounds of %d rows, repeat %u, CPU %d\n", runs, nrows, repeat,
		cpu);
	for (int k = 0; k < runs; k++) {
		for (int i = 0; i < nrows; i++)
			if (!rows[i].skipped)
				measure(&rows[i], k);
		for (int i = 0; i < nrows; i++) {
			struct row *x = &rows[i];

			if (x->skipped)
				continue;
			if (x->base_pass >= 0)
				x->r_pass[k] = x->ns[k] / (rows[x->base_pass].ns[k] ? rows[x->base_pass].ns[k] : 1);
			if (x->base_parse >= 0)
				x->r_parse[k] = x->ns[k] / (rows[x->base_parse].ns[k] ? rows[x->base_parse].ns[k] : 1);
		}
		fprintf(stderr, "xl4-bench: round %d/%d done\n", k + 1, runs);
	}

	printf("Per-path cost, BPF_PROG_TEST_RUN, repeat %u, median of %d runs [min-max], CPU %d\n",
	       repeat, runs, cpu);
	printf("Ratios: median of per-round ratios; direct rows against direct references, driven "
	       "rows against the driven references.\n\n");
	print_rows(stdout, false);
	printf("\nDatapath-cost goals (ratios of rows of this run, per-round medians):\n");
	print_goals(stdout, false);
	printf("\nConntrack at scale (driven, random prefilled flow per packet):\n");
	print_ct(stdout, false, cs, ncs, d_pass);
	if (clock_disagree) {
		printf("\nxl4-bench: WARNING: in %u runs the thread's CPU time and the kernel's own "
		       "average disagreed by more than 1 ns + 2%% (preemption inside the call?):\n",
		       clock_disagree);
		for (unsigned i = 0; i < clock_disagree && i < CLOCK_SEEN_MAX; i++)
			printf("  %s\n", clock_seen[i]);
	}
	printf("\nxl4-bench: %.0f s\n", now_s() - t_start);

	if (out_dir) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/paths.md", out_dir);
		if (!(f = fopen(path, "w")))
			fatal(path, errno);
		print_rows(f, true);
		fclose(f);
		snprintf(path, sizeof(path), "%s/goals.md", out_dir);
		if (!(f = fopen(path, "w")))
			fatal(path, errno);
		print_goals(f, true);
		fclose(f);
		snprintf(path, sizeof(path), "%s/ct.md", out_dir);
		if (!(f = fopen(path, "w")))
			fatal(path, errno);
		print_ct(f, true, cs, ncs, d_pass);
		fclose(f);
		snprintf(path, sizeof(path), "%s/params.txt", out_dir);
		if (!(f = fopen(path, "w")))
			fatal(path, errno);
		fprintf(f, "repeat=%u runs=%d cpu=%d xdp_filter=%s\n", repeat, runs, cpu,
			xf_why[0] || xf_why[2] ? "missing" : "xdp-tools");
		fclose(f);
		write_dat(out_dir);
	}

	for (int i = 0; i < ncs; i++)
		world_close(&cs[i].w);
	fworld_close(&fw_lim);
	if (rl_sources)
		fworld_close(&fw_rl);
	fworld_close(&fw_b1m);
	fworld_close(&fw_b10k);
	fworld_close(&fw_b1);
	world_close(&w_shared);
	world_close(&w_new);
	world_close(&w_nc);
	world_close(&w_est);
	bpf_object__close(o_pass);
	bpf_object__close(o_fl_fd);
	bpf_object__close(o_fl_chal);
	bpf_object__close(o_fl_chalv);
	bpf_object__close(o_parse);
	if (o_xf_miss)
		bpf_object__close(o_xf_miss);
	if (o_xf_hit)
		bpf_object__close(o_xf_hit);
	floor_block_bpf__destroy(fl_blk);
	floor_bpf__destroy(fl_syn);
	floor_bpf__destroy(fl_ipip);
	floor_bpf__destroy(fl_conn);
	floor_bpf__destroy(fl_ins);
	floor_bpf__destroy(fl_est);
	for (int i = 0; i < nrows; i++)
		if (rows[i].bad_verdict || rows[i].fl_missing)
			return 1;
	return 0;
}
