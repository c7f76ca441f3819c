/* SPDX-License-Identifier: GPL-2.0 */
/* Sampled datapath events (struct xl4_event) as JSON. */
#ifndef XL4_EVENT_FMT_H
#define XL4_EVENT_FMT_H

#include <stddef.h>
#include <jansson.h>
#include "xl4/abi.h"

/* A ring-buffer record into *ev: 1, or 0 when too short to be one. A record of an older
 * datapath (XL4_EVENT_V1_SIZE bytes, during an upgrade) reads with no L4 fields. */
int xl4_event_read(const void *data, size_t size, struct xl4_event *ev);
/* {"ts_ns", "type", "reason", "ifname", "len", "head", "src", "dst", "proto", "sport",
 * "dport", ...}: addresses from the head, the transport fields from the parser's. */
json_t *xl4_event_json(const struct xl4_event *ev);

#endif
