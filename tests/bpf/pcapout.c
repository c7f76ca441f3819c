// SPDX-License-Identifier: GPL-2.0
/* -w: the packets the fixtures run, saved to a pcap (a file of its own: <pcap/bpf.h> and
 * <linux/bpf.h> both define struct bpf_insn and cannot meet in one translation unit). */
#include <stdio.h>
#include <pcap/pcap.h>

#include "harness.h"

static pcap_t *dead;
static pcap_dumper_t *dumper;

int fx_pcap_open(const char *file)
{
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	dumper = dead ? pcap_dump_open(dead, file) : NULL;
	if (!dumper) {
		fprintf(stderr, "fixtures: cannot write %s: %s\n", file,
			dead ? pcap_geterr(dead) : "pcap_open_dead failed");
		return -1;
	}
	return 0;
}

void fx_pcap_write(const struct pkt *p)
{
	struct pcap_pkthdr h = { .caplen = p->len, .len = p->len };

	if (dumper)
		pcap_dump((u_char *)dumper, &h, p->b);
}

void fx_pcap_close(void)
{
	if (dumper)
		pcap_dump_close(dumper);
	if (dead)
		pcap_close(dead);
	dumper = NULL;
	dead = NULL;
}
