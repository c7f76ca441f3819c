// SPDX-License-Identifier: GPL-2.0
/*
 * The analyzer's evidence and its blocks, on the real program (docs/guard.md "The analyzer"):
 * - a sampled drop names the transport header the parser found, so a SYN whose ports lie past
 *   the 64-byte head (IPv4 options to IHL 15, two VLAN tags, an IPv6 hop-by-hop + destination
 *   options chain) still shows its ports and protocol, in the record and in its JSON;
 * - a scoped blocklist entry (xl4_filter_block_syn(), what the analyzer writes) drops only new
 *   SYNs from its prefix to its VIP: the prefix's ACKs (established flows), its SYNs to another
 *   VIP and to the host's own services pass; it never shadows a full block of a shorter
 *   prefix; it is widened, not duplicated, for a second VIP; it is never renewed; it expires.
 *
 * Fixture names: autoblock/<event|scope>/<v4|v6>/<step>.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "event_fmt.h"
#include "filter_state.h"
#include "harness.h"
#include "lb_state.h"
#include "testrun.h"
#include "xl4.skel.h"
#include "xl4/abi.h"

#define A_SEED 0x5eedab10u
#define A_RING 1009
#define SEC_NS 1000000000ull
#define T0 (5000 * SEC_NS)
#define SPORT 40123 /* not the builder's default client port */
#define API_PORT 443
#define HOST_PORT 179 /* a service of the host itself (BGP): not a VIP */

static const uint8_t MAC_BE[ETH_ALEN] = { 0x02, 0xbe, 0, 0, 0, 2 };

struct aworld {
	struct xl4_engine eng;
	struct xl4_lb lb;
	struct xl4_filter f;
	struct ring_buffer *rb;
	int loaded, lb_ok, f_ok, v6, clock_fd;
	uint8_t web, api; /* VIP ids */
	uint64_t now;
};

/* the last event the ring buffer gave, and how many */
static struct {
	int n;
	struct xl4_event ev;
} last;

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (xl4_event_read(data, len, &last.ev))
		last.n++;
	return 0;
}

static void clock_set(struct aworld *w, uint64_t ns)
{
	w->now = ns;
	fx_clock_set(w->clock_fd, ns);
}

static bool vip_add(struct aworld *w, const char *name, uint16_t port, uint8_t *id, char *err)
{
	struct xl4_vip_spec vs = { .port = port, .proto = IPPROTO_TCP, .mode = XL4_FWD_L2 };
	struct xl4_backend_spec bs = { .weight = 1, .has_mac = true };

	snprintf(vs.name, sizeof(vs.name), "%s", name);
	vs.family = bs.family = w->v6 ? 6 : 4;
	if (w->v6) {
		memcpy(vs.addr, &VIP6, 16);
		memcpy(bs.addr, &BACKEND6, 16);
	} else {
		vs.addr[0] = htonl(VIP4);
		bs.addr[0] = htonl(BACKEND4);
	}
	memcpy(bs.mac, MAC_BE, ETH_ALEN);
	if (xl4_lb_vip_add(&w->lb, &vs, err, 256) || xl4_lb_backend_add(&w->lb, name, &bs, err, 256))
		return false;
	*id = xl4_lb_vip_find(&w->lb, name)->id;
	return true;
}

static bool world_open(struct aworld *w, int v6, const char *name)
{
	struct xl4_engine_opts o = { .pin_path = NULL, .trace = true, .ring_size = A_RING,
				     .ct_max = 16384, .sample_per_sec = 1000,
				     .frag_policy = XL4_FRAG_PASS, .test_clock = true };
	struct xl4_lb_settings s = { .seed = A_SEED, .ring_size = A_RING };
	char err[256];
	int e;

	memset(w, 0, sizeof(*w));
	w->v6 = v6;
	if ((e = xl4_engine_load(&w->eng, &o)))
		return fx_setup_fail(name, "xl4_engine_load", strerror(-e));
	w->loaded = 1;
	w->clock_fd = bpf_map__fd(w->eng.skel->maps.data_clock);
	if ((e = xl4_lb_init(&w->lb, &w->eng.lb, &s)))
		return fx_setup_fail(name, "xl4_lb_init", strerror(-e));
	w->lb_ok = 1;
	if (!vip_add(w, "web", VIP_PORT, &w->web, err) || !vip_add(w, "api", API_PORT, &w->api, err))
		return fx_setup_fail(name, "VIP set-up", err);
	if ((e = xl4_filter_init(&w->f, &w->eng.filter, 0)))
		return fx_setup_fail(name, "xl4_filter_init", strerror(-e));
	w->f_ok = 1;
	w->rb = ring_buffer__new(w->eng.events_fd, on_event, NULL, NULL);
	if (!w->rb)
		return fx_setup_fail(name, "ring_buffer__new", strerror(errno));
	clock_set(w, T0);
	return true;
}

static void world_close(struct aworld *w)
{
	if (w->rb)
		ring_buffer__free(w->rb);
	if (w->f_ok)
		xl4_filter_free(&w->f);
	if (w->lb_ok)
		xl4_lb_free(&w->lb);
	if (w->loaded)
		xl4_engine_close(&w->eng);
	memset(w, 0, sizeof(*w));
}

/* ---- packets ---- */

enum shape { PLAIN, IP4_OPTS, QINQ_OPTS, IP6_EXTS };

/* A TCP segment from the client (198.18.0.9 / 2001:db8::9, or `other`: 198.18.5.9 /
 * 2001:db8:5::9, outside the blocked prefixes) to dst_port on the VIP address (or, with
 * to_host, to 198.18.3.3 / 2001:db8:3::3, an address of the host's own). */
static void seg(struct pkt *p, int v6, enum shape shape, uint8_t flags, uint16_t dport, int other,
		int to_host)
{
	uint8_t opts[40];

	memset(opts, 1, sizeof(opts)); /* 39 NOPs and an end of list: IHL 15 */
	opts[39] = 0;
	pb_init(p);
	pb_eth(p, 0);
	if (shape == QINQ_OPTS) {
		pb_vlan(p, ETH_P_8021AD, 7);
		pb_vlan(p, ETH_P_8021Q, 42);
	}
	if (v6) {
		struct pb_ip6 s = { .dst = VIP6, .hop_limit = 51 };

		inet_pton(AF_INET6, other ? "2001:db8:5::9" : "2001:db8::9", &s.src);
		if (to_host)
			inet_pton(AF_INET6, "2001:db8:3::3", &s.dst);
		pb_ip6(p, &s);
		if (shape == IP6_EXTS) {
			pb_ext(p, IPPROTO_HOPOPTS, 16);
			pb_ext(p, IPPROTO_DSTOPTS, 24);
		}
	} else {
		struct pb_ip4 s = { .src = other ? 0xc6120509u : 0xc6120009u,
				    .dst = to_host ? 0xc6120303u : VIP4, .id = 0x1d1d, .ttl = 51,
				    .frag = IP4_DF };

		if (shape == IP4_OPTS || shape == QINQ_OPTS) {
			s.opts = opts;
			s.optlen = sizeof(opts);
		}
		pb_ip4(p, &s);
	}
	pb_tcp(p, SPORT, dport, flags);
	pb_finish(p);
}

static int send1(struct aworld *w, const struct pkt *in, __u32 *reason)
{
	static uint8_t out[XL4_RUN_OUT_MAX];
	struct xl4_run_result r;

	if (xl4_run_packet(&w->eng, in->b, in->len, out, sizeof(out), &r))
		return -1;
	*reason = r.reason;
	return (int)r.verdict;
}

/* One packet, its verdict and reason checked. */
static bool expect(struct aworld *w, const char *name, const struct pkt *in, int verdict,
		   __u32 reason)
{
	__u32 got_reason = 0;
	int got;
	bool ok = true;

	if (!fx_selected(name))
		return true;
	got = send1(w, in, &got_reason);
	if (got != verdict || (verdict == XDP_DROP && got_reason != reason))
		ok = fx_fail(name, ok, "want verdict %d reason %u, got verdict %d reason %u", verdict,
			     reason, got, got_reason);
	fx_count(name, ok);
	return ok;
}

static struct xl4_prefix pfx(int v6, const char *s4, const char *s6)
{
	struct xl4_prefix p;
	char err[128];

	xl4_prefix_parse(v6 ? s6 : s4, &p, err, sizeof(err));
	return p;
}

/* ---- the event's transport fields ---- */

static void run_event(int v6)
{
	static const enum shape shapes4[] = { IP4_OPTS, QINQ_OPTS }, shapes6[] = { IP6_EXTS, QINQ_OPTS };
	struct aworld w;
	struct xl4_prefix b = pfx(v6, "198.18.0.0/24", "2001:db8::/64");
	char name[96], err[256];

	snprintf(name, sizeof(name), "autoblock/event/v%d/setup", v6 ? 6 : 4);
	if (!world_open(&w, v6, name))
		return;
	if (xl4_filter_list_add(&w.f, XL4_LIST_BLOCK, &b, 1, 0, err, sizeof(err))) {
		fx_setup_fail(name, "block", err);
		world_close(&w);
		return;
	}
	for (int i = 0; i < 2; i++) {
		enum shape sh = v6 ? shapes6[i] : shapes4[i];
		const char *what = sh == IP4_OPTS ? "ihl15" : sh == IP6_EXTS ? "hbh_dstopts" : "qinq";
		unsigned want_off;
		struct pkt p;
		json_t *o;
		bool ok = true;

		seg(&p, v6, sh, TH_SYN, VIP_PORT, 0, 0);
		want_off = (unsigned)p.l4;
		snprintf(name, sizeof(name), "autoblock/event/v%d/%s", v6 ? 6 : 4, what);
		if (!fx_selected(name))
			continue;
		ring_buffer__consume(w.rb);
		last.n = 0;
		if (!expect(&w, name, &p, XDP_DROP, XL4_R_FILTER_BLOCK))
			continue;
		ring_buffer__consume(w.rb);
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "/fields");
		if (last.n != 1) {
			ok = fx_fail(name, ok, "want 1 event, got %d", last.n);
			fx_count(name, ok);
			continue;
		}
		/* the ports lie past the head: the point of the fields */
		if (want_off + 4 <= XL4_SAMPLE_BYTES)
			ok = fx_fail(name, ok, "the test's packet has its ports at %u, inside the head", want_off);
		if (!(last.ev.l4_flags & XL4_EV_L4_PORTS) || !(last.ev.l4_flags & XL4_EV_L4_PROTO))
			ok = fx_fail(name, ok, "l4_flags 0x%x: want ports and proto", last.ev.l4_flags);
		if (last.ev.l4_off != want_off || ntohs(last.ev.sport) != SPORT ||
		    ntohs(last.ev.dport) != VIP_PORT || last.ev.l4_proto != IPPROTO_TCP)
			ok = fx_fail(name, ok, "want l4_off %u ports %u->%u proto 6, got %u ports %u->%u proto %u",
				     want_off, SPORT, VIP_PORT, last.ev.l4_off, ntohs(last.ev.sport),
				     ntohs(last.ev.dport), last.ev.l4_proto);
		/* and what the daemon's analyzer reads: the JSON */
		o = xl4_event_json(&last.ev);
		if (json_integer_value(json_object_get(o, "dport")) != VIP_PORT ||
		    json_integer_value(json_object_get(o, "sport")) != SPORT ||
		    json_integer_value(json_object_get(o, "proto")) != IPPROTO_TCP ||
		    strcmp(json_string_value(json_object_get(o, "src")) ?: "", v6 ? "2001:db8::9" : "198.18.0.9"))
			ok = fx_fail(name, ok, "the event's JSON lacks the ports, protocol or source");
		json_decref(o);
		fx_count(name, ok);
	}
	/* An allow rule for the VIP's address lets a later fragment on to the load balancer,
	 * which drops it (lb_frag): the event names no rule (the allow rule's id used to stay in
	 * its detail), and no ports (a later fragment has none: what follows its IPv4 header is
	 * payload, which the head's decoder used to print as ports). */
	snprintf(name, sizeof(name), "autoblock/event/v%d/later-fragment-after-allow-rule", v6 ? 6 : 4);
	if (fx_selected(name)) {
		struct xl4_rule_spec r = { .dst = pfx(v6, "198.18.1.1/32", "2001:db8:1::1/128"),
					   .proto = XL4_PROTO_ANY, .action = XL4_RULE_ALLOW };
		uint8_t junk[64];
		struct pkt p;
		uint32_t id;
		bool ok = true;

		memset(junk, 0x11, sizeof(junk)); /* "ports" 4369 -> 4369 if misread */
		pb_init(&p);
		pb_eth(&p, 0);
		/* from outside the blocked prefix (198.18.0.0/24, 2001:db8::/64) */
		if (v6) {
			struct in6_addr src = CLIENT6;

			src.s6_addr[7] = 0x99;
			pb_ip6(&p, &(struct pb_ip6){ .src = src, .dst = VIP6 });
			pb_frag6(&p, 100, 0, 0x77);
		} else {
			pb_ip4(&p, &(struct pb_ip4){ .src = 0xc6120909u, .dst = VIP4, .frag = 100 });
		}
		pb_raw(&p, IPPROTO_TCP, junk, sizeof(junk));
		pb_finish(&p);
		if (xl4_filter_rule_add(&w.f, &r, &id, err, sizeof(err))) {
			ok = fx_fail(name, ok, "allow rule: %s", err);
		} else {
			ring_buffer__consume(w.rb);
			last.n = 0;
			if (expect(&w, name, &p, XDP_DROP, XL4_R_LB_FRAG)) {
				json_t *o;

				ring_buffer__consume(w.rb);
				if (last.n != 1)
					ok = fx_fail(name, ok, "want 1 event, got %d", last.n);
				else if (last.ev.detail != 0)
					ok = fx_fail(name, ok, "event detail %u: want 0 (no rule dropped it)",
						     last.ev.detail);
				o = last.n == 1 ? xl4_event_json(&last.ev) : NULL;
				if (o && (json_object_get(o, "sport") || json_object_get(o, "dport") ||
					  json_object_get(o, "rule")))
					ok = fx_fail(name, ok, "the event's JSON shows ports or a rule");
				json_decref(o);
			}
			xl4_filter_rule_del(&w.f, id, err, sizeof(err));
		}
		fx_count(name, ok);
	}
	/* a record of an older datapath (no L4 fields) still reads, with none */
	snprintf(name, sizeof(name), "autoblock/event/v%d/old_record", v6 ? 6 : 4);
	if (fx_selected(name)) {
		struct xl4_event ev = last.ev, got;
		bool ok = true;

		memset((char *)&ev + XL4_EVENT_V1_SIZE, 0x5a, sizeof(ev) - XL4_EVENT_V1_SIZE);
		if (!xl4_event_read(&ev, XL4_EVENT_V1_SIZE, &got) || got.l4_flags || got.reason != ev.reason)
			ok = fx_fail(name, ok, "a %d-byte record must read with l4_flags 0", XL4_EVENT_V1_SIZE);
		if (xl4_event_read(&ev, XL4_EVENT_V1_SIZE - 1, &got))
			ok = fx_fail(name, ok, "a short record must not read");
		fx_count(name, ok);
	}
	world_close(&w);
}

/* ---- scoped blocks ---- */

static void run_scope(int v6)
{
	struct aworld w;
	struct xl4_prefix p24 = pfx(v6, "198.18.0.0/24", "2001:db8::/64");
	struct xl4_prefix p16 = pfx(v6, "198.18.0.0/16", "2001:db8::/48");
	struct pkt syn, ack, syn_api, syn_host, syn_other, syn_other_api, syn_opts;
	struct xl4_prefix_entry e;
	struct xl4_lpm6_key k = { .prefixlen = p24.len };
	int fd;
	uint64_t until = T0 + 60 * SEC_NS;
	char name[96], err[256], pre[32];
	int ret;

	snprintf(pre, sizeof(pre), "autoblock/scope/v%d", v6 ? 6 : 4);
	snprintf(name, sizeof(name), "%s/setup", pre);
	if (!world_open(&w, v6, name))
		return;
	fd = v6 ? w.f.maps.block6 : w.f.maps.block4;
	memcpy(k.addr, p24.addr, 16); /* the v4 key {prefixlen, addr} is the v6 key's head */
	seg(&syn, v6, PLAIN, TH_SYN, VIP_PORT, 0, 0);
	seg(&ack, v6, PLAIN, TH_ACK, VIP_PORT, 0, 0);
	seg(&syn_api, v6, PLAIN, TH_SYN, API_PORT, 0, 0);
	seg(&syn_host, v6, PLAIN, TH_SYN, HOST_PORT, 0, 1);
	seg(&syn_other, v6, PLAIN, TH_SYN, VIP_PORT, 1, 0);
	seg(&syn_other_api, v6, PLAIN, TH_SYN, API_PORT, 1, 0);
	seg(&syn_opts, v6, v6 ? IP6_EXTS : IP4_OPTS, TH_SYN, VIP_PORT, 0, 0);

#define STEP(s) (snprintf(name, sizeof(name), "%s/%s", pre, s), name)
	ret = xl4_filter_block_syn(&w.f, &p24, w.web, w.now, until, err, sizeof(err));
	if (ret) {
		fx_setup_fail(STEP("add"), "xl4_filter_block_syn", err);
		world_close(&w);
		return;
	}
	expect(&w, STEP("syn_to_vip_dropped"), &syn, XDP_DROP, XL4_R_FILTER_BLOCK);
	expect(&w, STEP("syn_with_options_dropped"), &syn_opts, XDP_DROP, XL4_R_FILTER_BLOCK);
	expect(&w, STEP("ack_passes"), &ack, XDP_TX, 0);
	expect(&w, STEP("syn_to_other_vip_passes"), &syn_api, XDP_TX, 0);
	expect(&w, STEP("syn_to_host_passes"), &syn_host, XDP_PASS, 0);
	expect(&w, STEP("other_prefix_passes"), &syn_other, XDP_TX, 0);

	/* never renewed: a second ask for the same VIP writes nothing */
	snprintf(name, sizeof(name), "%s/not_renewed", pre);
	if (fx_selected(name)) {
		bool ok = true;

		ret = xl4_filter_block_syn(&w.f, &p24, w.web, w.now, until + 600 * SEC_NS, err, sizeof(err));
		if (ret != -EEXIST)
			ok = fx_fail(name, ok, "want -EEXIST, got %d", ret);
		if (bpf_map_lookup_elem(fd, &k, &e) || e.expires_ns != until || e.scope != XL4_BLOCK_SCOPE_SYN ||
		    e.vip != w.web)
			ok = fx_fail(name, ok, "the entry changed (expires %llu, scope %u, vip %u)",
				     (unsigned long long)e.expires_ns, e.scope, e.vip);
		if (w.f.n_scoped != 1)
			ok = fx_fail(name, ok, "n_scoped %zu, want 1", w.f.n_scoped);
		fx_count(name, ok);
	}

	/* a full block of a shorter prefix is not shadowed by the scoped entry */
	if (xl4_filter_list_add(&w.f, XL4_LIST_BLOCK, &p16, 1, 0, err, sizeof(err)))
		fx_setup_fail(STEP("full_add"), "block", err);
	expect(&w, STEP("full_block_under_scope_drops_ack"), &ack, XDP_DROP, XL4_R_FILTER_BLOCK);
	snprintf(name, sizeof(name), "%s/full_block_has_no_scoped_deadline", pre);
	if (fx_selected(name))
		fx_count(name, xl4_filter_scoped_until(w.f.maps.block4, w.f.maps.block6, &p16) == 0 ||
				       fx_fail(name, true, "an operator's block read as the analyzer's"));
	expect(&w, STEP("full_block_under_scope_drops_syn_api"), &syn_api, XDP_DROP, XL4_R_FILTER_BLOCK);
	snprintf(name, sizeof(name), "%s/covered_by_full_block", pre);
	if (fx_selected(name)) {
		struct xl4_prefix p32 = pfx(v6, "198.18.0.9/32", "2001:db8::9/128");

		ret = xl4_filter_block_syn(&w.f, &p32, w.web, w.now, until, err, sizeof(err));
		fx_count(name, ret == -EEXIST || fx_fail(name, true, "want -EEXIST, got %d", ret));
	}
	xl4_filter_list_del(&w.f, XL4_LIST_BLOCK, &p16, 1, err, sizeof(err));

	/* a second VIP from the same prefix: the entry widens to every VIP, its deadline kept */
	snprintf(name, sizeof(name), "%s/widened", pre);
	ret = xl4_filter_block_syn(&w.f, &p24, w.api, w.now, until + 600 * SEC_NS, err, sizeof(err));
	if (fx_selected(name)) {
		bool ok = ret == 0 || fx_fail(name, true, "want 0, got %d: %s", ret, err);

		if (bpf_map_lookup_elem(fd, &k, &e) || e.vip != XL4_BLOCK_VIP_ANY || e.expires_ns != until)
			ok = fx_fail(name, ok, "want vip any, expires %llu; got vip %u expires %llu",
				     (unsigned long long)until, e.vip, (unsigned long long)e.expires_ns);
		if (w.f.n_scoped != 1)
			ok = fx_fail(name, ok, "n_scoped %zu, want 1", w.f.n_scoped);
		/* what the analyzer is told, so that its block for the second VIP ends with this */
		if (xl4_filter_scoped_until(w.f.maps.block4, w.f.maps.block6, &p24) != until)
			ok = fx_fail(name, ok, "scoped deadline %llu, want %llu",
				     (unsigned long long)xl4_filter_scoped_until(w.f.maps.block4,
										  w.f.maps.block6, &p24),
				     (unsigned long long)until);
		fx_count(name, ok);
	}
	expect(&w, STEP("widened_drops_syn_api"), &syn_api, XDP_DROP, XL4_R_FILTER_BLOCK);
	expect(&w, STEP("widened_drops_syn_web"), &syn, XDP_DROP, XL4_R_FILTER_BLOCK);
	expect(&w, STEP("widened_ack_passes"), &ack, XDP_TX, 0);
	expect(&w, STEP("widened_syn_to_host_passes"), &syn_host, XDP_PASS, 0);

	/* the deadline: at it the entry is gone for the datapath, one tick before it holds */
	clock_set(&w, until - 1);
	expect(&w, STEP("before_expiry_drops"), &syn, XDP_DROP, XL4_R_FILTER_BLOCK);
	clock_set(&w, until);
	expect(&w, STEP("expired_passes"), &syn, XDP_TX, 0);
	snprintf(name, sizeof(name), "%s/swept", pre);
	if (fx_selected(name)) {
		int n = xl4_filter_sweep(&w.f, w.now);

		fx_count(name, (n == 1 && w.f.n_scoped == 0) ||
				       fx_fail(name, true, "sweep removed %d, n_scoped %zu", n, w.f.n_scoped));
	}

	/* the operator's block over a scoped entry makes it a full one */
	snprintf(name, sizeof(name), "%s/operator_overrides", pre);
	if (fx_selected(name)) {
		bool ok = true;

		xl4_filter_block_syn(&w.f, &p24, w.web, w.now, w.now + 60 * SEC_NS, err, sizeof(err));
		if (xl4_filter_list_add(&w.f, XL4_LIST_BLOCK, &p24, 1, 0, err, sizeof(err)))
			ok = fx_fail(name, ok, "block: %s", err);
		if (w.f.n_scoped != 0)
			ok = fx_fail(name, ok, "n_scoped %zu, want 0", w.f.n_scoped);
		fx_count(name, ok);
		expect(&w, STEP("operator_block_drops_ack"), &ack, XDP_DROP, XL4_R_FILTER_BLOCK);
	}

	/* the VIP id names no VIP any more (or another): its scoped blocks go, not others' */
	snprintf(name, sizeof(name), "%s/unscope_vip", pre);
	if (fx_selected(name)) {
		struct xl4_prefix p32 = pfx(v6, "198.18.5.9/32", "2001:db8:5::9/128");
		bool ok = true;
		int n;

		xl4_filter_block_syn(&w.f, &p32, w.api, w.now, w.now + 60 * SEC_NS, err, sizeof(err));
		expect(&w, STEP("unscope_before_drops"), &syn_other_api, XDP_DROP, XL4_R_FILTER_BLOCK);
		snprintf(name, sizeof(name), "%s/unscope_vip", pre);
		if ((n = xl4_filter_unscope_vip(&w.f, w.web)) != 0)
			ok = fx_fail(name, ok, "unscope of web removed %d, want 0", n);
		if ((n = xl4_filter_unscope_vip(&w.f, w.api)) != 1 || w.f.n_scoped != 0)
			ok = fx_fail(name, ok, "unscope of api removed %d (want 1), n_scoped %zu", n, w.f.n_scoped);
		fx_count(name, ok);
		expect(&w, STEP("unscope_after_passes"), &syn_other_api, XDP_TX, 0);
	}
#undef STEP
	world_close(&w);
}

/* ---- what spares a prefix: connection-table entries from it ---- */

/* xl4_ct_count_from() over more entries than one batch holds: 9,000 flows from elsewhere,
 * 10 from the prefix (one of them put there by the program itself: a SYN with the guard off),
 * none from its neighbour. */
static void run_ct_count(int v6)
{
	struct aworld w;
	struct xl4_prefix in = pfx(v6, "198.18.0.0/24", "2001:db8::/64");
	struct xl4_prefix next = pfx(v6, "198.18.1.0/24", "2001:db8:0:1::/64");
	struct xl4_prefix one = pfx(v6, "198.18.0.9/32", "2001:db8::9/128");
	struct xl4_flow f = { .backend_id = 0 };
	struct pkt syn;
	char name[96];
	__u32 reason = 0;
	bool ok = true;
	int ct4, ct6;

	snprintf(name, sizeof(name), "autoblock/ct_count/v%d", v6 ? 6 : 4);
	if (!fx_selected(name) || !world_open(&w, v6, name))
		return;
	ct4 = bpf_map__fd(w.eng.skel->maps.xl4_ct4_v1);
	ct6 = bpf_map__fd(w.eng.skel->maps.xl4_ct_v1);
	seg(&syn, v6, PLAIN, TH_SYN, VIP_PORT, 0, 0);
	if (send1(&w, &syn, &reason) != XDP_TX)
		ok = fx_fail(name, ok, "the SYN was not forwarded (reason %u)", reason);
	for (int i = 0; i < 9009; i++) {
		struct xl4_flow_key k = { .sport = htons(1000 + i % 60000), .dport = htons(VIP_PORT),
					  .proto = IPPROTO_TCP, .family = v6 ? 6 : 4 };
		int mine = i < 9;

		if (v6) {
			struct in6_addr a;

			inet_pton(AF_INET6, mine ? "2001:db8::100" : "2001:db8:77::", &a);
			a.s6_addr[12] = i >> 8; /* inside the /64 for mine, spread otherwise */
			a.s6_addr[13] = i & 0xff;
			memcpy(k.saddr, &a, 16);
			memcpy(k.daddr, &VIP6, 16);
		} else {
			k.saddr[0] = htonl(mine ? 0xc6120010u + i : 0xc6400000u + i); /* 198.64/16 */
			k.daddr[0] = htonl(VIP4);
		}
		if (xl4_ct_update(ct4, ct6, &k, &f, BPF_ANY)) {
			ok = fx_fail(name, ok, "ct insert %d: %s", i, strerror(errno));
			break;
		}
	}
	/* an older build's IPv4 key left in the IPv6 table, its bytes inside the IPv6 prefix: no
	 * IPv6 client, not counted */
	if (ok && v6) {
		struct xl4_flow_key k = { .saddr = { htonl(0x20010db8), 0, 0, htonl(0x100) },
					  .sport = htons(999), .dport = htons(VIP_PORT),
					  .proto = IPPROTO_TCP, .family = 4 };

		if (bpf_map_update_elem(ct6, &k, &f, BPF_ANY))
			ok = fx_fail(name, ok, "IPv4 key into xl4_ct_v1: %s", strerror(errno));
	}
	if (ok) {
		long long a = xl4_ct_count_from(ct4, ct6, &in), b = xl4_ct_count_from(ct4, ct6, &next),
			  c = xl4_ct_count_from(ct4, ct6, &one);

		if (a != 10 || b != 0 || c != 1)
			ok = fx_fail(name, ok, "flows from the prefix %lld (want 10), its neighbour %lld "
				     "(want 0), the SYN's source %lld (want 1)", a, b, c);
	}
	fx_count(name, ok);
	world_close(&w);
}

void suite_autoblock(void)
{
	for (int v6 = 0; v6 <= 1; v6++) {
		run_event(v6);
		run_scope(v6);
		run_ct_count(v6);
	}
}
