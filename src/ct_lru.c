// SPDX-License-Identifier: GPL-2.0
/* The connection tables' LRU lists when the configuration leaves them to xl4 (ct_lru.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ct_lru.h"
#include "log.h"

static int pinned_kind(const char *pin_path, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[4096];
	int fd, err;

	if (snprintf(path, sizeof(path), "%s/%s", pin_path, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno; /* -ENOENT: no such pin */
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	err = err ? -errno : !!(info.map_flags & BPF_F_NO_COMMON_LRU);
	close(fd);
	return err;
}

int xl4_ct_lru_pinned(const char *pin_path)
{
	int kind;

	if (!pin_path || !pin_path[0])
		return -ENOENT;
	kind = pinned_kind(pin_path, "xl4_ct4_v1");
	/* pins of a build before the IPv4 table had its own: the one table, which this build
	 * keeps for IPv6 and sizes with the same setting */
	return kind == -ENOENT ? pinned_kind(pin_path, "xl4_ct_v1") : kind;
}

void xl4_ct_lru_settle(struct xl4_engine_opts *o, int possible, int online)
{
	int pinned;

	if (!o->ct_lru_open)
		return;
	o->ct_lru_open = false;
	pinned = xl4_ct_lru_pinned(o->pin_path);
	if (pinned >= 0) {
		/* another choice would make the pins unusable (pins_fit() refuses them), and a
		 * restart must keep the flows they hold */
		o->ct_per_cpu_lru = pinned;
		if (!pinned)
			pr_info("conntrack: the pinned tables have one shared LRU list and keep it "
				"(lb.conntrack.per_cpu_lru is not set; per-CPU lists, the default for "
				"new pins, insert faster: set it to true and restart after 'xl4 detach' "
				"and 'xl4 cleanup' to switch, losing the tables' flows)");
		return;
	}
	if (possible > online && online > 0) {
		/* each CPU's list holds 1/possible of the table: CPUs that can never come up would
		 * hold shares no packet ever uses */
		o->ct_per_cpu_lru = false;
		pr_info("conntrack: one shared LRU list, not per-CPU lists: the kernel counts %d "
			"possible CPUs and %d online, and each list would hold 1/%d of the table "
			"(lb.conntrack.per_cpu_lru = true overrides)",
			possible, online, possible);
		return;
	}
	o->ct_per_cpu_lru = true;
}

void xl4_ct_lru_settle_here(struct xl4_engine_opts *o)
{
	xl4_ct_lru_settle(o, libbpf_num_possible_cpus(), (int)sysconf(_SC_NPROCESSORS_ONLN));
}

int xl4_iface_rx_queues(const char *ifname, bool *nic)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	*nic = false;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	*nic = access(path, F_OK) == 0;
	return n;
}

int xl4_ct_lru_queue_note(char *buf, size_t len, const char *ifname, int queues, int cpus,
			  unsigned int ct_max)
{
	unsigned long long share;

	if (queues <= 0 || cpus <= 0 || queues >= cpus)
		return 0;
	share = (unsigned long long)(ct_max ? ct_max : 262144) / (unsigned int)cpus;
	return snprintf(
		buf, len,
		"conntrack: %s has %d receive queue%s for %d CPUs, and per-CPU LRU lists fill "
		"only on the CPUs that receive: its flows use at most %d of the %d lists, "
		"%llu of the table's %llu entries (set lb.conntrack.per_cpu_lru = false, or "
		"give it a queue per CPU: ethtool -L)",
		ifname, queues, queues == 1 ? "" : "s", cpus, queues, cpus, share * queues,
		share * cpus);
}

void xl4_ct_lru_check_ifaces(const struct xl4_engine_opts *o, const char *const *ifnames, int n)
{
	int cpus = libbpf_num_possible_cpus(); /* the lists: one per possible CPU */
	char note[512];

	if (!o->ct_per_cpu_lru)
		return;
	for (int i = 0; i < n; i++) {
		bool nic;
		int queues = xl4_iface_rx_queues(ifnames[i], &nic);

		/* a veth's or a tunnel's packets are received on whichever CPU sent them */
		if (nic && xl4_ct_lru_queue_note(note, sizeof(note), ifnames[i], queues, cpus,
						 o->ct_max) > 0)
			pr_warn("%s", note);
	}
}
