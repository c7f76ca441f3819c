/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Restart and upgrade without a gap (docs/operations.md). The XDP program stays attached when
 * the daemon stops, however it stops; the next daemon either adopts it (the same build with
 * the same load-time settings: no load, the program id stays) or loads its own over the same
 * pinned maps and swaps it in with one XDP_FLAGS_REPLACE attach per interface, so there is
 * never a moment without a program.
 *
 * What the running program is lives in one pinned map the daemon creates itself, xl4_meta_v1
 * (the datapath never reads it): the program id, its fingerprint, the interfaces it is on.
 */
#ifndef XL4_ADOPT_H
#define XL4_ADOPT_H

#include <stdbool.h>
#include <linux/types.h>

#include "engine.h"

#define XL4_MAP_META "xl4_meta_v1"
#define XL4_META_MAX_IFS 16

struct xl4_meta {
	__u64 fingerprint;	/* xl4_engine_fingerprint() of the attached program */
	__u32 prog_id;		/* the attached program */
	__u32 n_ifs;
	__u32 ifindex[XL4_META_MAX_IFS]; /* where it is attached (in the daemon's netns) */
};
_Static_assert(sizeof(struct xl4_meta) == 80, "xl4_meta layout");

/* One daemon per pin directory: an exclusive flock on it, held for the daemon's life (a
 * killed daemon's goes with it). The fd, or -EWOULDBLOCK (logged) while another holds it. */
int xl4_pins_lock(const char *pin_path);

int xl4_meta_read(const char *pin_path, struct xl4_meta *m); /* 0, or -ENOENT */
int xl4_meta_write(const char *pin_path, const struct xl4_meta *m);

/* Refuse pins of another map layout (xl4_ct_v0 beside this build's xl4_ct_v1): no migration
 * exists, and silently starting empty would lose every flow. 0 or -ESTALE, reason logged.
 * An older pin of a map a start rebuilds (xl4_engine_pin_replaced()) is noted for removal
 * once the new program is attached (below), or with
 * dry_run (`xl4 check`) only named. */
int xl4_pins_check_layout(const char *pin_path, bool dry_run);
/* The older pins xl4_pins_check_layout() found replaced: removed once the new program is
 * attached (commit), or, when the start fails before, the new pins it made in their place
 * (abort), so the older build can start again over its own. */
void xl4_pins_replaced_commit(const char *pin_path);
void xl4_pins_replaced_abort(const char *pin_path);
/* The older pin this start replaces by `want`, unless the running program (its id, 0: none)
 * already uses `want` (then that map's state is this build's): an fd the caller closes, or -1.
 * Whether this start or one killed before its attach made `want`, its state is not yet
 * this build's. */
int xl4_pins_replaced_open(const char *pin_path, const char *want, __u32 running);

/* Without changing anything: the running program a start with o would find on its pins (0:
 * none), and whether it would adopt it (*adopt) rather than load a new one to swap in. */
__u32 xl4_datapath_would_adopt(const struct xl4_engine_opts *o, bool *adopt);

/* Adopt the running program if it is the one o describes and upgrade is false; otherwise load
 * a new one over the pins (xl4_xdp_install() then swaps it in). *adopted says which. */
int xl4_datapath_open(struct xl4_engine *e, const struct xl4_engine_opts *o, bool upgrade,
		      bool *adopted);

/* Put prog_fd on ifindex: nothing if it is there already, an atomic replace if another xl4
 * program is (one that uses the maps pinned in pin_path), a plain attach if none is; refused
 * if a foreign program is. *got: the mode it runs in; *replaced: a replace happened. */
int xl4_xdp_install(int ifindex, int prog_fd, const char *pin_path, enum xl4_xdp_mode mode,
		    enum xl4_xdp_mode *got, bool *replaced);

/* Interfaces the previous daemon attached to (old) that this one does not (keep): take an
 * xl4 program using these pins off them, so nothing runs where the configuration no longer
 * says and xl4_meta_v1 stays the whole truth. */
void xl4_xdp_retire(const struct xl4_meta *old, const int *keep, int n_keep, const char *pin_path);

/* The program attached to ifindex (0: none) and its mode. */
__u32 xl4_xdp_attached(int ifindex, enum xl4_xdp_mode *mode);

#endif
