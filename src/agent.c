// SPDX-License-Identifier: GPL-2.0
/*
 * The backend agent's user side: load and pin, the typed map wrappers, and the set-up that
 * `xl4 agent` runs once: TC filters on clsact, VIPs in the maps and on lo, DSR sysctls. What
 * it changed outside its maps is recorded in the pinned xl4_astate_v1, so --remove can put
 * back exactly that and nothing else. Addresses and qdiscs go over rtnetlink directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/in.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "agent.h"
#include "agent.skel.h"
#include "cli.h"
#include "engine.h"
#include "log.h"

/* ---- load ------------------------------------------------------------------------------- */

static int pin_map(struct bpf_map *map, const char *pin_path)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", pin_path, bpf_map__name(map));
	return bpf_map__set_pin_path(map, path);
}

/* Does pin_path hold the balancer's pins (its counters are there whatever it runs)? Said
 * when it does: the agent's maps go elsewhere, and --remove never touches that directory. */
static bool balancer_pins(const char *pin_path)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_path, XL4_MAP_STATS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	close(fd);
	pr_warn("%s holds the balancer's pins (%s), not an agent's: give the agent a directory of "
		"its own (--pin-path; by default %s)",
		pin_path, XL4_MAP_STATS, XL4_AGENT_PIN_ROOT);
	return true;
}

int xl4_agent_load(struct xl4_agent *a, const char *pin_path)
{
	struct agent_bpf *skel;
	int err;

	memset(a, 0, sizeof(*a));
	if (pin_path && balancer_pins(pin_path))
		return -EINVAL;
	/* open: parse the object, nothing in the kernel yet */
	skel = agent_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the agent BPF object: %s", strerror(-err));
		return err;
	}
	/* pin: every agent map outlives the command; a pinned map is reused as it is */
	if (pin_path && ((err = pin_map(skel->maps.xl4_avips_v1, pin_path)) ||
			 (err = pin_map(skel->maps.xl4_aports_v1, pin_path)) ||
			 (err = pin_map(skel->maps.xl4_astats_v2, pin_path)) ||
			 (err = pin_map(skel->maps.xl4_astate_v1, pin_path)) ||
			 (err = pin_map(skel->maps.xl4_afrom_v1, pin_path)) ||
			 (err = pin_map(skel->maps.xl4_alocal_v1, pin_path))))
		goto fail;
	/* load: maps created or reused from pins, programs verified */
	err = agent_bpf__load(skel);
	if (err) {
		pr_warn("cannot load the agent programs: %s%s", strerror(-err),
			err == -EINVAL ? " (a pinned map with an old layout? try 'xl4 agent --remove')" :
					 " (run with -vv for the verifier log)");
		goto fail;
	}
	a->skel = skel;
	a->in_fd = bpf_program__fd(skel->progs.xl4_agent_in);
	a->out_fd = bpf_program__fd(skel->progs.xl4_agent_out);
	a->vips_fd = bpf_map__fd(skel->maps.xl4_avips_v1);
	a->ports_fd = bpf_map__fd(skel->maps.xl4_aports_v1);
	a->stats_fd = bpf_map__fd(skel->maps.xl4_astats_v2);
	a->state_fd = bpf_map__fd(skel->maps.xl4_astate_v1);
	a->from_fd = bpf_map__fd(skel->maps.xl4_afrom_v1);
	a->local_fd = bpf_map__fd(skel->maps.xl4_alocal_v1);
	return 0;
fail:
	agent_bpf__destroy(skel);
	return err;
}

void xl4_agent_close(struct xl4_agent *a)
{
	if (a->skel)
		agent_bpf__destroy(a->skel);
	memset(a, 0, sizeof(*a));
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* An address that can be a VIP or a destination of ours (what: which, for the message). */
static int parse_unicast(const char *s, struct xl4_agent_addr *a, const char *what, char *err, size_t n)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		__u32 h = ntohl(a->addr[0]);

		a->family = 4;
		if (h == 0 || h >> 24 == 127 || h >> 28 == 0xe || h == 0xffffffff) {
			snprintf(err, n, "'%s' cannot be %s (unspecified, loopback, multicast or broadcast)", s, what);
			return -EINVAL;
		}
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		const __u8 *b = (const __u8 *)a->addr;
		static const __u8 zero[15];

		a->family = 6;
		if (b[0] == 0xff || (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))) {
			snprintf(err, n, "'%s' cannot be %s (unspecified, loopback or multicast)", s, what);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, n, "bad address '%s' (want an IPv4 or IPv6 address)", s);
	return -EINVAL;
}

int xl4_agent_parse_addr(const char *s, struct xl4_agent_addr *a, char *err, size_t n)
{
	return parse_unicast(s, a, "a VIP", err, n);
}

int xl4_agent_parse_local(const char *s, struct xl4_agent_addr *a, char *err, size_t n)
{
	return parse_unicast(s, a, "an outer destination", err, n);
}

static int parse_port_num(const char *s, __u16 *out)
{
	unsigned long v;

	if (xl4_parse_uint(s, 1, 65535, &v))
		return -EINVAL;
	*out = (__u16)v;
	return 0;
}

int xl4_agent_parse_port(const char *s, struct xl4_agent_port *p, char *err, size_t n)
{
	char buf[128], *addr, *vport, *bport, *proto;
	const char *form = "want VIP:VPORT=BPORT/tcp|udp, IPv6 as [VIP]:VPORT=BPORT/udp";

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	proto = strrchr(buf, '/');
	bport = strchr(buf, '=');
	if (!proto || !bport || bport > proto)
		goto bad;
	*proto++ = '\0';
	*bport++ = '\0';
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':')
			goto bad;
		*close = '\0';
		addr = buf + 1;
		vport = close + 2;
		if (!strchr(addr, ':')) {
			snprintf(err, n, "bad port spec '%s': brackets are for IPv6 VIPs only", s);
			return -EINVAL;
		}
	} else {
		vport = strrchr(buf, ':');
		if (!vport)
			goto bad;
		*vport++ = '\0';
		addr = buf;
		if (strchr(addr, ':')) {
			snprintf(err, n, "bad port spec '%s': write an IPv6 VIP in brackets, "
				 "[%s]:%s=%s/%s", s, addr, vport, bport, proto);
			return -EINVAL;
		}
	}
	if (!strcmp(proto, "tcp")) {
		p->proto = IPPROTO_TCP;
	} else if (!strcmp(proto, "udp")) {
		p->proto = IPPROTO_UDP;
	} else {
		snprintf(err, n, "bad port spec '%s': protocol '%s' is not tcp or udp", s, proto);
		return -EINVAL;
	}
	if (parse_port_num(vport, &p->vport) || parse_port_num(bport, &p->bport)) {
		snprintf(err, n, "bad port spec '%s': ports are 1..65535", s);
		return -EINVAL;
	}
	if (xl4_agent_parse_addr(addr, &p->vip, buf, sizeof(buf))) {
		snprintf(err, n, "bad port spec '%s': %s", s, buf);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, n, "bad port spec '%s' (%s)", s, form);
	return -EINVAL;
}

const char *xl4_agent_addr_str(const struct xl4_agent_addr *a, char *buf, size_t n)
{
	if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->addr, buf, n))
		snprintf(buf, n, "?");
	return buf;
}

/* ---- map mutations ---------------------------------------------------------------------- */

static struct xl4_agent_vip_key vip_key(const struct xl4_agent_addr *a)
{
	struct xl4_agent_vip_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, a->addr, a->family == 6 ? 16 : 4);
	k.family = a->family;
	return k;
}

static struct xl4_agent_port_key port_key(const struct xl4_agent_port *p)
{
	struct xl4_agent_port_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, p->vip.addr, p->vip.family == 6 ? 16 : 4);
	k.port = htons(p->bport);
	k.proto = p->proto;
	k.family = p->vip.family;
	return k;
}

int xl4_agent_vip_set(int vips_fd, const struct xl4_agent_addr *vip, __u32 flags)
{
	struct xl4_agent_vip_key k = vip_key(vip);
	struct xl4_agent_vip v = { .flags = flags };

	return bpf_map_update_elem(vips_fd, &k, &v, BPF_ANY) ? -errno : 0;
}

int xl4_agent_vip_del(int vips_fd, const struct xl4_agent_addr *vip)
{
	struct xl4_agent_vip_key k = vip_key(vip);

	return bpf_map_delete_elem(vips_fd, &k) && errno != ENOENT ? -errno : 0;
}

int xl4_agent_port_set(int ports_fd, const struct xl4_agent_port *p)
{
	struct xl4_agent_port_key k = port_key(p);
	__be16 v = htons(p->vport);

	return bpf_map_update_elem(ports_fd, &k, &v, BPF_ANY) ? -errno : 0;
}

int xl4_agent_port_del(int ports_fd, const struct xl4_agent_port *p)
{
	struct xl4_agent_port_key k = port_key(p);

	return bpf_map_delete_elem(ports_fd, &k) && errno != ENOENT ? -errno : 0;
}

static struct xl4_agent_from_key from_key(const struct xl4_prefix *p)
{
	struct xl4_agent_from_key k = { .prefixlen = 32 + p->len, .family = p->family };

	memcpy(k.addr, p->addr, sizeof(k.addr));
	return k;
}

/* The keys an earlier run left, at most max of them. */
static int old_keys(int fd, void *keys, size_t key_size, int max)
{
	char *prev = NULL;
	int n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, (char *)keys + n * key_size)) {
		prev = (char *)keys + n * key_size;
		n++;
	}
	return n;
}

/* Delete the old keys not among the new ones; -errno if one stays (the set would be wider
 * than asked). */
static int drop_stale(int fd, const void *old, int n_old, const void *new, int n, size_t key_size)
{
	for (int j = 0; j < n_old; j++) {
		const char *o = (const char *)old + j * key_size;
		bool keep = false;

		for (int i = 0; i < n && !keep; i++)
			keep = !memcmp(o, (const char *)new + i * key_size, key_size);
		if (!keep && bpf_map_delete_elem(fd, o) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int xl4_agent_from_set(int from_fd, const struct xl4_prefix *from, int n)
{
	struct xl4_agent_from_key old[XL4_AGENT_MAX_FROM], new[XL4_AGENT_FROM_MAX];
	int n_old = old_keys(from_fd, old, sizeof(old[0]), XL4_AGENT_MAX_FROM);
	__u32 v = 0;

	if (n > XL4_AGENT_FROM_MAX)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		new[i] = from_key(&from[i]);
		if (bpf_map_update_elem(from_fd, &new[i], &v, BPF_ANY))
			return -errno;
	}
	return drop_stale(from_fd, old, n_old, new, n, sizeof(old[0]));
}

int xl4_agent_local_set(int local_fd, const struct xl4_agent_addr *to, int n)
{
	struct xl4_agent_vip_key old[XL4_AGENT_MAX_LOCAL], new[XL4_AGENT_TO_MAX];
	int n_old = old_keys(local_fd, old, sizeof(old[0]), XL4_AGENT_MAX_LOCAL);
	__u32 v = 0;

	if (n > XL4_AGENT_TO_MAX)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		new[i] = vip_key(&to[i]);
		if (bpf_map_update_elem(local_fd, &new[i], &v, BPF_ANY))
			return -errno;
	}
	return drop_stale(local_fd, old, n_old, new, n, sizeof(old[0]));
}

int xl4_agent_counters_read(int stats_fd, struct xl4_counter out[XL4_AS_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_counter *v;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 i = 0; i < XL4_AS_MAX; i++) {
		out[i].packets = out[i].bytes = 0;
		if (bpf_map_lookup_elem(stats_fd, &i, v)) {
			int err = -errno;

			free(v);
			return err;
		}
		for (int c = 0; c < ncpu; c++) {
			out[i].packets += v[c].packets;
			out[i].bytes += v[c].bytes;
		}
	}
	free(v);
	return 0;
}

const char *xl4_agent_stat_name(unsigned int idx)
{
	static const char *const names[XL4_AS_MAX] = {
		[XL4_AS_DECAP] = "decapsulated",     [XL4_AS_PASS_IN] = "passed_in",
		[XL4_AS_DECAP_ERR] = "decap_errors", [XL4_AS_PORT] = "port_restored",
		[XL4_AS_PASS_OUT] = "passed_out",    [XL4_AS_PORT_ERR] = "port_errors",
		[XL4_AS_FROM_REJECT] = "from_rejected", [XL4_AS_TO_REJECT] = "to_rejected",
		[XL4_AS_BAD_OUTER] = "bad_outer", [XL4_AS_ECN_DROP] = "ecn_dropped",
	};

	return idx < XL4_AS_MAX && names[idx] ? names[idx] : NULL;
}

/* ---- rtnetlink: addresses on lo, counting tc filters -------------------------------------- */

struct nl_req {
	struct nlmsghdr n;
	union {
		struct ifaddrmsg ifa;
		struct tcmsg tc;
	};
	char attrs[64];
};

static void nl_attr(struct nl_req *r, __u16 type, const void *data, __u16 len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Send one request; returns the kernel's answer (0 or -errno). For a dump, each (if not NULL)
 * sees every message in it. */
static int nl_talk(struct nl_req *r, void (*each)(const struct nlmsghdr *h, void *arg), void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static char buf[32768];
	int fd, err = -EIO;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->n.nlmsg_seq = 1;
	if (sendto(fd, r, r->n.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0) {
			err = -errno;
			goto out;
		}
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				err = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			if (each)
				each(h, arg);
		}
	}
out:
	close(fd);
	return err;
}

/* RTM_NEWADDR (exclusive: -EEXIST when the address is already there) or RTM_DELADDR. */
static int lo_addr(int cmd, const struct xl4_agent_addr *a)
{
	struct nl_req r;
	int lo = if_nametoindex("lo");

	if (!lo)
		return -ENODEV;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.n.nlmsg_type = cmd;
	r.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (cmd == RTM_NEWADDR)
		r.n.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	r.ifa.ifa_family = a->family == 6 ? AF_INET6 : AF_INET;
	r.ifa.ifa_prefixlen = a->family == 6 ? 128 : 32;
	r.ifa.ifa_flags = a->family == 6 ? IFA_F_NODAD : 0; /* usable at once, no DAD on lo */
	r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.ifa.ifa_index = lo;
	nl_attr(&r, IFA_LOCAL, a->addr, a->family == 6 ? 16 : 4);
	nl_attr(&r, IFA_ADDRESS, a->addr, a->family == 6 ? 16 : 4);
	return nl_talk(&r, NULL, NULL);
}

static void nl_count(const struct nlmsghdr *h, void *arg)
{
	(void)h;
	(*(int *)arg)++;
}

struct addr_dump {
	int ifindex, n;
	struct xl4_agent_addr *out;
};

static void nl_addr(const struct nlmsghdr *h, void *arg)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct addr_dump *d = arg;
	const struct rtattr *rta = IFA_RTA(ifa), *local = NULL, *addr = NULL;
	int len = IFA_PAYLOAD(h), alen = ifa->ifa_family == AF_INET6 ? 16 : 4;

	if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != d->ifindex || d->n == XL4_AGENT_TO_MAX ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_LOCAL)
			local = rta;
		else if (rta->rta_type == IFA_ADDRESS)
			addr = rta;
	}
	/* IFA_LOCAL is our end (IFA_ADDRESS is the peer on point-to-point links) */
	if (!local)
		local = addr;
	if (!local || RTA_PAYLOAD(local) < (unsigned)alen)
		return;
	memset(&d->out[d->n], 0, sizeof(d->out[0]));
	d->out[d->n].family = ifa->ifa_family == AF_INET6 ? 6 : 4;
	memcpy(d->out[d->n].addr, RTA_DATA(local), alen);
	d->n++;
}

/* IFACE's addresses now (both families), at most XL4_AGENT_TO_MAX; their count or -errno. */
static int iface_addrs(int ifindex, struct xl4_agent_addr *out)
{
	struct addr_dump d = { .ifindex = ifindex, .out = out };
	struct nl_req r;
	int err;

	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.n.nlmsg_type = RTM_GETADDR;
	r.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.ifa.ifa_family = AF_UNSPEC;
	err = nl_talk(&r, nl_addr, &d);
	return err ? err : d.n;
}

/* Filters left on one side of the clsact qdisc (anyone's), or -errno. */
static int tc_filter_count(int ifindex, __u32 parent_min)
{
	struct nl_req r;
	int n = 0, err;

	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	r.n.nlmsg_type = RTM_GETTFILTER;
	r.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.tc.tcm_family = AF_UNSPEC;
	r.tc.tcm_ifindex = ifindex;
	r.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, parent_min);
	err = nl_talk(&r, nl_count, &n);
	return err ? err : n;
}

/* ---- TC --------------------------------------------------------------------------------- */

static int tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XL4_AGENT_TC_HANDLE,
		    .priority = XL4_AGENT_TC_PRIO, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);

	return bpf_tc_attach(&hook, &opts);
}

static int tc_detach(int ifindex, enum bpf_tc_attach_point where)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XL4_AGENT_TC_HANDLE, .priority = XL4_AGENT_TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	/* no such filter, or no clsact at all: nothing of ours is there */
	return err == -ENOENT || err == -EINVAL ? 0 : err;
}

/* The id of the program our filter runs, 0 if none. */
static __u32 tc_prog_id(int ifindex, enum bpf_tc_attach_point where)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XL4_AGENT_TC_HANDLE, .priority = XL4_AGENT_TC_PRIO);

	return bpf_tc_query(&hook, &opts) ? 0 : opts.prog_id;
}

/* ---- sysctls ---------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int value; /* what DSR needs */
} sysctls[3] = { { "arp_ignore", 1 }, { "arp_announce", 2 },
		  /* loose: a client's source must be routable at all (no martians), but it may
		   * arrive on another interface than the reply leaves by; strict (1) could drop
		   * DSR traffic on multi-homed backends, 0 checks nothing */
		  { "rp_filter", 2 } };

static void sysctl_path(int idx, const char *ifname, char *buf, size_t n)
{
	snprintf(buf, n, "/proc/sys/net/ipv4/conf/%s/%s", idx < 3 ? "all" : ifname,
		 sysctls[idx % 3].name);
}

static int sysctl_read(const char *path, int *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", v) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

static int sysctl_write(const char *path, int v)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		pr_warn("cannot write %s: %s", path, strerror(-err));
	return err;
}

/* Put back what the agent found; clears XL4_AST_SYSCTL_SAVED. */
static int sysctl_restore(struct xl4_agent_state *st)
{
	char path[256];
	int err = 0;

	if (!(st->flags & XL4_AST_SYSCTL_SAVED))
		return 0;
	for (int i = 0; i < XL4_ASC_MAX; i++) {
		sysctl_path(i, st->ifname, path, sizeof(path));
		if (st->sysctl_orig[i] >= 0 && sysctl_write(path, st->sysctl_orig[i]))
			err = -EIO;
	}
	st->flags &= ~XL4_AST_SYSCTL_SAVED;
	return err;
}

/* ---- set-up ----------------------------------------------------------------------------- */

static int find_addr(const struct xl4_agent_addr *set, int n, const struct xl4_agent_addr *a)
{
	for (int i = 0; i < n; i++)
		if (set[i].family == a->family && !memcmp(set[i].addr, a->addr, 16))
			return i;
	return -1;
}

static int state_read(int fd, struct xl4_agent_state *st)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, st) ? -errno : 0;
}

static int state_write(int fd, const struct xl4_agent_state *st)
{
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, st, BPF_ANY) ? -errno : 0;
}

/* The VIP set: add what is new (to the map, and to lo unless already there), drop what an
 * earlier run had and this one does not (from lo only if the agent put it there). */
static int sync_vips(int fd, const struct xl4_agent_config *c)
{
	struct xl4_agent_vip_key keys[XL4_AGENT_MAX_VIPS], k, *prev = NULL;
	struct xl4_agent_vip vals[XL4_AGENT_MAX_VIPS];
	int n_old = 0, err;
	char a[INET6_ADDRSTRLEN];

	while (n_old < XL4_AGENT_MAX_VIPS && !bpf_map_get_next_key(fd, prev, &k)) {
		keys[n_old] = k;
		if (bpf_map_lookup_elem(fd, &k, &vals[n_old]))
			vals[n_old].flags = 0;
		prev = &keys[n_old++];
	}
	for (int i = 0; i < c->n_vips; i++) {
		const struct xl4_agent_addr *v = &c->vips[i];
		struct xl4_agent_vip_key vk = vip_key(v);
		__u32 flags = 0;

		for (int j = 0; j < n_old; j++)
			if (!memcmp(&keys[j], &vk, sizeof(vk)))
				flags = vals[j].flags & XL4_AVIP_F_ADDED_LO;
		err = lo_addr(RTM_NEWADDR, v);
		if (!err) {
			flags |= XL4_AVIP_F_ADDED_LO;
			pr_info("added %s to lo", xl4_agent_addr_str(v, a, sizeof(a)));
		} else if (err != -EEXIST) {
			pr_warn("cannot add %s to lo: %s", xl4_agent_addr_str(v, a, sizeof(a)),
				strerror(-err));
			return err;
		}
		if ((err = xl4_agent_vip_set(fd, v, flags))) {
			pr_warn("cannot write VIP %s: %s", xl4_agent_addr_str(v, a, sizeof(a)),
				strerror(-err));
			return err;
		}
	}
	for (int j = 0; j < n_old; j++) {
		struct xl4_agent_addr old = { .family = keys[j].family };

		memcpy(old.addr, keys[j].addr, 16);
		if (find_addr(c->vips, c->n_vips, &old) >= 0)
			continue;
		if (vals[j].flags & XL4_AVIP_F_ADDED_LO)
			lo_addr(RTM_DELADDR, &old);
		xl4_agent_vip_del(fd, &old);
	}
	return 0;
}

static int sync_ports(int fd, const struct xl4_agent_config *c)
{
	struct xl4_agent_port_key keys[XL4_AGENT_MAX_PORTS], k, *prev = NULL;
	int n_old = 0, err;

	while (n_old < XL4_AGENT_MAX_PORTS && !bpf_map_get_next_key(fd, prev, &k)) {
		keys[n_old] = k;
		prev = &keys[n_old++];
	}
	for (int j = 0; j < n_old; j++) {
		bool keep = false;

		for (int i = 0; i < c->n_ports; i++) {
			struct xl4_agent_port_key pk = port_key(&c->ports[i]);

			keep |= !memcmp(&pk, &keys[j], sizeof(pk));
		}
		if (!keep)
			bpf_map_delete_elem(fd, &keys[j]);
	}
	for (int i = 0; i < c->n_ports; i++) {
		if ((err = xl4_agent_port_set(fd, &c->ports[i]))) {
			pr_warn("cannot write a port mapping: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

static int sync_sysctls(struct xl4_agent_state *st, const struct xl4_agent_config *c)
{
	bool want = c->sysctl;
	char path[256];
	int i, err = 0;

	for (i = 0; i < c->n_vips && c->vips[i].family != 4; i++)
		;
	want = want && i < c->n_vips; /* ARP and rp_filter are IPv4 matters */
	if (!want)
		return sysctl_restore(st);
	if (!(st->flags & XL4_AST_SYSCTL_SAVED)) {
		for (i = 0; i < XL4_ASC_MAX; i++) {
			sysctl_path(i, c->ifname, path, sizeof(path));
			if (sysctl_read(path, &st->sysctl_orig[i])) {
				pr_warn("cannot read %s", path);
				st->sysctl_orig[i] = -1;
			}
		}
		st->flags |= XL4_AST_SYSCTL_SAVED;
	}
	for (i = 0; i < XL4_ASC_MAX; i++) {
		sysctl_path(i, c->ifname, path, sizeof(path));
		if (sysctl_write(path, sysctls[i % 3].value))
			err = -EIO;
	}
	return err;
}

/* Which outer destinations, for decapsulation: --to, or IFACE's addresses now. Every family
 * the sources allow needs one, or the balancers' packets would all be dropped. */
static int pick_local(const struct xl4_agent_config *c, int ifindex, struct xl4_agent_addr *to)
{
	int n = c->n_to;

	if (n)
		memcpy(to, c->to, n * sizeof(*to));
	else if ((n = iface_addrs(ifindex, to)) < 0) {
		pr_warn("%s: cannot read its addresses: %s", c->ifname, strerror(-n));
		return n;
	}
	for (int i = 0; i < c->n_from; i++) {
		int fam = c->from[i].family, j;

		for (j = 0; j < n && to[j].family != fam; j++)
			;
		if (j == n) {
			pr_warn("the sources include IPv%d but %s has no IPv%d address for the balancers "
				"to send to: give one with --to ADDR", fam, c->n_to ? "--to" : c->ifname, fam);
			return -EINVAL;
		}
	}
	return n;
}

/* The decapsulation sets: from whom (--from / -c) and to which of our addresses (to[0..n_to)).
 * New entries go in before stale ones go out, so no packet sees a wider set than the old or
 * the new. */
static int sync_decap(struct xl4_agent *a, const struct xl4_agent_config *c,
		      const struct xl4_agent_addr *to, int n_to)
{
	int err;

	if ((err = xl4_agent_from_set(a->from_fd, c->from, c->no_decap ? 0 : c->n_from))) {
		pr_warn("cannot write the allowed outer sources: %s", strerror(-err));
		return err;
	}
	if ((err = xl4_agent_local_set(a->local_fd, to, n_to)))
		pr_warn("cannot write the accepted outer destinations: %s", strerror(-err));
	return err;
}

int xl4_agent_setup(const struct xl4_agent_config *c)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	struct xl4_agent_addr to[XL4_AGENT_TO_MAX];
	struct xl4_agent_state st;
	struct xl4_agent a;
	int ifindex, err, n_to = 0;

	ifindex = if_nametoindex(c->ifname);
	if (!ifindex) {
		pr_warn("no such interface '%s'", c->ifname);
		return -ENODEV;
	}
	/* the outer destinations first: a set-up that would drop the balancers' packets changes
	 * nothing */
	if (!c->no_decap && (n_to = pick_local(c, ifindex, to)) < 0)
		return n_to;
	if ((err = xl4_bpffs_prepare(c->pin_path)))
		return err;
	/* load: the maps of an earlier run come back from their pins */
	if ((err = xl4_agent_load(&a, c->pin_path)))
		return err;
	if ((err = state_read(a.state_fd, &st)))
		goto out;
	if (st.ifname[0] && strcmp(st.ifname, c->ifname)) {
		pr_warn("the agent in %s is set up on %s; remove it first (xl4 agent -i %s --remove) "
			"or use another --pin-path", c->pin_path, st.ifname, st.ifname);
		err = -EBUSY;
		goto out;
	}
	if (!st.ifname[0])
		for (int i = 0; i < XL4_ASC_MAX; i++)
			st.sysctl_orig[i] = -1;
	snprintf(st.ifname, sizeof(st.ifname), "%s", c->ifname);
	st.ifindex = ifindex;
	/* fill the maps before the filters go on, so no packet sees half a configuration */
	if ((err = sync_vips(a.vips_fd, c)) || (err = sync_ports(a.ports_fd, c)))
		goto save;
	if ((err = sync_decap(&a, c, to, n_to)))
		goto save;
	/* sysctls: the originals are saved before the first change */
	err = sync_sysctls(&st, c);
	if (err)
		goto save;
	/* attach: clsact (noting whether we created it), then both filters, replacing our own */
	hook.ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	if (!err)
		st.flags |= XL4_AST_CLSACT_CREATED;
	else if (err != -EEXIST) {
		pr_warn("%s: cannot create the clsact qdisc: %s", c->ifname, strerror(-err));
		goto save;
	}
	if ((err = tc_attach(ifindex, BPF_TC_INGRESS, a.in_fd)) ||
	    (err = tc_attach(ifindex, BPF_TC_EGRESS, a.out_fd)))
		pr_warn("%s: cannot attach the agent's TC programs: %s", c->ifname, strerror(-err));
save:
	/* the state is written even after a failure: --remove must know what was changed */
	if (state_write(a.state_fd, &st) && !err)
		err = -EIO;
out:
	xl4_agent_close(&a);
	return err;
}

/* ---- remove and status: work on the pins, nothing loaded -------------------------------- */

static int pinned(const char *pin_path, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	return bpf_obj_get(path);
}

/* The agent's pins, this build's and older builds' (xl4_astats_v1: before the counters grew;
 * xl4_acfg_v1: before the source and destination sets), and nothing else: a directory given
 * by mistake keeps what is not ours. */
static const char *const agent_pins[] = { XL4_MAP_AGENT_VIPS,  XL4_MAP_AGENT_PORTS, XL4_MAP_AGENT_STATS,
					  "xl4_astats_v1",     "xl4_acfg_v1",	    XL4_MAP_AGENT_STATE,
					  XL4_MAP_AGENT_FROM,  XL4_MAP_AGENT_LOCAL };

static int agent_unpin(const char *pin_path)
{
	char path[512];
	int err = 0;

	for (size_t i = 0; i < sizeof(agent_pins) / sizeof(agent_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, agent_pins[i]);
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			pr_warn("cannot remove %s: %s", path, strerror(errno));
		}
	}
	if (!err && rmdir(pin_path) && errno != ENOTEMPTY && errno != ENOENT)
		err = -errno;
	return err;
}

int xl4_agent_remove(const char *ifname, const char *pin_path)
{
	int ifindex = if_nametoindex(ifname), state_fd, vips_fd, err = 0, e;
	struct xl4_agent_state st = { 0 };
	struct xl4_agent_vip_key k, *prev = NULL;
	char a[INET6_ADDRSTRLEN];

	if (!ifindex) {
		pr_warn("no such interface '%s'", ifname);
		return -ENODEV;
	}
	if (balancer_pins(pin_path))
		return -EINVAL; /* nothing removed */
	state_fd = pinned(pin_path, XL4_MAP_AGENT_STATE);
	if (state_fd >= 0 && !state_read(state_fd, &st) && st.ifname[0] && strcmp(st.ifname, ifname)) {
		pr_warn("the agent in %s is set up on %s, not %s", pin_path, st.ifname, ifname);
		close(state_fd);
		return -EBUSY;
	}
	/* filters first: from here on nothing uses the maps */
	if ((e = tc_detach(ifindex, BPF_TC_INGRESS)) || (e = tc_detach(ifindex, BPF_TC_EGRESS))) {
		pr_warn("%s: cannot detach the agent's filters: %s", ifname, strerror(-e));
		err = e;
	}
	/* the qdisc only if we made it and nobody else's filter hangs on it */
	if ((st.flags & XL4_AST_CLSACT_CREATED) && tc_filter_count(ifindex, TC_H_MIN_INGRESS) == 0 &&
	    tc_filter_count(ifindex, TC_H_MIN_EGRESS) == 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		if ((e = bpf_tc_hook_destroy(&hook)) && e != -ENOENT && e != -EINVAL) {
			pr_warn("%s: cannot remove the clsact qdisc: %s", ifname, strerror(-e));
			err = e;
		}
	}
	vips_fd = pinned(pin_path, XL4_MAP_AGENT_VIPS);
	while (vips_fd >= 0 && !bpf_map_get_next_key(vips_fd, prev, &k)) {
		struct xl4_agent_vip v;
		struct xl4_agent_addr addr = { .family = k.family };

		memcpy(addr.addr, k.addr, 16);
		if (!bpf_map_lookup_elem(vips_fd, &k, &v) && (v.flags & XL4_AVIP_F_ADDED_LO)) {
			e = lo_addr(RTM_DELADDR, &addr);
			if (e && e != -EADDRNOTAVAIL && e != -ENOENT) {
				pr_warn("cannot remove %s from lo: %s",
					xl4_agent_addr_str(&addr, a, sizeof(a)), strerror(-e));
				err = e;
			}
		}
		prev = &k;
	}
	if (vips_fd >= 0)
		close(vips_fd);
	if (sysctl_restore(&st))
		err = -EIO;
	if (state_fd >= 0)
		close(state_fd);
	if ((e = agent_unpin(pin_path))) {
		pr_warn("cannot remove the pins in %s: %s", pin_path, strerror(-e));
		err = e;
	}
	return err;
}

/* An address set (xl4_avips_v1 / xl4_alocal_v1 keys) or the prefix trie as a JSON array. */
static json_t *json_addrs(const char *pin_path, const char *map, bool prefixes)
{
	json_t *arr = json_array();
	int fd = pinned(pin_path, map);
	char str[64];

	if (fd < 0)
		return arr;
	if (prefixes) {
		struct xl4_agent_from_key k, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			struct xl4_prefix p = { .family = k.family, .len = k.prefixlen - 32 };

			memcpy(p.addr, k.addr, sizeof(p.addr));
			xl4_prefix_str(&p, str, sizeof(str));
			json_array_append_new(arr, json_string(str));
			prev = &k;
		}
	} else {
		struct xl4_agent_vip_key k, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			struct xl4_agent_addr addr = { .family = k.family };

			memcpy(addr.addr, k.addr, 16);
			json_array_append_new(arr, json_string(xl4_agent_addr_str(&addr, str, sizeof(str))));
			prev = &k;
		}
	}
	close(fd);
	return arr;
}

/* --status --json: what the text shows that a script wants (filters, sets, counters). */
static int status_json(const char *ifname, int ifindex, const char *pin_path, __u32 in_id,
		       __u32 out_id, FILE *out)
{
	json_t *o = json_object(), *cnt = json_object();
	struct xl4_counter c[XL4_AS_MAX];
	int fd = pinned(pin_path, XL4_MAP_AGENT_STATS);
	char *txt;

	json_object_set_new(o, "interface", json_string(ifname));
	json_object_set_new(o, "ifindex", json_integer(ifindex));
	json_object_set_new(o, "pin_path", json_string(pin_path));
	json_object_set_new(o, "ingress_prog_id", json_integer(in_id));
	json_object_set_new(o, "egress_prog_id", json_integer(out_id));
	json_object_set_new(o, "vips", json_addrs(pin_path, XL4_MAP_AGENT_VIPS, false));
	json_object_set_new(o, "ipip_from", json_addrs(pin_path, XL4_MAP_AGENT_FROM, true));
	json_object_set_new(o, "ipip_to", json_addrs(pin_path, XL4_MAP_AGENT_LOCAL, false));
	if (fd >= 0 && !xl4_agent_counters_read(fd, c))
		for (unsigned int i = 0; i < XL4_AS_MAX; i++)
			if (xl4_agent_stat_name(i))
				json_object_set_new(cnt, xl4_agent_stat_name(i),
						    json_pack("{s:I,s:I}", "packets", (json_int_t)c[i].packets,
							      "bytes", (json_int_t)c[i].bytes));
	if (fd >= 0)
		close(fd);
	json_object_set_new(o, "counters", cnt);
	txt = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!txt)
		return 1;
	fprintf(out, "%s\n", txt);
	free(txt);
	return 0;
}

int xl4_agent_status(const char *ifname, const char *pin_path, bool json, FILE *out)
{
	int ifindex = if_nametoindex(ifname), state_fd, fd;
	struct xl4_counter cnt[XL4_AS_MAX];
	struct xl4_agent_state st = { 0 };
	__u32 in_id, out_id;
	char a[INET6_ADDRSTRLEN], path[256];

	if (!ifindex) {
		pr_warn("no such interface '%s'", ifname);
		return -ENODEV;
	}
	in_id = tc_prog_id(ifindex, BPF_TC_INGRESS);
	out_id = tc_prog_id(ifindex, BPF_TC_EGRESS);
	state_fd = pinned(pin_path, XL4_MAP_AGENT_STATE);
	if (state_fd >= 0) {
		state_read(state_fd, &st);
		close(state_fd);
	}
	if (state_fd < 0 && !in_id && !out_id) {
		fprintf(json ? stderr : out, "agent: not set up on %s (no pins in %s)\n", ifname, pin_path);
		return 1;
	}
	if (json)
		return status_json(ifname, ifindex, pin_path, in_id, out_id, out);
	if (st.ifname[0] && strcmp(st.ifname, ifname))
		fprintf(out, "agent: pins in %s belong to %s, not %s\n", pin_path, st.ifname, ifname);
	fprintf(out, "agent on %s (ifindex %d), maps pinned in %s\n", ifname, ifindex, pin_path);
	fprintf(out, "  ingress decap:  %s (prog id %u)\n", in_id ? "attached" : "NOT attached", in_id);
	fprintf(out, "  egress ports:   %s (prog id %u)\n", out_id ? "attached" : "NOT attached", out_id);
	if (st.flags & XL4_AST_CLSACT_CREATED)
		fprintf(out, "  clsact qdisc:   created by the agent (removed with it)\n");

	fd = pinned(pin_path, XL4_MAP_AGENT_VIPS);
	if (fd >= 0) {
		struct xl4_agent_vip_key k, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			struct xl4_agent_vip v = { 0 };
			struct xl4_agent_addr addr = { .family = k.family };

			memcpy(addr.addr, k.addr, 16);
			bpf_map_lookup_elem(fd, &k, &v);
			fprintf(out, "  vip %-30s %s\n", xl4_agent_addr_str(&addr, a, sizeof(a)),
				v.flags & XL4_AVIP_F_ADDED_LO ? "on lo (added by the agent)" :
								"on lo (was there before)");
			prev = &k;
		}
		close(fd);
	}
	fd = pinned(pin_path, XL4_MAP_AGENT_FROM);
	if (fd >= 0) {
		struct xl4_agent_from_key k, *prev = NULL;
		int n = 0;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			struct xl4_prefix p = { .family = k.family, .len = k.prefixlen - 32 };
			char str[64];

			memcpy(p.addr, k.addr, sizeof(p.addr));
			xl4_prefix_str(&p, str, sizeof(str));
			fprintf(out, "  ipip from %s\n", str);
			prev = &k;
			n++;
		}
		if (!n)
			fprintf(out, "  ipip from:      nobody (encapsulated packets to a VIP are dropped)\n");
		close(fd);
	}
	fd = pinned(pin_path, XL4_MAP_AGENT_LOCAL);
	if (fd >= 0) {
		struct xl4_agent_vip_key k, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			struct xl4_agent_addr addr = { .family = k.family };

			memcpy(addr.addr, k.addr, 16);
			fprintf(out, "  ipip to   %s\n", xl4_agent_addr_str(&addr, a, sizeof(a)));
			prev = &k;
		}
		close(fd);
	}
	fd = pinned(pin_path, XL4_MAP_AGENT_PORTS);
	if (fd >= 0) {
		struct xl4_agent_port_key k, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &k)) {
			struct xl4_agent_addr addr = { .family = k.family };
			__be16 v = 0;

			memcpy(addr.addr, k.addr, 16);
			bpf_map_lookup_elem(fd, &k, &v);
			fprintf(out, "  port %s%s%s:%u <- %u/%s\n", k.family == 6 ? "[" : "",
				xl4_agent_addr_str(&addr, a, sizeof(a)), k.family == 6 ? "]" : "",
				ntohs(v), ntohs(k.port), k.proto == IPPROTO_TCP ? "tcp" : "udp");
			prev = &k;
		}
		close(fd);
	}
	if (st.flags & XL4_AST_SYSCTL_SAVED) {
		for (int i = 0; i < XL4_ASC_MAX; i++) {
			int now = -1;

			sysctl_path(i, st.ifname, path, sizeof(path));
			sysctl_read(path, &now);
			fprintf(out, "  sysctl %-44s %d (was %d)\n", path + strlen("/proc/sys/"), now,
				st.sysctl_orig[i]);
		}
	} else {
		fprintf(out, "  sysctls:        untouched\n");
	}
	fd = pinned(pin_path, XL4_MAP_AGENT_STATS);
	if (fd >= 0 && !xl4_agent_counters_read(fd, cnt)) {
		fprintf(out, "  counters:\n");
		for (unsigned int i = 0; i < XL4_AS_MAX; i++)
			if (xl4_agent_stat_name(i))
				fprintf(out, "    %-16s %12llu packets %14llu bytes\n", xl4_agent_stat_name(i),
					(unsigned long long)cnt[i].packets,
					(unsigned long long)cnt[i].bytes);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}
