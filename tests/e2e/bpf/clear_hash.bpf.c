// SPDX-License-Identifier: GPL-2.0
/*
 * tc ingress on a test router's client-facing port: forget the skb's flow hash.
 *
 * A veth hands the sender socket's hash (sk_txhash, random per socket, re-rolled on a
 * retransmission timeout) to the peer with the packet, marked as an L4 hash. The router's ECMP
 * (fib_multipath_hash_policy=1) takes such a hash as it is instead of hashing the 5-tuple, so
 * the same ports would land on different next hops on every run. A real router port receives
 * packets from the wire with no hash at all; this makes the veth look like one.
 *
 * bpf_set_hash_invalid() clears the hash and its L4 mark, so the kernel dissects the 5-tuple.
 * bpf_set_hash(skb, 0) does not do that: it stores 0 as a valid L4 hash, and every flow then
 * takes the same next hop.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int clear_hash(struct __sk_buff *skb)
{
	bpf_set_hash_invalid(skb);
	return TC_ACT_OK;
}

/* The wrong fix, kept to show why it is wrong (tests/e2e/test_cluster.sh checks the spread). */
SEC("tc")
int zero_hash(struct __sk_buff *skb)
{
	bpf_set_hash(skb, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
