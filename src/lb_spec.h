/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an operator says about VIPs and backends, parsed from text the same way for the config
 * file, the command line and the control socket: "198.18.1.1:80/tcp", "[2001:db8::1]:53/udp",
 * backends "198.18.2.1" or "198.18.2.1:8080", MACs "02:00:00:00:00:01", modes "l2".
 */
#ifndef XL4_LB_SPEC_H
#define XL4_LB_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define XL4_NAME_MAX 32

struct xl4_vip_spec {
	char name[XL4_NAME_MAX];
	int family;	 /* 4 or 6 */
	__be32 addr[4];
	uint16_t port;	 /* host order */
	uint8_t proto;	 /* IPPROTO_TCP / IPPROTO_UDP */
	uint8_t mode;	 /* enum xl4_fwd_mode */
	uint16_t mtu;	 /* ipip: largest L3 packet toward backends; 0 = 1500 */
	bool reschedule_down; /* flows of a backend that fails health checks move on */
};

struct xl4_backend_spec {
	int family;
	__be32 addr[4];
	uint16_t port;	 /* host order; 0 = the VIP's port */
	uint32_t weight; /* 1..65535 */
	uint8_t mac[6];
	bool has_mac;	 /* else resolved from the neighbour table */
	bool drained;
};

/* Each returns 0 or -EINVAL with a sentence in err. */
int xl4_parse_vip_addr(const char *s, struct xl4_vip_spec *v, char *err, size_t errlen);
int xl4_parse_backend_addr(const char *s, struct xl4_backend_spec *b, char *err, size_t errlen);
int xl4_parse_mac(const char *s, uint8_t mac[6]);
int xl4_parse_mode(const char *s, uint8_t *mode);
const char *xl4_fwd_mode_name(uint8_t mode);
int xl4_parse_name(const char *s, char *out, char *err, size_t errlen);

/* "198.18.1.1:80/tcp" and "198.18.2.1:8080" for display and as stable identities. */
void xl4_vip_str(const struct xl4_vip_spec *v, char *buf, size_t len);
void xl4_backend_str(const struct xl4_backend_spec *b, char *buf, size_t len);
int xl4_backend_same(const struct xl4_backend_spec *a, const struct xl4_backend_spec *b);

#endif
