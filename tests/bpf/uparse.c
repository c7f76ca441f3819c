// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <endian.h>
#include <string.h>

#include "parse.h"
#include "uparse.h"

/* exactly len bytes on the heap (a sanitizer sees an over-read) */
static uint8_t *heap_copy(const void *data, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy) {
		perror("malloc");
		exit(2);
	}
	memcpy(copy, data, len);
	return copy;
}

unsigned int fx_uparse(const void *data, uint32_t len, uint32_t frag_policy)
{
	struct xl4_pkt p = { .frag_policy = frag_policy };
	uint8_t *copy = heap_copy(data, len);
	int ret = xl4_parse(copy, copy + len, &p);

	free(copy);
	return ret < 0 ? (unsigned int)-ret : 0;
}

void fx_uparse_parts(const void *data, uint32_t len, uint32_t frag_policy, struct fx_uparsed *u)
{
	struct xl4_pkt p = { .frag_policy = frag_policy };
	uint8_t *copy = heap_copy(data, len);
	struct xl4_cursor c = { .pos = copy, .end = copy + len, .start = copy };
	int ret;

	u->head = xl4_parse_head(&c, &p);
	ret = u->head < 0 ? u->head : xl4_parse_rest(&c, &p, u->head);
	u->reason = ret < 0 ? (unsigned int)-ret : 0;
	memcpy(u->src, p.t.saddr, sizeof(u->src));
	u->l3 = p.l3_off & XL4_L3_OFF_MASK;
	u->l4 = p.t.flags & XL4_F_L4 ? p.l4_off & XL4_OFF_MASK : 0;
	u->proto = p.t.proto;
	u->tcp_flags = p.t.tcp_flags;
	u->sport = be16toh(p.t.sport);
	u->dport = be16toh(p.t.dport);
	free(copy);
}
