// SPDX-License-Identifier: GPL-2.0
/*
 * BPF fixtures: the real XDP program run over table-driven packets with BPF_PROG_TEST_RUN.
 *
 *   fixtures [-v] [-s SEED] [-n COUNT] [-w FILE.pcap] [FILTER]
 *
 * FILTER checks only fixtures whose name contains it (e.g. "tcp_flags", "/v6/", "sweep"). The
 * load balancer's packets that it does not name still run, unchecked, so a step that builds on
 * an earlier one (an ICMP error about a flow a SYN set up) sees the same maps as in a full run.
 * -v prints a line per fixture; -s/-n set the random suite's seed and packet count; -w writes
 * every table and sweep packet to a pcap (for tcpdump -vv: it checks the builder's checksums).
 * Needs root (BPF). The last line is "fixtures: N passed, N failed"; the exit code is 0 only
 * when nothing failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "xl4/abi.h"

static int load(enum fx_engine which, const struct xl4_engine_opts *o)
{
	int err = xl4_engine_load(&fx.eng[which], o);

	if (err)
		fprintf(stderr, "fixtures: cannot load the engine (frag policy %s): %s\n",
			which == ENG_DROP ? "drop" : "pass", strerror(-err));
	return err;
}

void suite_agent(void); /* tests/bpf/agent_cases.c: the backend agent's TC programs */

int main(int argc, char **argv)
{
	unsigned long long seed = 1;
	const char *wfile = NULL;
	int count = 20000, opt;

	while ((opt = getopt(argc, argv, "vs:n:w:h")) != -1) {
		switch (opt) {
		case 'v':
			fx.verbose++;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'w':
			wfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-v] [-s SEED] [-n COUNT] [-w FILE.pcap] [FILTER]\n", argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		fx.filter = argv[optind];
	xl4_log_init(fx.verbose > 1 ? 2 : 0);
	if (wfile && fx_pcap_open(wfile))
		return 2;

	if (geteuid() != 0) {
		printf("fixtures: skipped: BPF_PROG_TEST_RUN needs root\n");
		printf("fixtures: 0 passed, 0 failed, 1 skipped\n");
		return 77;
	}
	/* one engine per fragment policy; the drop-policy one also samples drops (100/s) so the
	 * ring-buffer path runs too */
	if (load(ENG_PASS, &(struct xl4_engine_opts){ .pin_path = NULL, .trace = true,
						      .sample_per_sec = 0,
						      .frag_policy = XL4_FRAG_PASS }) ||
	    load(ENG_DROP, &(struct xl4_engine_opts){ .pin_path = NULL, .trace = true,
						      .sample_per_sec = 100,
						      .frag_policy = XL4_FRAG_DROP })) {
		printf("fixtures: 0 passed, 1 failed\n");
		return 1;
	}

	fx.seed = seed;
	suite_catalogue();
	suite_sweep();
	suite_random(seed, count);
	suite_lb();
	suite_filter();
	suite_guard();
	suite_autoblock();
	suite_exit();
	suite_clock();
	suite_agent();

	xl4_engine_close(&fx.eng[ENG_DROP]);
	xl4_engine_close(&fx.eng[ENG_PASS]);
	fx_pcap_close();
	if (fx.skipped)
		printf("fixtures: %d passed, %d failed, %d skipped\n", fx.passed, fx.failed,
		       fx.skipped);
	else
		printf("fixtures: %d passed, %d failed\n", fx.passed, fx.failed);
	return fx.failed ? 1 : 0;
}
