// SPDX-License-Identifier: GPL-2.0
/*
 * xl4-gen: a traffic generator with no kernel module. BPF_PROG_TEST_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES) runs tools/gen.bpf.c, which writes a whole frame and returns
 * XDP_TX; test_run transmits it out of --dev (a veth: the frame arrives at its peer, which must
 * run an XDP program, or have GRO or threaded NAPI on, to accept XDP frames).
 *
 *   xl4-gen --dev veth0 --dst 198.18.0.2 --src 198.18.128.0/17 --proto syn --count 1000000
 *
 * Bounded by design: it stops at --count frames or after --duration seconds (default 10,
 * at most 300), whichever comes first, and on SIGINT/SIGTERM. See --help.
 *
 * Cost per test_run call: each call builds and tears down its own page pool, and the first
 * frames of a call pay for fresh pages, so short calls are slow: on a 2-core VM 1 frame per call
 * gave ~25 kpps, 256 ~0.3 Mpps, 4096 ~1.8 Mpps, 65536 (the unpaced default) the full rate. A
 * --rate is kept by sending 1 ms worth per call (--burst to change) and sleeping until the next
 * one is due. Within a call frames leave at full speed, so a receiver slower than that loses
 * what overflows its veth ring (256 frames) even when the average rate is well below its
 * capacity.
 *
 * Life cycle: options → interface and MACs → open skeleton, set rodata → load → attach the same
 * program to lo (keeps it in the XDP dispatcher: without it every test_run call waits for two
 * RCU grace periods and the rate drops about 4x) → pin CPU → send loop → detach → report.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "gen.skel.h"

#define DURATION_DEFAULT 10.0
#define DURATION_MAX 300.0
#define CHUNK_MAX 65536	   /* frames per test_run call at full speed (~20 ms here) */
#define REPLAY_MAX 4096	   /* ranges waiting for their repeat (--dup-gap-ms) */
#define BATCH_MAX 256	   /* the kernel's TEST_XDP_MAX_BATCH */

static const char *prog_name = "xl4-gen";

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- options: one table, --help generated from it ------------------------------------------ */

enum {
	O_DEV = 1, O_SRC_MAC, O_DST_MAC, O_PROTO, O_SRC, O_DST, O_DPORT, O_DUP, O_DUP_GAP, O_RATE,
	O_COUNT, O_DURATION, O_FLOWS, O_BURST, O_CPU, O_BATCH, O_SIZE, O_SEED, O_JSON, O_QUIET, O_HELP,
};

static const struct opt_def {
	const char *name;
	int val;
	const char *arg; /* NULL: a flag */
	const char *help;
} opt_defs[] = {
	{ "dev", O_DEV, "IFNAME", "send out of IFNAME, a veth in this network namespace (required)" },
	{ "src-mac", O_SRC_MAC, "MAC", "source MAC (default: the MAC of --dev)" },
	{ "dst-mac", O_DST_MAC, "MAC", "destination MAC (default: the MAC of the veth peer)" },
	{ "proto", O_PROTO, "syn|udp|ack|rst", "what to send (default: syn)" },
	{ "src", O_SRC, "PREFIX", "random spoofed sources inside PREFIX, IPv4 or IPv6, e.g.\n"
				  "198.18.128.0/17 or 2001:db8:ff::/64 (required)" },
	{ "dst", O_DST, "ADDR", "destination address, same family as --src (required)" },
	{ "dport", O_DPORT, "N", "destination port 1..65535 (default: 80); source ports are random" },
	{ "dup", O_DUP, "N", "send every distinct packet (tuple, TCP sequence number) N times,\n"
			     "1..1000 (default: 1)" },
	{ "dup-gap-ms", O_DUP_GAP, "MS", "space the repeats of a tuple MS ms apart, 1..60000\n"
					 "(default: back to back)" },
	{ "flows", O_FLOWS, "N", "send N distinct tuples round and round (an established-flow\n"
				 "load; default: every tuple new)" },
	{ "rate", O_RATE, "PPS", "frames per second, 0 = as fast as possible (default: 0)" },
	{ "burst", O_BURST, "N", "with --rate: frames per test_run call, 1..65536 (default:\n"
				 "1 ms worth); short calls are slow (a page pool per call)" },
	{ "count", O_COUNT, "N", "stop after N frames (repeats included)" },
	{ "duration", O_DURATION, "SECONDS", "stop after SECONDS, 0.001..300 (default: 10)" },
	{ "cpu", O_CPU, "N", "pin the generator to CPU N (the veth peer's XDP runs there too)" },
	{ "batch", O_BATCH, "N", "frames per test_run batch, 1..256 (default: kernel's, 64)" },
	{ "size", O_SIZE, "BYTES", "UDP: Ethernet frame size without FCS (default: the headers\n"
				   "padded to 60; at most 1514); TCP frames are the headers" },
	{ "seed", O_SEED, "N", "key of the tuple hash (default: 1); same seed, same packets" },
	{ "json", O_JSON, NULL, "print the result as one JSON object" },
	{ "quiet", O_QUIET, NULL, "no warnings" },
	{ "help", O_HELP, NULL, "this text" },
};
#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s --dev IFNAME --src PREFIX --dst ADDR [options]\n\n"
		   "Sends crafted frames out of a veth with BPF_PROG_TEST_RUN live frames (XDP_TX).\n"
		   "Stops at --count frames or after --duration seconds, whichever comes first.\n"
		   "The veth peer must accept XDP frames (an XDP program attached, e.g. XDP_PASS).\n\n"
		   "Options:\n", prog_name);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt_def *o = &opt_defs[i];
		char head[64];
		const char *h, *nl;

		snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-28s", head);
		for (h = o->help; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(f, "%.*s\n  %-28s", (int)(nl - h), h, "");
		fprintf(f, "%s\n", h);
	}
	fprintf(f, "\nPrints frames sent, seconds and frames per second (--json: one object).\n"
		   "Exit status: 0 done; 1 error; 2 bad arguments; 3 --count not reached in time.\n");
}

struct args {
	const char *dev;
	bool have_smac, have_dmac, have_count, json, quiet;
	__u8 smac[6], dmac[6];
	enum gen_proto proto;
	int family;
	__u32 src_net[4], src_mask[4], dst[4];
	unsigned dport, dup, dup_gap_ms, batch, size, burst;
	int cpu;
	__u64 rate, count, seed, flows;
	double duration;
};

static bool parse_u64(const char *opt, const char *s, __u64 min, __u64 max, __u64 *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*s || *s == '-' || *s == ' ') {
		fail("--%s: '%s' is not a non-negative integer", opt, s);
		return false;
	}
	v = strtoull(s, &end, 10);
	if (errno || *end) {
		fail("--%s: '%s' is not a non-negative integer", opt, s);
		return false;
	}
	if (v < min || v > max) {
		fail("--%s: %s is out of range %llu..%llu", opt, s, (unsigned long long)min,
		     (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	__u64 v;

	if (!parse_u64(opt, s, min, max, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_mac(const char *opt, const char *s, __u8 mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
	    strlen(s) != 17) {
		fail("--%s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", opt, s);
		return false;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return true;
}

/* An address of either family into 4 network-order words; returns 4 or 6, 0 if neither. */
static int parse_addr(const char *s, __u32 w[4])
{
	memset(w, 0, 16);
	if (inet_pton(AF_INET, s, &w[0]) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, w) == 1)
		return 6;
	return 0;
}

static bool parse_prefix(const char *opt, const char *s, struct args *a)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned plen, bits;
	int fam;

	if (strlen(s) >= sizeof(buf)) {
		fail("--%s: '%s' is not a prefix", opt, s);
		return false;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash) {
		fail("--%s: '%s' is not a prefix (ADDR/LEN, e.g. 198.18.128.0/17)", opt, s);
		return false;
	}
	*slash = 0;
	fam = parse_addr(buf, a->src_net);
	if (!fam) {
		fail("--%s: '%s' is not an IPv4 or IPv6 address", opt, buf);
		return false;
	}
	bits = fam == 4 ? 32 : 128;
	if (!parse_uint(opt, slash + 1, 0, bits, &plen))
		return false;
	for (unsigned i = 0; i < 4; i++) {
		unsigned lo = i * 32, m;

		if (plen <= lo)
			m = 0;
		else if (plen >= lo + 32)
			m = 0xffffffffu;
		else
			m = 0xffffffffu << (32 - (plen - lo));
		a->src_mask[i] = htonl(m);
		if (fam == 4 && i > 0)
			a->src_mask[i] = 0xffffffffu; /* words 1..3 unused: keep them zero */
		if (a->src_net[i] & ~a->src_mask[i]) {
			fail("--%s: '%s' has host bits set (did you mean the network address?)", opt, s);
			return false;
		}
	}
	a->family = fam;
	return true;
}

static bool parse_args(int argc, char **argv, struct args *a)
{
	struct option lo[N_OPTS + 1];
	bool have_src = false, have_dst = false, have_size = false;
	int dst_fam = 0, c;
	__u64 v;

	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < N_OPTS; i++) {
		lo[i].name = opt_defs[i].name;
		lo[i].has_arg = opt_defs[i].arg ? required_argument : no_argument;
		lo[i].val = opt_defs[i].val;
	}
	*a = (struct args){ .proto = GEN_SYN, .dport = 80, .dup = 1, .cpu = -1,
			    .seed = 1, .duration = DURATION_DEFAULT };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const char *name = NULL;

		for (size_t i = 0; i < N_OPTS; i++)
			if (opt_defs[i].val == c)
				name = opt_defs[i].name;
		switch (c) {
		case O_DEV:
			if (!*optarg || strlen(optarg) >= IFNAMSIZ) {
				fail("--dev: '%s' is not an interface name", optarg);
				return false;
			}
			a->dev = optarg;
			break;
		case O_SRC_MAC:
			if (!parse_mac(name, optarg, a->smac))
				return false;
			a->have_smac = true;
			break;
		case O_DST_MAC:
			if (!parse_mac(name, optarg, a->dmac))
				return false;
			a->have_dmac = true;
			break;
		case O_PROTO:
			if (!strcmp(optarg, "syn"))
				a->proto = GEN_SYN;
			else if (!strcmp(optarg, "udp"))
				a->proto = GEN_UDP;
			else if (!strcmp(optarg, "ack"))
				a->proto = GEN_ACK;
			else if (!strcmp(optarg, "rst"))
				a->proto = GEN_RST;
			else {
				fail("--proto: '%s' is not one of syn, udp, ack, rst", optarg);
				return false;
			}
			break;
		case O_SRC:
			if (!parse_prefix(name, optarg, a))
				return false;
			have_src = true;
			break;
		case O_DST:
			dst_fam = parse_addr(optarg, a->dst);
			if (!dst_fam) {
				fail("--dst: '%s' is not an IPv4 or IPv6 address", optarg);
				return false;
			}
			have_dst = true;
			break;
		case O_DPORT:
			if (!parse_uint(name, optarg, 1, 65535, &a->dport))
				return false;
			break;
		case O_DUP:
			if (!parse_uint(name, optarg, 1, 1000, &a->dup))
				return false;
			break;
		case O_DUP_GAP:
			if (!parse_uint(name, optarg, 1, 60000, &a->dup_gap_ms))
				return false;
			break;
		case O_BURST:
			if (!parse_uint(name, optarg, 1, CHUNK_MAX, &a->burst))
				return false;
			break;
		case O_FLOWS:
			if (!parse_u64(name, optarg, 1, 1ull << 32, &a->flows))
				return false;
			break;
		case O_RATE:
			if (!parse_u64(name, optarg, 0, 100000000, &a->rate))
				return false;
			break;
		case O_COUNT:
			if (!parse_u64(name, optarg, 1, 1ull << 40, &a->count))
				return false;
			a->have_count = true;
			break;
		case O_DURATION: {
			char *end;

			errno = 0;
			a->duration = strtod(optarg, &end);
			if (errno || !*optarg || *end || !(a->duration >= 0.001) ||
			    a->duration > DURATION_MAX) {
				fail("--duration: '%s' is not a number of seconds in 0.001..%.0f", optarg,
				     DURATION_MAX);
				return false;
			}
			break;
		}
		case O_CPU: {
			long n = sysconf(_SC_NPROCESSORS_CONF);

			if (!parse_u64(name, optarg, 0, n > 0 ? (__u64)n - 1 : 0, &v))
				return false;
			a->cpu = (int)v;
			break;
		}
		case O_BATCH:
			if (!parse_uint(name, optarg, 1, BATCH_MAX, &a->batch))
				return false;
			break;
		case O_SIZE:
			if (!parse_uint(name, optarg, 60, 1514, &a->size))
				return false;
			have_size = true;
			break;
		case O_SEED:
			if (!parse_u64(name, optarg, 0, ULLONG_MAX, &a->seed))
				return false;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_QUIET:
			a->quiet = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case ':':
			fail("%s: needs an argument (see --help)", argv[optind - 1]);
			return false;
		default:
			fail("%s: unknown option (see --help)", argv[optind - 1]);
			return false;
		}
	}
	if (optind < argc) {
		fail("'%s': unexpected argument (options only; see --help)", argv[optind]);
		return false;
	}
	if (!a->dev || !have_src || !have_dst) {
		fail("%s%s%s required (see --help)", !a->dev ? "--dev " : "", !have_src ? "--src " : "",
		     !have_dst ? "--dst " : "");
		return false;
	}
	if (dst_fam != a->family) {
		fail("--dst: IPv%d address with an IPv%d --src prefix", dst_fam, a->family);
		return false;
	}
	if (have_size && a->proto != GEN_UDP) {
		fail("--size: only for --proto udp (TCP frames are headers only)");
		return false;
	}
	if (have_size && a->size < 14 + (a->family == 4 ? 20 : 40) + 8) {
		fail("--size: %u bytes cannot hold the Ethernet, IPv6 and UDP headers (62)", a->size);
		return false;
	}
	if (a->burst && !a->rate) {
		fail("--burst: only with --rate (unpaced calls send %d frames each)", CHUNK_MAX);
		return false;
	}
	if (a->flows && a->dup_gap_ms) {
		fail("--flows: not with --dup-gap-ms");
		return false;
	}
	if (a->dup_gap_ms && a->dup < 2) {
		fail("--dup-gap-ms: needs --dup 2 or more");
		return false;
	}
	if (a->dup_gap_ms && a->dup_gap_ms / 1000.0 * (a->dup - 1) >= a->duration && !a->quiet)
		fprintf(stderr, "%s: warning: --dup-gap-ms %u x %u repeats is longer than --duration %g s\n",
			prog_name, a->dup_gap_ms, a->dup - 1, a->duration);
	return true;
}

/* ---- the interface and its veth peer ------------------------------------------------------ */

struct nlreq {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[64];
};

static void nl_put_s32(struct nlreq *r, int type, __s32 v)
{
	struct rtattr *rta = (void *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(rta), &v, sizeof(v));
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

struct link_info {
	int link;	/* IFLA_LINK: the veth peer's ifindex, in its own namespace */
	int netnsid;	/* IFLA_LINK_NETNSID, -1 when the peer is in this namespace */
	bool have_mac, xdp;
	__u8 mac[6];
};

/* RTM_GETLINK for ifindex (in the namespace netnsid names, when >= 0). */
static int nl_getlink(int ifindex, int netnsid, struct link_info *li)
{
	struct nlreq req = { 0 };
	char buf[16384];
	int fd, len, err = -ENODATA;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	if (netnsid >= 0)
		nl_put_s32(&req, IFLA_TARGET_NETNSID, netnsid);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	len = (int)recv(fd, buf, sizeof(buf), 0);
	if (len < 0) {
		err = -errno;
		goto out;
	}
	*li = (struct link_info){ .link = 0, .netnsid = -1 };
	for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, (unsigned)len); nh = NLMSG_NEXT(nh, len)) {
		struct ifinfomsg *ifi;
		struct rtattr *rta;
		int rlen;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
			break;
		}
		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		ifi = NLMSG_DATA(nh);
		rlen = (int)IFLA_PAYLOAD(nh);
		for (rta = IFLA_RTA(ifi); RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
			switch (rta->rta_type) {
			case IFLA_LINK:
				li->link = *(int *)RTA_DATA(rta);
				break;
			case IFLA_LINK_NETNSID:
				li->netnsid = *(int *)RTA_DATA(rta);
				break;
			case IFLA_ADDRESS:
				if (RTA_PAYLOAD(rta) == 6) {
					memcpy(li->mac, RTA_DATA(rta), 6);
					li->have_mac = true;
				}
				break;
			case IFLA_XDP: {
				struct rtattr *x = RTA_DATA(rta);
				int xlen = (int)RTA_PAYLOAD(rta);

				for (; RTA_OK(x, xlen); x = RTA_NEXT(x, xlen))
					if (x->rta_type == IFLA_XDP_ATTACHED)
						li->xdp = *(__u8 *)RTA_DATA(x) != XDP_ATTACHED_NONE;
				break;
			}
			}
		}
		err = 0;
		break;
	}
out:
	close(fd);
	return err;
}

/* ---- the run ---------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t, .tv_nsec = (long)((t - (double)(time_t)t) * 1e9) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* A range of tuples waiting for its next repeat (--dup-gap-ms). */
struct replay {
	double due;
	__u64 tbase, n;
	unsigned left; /* repeats still to send */
};

struct gen {
	struct gen_bpf *skel;
	int prog_fd;
	__u8 frame[1536];
	__u32 frame_len;
	struct xdp_md xmd;
	unsigned batch;
	const char *stopped_by;
};

/* One test_run call: n frames. Returns 0, or -errno (-EINTR: a signal; frames may be partial). */
static int send_frames(struct gen *g, __u64 n)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = g->frame, .data_size_in = g->frame_len,
		    .ctx_in = &g->xmd, .ctx_size_in = sizeof(g->xmd), .repeat = (__u32)n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = g->batch);

	if (bpf_prog_test_run_opts(g->prog_fd, &o))
		return -errno;
	return 0;
}

static const char *proto_name(enum gen_proto p)
{
	static const char *const names[] = { "syn", "udp", "ack", "rst" };

	return names[p];
}

int main(int argc, char **argv)
{
	struct args a;
	struct gen g = { 0 };
	struct replay *rq = NULL;
	unsigned rq_head = 0, rq_len = 0;
	int ifindex, lo_ifindex, err, rc = 1;
	bool lo_attached = false;
	double t0, t_end, elapsed;
	__u64 sent, next_t = 0, chunk;

	if (!parse_args(argc, argv, &a))
		return 2;

	/* 1. the interface, and the peer's MAC when not given */
	ifindex = (int)if_nametoindex(a.dev);
	if (!ifindex) {
		fail("--dev: no interface '%s' in this network namespace", a.dev);
		return 1;
	}
	{
		/* netlink, not /sys/class/net: sysfs belongs to the namespace it was mounted in */
		struct link_info li, peer;

		err = nl_getlink(ifindex, -1, &li);
		if (err) {
			fail("%s: netlink RTM_GETLINK: %s", a.dev, strerror(-err));
			return 1;
		}
		if (!a.have_smac) {
			if (!li.have_mac) {
				fail("--dev: %s has no MAC address: give --src-mac", a.dev);
				return 1;
			}
			memcpy(a.smac, li.mac, 6);
		}
		if (!li.link || (li.link == ifindex && li.netnsid < 0)) {
			if (!a.have_dmac) {
				fail("--dev: %s has no veth peer: give --dst-mac", a.dev);
				return 1;
			}
		} else {
			err = nl_getlink(li.link, li.netnsid, &peer);
			if (err || !peer.have_mac) {
				if (!a.have_dmac) {
					fail("--dev: cannot find the MAC of %s's peer (%s): give --dst-mac",
					     a.dev, err ? strerror(-err) : "no address");
					return 1;
				}
			} else {
				if (!a.have_dmac)
					memcpy(a.dmac, peer.mac, 6);
				if (!peer.xdp && !a.quiet)
					fprintf(stderr, "%s: warning: the peer of %s runs no XDP program: a veth "
						"drops XDP_TX'd frames unless its peer has XDP, GRO or threaded "
						"NAPI on\n", prog_name, a.dev);
			}
		}
	}
	lo_ifindex = (int)if_nametoindex("lo");

	/* 2. the frame test_run starts from (its bytes are rewritten by the program anyway) */
	g.frame_len = 14 + (a.family == 4 ? 20 : 40) + (a.proto == GEN_UDP ? 8 : 20);
	if (a.proto == GEN_UDP && a.size)
		g.frame_len = a.size;
	if (g.frame_len < 60)
		g.frame_len = 60;
	g.xmd.data_end = g.frame_len;
	g.xmd.ingress_ifindex = (__u32)ifindex;
	g.batch = a.batch;

	/* 3. open the skeleton, set the rodata, load */
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	g.skel = gen_bpf__open();
	if (!g.skel) {
		fail("cannot open the BPF object: %s", strerror(errno));
		return 1;
	}
	{
		struct gen_cfg *c = (struct gen_cfg *)&g.skel->rodata->cfg;

		c->ifindex = (__u32)ifindex;
		c->family = (__u32)a.family;
		c->proto = a.proto;
		c->frame_len = g.frame_len;
		memcpy(c->src_net, a.src_net, sizeof(c->src_net));
		memcpy(c->src_mask, a.src_mask, sizeof(c->src_mask));
		memcpy(c->dst, a.dst, sizeof(c->dst));
		c->seed = a.seed;
		c->dport = (__u16)a.dport;
		memcpy(c->smac, a.smac, 6);
		memcpy(c->dmac, a.dmac, 6);
	}
	err = gen_bpf__load(g.skel);
	if (err) {
		fail("cannot load the BPF program: %s", strerror(-err));
		goto out;
	}
	g.prog_fd = bpf_program__fd(g.skel->progs.gen);
	g.skel->bss->dup = a.dup_gap_ms ? 1 : a.dup;
	g.skel->bss->flows = a.flows;

	/* 4. keep the program in the XDP dispatcher: attach it (generic mode) to lo */
	if (lo_ifindex) {
		err = bpf_xdp_attach(lo_ifindex, g.prog_fd,
				     XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (!err)
			lo_attached = true;
		else if (!a.quiet)
			fprintf(stderr, "%s: warning: cannot attach to lo (%s): every test_run call "
				"re-patches the XDP dispatcher, expect a lower rate\n",
				prog_name, strerror(-err));
	}

	/* 5. pin */
	if (a.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(a.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fail("--cpu %d: %s", a.cpu, strerror(errno));
			goto out;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	/* 6. send: full-speed calls of CHUNK_MAX frames, or paced calls of ~1 ms of frames */
	chunk = a.rate ? a.rate / 1000 : CHUNK_MAX;
	if (chunk < 1)
		chunk = 1;
	if (chunk > CHUNK_MAX)
		chunk = CHUNK_MAX;
	if (a.burst)
		chunk = a.burst;
	if (a.dup_gap_ms) {
		rq = calloc(REPLAY_MAX, sizeof(*rq));
		if (!rq) {
			fail("out of memory");
			goto out;
		}
	}
	t0 = now_s();
	t_end = t0 + a.duration;
	g.stopped_by = "duration";
	for (;;) {
		__u64 done = g.skel->bss->frames, n;
		double t = now_s();

		if (stop_signal) {
			g.stopped_by = "signal";
			break;
		}
		if (a.have_count && done >= a.count) {
			g.stopped_by = "count";
			break;
		}
		if (t >= t_end)
			break;
		if (a.rate) {
			double due = t0 + (double)done / (double)a.rate;

			if (due > t_end)
				break;
			if (due > t) {
				sleep_until(due);
				continue;
			}
		}
		n = chunk;
		if (a.have_count && n > a.count - done)
			n = a.count - done;
		if (a.dup_gap_ms) {
			/* a range whose repeat is due goes first; else a new range of tuples */
			struct replay *r = rq_len ? &rq[rq_head] : NULL;

			if (r && (r->due <= t || rq_len == REPLAY_MAX)) {
				if (r->due > t) {
					sleep_until(r->due < t_end ? r->due : t_end);
					continue;
				}
				if (n > r->n)
					n = r->n;
				g.skel->bss->tbase = r->tbase;
				g.skel->bss->nbase = done;
				if (n < r->n) { /* only the --count remainder: last call */
					r->n = n;
				}
				r->left--;
				if (r->left) {
					struct replay again = *r;

					again.due += a.dup_gap_ms / 1000.0;
					rq_head = (rq_head + 1) % REPLAY_MAX;
					rq[(rq_head + rq_len - 1) % REPLAY_MAX] = again;
				} else {
					rq_head = (rq_head + 1) % REPLAY_MAX;
					rq_len--;
				}
			} else {
				if (a.have_count) {
					/* leave room for the repeats of what is already scheduled */
					__u64 sched = done;

					for (unsigned i = 0; i < rq_len; i++)
						sched += rq[(rq_head + i) % REPLAY_MAX].n *
							 rq[(rq_head + i) % REPLAY_MAX].left;
					if (sched >= a.count) {
						/* everything left is a repeat: wait for it */
						if (r)
							sleep_until(r->due < t_end ? r->due : t_end);
						continue;
					}
					n = (a.count - sched + a.dup - 1) / a.dup;
					if (n > chunk)
						n = chunk;
				}
				g.skel->bss->tbase = next_t;
				g.skel->bss->nbase = done;
				rq[(rq_head + rq_len) % REPLAY_MAX] = (struct replay){
					.due = t + a.dup_gap_ms / 1000.0, .tbase = next_t, .n = n,
					.left = a.dup - 1 };
				rq_len++;
				next_t += n;
			}
		}
		err = send_frames(&g, n);
		if (err == -EINTR)
			continue; /* stop_signal is set; the frame counter has what was sent */
		if (err) {
			fail("BPF_PROG_TEST_RUN (live frames) on %s: %s%s", a.dev, strerror(-err),
			     err == -EINVAL ? " (kernel without BPF_F_TEST_XDP_LIVE_FRAMES?)" : "");
			goto out;
		}
	}
	elapsed = now_s() - t0;
	sent = g.skel->bss->frames;

	/* 7. report */
	if (a.json)
		printf("{\"dev\":\"%s\",\"proto\":\"%s\",\"family\":%d,\"frames\":%llu,\"seconds\":%.6f,"
		       "\"pps\":%.0f,\"rate\":%llu,\"dup\":%u,\"dup_gap_ms\":%u,\"frame_bytes\":%u,"
		       "\"flows\":%llu,\"cpu\":%d,\"stopped_by\":\"%s\"}\n",
		       a.dev, proto_name(a.proto), a.family, (unsigned long long)sent, elapsed,
		       elapsed > 0 ? (double)sent / elapsed : 0.0, (unsigned long long)a.rate, a.dup,
		       a.dup_gap_ms, g.frame_len, (unsigned long long)a.flows, a.cpu, g.stopped_by);
	else
		printf("sent %llu frames (%s, %u bytes) in %.3f s: %.0f pps (stopped by %s)\n",
		       (unsigned long long)sent, proto_name(a.proto), g.frame_len, elapsed,
		       elapsed > 0 ? (double)sent / elapsed : 0.0, g.stopped_by);
	rc = 0;
	if (a.have_count && sent < a.count) {
		fail("--count %llu not reached: %llu frames sent before %s", (unsigned long long)a.count,
		     (unsigned long long)sent, !strcmp(g.stopped_by, "signal") ? "a signal" : "--duration");
		rc = 3;
	}
out:
	if (lo_attached) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, d, .old_prog_fd = g.prog_fd);

		/* detach only our own program, whatever was attached since */
		bpf_xdp_detach(lo_ifindex, XDP_FLAGS_SKB_MODE | XDP_FLAGS_REPLACE, &d);
	}
	free(rq);
	gen_bpf__destroy(g.skel);
	return rc;
}
