/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backend agent (bpf/agent.bpf.c): loading it with its maps pinned, one typed wrapper per
 * map mutation (used by `xl4 agent` and by the BPF fixtures alike), and the one-shot set-up,
 * removal and status behind `xl4 agent`. A set-up outlives the command: the TC filters hold
 * the programs, the pins hold the maps, and xl4_astate_v1 remembers what to put back.
 */
#ifndef XL4_AGENT_H
#define XL4_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "prefix.h"
#include "xl4/agent_abi.h"

struct agent_bpf;

struct xl4_agent {
	struct agent_bpf *skel;
	int in_fd, out_fd;		   /* the ingress (decap) and egress (port) programs */
	int vips_fd, ports_fd, stats_fd, state_fd, from_fd, local_fd;
};

/* Load the agent; pin_path NULL keeps every map private (tests), otherwise maps are pinned
 * there and reused when already pinned. Returns 0 or -errno, logged. */
int xl4_agent_load(struct xl4_agent *a, const char *pin_path);
void xl4_agent_close(struct xl4_agent *a);

struct xl4_agent_addr {
	__u8 family; /* 4 or 6 */
	__be32 addr[4];
};

struct xl4_agent_port {
	struct xl4_agent_addr vip;
	__u16 vport, bport; /* host order */
	__u8 proto;	    /* IPPROTO_TCP / IPPROTO_UDP */
};

/* Parsing, 0 or -EINVAL with a one-line reason in err. Addresses: "198.18.1.1", "2001:db8::1".
 * Ports: "VIP:VPORT=BPORT/tcp|udp", an IPv6 VIP in brackets: "[2001:db8::1]:80=8080/udp". */
int xl4_agent_parse_addr(const char *s, struct xl4_agent_addr *a, char *err, size_t n);
/* The same for an outer destination of ours (--to). */
int xl4_agent_parse_local(const char *s, struct xl4_agent_addr *a, char *err, size_t n);
int xl4_agent_parse_port(const char *s, struct xl4_agent_port *p, char *err, size_t n);
/* "198.18.1.1" / "2001:db8::1" into buf (INET6_ADDRSTRLEN). */
const char *xl4_agent_addr_str(const struct xl4_agent_addr *a, char *buf, size_t n);

/* Map mutations, one per intent. */
int xl4_agent_vip_set(int vips_fd, const struct xl4_agent_addr *vip, __u32 flags);
int xl4_agent_vip_del(int vips_fd, const struct xl4_agent_addr *vip);
int xl4_agent_port_set(int ports_fd, const struct xl4_agent_port *p);
int xl4_agent_port_del(int ports_fd, const struct xl4_agent_port *p);

/* Replace the allowed outer sources with from[0..n) (n = 0: decapsulate from nobody). New
 * entries go in before old ones go out, so no moment allows more than the old and new sets. */
int xl4_agent_from_set(int from_fd, const struct xl4_prefix *from, int n);
/* Replace the accepted outer destinations (this host's addresses) with to[0..n), the same way. */
int xl4_agent_local_set(int local_fd, const struct xl4_agent_addr *to, int n);

/* Counters summed over CPUs, indexed by enum xl4_agent_stat. */
int xl4_agent_counters_read(int stats_fd, struct xl4_counter out[XL4_AS_MAX]);
const char *xl4_agent_stat_name(unsigned int idx);

#define XL4_AGENT_VIPS_MAX 64
#define XL4_AGENT_PORTS_MAX 64
#define XL4_AGENT_FROM_MAX 64
#define XL4_AGENT_TO_MAX 64

struct xl4_agent_config {
	const char *ifname;
	const char *pin_path;
	struct xl4_agent_addr vips[XL4_AGENT_VIPS_MAX];
	int n_vips;
	struct xl4_agent_port ports[XL4_AGENT_PORTS_MAX];
	int n_ports;
	struct xl4_prefix from[XL4_AGENT_FROM_MAX]; /* allowed outer sources */
	int n_from;
	struct xl4_agent_addr to[XL4_AGENT_TO_MAX]; /* accepted outer destinations (none: IFACE's) */
	int n_to;
	bool no_decap; /* decapsulate nothing (from and to stay empty) */
	bool sysctl; /* set arp_ignore / arp_announce / rp_filter (IPv4 VIPs only) */
};

/* Make the backend match c exactly: the VIP and port sets replace what an earlier run set,
 * so running twice is the same as once. Returns 0 or -errno (logged). */
int xl4_agent_setup(const struct xl4_agent_config *c);
/* Undo a set-up: filters, VIPs the agent put on lo, sysctls, qdisc it created, pins. */
int xl4_agent_remove(const char *ifname, const char *pin_path);
/* Print what is set up and the counters, as text or one JSON object. Returns 0, or 1 when
 * nothing is set up. */
int xl4_agent_status(const char *ifname, const char *pin_path, bool json, FILE *out);

#endif
