/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Load-balancer state in user space and the one place that writes it into the datapath's
 * maps: VIPs, their backends, Maglev tables. The daemon and the tests both provision through
 * these functions (one typed wrapper per intent), so tests see exactly what production does.
 *
 * A change to a VIP's backends rebuilds its Maglev table into the VIP's idle table slot and
 * then flips the VIP entry to it: one map update, so packets see the old table or the new one,
 * never a mix. Maglev moves only the changed backend's slots (plus well under 1%).
 */
#ifndef XL4_LB_STATE_H
#define XL4_LB_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "engine.h"
#include "lb_spec.h"
#include "prefix.h"
#include "xl4/abi.h"

#define XL4_VIP_MAX_BACKENDS 1024

struct xl4_lb_backend {
	struct xl4_backend_spec spec;
	uint32_t id;	 /* index in xl4_backends_v1 */
	bool down;	 /* health checks failed */
	bool mac_known;
	bool adopted;	 /* taken over from the pinned maps at start, with its health state */
	char key[64];	 /* "addr:port": Maglev identity and display */
};

struct xl4_lb_vip {
	bool used;
	uint32_t id;
	struct xl4_vip_spec spec;
	uint8_t slot; /* live table slot */
	struct xl4_lb_backend *be;
	size_t n_be;
	/* the live table by backend identity (xl4_lb_table_fingerprint): equal on every node
	 * with the same config and seed, whatever ids each gave its backends; 0: no table */
	uint64_t table_fp;
};

struct xl4_lb_settings {
	uint32_t seed;
	uint32_t ring_size;
	uint32_t ct_inserts_per_sec;
	uint32_t too_big_per_sec; /* per-CPU cap on ICMP too-big replies (0: none) */
	uint32_t icmp_errors_per_sec; /* per-CPU cap on ICMP errors steered to backends (0: none) */
	__be32 ipip_src4, ipip_src4_mask; /* mask in host order: the host bits varied */
	__be32 ipip_src6[4];
};

struct xl4_lb_inherited;

struct xl4_lb {
	struct xl4_lb_maps maps;
	struct xl4_lb_settings set;
	struct xl4_lb_vip vips[XL4_MAX_VIPS];
	uint16_t be_gen[XL4_MAX_BACKENDS];
	bool be_used[XL4_MAX_BACKENDS];
	/* whose VIP's copy xl4_bevip_v1 holds for each backend id: VIP id + 1, 0 for none */
	uint8_t bevip_of[XL4_MAX_BACKENDS];
	uint32_t *table; /* scratch: one Maglev table */
	uint32_t *keys;	 /* scratch: map keys for batch writes */
	bool hold;	 /* between xl4_lb_hold() and xl4_lb_commit(): tables not written */
	bool dirty[XL4_MAX_VIPS];
	/* ids of deleted VIPs that a datapath run may still hold from the VIP index: the first
	 * VIP to take one waits for a grace period (vip_index.h) */
	bool id_cooling[XL4_MAX_VIPS];
	struct xl4_lb_inherited *inh; /* what a previous daemon left in the pins (adopt) */
};

struct xl4_config;
/* The settings a configuration file asks for. */
void xl4_lb_settings_from_config(const struct xl4_config *cfg, struct xl4_lb_settings *s);

/* Set up over an engine's maps and write the deployment-wide settings. */
int xl4_lb_init(struct xl4_lb *lb, const struct xl4_lb_maps *maps, const struct xl4_lb_settings *s);
void xl4_lb_free(struct xl4_lb *lb);
/* Write the deployment-wide settings (seed aside) again: a reload. */
int xl4_lb_set_globals(struct xl4_lb *lb, const struct xl4_lb_settings *s);

/*
 * Restart without moving a flow (docs/operations.md). xl4_lb_adopt() reads the VIPs and
 * backends a previous daemon left in the pinned maps; VIPs added afterwards with the same
 * address keep their id and live table slot, backends with the same address keep their id,
 * generation and MAC, so conntrack entries still match and an unchanged VIP's Maglev table
 * comes out identical. xl4_lb_commit() then writes each changed VIP's table once and retires
 * whatever the previous daemon had that nobody claimed.
 *
 * xl4_lb_hold() .. xl4_lb_commit(): adds and changes in between only mark VIPs dirty; commit
 * builds each dirty VIP's table once and flips it in. Deletions are not deferred: do them
 * before holding.
 */
int xl4_lb_adopt(struct xl4_lb *lb);
void xl4_lb_hold(struct xl4_lb *lb);
int xl4_lb_commit(struct xl4_lb *lb, char *err, size_t errlen);

/* Runtime changes; each returns 0 or -errno with one sentence in err, and changes nothing
 * on error. Backends are named by address[:port] within their VIP. */
int xl4_lb_vip_add(struct xl4_lb *lb, const struct xl4_vip_spec *v, char *err, size_t errlen);
int xl4_lb_vip_del(struct xl4_lb *lb, const char *name, char *err, size_t errlen);
/* Mode, mtu and on_backend_down of an existing VIP (same name and address); its flows stay. */
int xl4_lb_vip_update(struct xl4_lb *lb, const struct xl4_vip_spec *v, char *err, size_t errlen);
int xl4_lb_backend_add(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
		       char *err, size_t errlen);
int xl4_lb_backend_del(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
		       char *err, size_t errlen);
int xl4_lb_backend_set_weight(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
			      uint32_t weight, char *err, size_t errlen);
int xl4_lb_backend_drain(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
			 bool drain, char *err, size_t errlen);
/* Health and neighbour state, by backend id (from the health checker / resolver). */
int xl4_lb_backend_set_down(struct xl4_lb *lb, uint32_t id, bool down);
/* Whether it takes new flows now (healthy, not drained, MAC known, weight). */
bool xl4_lb_backend_usable(const struct xl4_lb_backend *b);
int xl4_lb_backend_set_mac(struct xl4_lb *lb, uint32_t id, const uint8_t mac[6]);

struct xl4_lb_vip *xl4_lb_vip_find(struct xl4_lb *lb, const char *name);
struct xl4_lb_backend *xl4_lb_backend_by_id(struct xl4_lb *lb, uint32_t id, struct xl4_lb_vip **vip);

/* The traffic counters (src/lb_counters.c). One entry of xl4_vstats_v2 or xl4_bstats_v1 (by
 * fd) summed over every CPU: a backend's counters; 0 or -errno (all zero then). */
int xl4_lb_counters_read(int fd, uint32_t id, struct xl4_lb_counters *t);
/* A VIP's counters: its own, its backends' and its removed backends', and when per_be is not
 * NULL each of its v->n_be backends' (one read of each); 0 or -errno (all zero then). What vip
 * list, status, metrics and the fixtures read. */
int xl4_lb_vip_counters(const struct xl4_lb *lb, const struct xl4_lb_vip *v,
			struct xl4_lb_counters *t, struct xl4_lb_counters *per_be);
/* Fold a backend's counters into its VIP's removed backends' (before its id is reused). */
int xl4_lb_counters_retire(struct xl4_lb *lb, uint32_t vip_id, uint32_t be_id);
/* Carry an older build's VIP counters (vstats_old: xl4_vstats_v1) over into the removed
 * backends' counters of the live VIPs (vip_live by id; be, be_live: the pinned backends). */
int xl4_lb_counters_migrate(struct xl4_lb *lb, int vstats_old, const bool *vip_live,
			    const struct xl4_backend *be, const bool *be_live);
/* A new VIP on a reused id starts without its predecessor's removed backends. */
int xl4_lb_retired_reset(struct xl4_lb *lb, uint32_t vip_id);
void xl4_lb_counters_add(struct xl4_lb_counters *t, const struct xl4_lb_counters *a);

/* VIPs, backends, state and counters as JSON (for vip list, status and metrics). */
json_t *xl4_lb_json(struct xl4_lb *lb);
/* SipHash-2-4 (a fixed, public key: this is an identity, not a secret) over the table size and
 * each slot's backend key, so nodes can compare tables without comparing ids. table holds
 * ids of mb[]; 0 when no backend is active. */
struct xl4_maglev_backend;
uint64_t xl4_lb_table_fingerprint(const struct xl4_maglev_backend *mb, size_t n,
				  const uint32_t *table, uint32_t size);

#endif
