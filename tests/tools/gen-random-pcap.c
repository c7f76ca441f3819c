// SPDX-License-Identifier: GPL-2.0
/*
 * gen-random-pcap: write N random and mutated Ethernet frames to a pcap, reproducibly.
 *
 *   gen-random-pcap [-s SEED] [-m MINLEN] N FILE.pcap
 *
 * Frames come from tests/bpf/pktrand.c: valid templates from the packet builder, then byte
 * flips, truncation, wild length fields, or wholly random bytes. MINLEN (default 14, an
 * Ethernet header) is the shortest frame written: no NIC delivers less, and the kernel
 * refuses BPF_PROG_TEST_RUN below it. Used by tests/bpf/random-replay.sh.
 */
#include <pcap/pcap.h> /* before the kernel UAPI headers pktbuild.h pulls in */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The tool rule builds one source file per binary, so the builder and the generator are
 * compiled in here rather than linked. */
#include "pktbuild.c"
#include "pktrand.c"

int main(int argc, char **argv)
{
	unsigned long long seed = 1;
	unsigned long n, min_len = ETH_HLEN;
	struct prng r;
	pcap_dumper_t *d;
	pcap_t *dead;
	int opt;

	while ((opt = getopt(argc, argv, "s:m:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			min_len = strtoul(optarg, NULL, 0);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	n = strtoul(argv[optind], NULL, 0);
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	d = dead ? pcap_dump_open(dead, argv[optind + 1]) : NULL;
	if (!d) {
		fprintf(stderr, "gen-random-pcap: cannot write %s: %s\n", argv[optind + 1],
			dead ? pcap_geterr(dead) : "pcap_open_dead failed");
		return 1;
	}
	r.s = seed;
	for (unsigned long i = 0; i < n; i++) {
		static struct pkt p;
		struct pcap_pkthdr h = { .ts = { .tv_sec = 1700000000 + i / 1000000,
						 .tv_usec = i % 1000000 } };

		pr_packet(&p, &r, min_len);
		h.caplen = h.len = p.len;
		pcap_dump((u_char *)d, &h, p.b);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return 0;
usage:
	fprintf(stderr, "usage: %s [-s SEED] [-m MINLEN] N FILE.pcap\n", argv[0]);
	return 2;
}
