/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The filter's state in user space and the one place that writes its maps: source allow and
 * block lists (with expiry), destination rules (compiled into two LPM tries), and the global
 * per-source limit. Used by the daemon and the fixtures alike.
 *
 * Every change is all or nothing: a batch of prefixes is validated first and rolled back if
 * the kernel refuses one (a full map), so nothing is ever half applied.
 *
 * Precedence (docs/filter.md): allowlist > blocklist > destination rules > global limit.
 * Among rules, the most specific destination prefix wins, then the most specific port range.
 */
#ifndef XL4_FILTER_STATE_H
#define XL4_FILTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "dir24.h"
#include "prefix.h"
#include "xl4/abi.h"

struct xl4_filter_maps {
	int allow4, allow6, block4, block6, rdst, rport, rstats, fglob;
	/* the IPv4 lists' DIR-24-8 index (abi.h), which the datapath reads instead of the v4
	 * tries; all three <= 0: none (a list in user space only, as some fixtures build) */
	int a4idx, a4grp, a4ent, b4idx, b4grp, b4ent;
	/* a new program over pins: another build (one that knows no index, after a downgrade)
	 * may have changed the tries behind the index's back, so xl4_filter_init() compares the
	 * two in full even when the counts agree */
	bool index_check;
};

enum xl4_list { XL4_LIST_ALLOW = 0, XL4_LIST_BLOCK = 1 };

#define XL4_PROTO_ANY 0

struct xl4_rule_spec {
	struct xl4_prefix dst;
	uint8_t proto;		 /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP(V6) or XL4_PROTO_ANY */
	uint16_t port_lo, port_hi; /* 0, 0: every port (and port-less packets) */
	uint8_t action;		 /* enum xl4_rule_action */
	uint32_t rate, burst;	 /* limit: packets per second, bucket depth */
	uint8_t v6_prefix;	 /* limit: IPv6 sources grouped by this length (default 64) */
};

struct xl4_filter_rule {
	uint32_t id; /* 1..XL4_MAX_RULES-1; 0 is the global limit */
	struct xl4_rule_spec spec;
};

struct xl4_expiring {
	enum xl4_list list;
	struct xl4_prefix prefix;
	uint64_t expires_ns;
};

struct xl4_filter {
	struct xl4_filter_maps maps;
	struct xl4_filter_globals g;
	struct xl4_filter_rule *rules;
	size_t n_rules;
	uint32_t next_rule_id;
	uint32_t gen; /* rule-set generation: set ids alternate halves so a recompile swaps */
	struct xl4_rport_key *rport_keys; /* what the current generation wrote, to delete later */
	size_t n_rport_keys;
	struct xl4_rdst_key *rdst_keys;
	size_t n_rdst_keys;
	struct xl4_expiring *expiring; /* entries with a deadline, for the sweeper */
	size_t n_expiring, cap_expiring;
	size_t n_entries[2][2]; /* [list][family 4 = 0, 6 = 1]: drives xl4_filter_globals.lists */
	size_t n_scoped;	/* blocklist entries with a scope (the analyzer's), live or not */
	uint8_t add_origin;	/* xl4_prefix_entry.origin for entries list_add writes */
	uint8_t add_scope, add_vip; /* ...and its scope (XL4_BLOCK_SCOPE_*) and VIP */
	uint8_t config_gen;	/* 1 or 2: the origin of the config file's current entries */
	struct xl4_filter_d24 {
		bool on;
		struct xl4_dir24 t;
		void *mem[3]; /* idx, grp, ent mapped from the kernel */
		size_t len[3];
	} d24[2]; /* [list]: the IPv4 index, written beside the trie (the record) */
};

int xl4_filter_init(struct xl4_filter *f, const struct xl4_filter_maps *m, uint32_t rate_inserts_per_sec);
void xl4_filter_free(struct xl4_filter *f);

/* Add n prefixes to a list; expires_ns is a CLOCK_MONOTONIC deadline (0 = never). A prefix
 * already on the list gets the new deadline. All or nothing. */
int xl4_filter_list_add(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p, size_t n,
			uint64_t expires_ns, char *err, size_t errlen);
/*
 * The analyzer's block (docs/guard.md): from p, only TCP SYNs without ACK to VIP id vip are
 * dropped until expires_ns (now: the caller's clock, the datapath's); established flows,
 * replies and everything else from p pass. An
 * entry is never renewed: -EEXIST (nothing written) when p is blocked for that already (a full
 * block covering p, or a scoped one for this VIP or every VIP). The same prefix scoped to
 * another VIP is widened to every VIP, keeping its deadline. The operator's list_add over a
 * scoped entry makes it a full one.
 */
int xl4_filter_block_syn(struct xl4_filter *f, const struct xl4_prefix *p, uint8_t vip,
			 uint64_t now, uint64_t expires_ns, char *err, size_t errlen);
/* The deadline of p's own blocklist entry when it is an analyzer's block (scoped to new SYNs)
 * that expires, from the blocklist's trie by fd (block4_fd / block6_fd: safe on any thread);
 * 0 when p has no such entry. */
uint64_t xl4_filter_scoped_until(int block4_fd, int block6_fd, const struct xl4_prefix *p);
/* Remove the scoped blocks of VIP id vip (the id now names no VIP, or another one); those
 * for every VIP stay. Returns how many. */
int xl4_filter_unscope_vip(struct xl4_filter *f, uint8_t vip);
/* Remove n prefixes; each must be on the list (else nothing is removed). */
int xl4_filter_list_del(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p, size_t n,
			char *err, size_t errlen);
/* Is p (or a shorter prefix holding it) on the list? 1 with the entry's deadline (0 = never;
 * it may have passed, before the sweep), else 0. */
int xl4_filter_list_covers(const struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
			   uint64_t *expires_ns);
/* Entries of a list: [{"prefix": "...", "expires_in_s": N or null}], from the kernel maps;
 * a scoped blocklist entry adds "scope": "syn" and "vip_id": N (null: every VIP). */
json_t *xl4_filter_list_json(struct xl4_filter *f, enum xl4_list l, uint64_t now_ns);
/* One rule's matched/dropped counters (xl4_rstats_v1), summed over every CPU; 0 or -errno
 * (all zero then). What rule list, limit show and the fixtures read. */
int xl4_filter_rule_counters_read(const struct xl4_filter *f, uint32_t id, struct xl4_rule_counters *t);
/* The same as {"matched": N, "dropped": N}, all zero when unreadable. */
json_t *xl4_filter_rule_counters_json(const struct xl4_filter *f, uint32_t id);
/* Remove entries whose deadline passed (the datapath already ignores them). Returns how many. */
int xl4_filter_sweep(struct xl4_filter *f, uint64_t now_ns);

/*
 * Restart and reload (docs/operations.md). xl4_filter_init() takes over entries already in
 * the pinned lists (their expiry too); xl4_filter_adopt_rules() takes over the rule maps a
 * previous daemon compiled, so the first compile swaps them out atomically instead of
 * starting from empty maps.
 */
int xl4_filter_adopt_rules(struct xl4_filter *f);
/* Make the file's entries on the lists exactly allow and block (never expiring): each list's
 * entries are added (all or nothing), then those an earlier file put there and this one lacks
 * are removed. Runtime entries (xl4 block/allow add) stay with their expiry. An error names
 * the list ("allow: ..." or "block: ..."); a block failure leaves the allow list applied. */
int xl4_filter_lists_set_config(struct xl4_filter *f, const struct xl4_prefix *allow, size_t n_allow,
				const struct xl4_prefix *block, size_t n_block, char *err, size_t errlen);
/* Replace every rule with specs, in one compile (atomic swap); a rule identical to a current
 * one keeps its id and counters. On error nothing changes and err names the spec's index. */
int xl4_filter_rules_replace(struct xl4_filter *f, const struct xl4_rule_spec *specs, size_t n,
			     char *err, size_t errlen);
/* The per-CPU budget of new rate buckets (filter.limit.new_sources_per_second). */
int xl4_filter_set_new_sources(struct xl4_filter *f, uint32_t per_sec);

/* Rules. add validates (conflicting rules are refused, naming the rule they overlap). */
int xl4_filter_rule_add(struct xl4_filter *f, const struct xl4_rule_spec *r, uint32_t *id,
			char *err, size_t errlen);
int xl4_filter_rule_del(struct xl4_filter *f, uint32_t id, char *err, size_t errlen);
json_t *xl4_filter_rules_json(struct xl4_filter *f);

/* Would these two rules conflict (same destination and protocol, ports shared without one
 * range nesting in the other)? The config parser asks too, to name the line. */
bool xl4_rule_conflict(const struct xl4_rule_spec *a, const struct xl4_rule_spec *b);

/* Global per-source limit (rate 0: off). */
int xl4_filter_limit_set(struct xl4_filter *f, uint32_t rate, uint32_t burst, uint8_t v6_prefix,
			 char *err, size_t errlen);

/* Text forms shared by config, CLI and control socket. */
int xl4_rule_action_parse(const char *s, uint8_t *action);
const char *xl4_rule_action_name(uint8_t action);
int xl4_rule_proto_parse(const char *s, uint8_t *proto);
const char *xl4_rule_proto_name(uint8_t proto);

#endif
