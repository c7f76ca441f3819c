// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "prefix.h"

static void mask_bits(uint8_t *a, int bytes, int len)
{
	for (int i = 0; i < bytes; i++) {
		int keep = len - i * 8;

		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

int xl4_prefix_parse(const char *s, struct xl4_prefix *p, char *err, size_t errlen)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	uint8_t masked[16];
	int max;

	memset(p, 0, sizeof(*p));
	if (n == 0 || n >= sizeof(host)) {
		snprintf(err, errlen, "'%.64s' is not an address or prefix", s);
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, p->addr) == 1) {
		p->family = 4;
	} else if (inet_pton(AF_INET6, host, p->addr) == 1) {
		p->family = 6;
	} else {
		snprintf(err, errlen, "'%.64s' is not an IPv4 or IPv6 address", host);
		return -EINVAL;
	}
	max = p->family == 4 ? 32 : 128;
	if (slash && xl4_parse_uint(slash + 1, 0, max, &len)) {
		snprintf(err, errlen, "'%.64s': prefix length must be 0..%d", s, max);
		return -EINVAL;
	}
	p->len = slash ? (uint8_t)len : (uint8_t)max;
	memcpy(masked, p->addr, 16);
	mask_bits(masked, max / 8, p->len);
	if (memcmp(masked, p->addr, max / 8)) {
		char fixed[INET6_ADDRSTRLEN];

		inet_ntop(p->family == 4 ? AF_INET : AF_INET6, masked, fixed, sizeof(fixed));
		snprintf(err, errlen, "'%.64s' has host bits set; did you mean %s/%u?", s, fixed, p->len);
		return -EINVAL;
	}
	return 0;
}

void xl4_prefix_str(const struct xl4_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

int xl4_prefix_contains(const struct xl4_prefix *p, int family, const __be32 addr[4])
{
	uint8_t masked[16];
	int bytes = family == 4 ? 4 : 16;

	if (family != p->family)
		return 0;
	memcpy(masked, addr, bytes);
	mask_bits(masked, bytes, p->len);
	return !memcmp(masked, p->addr, bytes);
}

int xl4_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen)
{
	char buf[16];
	char *dash;
	unsigned long a, b;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (xl4_parse_uint(buf, 1, 65535, &a))
		goto bad;
	b = a;
	if (dash && xl4_parse_uint(dash + 1, 1, 65535, &b))
		goto bad;
	if (b < a) {
		snprintf(err, errlen, "port range '%.64s' runs backwards", s);
		return -EINVAL;
	}
	*lo = a;
	*hi = b;
	return 0;
bad:
	snprintf(err, errlen, "'%.64s' is not a port (1..65535) or range like 1000-2000", s);
	return -EINVAL;
}

int xl4_port_range_prefixes(uint16_t lo, uint16_t hi, struct xl4_port_prefix *out, int max)
{
	uint32_t cur = lo, end = hi;
	int n = 0;

	while (cur <= end && n < max) {
		/* The largest aligned block starting at cur that stays inside the range. */
		int bits = 0;

		while (bits < 16 && (cur & ((2u << bits) - 1)) == 0 && cur + (2u << bits) - 1 <= end)
			bits++;
		out[n].port = cur;
		out[n].len = 16 - bits;
		n++;
		cur += 1u << bits;
	}
	return n;
}
