// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-lines: where each source line of a loaded BPF program sits in its JIT image, for turning
 * perf samples (instruction addresses) into source lines. bpftool prints the same interleaved
 * with the disassembly, but only when built with libbfd, which Debian's is not.
 *
 *   bpf-lines PROG_ID      one line per line-info record, sorted by address:
 *                          <start address hex> <function> <file>:<line> <source text>
 *
 * A record followed by more than NO_RECORD_SPAN BPF instructions before the next one gets a
 * note after its text: clang leaves some inlined code with no line records of its own (the
 * cookie's SipHash, ~640 instructions), and a profile would otherwise charge all of it to the
 * line before it (docs/performance.md, round eight).
 *
 * Used by bench/profile; the kernel hands out jited addresses only to root (kptr_restrict).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define NO_RECORD_SPAN 64

static void die(const char *what, int err)
{
	fprintf(stderr, "bpf-lines: %s: %s\n", what, strerror(err));
	exit(1);
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {}, full = {};
	__u32 len = sizeof(info), nfuncs, nlines, i, f;
	struct bpf_line_info *lines;
	struct bpf_func_info *funcs;
	__u64 *jited_lines, *ksyms;
	__u32 *func_lens;
	struct btf *btf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PROG_ID\n", argv[0]);
		return 2;
	}
	fd = bpf_prog_get_fd_by_id((__u32)strtoul(argv[1], NULL, 10));
	if (fd < 0)
		die("program", errno);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("program info", errno);
	if (!info.nr_jited_line_info || !info.btf_id)
		die("no jited line info (not JIT-compiled, or no BTF)", ENOENT);
	nlines = info.nr_jited_line_info;
	nfuncs = info.nr_jited_ksyms;
	lines = calloc(nlines, sizeof(*lines));
	jited_lines = calloc(nlines, sizeof(*jited_lines));
	ksyms = calloc(nfuncs, sizeof(*ksyms));
	func_lens = calloc(nfuncs, sizeof(*func_lens));
	funcs = calloc(info.nr_func_info, sizeof(*funcs));
	if (!lines || !jited_lines || !ksyms || !func_lens || !funcs)
		die("memory", ENOMEM);
	full.nr_line_info = info.nr_line_info < nlines ? info.nr_line_info : nlines;
	full.line_info_rec_size = sizeof(*lines);
	full.line_info = (__u64)(unsigned long)lines;
	full.nr_jited_line_info = nlines;
	full.jited_line_info_rec_size = sizeof(*jited_lines);
	full.jited_line_info = (__u64)(unsigned long)jited_lines;
	full.nr_jited_ksyms = nfuncs;
	full.jited_ksyms = (__u64)(unsigned long)ksyms;
	full.nr_jited_func_lens = nfuncs;
	full.jited_func_lens = (__u64)(unsigned long)func_lens;
	full.nr_func_info = info.nr_func_info;
	full.func_info_rec_size = sizeof(*funcs);
	full.func_info = (__u64)(unsigned long)funcs;
	len = sizeof(full);
	if (bpf_obj_get_info_by_fd(fd, &full, &len))
		die("program line info", errno);
	if (!jited_lines[0])
		die("jited addresses hidden (run as root, kptr_restrict)", EPERM);
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		die("program BTF", errno);

	for (i = 0; i < nlines; i++) {
		const char *file = btf__name_by_offset(btf, lines[i].file_name_off);
		const char *src = btf__name_by_offset(btf, lines[i].line_off);
		const char *fn = "?", *base;
		__u32 next = i + 1 < full.nr_line_info ? lines[i + 1].insn_off : lines[i].insn_off;
		__u32 span = next - lines[i].insn_off;

		/* the function: the one whose image holds the address */
		for (f = 0; f < nfuncs && f < full.nr_func_info; f++)
			if (jited_lines[i] >= ksyms[f] &&
			    jited_lines[i] < ksyms[f] + func_lens[f]) {
				const struct btf_type *t = btf__type_by_id(btf, funcs[f].type_id);

				fn = t ? btf__name_by_offset(btf, t->name_off) : "?";
				break;
			}
		base = file ? strrchr(file, '/') : NULL;
		printf("%llx %s %s:%u %s", (unsigned long long)jited_lines[i], fn,
		       base ? base + 1 : (file ? file : "?"),
		       BPF_LINE_INFO_LINE_NUM(lines[i].line_col), src ? src : "");
		if (span > NO_RECORD_SPAN)
			printf("   [+%u BPF insns with no line record]", span);
		printf("\n");
	}
	btf__free(btf);
	close(fd);
	return 0;
}
