# SPDX-License-Identifier: GPL-2.0
# xl4 build. Out-of-tree output in $(O) (default build/); quiet unless V=1.
#   make            build the xl4 binary, the BPF objects and the xl4-gen traffic generator
#   make test       build and run every test suite (unit, BPF fixtures, fuzz smoke, e2e)
#   make demo       run the demo topology (needs root)
#   make bench      run the benchmarks (not part of make test)
#   make format-check  check C sources against .clang-format (files in .clang-format-todo aside)
#   make verifier-stats  the verifier's instruction count, as a row for docs/verifier.md

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf libxdp libconfig jansson libpcap libmicrohttpd ncursesw libmnl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
# Table rows (CLI options, verbs) leave their optional trailing fields out, as the kernel does.
CFLAGS += -Wall -Wextra -Wno-missing-field-initializers -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc -I$(O)/include $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lelf -lz -lpthread -lm
BPF_CFLAGS := -O2 -g -target bpf -Wall -Wextra -Werror -Iinclude -Ibpf -I$(ARCH_INC)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(O)/include/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/xl4/*.h)

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,$(O)/src/%.o,$(LIB_SRCS))
SRC_HDRS := $(wildcard src/*.h) $(wildcard include/xl4/*.h)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
FIX_SRCS := $(wildcard tests/bpf/*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(O)/tests/tools/%,$(TOOL_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/tests/fuzz/%,$(FUZZ_SRCS))

.PHONY: all test test-unit test-bpf test-fuzz test-e2e demo bench clean install uninstall verifier-stats format-check
.DELETE_ON_ERROR:
.SECONDARY:

# Test-only BPF objects (tests/e2e/bpf/): no skeleton; the e2e tests load them with tc or ip.
E2E_BPF := $(patsubst tests/e2e/bpf/%.bpf.c,$(O)/tests/e2e/%.bpf.o,$(wildcard tests/e2e/bpf/*.bpf.c))

all: $(O)/xl4 $(O)/xl4-gen $(E2E_BPF)

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/tests/e2e/%.bpf.o: tests/e2e/bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/include/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(O)/src/%.o: src/%.c $(SRC_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/libxl4.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/xl4: $(O)/src/main.o $(O)/libxl4.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# xl4-gen, the live-frames traffic generator (tools/): its BPF program, skeleton and binary.
$(O)/tools/%.bpf.o: tools/%.bpf.c tools/gen.h $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itools -c $< -o $@

$(O)/tools/%.skel.h: $(O)/tools/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(O)/xl4-gen: tools/xl4-gen.c tools/gen.h $(O)/tools/gen.skel.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itools -I$(O)/tools $< -o $@ -lbpf -lelf -lz

# Unit tests: one cmocka binary per tests/unit/test_*.c, linked against the same library code.
$(O)/tests/unit/%: tests/unit/%.c $(O)/libxl4.a $(BPF_HDRS) $(SRC_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibpf -Itests/unit $< $(O)/libxl4.a -o $@ $(LDLIBS) -lcmocka

# BPF fixtures: every tests/bpf/*.c forms one runner.
$(O)/tests/bpf/fixtures: $(FIX_SRCS) $(wildcard tests/bpf/*.h) $(O)/libxl4.a $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibpf -Itests/bpf $(FIX_SRCS) $(O)/libxl4.a -o $@ $(LDLIBS)

$(O)/tests/tools/%: tests/tools/%.c $(O)/libxl4.a $(BPF_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ibpf -Itests/bpf $< $(O)/libxl4.a -o $@ $(LDLIBS)

# Fuzz targets: libFuzzer with ASan/UBSan. Each target lists the sources it needs beyond its
# own file in FUZZ_EXTRA_<name>; the packet parser needs none (it is header-only).
FUZZ_EXTRA_fuzz_config := src/config.c src/conf_include.c src/conf_lit.c src/engine.c src/guard_vbits.c src/conntrack.c src/map_walk.c src/clock.c src/log.c src/lb_spec.c src/maglev.c src/cli.c src/prefix.c src/filter_state.c src/dir24.c
# Every src/*.c is a prerequisite: a target's FUZZ_EXTRA sources cannot be named per target in
# a pattern rule, and a fuzzer built from stale sources tests what is no longer there.
$(O)/tests/fuzz/%: tests/fuzz/%.c $(wildcard src/*.c) $(SRC_HDRS) $(BPF_HDRS) $(SKELS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize=alignment \
		-fno-sanitize-recover=all -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc -Ibpf -I$(O)/include \
		$(PKG_CFLAGS) $< $(FUZZ_EXTRA_$*) -o $@ $(LDLIBS)

test-build: $(O)/xl4 $(O)/xl4-gen $(E2E_BPF) $(UNIT_BINS) $(if $(FIX_SRCS),$(O)/tests/bpf/fixtures) $(TOOL_BINS) $(FUZZ_BINS)
.PHONY: test-build

test: test-build
	$(Q)O=$(O) tests/run-all

test-unit: $(O)/xl4 $(UNIT_BINS)
test-bpf: $(O)/xl4 $(if $(FIX_SRCS),$(O)/tests/bpf/fixtures) $(TOOL_BINS)
test-fuzz: $(FUZZ_BINS)
test-e2e: $(O)/xl4 $(E2E_BPF)
test-unit test-bpf test-fuzz test-e2e:
	$(Q)O=$(O) tests/run-all $(patsubst test-%,%,$@)

demo: $(O)/xl4
	$(Q)O=$(O) scripts/demo

# Benchmarks (make bench only): bench/*.bpf.c references and driver, their skeletons, and the
# bench binaries. xl4-bench compiles in the fixtures' packet builder (tests/bpf/pktbuild.c).
BENCH_BPF := $(patsubst bench/%.bpf.c,$(O)/bench/%.bpf.o,$(wildcard bench/*.bpf.c))
$(O)/bench/%.bpf.o: bench/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bench/%.skel.h: $(O)/bench/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(O)/bench/xl4-bench: bench/xl4-bench.c $(O)/bench/drive.skel.h $(O)/bench/floor.skel.h \
		$(O)/bench/floor_block.skel.h $(O)/libxl4.a tests/bpf/pktbuild.c tests/bpf/pktbuild.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Ibpf -Itests/bpf -I$(O)/bench $< $(O)/libxl4.a -o $@ $(LDLIBS)

$(O)/bench/bpf-lines: bench/bpf-lines.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

$(O)/bench/maglev-bench: bench/maglev-bench.c src/maglev.c src/maglev.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< src/maglev.c -o $@ -lm

bench: $(O)/xl4 $(O)/xl4-gen $(O)/bpf/pass.bpf.o $(BENCH_BPF) $(O)/bench/xl4-bench $(O)/bench/maglev-bench \
	$(O)/bench/bpf-lines
	$(Q)O=$(O) bench/run

# The e2e flood's echo gap by flood rate, the guard beside xl4's blocklist floor, in
# tests/e2e/test_guard_flood.sh's topology (root; ~4 min; in neither make test nor make bench).
# FLOOD_OUT=FILE keeps the table; FG_RATES, FG_CONFIGS, FG_SECS: see bench/flood_gap.
.PHONY: bench-flood
bench-flood: $(O)/xl4 $(O)/xl4-gen $(O)/bpf/pass.bpf.o $(O)/tests/e2e/switch_port.bpf.o
	$(Q)O=$(O) bench/flood_gap $(FLOOD_OUT)

verifier-stats: $(O)/xl4
	$(Q)scripts/verifier-stats $(O)/xl4

format-check:
	$(Q)scripts/format-check

# make install / uninstall honour PREFIX and DESTDIR; SYSTEMD_DIR places the unit, whose
# ExecStart gets $(PREFIX)/sbin/xl4 in place of /usr/local/sbin/xl4.
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
INSTALLED := $(PREFIX)/sbin/xl4 $(PREFIX)/share/man/man8/xl4.8 $(PREFIX)/share/man/man5/xl4.conf.5 \
	$(PREFIX)/share/bash-completion/completions/xl4 $(SYSTEMD_DIR)/xl4.service \
	$(PREFIX)/share/doc/xl4/xl4.conf
install: $(O)/xl4 $(O)/xl4-gen
	install -D -m 0755 $(O)/xl4 $(DESTDIR)$(PREFIX)/sbin/xl4
	install -D -m 0644 man/xl4.8 $(DESTDIR)$(PREFIX)/share/man/man8/xl4.8
	install -D -m 0644 man/xl4.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/xl4.conf.5
	install -D -m 0644 contrib/bash-completion/xl4 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/xl4
	sed 's|/usr/local/sbin/xl4|$(PREFIX)/sbin/xl4|' contrib/systemd/xl4.service > $(O)/xl4.service
	install -D -m 0644 $(O)/xl4.service $(DESTDIR)$(SYSTEMD_DIR)/xl4.service
	install -D -m 0644 examples/xl4.conf $(DESTDIR)$(PREFIX)/share/doc/xl4/xl4.conf

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(PREFIX)/share/doc/xl4 2>/dev/null || true

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)
