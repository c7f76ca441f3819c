/* SPDX-License-Identifier: GPL-2.0 */
/* Sampled datapath events (struct xl4_event) as JSON. */
#ifndef XL4_EVENT_FMT_H
#define XL4_EVENT_FMT_H

#include <jansson.h>
#include "xl4/abi.h"

/* "198.18.0.1" / "2001:db8::1" for the tuple's source or destination. */
void xl4_tuple_addr(const struct xl4_tuple *t, int dst, char *buf, size_t len);
json_t *xl4_event_json(const struct xl4_event *ev);

#endif
