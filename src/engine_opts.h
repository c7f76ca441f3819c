/* SPDX-License-Identifier: GPL-2.0 */
/* The engine's load-time options as a configuration sets them: one place for the daemon, the
 * replay and `xl4 check`, so that what they load (and compare with the pins) agrees. */
#ifndef XL4_ENGINE_OPTS_H
#define XL4_ENGINE_OPTS_H

#include "config.h"
#include "engine.h"

/* Every load-time setting of cfg, its pin path included; the rest of *eo is zeroed. What the
 * file leaves to the pins in place (the connection tables' LRU lists) stays open: the caller
 * settles it with xl4_ct_lru_settle_here() once eo->pin_path is the one it loads with
 * (src/ct_lru.h; the replay's private maps follow the CPUs alone). */
void xl4_engine_opts_from_config(const struct xl4_config *cfg, struct xl4_engine_opts *eo);

#endif
