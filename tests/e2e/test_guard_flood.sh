#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The flood guard end to end: a spoofed SYN flood at the highest rate xl4-gen reaches here,
# against a VIP with real backends, while real clients keep connecting.
#
# Topology: tests/e2e/lb_topo.sh (client, balancer, backends b1 b2 on a bridge, l2 mode) plus
# an attacker namespace on the same bridge running build/xl4-gen (live frames, XDP_TX: random
# spoofed sources, SYNs to port 80 of web6 from 2001:db8:ff::/64 or of web4 from
# 198.18.128.0/17). What the balancer sends the attacker (its SYN-ACK challenges) ends at the
# switch's port towards it (tests/e2e/bpf/switch_port.bpf.c), not in the software bridge on
# the CPUs the balancer shares; (c) checks every counted challenge got there. The guard runs with
# response "auto" and a low SYN-rate floor (the ratio, not the rate, must tell attack from
# crowd). In one daemon's life:
#
#   (a) flash crowd: real clients open connections as fast as they can (far above 10x the
#       baseline rate, all handshakes complete): the VIP never enters emergency mode
#   (b) First Drop, IPv6 (spoofed sources from a /64: none repeats, so First Drop holds):
#       100 long-lived connections (both families) keep sending; the flood starts;
#       the kernel enters emergency mode within 2 s (xl4_gvip_v1, read with bpftool); 500 new
#       real connections during the flood: >= 99% succeed; every long-lived one survives;
#       the connection table grows by no more than the real connections plus a budget of
#       UNVERIFIED_BUDGET entries (with the guard on, a SYN never inserts); after the flood
#       the VIP is back to normal within 10 s
#   (c) the same over IPv4 with the SYN-ACK challenge, forced by the operator (`xl4 guard set
#       web4 on --level challenge`): the real clients' stacks answer the cookie with a RST
#   (d) IPv4, a flood that resends every SYN 1 s later, as a real stack would (First Drop
#       beaten): the kernel escalates to the challenge by itself, and sources First Drop let
#       through must now answer a cookie too; >= 99% of real connections succeed
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped.
set -u -o pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/lb_topo.sh
. "$E2E_LIB_DIR/lb_topo.sh"

require_root
require_cmd ip nsenter setsid ethtool nft ss timeout bpftool
require_xl4
e2e_tmpdir
T0=$SECONDS

GEN="$O/xl4-gen"
[ -x "$GEN" ] || die "missing $GEN (run make)"
CLIENT="$E2E_LIB_DIR/lb_client.py"
ATK=$LB_P-atk
FLOOD_SRC4=198.18.128.0/17
FLOOD_SRC6=2001:db8:ff::/64
N_NEW=${GUARD_E2E_NEW:-500}
N_HOLD=100
UNVERIFIED_BUDGET=64
SUCCESS_PCT=99

xl4c() { timeout 10 "$XL4" "$@" -s "$DAEMON_SOCK"; }
jget() {
	"$PY" -c 'import json, sys; r = json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# kernel_mode: "normal", "first-drop" or "challenge" for web4, straight from xl4_gvip_v1 and
# xl4_gctl_v1 (the datapath's own state, read by bpftool; no daemon in between).
kernel_mode() {
	"$PY" - "$DAEMON_PIN" <<'EOF'
import json, subprocess, sys, time
pin = sys.argv[1]
def dump(name):
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{pin}/{name}"],
                         capture_output=True, text=True, timeout=10).stdout
    return [e.get("formatted", e) for e in json.loads(out or "[]")]
now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
ctl = {e["key"]: e["value"] for e in dump("xl4_gctl_v1")}
mode = "normal"
for e in dump("xl4_gvip_v1"):
    v = e["value"]
    c = ctl.get(e["key"], {"override": 0, "level": 0})
    # entered_ns is the mode in one word: the level in its low 2 bits (XL4_GUARD_MODE)
    if c["override"] == 1:
        lvl = c["level"] or (v["entered_ns"] & 3) or 1
    elif c["override"] == 0 and v["entered_ns"] and now - v["last_bad_ns"] <= 4 * 10**9:
        lvl = v["entered_ns"] & 3
    else:
        continue
    mode = {1: "first-drop", 2: "challenge"}.get(lvl, "normal")
print(mode)
EOF
}

# unverify_all: forget every verified source, First Drop's and the cookies' (each scenario
# starts with an unverified client)
unverify_all() {
	"$PY" - "$DAEMON_PIN/xl4_gver_v1" "$DAEMON_PIN/xl4_gverc_v1" <<'EOF2'
import json, subprocess, sys
for m in sys.argv[1:]:
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", m], capture_output=True, text=True, timeout=10).stdout
    for e in json.loads(out or "[]"):
        key = e["key"] if isinstance(e["key"], list) else None
        if key is None:
            sys.exit("no raw key in bpftool output")
        subprocess.run(["bpftool", "map", "delete", "pinned", m, "key", "hex"] + [k[2:] if k.startswith("0x") else k for k in key], check=True, timeout=10)
EOF2
}

# flows in the connection table: both families' maps (xl4_ct4_v1: IPv4, xl4_ct_v1: IPv6)
ct_entries() {
	"$PY" - "$DAEMON_PIN" <<'EOF'
import json, subprocess, sys
dump = lambda m: subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{sys.argv[1]}/{m}"],
                                check=True, capture_output=True, timeout=30).stdout
print(sum(len(json.loads(dump(m))) for m in ("xl4_ct4_v1", "xl4_ct_v1")))
EOF
}

# wait_mode WANT SECS: poll the kernel's mode every 100 ms; prints the seconds it took
wait_mode() {
	local want=$1 secs=$2 t0 m

	t0=$(date +%s.%N)
	while :; do
		m=$(kernel_mode)
		if [ "$m" = "$want" ] || { [ "$want" = emergency ] && [ "$m" != normal ]; }; then
			"$PY" -c "import sys; print(f'{$(date +%s.%N) - $t0:.2f}')"
			return 0
		fi
		if "$PY" -c "import sys; sys.exit(0 if $(date +%s.%N) - $t0 > $secs else 1)"; then
			echo "timeout (mode $m)"
			return 1
		fi
		sleep 0.1
	done
}

# challenges_sent: SYN-ACK challenges the balancer counted, both VIPs
challenges_sent() {
	xl4c vip list --json | "$PY" -c 'import json, sys; print(sum(v.get("guard", {}).get("challenge", {}).get("sent", 0) for v in json.load(sys.stdin)))'
}

# flood_start ARGS...: xl4-gen in the attacker namespace against $FAM's web VIP, bounded (60 s
# at most), killed by flood_stop; the SYNs go to the balancer's MAC through the bridge.
flood_start() {
	local src=$FLOOD_SRC4 dst=$LB_VIP4

	[ "$FAM" = 6 ] && src=$FLOOD_SRC6 dst=$LB_VIP6
	RING_DROPS0=$(lb_ring_drops) TO_ATK0=$(lb_to_attacker) XDP_SEEN0=$(lb_xdp_seen) SENT0=$(challenges_sent)
	# the hold client names each break's phase: before, during or after the flood
	echo "flood $(date +%s.%N)" >>"$E2E_TMP/hold.events"
	bg_start "$ATK" "$E2E_TMP/flood.out" timeout 70 "$GEN" --dev eth0 --dst-mac "$LB_MAC" \
		--src "$src" --dst "$dst" --dport "$LB_VPORT" --duration 60 --cpu 0 --json "$@"
	FLOOD_PID=$BG_PID
}
flood_stop() {
	kill -INT "$FLOOD_PID" 2>/dev/null
	kill -TERM "$FLOOD_PID" 2>/dev/null
	proc_wait_exit "$FLOOD_PID" 10 || die "xl4-gen did not stop"
	echo "after-flood $(date +%s.%N)" >>"$E2E_TMP/hold.events"
	e2e_log "  flood: $(tail -1 "$E2E_TMP/flood.out")"
	TO_ATK=$(($(lb_to_attacker) - TO_ATK0)) XDP_SEEN=$(($(lb_xdp_seen) - XDP_SEEN0)) SENT=$(($(challenges_sent) - SENT0))
	e2e_log "  the balancer's receive ring dropped $(($(lb_ring_drops) - RING_DROPS0)) frames during the flood; its XDP program saw $XDP_SEEN and sent the attacker $TO_ATK (they end at the switch port)"
}

# Spoofed SYNs that reach a backend: an nft counter in each backend's namespace (prerouting,
# before anything could drop them) for SYNs from the flood's prefixes.
be_syn_setup() {
	local i

	for i in 1 2; do
		ip netns exec "$(lb_be_ns "$i")" nft -f - <<NFT || die "backend $i: nft counters"
table inet xl4spoof {
	chain pre {
		type filter hook prerouting priority -300;
		ip saddr $FLOOD_SRC4 tcp flags & (syn | ack) == syn counter
		ip6 saddr $FLOOD_SRC6 tcp flags & (syn | ack) == syn counter
	}
}
NFT
	done
}
be_syns() {
	local i n=0 c

	for i in 1 2; do
		c=$(ip netns exec "$(lb_be_ns "$i")" nft -j list table inet xl4spoof |
			"$PY" -c 'import json,sys; print(sum(e["counter"]["packets"] for x in json.load(sys.stdin)["nftables"] if "rule" in x for e in x["rule"]["expr"] if "counter" in e))')
		n=$((n + c))
	done
	echo "$n"
}

# ct_watch: sample the connection table's size every 0.5 s into ct.samples until stop file
ct_watch_start() {
	rm -f "$E2E_TMP/ct.stop" "$E2E_TMP/ct.samples"
	(
		for ((i = 0; i < 240; i++)); do
			[ -e "$E2E_TMP/ct.stop" ] && break
			ct_entries >>"$E2E_TMP/ct.samples" 2>/dev/null
			sleep 0.5
		done
	) &
	CT_PID=$!
}
ct_watch_stop() {
	touch "$E2E_TMP/ct.stop"
	wait "$CT_PID" 2>/dev/null
	sort -n "$E2E_TMP/ct.samples" | tail -1
}

# the longest echo wait is reported, not asserted (a time: bench/flood_gap measures it by rate
# against a floor): over 100 ms means a lost segment and its TCP retransmission (200+ ms);
# docs/performance.md tracks it against its 100 ms goal
hold_stop() {
	lb_hold_stop "$1"
	e2e_log "  $1: longest echo wait of a long-lived connection: $(jget "$E2E_TMP/hold.json" 'r["max_wait_ms"]') ms (goal: under 100 ms)"
}

# new_conns NAME COUNT PARALLEL: COUNT new connections (HTTP request each) to web4; the success
# percentage is checked by the caller. Timeout 8 s per operation: First Drop costs a real
# client one SYN retransmission (1 s); a second one comes 3 s later.
new_conns() {
	local vip=$LB_VIP4

	[ "${FAM:-4}" = 6 ] && vip=$LB_VIP6
	in_ns "$LB_CLI" env LB_CLIENT_TIMEOUT=8 timeout 300 "$PY" "$CLIENT" http "$vip" "$LB_VPORT" \
		"$2" "$3" >"$E2E_TMP/$1.json" 2>"$E2E_TMP/$1.log"
	sed 's/^/        /' "$E2E_TMP/$1.log"
}
success_pct() { jget "$E2E_TMP/$1.json" 'int(100 * r["ok"] // max(1, r["ok"] + r["fail"]))'; }

# one_flood NAME [xl4-gen args]: the whole (b)/(c)/(d) scenario; $WANT_LEVEL is the level the
# kernel must reach ("first-drop" or "challenge"); $FORCED=1: the operator forced it (no
# engage-time check).
one_flood() {
	local name=$1 t_eng ct0 ctmax ok_new back

	shift
	e2e_section "$name"
	unverify_all || _fail "$name: cannot clear the verified sources"
	lb_hold_start "$name" 140
	ct0=$(ct_entries)
	ct_watch_start
	BE_SYNS0=$(be_syns)
	flood_start "$@"
	if [ "${FORCED:-0}" = 0 ]; then
		t_eng=$(wait_mode emergency 5)
		assert_true "$name: emergency mode within 2 s of the flood's start (took ${t_eng}s)" \
			"$PY" -c "import sys; sys.exit(0 if '$t_eng'[0].isdigit() and float('$t_eng') <= 2.0 else 1)"
	fi
	sleep 1
	new_conns "$name-new" "$N_NEW" 64
	back=$(wait_mode "$WANT_LEVEL" 5)
	assert_true "$name: the kernel is at level $WANT_LEVEL during the flood ($back)" \
		"$PY" -c "import sys; sys.exit(0 if '$back'[0].isdigit() else 1)"
	assert_true "$name: emergency visible in xl4 vip list" \
		grep -q '"emergency"' <(xl4c vip list --json)
	flood_stop
	ctmax=$(ct_watch_stop)
	if [ "$WANT_LEVEL" = challenge ] && [ "${FORCED:-0}" = 1 ]; then
		# every answer the balancer counted left it: XDP_TX at the flood's rate (a real
		# client's challenge, if its source is not verified yet, goes to the client instead)
		assert_true "$name: the challenges it counted reached the switch ($TO_ATK of $SENT sent)" \
			"$PY" -c "import sys; sys.exit(0 if $SENT > 0 and $TO_ATK * 100 >= 99 * $SENT else 1)"
	fi
	spoofed=$(($(be_syns) - BE_SYNS0))
	frames=$(tail -1 "$E2E_TMP/flood.out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["frames"])')
	pps=$(tail -1 "$E2E_TMP/flood.out" | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["pps"]))')
	e2e_log "  $name: spoofed SYNs that reached a backend: $spoofed of $frames ($("$PY" -c "print(f'{100 * $spoofed / max($frames, 1):.2f}% of the flood, {$spoofed / max($pps, 1):.2f} s of it')"))"
	# Before emergency mode nothing is dropped (detection takes enter_ms plus a window), and
	# repeats First Drop admits pass until the escalation: a bound in seconds of the flood,
	# not a share of a flood whose length the test does not fix.
	assert_true "$name: spoofed SYNs at the backends at most $SPOOF_S_MAX s of the flood ($spoofed at $pps/s)" \
		"$PY" -c "import sys; sys.exit(0 if $spoofed <= $SPOOF_S_MAX * $pps else 1)"
	ok_new=$(jget "$E2E_TMP/$name-new.json" 'r["ok"]')
	assert_ge "$name: real new connections during the flood succeeded (percent, of $N_NEW)" \
		"$SUCCESS_PCT" "$(success_pct "$name-new")"
	assert_true "$name: connection table grew by at most the real connections ($ok_new) + $UNVERIFIED_BUDGET (before $ct0, peak $ctmax)" \
		test "$((ctmax - ct0))" -le "$((ok_new + UNVERIFIED_BUDGET))"
	hold_stop "$name"
	if [ "${FORCED:-0}" = 1 ]; then
		xl4c guard set web4 auto >/dev/null || _fail "$name: xl4 guard set web4 auto"
	fi
	back=$(wait_mode normal 10)
	assert_true "$name: back to normal within 10 s of the flood's end (took ${back}s)" \
		"$PY" -c "import sys; sys.exit(0 if '$back'[0].isdigit() else 1)"
}

# ---- set-up ----
e2e_section "set-up"
lb_topo_create 2
ns_create "$ATK"
_lb_port_ns "$ATK" p-atk
# xl4-gen's frames leave eth0 with XDP_TX: its peer must run XDP to take them (DESIGN §7)
ip -n "$LB_SW" link set p-atk xdp obj "$O/bpf/pass.bpf.o" sec xdp ||
	die "cannot attach pass.bpf.o to p-atk"
# What the balancer answers the spoofed sources (SYN-ACK challenges, at the flood's rate) ends
# at the switch's port p-lb, as it would leave a hardware switch towards sources that are not
# the attacker: through this software bridge each costs an skb and a forward on the CPUs the
# balancer shares, and that, not the balancer, overflowed its ring (bench/flood_gap
# FG_SW_DROP=0 keeps that harness; docs/performance.md "The e2e flood's switch").
lb_attacker_port "$ATK"
for i in 1 2; do lb_backend_start l2 "$i"; done
be_syn_setup
LB_MAC=$(link_mac "$LB_LB" eth0)
lb_write_conf l2 "$E2E_TMP/xl4.conf" 1 1
cat >>"$E2E_TMP/xl4.conf" <<'EOF'
guard: {
  enabled = true;
  response = "auto";
  syn_rate = 20;
  # the defaults' proportion (20000 for a syn_rate of 1000) at this test's scale: a flood
  # is First-Dropped past 400 SYN/s a CPU before any window is judged (docs/guard.md "Surges")
  surge_rate = 400;
  ratio = 3.0;
  enter_ms = 300;
  leave_ms = 4000;
  # the real clients here are Linux stacks (1 s): the greylist need hold no longer (with the
  # default slots, First Drop then holds up to 215k SYN/s)
  first_drop = { hold_ms = 1000; };
  # 8x the default (64 MiB): holds 1.7M SYN/s for 1 s, above xl4-gen's one core on the
  # runners seen (1.1-1.3M on the Xeon VM, where 4x the default, 860k, was beaten: auto then
  # rightly escalated to the challenge and (b) saw no First Drop). 16x held too, but its
  # 128 MiB of buckets cost First Drop more cache misses: (d) once saw a 210 ms echo gap.
  greylist_slots = 8388608;
};
EOF
daemon_start "$LB_LB" -c "$E2E_TMP/xl4.conf"
lb_wait_active 2 || die "backends never became active"
e2e_log "  connection table: $(bpftool map show pinned "$DAEMON_PIN/xl4_ct4_v1" | tr -s ' \n' ' ')"
e2e_log "                    $(bpftool map show pinned "$DAEMON_PIN/xl4_ct_v1" | tr -s ' \n' ' ')"
assert_eq "kernel mode at start" normal "$(kernel_mode)"

# ---- (a) flash crowd ----
e2e_section "(a) flash crowd: real clients, complete handshakes, as fast as they can"
new_conns crowd 3000 48 &
CROWD=$!
worst=normal
while kill -0 "$CROWD" 2>/dev/null; do
	m=$(kernel_mode)
	[ "$m" != normal ] && worst=$m
	sleep 0.2
done
wait "$CROWD"
crowd_rate=$(jget "$E2E_TMP/crowd.json" 'int(r["ok"] / max(r["secs"], 0.1))')
e2e_log "  flash crowd: $(jget "$E2E_TMP/crowd.json" 'r["ok"]') connections at $crowd_rate/s (the guard's SYN floor, our 'normal' rate: 20/s)"
assert_ge "flash crowd: connections per second (10x the normal 20/s)" 200 "$crowd_rate"
assert_eq "flash crowd: never in emergency mode" normal "$worst"
assert_ge "flash crowd: connections succeeded (percent)" 100 "$(success_pct crowd)"

# ---- (b) First Drop ----
SPOOF_S_MAX=1.5 FAM=6 WANT_LEVEL=first-drop FORCED=0 one_flood "(b) First Drop, IPv6"
e2e_log "  $(xl4c guard show web6 2>&1 | tr -s ' \n' ' ' | head -c 700)"

# ---- (c) the SYN-ACK challenge, forced ----
xl4c guard set web4 on --level challenge >/dev/null || _fail "xl4 guard set web4 on --level challenge"
SPOOF_S_MAX=0.01 FAM=4 WANT_LEVEL=challenge FORCED=1 one_flood "(c) SYN-ACK challenge (forced), IPv4"

# ---- (d) every SYN twice, 1 s apart: First Drop beaten, the kernel escalates ----
# the repeats First Drop admits reach the backends until the escalation, which needs a
# window (1.07 s) to show them
SPOOF_S_MAX=2.5 FAM=4 WANT_LEVEL=challenge FORCED=0 one_flood "(d) SYNs repeated 1 s later, IPv4" --dup 2 --dup-gap-ms 1000
e2e_log "  $(xl4c guard show web4 2>&1 | tr -s ' \n' ' ' | head -c 700)"

e2e_log "  time: $((SECONDS - T0))s"
e2e_summary "guard flood"
