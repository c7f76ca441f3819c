// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "filter_state.h"
#include "log.h"

static int write_globals(struct xl4_filter *f)
{
	__u32 zero = 0;

	f->g.has_rules = f->n_rules > 0;
	return bpf_map_update_elem(f->maps.fglob, &zero, &f->g, BPF_ANY) ? -errno : 0;
}

static int list_fd(const struct xl4_filter *f, enum xl4_list l, int family);
static void *lpm_key(const struct xl4_prefix *p, void *buf);

static __u32 list_bit(enum xl4_list l, int family)
{
	if (l == XL4_LIST_ALLOW)
		return family == 6 ? XL4_LISTS_ALLOW6 : XL4_LISTS_ALLOW4;
	return family == 6 ? XL4_LISTS_BLOCK6 : XL4_LISTS_BLOCK4;
}

/* The datapath skips a list whose bit is clear: set it before a first entry goes in, clear it
 * only after the last one left. */
static int lists_sync(struct xl4_filter *f)
{
	__u32 lists = 0;

	for (int l = 0; l < 2; l++)
		for (int fam = 0; fam < 2; fam++)
			if (f->n_entries[l][fam])
				lists |= list_bit(l, fam ? 6 : 4);
	if (lists == f->g.lists)
		return 0;
	f->g.lists = lists;
	return write_globals(f);
}

static int expiring_add(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
			uint64_t expires_ns);

/* Entries a previous daemon left: count them, and track the ones with a deadline. */
static size_t count_entries(struct xl4_filter *f, enum xl4_list l, int fd, int family)
{
	struct xl4_lpm6_key key, next;
	struct xl4_prefix_entry e;
	void *prev = NULL;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
		if (bpf_map_lookup_elem(fd, &key, &e))
			continue;
		if (e.origin)
			f->config_gen = e.origin; /* the next file's entries take the other one */
		if (l == XL4_LIST_BLOCK && e.scope)
			f->n_scoped++;
		if (!e.expires_ns)
			continue;
		struct xl4_prefix p = { .family = family, .len = e.len };

		if (family == 6)
			memcpy(p.addr, key.addr, 16);
		else
			p.addr[0] = key.addr[0]; /* the v4 key's address sits where the v6 one starts */
		expiring_add(f, l, &p, e.expires_ns);
	}
	return n;
}

/* ---- the IPv4 index (src/dir24.c): mapped from the kernel, written beside the trie ---- */

static void *map_mmap(int fd, size_t *len, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 il = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	if (bpf_obj_get_info_by_fd(fd, &info, &il))
		return NULL;
	*len = ((size_t)info.max_entries * info.value_size + page - 1) / page * page;
	*max_entries = info.max_entries;
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return m == MAP_FAILED ? NULL : m;
}

static void d24_close(struct xl4_filter_d24 *d)
{
	if (d->on)
		xl4_dir24_free(&d->t);
	for (int i = 0; i < 3; i++)
		if (d->mem[i])
			munmap(d->mem[i], d->len[i]);
	memset(d, 0, sizeof(*d));
}

static int d24_open(struct xl4_filter_d24 *d, int idx, int grp, int ent)
{
	int fds[3] = { idx, grp, ent }, ret;
	__u32 max[3];

	if (idx <= 0 && grp <= 0 && ent <= 0)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (fds[i] <= 0 || !(d->mem[i] = map_mmap(fds[i], &d->len[i], &max[i]))) {
			ret = -errno ?: -EINVAL;
			pr_warn("cannot map the IPv4 list index: %s", strerror(-ret));
			d24_close(d);
			return ret;
		}
	}
	if (d->len[0] < XL4_D24_SLOTS * sizeof(__u32)) {
		d24_close(d);
		return -EINVAL;
	}
	/* sizes from max_entries, not the mapping (rounded up to a page): an id or group past
	 * them would be out of the datapath's reach */
	ret = xl4_dir24_init(&d->t, d->mem[0], d->mem[1], max[1] * XL4_D24_ROW / XL4_D24_GROUP_LEAVES,
			     d->mem[2], max[2]);
	if (ret) {
		d24_close(d);
		return ret;
	}
	d->on = true;
	return 0;
}

static const char *d24_full_why(int ret)
{
	if (ret == -ENOBUFS)
		return " (the IPv4 list index is full: too many /24s hold two or more prefixes longer "
		       "than /24; raise filter.ipv4_groups)";
	if (ret == -ENOSPC || ret == -E2BIG)
		return " (the list is full)";
	return "";
}

/* Every prefix of list l's IPv4 trie in its index, published again wherever it should answer
 * (xl4_dir24_repair()); *added counts those the index did not hold. */
static int d24_reconcile_add(struct xl4_filter *f, enum xl4_list l, size_t *added)
{
	struct xl4_filter_d24 *d = &f->d24[l];
	int fd = list_fd(f, l, 4), ret;
	struct xl4_lpm4_key key, next;
	struct xl4_prefix_entry e;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool was;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e))
			continue;
		was = xl4_dir24_find(&d->t, key.addr, (uint8_t)key.prefixlen) != 0;
		if ((ret = xl4_dir24_repair(&d->t, key.addr, (uint8_t)key.prefixlen, &e)))
			return ret;
		*added += !was;
	}
	return 0;
}

/* Every prefix of list l's index that its trie does not hold, deleted; *dropped counts them. */
static void d24_reconcile_drop(struct xl4_filter *f, enum xl4_list l, size_t *dropped)
{
	struct xl4_filter_d24 *d = &f->d24[l];
	int fd = list_fd(f, l, 4);
	struct xl4_lpm4_key key;
	struct xl4_prefix_entry e;

	for (uint32_t id = 1, n = xl4_dir24_ids_seen(&d->t); id <= n; id++) {
		const struct xl4_d24_entry *x = &d->t.ent[id];

		key = (struct xl4_lpm4_key){ .prefixlen = x->e.len, .addr = x->addr };
		if (x->e.id == id && (bpf_map_lookup_elem(fd, &key, &e) || e.len != x->e.len)) {
			xl4_dir24_del(&d->t, x->addr, x->e.len);
			++*dropped;
		}
	}
}

/* The index holds exactly the trie's IPv4 entries: add what a previous daemon (or one before
 * the index) left in the trie only, drop what the trie lost, rewrite what it changed (a daemon
 * that died between the two writes: its mark is still there, or the counts differ; or a new
 * program over pins another build may have written, m->index_check). A daemon adopting its
 * own build's program after a clean stop compares nothing. Adds go first, so an address
 * blocked before and after is blocked throughout; only when they find the index full (the
 * stale prefixes hold the ids or groups they need) do the deletions go first. */
static int d24_reconcile(struct xl4_filter *f, enum xl4_list l)
{
	struct xl4_filter_d24 *d = &f->d24[l];
	const char *name = l == XL4_LIST_ALLOW ? "allow" : "block";
	size_t added = 0, dropped = 0;
	bool differs;
	int ret;

	if (!d->on)
		return 0;
	differs = xl4_dir24_marked(&d->t) || xl4_dir24_count(&d->t) != f->n_entries[l][0];
	if (!differs && !f->maps.index_check)
		return 0;
	if (differs)
		pr_info("the IPv4 %slist's index differs from the list (%zu of %zu prefixes, %s): "
			"rebuilding it", name, xl4_dir24_count(&d->t), f->n_entries[l][0],
			xl4_dir24_marked(&d->t) ? "a writer stopped mid-change" : "counts differ");
	xl4_dir24_mark(&d->t, 1);
	ret = d24_reconcile_add(f, l, &added);
	d24_reconcile_drop(f, l, &dropped);
	if (ret == -ENOSPC || ret == -ENOBUFS)
		ret = d24_reconcile_add(f, l, &added);
	if (ret) {
		pr_warn("the IPv4 %slist holds more than its index takes: %s%s", name, strerror(-ret),
			d24_full_why(ret));
		return ret;
	}
	if (!differs && (added || dropped))
		pr_info("the IPv4 %slist's index did not match the list (another build changed the "
			"list?): %zu prefixes added to it, %zu removed", name, added, dropped);
	xl4_dir24_mark(&d->t, 0);
	return 0;
}

/* Write one entry: the trie (the record) first, then the index the datapath reads. */
static int list_write(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
		      const struct xl4_prefix_entry *e, __u64 flags)
{
	struct xl4_filter_d24 *d = p->family == 4 && f->d24[l].on ? &f->d24[l] : NULL;
	struct xl4_lpm6_key buf;
	int ret = 0;

	if (d)
		xl4_dir24_mark(&d->t, 1);
	if (bpf_map_update_elem(list_fd(f, l, p->family), lpm_key(p, &buf), e, flags))
		ret = -errno;
	else if (d && (ret = xl4_dir24_set(&d->t, p->addr[0], p->len, e)))
		/* only a new prefix can fail (no entry or group left): it was new in the trie too */
		bpf_map_delete_elem(list_fd(f, l, p->family), lpm_key(p, &buf));
	if (d)
		xl4_dir24_mark(&d->t, 0);
	return ret;
}

/* Remove one entry: from the index first (its slots fall back to the covering prefix), then
 * from the trie. */
static int list_erase(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p)
{
	struct xl4_filter_d24 *d = p->family == 4 && f->d24[l].on ? &f->d24[l] : NULL;
	struct xl4_lpm6_key buf;
	int ret;

	if (d) {
		xl4_dir24_mark(&d->t, 1);
		xl4_dir24_del(&d->t, p->addr[0], p->len);
	}
	ret = bpf_map_delete_elem(list_fd(f, l, p->family), lpm_key(p, &buf)) ? -errno : 0;
	if (d)
		xl4_dir24_mark(&d->t, 0);
	return ret;
}

int xl4_filter_init(struct xl4_filter *f, const struct xl4_filter_maps *m, uint32_t rate_inserts_per_sec)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->maps = *m;
	f->next_rule_id = 1;
	f->g.rate_inserts_per_sec = rate_inserts_per_sec;
	/* Entries may be there already (pinned): count them, or the datapath would skip them. */
	for (int l = 0; l < 2; l++)
		for (int fam = 0; fam < 2; fam++)
			f->n_entries[l][fam] = count_entries(f, l, list_fd(f, l, fam ? 6 : 4), fam ? 6 : 4);
	if ((ret = d24_open(&f->d24[XL4_LIST_ALLOW], m->a4idx, m->a4grp, m->a4ent)) ||
	    (ret = d24_open(&f->d24[XL4_LIST_BLOCK], m->b4idx, m->b4grp, m->b4ent)) ||
	    (ret = d24_reconcile(f, XL4_LIST_ALLOW)) || (ret = d24_reconcile(f, XL4_LIST_BLOCK))) {
		xl4_filter_free(f);
		return ret;
	}
	for (int l = 0; l < 2; l++)
		for (int fam = 0; fam < 2; fam++)
			if (f->n_entries[l][fam])
				f->g.lists |= list_bit(l, fam ? 6 : 4);
	return write_globals(f);
}

void xl4_filter_free(struct xl4_filter *f)
{
	free(f->rules);
	free(f->rport_keys);
	free(f->rdst_keys);
	free(f->expiring);
	d24_close(&f->d24[0]);
	d24_close(&f->d24[1]);
	memset(f, 0, sizeof(*f));
}

/* ---- lists ---- */

static int list_fd(const struct xl4_filter *f, enum xl4_list l, int family)
{
	if (l == XL4_LIST_ALLOW)
		return family == 6 ? f->maps.allow6 : f->maps.allow4;
	return family == 6 ? f->maps.block6 : f->maps.block4;
}

/* The trie key for a prefix: struct xl4_lpm4_key or xl4_lpm6_key, laid out in buf. */
static void *lpm_key(const struct xl4_prefix *p, void *buf)
{
	if (p->family == 6) {
		struct xl4_lpm6_key *k = buf;

		k->prefixlen = p->len;
		memcpy(k->addr, p->addr, 16);
	} else {
		struct xl4_lpm4_key *k = buf;

		k->prefixlen = p->len;
		k->addr = p->addr[0];
	}
	return buf;
}

/* Is exactly this prefix on the list? An LPM lookup returns the longest match, which is this
 * prefix only when the entry's own length is p->len. */
static int list_has(const struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
		    struct xl4_prefix_entry *out)
{
	struct xl4_lpm6_key buf;
	struct xl4_prefix_entry e;

	if (bpf_map_lookup_elem(list_fd(f, l, p->family), lpm_key(p, &buf), &e))
		return 0;
	if (e.len != p->len)
		return 0;
	if (out)
		*out = e;
	return 1;
}

static void expiring_forget(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p)
{
	for (size_t i = 0; i < f->n_expiring; i++) {
		struct xl4_expiring *x = &f->expiring[i];

		if (x->list == l && x->prefix.family == p->family && x->prefix.len == p->len &&
		    !memcmp(x->prefix.addr, p->addr, 16)) {
			*x = f->expiring[--f->n_expiring];
			return;
		}
	}
}

static int expiring_add(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
			uint64_t expires_ns)
{
	if (f->n_expiring == f->cap_expiring) {
		size_t cap = f->cap_expiring ? f->cap_expiring * 2 : 64;
		struct xl4_expiring *n = realloc(f->expiring, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->expiring = n;
		f->cap_expiring = cap;
	}
	f->expiring[f->n_expiring++] = (struct xl4_expiring){ .list = l, .prefix = *p,
							       .expires_ns = expires_ns };
	return 0;
}

static int prefix_order(const void *a, const void *b, void *arg)
{
	const struct xl4_prefix *p = arg, *x = &p[*(const size_t *)a], *y = &p[*(const size_t *)b];
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->len != y->len)
		return x->len - y->len;
	if ((c = memcmp(x->addr, y->addr, sizeof(x->addr))))
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1; /* the first one first */
}

/* Which of p[0..n) repeat an earlier one of the batch (a list fed with a line twice): those
 * are the same key, and must not be counted as a second entry. 0 or -ENOMEM. */
static int batch_repeats(const struct xl4_prefix *p, size_t n, bool *rep)
{
	size_t *order = n > 1 ? malloc(n * sizeof(*order)) : NULL;

	if (n < 2)
		return 0;
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), prefix_order, (void *)p);
	for (size_t i = 1; i < n; i++) {
		const struct xl4_prefix *x = &p[order[i - 1]], *y = &p[order[i]];

		rep[order[i]] = x->family == y->family && x->len == y->len &&
				!memcmp(x->addr, y->addr, sizeof(x->addr));
	}
	free(order);
	return 0;
}

int xl4_filter_list_add(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p, size_t n,
			uint64_t expires_ns, char *err, size_t errlen)
{
	struct xl4_prefix_entry *old = calloc(n ? n : 1, sizeof(*old));
	bool *existed = calloc(n ? n : 1, sizeof(*existed));
	bool *rep = calloc(n ? n : 1, sizeof(*rep));
	char s[64];
	size_t i;
	int ret = 0;

	if (!old || !existed || !rep || batch_repeats(p, n, rep)) {
		ret = xl4_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	/* Remember what each key held, so a failure part way restores it exactly. A repeat in
	 * the batch is what its first occurrence is: counted, tracked and restored once. */
	for (i = 0; i < n; i++) {
		if (rep[i])
			continue;
		existed[i] = list_has(f, l, &p[i], &old[i]);
		if (!existed[i])
			f->n_entries[l][p[i].family == 6]++;
	}
	/* Before the first entry of a list goes in, the datapath must start looking at it. */
	if ((ret = lists_sync(f))) {
		xl4_errf(err, errlen, ret, "cannot write the filter settings: %s", strerror(-ret));
		i = 0;
		goto rollback;
	}
	for (i = 0; i < n; i++) {
		struct xl4_prefix_entry e = { .expires_ns = expires_ns, .len = p[i].len,
					      .origin = f->add_origin };

		if (rep[i]) /* written with its first occurrence (a full trie refuses a rewrite on
			     * kernels before 6.14) */
			continue;
		if (l == XL4_LIST_BLOCK) {
			e.scope = f->add_scope;
			e.vip = f->add_scope ? f->add_vip : 0;
		}
		if ((ret = list_write(f, l, &p[i], &e, BPF_ANY))) {
			xl4_prefix_str(&p[i], s, sizeof(s));
			xl4_errf(err, errlen, ret, "%s: %s%s; nothing was added", s, strerror(-ret),
				 d24_full_why(ret));
			break;
		}
	}
	if (ret) {
rollback:
		while (i-- > 0) {
			if (rep[i])
				continue;
			if (existed[i])
				list_write(f, l, &p[i], &old[i], BPF_ANY);
			else
				list_erase(f, l, &p[i]);
		}
		for (i = 0; i < n; i++)
			if (!rep[i] && !existed[i])
				f->n_entries[l][p[i].family == 6]--;
		lists_sync(f);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (rep[i])
			continue;
		if (l == XL4_LIST_BLOCK)
			f->n_scoped += (f->add_scope ? 1 : 0) - (existed[i] && old[i].scope ? 1 : 0);
		if (existed[i] && old[i].expires_ns)
			expiring_forget(f, l, &p[i]);
		if (expires_ns && expiring_add(f, l, &p[i], expires_ns))
			pr_warn("out of memory tracking expiry; the datapath still honours it");
	}
out:
	free(old);
	free(existed);
	free(rep);
	return ret;
}

int xl4_filter_list_del(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p, size_t n,
			char *err, size_t errlen)
{
	char s[64];

	for (size_t i = 0; i < n; i++) {
		if (!list_has(f, l, &p[i], NULL)) {
			xl4_prefix_str(&p[i], s, sizeof(s));
			return xl4_errf(err, errlen, -ENOENT, "%s is not on the %slist; nothing was removed", s,
				   l == XL4_LIST_ALLOW ? "allow" : "block");
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct xl4_prefix_entry e = { 0 };

		list_has(f, l, &p[i], &e);
		if (list_erase(f, l, &p[i]) == 0) {
			f->n_entries[l][p[i].family == 6]--;
			if (l == XL4_LIST_BLOCK && e.scope)
				f->n_scoped--;
		}
		expiring_forget(f, l, &p[i]);
	}
	lists_sync(f);
	return 0;
}

static void list_one_family(json_t *arr, int fd, int family, uint64_t now_ns)
{
	struct xl4_lpm6_key key, next;
	struct xl4_prefix_entry e;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct xl4_prefix p = { .family = family };
		char s[64];
		json_t *o;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &e))
			continue;
		if (family == 6) {
			p.len = key.prefixlen;
			memcpy(p.addr, key.addr, 16);
		} else {
			struct xl4_lpm4_key *k4 = (void *)&key;

			p.len = k4->prefixlen;
			p.addr[0] = k4->addr;
		}
		xl4_prefix_str(&p, s, sizeof(s));
		o = json_pack("{s:s}", "prefix", s);
		if (e.scope) {
			json_object_set_new(o, "scope", json_string(e.scope == XL4_BLOCK_SCOPE_SYN ? "syn" : "?"));
			json_object_set_new(o, "vip_id", e.vip == XL4_BLOCK_VIP_ANY ? json_null() : json_integer(e.vip));
		}
		if (e.expires_ns)
			json_object_set_new(o, "expires_in_s",
					    json_integer(e.expires_ns > now_ns ? (e.expires_ns - now_ns) / 1000000000ull : 0));
		else
			json_object_set_new(o, "expires_in_s", json_null());
		json_array_append_new(arr, o);
	}
}

json_t *xl4_filter_list_json(struct xl4_filter *f, enum xl4_list l, uint64_t now_ns)
{
	json_t *arr = json_array();

	list_one_family(arr, list_fd(f, l, 4), 4, now_ns);
	list_one_family(arr, list_fd(f, l, 6), 6, now_ns);
	return arr;
}

int xl4_filter_sweep(struct xl4_filter *f, uint64_t now_ns)
{
	int removed = 0;

	if (!f->n_expiring)
		return 0;
	for (size_t i = 0; i < f->n_expiring;) {
		struct xl4_expiring *x = &f->expiring[i];
		struct xl4_prefix_entry e;

		/* Re-read: the entry may have been renewed with another deadline since. */
		if (x->expires_ns <= now_ns && list_has(f, x->list, &x->prefix, &e) &&
		    e.expires_ns && e.expires_ns <= now_ns) {
			if (list_erase(f, x->list, &x->prefix) == 0) {
				f->n_entries[x->list][x->prefix.family == 6]--;
				if (x->list == XL4_LIST_BLOCK && e.scope)
					f->n_scoped--;
			}
			removed++;
		} else if (x->expires_ns > now_ns) {
			i++;
			continue;
		}
		*x = f->expiring[--f->n_expiring];
	}
	if (removed)
		lists_sync(f);
	return removed;
}

/* ---- rules ---- */

static const char *const action_names[] = {
	[XL4_RULE_ALLOW] = "allow", [XL4_RULE_DROP] = "drop", [XL4_RULE_LIMIT] = "limit",
};

int xl4_rule_action_parse(const char *s, uint8_t *action)
{
	for (uint8_t a = XL4_RULE_ALLOW; a <= XL4_RULE_LIMIT; a++) {
		if (!strcmp(s, action_names[a])) {
			*action = a;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xl4_rule_action_name(uint8_t action)
{
	return action >= XL4_RULE_ALLOW && action <= XL4_RULE_LIMIT ? action_names[action] : "?";
}

int xl4_rule_proto_parse(const char *s, uint8_t *proto)
{
	if (!strcmp(s, "any"))
		*proto = XL4_PROTO_ANY;
	else if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*proto = IPPROTO_ICMP;
	else if (!strcmp(s, "icmpv6") || !strcmp(s, "icmp6"))
		*proto = IPPROTO_ICMPV6;
	else
		return -EINVAL;
	return 0;
}

const char *xl4_rule_proto_name(uint8_t proto)
{
	switch (proto) {
	case XL4_PROTO_ANY:
		return "any";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "?";
	}
}

static bool prefix_covers(const struct xl4_prefix *outer, const struct xl4_prefix *inner)
{
	return outer->family == inner->family && outer->len <= inner->len &&
	       xl4_prefix_contains(outer, inner->family, inner->addr);
}

static bool same_prefix(const struct xl4_prefix *a, const struct xl4_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

static bool any_port(const struct xl4_rule_spec *r)
{
	return r->port_lo == 0 && r->port_hi == 0;
}

/* Two rules for the same destination and protocol may nest their port ranges (the narrower
 * one wins inside it) but not share ports otherwise: neither would clearly win. Nested
 * destinations never conflict (the more specific one wins), nor does a protocol with "any". */
bool xl4_rule_conflict(const struct xl4_rule_spec *a, const struct xl4_rule_spec *b)
{
	bool a_in_b, b_in_a;

	if (!same_prefix(&a->dst, &b->dst) || a->proto != b->proto)
		return false;
	if (any_port(a) || any_port(b))
		return any_port(a) && any_port(b);
	if (a->port_lo > b->port_hi || b->port_lo > a->port_hi)
		return false;
	a_in_b = a->port_lo >= b->port_lo && a->port_hi <= b->port_hi;
	b_in_a = b->port_lo >= a->port_lo && b->port_hi <= a->port_hi;
	return a_in_b == b_in_a; /* identical, or overlapping without nesting */
}

static int validate_rule(const struct xl4_rule_spec *r, char *err, size_t errlen)
{
	if (r->action < XL4_RULE_ALLOW || r->action > XL4_RULE_LIMIT)
		return xl4_errf(err, errlen, -EINVAL, "unknown action");
	if (r->dst.family != 4 && r->dst.family != 6)
		return xl4_errf(err, errlen, -EINVAL, "destination must be an IPv4 or IPv6 prefix");
	if (!any_port(r) && (r->port_lo < 1 || r->port_hi < r->port_lo))
		return xl4_errf(err, errlen, -EINVAL, "port range must be 1..65535, low to high");
	if (!any_port(r) && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP && r->proto != XL4_PROTO_ANY)
		return xl4_errf(err, errlen, -EINVAL, "ports only apply to tcp, udp or any");
	if ((r->proto == IPPROTO_ICMP && r->dst.family == 6) || (r->proto == IPPROTO_ICMPV6 && r->dst.family == 4))
		return xl4_errf(err, errlen, -EINVAL, "icmp goes with IPv4 destinations, icmpv6 with IPv6");
	if (r->action == XL4_RULE_LIMIT && (!r->rate || !r->burst))
		return xl4_errf(err, errlen, -EINVAL, "a limit needs a rate and a burst above 0");
	if (r->action == XL4_RULE_LIMIT && (r->v6_prefix < 1 || r->v6_prefix > 128))
		return xl4_errf(err, errlen, -EINVAL, "v6_prefix must be 1..128");
	return 0;
}

/* Growable arrays of the keys one compile writes. */
struct keys {
	struct xl4_rport_key *rport;
	size_t n_rport, cap_rport;
	struct xl4_rdst_key *rdst;
	size_t n_rdst, cap_rdst;
};

static int push_rport(struct keys *k, const struct xl4_rport_key *v)
{
	if (k->n_rport == k->cap_rport) {
		size_t cap = k->cap_rport ? k->cap_rport * 2 : 64;
		void *n = realloc(k->rport, cap * sizeof(*k->rport));

		if (!n)
			return -ENOMEM;
		k->rport = n;
		k->cap_rport = cap;
	}
	k->rport[k->n_rport++] = *v;
	return 0;
}

static int push_rdst(struct keys *k, const struct xl4_rdst_key *v)
{
	if (k->n_rdst == k->cap_rdst) {
		size_t cap = k->cap_rdst ? k->cap_rdst * 2 : 64;
		void *n = realloc(k->rdst, cap * sizeof(*k->rdst));

		if (!n)
			return -ENOMEM;
		k->rdst = n;
		k->cap_rdst = cap;
	}
	k->rdst[k->n_rdst++] = *v;
	return 0;
}

/* Does trie entry e match every key k matches (e's prefix is a prefix of k's)? */
static bool rport_covers(const struct xl4_rport_key *e, const struct xl4_rport_key *k)
{
	uint8_t a[8], b[8];
	uint32_t bits = e->prefixlen - 32;

	if (e->prefixlen > k->prefixlen || e->set != k->set)
		return false;
	memcpy(a, &e->set + 1, 4);
	memcpy(b, &k->set + 1, 4);
	/* bits beyond the set id: proto (8), pad (8), port (16), compared as a bit string */
	for (uint32_t i = 0; i < bits; i++)
		if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* Write one rule's (set, protocol, port prefix) entries into a set. An entry is left out when
 * an entry already written covers its keys: rules come most specific first, and a longer key
 * from a broader destination would otherwise beat a narrower destination's rule in the trie. */
static int write_rule_entries(struct xl4_filter *f, struct keys *k, size_t set_first, __u32 set,
			      const struct xl4_filter_rule *fr)
{
	const struct xl4_rule_spec *r = &fr->spec;
	struct xl4_rule v = { .id = fr->id, .action = r->action, .v6_prefix = r->v6_prefix,
			      .rate = r->rate, .burst = r->burst };
	struct xl4_rport_key want[2 * 32];
	uint8_t protos[2];
	int n_protos = 0, n_want = 0;
	struct xl4_port_prefix pp[32];
	int n_pp = 1;

	if (r->proto == XL4_PROTO_ANY && any_port(r)) {
		/* Every protocol and port: the set id alone (prefix length 32). */
		want[n_want++] = (struct xl4_rport_key){ .prefixlen = 32, .set = set };
	} else {
		if (r->proto == XL4_PROTO_ANY) {
			protos[n_protos++] = IPPROTO_TCP;
			protos[n_protos++] = IPPROTO_UDP;
		} else {
			protos[n_protos++] = r->proto;
		}
		if (any_port(r))
			pp[0] = (struct xl4_port_prefix){ .port = 0, .len = 0 };
		else
			n_pp = xl4_port_range_prefixes(r->port_lo, r->port_hi, pp, 32);
		for (int i = 0; i < n_protos; i++)
			for (int j = 0; j < n_pp; j++)
				want[n_want++] = (struct xl4_rport_key){ .prefixlen = 48 + pp[j].len,
									 .set = set, .proto = protos[i],
									 .port = htons(pp[j].port) };
	}
	for (int i = 0; i < n_want; i++) {
		bool covered = false;
		int ret;

		for (size_t e = set_first; e < k->n_rport && !covered; e++)
			covered = rport_covers(&k->rport[e], &want[i]);
		if (covered)
			continue;
		if (bpf_map_update_elem(f->maps.rport, &want[i], &v, BPF_NOEXIST))
			return -errno;
		if ((ret = push_rport(k, &want[i])))
			return ret;
	}
	return 0;
}

static uint32_t port_width(const struct xl4_rule_spec *r)
{
	return any_port(r) ? 65536 : (uint32_t)r->port_hi - r->port_lo + 1;
}

/* Most specific first: longer destination prefix, then a named protocol before "any", then the
 * narrower port range (so nested ranges resolve to the inner one). Ties by id: stable. */
static int cmp_rule_specificity(const void *a, const void *b)
{
	const struct xl4_filter_rule *x = *(const struct xl4_filter_rule *const *)a;
	const struct xl4_filter_rule *y = *(const struct xl4_filter_rule *const *)b;
	uint32_t wx = port_width(&x->spec), wy = port_width(&y->spec);

	if (x->spec.dst.len != y->spec.dst.len)
		return (int)y->spec.dst.len - (int)x->spec.dst.len;
	if ((x->spec.proto == XL4_PROTO_ANY) != (y->spec.proto == XL4_PROTO_ANY))
		return x->spec.proto == XL4_PROTO_ANY ? 1 : -1;
	if (wx != wy)
		return wx < wy ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool rdst_in(const struct keys *k, const struct xl4_rdst_key *key)
{
	for (size_t i = 0; i < k->n_rdst; i++)
		if (!memcmp(&k->rdst[i], key, sizeof(*key)))
			return true;
	return false;
}

static void rdst_key_of(const struct xl4_prefix *p, struct xl4_rdst_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 32 + p->len;
	key->family = p->family;
	memcpy(key->addr, p->addr, 16);
}

/*
 * Compile every rule into the maps. Each distinct destination prefix gets a rule set holding
 * its own rules and those of every shorter prefix covering it, most specific first. The new
 * generation's sets use the other half of the set-id space: their port entries go in first,
 * then each destination entry switches over (one atomic update per prefix), then the old
 * generation's entries go. A packet sees the old rules or the new ones for its destination.
 */
static int compile(struct xl4_filter *f, char *err, size_t errlen)
{
	struct xl4_filter_rule **order = calloc(f->n_rules ? f->n_rules : 1, sizeof(*order));
	__u32 *sets = calloc(f->n_rules ? f->n_rules : 1, sizeof(*sets));
	__u32 *old_sets = calloc(f->n_rules ? f->n_rules : 1, sizeof(*old_sets));
	bool *had_old = calloc(f->n_rules ? f->n_rules : 1, sizeof(*had_old));
	uint32_t gen = f->gen ^ 1;
	struct keys k = { 0 };
	size_t switched = 0, first;
	int ret = 0;

	if (!order || !sets || !old_sets || !had_old) {
		ret = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < f->n_rules; i++)
		order[i] = &f->rules[i];
	qsort(order, f->n_rules, sizeof(*order), cmp_rule_specificity);

	/* Pass 1: the new generation's sets, each destination's rules most specific first. */
	for (size_t i = 0; i < f->n_rules && !ret; i++) {
		struct xl4_rdst_key dkey;
		__u32 set;

		rdst_key_of(&order[i]->spec.dst, &dkey);
		if (rdst_in(&k, &dkey))
			continue; /* this destination's set is written already */
		set = htonl(gen << 31 | (uint32_t)k.n_rdst);
		first = k.n_rport;
		for (size_t j = 0; j < f->n_rules && !ret; j++)
			if (prefix_covers(&order[j]->spec.dst, &order[i]->spec.dst))
				ret = write_rule_entries(f, &k, first, set, order[j]);
		if (!ret && !(ret = push_rdst(&k, &dkey)))
			sets[k.n_rdst - 1] = set;
	}
	if (ret)
		goto fail;
	/* Pass 2: switch each destination to its new set (one atomic update each). */
	for (; switched < k.n_rdst; switched++) {
		had_old[switched] = !bpf_map_lookup_elem(f->maps.rdst, &k.rdst[switched], &old_sets[switched]);
		if (bpf_map_update_elem(f->maps.rdst, &k.rdst[switched], &sets[switched], BPF_ANY)) {
			ret = -errno;
			goto fail;
		}
	}
	/* Retire the old generation: destinations that no longer have rules, then its sets. */
	for (size_t i = 0; i < f->n_rdst_keys; i++)
		if (!rdst_in(&k, &f->rdst_keys[i]))
			bpf_map_delete_elem(f->maps.rdst, &f->rdst_keys[i]);
	for (size_t i = 0; i < f->n_rport_keys; i++)
		bpf_map_delete_elem(f->maps.rport, &f->rport_keys[i]);
	free(f->rport_keys);
	free(f->rdst_keys);
	f->rport_keys = k.rport;
	f->n_rport_keys = k.n_rport;
	f->rdst_keys = k.rdst;
	f->n_rdst_keys = k.n_rdst;
	f->gen = gen;
	free(order);
	free(sets);
	free(old_sets);
	free(had_old);
	return write_globals(f);
fail:
	/* Put switched destinations back on their old sets, then drop this generation. */
	while (switched-- > 0) {
		if (had_old[switched])
			bpf_map_update_elem(f->maps.rdst, &k.rdst[switched], &old_sets[switched], BPF_ANY);
		else
			bpf_map_delete_elem(f->maps.rdst, &k.rdst[switched]);
	}
	for (size_t i = 0; i < k.n_rport; i++)
		bpf_map_delete_elem(f->maps.rport, &k.rport[i]);
	free(k.rport);
	free(k.rdst);
	free(order);
	free(sets);
	free(old_sets);
	free(had_old);
	return xl4_errf(err, errlen, ret, "cannot write the rule maps: %s%s", strerror(-ret),
		   ret == -ENOSPC || ret == -E2BIG ? " (too many rules or port ranges)" : "");
}

static uint32_t rule_id_alloc(struct xl4_filter *f)
{
	for (uint32_t tries = 0; tries < XL4_MAX_RULES; tries++) {
		uint32_t id = f->next_rule_id;
		bool used = false;

		f->next_rule_id = id + 1 >= XL4_MAX_RULES ? 1 : id + 1;
		for (size_t i = 0; i < f->n_rules; i++)
			used |= f->rules[i].id == id;
		if (!used)
			return id;
	}
	return 0;
}

static void rule_counters_reset(struct xl4_filter *f, uint32_t id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_rule_counters *z = calloc(ncpu > 0 ? ncpu : 1, sizeof(*z));

	if (z)
		bpf_map_update_elem(f->maps.rstats, &id, z, BPF_ANY);
	free(z);
}

int xl4_filter_rule_add(struct xl4_filter *f, const struct xl4_rule_spec *r, uint32_t *id,
			char *err, size_t errlen)
{
	struct xl4_filter_rule *grown;
	struct xl4_rule_spec spec = *r;
	int ret;

	if (spec.action == XL4_RULE_LIMIT && !spec.v6_prefix)
		spec.v6_prefix = 64;
	if ((ret = validate_rule(&spec, err, errlen)))
		return ret;
	for (size_t i = 0; i < f->n_rules; i++)
		if (xl4_rule_conflict(&f->rules[i].spec, &spec))
			return xl4_errf(err, errlen, -EEXIST, "conflicts with rule %u (same destination and "
				   "protocol; port ranges may nest but not otherwise overlap)",
				   f->rules[i].id);
	if (f->n_rules >= XL4_MAX_RULES - 1)
		return xl4_errf(err, errlen, -ENOSPC, "%d rules is the maximum", XL4_MAX_RULES - 1);
	grown = realloc(f->rules, (f->n_rules + 1) * sizeof(*f->rules));
	if (!grown)
		return xl4_errf(err, errlen, -ENOMEM, "out of memory");
	f->rules = grown;
	f->rules[f->n_rules] = (struct xl4_filter_rule){ .id = rule_id_alloc(f), .spec = spec };
	if (!f->rules[f->n_rules].id)
		return xl4_errf(err, errlen, -ENOSPC, "no rule ids left");
	rule_counters_reset(f, f->rules[f->n_rules].id);
	f->n_rules++;
	if ((ret = compile(f, err, errlen))) {
		f->n_rules--;
		return ret;
	}
	if (id)
		*id = f->rules[f->n_rules - 1].id;
	return 0;
}

int xl4_filter_rule_del(struct xl4_filter *f, uint32_t id, char *err, size_t errlen)
{
	for (size_t i = 0; i < f->n_rules; i++) {
		struct xl4_filter_rule saved;
		int ret;

		if (f->rules[i].id != id)
			continue;
		saved = f->rules[i];
		f->rules[i] = f->rules[--f->n_rules];
		if ((ret = compile(f, err, errlen))) {
			f->rules[f->n_rules++] = f->rules[i];
			f->rules[i] = saved;
			return ret;
		}
		return 0;
	}
	return xl4_errf(err, errlen, -ENOENT, "no rule %u", id);
}

int xl4_filter_rule_counters_read(const struct xl4_filter *f, uint32_t id, struct xl4_rule_counters *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_rule_counters *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	int err = ncpu <= 0 ? (ncpu ? ncpu : -EINVAL) : !v ? -ENOMEM : 0;

	memset(t, 0, sizeof(*t));
	if (!err && bpf_map_lookup_elem(f->maps.rstats, &id, v))
		err = -errno;
	for (int c = 0; !err && c < ncpu; c++) {
		t->matched += v[c].matched;
		t->dropped += v[c].dropped;
	}
	free(v);
	return err;
}

json_t *xl4_filter_rule_counters_json(const struct xl4_filter *f, uint32_t id)
{
	struct xl4_rule_counters t;

	xl4_filter_rule_counters_read(f, id, &t); /* all zero when unreadable, as before */
	return json_pack("{s:I, s:I}", "matched", (json_int_t)t.matched, "dropped", (json_int_t)t.dropped);
}

json_t *xl4_filter_rules_json(struct xl4_filter *f)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < f->n_rules; i++) {
		const struct xl4_rule_spec *r = &f->rules[i].spec;
		char dst[64], ports[16] = "any";
		json_t *o;

		xl4_prefix_str(&r->dst, dst, sizeof(dst));
		if (!any_port(r))
			snprintf(ports, sizeof(ports), r->port_lo == r->port_hi ? "%u" : "%u-%u",
				 r->port_lo, r->port_hi);
		o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "id", (int)f->rules[i].id, "dst", dst,
			      "proto", xl4_rule_proto_name(r->proto), "ports", ports, "action",
			      xl4_rule_action_name(r->action), "counters",
			      xl4_filter_rule_counters_json(f, f->rules[i].id));
		if (r->action == XL4_RULE_LIMIT) {
			json_object_set_new(o, "rate", json_integer(r->rate));
			json_object_set_new(o, "burst", json_integer(r->burst));
			json_object_set_new(o, "v6_prefix", json_integer(r->v6_prefix));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

int xl4_filter_limit_set(struct xl4_filter *f, uint32_t rate, uint32_t burst, uint8_t v6_prefix,
			 char *err, size_t errlen)
{
	struct xl4_rule saved = f->g.limit;
	int ret;

	if (rate && !burst)
		return xl4_errf(err, errlen, -EINVAL, "a limit needs a burst above 0");
	if (rate && (v6_prefix < 1 || v6_prefix > 128))
		return xl4_errf(err, errlen, -EINVAL, "v6_prefix must be 1..128");
	f->g.limit = rate ? (struct xl4_rule){ .id = XL4_RULE_GLOBAL_LIMIT, .action = XL4_RULE_LIMIT,
					       .v6_prefix = v6_prefix, .rate = rate, .burst = burst }
			  : (struct xl4_rule){ 0 };
	if ((ret = write_globals(f))) {
		f->g.limit = saved;
		return xl4_errf(err, errlen, ret, "cannot write the filter settings: %s", strerror(-ret));
	}
	return 0;
}

int xl4_filter_list_covers(const struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
			   uint64_t *expires_ns)
{
	struct xl4_lpm6_key buf;
	struct xl4_prefix_entry e;

	if (bpf_map_lookup_elem(list_fd(f, l, p->family), lpm_key(p, &buf), &e))
		return 0;
	if (expires_ns)
		*expires_ns = e.expires_ns;
	return 1;
}

/* Does a live entry on the blocklist already drop p's SYNs to vip (a full block covering p,
 * or a scoped one for vip or every VIP)? Walks p's entry and the shorter ones holding it. */
static bool syn_blocked(const struct xl4_filter *f, const struct xl4_prefix *p, uint8_t vip,
			uint64_t now)
{
	struct xl4_prefix q = *p;
	struct xl4_prefix_entry e;
	struct xl4_lpm6_key buf;

	for (int i = 0; i <= 128; i++) {
		if (bpf_map_lookup_elem(list_fd(f, XL4_LIST_BLOCK, q.family), lpm_key(&q, &buf), &e))
			return false;
		if ((!e.expires_ns || e.expires_ns > now) &&
		    (e.scope == XL4_BLOCK_SCOPE_ALL || e.vip == vip || e.vip == XL4_BLOCK_VIP_ANY))
			return true;
		if (!e.len)
			return false;
		q.len = e.len - 1;
	}
	return false;
}

int xl4_filter_block_syn(struct xl4_filter *f, const struct xl4_prefix *p, uint8_t vip,
			 uint64_t now, uint64_t expires_ns, char *err, size_t errlen)
{
	struct xl4_prefix_entry e;
	int ret;

	if (vip >= XL4_MAX_VIPS && vip != XL4_BLOCK_VIP_ANY)
		return xl4_errf(err, errlen, -EINVAL, "VIP id %u is out of range", vip);
	if (syn_blocked(f, p, vip, now))
		return -EEXIST;
	/* the same prefix scoped to another VIP: one entry holds one scope, so widen it */
	if (list_has(f, XL4_LIST_BLOCK, p, &e) && e.scope == XL4_BLOCK_SCOPE_SYN &&
	    (!e.expires_ns || e.expires_ns > now)) {
		e.vip = XL4_BLOCK_VIP_ANY;
		if ((ret = list_write(f, XL4_LIST_BLOCK, p, &e, BPF_EXIST)))
			return xl4_errf(err, errlen, ret, "cannot widen the block: %s", strerror(-ret));
		return 0;
	}
	f->add_scope = XL4_BLOCK_SCOPE_SYN;
	f->add_vip = vip;
	ret = xl4_filter_list_add(f, XL4_LIST_BLOCK, p, 1, expires_ns, err, errlen);
	f->add_scope = f->add_vip = 0;
	return ret;
}

uint64_t xl4_filter_scoped_until(int block4_fd, int block6_fd, const struct xl4_prefix *p)
{
	struct xl4_lpm6_key buf;
	struct xl4_prefix_entry e;

	if (bpf_map_lookup_elem(p->family == 6 ? block6_fd : block4_fd, lpm_key(p, &buf), &e) ||
	    e.len != p->len || e.scope != XL4_BLOCK_SCOPE_SYN)
		return 0;
	return e.expires_ns;
}

int xl4_filter_unscope_vip(struct xl4_filter *f, uint8_t vip)
{
	int n = 0;

	if (!f->n_scoped)
		return 0; /* the common case: no walk of a blocklist that may be large */
	for (int family = 4; family <= 6; family += 2) {
		int fd = list_fd(f, XL4_LIST_BLOCK, family);
		struct xl4_lpm6_key key, next;
		struct xl4_prefix_entry e;
		void *prev = NULL;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			key = next;
			struct xl4_prefix p = { .family = family, .len = key.prefixlen };

			memcpy(p.addr, key.addr, family == 6 ? 16 : 4);
			if (!bpf_map_lookup_elem(fd, &key, &e) && e.scope && e.vip == vip &&
			    !list_erase(f, XL4_LIST_BLOCK, &p)) {
				f->n_entries[XL4_LIST_BLOCK][family == 6]--;
				f->n_scoped--;
				expiring_forget(f, XL4_LIST_BLOCK, &p);
				n++;
				continue; /* deleted: the same prev finds the entry after it */
			}
			prev = &key;
		}
	}
	lists_sync(f);
	return n;
}

/* ---- restart and reload ---- */

/* Remove every entry of list l whose origin is a config generation other than keep. */
static void list_drop_config_gen(struct xl4_filter *f, enum xl4_list l, uint8_t keep)
{
	for (int family = 4; family <= 6; family += 2) {
		int fd = list_fd(f, l, family);
		struct xl4_lpm6_key key, next;
		struct xl4_prefix_entry e;
		void *prev = NULL;

		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			struct xl4_prefix p = { .family = family, .len = next.prefixlen };

			key = next;
			memcpy(p.addr, key.addr, family == 6 ? 16 : 4);
			if (!bpf_map_lookup_elem(fd, &key, &e) && e.origin && e.origin != keep &&
			    !list_erase(f, l, &p)) {
				f->n_entries[l][family == 6]--;
				continue; /* deleted: the same prev finds the entry after it */
			}
			prev = &key;
		}
	}
	lists_sync(f);
}

/* Write p with origin gen (all or nothing), then drop the entries of any other config gen. */
static int list_set_config(struct xl4_filter *f, enum xl4_list l, const struct xl4_prefix *p,
			   size_t n, uint8_t gen, char *err, size_t errlen)
{
	int ret = 0;

	f->add_origin = gen;
	if (n)
		ret = xl4_filter_list_add(f, l, p, n, 0, err, errlen);
	f->add_origin = 0;
	if (ret)
		return ret;
	list_drop_config_gen(f, l, gen);
	return 0;
}

int xl4_filter_lists_set_config(struct xl4_filter *f, const struct xl4_prefix *allow, size_t n_allow,
				const struct xl4_prefix *block, size_t n_block, char *err, size_t errlen)
{
	uint8_t gen = f->config_gen == 1 ? 2 : 1;
	char why[256];
	int ret;

	if ((ret = list_set_config(f, XL4_LIST_ALLOW, allow, n_allow, gen, why, sizeof(why))))
		return xl4_errf(err, errlen, ret, "allow: %s", why);
	if ((ret = list_set_config(f, XL4_LIST_BLOCK, block, n_block, gen, why, sizeof(why))))
		return xl4_errf(err, errlen, ret, "block: %s", why);
	f->config_gen = gen;
	return 0;
}

int xl4_filter_adopt_rules(struct xl4_filter *f)
{
	struct xl4_rdst_key dk, dnext;
	struct xl4_rport_key pk, pnext;
	void *prev = NULL;
	struct keys k = { 0 };
	size_t n_gen[2] = { 0, 0 };
	int live_gen, ret;
	__u32 set;

	while (bpf_map_get_next_key(f->maps.rdst, prev, &dnext) == 0) {
		dk = dnext;
		prev = &dk;
		if (!bpf_map_lookup_elem(f->maps.rdst, &dk, &set))
			n_gen[ntohl(set) >> 31]++;
	}
	/* Destinations on both halves: a compile was cut short (the daemon died in it). Keep
	 * the larger half; the first compile, a moment later, rewrites every destination. */
	live_gen = n_gen[1] > n_gen[0] ? 1 : n_gen[0] ? 0 : -1;
	prev = NULL;
	while (bpf_map_get_next_key(f->maps.rdst, prev, &dnext) == 0) {
		dk = dnext;
		if (!bpf_map_lookup_elem(f->maps.rdst, &dk, &set) && (int)(ntohl(set) >> 31) != live_gen &&
		    !bpf_map_delete_elem(f->maps.rdst, &dk))
			continue;
		prev = &dk;
		if ((ret = push_rdst(&k, &dk)))
			goto fail;
	}
	/* Port entries of the live generation are retired by the first compile; the other
	 * half can only be a compile cut short, referenced by nothing now: delete it. */
	prev = NULL;
	while (bpf_map_get_next_key(f->maps.rport, prev, &pnext) == 0) {
		pk = pnext;
		if ((int)(ntohl(pk.set) >> 31) != live_gen) {
			if (!bpf_map_delete_elem(f->maps.rport, &pk))
				continue;
		} else if ((ret = push_rport(&k, &pk))) {
			goto fail;
		}
		prev = &pk;
	}
	f->rdst_keys = k.rdst;
	f->n_rdst_keys = k.n_rdst;
	f->rport_keys = k.rport;
	f->n_rport_keys = k.n_rport;
	f->gen = live_gen < 0 ? 0 : live_gen;
	return 0;
fail:
	free(k.rdst);
	free(k.rport);
	return ret;
}

static const struct xl4_filter_rule *rule_same(const struct xl4_filter *f, const struct xl4_rule_spec *r)
{
	for (size_t i = 0; i < f->n_rules; i++) {
		const struct xl4_rule_spec *o = &f->rules[i].spec;

		if (same_prefix(&o->dst, &r->dst) && o->proto == r->proto && o->port_lo == r->port_lo &&
		    o->port_hi == r->port_hi && o->action == r->action && o->rate == r->rate &&
		    o->burst == r->burst && o->v6_prefix == r->v6_prefix)
			return &f->rules[i];
	}
	return NULL;
}

int xl4_filter_rules_replace(struct xl4_filter *f, const struct xl4_rule_spec *specs, size_t n,
			     char *err, size_t errlen)
{
	struct xl4_filter_rule *next = calloc(n ? n : 1, sizeof(*next)), *old_rules = f->rules;
	size_t old_n = f->n_rules;
	uint32_t old_next_id = f->next_rule_id;
	char why[200];
	int ret;

	if (!next)
		return xl4_errf(err, errlen, -ENOMEM, "out of memory");
	if (n > XL4_MAX_RULES - 1) {
		free(next);
		return xl4_errf(err, errlen, -ENOSPC, "%zu rules: %d is the maximum", n, XL4_MAX_RULES - 1);
	}
	for (size_t i = 0; i < n; i++) {
		const struct xl4_filter_rule *same;

		next[i].spec = specs[i];
		if (next[i].spec.action == XL4_RULE_LIMIT && !next[i].spec.v6_prefix)
			next[i].spec.v6_prefix = 64;
		if ((ret = validate_rule(&next[i].spec, why, sizeof(why)))) {
			free(next);
			return xl4_errf(err, errlen, ret, "rules[%zu]: %s", i, why);
		}
		for (size_t j = 0; j < i; j++) {
			if (xl4_rule_conflict(&next[j].spec, &next[i].spec)) {
				free(next);
				return xl4_errf(err, errlen, -EEXIST, "rules[%zu] conflicts with rules[%zu]", i, j);
			}
		}
		/* An unchanged rule keeps its id, so its counters carry on. */
		same = rule_same(f, &next[i].spec);
		for (size_t j = 0; same && j < i; j++)
			if (next[j].id == same->id)
				same = NULL;
		next[i].id = same ? same->id : 0;
	}
	/* New ids: allocated against both the kept ids and the current ones. */
	f->rules = next;
	f->n_rules = n;
	for (size_t i = 0; i < n; i++) {
		if (next[i].id)
			continue;
		f->n_rules = i; /* rule_id_alloc looks at f->rules[0..n_rules) */
		{
			uint32_t id = 0;

			for (uint32_t tries = 0; tries < XL4_MAX_RULES && !id; tries++) {
				bool used = false;

				id = rule_id_alloc(f);
				for (size_t j = i + 1; j < n; j++)
					used |= next[j].id == id;
				for (size_t j = 0; j < old_n; j++)
					used |= old_rules[j].id == id;
				if (used)
					id = 0;
			}
			next[i].id = id;
		}
		if (!next[i].id) {
			ret = xl4_errf(err, errlen, -ENOSPC, "no rule ids left");
			goto restore;
		}
		rule_counters_reset(f, next[i].id);
	}
	f->n_rules = n;
	if ((ret = compile(f, err, errlen)))
		goto restore;
	free(old_rules);
	return 0;
restore:
	f->rules = old_rules;
	f->n_rules = old_n;
	f->next_rule_id = old_next_id;
	free(next);
	return ret;
}

int xl4_filter_set_new_sources(struct xl4_filter *f, uint32_t per_sec)
{
	uint32_t saved = f->g.rate_inserts_per_sec;
	int ret;

	f->g.rate_inserts_per_sec = per_sec;
	if ((ret = write_globals(f)))
		f->g.rate_inserts_per_sec = saved;
	return ret;
}
