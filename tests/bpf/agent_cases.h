/* SPDX-License-Identifier: GPL-2.0 */
/* The agent fixtures' world (agent_cases.c provisions it) as agent_random.c needs to know it. */
#ifndef XL4_TESTS_AGENT_CASES_H
#define XL4_TESTS_AGENT_CASES_H

#include <stdint.h>
#include "pktbuild.h" /* struct in6_addr, as the fixtures see it */

#include "agent.h"

/* Decapsulated from 198.18.3.0/24 and 2001:db8:3::/64, for BACKEND4 and BACKEND6 (this host),
 * when the inner destination is VIP4 or VIP6. Port mode: replies from (VIP, BPORT) over TCP or
 * UDP leave from VIP_PORT, and from (VIP4, UDP_ONLY_BPORT) over UDP from VIP_PORT + 1. */
#define OUTER4_SRC 0xc6120301u /* 198.18.3.1: the balancer's ipip source prefix */
#define BPORT 8080 /* port mode: the backend's port for VIP_PORT */
#define UDP_ONLY_BPORT 9090 /* mapped for UDP only */

/* The balancer's IPv6 outer source, in the decapsulated 2001:db8:3::/64. */
extern const struct in6_addr OUTER6_SRC;

/* The transport checksum of an Ethernet frame (0..2 VLAN tags, no IPv6 extension headers)
 * verifies, or is a UDP-over-IPv4 "none". A description of the failure, or NULL. The frame's
 * IP header must be whole; the lengths it declares are checked against the frame. */
const char *agent_l4_csum_verdict(const uint8_t *f, uint32_t len);

/* agent/random/{in,out}: count random and damaged frames through each program (agent_random.c). */
void agent_random(const struct xl4_agent *a, unsigned long long seed, int count);

#endif
