// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "uparse.h"

unsigned int fx_uparse(const void *data, uint32_t len, uint32_t frag_policy)
{
	struct xl4_pkt p = { .frag_policy = frag_policy };
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	if (!copy) {
		perror("malloc");
		exit(2);
	}
	memcpy(copy, data, len);
	ret = xl4_parse(copy, copy + len, &p);
	free(copy);
	return ret < 0 ? (unsigned int)-ret : 0;
}
