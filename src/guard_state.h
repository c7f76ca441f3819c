/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flood guard's maps from user space (docs/guard.md): the settings written at start (the
 * secret key kept across restarts), one VIP's mode, override and counters read together, the
 * effective mode by the same rule the kernel applies, and the verified-source table. The
 * daemon, `xl4 replay` and the tests all go through these.
 */
#ifndef XL4_GUARD_STATE_H
#define XL4_GUARD_STATE_H

#include "clock.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "xl4/abi.h"

/* The kernel's settings for a configuration: syn_min = ceil(syn_rate * window) (the VIP's
 * total over all CPUs), the ratio in hundredths, the slot masks from the loaded table sizes,
 * the greylist's capacity (fd_cap) and the source sketch's threshold. Leaves key[] alone. */
void xl4_guard_cfg_build(const struct xl4_guard_conf *c, uint32_t grey_slots, uint32_t syn_slots,
			 struct xl4_guard_cfg *out);
/* Write the settings; the key is the one already in the (pinned) map if it holds one, so a
 * restarted daemon keeps answering cookies it sent, else fresh from getrandom(). *kept says
 * which. 0 or -errno. */
int xl4_guard_cfg_write(const struct xl4_guard_maps *m, const struct xl4_guard_conf *c,
			bool *kept);

/* The challenge cookie's keys (xl4_gckey_v1): one per epoch of period_s (in whole cookie
 * slices of 2^XL4_GUARD_COOKIE_SHIFT ns, at least one), three slots. Draws from getrandom()
 * this epoch's key and the next one's when they are not there yet, all of them when there is
 * none or the period changed. now_ns is the datapath's clock (CLOCK_MONOTONIC, or a test
 * clock). Returns 1 when it wrote the map, 0 when nothing was due, or -errno. */
int xl4_guard_keys_rotate(const struct xl4_guard_maps *m, uint32_t period_s, uint64_t now_ns);
uint32_t xl4_guard_key_slices(uint32_t period_s);

/* xl4_gvip_v1's entered_ns carries the level and cause in its low bits (XL4_GUARD_MODE):
 * split them into level and cause, leaving the time in entered_ns. */
void xl4_guard_mode_decode(struct xl4_guard_vip *v);

/* One VIP's guard state: mode and override, counters summed over CPUs (mode decoded). */
struct xl4_guard_snap {
	struct xl4_guard_vip vip;
	struct xl4_guard_ctl ctl;
	struct xl4_guard_stats sum; /* totals summed; window fields of no use here */
};
int xl4_guard_read(const struct xl4_guard_maps *m, uint32_t id, struct xl4_guard_snap *out);
int xl4_guard_ctl_set(const struct xl4_guard_maps *m, uint32_t id, uint32_t override, uint32_t level);

/* The level in force now (XL4_GUARD_NORMAL, FIRST_DROP, CHALLENGE): bpf/guard.h's
 * guard_level() without its lazy clearing. response is enum xl4_guard_response. */
uint32_t xl4_guard_effective(const struct xl4_guard_vip *v, const struct xl4_guard_ctl *ctl,
			     uint32_t response, uint32_t leave_ms, uint64_t now_ns);

/* Verified sources. The walk calls fn for each unexpired one (remaining seconds; cookie: from
 * the cookie-proven table, else First Drop's); stops when fn returns non-zero. Returns the
 * number of unexpired sources, or -errno; *partial (if not NULL): entries evicted under the
 * walk kept restarting it until its bound, and some sources may have been missed. */
typedef int (*xl4_guard_src_fn)(void *ctx, const struct xl4_guard_src *src, uint64_t left_s,
				bool cookie);
long xl4_guard_verified_walk(const struct xl4_guard_maps *m, uint64_t now_ns, xl4_guard_src_fn fn,
			     void *ctx, bool *partial);
/* Forget one source: 0, -ENOENT if it was not verified, or -errno. */
int xl4_guard_unverify(const struct xl4_guard_maps *m, int family, const __be32 addr[4]);

const char *xl4_guard_level_name(uint32_t level);	/* "first-drop", "challenge", NULL */
const char *xl4_guard_override_name(uint32_t ov);	/* "auto", "on", "off" */
const char *xl4_guard_response_name(uint32_t resp);	/* "first-drop", "challenge", "auto" */
int xl4_guard_override_parse(const char *s, uint32_t *ov);
int xl4_guard_level_parse(const char *s, uint32_t *level); /* first-drop | challenge */


#endif
