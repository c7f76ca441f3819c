/* SPDX-License-Identifier: GPL-2.0 */
/* IP prefixes and port ranges as the filter takes them: "198.18.0.0/15", "2001:db8::/32",
 * a bare address (a /32 or /128), and "80", "1000-2000". */
#ifndef XL4_PREFIX_H
#define XL4_PREFIX_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct xl4_prefix {
	int family;	 /* 4 or 6 */
	uint8_t len;	 /* prefix length in bits */
	__be32 addr[4];	 /* host bits zero */
};

/* Parse; host bits set beyond the length are an error (a typo guard), as is /33. */
int xl4_prefix_parse(const char *s, struct xl4_prefix *p, char *err, size_t errlen);
void xl4_prefix_str(const struct xl4_prefix *p, char *buf, size_t len);
/* Does p contain addr (same family)? */
int xl4_prefix_contains(const struct xl4_prefix *p, int family, const __be32 addr[4]);

/* "80" or "1000-2000" (1..65535, lo <= hi). */
int xl4_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen);

struct xl4_port_prefix {
	uint16_t port; /* value with the low (16 - len) bits zero */
	uint8_t len;   /* 0..16 leading bits that must match */
};
/* Cover [lo, hi] exactly with the fewest port prefixes (at most 30). Returns the count. */
int xl4_port_range_prefixes(uint16_t lo, uint16_t hi, struct xl4_port_prefix *out, int max);

#endif
