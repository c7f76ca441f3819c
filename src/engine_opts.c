// SPDX-License-Identifier: GPL-2.0
/* A configuration's load-time settings as engine options (engine_opts.h). */
#include <string.h>

#include "engine_opts.h"

void xl4_engine_opts_from_config(const struct xl4_config *cfg, struct xl4_engine_opts *eo)
{
	memset(eo, 0, sizeof(*eo));
	eo->pin_path = cfg->pin_path;
	eo->frag_policy = cfg->frag_policy;
	eo->sample_per_sec = cfg->sample_per_sec;
	eo->ring_size = cfg->lb.table_size;
	eo->ct_max = cfg->lb.ct_max;
	eo->ct6_max = cfg->lb.ct6_max;
	eo->ct_per_cpu_lru = cfg->lb.ct_per_cpu_lru;
	eo->ct_lru_open = !cfg->lb.ct_per_cpu_lru_set; /* the caller settles it: ct_lru.h */
	eo->fcache_slots = cfg->lb.fcache_slots;
	eo->fcache_off = !cfg->lb.fcache_slots;
	eo->rate_max = cfg->filter.rate_table_size;
	eo->block4_groups = cfg->filter.ipv4_groups;
	eo->guard_grey_slots = cfg->guard.grey_slots;
	eo->guard_syn_slots = cfg->guard.syn_slots;
	eo->guard_verified_max = cfg->guard.verified_max;
}
