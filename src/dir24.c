// SPDX-License-Identifier: GPL-2.0
/* The IPv4 lists' DIR-24-8 index: see dir24.h for what a packet can see while it changes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dir24.h"

/* Stores a packet may read: release order keeps every earlier write (the entry, a group's
 * leaves) visible before the slot that names it. */
#define PUB(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t mask(unsigned int len)
{
	return (uint32_t)(0xffffffff00000000ull >> len);
}

static int holds(const struct xl4_d24_entry *e, uint32_t a)
{
	return ((a ^ ntohl(e->addr)) & mask(e->e.len)) == 0;
}

/* ---- free lists: FIFO, so a freed id or group is the last to come back ---- */

/* Grows as values are freed: a table that never freed anything holds none. */
static int fifo_grow(struct xl4_d24_fifo *q)
{
	size_t cap = q->cap ? q->cap * 2 : 256;
	uint32_t *v = malloc(cap * sizeof(*v));
	uint64_t *at = malloc(cap * sizeof(*at));

	if (!v || !at) {
		free(v);
		free(at);
		return -ENOMEM;
	}
	for (size_t i = 0; i < q->n; i++) {
		v[i] = q->v[(q->head + i) % q->cap];
		at[i] = q->at[(q->head + i) % q->cap];
	}
	free(q->v);
	free(q->at);
	q->v = v;
	q->at = at;
	q->head = 0;
	q->cap = cap;
	return 0;
}

static void fifo_push(struct xl4_d24_fifo *q, uint32_t v, uint64_t at)
{
	if (q->n == q->cap && fifo_grow(q))
		return; /* out of memory: the value is lost to reuse, nothing else */
	q->v[(q->head + q->n) % q->cap] = v;
	q->at[(q->head + q->n) % q->cap] = at;
	q->n++;
}

/* The oldest freed value, waiting out what is left of its grace time; 0 if none. */
static int fifo_pop(struct xl4_d24_fifo *q, uint64_t grace_ns, uint32_t *v)
{
	uint64_t now;

	if (!q->n)
		return -1;
	if (grace_ns && q->at[q->head] && (now = mono_ns()) < q->at[q->head] + grace_ns) {
		uint64_t wait = q->at[q->head] + grace_ns - now;
		struct timespec ts = { .tv_sec = wait / 1000000000ull,
				       .tv_nsec = wait % 1000000000ull };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	*v = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return 0;
}

/* Give back a value popped a moment ago and never published: it may be reused at once. */
static void fifo_unpop(struct xl4_d24_fifo *q, uint32_t v)
{
	if (q->n == q->cap && fifo_grow(q))
		return;
	q->head = (q->head + q->cap - 1) % q->cap;
	q->v[q->head] = v;
	q->at[q->head] = 0;
	q->n++;
}

/* ---- allocation: never-used ids and groups first (past the high-water marks in entry 0),
 * then the oldest freed ones ---- */

static int id_alloc(struct xl4_dir24 *t, uint32_t *id)
{
	uint32_t hwm = t->ent[0].other;

	if (hwm + 1 < t->n_ent) {
		*id = hwm + 1;
		PUB(&t->ent[0].other, hwm + 1);
		return 0;
	}
	return fifo_pop(&t->free_ids, t->grace_ns, id);
}

static int group_alloc(struct xl4_dir24 *t, uint32_t *g)
{
	uint32_t hwm = t->ent[0].addr;

	if (hwm < t->n_groups) {
		*g = hwm;
		PUB(&t->ent[0].addr, hwm + 1);
		return 0;
	}
	return fifo_pop(&t->free_groups, t->grace_ns, g);
}

/* ---- (addr, len) -> id ---- */

static size_t hslot(const struct xl4_dir24 *t, uint32_t a, unsigned int len)
{
	uint64_t h = ((uint64_t)a << 6 | len) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & t->hash_mask;
}

static int hmatch(const struct xl4_dir24 *t, uint32_t id, uint32_t a, unsigned int len)
{
	return t->ent[id].e.len == len && ntohl(t->ent[id].addr) == a;
}

static uint32_t hfind(const struct xl4_dir24 *t, uint32_t a, unsigned int len)
{
	for (size_t i = hslot(t, a, len);; i = (i + 1) & t->hash_mask) {
		uint32_t id = t->hash[i];

		if (!id || hmatch(t, id, a, len))
			return id;
	}
}

static void hinsert(struct xl4_dir24 *t, uint32_t id)
{
	size_t i = hslot(t, ntohl(t->ent[id].addr), t->ent[id].e.len);

	while (t->hash[i])
		i = (i + 1) & t->hash_mask;
	t->hash[i] = id;
}

/* Linear probing: close the gap by moving back every later id that may sit in it. */
static void hremove(struct xl4_dir24 *t, uint32_t id)
{
	size_t i = hslot(t, ntohl(t->ent[id].addr), t->ent[id].e.len), j;

	while (t->hash[i] != id)
		i = (i + 1) & t->hash_mask;
	t->hash[i] = 0;
	for (j = (i + 1) & t->hash_mask; t->hash[j]; j = (j + 1) & t->hash_mask) {
		uint32_t o = t->hash[j];
		size_t home = hslot(t, ntohl(t->ent[o].addr), t->ent[o].e.len);

		/* o may move to i if its home is not in (i, j] (cyclically) */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->hash[i] = o;
			t->hash[j] = 0;
			i = j;
		}
	}
}

/* The longest prefix of length hi down to lo holding a, or 0. */
static uint32_t lpm(const struct xl4_dir24 *t, uint32_t a, int hi, int lo)
{
	for (int l = hi; l >= lo; l--) {
		uint32_t id = hfind(t, a & mask(l), l);

		if (id)
			return id;
	}
	return 0;
}

/* ---- init ---- */

int xl4_dir24_init(struct xl4_dir24 *t, uint32_t *idx, uint32_t *grp, uint32_t n_groups,
		   struct xl4_d24_entry *ent, uint32_t n_ent)
{
	size_t hcap = 2;
	uint8_t *gused;

	memset(t, 0, sizeof(*t));
	if (n_ent < 2)
		return -EINVAL;
	t->idx = idx;
	t->grp = grp;
	t->ent = ent;
	t->n_groups = n_groups;
	t->n_ent = n_ent;
	t->grace_ns = XL4_D24_GRACE_NS;
	while (hcap < 2ull * n_ent)
		hcap <<= 1;
	t->hash = calloc(hcap, sizeof(*t->hash));
	t->hash_mask = hcap - 1;
	/* entry 0 is the header: the high-water marks of ids and groups ever used */
	if (ent[0].other >= n_ent)
		ent[0].other = n_ent - 1;
	if (ent[0].addr > n_groups)
		ent[0].addr = n_groups;
	gused = calloc(ent[0].addr ? ent[0].addr : 1, 1);
	if (!t->hash || !gused) {
		free(gused);
		xl4_dir24_free(t);
		return -ENOMEM;
	}
	/* entries an earlier writer left: those marked with their own id */
	for (uint32_t id = 1; id <= ent[0].other; id++) {
		if (ent[id].e.id == id && ent[id].e.len <= 32 &&
		    !hfind(t, ntohl(ent[id].addr), ent[id].e.len)) {
			hinsert(t, id);
			t->n++;
		} else
			fifo_push(&t->free_ids, id, 0);
	}
	/* groups: those a slot names (a full scan, only if a group was ever used) */
	for (uint32_t s = 0; ent[0].addr && s < XL4_D24_SLOTS; s++)
		if ((idx[s] & XL4_D24_GROUP) && (idx[s] & ~XL4_D24_GROUP) < ent[0].addr)
			gused[idx[s] & ~XL4_D24_GROUP] = 1;
	for (uint32_t g = 0; g < ent[0].addr; g++)
		if (!gused[g])
			fifo_push(&t->free_groups, g, 0);
	free(gused);
	return 0;
}

void xl4_dir24_free(struct xl4_dir24 *t)
{
	free(t->hash);
	free(t->free_ids.v);
	free(t->free_ids.at);
	free(t->free_groups.v);
	free(t->free_groups.at);
	memset(t, 0, sizeof(*t));
}

uint32_t xl4_dir24_find(const struct xl4_dir24 *t, __be32 addr, uint8_t len)
{
	return len <= 32 ? hfind(t, ntohl(addr), len) : 0;
}

uint32_t xl4_dir24_groups_used(const struct xl4_dir24 *t)
{
	return t->ent[0].addr - (uint32_t)t->free_groups.n;
}

uint32_t xl4_dir24_ids_seen(const struct xl4_dir24 *t)
{
	return t->ent[0].other;
}

size_t xl4_dir24_count(const struct xl4_dir24 *t)
{
	return t->n;
}

void xl4_dir24_mark(struct xl4_dir24 *t, int busy)
{
	PUB(&t->ent[0].e.expires_ns, busy ? 1 : 0);
}

int xl4_dir24_marked(const struct xl4_dir24 *t)
{
	return t->ent[0].e.expires_ns != 0;
}

/* ---- publishing ---- */

static uint8_t len_of(const struct xl4_dir24 *t, uint32_t id)
{
	return t->ent[id].e.len;
}

/* The entry id an idx slot that is not a group names (a direct slot's too), or 0. */
static uint32_t slot_id(uint32_t v)
{
	return v & XL4_D24_ID_MASK;
}

/* What an idx slot naming id alone holds: the id, made direct (abi.h) when id is a /32 with
 * no covering prefix that never expires and applies to every packet. Written again whenever
 * one of those changes (its `other`, its expiry or scope). */
static uint32_t slot_of(const struct xl4_dir24 *t, uint32_t id)
{
	const struct xl4_d24_entry *d = &t->ent[id];

	if (d->e.len == 32 && !d->other && !d->e.expires_ns && d->e.scope == XL4_BLOCK_SCOPE_ALL)
		return XL4_D24_DIRECT | (ntohl(d->addr) & 0xff) << XL4_D24_HOST_SHIFT | id;
	return id;
}

/* id (a long prefix alone in slot s) changed what makes its slot direct: the slot again. */
static void slot_renew(struct xl4_dir24 *t, uint32_t s, uint32_t id)
{
	uint32_t v = t->idx[s];

	if (!(v & XL4_D24_GROUP) && slot_id(v) == id && v != slot_of(t, id))
		PUB(&t->idx[s], slot_of(t, id));
}

/* id (len <= 24) now holds slot s: it replaces whatever shorter prefix answered there. A
 * direct slot's /32 gains a cover: its `other` first, then the slot (no longer direct). */
static void slot_add_short(struct xl4_dir24 *t, uint32_t s, uint32_t id, uint8_t len)
{
	uint32_t v = t->idx[s];

	if (v & XL4_D24_GROUP) {
		uint32_t *leaf = &t->grp[(size_t)(v & ~XL4_D24_GROUP) * XL4_D24_GROUP_LEAVES];

		for (int i = 0; i < XL4_D24_GROUP_LEAVES; i++)
			if (!leaf[i] || len_of(t, leaf[i]) < len)
				PUB(&leaf[i], id);
	} else if ((v = slot_id(v)) && len_of(t, v) > 24) {
		uint32_t o = t->ent[v].other;

		if (!o || len_of(t, o) < len) {
			PUB(&t->ent[v].other, id);
			slot_renew(t, s, v);
		}
	} else if (!v || len_of(t, v) < len) {
		PUB(&t->idx[s], id);
	}
}

/* id (len <= 24) left slot s: what answered with it answers with r (its covering prefix). */
static void slot_del_short(struct xl4_dir24 *t, uint32_t s, uint32_t id, uint32_t r)
{
	uint32_t v = t->idx[s];

	if (v & XL4_D24_GROUP) {
		uint32_t *leaf = &t->grp[(size_t)(v & ~XL4_D24_GROUP) * XL4_D24_GROUP_LEAVES];

		for (int i = 0; i < XL4_D24_GROUP_LEAVES; i++)
			if (leaf[i] == id)
				PUB(&leaf[i], r);
	} else if ((v = slot_id(v)) && v != id && len_of(t, v) > 24) {
		if (t->ent[v].other == id) {
			PUB(&t->ent[v].other, r);
			slot_renew(t, s, v); /* direct again if r is 0 */
		}
	} else if (v == id) {
		PUB(&t->idx[s], r);
	}
}

/* Leaves of a long prefix id: those answered by something shorter now answer id. */
static void leaves_add(struct xl4_dir24 *t, uint32_t *leaf, uint32_t id)
{
	uint32_t a = ntohl(t->ent[id].addr);
	uint8_t len = t->ent[id].e.len;

	for (uint32_t i = a & 0xff, end = i + (1u << (32 - len)); i < end; i++)
		if (!leaf[i] || len_of(t, leaf[i]) < len)
			PUB(&leaf[i], id);
}

/* Slot s named q, alone in its /24; id is a second long prefix there: the slot becomes a
 * group, filled (the /24's cover, then q's and id's leaves) before the slot names it. */
static int slot_to_group(struct xl4_dir24 *t, uint32_t s, uint32_t q, uint32_t id)
{
	uint32_t g, *leaf;

	if (group_alloc(t, &g))
		return -ENOBUFS;
	leaf = &t->grp[(size_t)g * XL4_D24_GROUP_LEAVES];
	for (uint32_t i = 0; i < XL4_D24_GROUP_LEAVES; i++)
		PUB(&leaf[i], t->ent[q].other);
	leaves_add(t, leaf, q);
	leaves_add(t, leaf, id);
	PUB(&t->idx[s], XL4_D24_GROUP | g);
	return 0;
}

/* After a long prefix left group g of slot s: back to one entry (and its `other`) or to the
 * /24's covering prefix when the leaves show at most one prefix longer than /24. (A longer
 * prefix never hides behind others: each leaf it holds shows it or a still longer one.) */
static void group_shrink(struct xl4_dir24 *t, uint32_t s, uint32_t g)
{
	uint32_t *leaf = &t->grp[(size_t)g * XL4_D24_GROUP_LEAVES], q = 0, base = 0;

	for (int i = 0; i < XL4_D24_GROUP_LEAVES; i++) {
		uint32_t v = leaf[i];

		if (v && len_of(t, v) > 24) {
			if (q && q != v)
				return;
			q = v;
		} else {
			base = v;
		}
	}
	if (q) {
		PUB(&t->ent[q].other, base);
		PUB(&t->idx[s], slot_of(t, q));
	} else {
		PUB(&t->idx[s], base);
	}
	fifo_push(&t->free_groups, g, mono_ns());
}

/* Every slot or leaf that should name id does: for a new entry (no slot names it yet) and,
 * again, for one that is there already (repair: a writer that died mid-change left some on
 * what the prefix covers, or on the prefix a delete was moving them to), each step a no-op
 * where it was done. */
static int publish(struct xl4_dir24 *t, uint32_t id)
{
	uint32_t a = ntohl(t->ent[id].addr), s = a >> 8, v;
	uint8_t len = t->ent[id].e.len;

	if (len <= 24) {
		for (uint32_t n = 1u << (24 - len), i = 0; i < n; i++)
			slot_add_short(t, s + i, id, len);
		return 0;
	}
	v = t->idx[s];
	if (v & XL4_D24_GROUP) {
		leaves_add(t, &t->grp[(size_t)(v & ~XL4_D24_GROUP) * XL4_D24_GROUP_LEAVES], id);
		return 0;
	}
	if ((v = slot_id(v)) == id) {
		slot_renew(t, s, id);
		return 0;
	}
	if (v && len_of(t, v) > 24)
		return slot_to_group(t, s, v, id);
	PUB(&t->ent[id].other, v);
	PUB(&t->idx[s], slot_of(t, id));
	return 0;
}

/* ---- the API ---- */

/* Rewrite an entry in place, widest first: scope (0 drops everything) before the VIP. */
static void entry_update(struct xl4_d24_entry *d, const struct xl4_prefix_entry *v)
{
	PUB(&d->e.scope, v->scope);
	PUB(&d->e.vip, v->vip);
	PUB(&d->e.origin, v->origin);
	PUB(&d->e.expires_ns, v->expires_ns);
}

int xl4_dir24_set(struct xl4_dir24 *t, __be32 addr, uint8_t len, const struct xl4_prefix_entry *v)
{
	uint32_t a = ntohl(addr), id;
	struct xl4_d24_entry *d;
	int ret;

	if (len > 32 || (a & ~mask(len)))
		return -EINVAL;
	if ((id = hfind(t, a, len))) {
		entry_update(&t->ent[id], v);
		if (len > 24) /* its expiry or scope may make its slot direct, or not */
			slot_renew(t, a >> 8, id);
		return 0;
	}
	if (id_alloc(t, &id))
		return -ENOSPC;
	d = &t->ent[id];
	d->e = *v;
	d->e.len = len;
	d->e.id = id;
	d->addr = addr;
	d->other = 0;
	hinsert(t, id);
	if ((ret = publish(t, id))) {
		hremove(t, id);
		d->e.id = 0;
		fifo_unpop(&t->free_ids, id);
		return ret;
	}
	t->n++;
	return 0;
}

int xl4_dir24_repair(struct xl4_dir24 *t, __be32 addr, uint8_t len,
		     const struct xl4_prefix_entry *v)
{
	uint32_t id = len <= 32 ? hfind(t, ntohl(addr), len) : 0;

	if (!id)
		return xl4_dir24_set(t, addr, len, v);
	entry_update(&t->ent[id], v);
	return publish(t, id);
}

int xl4_dir24_del(struct xl4_dir24 *t, __be32 addr, uint8_t len)
{
	uint32_t a = ntohl(addr), id = len <= 32 ? hfind(t, a, len) : 0, s = a >> 8, r, v;

	if (!id)
		return -ENOENT;
	hremove(t, id);
	r = len ? lpm(t, a, len - 1, 0) : 0;
	if (len <= 24) {
		for (uint32_t n = 1u << (24 - len), i = 0; i < n; i++)
			slot_del_short(t, s + i, id, r);
	} else if (!((v = t->idx[s]) & XL4_D24_GROUP) && slot_id(v) == id) {
		PUB(&t->idx[s], t->ent[id].other);
	} else if (v & XL4_D24_GROUP) {
		uint32_t g = v & ~XL4_D24_GROUP, *leaf = &t->grp[(size_t)g * XL4_D24_GROUP_LEAVES];

		for (uint32_t i = a & 0xff, end = i + (1u << (32 - len)); i < end; i++)
			if (leaf[i] == id)
				PUB(&leaf[i], r);
		group_shrink(t, s, g);
	}
	/* The entry keeps its prefix for a packet that read its id a moment ago; only the
	 * marker user space reads at start goes. */
	PUB(&t->ent[id].e.id, 0);
	fifo_push(&t->free_ids, id, mono_ns());
	t->n--;
	return 0;
}

int xl4_dir24_first(const struct xl4_dir24 *t, __be32 addr, const struct xl4_d24_entry **out)
{
	uint32_t a = ntohl(addr), v = t->idx[a >> 8];
	const struct xl4_d24_entry *e;

	if (v & XL4_D24_DIRECT) {
		if (((v >> XL4_D24_HOST_SHIFT) & 0xff) != (a & 0xff))
			return XL4_D24_NONE;
		if (slot_id(v) >= t->n_ent || !holds(&t->ent[slot_id(v)], a))
			return XL4_D24_WALK;
		*out = &t->ent[slot_id(v)];
		return XL4_D24_HIT_DIRECT;
	}
	if (v & XL4_D24_GROUP) {
		if ((v & ~XL4_D24_GROUP) >= t->n_groups)
			return XL4_D24_WALK;
		v = t->grp[(size_t)(v & ~XL4_D24_GROUP) * XL4_D24_GROUP_LEAVES + (a & 0xff)];
	}
	if (!v)
		return XL4_D24_NONE;
	if (v >= t->n_ent)
		return XL4_D24_WALK;
	e = &t->ent[v];
	if (!holds(e, a)) {
		v = e->other;
		if (!v)
			return XL4_D24_NONE;
		if (v >= t->n_ent || !holds(&t->ent[v], a))
			return XL4_D24_WALK;
		e = &t->ent[v];
	}
	*out = e;
	return XL4_D24_HIT;
}
