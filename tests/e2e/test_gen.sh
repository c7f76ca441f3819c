#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xl4-gen, the live-frames traffic generator (tools/xl4-gen.c), on a veth pair between two
# namespaces: gen/g0 sends, recv/g1 runs bpf/pass.bpf.o (a veth drops XDP_TX'd frames unless
# its peer runs XDP) and counts in an nftables netdev-ingress chain.
#
#   (a) --count N: exactly N frames arrive, all from inside --src (IPv4 and IPv6), none from
#       outside it; UDP --size: the byte count matches the frame size
#   (b) a capture (tcpdump on g1, paced so nothing is lost) read with scapy: sources inside the
#       prefix, MACs = the device's and the peer's (the defaults), valid IP/TCP checksums, tuples all
#       distinct without --dup
#   (c) --dup 2: every tuple (source, port, sequence number) twice in a row; --dup 3
#       --dup-gap-ms 40: every tuple three times, the copies spaced (at least half the gap
#       apart by the capture's timestamps)
#       --flows 100: 100 tuples round and round
#   (d) bounded: --duration stops a full-speed run, a --count it cannot reach in time exits 3,
#       --rate paces (a lower bound only: nothing here depends on the machine being fast), and
#       lo carries no XDP program afterwards
#   (e) strict options: a bad value exits 2 and names the option
# Addresses only from 198.18.0.0/15 and 2001:db8::/32.
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter nft tcpdump timeout
require_scapy
GEN="$O/xl4-gen"
[ -x "$GEN" ] || die "$GEN not found: build it first (make O=$O)"
e2e_tmpdir

GNS=xl4e-$$-gen
RNS=xl4e-$$-recv
PFX4=198.18.128.0/17 DST4=198.18.0.2
PFX6=2001:db8:ff::/64 DST6=2001:db8::2

e2e_section "topology: $GNS/g0 <-> $RNS/g1 (XDP_PASS), nft counters on g1"
ns_create "$GNS"
ns_create "$RNS"
veth_pair "$GNS" g0 "$RNS" g1
if ! out=$(ip -n "$RNS" link set g1 xdpdrv obj "$O/bpf/pass.bpf.o" sec xdp 2>&1); then
	case $out in
	*"Operation not supported"* | *"Invalid argument"*)
		skip "kernel lacks native XDP on veth (attaching bpf/pass.bpf.o: $out)" ;;
	esac
	die "cannot attach $O/bpf/pass.bpf.o to $RNS/g1: $out"
fi
G1_MAC=$(ip -n "$RNS" -br link show g1 | awk '{print $3}')
G0_MAC=$(ip -n "$GNS" -br link show g0 | awk '{print $3}')

nsenter --net="/run/netns/$RNS" nft -f - <<EOF || die "nft ruleset"
table netdev gen {
	chain c {
		type filter hook ingress device g1 priority 0;
		ip saddr $PFX4 ip daddr $DST4 tcp dport 80 counter name in4
		ip saddr != $PFX4 counter name out4
		ip6 saddr $PFX6 ip6 daddr $DST6 udp dport 53 counter name in6
		ip6 saddr != $PFX6 ip6 nexthdr udp counter name out6
	}
	counter in4 { }
	counter out4 { }
	counter in6 { }
	counter out6 { }
}
EOF

gen() { nsenter --net="/run/netns/$GNS" timeout 60 "$GEN" --dev g0 --quiet "$@"; }
# counter NAME: "packets bytes" of a named nft counter; zero_counters: reset them all
counter() {
	nsenter --net="/run/netns/$RNS" nft list counter netdev gen "$1" |
		awk '/packets/ { for (i = 1; i < NF; i++) { if ($i == "packets") p = $(i + 1); if ($i == "bytes") b = $(i + 1) } } END { print p, b }'
}
zero_counters() { nsenter --net="/run/netns/$RNS" nft reset counters table netdev gen >/dev/null; }

# ---------------------------------------------------------------------------------------------
e2e_section "(a) --count is exact; sources inside the prefix"
# Paced: unpaced, the generator outruns the receiver's 256-frame veth ring whenever the
# machine is busy (CI saw 22206 of 77777 arrive), and the count here is about what the
# generator sends, not about what a loaded receiver takes. The unpaced runs are below.
zero_counters
out=$(gen --src "$PFX4" --dst "$DST4" --proto syn --count 200000 --rate 250000 --cpu 0 --json)
rc=$?
assert_eq "IPv4 SYN --count 200000: exit status" 0 "$rc"
assert_eq "generator reports frames" 200000 "$(json_get <(echo "$out") frames)"
read -r p _ <<<"$(counter in4)"
assert_eq "receiver: SYNs from $PFX4 to $DST4:80" 200000 "$p"
read -r p _ <<<"$(counter out4)"
assert_eq "receiver: IPv4 frames from outside $PFX4" 0 "$p"
e2e_log "  ($(json_get <(echo "$out") pps) pps, paced at 250000, receiver XDP_PASS + stack)"

zero_counters
gen --src "$PFX6" --dst "$DST6" --proto udp --dport 53 --size 300 --count 77777 --batch 16 \
	--rate 100000 >/dev/null
assert_eq "IPv6 UDP --count 77777 --size 300: exit status" 0 "$?"
read -r p b <<<"$(counter in6)"
assert_eq "receiver: UDP from $PFX6 to [$DST6]:53" 77777 "$p"
assert_eq "receiver: bytes (frame 300 - 14 Ethernet)" $((77777 * 286)) "$b"
read -r p _ <<<"$(counter out6)"
assert_eq "receiver: IPv6 UDP from outside $PFX6" 0 "$p"

# ---------------------------------------------------------------------------------------------
# capture N ARGS...: N frames of a paced run, captured on g1, into $E2E_TMP/cap.pcap
capture() {
	local n=$1 i

	shift
	rm -f "$E2E_TMP/cap.pcap" "$E2E_TMP/tcpdump.log"
	bg_start "$RNS" "$E2E_TMP/tcpdump.log" timeout 60 tcpdump -i g1 -n -U -c "$n" -w "$E2E_TMP/cap.pcap" \
		"net 198.18.0.0/15 or net 2001:db8::/32"
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$E2E_TMP/tcpdump.log" && break
		sleep 0.1
	done
	gen --count "$n" --rate 2000 "$@" >/dev/null || return 1
	proc_wait_exit "$BG_PID" 20 || return 1
	[ -s "$E2E_TMP/cap.pcap" ]
}

# check_capture N DUP GAP_MS PREFIX PEER_MAC DEV_MAC: the capture's invariants (scapy); every
# tuple DUP times: in a row (GAP_MS 0), GAP_MS apart, or anywhere (GAP_MS -1)
check_capture() {
	"$PY" - "$E2E_TMP/cap.pcap" "$@" <<'PY_END'
import ipaddress, sys
from scapy.all import rdpcap, Ether, IP, IPv6, TCP, UDP
path, n, dup, gap_ms, prefix, mac, smac = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), ipaddress.ip_network(sys.argv[5]), sys.argv[6], sys.argv[7]
pk = rdpcap(path)
bad = []
if len(pk) != n:
    bad.append("captured %d frames, expected %d" % (len(pk), n))
tuples = []
for p in pk:
    l3 = p[IP] if IP in p else p[IPv6]
    l4 = p[TCP] if TCP in p else p[UDP]
    if ipaddress.ip_address(l3.src) not in prefix:
        bad.append("source %s outside %s" % (l3.src, prefix))
    if p[Ether].dst != mac:
        bad.append("destination MAC %s, not the peer's %s" % (p[Ether].dst, mac))
    if p[Ether].src != smac:
        bad.append("source MAC %s, not the device's %s" % (p[Ether].src, smac))
    # checksums: recompute from a copy with the fields cleared
    q = Ether(bytes(p))
    if IP in q:
        want = q[IP].chksum
        del q[IP].chksum
        if IP(bytes(q[IP]))[IP].chksum != want:
            bad.append("bad IPv4 checksum from %s" % l3.src)
    l4c = q[TCP] if TCP in q else q[UDP]
    want = l4c.chksum
    del l4c.chksum
    r = Ether(bytes(q))
    got = (r[TCP] if TCP in r else r[UDP]).chksum
    if got != want:
        bad.append("bad L4 checksum from %s: %#x, want %#x" % (l3.src, want, got))
    tuples.append(((l3.src, l4.sport, getattr(l4, "seq", 0)), float(p.time)))
# group: every tuple exactly `dup` times; dup without gap: in a row; with gap: >= gap_ms apart
seen = {}
for i, (t, ts) in enumerate(tuples):
    seen.setdefault(t, []).append((i, ts))
counts = {}
gaps = []
for t, occ in seen.items():
    counts[len(occ)] = counts.get(len(occ), 0) + 1
    if len(occ) != dup:
        bad.append("tuple %s seen %d times, expected %d" % (t, len(occ), dup))
        continue
    idx = [i for i, _ in occ]
    if gap_ms == 0 and idx != list(range(idx[0], idx[0] + dup)):
        bad.append("tuple %s repeats not in a row: at %s" % (t, idx))
    if gap_ms > 0:
        for (i0, t0), (i1, t1) in zip(occ, occ[1:]):
            # receive times: the first copy may reach the capture a little after it was
            # sent, so half the gap is the bound (back to back would be 0.5 ms at 2000 pps)
            if (t1 - t0) * 1000 < gap_ms / 2:
                bad.append("tuple %s repeated after %.1f ms < %d/2 ms" % (t, (t1 - t0) * 1000, gap_ms))
    gaps.extend((b[1] - a[1]) * 1000 for a, b in zip(occ, occ[1:]))
print("  %d frames, %d distinct tuples, times seen: %s%s" % (len(pk), len(seen), counts,
      ", repeat gaps %.1f..%.1f ms" % (min(gaps), max(gaps)) if gaps else ""))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
PY_END
}

e2e_section "(b) a capture: sources, MAC, checksums, distinct tuples"
assert_true "capture 400 IPv4 SYNs" capture 400 --src "$PFX4" --dst "$DST4"
assert_true "400 IPv4 SYNs: in $PFX4, to $G1_MAC, checksums ok, 400 distinct" \
	check_capture 400 1 0 "$PFX4" "$G1_MAC" "$G0_MAC"
assert_true "capture 300 IPv6 UDP" capture 300 --src "$PFX6" --dst "$DST6" --proto udp --dport 53
assert_true "300 IPv6 UDP: in $PFX6, checksums ok, 300 distinct" \
	check_capture 300 1 0 "$PFX6" "$G1_MAC" "$G0_MAC"

e2e_section "(c) --dup: every tuple repeated"
assert_true "capture 400 SYNs, --dup 2" capture 400 --src "$PFX4" --dst "$DST4" --dup 2
assert_true "--dup 2: 200 tuples, each twice in a row" check_capture 400 2 0 "$PFX4" "$G1_MAC" "$G0_MAC"
assert_true "capture 300 SYNs, --dup 3 --dup-gap-ms 40" \
	capture 300 --src "$PFX4" --dst "$DST4" --dup 3 --dup-gap-ms 40
assert_true "--dup 3 --dup-gap-ms 40: 100 tuples, each 3 times, ~40 ms apart" \
	check_capture 300 3 40 "$PFX4" "$G1_MAC" "$G0_MAC"
assert_true "capture 300 SYNs, --flows 100" capture 300 --src "$PFX4" --dst "$DST4" --flows 100
assert_true "--flows 100: 100 tuples, each 3 times" check_capture 300 3 -1 "$PFX4" "$G1_MAC" "$G0_MAC"
assert_true "capture 200 IPv6 ACKs, --dup 2 --dup-gap-ms 30" \
	capture 200 --src "$PFX6" --dst "$DST6" --proto ack --dup 2 --dup-gap-ms 30
assert_true "IPv6 --dup 2 --dup-gap-ms 30: 100 tuples, each twice, ~30 ms apart" \
	check_capture 200 2 30 "$PFX6" "$G1_MAC" "$G0_MAC"

# ---------------------------------------------------------------------------------------------
e2e_section "(d) bounded in time"
start=$(date +%s%N)
out=$(gen --src "$PFX4" --dst "$DST4" --duration 1 --json)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
assert_eq "--duration 1: exit status" 0 "$rc"
assert_eq "--duration 1: stopped by" duration "$(json_get <(echo "$out") stopped_by)"
# generous: the point is that it stops, not how fast this machine is
assert_true "--duration 1 returned within 10 s (took $ms ms)" [ "$ms" -lt 10000 ]
gen --src "$PFX4" --dst "$DST4" --duration 0.2 --count 100000000000 >/dev/null 2>"$E2E_TMP/err"
assert_eq "--count not reachable in --duration 0.2: exit status" 3 "$?"
assert_match "... and says so" "--count 100000000000 not reached" "$(cat "$E2E_TMP/err")"
out=$(gen --src "$PFX4" --dst "$DST4" --rate 20000 --count 20000 --json)
secs=$(json_get <(echo "$out") seconds)
assert_true "--rate 20000 --count 20000 takes at least 0.9 s (took $secs s)" \
	"$PY" -c "import sys; sys.exit(0 if $secs >= 0.9 else 1)"
assert_false "no XDP program left on $GNS/lo" link_has_xdp "$GNS" lo

# ---------------------------------------------------------------------------------------------
e2e_section "(e) strict options"
# bad ARGS... EXPECTED-TEXT: exit 2 and a message naming the option
bad() {
	local want=${*: -1} msg rc

	msg=$(gen "${@:1:$#-1}" 2>&1 >/dev/null)
	rc=$?
	assert_eq "xl4-gen ${*:1:$#-1}: exit status" 2 "$rc" &&
		assert_match "... names the problem ($want)" "$want" "$msg"
}
bad --src "$PFX4" --dst "$DST4" --rate 12x "--rate: '12x'"
bad --src "$PFX4" --dst "$DST4" --duration 301 "--duration: '301'"
bad --src "$PFX4" --dst "$DST4" --duration 0 "--duration: '0'"
bad --src 198.18.128.1/17 --dst "$DST4" "--src: '198.18.128.1/17' has host bits"
bad --src 198.18.128.0/33 --dst "$DST4" "--src: 33 is out of range"
bad --src "$PFX4" --dst "$DST6" "--dst: IPv6 address with an IPv4 --src"
bad --src "$PFX4" --dst "$DST4" --proto fin "--proto: 'fin'"
bad --src "$PFX4" --dst "$DST4" --dport 0 "--dport: 0 is out of range"
bad --src "$PFX4" --dst "$DST4" --dup-gap-ms 10 "--dup-gap-ms: needs --dup 2"
bad --src "$PFX4" --dst "$DST4" --size 100 "--size: only for --proto udp"
bad --src "$PFX4" --dst "$DST4" --dst-mac 02:00:00:00:00 "--dst-mac: '02:00:00:00:00'"
bad --src "$PFX4" --dst "$DST4" --frobnicate "--frobnicate: unknown option"
bad --src "$PFX4" --dst "$DST4" extra "'extra': unexpected argument"
bad --dst "$DST4" "--src"
msg=$(nsenter --net="/run/netns/$GNS" "$GEN" --dev nosuch0 --src "$PFX4" --dst "$DST4" 2>&1)
assert_eq "--dev nosuch0: exit status" 1 "$?"
assert_match "... names it" "--dev: no interface 'nosuch0'" "$msg"

e2e_summary gen
