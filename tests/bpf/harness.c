// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "counters.h"
#include "harness.h"
#include "names.h"
#include "testrun.h"
#include "uparse.h"
#include "xl4/abi.h"

struct fx_state fx;

int fx_clock_set(int clock_fd, uint64_t ns)
{
	struct xl4_clock c = { .test_ns = ns };
	__u32 zero = 0;

	return bpf_map_update_elem(clock_fd, &zero, &c, BPF_ANY) ? -errno : 0;
}

bool fx_setup_fail(const char *name, const char *what, const char *err)
{
	fx_fail(name, true, "%s: %s", what, err);
	fx_count(name, false);
	return false;
}

void fx_pin(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	sched_getaffinity(0, sizeof(*old), old);
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

void fx_unpin(const cpu_set_t *old)
{
	sched_setaffinity(0, sizeof(*old), old);
}

bool fx_selected(const char *name)
{
	return !fx.filter || strstr(name, fx.filter);
}

void fx_count(const char *name, bool ok)
{
	if (ok) {
		fx.passed++;
		if (fx.verbose)
			printf("ok   %s\n", name);
	} else {
		fx.failed++;
	}
}


/* Both packets side by side, 16 bytes a row, only rows that differ; '^' under each
 * differing byte. */
void fx_hexdiff(const uint8_t *want, uint32_t wlen, const uint8_t *got, uint32_t glen)
{
	uint32_t max = wlen > glen ? wlen : glen;

	printf("       output: want %u bytes, got %u bytes\n", wlen, glen);
	for (uint32_t row = 0; row < max; row += 16) {
		bool same = true;

		for (uint32_t i = row; i < row + 16 && i < max; i++)
			if (i >= wlen || i >= glen || want[i] != got[i])
				same = false;
		if (same)
			continue;
		printf("       %04x want:", row);
		for (uint32_t i = row; i < row + 16 && i < max; i++)
			i < wlen ? printf(" %02x", want[i]) : printf("   ");
		printf("\n       %04x got: ", row);
		for (uint32_t i = row; i < row + 16 && i < max; i++)
			i < glen ? printf(" %02x", got[i]) : printf("   ");
		printf("\n                 ");
		for (uint32_t i = row; i < row + 16 && i < max; i++)
			printf(i < wlen && i < glen && want[i] == got[i] ? "   " : " ^^");
		printf("\n");
	}
}

static const char *stat_name(unsigned int idx, char *buf, size_t n)
{
	if (idx < XL4_STAT_REASON_BASE)
		snprintf(buf, n, "verdict[%s]", xl4_verdict_name(idx));
	else
		snprintf(buf, n, "reason[%s]", xl4_reason_name(idx - XL4_STAT_REASON_BASE));
	return buf;
}

/* Every counter moved by exactly what one packet of `len` bytes with this verdict and
 * reason should move it, and nothing else moved. With print, say which did not. */
static bool counters_match(const struct xl4_totals *before, const struct xl4_totals *after,
			   uint32_t verdict, uint32_t reason, uint32_t len, bool print)
{
	bool ok = true;
	char buf[64];

	for (unsigned int i = 0; i < XL4_STAT_MAX; i++) {
		__u64 want_pk = 0, dp, db;

		if (i == verdict || (verdict == XDP_DROP && i == XL4_STAT_REASON_BASE + reason))
			want_pk = 1;
		dp = after->c[i].packets - before->c[i].packets;
		db = after->c[i].bytes - before->c[i].bytes;
		if (dp == want_pk && db == want_pk * len)
			continue;
		ok = false;
		if (print)
			printf("       counter %s: want +%llu packets +%llu bytes, got +%llu +%llu\n",
			       stat_name(i, buf, sizeof(buf)), (unsigned long long)want_pk,
			       (unsigned long long)(want_pk * len), (unsigned long long)dp,
			       (unsigned long long)db);
	}
	return ok;
}

/* One failure line under a "FAIL name" header printed once per fixture; returns false. */
bool fx_fail(const char *name, bool first, const char *fmt, ...)
{
	va_list ap;

	if (first)
		printf("FAIL %s\n", name);
	printf("       ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

bool fx_check(const char *name, enum fx_engine eng, const struct pkt *in, uint32_t verdict,
	      uint32_t reason, const struct pkt *want_out)
{
	static uint8_t out[XL4_RUN_OUT_MAX];
	const struct pkt *w = want_out ? want_out : in;
	const struct xl4_engine *e = &fx.eng[eng];
	struct xl4_totals before, after;
	struct xl4_run_result r;
	unsigned int ureason;
	bool ok = true;
	int err;

	if (!fx_selected(name))
		return true;
	fx_pcap_write(in);
	ureason = fx_uparse(in->b, in->len, eng == ENG_DROP ? XL4_FRAG_DROP : XL4_FRAG_PASS);

	/* The kernel refuses test runs below an Ethernet header (bpf_test_init: size < ETH_HLEN
	 * is -EINVAL), and no NIC delivers such a frame: xl4_run_packet() answers eth_trunc
	 * itself, without the kernel, and the user-space parser must agree. */
	if (in->len < ETH_HLEN) {
		err = xl4_run_packet(e, in->b, in->len, out, sizeof(out), &r);
		if (err || r.verdict != XDP_DROP || r.reason != XL4_R_ETH_TRUNC)
			ok = fx_fail(name, ok, "%u-byte frame: want drop/eth_trunc from xl4_run_packet, "
				     "got err %d, %s/%s", in->len, err, xl4_verdict_name(r.verdict),
				     xl4_reason_name(r.reason));
		if (ureason != reason)
			ok = fx_fail(name, ok, "user-space xl4_parse: want reason %s, got %s",
				     xl4_reason_name(reason), xl4_reason_name(ureason));
		fx_count(name, ok);
		return ok;
	}

	if ((err = xl4_counters_read(e->stats_fd, &before)) ||
	    (err = xl4_run_packet(e, in->b, in->len, out, sizeof(out), &r)) ||
	    (err = xl4_counters_read(e->stats_fd, &after))) {
		fx_fail(name, true, "test run failed: %s", strerror(-err));
		fx_count(name, false);
		return false;
	}
	if (r.verdict == XDP_ABORTED)
		ok = fx_fail(name, ok, "verdict aborted: the program must never abort");
	if (r.verdict != verdict || r.reason != reason)
		ok = fx_fail(name, ok, "want %s/%s, got %s/%s", xl4_verdict_name(verdict),
			     xl4_reason_name(reason), xl4_verdict_name(r.verdict),
			     xl4_reason_name(r.reason));
	if (ureason != r.reason)
		ok = fx_fail(name, ok, "user-space xl4_parse gives %s, the BPF program %s (divergence)",
			     xl4_reason_name(ureason), xl4_reason_name(r.reason));
	if (r.out_len != w->len || memcmp(out, w->b, w->len)) {
		ok = fx_fail(name, ok, "output bytes differ%s", want_out ? "" : " (want unchanged)");
		fx_hexdiff(w->b, w->len, out, r.out_len);
	}
	if (!counters_match(&before, &after, verdict, reason, in->len, false)) {
		ok = fx_fail(name, ok, "counter deltas wrong:");
		counters_match(&before, &after, verdict, reason, in->len, true);
	}
	if (ok) {
		fx.passed++;
		if (fx.verbose)
			printf("ok   %-56s %s/%s\n", name, xl4_verdict_name(verdict),
			       xl4_reason_name(reason));
	} else {
		fx.failed++;
	}
	return ok;
}
