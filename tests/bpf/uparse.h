/* SPDX-License-Identifier: GPL-2.0 */
/* The user-space build of bpf/parse.h, behind a plain interface so the fixtures can compare
 * it with the BPF program (parse.h's kernel UAPI includes stay out of the other files). */
#ifndef XL4_TESTS_UPARSE_H
#define XL4_TESTS_UPARSE_H

#include <stdint.h>

/* Parse a copy of the frame (exactly len bytes on the heap, so a sanitizer would see an
 * over-read) with the given enum xl4_frag_policy; returns the drop reason, XL4_R_NONE on 0. */
unsigned int fx_uparse(const void *data, uint32_t len, uint32_t frag_policy);

/* The parse in the pipeline's two parts: head is xl4_parse_head()'s answer (the ethertype, or
 * minus a drop reason), reason the whole parse's (0: none), src the source address as far as
 * the parse got (IPv4: the first word, once the fixed header is whole). When the whole parse
 * accepts an IP packet: l3 and l4 are its IP and transport headers' offsets (l4 0 for a later
 * fragment), proto the transport, tcp_flags its flags byte, sport and dport in host order. */
struct fx_uparsed {
	int head;
	unsigned int reason;
	uint32_t src[4];
	uint32_t l3, l4;
	uint8_t proto, tcp_flags;
	uint16_t sport, dport;
};
void fx_uparse_parts(const void *data, uint32_t len, uint32_t frag_policy, struct fx_uparsed *u);

#endif
