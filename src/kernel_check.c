// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

#include "kernel_check.h"
#include "log.h"

#define MIN_MAJOR 5
#define MIN_MINOR 15

int xl4_features_check(void)
{
	struct utsname u;
	int major = 0, minor = 0, missing = 0;

	if (geteuid() != 0) {
		pr_warn("must run as root (needs CAP_BPF/CAP_SYS_ADMIN and CAP_NET_ADMIN)");
		return -EPERM;
	}
	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < MIN_MAJOR || (major == MIN_MAJOR && minor < MIN_MINOR)))
		pr_warn("kernel %s is older than %d.%d, the oldest xl4 supports; loading may fail",
			u.release, MIN_MAJOR, MIN_MINOR);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1) {
		pr_warn("missing: XDP programs (BPF_PROG_TYPE_XDP; kernel built without CONFIG_BPF/XDP?)");
		missing++;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERCPU_ARRAY, NULL) != 1) {
		pr_warn("missing: per-CPU array maps (BPF_MAP_TYPE_PERCPU_ARRAY)");
		missing++;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		pr_warn("missing: BPF ring buffer maps (BPF_MAP_TYPE_RINGBUF, kernel >= 5.8)");
		missing++;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_ringbuf_reserve, NULL) != 1) {
		pr_warn("missing: bpf_ringbuf_reserve() for XDP programs");
		missing++;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_ktime_get_coarse_ns, NULL) != 1) {
		pr_warn("missing: bpf_ktime_get_coarse_ns() for XDP programs (kernel >= 5.11): the "
			"datapath's clock");
		missing++;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		pr_info("kernel BTF (/sys/kernel/btf/vmlinux) not found; xl4 does not need it, "
			"but bpftool introspection will be poorer");
	return missing ? -EOPNOTSUPP : 0;
}
