/* SPDX-License-Identifier: GPL-2.0 */
/* Sampled datapath events (struct xl4_event) as JSON. */
#ifndef XL4_EVENT_FMT_H
#define XL4_EVENT_FMT_H

#include <jansson.h>
#include "xl4/abi.h"

json_t *xl4_event_json(const struct xl4_event *ev);

#endif
