// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lb_spec.h"
#include "xl4/abi.h"

/* Split "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT" into an address and a port (0 if none). */
static int split_host_port(const char *s, int *family, __be32 addr[4], unsigned long *port,
			   char *err, size_t errlen)
{
	char host[64];
	const char *p;
	size_t n;

	*port = 0;
	memset(addr, 0, 16);
	if (*s == '[') {
		p = strchr(s, ']');
		if (!p || (size_t)(p - s - 1) >= sizeof(host)) {
			snprintf(err, errlen, "'%.64s': missing ']' after an IPv6 address", s);
			return -EINVAL;
		}
		n = p - s - 1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		p++;
		if (*p && *p != ':') {
			snprintf(err, errlen, "'%.64s': expected ':PORT' after ']'", s);
			return -EINVAL;
		}
	} else {
		p = strrchr(s, ':');
		/* More than one colon without brackets: a bare IPv6 address, no port. */
		if (p && strchr(s, ':') != p)
			p = NULL;
		n = p ? (size_t)(p - s) : strlen(s);
		if (n >= sizeof(host)) {
			snprintf(err, errlen, "'%.64s': address too long", s);
			return -EINVAL;
		}
		memcpy(host, s, n);
		host[n] = '\0';
	}
	if (p && *p == ':' && xl4_parse_uint(p + 1, 1, 65535, port)) {
		snprintf(err, errlen, "'%.64s': port must be 1..65535", s);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, addr) == 1) {
		*family = 4;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		*family = 6;
	} else {
		snprintf(err, errlen, "'%.64s' is not an IPv4 or IPv6 address", host);
		return -EINVAL;
	}
	return 0;
}

static int addr_unusable(int family, const __be32 addr[4])
{
	if (family == 4) {
		uint32_t a = ntohl(addr[0]);

		return a == 0 || (a >> 24) == 127 || (a >> 28) == 0xe || a == 0xffffffff;
	}
	return (addr[0] | addr[1] | addr[2] | addr[3]) == 0 || ((uint8_t *)addr)[0] == 0xff ||
	       (addr[0] == 0 && addr[1] == 0 && addr[2] == 0 && addr[3] == htonl(1));
}

int xl4_parse_vip_addr(const char *s, struct xl4_vip_spec *v, char *err, size_t errlen)
{
	char buf[96];
	char *slash;
	unsigned long port;

	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "'%.64s': too long", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strrchr(buf, '/');
	if (!slash) {
		snprintf(err, errlen, "'%.64s': expected ADDR:PORT/tcp or ADDR:PORT/udp", s);
		return -EINVAL;
	}
	*slash = '\0';
	if (!strcmp(slash + 1, "tcp")) {
		v->proto = IPPROTO_TCP;
	} else if (!strcmp(slash + 1, "udp")) {
		v->proto = IPPROTO_UDP;
	} else {
		snprintf(err, errlen, "'%.64s': protocol must be tcp or udp", slash + 1);
		return -EINVAL;
	}
	if (split_host_port(buf, &v->family, v->addr, &port, err, errlen))
		return -EINVAL;
	if (!port) {
		snprintf(err, errlen, "'%.64s': a VIP needs a port", s);
		return -EINVAL;
	}
	if (addr_unusable(v->family, v->addr)) {
		snprintf(err, errlen, "'%.64s': not a unicast address", s);
		return -EINVAL;
	}
	v->port = port;
	return 0;
}

int xl4_parse_backend_addr(const char *s, struct xl4_backend_spec *b, char *err, size_t errlen)
{
	unsigned long port;

	if (split_host_port(s, &b->family, b->addr, &port, err, errlen))
		return -EINVAL;
	if (addr_unusable(b->family, b->addr)) {
		snprintf(err, errlen, "'%.64s': not a unicast address", s);
		return -EINVAL;
	}
	b->port = port;
	return 0;
}

int xl4_parse_mac(const char *s, uint8_t mac[6])
{
	/* Two hex digits each, by hand: sscanf's %2x also takes " 2", "+2" and "-1". */
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		mac[i] = strtoul((char[3]){ p[0], p[1], 0 }, NULL, 16);
	}
	if (mac[0] & 1) /* multicast/broadcast: never a backend */
		return -EINVAL;
	return 0;
}

static const char *const mode_names[] = {
	[XL4_FWD_L2] = "l2", [XL4_FWD_PORT] = "port", [XL4_FWD_IPIP] = "ipip",
};

int xl4_parse_mode(const char *s, uint8_t *mode)
{
	for (uint8_t m = XL4_FWD_L2; m <= XL4_FWD_IPIP; m++) {
		if (!strcmp(s, mode_names[m])) {
			*mode = m;
			return 0;
		}
	}
	if (!strcmp(s, "ip6ip6")) { /* the IPv6 flavour of ipip */
		*mode = XL4_FWD_IPIP;
		return 0;
	}
	return -EINVAL;
}

const char *xl4_fwd_mode_name(uint8_t mode)
{
	return mode >= XL4_FWD_L2 && mode <= XL4_FWD_IPIP ? mode_names[mode] : "?";
}

int xl4_parse_name(const char *s, char *out, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n >= XL4_NAME_MAX) {
		snprintf(err, errlen, "name '%.64s' must have 1..%d characters", s, XL4_NAME_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') {
			snprintf(err, errlen, "name '%.64s': only letters, digits, '-', '_' and '.'", s);
			return -EINVAL;
		}
	}
	strcpy(out, s);
	return 0;
}

static void addr_port_str(int family, const __be32 addr[4], uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", a);
	else if (family == 6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void xl4_vip_str(const struct xl4_vip_spec *v, char *buf, size_t len)
{
	char ap[64];

	addr_port_str(v->family, v->addr, v->port, ap, sizeof(ap));
	snprintf(buf, len, "%s/%s", ap, v->proto == IPPROTO_UDP ? "udp" : "tcp");
}

void xl4_backend_str(const struct xl4_backend_spec *b, char *buf, size_t len)
{
	addr_port_str(b->family, b->addr, b->port, buf, len);
}

int xl4_backend_same(const struct xl4_backend_spec *a, const struct xl4_backend_spec *b)
{
	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, 16);
}
