// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "adopt.h"
#include "log.h"
#include "nic_check.h"
#include "xl4/abi.h"

int xl4_pins_lock(const char *pin_path)
{
	int fd = open(pin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s", pin_path, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK)
			pr_warn("another xl4 daemon is using the pins in %s (it holds their lock): "
				"two daemons must never steer one datapath; stop it first", pin_path);
		else
			pr_warn("cannot lock %s: %s", pin_path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

static void meta_path(const char *pin_path, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", pin_path, XL4_MAP_META);
}

int xl4_meta_read(const char *pin_path, struct xl4_meta *m)
{
	char path[512];
	__u32 zero = 0;
	int fd, ret;

	memset(m, 0, sizeof(*m));
	meta_path(pin_path, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	ret = bpf_map_lookup_elem(fd, &zero, m) ? -errno : 0;
	close(fd);
	return ret;
}

int xl4_meta_write(const char *pin_path, const struct xl4_meta *m)
{
	char path[512];
	__u32 zero = 0;
	int fd, ret;

	meta_path(pin_path, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, XL4_MAP_META, sizeof(__u32), sizeof(*m), 1, NULL);
		if (fd < 0 || bpf_obj_pin(fd, path)) {
			ret = -errno;
			pr_warn("cannot pin %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return ret;
		}
	}
	ret = bpf_map_update_elem(fd, &zero, m, BPF_ANY) ? -errno : 0;
	close(fd);
	return ret;
}

/* "xl4_ct_v1" -> base "xl4_ct", version 1; 0 if the name has no _vN suffix. */
static int split_version(const char *name, char *base, size_t len)
{
	const char *v = strrchr(name, '_');

	if (!v || v[1] != 'v' || !v[2] || strspn(v + 2, "0123456789") != strlen(v + 2))
		return 0;
	snprintf(base, len, "%.*s", (int)(v - name), name);
	return 1;
}

/* The older pins of replaced maps this start found (engine.c: a `replaced` reason). Each goes
 * only once the new program is attached (xl4_pins_replaced_commit()): a start that fails
 * before that leaves the older build what it needs to start again, and the new pin this start
 * made goes instead (xl4_pins_replaced_abort()). One daemon start per process. */
static struct {
	char old[256], want[160];
	bool made; /* the new pin was not there before this start */
} replaced[32];
static int n_replaced;

static void pin_unlink(const char *pin_path, const char *name, const char *why)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	if (!unlink(path))
		pr_info("%s: %s", path, why);
	else if (errno != ENOENT)
		pr_warn("cannot remove %s: %s", path, strerror(errno));
}

void xl4_pins_replaced_commit(const char *pin_path)
{
	char why[384];

	for (int i = 0; i < n_replaced; i++) {
		snprintf(why, sizeof(why), "replaced by %.100s (%.120s)", replaced[i].want,
			 xl4_engine_pin_replaced(replaced[i].want));
		pin_unlink(pin_path, replaced[i].old, why);
	}
	n_replaced = 0;
}

void xl4_pins_replaced_abort(const char *pin_path)
{
	char why[384];

	for (int i = 0; i < n_replaced; i++) {
		if (!replaced[i].made)
			continue;
		snprintf(why, sizeof(why), "removed: this start made it and did not attach, so the "
			 "build that pinned %.200s can start again", replaced[i].old);
		pin_unlink(pin_path, replaced[i].want, why);
	}
	n_replaced = 0;
}

/* Does program id use the map pinned in pin_path under name (XL4_MAP_STATS: is it an xl4 of
 * ours)? */
static bool prog_uses_pin(__u32 id, const char *pin_path, const char *name)
{
	struct bpf_map_info minfo = {};
	__u32 map_ids[64], len = sizeof(minfo);
	char path[512];
	bool ours = false;
	int fd, pfd, n;

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &minfo, &len)) {
		close(fd);
		return false;
	}
	close(fd);
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		return false;
	n = xl4_prog_map_ids(pfd, map_ids, 64);
	for (int i = 0; i < n; i++)
		ours |= map_ids[i] == minfo.id;
	close(pfd);
	return ours;
}

int xl4_pins_replaced_open(const char *pin_path, const char *want, __u32 running)
{
	char path[512];
	int fd;

	for (int i = 0; i < n_replaced; i++) {
		if (strcmp(replaced[i].want, want))
			continue;
		/* the program the pins record counts into this build's map already: a start
		 * killed after its attach, before the older pin went */
		if (running && prog_uses_pin(running, pin_path, want))
			return -1;
		snprintf(path, sizeof(path), "%s/%s", pin_path, replaced[i].old);
		fd = bpf_obj_get(path);
		if (fd < 0)
			pr_warn("cannot open %s: %s", path, strerror(errno));
		return fd < 0 ? -1 : fd;
	}
	return -1;
}

int xl4_pins_check_layout(const char *pin_path, bool dry_run)
{
	DIR *d = opendir(pin_path);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && !ret) {
		char base[128], want[160] = "";
		const char *lost;

		if (strncmp(de->d_name, "xl4_", 4) || !split_version(de->d_name, base, sizeof(base)) ||
		    xl4_engine_pin_name_known(de->d_name) || !strcmp(de->d_name, XL4_MAP_META))
			continue;
		/* Only our own maps under another version: the agent's pins may share the dir. */
		for (int v = 1; v < 100 && !want[0]; v++) {
			char cand[160];

			snprintf(cand, sizeof(cand), "%s_v%d", base, v);
			if (xl4_engine_pin_name_known(cand))
				snprintf(want, sizeof(want), "%s", cand);
		}
		if (!want[0])
			continue;
		if ((lost = xl4_engine_pin_replaced(want))) {
			char path[512];
			struct stat st;

			/* nothing a restart keeps: the running program keeps its own copy until
			 * it is replaced, and this daemon starts the new map afresh; the old pin
			 * goes once the new program is attached */
			snprintf(path, sizeof(path), "%s/%s", pin_path, de->d_name);
			pr_info("%s: a start replaces it by %s (%s)", path, want, lost);
			if (dry_run)
				continue;
			if (n_replaced < (int)(sizeof(replaced) / sizeof(replaced[0]))) {
				snprintf(replaced[n_replaced].old, sizeof(replaced[0].old), "%s",
					 de->d_name);
				snprintf(replaced[n_replaced].want, sizeof(replaced[0].want), "%s", want);
				snprintf(path, sizeof(path), "%s/%s", pin_path, want);
				replaced[n_replaced++].made = stat(path, &st) != 0;
				continue;
			}
			if (!unlink(path)) /* more than this start keeps track of: at once */
				continue;
			pr_warn("cannot remove %s: %s", path, strerror(errno));
		}
		pr_warn("%s/%s is pinned by an xl4 with another map layout (this build uses %s) and no "
			"migration between them exists; refusing to start rather than lose its state. "
			"Stop traffic with 'xl4 detach', then 'xl4 cleanup' removes the old pins (every "
			"flow loses its backend)", pin_path, de->d_name, want);
		ret = -ESTALE;
	}
	closedir(d);
	return ret;
}

__u32 xl4_xdp_attached(int ifindex, enum xl4_xdp_mode *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (q.drv_prog_id) {
		*mode = XL4_MODE_NATIVE;
		return q.drv_prog_id;
	}
	*mode = XL4_MODE_SKB;
	return q.skb_prog_id;
}

/* The program the pins' record names, if it still exists and still uses these pins (0: none);
 * its fingerprint in *fp. */
static __u32 running_prog(const char *pin_path, __u64 *fp)
{
	struct xl4_meta m;
	int fd;

	*fp = 0;
	if (xl4_meta_read(pin_path, &m) || !m.prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(m.prog_id);
	if (fd < 0)
		return 0;
	close(fd);
	if (!prog_uses_pin(m.prog_id, pin_path, XL4_MAP_STATS))
		return 0;
	*fp = m.fingerprint;
	return m.prog_id;
}

__u32 xl4_datapath_would_adopt(const struct xl4_engine_opts *o, bool *adopt)
{
	__u64 fp;
	__u32 id = running_prog(o->pin_path, &fp);

	*adopt = id && fp == xl4_engine_fingerprint(o);
	return id;
}

int xl4_datapath_open(struct xl4_engine *e, const struct xl4_engine_opts *o, bool upgrade,
		      bool *adopted)
{
	__u64 fp = xl4_engine_fingerprint(o), old_fp;
	__u32 old_id;
	int err;

	*adopted = false;
	if ((err = xl4_pins_check_layout(o->pin_path, false)))
		return err;
	old_id = running_prog(o->pin_path, &old_fp);
	if (old_id && old_fp == fp && !upgrade) {
		if ((err = xl4_engine_adopt(e, o->pin_path, old_id)))
			return err;
		*adopted = true;
		pr_info("adopted the running program (id %u) and its pinned maps", old_id);
		return 0;
	}
	if (old_id)
		pr_info("running program id %u is %s: loading a new one to replace it atomically",
			old_id, upgrade ? "being upgraded (--upgrade)" :
					   "another build or has other load-time settings");
	if ((err = xl4_engine_load(e, o)))
		return err;
	/* an older build's VIP counters, for the LB's adoption to carry over (lb_counters.c) */
	if (o->pin_path)
		e->lb.vstats_old = xl4_pins_replaced_open(o->pin_path, XL4_MAP_VIP_STATS, old_id);
	return 0;
}

static __u32 mode_flags(enum xl4_xdp_mode mode)
{
	return mode == XL4_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

int xl4_xdp_install(int ifindex, int prog_fd, const char *pin_path, enum xl4_xdp_mode mode,
		    enum xl4_xdp_mode *got, bool *replaced)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), cur;
	enum xl4_xdp_mode cur_mode = XL4_MODE_AUTO;
	char name[IF_NAMESIZE] = "?";
	int old_fd, err;

	*replaced = false;
	if_indextoname(ifindex, name);
	xl4_nic_check(name);
	bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	cur = xl4_xdp_attached(ifindex, &cur_mode);
	if (!cur)
		return xl4_xdp_attach(ifindex, prog_fd, mode, got);
	if (cur == info.id) {
		*got = cur_mode;
		return 0;
	}
	if (!prog_uses_pin(cur, pin_path, XL4_MAP_STATS)) {
		pr_warn("%s: another XDP program is attached (id %u); detach it first "
			"(ip link set dev %s xdp off)", name, cur, name);
		return -EBUSY;
	}
	if (mode != XL4_MODE_AUTO && mode != cur_mode)
		pr_warn("%s: the running program is in %s mode; an atomic replace keeps that mode "
			"(to change it: 'xl4 detach', then start the daemon)", name, xl4_mode_name(cur_mode));
	old_fd = bpf_prog_get_fd_by_id(cur);
	if (old_fd < 0)
		return -errno;
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);

		/* One netlink request: the old program runs until the new one does. */
		err = bpf_xdp_attach(ifindex, prog_fd, mode_flags(cur_mode) | XDP_FLAGS_REPLACE, &opts);
	}
	close(old_fd);
	if (err) {
		pr_warn("%s: cannot replace program id %u: %s", name, cur, strerror(-err));
		return err;
	}
	*got = cur_mode;
	*replaced = true;
	pr_info("%s: program id %u replaced by id %u in one step", name, cur, info.id);
	return 0;
}

void xl4_xdp_retire(const struct xl4_meta *old, const int *keep, int n_keep, const char *pin_path)
{
	for (__u32 i = 0; i < old->n_ifs && i < XL4_META_MAX_IFS; i++) {
		enum xl4_xdp_mode mode;
		char name[IF_NAMESIZE] = "?";
		bool kept = false;
		__u32 cur;
		int fd;

		for (int k = 0; k < n_keep; k++)
			kept |= keep[k] == (int)old->ifindex[i];
		if (kept || !(cur = xl4_xdp_attached(old->ifindex[i], &mode)) ||
		    !prog_uses_pin(cur, pin_path, XL4_MAP_STATS))
			continue;
		if_indextoname(old->ifindex[i], name);
		fd = bpf_prog_get_fd_by_id(cur);
		if (fd >= 0 && !xl4_xdp_detach(old->ifindex[i], fd, mode))
			pr_info("%s: no longer in the configuration: program id %u detached", name, cur);
		else
			pr_warn("%s: no longer in the configuration, but program id %u could not be "
				"detached: %s", name, cur, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
}
