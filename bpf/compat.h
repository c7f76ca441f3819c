/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What lets the pure packet code (parse.h, csum.h) build both as BPF and as plain user-space
 * C, so the parser can be fuzzed with sanitizers and unit-tested without a kernel.
 */
#ifndef XL4_COMPAT_H
#define XL4_COMPAT_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

/* A branch taken only by a packet that is dropped: its code goes out of the straight line. */
#define xl4_unlikely(x) __builtin_expect(!!(x), 0)

#ifdef __bpf__
#include <bpf/bpf_helpers.h>
/* Fixed-count loops are unrolled: kernels before 5.3 had no bounded loops, and unrolled
 * constant offsets keep every packet access provable to the verifier. */
#define XL4_UNROLL _Pragma("unroll")
/* Keep a packet pointer in one register: otherwise clang may re-derive it from data + offset
 * after the bounds check, and the verifier only trusts the register it checked. */
#define xl4_barrier_var(v) asm volatile("" : "+r"(v))
/* Keep the memory accesses before it before those after it: an in-place move through one
 * type followed by header stores through others could be reordered (strict aliasing). */
#define xl4_barrier_mem() asm volatile("" ::: "memory")
/* *p |= v in one atomic instruction (BPF_ATOMIC | BPF_OR: kernel 5.12 and later). clang emits
 * it for __sync_fetch_and_or only with -mcpu=v3, not the v1 that clang 14 (Debian 12's)
 * builds for by default, so it is written out: the same instruction whatever the default. */
static __always_inline void xl4_atomic_or64(__u64 *p, __u64 v)
{
	asm volatile("lock *(u64 *)(%[p] + 0) |= %[v]" : : [p] "r"(p), [v] "r"(v) : "memory");
}
/* If *p holds old, store new, in one atomic instruction; returns what *p held (BPF_CMPXCHG,
 * kernel 5.12 and later). clang 14 emits it only for -mcpu=v3 and its assembler cannot parse
 * it, so it is written as its encoding, "r0 = cmpxchg_64(r1 + 0, r0, r2)", with the operands
 * pinned to those registers (local register variables, which extended asm honours). */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xl4_cmpxchg64() is written as a little-endian BPF instruction: build with -target bpfel"
#endif
static __always_inline __u64 xl4_cmpxchg64(__u64 *p, __u64 old, __u64 new)
{
	register __u64 *ptr asm("r1") = p;
	register __u64 r0 asm("r0") = old;
	register __u64 val asm("r2") = new;

	/* code 0xdb (BPF_STX | BPF_ATOMIC | BPF_DW), registers 0x21 (src r2, dst r1), offset 0,
	 * imm 0xf1 (BPF_CMPXCHG) */
	asm volatile(".quad 0x000000f1000021db" : "+r"(r0) : "r"(ptr), "r"(val) : "memory");
	return r0;
}
#else
#define xl4_barrier_var(v) ((void)(v))
#define xl4_barrier_mem() ((void)0)
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define XL4_UNROLL
#endif

#endif /* XL4_COMPAT_H */
