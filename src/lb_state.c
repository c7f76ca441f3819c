// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "lb_state.h"
#include "log.h"
#include "maglev.h"
#include "vip_index.h"
#include "xl4/siphash.h"

void xl4_lb_settings_from_config(const struct xl4_config *cfg, struct xl4_lb_settings *s)
{
	*s = (struct xl4_lb_settings){
		.seed = cfg->lb.seed,
		.ring_size = cfg->lb.table_size,
		.ct_inserts_per_sec = cfg->lb.ct_inserts_per_sec,
		.too_big_per_sec = cfg->lb.too_big_per_sec,
		.icmp_errors_per_sec = cfg->lb.icmp_errors_per_sec,
		.ipip_src4 = cfg->lb.ipip_src4,
		.ipip_src4_mask = cfg->lb.ipip_src4_hostmask,
	};
	memcpy(s->ipip_src6, cfg->lb.ipip_src6, 16);
}

static int vip_bits_write(struct xl4_lb *lb);
static int vip_ids_write(struct xl4_lb *lb);

/* Backend be_id's VIP copy in xl4_bevip_v1 (abi.h): `live`, a VIP as its copy by id holds it,
 * or NULL to clear it. */
static int backend_vip_put(struct xl4_lb *lb, uint32_t be_id, const struct xl4_vip *live)
{
	static const struct xl4_vip none;

	if (be_id >= XL4_MAX_BACKENDS)
		return -EINVAL;
	if (bpf_map_update_elem(lb->maps.bevip, &be_id, live ? live : &none, BPF_ANY))
		return -errno;
	lb->bevip_of[be_id] = live ? live->id + 1 : 0;
	return 0;
}

/* Every copy of VIP id's entry in xl4_bevip_v1 cleared (the VIP goes). */
static int backend_vips_clear(struct xl4_lb *lb, uint32_t id)
{
	int ret = 0, r;

	for (uint32_t b = 0; b < XL4_MAX_BACKENDS; b++)
		if (lb->bevip_of[b] == id + 1 && (r = backend_vip_put(lb, b, NULL)) && !ret)
			ret = r;
	return ret;
}

/* Every write of a VIP entry goes to xl4_vips_v1, its copy by id (xl4_vipid_v1), its copies by
 * backend id (xl4_bevip_v1) and the index (rebuilt from xl4_vips_v1: every key by id first,
 * then the slots; vip_index.h). */
static int vip_entry_put(struct xl4_lb *lb, const struct xl4_lb_vip *v, const struct xl4_vip_key *k,
			 const struct xl4_vip *e)
{
	struct xl4_vip live = *e;
	int ret;

	live.flags |= XL4_VIP_F_LIVE;
	if (bpf_map_update_elem(lb->maps.vips, k, e, BPF_ANY) ||
	    bpf_map_update_elem(lb->maps.vipid, &e->id, &live, BPF_ANY))
		return -errno;
	/* and its copy for each of its backends (the established lane's). A copy left behind
	 * would name this VIP as it was, which the lane cannot tell from the new one: on any
	 * failure they all go, and the lane leaves these flows to the stage. */
	for (size_t i = 0; i < v->n_be; i++)
		if ((ret = backend_vip_put(lb, v->be[i].id, &live)))
			goto fail;
	if (!(ret = xl4_vip_index_write(lb->maps.vips, lb->maps.vipkey, lb->maps.vidx)))
		return 0;
fail:
	backend_vips_clear(lb, e->id);
	return ret;
}

/* The copy goes first: no conntrack hit finds a VIP the hash no longer has. Then the index
 * drops the id (or, if it cannot be rebuilt, names no VIP at all: the hash table finds them
 * all), and the id cools: the next VIP to take it waits until no datapath run can still hold
 * it from the index (vip_id_take()), since that VIP's key replaces this one's. */
static int vip_entry_del(struct xl4_lb *lb, const struct xl4_vip_key *k, __u32 id)
{
	struct xl4_vip none = { 0 };
	int ret = 0, e;

	if (id < XL4_MAX_VIPS) {
		backend_vips_clear(lb, id);
		bpf_map_update_elem(lb->maps.vipid, &id, &none, BPF_ANY);
		lb->id_cooling[id] = true;
	}
	if (bpf_map_delete_elem(lb->maps.vips, k))
		ret = -errno;
	if ((e = xl4_vip_index_write(lb->maps.vips, lb->maps.vipkey, lb->maps.vidx)) &&
	    (e = xl4_vip_index_clear(lb->maps.vidx)))
		pr_warn("VIP index: cannot drop VIP id %u from it: %s", id, strerror(-e));
	return ret;
}

/* A deleted VIP's id, given to v: first every datapath run that may hold it from the index
 * ends (one grace period for all the ids cooling). */
static void vip_id_take(struct xl4_lb *lb, const struct xl4_lb_vip *v)
{
	if (!lb->id_cooling[v->id])
		return;
	xl4_vip_index_quiesce();
	memset(lb->id_cooling, 0, sizeof(lb->id_cooling));
}

static int globals_write(const struct xl4_lb_maps *maps, const struct xl4_lb_settings *s)
{
	struct xl4_lb_globals g = {
		.seed = s->seed,
		.ring_size = s->ring_size,
		.ct_inserts_per_sec = s->ct_inserts_per_sec,
		.too_big_per_sec = s->too_big_per_sec,
		.ipip_src4 = s->ipip_src4,
		.ipip_src4_mask = s->ipip_src4_mask,
	};
	struct xl4_icmp_cfg ic = { .errors_per_sec = s->icmp_errors_per_sec };
	__u32 zero = 0;

	memcpy(g.ipip_src6, s->ipip_src6, 16);
	if (bpf_map_update_elem(maps->icmp, &zero, &ic, BPF_ANY))
		return -errno;
	return bpf_map_update_elem(maps->globals, &zero, &g, BPF_ANY) ? -errno : 0;
}

int xl4_lb_set_globals(struct xl4_lb *lb, const struct xl4_lb_settings *s)
{
	struct xl4_lb_settings n = *s;
	int ret;

	n.seed = lb->set.seed; /* the seed and table size never change under running tables */
	n.ring_size = lb->set.ring_size;
	if ((ret = globals_write(&lb->maps, &n)))
		return ret;
	lb->set = n;
	return 0;
}

int xl4_lb_init(struct xl4_lb *lb, const struct xl4_lb_maps *maps, const struct xl4_lb_settings *s)
{
	memset(lb, 0, sizeof(*lb));
	lb->maps = *maps;
	lb->set = *s;
	if (s->ring_size != maps->ring_size || !xl4_maglev_is_prime(s->ring_size))
		return -EINVAL;
	lb->table = calloc(s->ring_size, sizeof(uint32_t));
	lb->keys = calloc(s->ring_size, sizeof(uint32_t));
	if (!lb->table || !lb->keys) {
		xl4_lb_free(lb);
		return -ENOMEM;
	}
	/* An index a previous daemon left may name ids of VIPs it deleted: none is given to a
	 * new VIP before a grace period (vip_id_take()). */
	if (xl4_vip_index_names_any(maps->vidx))
		memset(lb->id_cooling, true, sizeof(lb->id_cooling));
	/* Pins a datapath without the bits or the copies by id left (an upgrade) hold VIPs
	 * already. */
	return globals_write(maps, s) ?: vip_bits_write(lb) ?: vip_ids_write(lb);
}

void xl4_lb_free(struct xl4_lb *lb)
{
	free(lb->inh);
	lb->inh = NULL;
	for (int i = 0; i < XL4_MAX_VIPS; i++)
		free(lb->vips[i].be);
	free(lb->table);
	free(lb->keys);
	lb->table = lb->keys = NULL;
}

struct xl4_lb_vip *xl4_lb_vip_find(struct xl4_lb *lb, const char *name)
{
	for (int i = 0; i < XL4_MAX_VIPS; i++)
		if (lb->vips[i].used && !strcmp(lb->vips[i].spec.name, name))
			return &lb->vips[i];
	return NULL;
}

static struct xl4_lb_backend *backend_find(struct xl4_lb_vip *v, const struct xl4_backend_spec *b)
{
	for (size_t i = 0; i < v->n_be; i++)
		if (xl4_backend_same(&v->be[i].spec, b))
			return &v->be[i];
	return NULL;
}

struct xl4_lb_backend *xl4_lb_backend_by_id(struct xl4_lb *lb, uint32_t id, struct xl4_lb_vip **vip)
{
	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		struct xl4_lb_vip *v = &lb->vips[i];

		for (size_t j = 0; v->used && j < v->n_be; j++) {
			if (v->be[j].id == id) {
				if (vip)
					*vip = v;
				return &v->be[j];
			}
		}
	}
	return NULL;
}

static void vip_key(const struct xl4_vip_spec *s, struct xl4_vip_key *k, bool addr_only)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, s->addr, 16);
	k->family = s->family;
	if (!addr_only) {
		k->port = htons(s->port);
		k->proto = s->proto;
	}
}

/* The datapath view of one backend. */
static int backend_write(struct xl4_lb *lb, const struct xl4_lb_vip *v, const struct xl4_lb_backend *b,
			 uint8_t extra_flags)
{
	struct xl4_backend e = {
		.port = htons(b->spec.port ? b->spec.port : v->spec.port),
		.family = b->spec.family,
		.flags = (b->down ? XL4_BE_F_DOWN : 0) | (b->spec.drained ? XL4_BE_F_DRAIN : 0) |
			 extra_flags,
		.gen = lb->be_gen[b->id],
		.vip_id = v->id,
	};

	memcpy(e.addr, b->spec.addr, 16);
	memcpy(e.mac, b->spec.mac, 6);
	return bpf_map_update_elem(lb->maps.backends, &b->id, &e, BPF_ANY) ? -errno : 0;
}

/* A backend takes new flows when it has weight, is not drained, passes health checks and
 * we know where to send its frames. */
static uint32_t ring_weight(const struct xl4_lb_backend *b)
{
	if (b->spec.drained || b->down || !b->mac_known)
		return 0;
	return b->spec.weight;
}

bool xl4_lb_backend_usable(const struct xl4_lb_backend *b)
{
	return ring_weight(b) > 0;
}

uint64_t xl4_lb_table_fingerprint(const struct xl4_maglev_backend *mb, size_t n,
				  const uint32_t *table, uint32_t size)
{
	static const uint8_t fp_key[16] = "xl4-maglev-table";
	uint64_t *by_id = calloc(XL4_MAX_BACKENDS, sizeof(*by_id)), k0 = 0, k1 = 0;
	struct xl4_sip s;
	bool any = false;

	if (!by_id)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (mb[i].id < XL4_MAX_BACKENDS && mb[i].weight) {
			by_id[mb[i].id] = xl4_siphash24(fp_key, mb[i].key, strlen(mb[i].key));
			any = true;
		}
	}
	for (int b = 7; b >= 0; b--) {
		k0 = k0 << 8 | fp_key[b];
		k1 = k1 << 8 | fp_key[8 + b];
	}
	xl4_sip_init(&s, k0, k1);
	xl4_sip_word(&s, size);
	for (uint32_t i = 0; i < size; i++)
		xl4_sip_word(&s, table[i] < XL4_MAX_BACKENDS ? by_id[table[i]] : 0);
	free(by_id);
	return any ? xl4_sip_final(&s, (uint64_t)(size + 1) << 3 << 56) | 1 : 0;
}

/* After a failed vip_entry_put(): the table slot the datapath reads for the VIP, its entries
 * made to agree on it. The copy by id (xl4_vipid_v1) is what most readers take (the index, the
 * guard's hint, a conntrack hit); when it was not written, the entry by key (xl4_vips_v1,
 * written first) is put back to it, so that no reader is left on the other slot, which the
 * next build rewrites. A VIP with no live copy by id yet: the entry by key, or fallback. */
static uint8_t vip_written_slot(const struct xl4_lb *lb, const struct xl4_vip_key *k, __u32 id,
				uint8_t fallback)
{
	struct xl4_vip by_id, by_key;

	if (!bpf_map_lookup_elem(lb->maps.vipid, &id, &by_id) && (by_id.flags & XL4_VIP_F_LIVE)) {
		if (bpf_map_lookup_elem(lb->maps.vips, k, &by_key) ||
		    by_key.ring_slot != by_id.ring_slot) {
			by_id.flags &= ~XL4_VIP_F_LIVE;
			if (bpf_map_update_elem(lb->maps.vips, k, &by_id, BPF_ANY))
				pr_warn("VIP id %u: its entries name different table slots and cannot be "
					"made to agree: %s", id, strerror(errno));
		}
		return by_id.ring_slot & 1;
	}
	return bpf_map_lookup_elem(lb->maps.vips, k, &by_key) ? fallback : by_key.ring_slot & 1;
}

/* Build the VIP's table into its idle slot, then flip the VIP entry to it. */
static int vip_sync(struct xl4_lb *lb, struct xl4_lb_vip *v)
{
	struct xl4_maglev_backend *mb = calloc(v->n_be ? v->n_be : 1, sizeof(*mb));
	uint32_t size = lb->set.ring_size, base, count = size, active = 0;
	uint8_t next = v->slot ^ 1;
	struct xl4_vip_key k;
	struct xl4_vip e;
	int err;
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);

	if (!mb)
		return -ENOMEM;
	if (lb->hold) {
		lb->dirty[v->id] = true; /* written once, by xl4_lb_commit() */
		free(mb);
		return 0;
	}
	for (size_t i = 0; i < v->n_be; i++) {
		mb[i] = (struct xl4_maglev_backend){ .key = v->be[i].key,
						     .weight = ring_weight(&v->be[i]),
						     .id = v->be[i].id };
		active += mb[i].weight > 0;
		if ((err = backend_write(lb, v, &v->be[i], 0)))
			goto out;
	}
	err = xl4_maglev_build(mb, v->n_be, size, lb->set.seed, lb->table);
	if (err && err != -ENOENT)
		goto out;
	v->table_fp = err ? 0 : xl4_lb_table_fingerprint(mb, v->n_be, lb->table, size);
	base = (v->id * 2 + next) * size;
	for (uint32_t i = 0; i < size; i++)
		lb->keys[i] = base + i;
	if (bpf_map_update_batch(lb->maps.ring, lb->keys, lb->table, &count, &bopts)) {
		/* Kernels without batch ops for arrays: one update per slot. */
		for (uint32_t i = 0; i < size; i++)
			if (bpf_map_update_elem(lb->maps.ring, &lb->keys[i], &lb->table[i], BPF_ANY)) {
				err = -errno;
				goto out;
			}
	}
	e = (struct xl4_vip){
		.id = v->id,
		.mode = v->spec.mode,
		.ring_slot = next,
		.flags = v->spec.reschedule_down ? XL4_VIP_F_RESCHEDULE_DOWN : 0,
		.n_backends = active > 255 ? 255 : active,
		.mtu = v->spec.mtu ? v->spec.mtu : 1500,
		.vip_port = htons(v->spec.port),
	};
	vip_key(&v->spec, &k, false);
	if ((err = vip_entry_put(lb, v, &k, &e))) {
		/* A later write failed (the copies by backend id, the index) after the entry named
		 * the new slot: the datapath reads that one now, and the next build must go to
		 * the other, not rewrite it under new flows. */
		v->slot = vip_written_slot(lb, &k, v->id, v->slot);
		goto out;
	}
	v->slot = next;
	err = 0;
out:
	free(mb);
	return err;
}

static int id_alloc(struct xl4_lb *lb, uint32_t *id)
{
	for (uint32_t i = 0; i < XL4_MAX_BACKENDS; i++) {
		if (!lb->be_used[i]) {
			lb->be_used[i] = true;
			lb->be_gen[i]++; /* stale conntrack entries for this id no longer match */
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static void id_release(struct xl4_lb *lb, const struct xl4_lb_vip *v, const struct xl4_lb_backend *b)
{
	int err;

	/* Mark it gone in the map first: flows still pointing here re-pick through Maglev, and
	 * nothing counts on the id any more, so its counters move to the VIP's removed backends'
	 * (src/lb_counters.c); one still live would count on, in both places. */
	err = backend_write(lb, v, b, XL4_BE_F_GONE);
	backend_vip_put(lb, b->id, NULL);
	if (err || (err = xl4_lb_counters_retire(lb, v->id, b->id)))
		pr_warn("VIP '%s': backend id %u's counters not kept in the VIP's: %s", v->spec.name,
			b->id, strerror(-err));
	lb->be_used[b->id] = false;
}

/* xl4_vbits_v1 from what xl4_vaddr_v1 holds now (derived state: rebuilt whole, so it can
 * never drift from the addresses, whoever wrote them). */
static int vip_bits_write(struct xl4_lb *lb)
{
	struct xl4_vip_bits bits = { { 0 } };
	struct xl4_vip_key key, next;
	void *prev = NULL;
	__u32 zero = 0, b;

	while (bpf_map_get_next_key(lb->maps.vaddr, prev, &next) == 0) {
		key = next;
		prev = &key;
		b = xl4_vip_bit(key.addr);
		bits.w[b / 64] |= 1ull << (b % 64);
	}
	return bpf_map_update_elem(lb->maps.vbits, &zero, &bits, BPF_ANY) ? -errno : 0;
}

/* xl4_bevip_v1 whole, from the backends the pins hold and the copies by id (by_id): whatever
 * a daemon killed mid-change or an older build left there, each backend's copy is its VIP's
 * again, and no copy is left for a backend that is gone. */
static int backend_vips_write(struct xl4_lb *lb, const struct xl4_vip *by_id)
{
	struct xl4_backend be;
	int ret;

	for (uint32_t b = 0; b < XL4_MAX_BACKENDS; b++) {
		const struct xl4_vip *v = NULL;

		if (!bpf_map_lookup_elem(lb->maps.backends, &b, &be) && be.family &&
		    !(be.flags & XL4_BE_F_GONE) && be.vip_id < XL4_MAX_VIPS &&
		    (by_id[be.vip_id].flags & XL4_VIP_F_LIVE))
			v = &by_id[be.vip_id];
		if ((ret = backend_vip_put(lb, b, v)))
			return ret;
	}
	return 0;
}

/* xl4_vipid_v1, xl4_bevip_v1 and the index from what xl4_vips_v1 holds now: every id set or
 * cleared. */
static int vip_ids_write(struct xl4_lb *lb)
{
	struct xl4_vip by_id[XL4_MAX_VIPS] = { { 0 } }, val;
	struct xl4_vip_key key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(lb->maps.vips, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(lb->maps.vips, &key, &val) || val.id >= XL4_MAX_VIPS)
			continue;
		by_id[val.id] = val;
		by_id[val.id].flags |= XL4_VIP_F_LIVE;
	}
	for (__u32 id = 0; id < XL4_MAX_VIPS; id++)
		if (bpf_map_update_elem(lb->maps.vipid, &id, &by_id[id], BPF_ANY))
			return -errno;
	return backend_vips_write(lb, by_id) ?:
	       xl4_vip_index_write(lb->maps.vips, lb->maps.vipkey, lb->maps.vidx);
}

/* k: a full VIP key; the address-only key is derived from it. */
static int addr_refcount_key(struct xl4_lb *lb, struct xl4_vip_key *full, int delta)
{
	struct xl4_vip_key k = *full;
	__u32 n = 0;

	k.port = 0;
	k.proto = 0;
	bpf_map_lookup_elem(lb->maps.vaddr, &k, &n);
	n += delta;
	if ((int)n <= 0) {
		if (bpf_map_delete_elem(lb->maps.vaddr, &k) && errno != ENOENT)
			return -errno;
	} else if (bpf_map_update_elem(lb->maps.vaddr, &k, &n, BPF_ANY)) {
		return -errno;
	}
	return vip_bits_write(lb);
}

static int addr_refcount(struct xl4_lb *lb, const struct xl4_vip_spec *s, int delta)
{
	struct xl4_vip_key k;

	vip_key(s, &k, false);
	return addr_refcount_key(lb, &k, delta);
}

/* ---- adopting what a previous daemon left in the pins ---- */

struct xl4_lb_inherited {
	struct {
		bool live, claimed;
		struct xl4_vip_key key;
		struct xl4_vip val;
	} vip[XL4_MAX_VIPS];
	struct xl4_backend be[XL4_MAX_BACKENDS];
	bool be_live[XL4_MAX_BACKENDS], be_claimed[XL4_MAX_BACKENDS];
};

int xl4_lb_adopt(struct xl4_lb *lb)
{
	struct xl4_vip_key key, next;
	void *prev = NULL;
	int n_vips = 0, n_be = 0;

	lb->inh = calloc(1, sizeof(*lb->inh));
	if (!lb->inh)
		return -ENOMEM;
	while (bpf_map_get_next_key(lb->maps.vips, prev, &next) == 0) {
		struct xl4_vip val;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(lb->maps.vips, &key, &val) || val.id >= XL4_MAX_VIPS)
			continue;
		lb->inh->vip[val.id].live = true;
		lb->inh->vip[val.id].key = key;
		lb->inh->vip[val.id].val = val;
		n_vips++;
	}
	for (uint32_t i = 0; i < XL4_MAX_BACKENDS; i++) {
		struct xl4_backend *e = &lb->inh->be[i];

		if (bpf_map_lookup_elem(lb->maps.backends, &i, e) || !e->family)
			continue;
		/* Generations carry on: an id reused later never matches an old flow. */
		lb->be_gen[i] = e->gen;
		if (e->flags & XL4_BE_F_GONE)
			continue;
		/* Held until commit: claimed by the config, or retired. */
		lb->inh->be_live[i] = lb->be_used[i] = true;
		n_be++;
	}
	if (n_vips || n_be)
		pr_info("load balancer: found %d VIPs and %d backends in the pinned maps", n_vips, n_be);
	if (lb->maps.vstats_old >= 0) {
		bool vip_live[XL4_MAX_VIPS];

		for (int id = 0; id < XL4_MAX_VIPS; id++)
			vip_live[id] = lb->inh->vip[id].live;
		/* counters only: a failure is logged, the start goes on */
		xl4_lb_counters_migrate(lb, lb->maps.vstats_old, vip_live, lb->inh->be,
					lb->inh->be_live);
	}
	return 0;
}

/* The pinned VIP with this exact key, if a previous daemon left one nobody claimed yet. */
static struct xl4_lb_vip *vip_claim(struct xl4_lb *lb, const struct xl4_vip_spec *s)
{
	struct xl4_vip_key k;

	if (!lb->inh)
		return NULL;
	vip_key(s, &k, false);
	for (int id = 0; id < XL4_MAX_VIPS; id++) {
		if (!lb->inh->vip[id].live || lb->inh->vip[id].claimed || lb->vips[id].used ||
		    memcmp(&lb->inh->vip[id].key, &k, sizeof(k)))
			continue;
		lb->inh->vip[id].claimed = true;
		return &lb->vips[id];
	}
	return NULL;
}

/* The pinned backend of an adopted VIP with this address: its id, generation and MAC. */
static bool backend_claim(struct xl4_lb *lb, const struct xl4_lb_vip *v, struct xl4_lb_backend *nb)
{
	__be16 port = htons(nb->spec.port ? nb->spec.port : v->spec.port);

	if (!lb->inh || !lb->inh->vip[v->id].claimed)
		return false;
	for (uint32_t i = 0; i < XL4_MAX_BACKENDS; i++) {
		const struct xl4_backend *e = &lb->inh->be[i];
		static const uint8_t zero_mac[6];

		if (!lb->inh->be_live[i] || lb->inh->be_claimed[i] || e->vip_id != v->id ||
		    e->family != nb->spec.family || e->port != port || memcmp(e->addr, nb->spec.addr, 16))
			continue;
		lb->inh->be_claimed[i] = true;
		nb->id = i;
		nb->adopted = true;
		/* Health state too: a backend that was down stays out of the table until its
		 * checks pass again (the checker starts from this state). */
		nb->down = e->flags & XL4_BE_F_DOWN;
		if (!nb->spec.has_mac && memcmp(e->mac, zero_mac, 6)) {
			/* The neighbour table may not know it yet: without this, the table
			 * would lose the backend until it does. */
			memcpy(nb->spec.mac, e->mac, 6);
			nb->mac_known = true;
		}
		return true;
	}
	return false;
}

void xl4_lb_hold(struct xl4_lb *lb)
{
	lb->hold = true;
}

int xl4_lb_commit(struct xl4_lb *lb, char *err, size_t errlen)
{
	int ret = 0, r;

	lb->hold = false;
	for (int id = 0; id < XL4_MAX_VIPS; id++) {
		if (!lb->dirty[id])
			continue;
		lb->dirty[id] = false;
		if (lb->vips[id].used && (r = vip_sync(lb, &lb->vips[id])) && !ret)
			ret = xl4_errf(err, errlen, r, "VIP '%s': cannot write the maps: %s",
				       lb->vips[id].spec.name, strerror(-r));
	}
	if (!lb->inh)
		return ret;
	/* What the previous daemon had and this configuration does not: gone, as with del. */
	for (int id = 0; id < XL4_MAX_VIPS; id++) {
		if (!lb->inh->vip[id].live || lb->inh->vip[id].claimed)
			continue;
		vip_entry_del(lb, &lb->inh->vip[id].key, id);
		addr_refcount_key(lb, &lb->inh->vip[id].key, -1);
		pr_info("vip id %u left by the previous daemon is not in the configuration: removed", id);
	}
	for (uint32_t i = 0; i < XL4_MAX_BACKENDS; i++) {
		struct xl4_backend e = lb->inh->be[i];
		bool gone;

		if (!lb->inh->be_live[i] || lb->inh->be_claimed[i])
			continue;
		e.flags |= XL4_BE_F_GONE;
		gone = !bpf_map_update_elem(lb->maps.backends, &i, &e, BPF_ANY);
		backend_vip_put(lb, i, NULL);
		/* a backend the configuration dropped from a VIP it kept: its counts stay the VIP's
		 * (once it is marked gone: one still live would count on, in both places) */
		if (gone && e.vip_id < XL4_MAX_VIPS && lb->inh->vip[e.vip_id].claimed &&
		    lb->vips[e.vip_id].used && xl4_lb_counters_retire(lb, e.vip_id, i))
			pr_warn("vip id %u: backend id %u's counters not kept in the VIP's", e.vip_id, i);
		lb->be_used[i] = false;
	}
	free(lb->inh);
	lb->inh = NULL;
	return ret;
}

/* Zero one entry of a per-CPU map on every CPU (each CPU's value 8-byte aligned, as the
 * kernel lays them out). */
static int percpu_zero(int fd, uint32_t id, size_t value_size)
{
	int ncpus = libbpf_num_possible_cpus(), ret = 0;
	void *zero;

	if (ncpus <= 0 || !(zero = calloc(ncpus, (value_size + 7) & ~(size_t)7)))
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &id, zero, BPF_ANY))
		ret = -errno;
	free(zero);
	return ret;
}

/* A VIP id is reused after a delete: its flood-guard entries (override, mode, counters, and
 * the windows and source sketches its CPUs published, which a judge within their freshness
 * would sum into the new VIP's first window: an old flood's) start from zero before the new
 * VIP is visible to the datapath. */
static int guard_reset(struct xl4_lb *lb, uint32_t id)
{
	static const struct xl4_guard_wins no_windows;
	struct xl4_guard_ctl ctl = { 0 };
	struct xl4_guard_vip gv = { 0 };
	int ret;

	if (bpf_map_update_elem(lb->maps.gctl, &id, &ctl, BPF_ANY) ||
	    bpf_map_update_elem(lb->maps.gvip, &id, &gv, BPF_ANY) ||
	    (lb->maps.gwin >= 0 && bpf_map_update_elem(lb->maps.gwin, &id, &no_windows, BPF_ANY)))
		return -errno;
	if (lb->maps.gsrc >= 0 && (ret = percpu_zero(lb->maps.gsrc, id, sizeof(struct xl4_guard_srcs))))
		return ret;
	return percpu_zero(lb->maps.gstat, id, sizeof(struct xl4_guard_stats));
}

/* A new VIP's or backend's traffic counters start at zero: ids are reused, and the per-CPU
 * values under a freed id still hold what its last owner counted. */
static int counters_reset(int fd, uint32_t id)
{
	return percpu_zero(fd, id, sizeof(struct xl4_lb_counters));
}

int xl4_lb_vip_add(struct xl4_lb *lb, const struct xl4_vip_spec *s, char *err, size_t errlen)
{
	char str[96];
	struct xl4_lb_vip *v = NULL, *adopted;
	int ret;

	xl4_vip_str(s, str, sizeof(str));
	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		struct xl4_lb_vip *o = &lb->vips[i];

		if (!o->used) {
			/* an id a previous daemon's VIP holds stays free for it until commit */
			if (!v && !(lb->inh && lb->inh->vip[i].live && !lb->inh->vip[i].claimed))
				v = o;
			continue;
		}
		if (!strcmp(o->spec.name, s->name))
			return xl4_errf(err, errlen, -EEXIST, "VIP '%s' exists already", s->name);
		if (o->spec.family == s->family && o->spec.port == s->port &&
		    o->spec.proto == s->proto && !memcmp(o->spec.addr, s->addr, 16))
			return xl4_errf(err, errlen, -EEXIST, "%s is VIP '%s' already", str, o->spec.name);
	}
	if (!v)
		return xl4_errf(err, errlen, -ENOSPC, "no room for VIP '%s': %d VIPs is the maximum",
			   s->name, XL4_MAX_VIPS);
	if (s->mode < XL4_FWD_L2 || s->mode > XL4_FWD_IPIP)
		return xl4_errf(err, errlen, -EINVAL, "VIP '%s': unknown forwarding mode", s->name);
	if (s->mtu && (s->mtu < (s->family == 6 ? 1280 + 40 : 576 + 20)))
		return xl4_errf(err, errlen, -EINVAL, "VIP '%s': mtu %u is too small for %s", s->name,
			   s->mtu, s->family == 6 ? "IPv6 in IPv6 (at least 1320)" : "IPIP (at least 596)");
	adopted = vip_claim(lb, s);
	if (adopted)
		v = adopted;
	memset(v, 0, sizeof(*v));
	v->id = v - lb->vips;
	v->spec = *s;
	vip_id_take(lb, v);
	/* the first sync writes the idle slot: 0 for a new VIP, the other one for an adopted one;
	 * a new VIP starts with clean guard state and counters (ids are reused), an adopted one
	 * keeps its own */
	v->slot = adopted ? lb->inh->vip[v->id].val.ring_slot : 1;
	if ((!adopted && ((ret = guard_reset(lb, v->id)) ||
			  (ret = counters_reset(lb->maps.vstats, v->id)) ||
			  (ret = xl4_lb_retired_reset(lb, v->id)))) ||
	    (ret = vip_sync(lb, v)) ||
	    (!adopted && (ret = addr_refcount(lb, s, +1)))) {
		struct xl4_vip_key k;

		vip_key(s, &k, false);
		vip_entry_del(lb, &k, v->id);
		memset(v, 0, sizeof(*v));
		return xl4_errf(err, errlen, ret, "VIP '%s': cannot write the maps: %s", s->name, strerror(-ret));
	}
	v->used = true;
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "vip", "%s", s->name);
		xl4_kv(&kv, "addr", "%s", str);
		xl4_kv(&kv, "mode", "%s", xl4_fwd_mode_name(s->mode));
		xl4_log_event(XL4_LOG_INFO, "vip_added", &kv);
	}
	return 0;
}

int xl4_lb_vip_del(struct xl4_lb *lb, const char *name, char *err, size_t errlen)
{
	struct xl4_lb_vip *v = xl4_lb_vip_find(lb, name);
	struct xl4_vip_key k;
	int ret;

	if (!v)
		return xl4_errf(err, errlen, -ENOENT, "no VIP named '%s'", name);
	vip_key(&v->spec, &k, false);
	ret = vip_entry_del(lb, &k, v->id);
	if (ret && ret != -ENOENT)
		return xl4_errf(err, errlen, ret, "VIP '%s': %s", name, strerror(-ret));
	addr_refcount(lb, &v->spec, -1);
	for (size_t i = 0; i < v->n_be; i++)
		id_release(lb, v, &v->be[i]);
	free(v->be);
	memset(v, 0, sizeof(*v));
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "vip", "%s", name);
		xl4_log_event(XL4_LOG_INFO, "vip_deleted", &kv);
	}
	return 0;
}

int xl4_lb_vip_update(struct xl4_lb *lb, const struct xl4_vip_spec *s, char *err, size_t errlen)
{
	struct xl4_lb_vip *v = xl4_lb_vip_find(lb, s->name);
	struct xl4_vip_spec saved;
	int ret;

	if (!v)
		return xl4_errf(err, errlen, -ENOENT, "no VIP named '%s'", s->name);
	if (v->spec.family != s->family || memcmp(v->spec.addr, s->addr, 16) ||
	    v->spec.port != s->port || v->spec.proto != s->proto)
		return xl4_errf(err, errlen, -EINVAL, "VIP '%s': another address is another VIP", s->name);
	if (s->mode < XL4_FWD_L2 || s->mode > XL4_FWD_IPIP)
		return xl4_errf(err, errlen, -EINVAL, "VIP '%s': unknown forwarding mode", s->name);
	saved = v->spec;
	v->spec.mode = s->mode;
	v->spec.mtu = s->mtu;
	v->spec.reschedule_down = s->reschedule_down;
	if ((ret = vip_sync(lb, v))) {
		v->spec = saved;
		return xl4_errf(err, errlen, ret, "VIP '%s': cannot write the maps: %s", s->name, strerror(-ret));
	}
	pr_info("vip %s: mode %s, mtu %u, on_backend_down %s", s->name, xl4_fwd_mode_name(s->mode),
		s->mtu ? s->mtu : 1500, s->reschedule_down ? "reschedule" : "keep");
	return 0;
}

static struct xl4_lb_vip *vip_or_say(struct xl4_lb *lb, const char *name, char *err, size_t errlen)
{
	struct xl4_lb_vip *v = xl4_lb_vip_find(lb, name);

	if (!v)
		xl4_errf(err, errlen, -ENOENT, "no VIP named '%s'", name);
	return v;
}

int xl4_lb_backend_add(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
		       char *err, size_t errlen)
{
	struct xl4_lb_vip *v = vip_or_say(lb, vip, err, errlen);
	struct xl4_lb_backend *nb, *grown;
	char str[64];
	int ret;

	if (!v)
		return -ENOENT;
	xl4_backend_str(b, str, sizeof(str));
	if (b->family != v->spec.family)
		return xl4_errf(err, errlen, -EINVAL, "backend %s: VIP '%s' is IPv%d, the backend IPv%d "
			   "(families must match)", str, vip, v->spec.family, b->family);
	if (b->port && v->spec.mode != XL4_FWD_PORT && b->port != v->spec.port)
		return xl4_errf(err, errlen, -EINVAL, "backend %s: only 'port' mode VIPs rewrite ports; "
			   "VIP '%s' is '%s'", str, vip, xl4_fwd_mode_name(v->spec.mode));
	if (b->weight < 1 || b->weight > 65535)
		return xl4_errf(err, errlen, -EINVAL, "backend %s: weight must be 1..65535", str);
	if (backend_find(v, b))
		return xl4_errf(err, errlen, -EEXIST, "backend %s is in VIP '%s' already", str, vip);
	if (v->n_be >= XL4_VIP_MAX_BACKENDS)
		return xl4_errf(err, errlen, -ENOSPC, "VIP '%s' has %d backends, the maximum", vip,
			   XL4_VIP_MAX_BACKENDS);
	grown = realloc(v->be, (v->n_be + 1) * sizeof(*v->be));
	if (!grown)
		return xl4_errf(err, errlen, -ENOMEM, "out of memory");
	v->be = grown;
	nb = &v->be[v->n_be];
	memset(nb, 0, sizeof(*nb));
	nb->spec = *b;
	nb->mac_known = b->has_mac;
	snprintf(nb->key, sizeof(nb->key), "%s", str);
	if (!backend_claim(lb, v, nb)) {
		if (id_alloc(lb, &nb->id))
			return xl4_errf(err, errlen, -ENOSPC, "no backend ids left (%d in all)",
					XL4_MAX_BACKENDS);
		/* a new backend does not inherit its id's last owner's counters; an adopted one
		 * (a daemon restart) keeps its own */
		if ((ret = counters_reset(lb->maps.bstats, nb->id))) {
			lb->be_used[nb->id] = false;
			return xl4_errf(err, errlen, ret, "backend %s: cannot reset its counters: %s",
					str, strerror(-ret));
		}
	}
	v->n_be++;
	if ((ret = vip_sync(lb, v))) {
		/* the maps may name it already (its entry, a table that flipped): gone there too,
		 * so what a table sends it re-picks, and no lane copy outlives it */
		id_release(lb, v, nb);
		v->n_be--;
		return xl4_errf(err, errlen, ret, "backend %s: cannot write the maps: %s", str, strerror(-ret));
	}
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "vip", "%s", vip);
		xl4_kv(&kv, "backend", "%s", str);
		xl4_kv(&kv, "weight", "%u", b->weight);
		xl4_kv(&kv, "mac", "%s", nb->mac_known ? "known" : "resolving");
		xl4_kv(&kv, "backends", "%zu", v->n_be);
		xl4_log_event(XL4_LOG_INFO, "backend_added", &kv);
	}
	return 0;
}

/* A VIP's backend by address, or NULL with the reason in err; str gets its display form. */
static struct xl4_lb_backend *backend_or_say(struct xl4_lb *lb, const char *vip,
					     const struct xl4_backend_spec *b, struct xl4_lb_vip **v,
					     char str[64], char *err, size_t errlen)
{
	struct xl4_lb_backend *be;

	*v = vip_or_say(lb, vip, err, errlen);
	if (!*v)
		return NULL;
	xl4_backend_str(b, str, 64);
	be = backend_find(*v, b);
	if (!be)
		xl4_errf(err, errlen, -ENOENT, "VIP '%s' has no backend %s", vip, str);
	return be;
}

int xl4_lb_backend_del(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
		       char *err, size_t errlen)
{
	struct xl4_lb_vip *v;
	struct xl4_lb_backend *be, gone;
	char str[64];
	int ret;

	if (!(be = backend_or_say(lb, vip, b, &v, str, err, errlen)))
		return -ENOENT;
	gone = *be;
	*be = v->be[--v->n_be];
	if ((ret = vip_sync(lb, v))) {
		/* Put it back where it was: a failed change changes nothing. */
		v->be[v->n_be++] = *be;
		*be = gone;
		return xl4_errf(err, errlen, ret, "backend %s: cannot write the maps: %s", str, strerror(-ret));
	}
	id_release(lb, v, &gone);
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "vip", "%s", vip);
		xl4_kv(&kv, "backend", "%s", str);
		xl4_kv(&kv, "backends", "%zu", v->n_be);
		xl4_log_event(XL4_LOG_INFO, "backend_removed", &kv);
	}
	return 0;
}

static int backend_change(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
			  uint32_t weight, int drain, char *err, size_t errlen)
{
	struct xl4_lb_vip *v;
	struct xl4_lb_backend *be, saved;
	char str[64];
	int ret;

	if (!(be = backend_or_say(lb, vip, b, &v, str, err, errlen)))
		return -ENOENT;
	if (weight && weight > 65535)
		return xl4_errf(err, errlen, -EINVAL, "weight must be 1..65535");
	saved = *be;
	if (weight)
		be->spec.weight = weight;
	if (drain >= 0)
		be->spec.drained = drain;
	if ((ret = vip_sync(lb, v))) {
		*be = saved;
		return xl4_errf(err, errlen, ret, "backend %s: cannot write the maps: %s", str, strerror(-ret));
	}
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "vip", "%s", vip);
		xl4_kv(&kv, "backend", "%s", str);
		xl4_kv(&kv, "weight", "%u", be->spec.weight);
		xl4_kv(&kv, "drained", "%s", be->spec.drained ? "true" : "false");
		xl4_log_event(XL4_LOG_INFO, "backend_changed", &kv);
	}
	return 0;
}

int xl4_lb_backend_set_weight(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
			      uint32_t weight, char *err, size_t errlen)
{
	if (weight < 1 || weight > 65535)
		return xl4_errf(err, errlen, -EINVAL, "weight must be 1..65535");
	return backend_change(lb, vip, b, weight, -1, err, errlen);
}

int xl4_lb_backend_drain(struct xl4_lb *lb, const char *vip, const struct xl4_backend_spec *b,
			 bool drain, char *err, size_t errlen)
{
	return backend_change(lb, vip, b, 0, drain, err, errlen);
}

int xl4_lb_backend_set_down(struct xl4_lb *lb, uint32_t id, bool down)
{
	struct xl4_lb_vip *v;
	struct xl4_lb_backend *b = xl4_lb_backend_by_id(lb, id, &v);

	if (!b)
		return -ENOENT;
	if (b->down == down)
		return 0;
	b->down = down;
	return vip_sync(lb, v);
}

int xl4_lb_backend_set_mac(struct xl4_lb *lb, uint32_t id, const uint8_t mac[6])
{
	struct xl4_lb_vip *v;
	struct xl4_lb_backend *b = xl4_lb_backend_by_id(lb, id, &v);

	if (!b)
		return -ENOENT;
	if (b->mac_known && !memcmp(b->spec.mac, mac, 6))
		return 0;
	memcpy(b->spec.mac, mac, 6);
	b->mac_known = true;
	return vip_sync(lb, v);
}

/* All zero when unreadable (xl4_lb_counters_read, xl4_lb_vip_counters). */
static json_t *counters_json(const struct xl4_lb_counters *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "packets", (json_int_t)c->packets, "bytes",
			 (json_int_t)c->bytes, "new_flows", (json_int_t)c->new_flows, "ct_hits",
			 (json_int_t)c->ct_hits, "ct_misses", (json_int_t)c->ct_misses,
			 "ct_insert_capped", (json_int_t)c->ct_insert_capped);
}

static const char *backend_state(const struct xl4_lb_backend *b)
{
	if (!b->mac_known)
		return "no-mac";
	if (b->down)
		return "down";
	if (b->spec.drained)
		return "drained";
	return "active";
}

json_t *xl4_lb_json(struct xl4_lb *lb)
{
	json_t *vips = json_array();

	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		struct xl4_lb_vip *v = &lb->vips[i];
		struct xl4_lb_counters vc, *bc;
		json_t *bes;
		char str[96], mac[18], fp[17];

		if (!v->used)
			continue;
		/* all zero when unreadable (or no memory: the VIP stays listed); the VIP's sum from
		 * the same reads as its backends' rows */
		bc = calloc(v->n_be ? v->n_be : 1, sizeof(*bc));
		memset(&vc, 0, sizeof(vc));
		if (bc)
			xl4_lb_vip_counters(lb, v, &vc, bc);
		bes = json_array();
		for (size_t j = 0; j < v->n_be; j++) {
			struct xl4_lb_backend *b = &v->be[j];
			const uint8_t *m = b->spec.mac;

			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
				 m[3], m[4], m[5]);
			json_array_append_new(
				bes, json_pack("{s:s, s:i, s:i, s:s, s:s, s:b, s:b, s:o}", "address", b->key,
					       "id", (int)b->id, "weight", (int)b->spec.weight, "state",
					       backend_state(b), "mac", b->mac_known ? mac : "",
					       "drained", b->spec.drained, "healthy", !b->down,
					       "counters",
					       counters_json(bc ? &bc[j] : &(struct xl4_lb_counters){ 0 })));
		}
		free(bc);
		xl4_vip_str(&v->spec, str, sizeof(str));
		snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)v->table_fp);
		json_array_append_new(
			vips, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:o, s:o}", "name", v->spec.name,
					"vip", str, "mode", xl4_fwd_mode_name(v->spec.mode), "mtu",
					v->spec.mtu ? v->spec.mtu : 1500, "id", (int)v->id,
					"table_fingerprint", fp,
					"counters", counters_json(&vc),
					"backends", bes));
	}
	return vips;
}
