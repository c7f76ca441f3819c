// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include <jansson.h>

#include "ct_lru.h"
#include "engine.h"
#include "engine_opts.h"
#include "guard_state.h"
#include "lb_state.h"
#include "log.h"
#include "names.h"
#include "replay.h"
#include "testrun.h"

struct tally {
	unsigned long packets, errors, verdicts[XL4_VERDICT_MAX + 1], reasons[XL4_REASON_MAX];
};

static void report_error(const struct xl4_replay_opts *o, unsigned long idx, unsigned len, int err)
{
	char why[160];

	if (err == -ENOSPC || err == -EINVAL)
		snprintf(why, sizeof(why), "%u bytes: more than one XDP buffer holds (a page); the kernel "
			 "will not run it", len);
	else
		snprintf(why, sizeof(why), "the kernel refused the test run: %s", strerror(-err));
	if (o->json) {
		json_t *e = json_pack("{s:I, s:s, s:s, s:i, s:s}", "index", (json_int_t)idx, "verdict",
				      "error", "reason", "none", "len", (int)len, "error", why);
		char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);

		puts(s);
		free(s);
		json_decref(e);
	} else {
		printf("%lu error %s\n", idx, why);
	}
}

static void hex(FILE *out, const unsigned char *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		fprintf(out, "%02x", p[i]);
}

static void print_text(unsigned long idx, const struct xl4_run_result *r, unsigned len,
		       unsigned wire_len, const unsigned char *out)
{
	printf("%lu %s", idx, xl4_verdict_name(r->verdict));
	if (r->verdict == XL4_V_DROP)
		printf(" %s", xl4_reason_name(r->reason));
	printf(" len=%u", len);
	if (wire_len != len)
		printf(" (the capture cut it: %u bytes on the wire)", wire_len);
	if (r->modified) {
		printf(" out_len=%u out=", r->out_len);
		hex(stdout, out, r->out_len);
	}
	putchar('\n');
}

static void print_json(unsigned long idx, const struct xl4_run_result *r, unsigned len,
		       unsigned wire_len, const unsigned char *out)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:b}", "index", (json_int_t)idx, "verdict",
			      xl4_verdict_name(r->verdict), "reason", xl4_reason_name(r->reason),
			      "len", (int)len, "modified", r->modified);
	char *s;

	if (wire_len != len)
		json_object_set_new(o, "wire_len", json_integer(wire_len));
	if (r->modified) {
		char *h = malloc(2 * r->out_len + 1);

		for (unsigned i = 0; h && i < r->out_len; i++)
			snprintf(h + 2 * i, 3, "%02x", out[i]);
		if (h) {
			h[2 * r->out_len] = '\0';
			json_object_set_new(o, "out_len", json_integer(r->out_len));
			json_object_set_new(o, "out", json_string(h));
		}
		free(h);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(o);
}

static void print_summary(const struct tally *t)
{
	fprintf(stderr, "replayed %lu packets", t->packets);
	for (unsigned v = 0; v < XL4_VERDICT_MAX; v++)
		if (t->verdicts[v])
			fprintf(stderr, "%s %s %lu", v ? "," : ":", xl4_verdict_name(v), t->verdicts[v]);
	if (t->errors)
		fprintf(stderr, ", %lu not run (too large for XDP)", t->errors);
	fputc('\n', stderr);
	for (unsigned r = 1; r < XL4_REASON_MAX; r++)
		if (t->reasons[r])
			fprintf(stderr, "  drop %-22s %lu\n", xl4_reason_name(r), t->reasons[r]);
}

/* Provision the configuration's VIPs as the daemon would. There is no neighbour table to ask
 * here: a backend without a configured MAC gets 00:00:00:00:00:00 in its output frames. */
static int provision_lb(struct xl4_lb *lb, struct xl4_engine *eng, const struct xl4_config *cfg)
{
	struct xl4_lb_settings s;
	char err[256];
	int ret;

	xl4_lb_settings_from_config(cfg, &s);
	if ((ret = xl4_lb_init(lb, &eng->lb, &s))) {
		pr_warn("cannot set up the load balancer maps: %s", strerror(-ret));
		return ret;
	}
	if (cfg->n_vips && !cfg->lb.seed_set)
		pr_warn("lb.seed is not set: backends chosen here differ from any daemon's");
	for (int i = 0; i < cfg->n_vips; i++) {
		const struct xl4_vip_conf *vc = &cfg->vips[i];

		if ((ret = xl4_lb_vip_add(lb, &vc->spec, err, sizeof(err))))
			goto fail;
		for (int j = 0; j < vc->n_backends; j++) {
			struct xl4_backend_spec b = vc->backends[j];

			b.has_mac = true; /* known or zero: replay sends nothing anywhere */
			if ((ret = xl4_lb_backend_add(lb, vc->spec.name, &b, err, sizeof(err))))
				goto fail;
		}
	}
	return 0;
fail:
	pr_warn("%s: %s", cfg->path, err);
	return ret;
}

/* The flood guard as the daemon sets it up (a fresh key: these maps are private), and the
 * mode --guard-force asks for on every TCP VIP. */
static int provision_guard(struct xl4_lb *lb, struct xl4_engine *eng, const struct xl4_config *cfg,
			   const struct xl4_replay_opts *o)
{
	bool kept;
	int ret;

	/* all three cookie keys fresh: whatever epoch the capture's clock falls in has one */
	if ((ret = xl4_guard_keys_rotate(&eng->guard, cfg->guard.key_rotation_s, 0)) < 0 ||
	    (ret = xl4_guard_cfg_write(&eng->guard, &cfg->guard, &kept))) {
		pr_warn("cannot write the flood guard's settings: %s", strerror(-ret));
		return ret;
	}
	if (o->guard_force < 0)
		return 0;
	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		if (!lb->vips[i].used || lb->vips[i].spec.proto != IPPROTO_TCP)
			continue;
		if ((ret = xl4_guard_ctl_set(&eng->guard, i, o->guard_force, o->guard_level))) {
			pr_warn("cannot set the flood guard's mode: %s", strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int xl4_replay(const struct xl4_config *cfg, const struct xl4_replay_opts *o)
{
	struct xl4_engine_opts eo;
	struct xl4_lb lb = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const unsigned char *pkt;
	unsigned char *out = NULL;
	pcap_dumper_t *dump = NULL;
	pcap_t *in, *dead = NULL;
	struct xl4_engine eng;
	struct tally t = { 0 };
	int rc = 1, ret;

	in = pcap_open_offline(o->capture, errbuf);
	if (!in) {
		pr_warn("cannot read capture %s: %s", o->capture, errbuf);
		return 1;
	}
	if (pcap_datalink(in) != DLT_EN10MB) {
		pr_warn("%s: link type %s is not supported (xl4 sees Ethernet frames: capture with "
			"-i on an Ethernet/veth interface, not 'any')",
			o->capture, pcap_datalink_val_to_name(pcap_datalink(in)) ?: "unknown");
		goto out_pcap;
	}
	/* load: the same object and sizes as the daemon, private maps, verdict tracing on, no
	 * drop events (nobody reads them here) */
	xl4_engine_opts_from_config(cfg, &eo);
	eo.pin_path = NULL;
	xl4_ct_lru_settle_here(&eo); /* no pins: the CPUs alone, quietly unless they decide */
	eo.sample_per_sec = 0;
	eo.trace = true;
	if (xl4_engine_load(&eng, &eo))
		goto out_pcap;
	if (provision_lb(&lb, &eng, cfg) || provision_guard(&lb, &eng, cfg, o))
		goto out_engine;
	out = malloc(XL4_RUN_OUT_MAX);
	if (!out)
		goto out_engine;
	if (o->write_path) {
		dead = pcap_open_dead(DLT_EN10MB, 65535);
		dump = dead ? pcap_dump_open(dead, o->write_path) : NULL;
		if (!dump) {
			pr_warn("cannot write %s: %s", o->write_path, dead ? pcap_geterr(dead) : "no memory");
			goto out_engine;
		}
	}
	while ((ret = pcap_next_ex(in, &h, &pkt)) == 1) {
		struct xl4_run_result r;
		int err;

		t.packets++;
		err = xl4_run_packet(&eng, pkt, h->caplen, out, XL4_RUN_OUT_MAX, &r);
		if (err) {
			/* The kernel refuses frames larger than one XDP buffer (a page): no driver
			 * hands those to XDP without multi-buffer support. Say so and go on. */
			t.errors++;
			report_error(o, t.packets, h->caplen, err);
			continue;
		}
		t.verdicts[r.verdict < XL4_VERDICT_MAX ? r.verdict : XL4_VERDICT_MAX]++;
		if (r.verdict == XL4_V_DROP)
			t.reasons[r.reason < XL4_REASON_MAX ? r.reason : 0]++;
		if (o->json)
			print_json(t.packets, &r, h->caplen, h->len, out);
		else if (!o->quiet)
			print_text(t.packets, &r, h->caplen, h->len, out);
		if (dump && r.verdict != XL4_V_DROP && r.verdict != XL4_V_ABORTED) {
			struct pcap_pkthdr oh = { .ts = h->ts, .caplen = r.out_len, .len = r.out_len };

			pcap_dump((unsigned char *)dump, &oh, out);
		}
	}
	if (ret == PCAP_ERROR) {
		pr_warn("%s: capture is corrupt after packet %lu: %s", o->capture, t.packets,
			pcap_geterr(in));
		goto out_dump;
	}
	fflush(stdout);
	print_summary(&t);
	rc = 0;
out_dump:
	if (dump)
		pcap_dump_close(dump);
	if (dead)
		pcap_close(dead);
out_engine:
	free(out);
	xl4_lb_free(&lb);
	xl4_engine_close(&eng);
out_pcap:
	pcap_close(in);
	return rc;
}
