/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map of the datapath, declared once. Names come from include/xl4/abi.h (XL4_MAP_*);
 * which maps are pinned is decided by the loader (src/loader.c), never here, so `xl4 replay`
 * can load the same object with private maps.
 */
#ifndef XL4_MAPS_H
#define XL4_MAPS_H

#include "compat.h"
#include "xl4/abi.h"

/* Verdict and drop-reason counters; written by the exit path, summed over CPUs by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xl4_counter);
} xl4_stats_v1 SEC(".maps");

/* Sampled drop events for the daemon (struct xl4_event); rate-limited by xl4_sampler_v1. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xl4_events_v1 SEC(".maps");

/* Per-CPU token bucket that limits how many events each CPU may sample per second. */
struct xl4_sampler {
	__u64 last_ns;
	__u64 tokens;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_sampler);
} xl4_sampler_v1 SEC(".maps");

/* The last verdict and reason on this CPU; written only when cfg_trace is set (replay). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_trace);
} xl4_trace_v1 SEC(".maps");

#endif /* XL4_MAPS_H */
