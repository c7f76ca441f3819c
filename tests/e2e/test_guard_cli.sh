#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The flood guard's control path end to end (docs/guard.md): client ns <-> server ns over a
# veth pair, `xl4 daemon` on the server end with a TCP VIP and a UDP VIP:
#   (a) bad guard sections: one line naming file:line: guard.key, the daemon does not start
#   (b) guard show: every TCP VIP normal, override auto; the deployment-wide settings
#   (c) guard set on / --level challenge / by address / off / auto round trip, as show,
#       xl4 status --json, xl4 vip list (text and JSON), the metrics and the events see it
#   (d) forced challenge on a real SYN: the client's kernel answers our SYN-ACK with a RST
#       carrying the cookie, the source is verified (guard verified), unverify forgets it
#   (e) bad arguments and bad control requests: specific errors, nothing changed; the
#       analyzer (opted in: guard.analyzer.block_top) blocks, through the filter with an
#       expiry, only new SYNs to the VIP from a source that holds most of the sampled guard
#       drops: the same source's ACKs are not dropped by it
#   (f) guard.enabled = false: show says so, set is refused (the default is the unit tests')
# The flood itself (real attack traffic) is another test's job. Addresses only from
# 198.18.0.0/15.
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter timeout curl ethtool
require_xl4
require_scapy
e2e_tmpdir

CLI=xl4g-$$-c
SRV=xl4g-$$-s
C4=198.18.0.1 S4=198.18.0.2 VIP4=198.18.1.1
ns_create "$CLI"
ns_create "$SRV"
veth_pair "$CLI" c0 "$SRV" s0
addr4 "$CLI" c0 "$C4/24"
addr4 "$SRV" s0 "$S4/24"
ip -n "$CLI" route add "$VIP4/32" via "$S4" || die "cannot add the route to the VIP"
# Frames XDP_TX sends into a veth need the peer to take them: GRO on a plain peer does.
in_ns "$CLI" ethtool -K c0 gro on >/dev/null || die "cannot turn GRO on for $CLI/c0"
URL=http://127.0.0.1:9143/metrics

# write_conf FILE [GUARD SECTION]: the guard section starts on line 6.
write_conf() {
	cat >"$1" <<EOF
lb: { seed = 7; };
vips = (
  { name = "web"; address = "$VIP4:80/tcp"; backends = ( { address = "198.18.2.1"; mac = "02:00:00:00:00:21"; } ); },
  { name = "dns"; address = "$VIP4:53/udp"; backends = ( { address = "198.18.2.1"; mac = "02:00:00:00:00:21"; } ); }
);
${2:-}
EOF
}

x() { "$XL4" "$@" -s "$DAEMON_SOCK"; }

# gval VIP PATH: one field of `xl4 guard show VIP --json`'s first VIP (dotted path).
gval() {
	x guard show "$1" --json >"$E2E_TMP/g.json" || { echo "show-failed"; return; }
	"$PY" - "$E2E_TMP/g.json" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))["vips"][0]["guard"]
for k in sys.argv[2].split("."):
    v = v.get(k, "missing") if isinstance(v, dict) else "missing"
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
EOF
}

# metric NAME: its value in a fresh scrape (after the daemon's 1 s tick), "missing" if absent.
metric() {
	sleep 1.2
	in_ns "$SRV" curl -s --max-time 5 "$URL" >"$E2E_TMP/m.txt" || { echo "scrape-failed"; return; }
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$E2E_TMP/m.txt"
}

# ---------------------------------------------------------------------------------------------
e2e_section "(a) bad guard sections: file:line: guard.key, nothing started"
BAD_PIN=/sys/fs/bpf/xl4-e2e-$$-bad
cleanup_push "rm -rf '$BAD_PIN'"
bad_case() { # bad_case WANT-REGEX GUARD-SECTION (starting on line 6)
	write_conf "$E2E_TMP/bad.conf" "$2"
	expect_fail "bad guard config: $2" 1 "$E2E_TMP/bad.conf:$1" \
		nsenter --net="/run/netns/$SRV" timeout 20 "$XL4" daemon -i s0 -c "$E2E_TMP/bad.conf" \
		-s "$E2E_TMP/bad.sock" --pin-path "$BAD_PIN"
	assert_false "bad guard config: nothing attached to s0" link_has_xdp "$SRV" s0
}
bad_case "6: guard.response: 'syncookies' is not one of: first-drop, challenge, auto" \
	'guard: { response = "syncookies"; };'
bad_case "8: guard.leave_ms: 400 must be more than enter_ms \\(500\\)" \
	$'guard: {\n  enter_ms = 500;\n  leave_ms = 400;\n};'
bad_case "7: guard.first_drop.max_ms: first_drop.min_ms \\(900\\) must be less than" \
	$'guard: {\n  first_drop = { min_ms = 900; max_ms = 800; };\n};'
bad_case "6: guard.greylist_slots: 1000000 is not a power of two" 'guard: { greylist_slots = 1000000; };'
bad_case "6: guard.ratio: 0.5 is out of range 1..10000" 'guard: { ratio = 0.5; };'
bad_case "7: guard.analyzer.min_share: 2 is out of range" $'guard: {\n  analyzer = { min_share = 2.0; };\n};'
bad_case "6: guard.synrate: unknown key" 'guard: { synrate = 5; };'
"$XL4" cleanup --pin-path "$BAD_PIN" >/dev/null 2>&1

# ---------------------------------------------------------------------------------------------
e2e_section "(b) the daemon, guard show"
CONF=$E2E_TMP/xl4.conf
write_conf "$CONF" 'guard: { enabled = true; response = "auto"; verified_ttl = 600;
  analyzer = { block_top = true; min_samples = 20; min_share = 0.5; block_seconds = 60; }; };
events: { samples_per_second = 1000; };'
daemon_start "$SRV" -i s0 -m skb -c "$CONF"
out=$(x guard show)
assert_match "show: the settings line" '^flood guard: on, response auto, attack above 1000 SYN/s per VIP and ratio 3\.00, surges from 20000 SYN/s' "$out"
assert_match "show: web is normal, override auto" 'web  198\.18\.1\.1:80/tcp'$'\n''    guard: normal  override auto' "$out"
assert_eq "show web --json: mode" normal "$(gval web mode)"
assert_eq "show web --json: level" null "$(gval web level)"
assert_eq "show web --json: override" auto "$(gval web override)"
assert_eq "show web --json: cause" null "$(gval web cause)"
assert_eq "show web --json: reason" "no attack seen" "$(gval web reason)"
assert_eq "show web --json: first_drop.dropped" 0 "$(gval web first_drop.dropped)"
x guard show --json >"$E2E_TMP/all.json"
assert_eq "show --json: both VIPs" 2 "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["vips"]))' "$E2E_TMP/all.json")"
assert_eq "show --json: guard.enabled" true "$(json_get "$E2E_TMP/all.json" guard.enabled)"
assert_eq "show --json: guard.response" auto "$(json_get "$E2E_TMP/all.json" guard.response)"
assert_eq "xl4_guard_emergency{vip=\"web\"} while normal" 0 "$(metric 'xl4_guard_emergency{vip="web"}')"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) guard set round trip"
assert_true "set web on" quietly x guard set web on
assert_eq "forced: mode" emergency "$(gval web mode)"
assert_eq "forced: level (response auto starts at First Drop)" first-drop "$(gval web level)"
assert_eq "forced: override" on "$(gval web override)"
assert_eq "forced: cause" forced "$(gval web cause)"
assert_match "forced: reason" 'forced on by the operator' "$(gval web reason)"
assert_eq "xl4_guard_emergency{vip=\"web\"}" 1 "$(metric 'xl4_guard_emergency{vip="web"}')"
assert_eq "xl4_guard_level{vip=\"web\"}" 1 "$(metric 'xl4_guard_level{vip="web"}')"
assert_eq "xl4_guard_emergency{vip=\"dns\"} untouched" 0 "$(metric 'xl4_guard_emergency{vip="dns"}')"
x status --json >"$E2E_TMP/status.json" || die "status failed"
assert_eq "status --json: vips[0].guard.mode" emergency "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["vips"][0]["guard"]["mode"])' "$E2E_TMP/status.json")"
assert_eq "status --json: guard.enabled" true "$(json_get "$E2E_TMP/status.json" guard.enabled)"
out=$(x status)
assert_match "status text: web's guard line" 'guard: emergency \(first-drop\)  override on' "$out"
assert_match "status text: the guard's line" '(^|'$'\n'')flood guard on, response auto, 0 verified sources, 0 analyzer blocks' "$out"
assert_true "set web on --level challenge (by address)" quietly x guard set "$VIP4:80/tcp" on --level challenge
assert_eq "challenge: level" challenge "$(gval web level)"
x vip list --json >"$E2E_TMP/vips.json" || die "vip list failed"
assert_eq "vip list --json: web's guard level" challenge "$("$PY" -c 'import json,sys; print([v for v in json.load(open(sys.argv[1])) if v["name"]=="web"][0]["guard"]["level"])' "$E2E_TMP/vips.json")"
assert_match "vip list text: web's guard line" 'guard: emergency \(challenge\)  override on' "$(x vip list)"
assert_eq "xl4_guard_level{vip=\"web\"} at challenge" 2 "$(metric 'xl4_guard_level{vip="web"}')"
assert_ge "xl4_guard_mode_changes_total{vip=\"web\"}" 2 "$(metric 'xl4_guard_mode_changes_total{vip="web"}')"
ev=$(x events)
assert_match "events: entered emergency" 'guard +guard: VIP 198\.18\.1\.1:80/tcp \(web\) entered emergency \(first-drop\): forced on by the operator' "$ev"
assert_match "events: now challenge" 'web\) now challenge' "$ev"
assert_match "log: entered emergency" 'level=warn .*msg="guard: VIP 198\.18\.1\.1:80/tcp \(web\) entered emergency' "$(cat "$DAEMON_LOG")"

# ---------------------------------------------------------------------------------------------
e2e_section "(d) a real SYN meets the challenge; the client's RST verifies it"
drops_before=$(x stats --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["drops"]["guard_challenge_answered"]["packets"])')
in_ns "$CLI" timeout 20 "$PY" - "$VIP4" <<'EOF' >"$E2E_TMP/synack.txt" 2>&1 || { cat "$E2E_TMP/synack.txt"; die "scapy SYN failed"; }
import sys
from scapy.all import IP, TCP, conf, send, sniff
conf.verb = 0
vip = sys.argv[1]
syn = IP(dst=vip) / TCP(sport=40123, dport=80, flags="S", seq=1000, options=[("MSS", 1460)])
# Not sr1(): scapy only takes a SYN-ACK acknowledging ISN+1 as the answer, and ours does not.
got = sniff(iface="c0", filter="tcp and src host %s and src port 80" % vip, count=1, timeout=3,
            started_callback=lambda: send(syn))
if not got or TCP not in got[0]:
    print("no answer")
    sys.exit(1)
r = got[0]
t = r[TCP]
print("flags=%s window=%d options=%d ack_is_isn_plus_1=%s" % (t.flags, t.window, len(t.options), t.ack == 1001))
EOF
out=$(cat "$E2E_TMP/synack.txt")
assert_match "our SYN-ACK: no options, window 1024, ack not ISN+1 ($out)" \
	'^flags=SA window=1024 options=0 ack_is_isn_plus_1=False$' "$out"
for ((i = 0; i < 30; i++)); do
	x guard verified --json >"$E2E_TMP/ver.json" && grep -q "\"$C4\"" "$E2E_TMP/ver.json" && break
	sleep 0.1
done
assert_match "guard verified --json lists $C4" "\"address\": ?\"$C4\"" "$(cat "$E2E_TMP/ver.json")"
# a cookie proof is for the port the client answered from, and lives a minute at most
assert_match "guard verified: $C4's cookie proof, a port's, with about 60 s left" \
	"^1 verified sources and cookie proofs"$'\n'"  $C4 +cookie +port [0-9]+ +(5[0-9]|60)s left" "$(x guard verified)"
drops_after=$(x stats --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["drops"]["guard_challenge_answered"]["packets"])')
assert_ge "drops guard_challenge_answered grew" $((drops_before + 1)) "$drops_after"
assert_ge "challenge.sent" 1 "$(gval web challenge.sent)"
assert_ge "challenge.passed" 1 "$(gval web challenge.passed)"
assert_ge "xl4_guard_challenge_total{result=\"passed\",vip=\"web\"}" 1 \
	"$(metric 'xl4_guard_challenge_total{vip="web",result="passed"}')"
# The verified-source bits follow the tables (the daemon's 5 s walk, src/guard_vbits.h): the
# source's bit is set, and it goes once the source is forgotten (left set, an attacker who gets
# sources verified could fill them until every flood SYN paid the tables' lookups again).
vbits() { x status --json >"$E2E_TMP/vb.json" && json_get "$E2E_TMP/vb.json" guard.verified_bits; }
wait_vbits() { # wait_vbits OP N: up to 8 s for verified_bits OP N (python comparison)
	local t
	for ((t = 0; t < 40; t++)); do
		"$PY" -c 'import sys; sys.exit(0 if eval(sys.argv[1] + sys.argv[2] + sys.argv[3]) else 1)' \
			"$(vbits)" "$1" "$2" && return 0
		sleep 0.2
	done
	return 1
}
wait_vbits ">=" 1
assert_ge "status: guard.verified_bits counts $C4's bit" 1 "$(vbits)"
# A daemon that adopts the running program (a restart of the same build) must find the bits,
# which are not pinned, among the program's maps and go on refreshing them.
{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
DAEMON_PID=
daemon_start "$SRV" -i s0 -m skb -c "$CONF"
assert_match "restarted daemon adopted the running program" 'adopted the running program' "$(cat "$DAEMON_LOG")"
assert_false "restarted daemon: no warning about the bits" grep -q 'verified-source bits\|xl4_gvbit_v1' "$DAEMON_LOG"
wait_vbits ">=" 1
assert_ge "adopted: guard.verified_bits still counts $C4's bit" 1 "$(vbits)"
assert_true "guard unverify $C4" quietly x guard unverify "$C4"
assert_match "verified list empty again" '^0 verified sources' "$(x guard verified)"
wait_vbits "==" 0
assert_eq "status: guard.verified_bits cleared within a walk of the unverify" 0 "$(vbits)"
expect_fail "unverify again" 1 "xl4: $C4 is not a verified source" x guard unverify "$C4"

e2e_section "(c') off and auto"
assert_true "set web off" quietly x guard set web off
assert_eq "off: mode" normal "$(gval web mode)"
assert_eq "off: override" off "$(gval web override)"
assert_match "off: reason" 'forced off by the operator' "$(gval web reason)"
assert_true "set web auto" quietly x guard set web auto
assert_eq "auto: override" auto "$(gval web override)"
assert_eq "auto: mode" normal "$(gval web mode)"
assert_match "auto: reason" "given back to the kernel's judgement" "$(gval web reason)"
assert_eq "xl4_guard_emergency{vip=\"web\"} back to 0" 0 "$(metric 'xl4_guard_emergency{vip="web"}')"
assert_match "events: left emergency" 'web\) left emergency after' "$(x events)"

# ---------------------------------------------------------------------------------------------
e2e_section "(e) bad arguments and requests"
before=$(x guard show --json)
expect_fail "set: unknown mode" 2 "xl4 guard: mode 'maybe' is not one of: on, off, auto" x guard set web maybe
expect_fail "set: --level with off" 2 "xl4 guard: --level goes only with mode 'on'" x guard set web off --level challenge
expect_fail "set: bad --level" 2 "xl4 guard: --level 'hard' is not one of: first-drop, challenge" x guard set web on --level hard
expect_fail "set: missing mode" 2 "usage: xl4 guard set VIP on\\|off\\|auto" x guard set web
expect_fail "unknown action" 2 "xl4 guard: unknown action 'frob'" x guard frob
expect_fail "no action" 2 "xl4 guard: missing action" x guard
expect_fail "show: two VIPs" 2 "usage: xl4 guard show \\[VIP\\]" x guard show web dns
expect_fail "--json with set" 2 "--json goes only with show and verified" x guard set web on --json
expect_fail "set: no such VIP name" 1 "xl4: no VIP named 'nope'" x guard set nope on
expect_fail "set: no VIP at that address" 1 "xl4: no VIP at 198.18.1.1:81/tcp" x guard set 198.18.1.1:81/tcp on
expect_fail "set: bad address" 1 "is neither a VIP name nor a VIP address" x guard set 198.18.1:80/tcp on
expect_fail "set: UDP VIP" 1 "xl4: VIP 'dns' is UDP: the flood guard protects TCP VIPs" x guard set dns on
expect_fail "show: no such VIP" 1 "xl4: no VIP named 'nope'" x guard show nope
expect_fail "unverify: not an address" 1 "xl4: '198.18.0' is not an IPv4 or IPv6 address" x guard unverify 198.18.0
expect_fail "unverify: two addresses" 2 "usage: xl4 guard unverify ADDR" x guard unverify 198.18.0.1 198.18.0.2
assert_match "raw: unknown field" 'unknown' "$(raw_request '{"cmd":"guard-set","vip":"web","mode":"on","force":1}')"
assert_match "raw: vip not a string" '"ok": ?false' "$(raw_request '{"cmd":"guard-set","vip":7,"mode":"on"}')"
assert_match "raw: missing mode" 'guard-set needs \\"vip\\" and \\"mode\\"' "$(raw_request '{"cmd":"guard-set","vip":"web"}')"
assert_match "raw: level with auto" 'a level goes only with mode \\"on\\"' "$(raw_request '{"cmd":"guard-set","vip":"web","mode":"auto","level":"challenge"}')"
assert_match "raw: guard-verified takes no fields" '"ok": ?false' "$(raw_request '{"cmd":"guard-verified","all":true}')"
assert_match "raw: guard-show vip not a string" '"ok": ?false' "$(raw_request '{"cmd":"guard-show","vip":[]}')"
after=$(x guard show --json)
strip() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); [v["guard"].pop(k) for v in d["vips"] for k in ("since_s","syn_per_s","ack_per_s","ratio")]; d["guard"]["cookie_key"].pop("next_rotation_s"); print(json.dumps(d, sort_keys=True))' "$1"; }
assert_eq "nothing changed by the bad input" "$(strip "$before")" "$(strip "$after")"
assert_true "daemon still answers" quietly x guard show

e2e_section "(e') the analyzer blocks the source that dominates the drops"
assert_true "set web on (First Drop)" quietly x guard set web on
sleep 1.5 # one tick: the analyzer learns the VIP is in emergency mode, and counts from then
S_MAC=$(link_mac "$SRV" s0)
in_ns "$CLI" timeout 20 "$PY" - "$S_MAC" "$VIP4" <<'EOF' || die "scapy flood failed"
import sys
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
# 40 SYNs from one spoofed source (dropped by First Drop, sampled), 10 from others
pk = [Ether(dst=sys.argv[1]) / IP(src="198.18.0.77", dst=sys.argv[2]) /
      TCP(sport=20000 + i, dport=80, flags="S") for i in range(40)]
pk += [Ether(dst=sys.argv[1]) / IP(src="198.18.%d.9" % (40 + i), dst=sys.argv[2]) /
       TCP(sport=30000 + i, dport=80, flags="S") for i in range(10)]
sendp(pk, iface="c0", inter=0.005)
EOF
# (a candidate waits first_drop.max_ms + 1 s for a proof that never comes)
for ((i = 0; i < 200; i++)); do
	x block list | grep -q '^198\.18\.0\.77/32' && break
	sleep 0.1
done
out=$(x block list)
assert_match "block list: 198.18.0.77/32 with an expiry of about 60 s, new SYNs to web only" \
	'198\.18\.0\.77/32 +expires in (5[0-9]|60) s  \(new SYNs to VIP id [0-9]+ only\)' "$out"
assert_false "block list: none of the others" grep -q '198\.18\.4[0-9]\.9' <<<"$out"
assert_eq "xl4_analyzer_blocks_total" 1 "$(metric 'xl4_analyzer_blocks_total')"
assert_match "events: the analyzer's block, with its share" \
	'analyzer blocked 198\.18\.0\.77/32 for 60 s, new SYNs to VIP 198\.18\.1\.1:80/tcp only \(under attack\): 198\.18\.0\.77/32 sent [0-9]+ of [0-9]+ sampled guard drops' "$(x events)"
# The block is scoped: the same source's ACKs (an established flow's) are not dropped by it.
stats_snapshot "$E2E_TMP/blk0.json" || die "stats"
in_ns "$CLI" timeout 20 "$PY" - "$S_MAC" "$VIP4" <<'EOF' || die "scapy send failed"
import sys
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
a = Ether(dst=sys.argv[1]) / IP(src="198.18.0.77", dst=sys.argv[2]) / TCP(sport=20001, dport=80, flags="A")
s = Ether(dst=sys.argv[1]) / IP(src="198.18.0.77", dst=sys.argv[2]) / TCP(sport=20002, dport=80, flags="S")
sendp([a] * 5 + [s] * 3, iface="c0", inter=0.01)
EOF
sleep 1.5 # the daemon's next counter snapshot
stats_snapshot "$E2E_TMP/blk1.json" || die "stats"
assert_eq "the scoped block dropped the 3 SYNs and none of the 5 ACKs" 3 \
	"$(($(json_get "$E2E_TMP/blk1.json" drops.filter_block.packets) - $(json_get "$E2E_TMP/blk0.json" drops.filter_block.packets)))"
assert_true "block del lifts it like any block" quietly x block del 198.18.0.77
# A real client opening 40 connections at once: 40 first SYNs dropped, the top source of the
# drops for a second; its kernel retransmits, First Drop verifies it, and the analyzer, which
# waits out the First Drop window before it blocks, lets it be.
in_ns "$CLI" timeout 20 "$PY" - "$VIP4" <<'EOF' || die "parallel connects failed to run"
import socket, sys, time
socks = []
for i in range(40):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((sys.argv[1], 80))
    socks.append(s)
time.sleep(2.5)  # the first retransmission (1 s) is admitted
for s in socks:
    s.close()
EOF
for ((i = 0; i < 120; i++)); do
	x events | grep -q "analyzer: not blocking $C4/32" && break
	sleep 0.1
done
assert_match "events: the analyzer spared a client that proved itself" \
	"analyzer: not blocking ${C4//./\\.}/32: a source in it proved itself" "$(x events)"
assert_false "block list: the real client is not blocked" grep -q "^${C4//./\\.}/32" <<<"$(x block list)"
assert_true "set web auto" quietly x guard set web auto

# ---------------------------------------------------------------------------------------------
e2e_section "(e'') reload: the guard's settings change live, its keys stay, its map sizes need a restart"
# gmap MAP FIELD: a field of one of the guard's one-entry maps, read with bpftool. The maps the
# datapath reads by address (bpf/maps.h) are data sections: a pin this build made shows its
# struct inside the section ({".data.gcfg": [{"xl4_gcfg": {...}}]}), one an earlier build made
# shows the struct itself; either is read.
gmap() {
	bpftool -j map lookup pinned "$DAEMON_PIN/$1" key 0 0 0 0 |
		"$PY" -c '
import json, sys
v = json.load(sys.stdin)
v = v.get("formatted", v)["value"]
if len(v) == 1 and next(iter(v)).startswith(".data."):
	(var,) = next(iter(v.values()))
	(v,) = var.values()
print(v[sys.argv[1]])' "$2"
}
gcfg() { gmap xl4_gcfg_v2 "$1"; }
key0=$(gcfg key)
ckey0=$(gmap xl4_gckey_v1 key)
assert_match "three cookie keys drawn, none zero" '^\[\[[1-9][0-9]*, [1-9][0-9]*\], \[[1-9][0-9]*, [1-9][0-9]*\], \[[1-9][0-9]*, [1-9][0-9]*\]\]$' "$ckey0"
assert_eq "cookie key period: 3600 s in 8.6 s slices" 419 "$(gmap xl4_gckey_v1 slices)"
assert_eq "kernel ratio before reload (x100)" 300 "$(gcfg ratio_x100)"
write_conf "$CONF" 'guard: { enabled = true; response = "challenge"; ratio = 4.5; syn_rate = 2000; verified_ttl = 600; surge_rate = 5000;
  analyzer = { block_top = true; min_samples = 30; min_share = 0.5; block_seconds = 60; }; };
events: { samples_per_second = 1000; };'
out=$(x reload 2>&1)
assert_eq "reload with new guard settings: exit 0 ($out)" 0 "$?"
assert_eq "kernel ratio after reload (x100)" 450 "$(gcfg ratio_x100)"
assert_eq "kernel response after reload (challenge)" 1 "$(gcfg response)"
assert_eq "the slot-hash keys survived the reload" "$key0" "$(gcfg key)"
assert_eq "the cookie keys survived the reload" "$ckey0" "$(gmap xl4_gckey_v1 key)"
assert_match "show: the new settings" '^flood guard: on, response challenge, attack above 2000 SYN/s per VIP and ratio 4\.50, surges from 5000 SYN/s' "$(x guard show)"
assert_eq "kernel surge window count after reload (ceil(5000 x 1.07 s))" 5369 "$(gcfg surge_min)"
write_conf "$CONF" 'guard: { enabled = true; response = "challenge"; ratio = 4.5; syn_rate = 2000; verified_ttl = 600;
  key_rotation = 120;
  analyzer = { min_samples = 30; min_share = 0.5; block_seconds = 60; }; };
events: { samples_per_second = 1000; };'
out=$(x reload 2>&1)
assert_eq "reload with a new key rotation period: exit 0 ($out)" 0 "$?"
assert_eq "cookie key period: 120 s in 8.6 s slices" 14 "$(gmap xl4_gckey_v1 slices)"
ckey1=$(gmap xl4_gckey_v1 key)
assert_true "a new period draws every cookie key anew ($ckey0 -> $ckey1)" "$PY" -c '
import json,sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.exit(0 if all(x != y for x, y in zip(a, b)) and all(k != [0, 0] for k in b) else 1)' "$ckey0" "$ckey1"
assert_match "status: the cookie key period" '"cookie_key": \{"next_rotation_s": [0-9]+, "period_s": 120, "rotating": true\}' "$(x status --json | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["guard"], sort_keys=True))')"
write_conf "$CONF" 'guard: { enabled = true; response = "challenge"; ratio = 4.5; syn_rate = 2000; verified_ttl = 600;
  greylist_slots = 2048;
  analyzer = { block_top = true; min_samples = 30; min_share = 0.5; block_seconds = 60; }; };
events: { samples_per_second = 1000; };'
expect_fail "reload with a new greylist size" 1 "needs restart with new pins: guard.greylist_slots" x reload
assert_eq "refused reload: kernel ratio unchanged (x100)" 450 "$(gcfg ratio_x100)"
# A restart with that size must not adopt the running program as if nothing had changed (its
# pinned greylist keeps the old size): it is refused, naming the setting, and the program the
# killed daemon left attached goes on as it was.
{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
DAEMON_PID=
out=$(nsenter --net="/run/netns/$SRV" timeout 30 "$XL4" daemon -i s0 -m skb -c "$CONF" \
	-s "$DAEMON_SOCK" --pin-path "$DAEMON_PIN" --detach-on-exit 2>&1)
assert_eq "restart with a new greylist size: exit status" 1 "$?"
assert_match "restart with a new greylist size: names the map and the setting" \
	'level=warn .*cannot reuse the pinned map [^ ]*/xl4_ggrey_v1: .* this guard\.greylist_slots needs' "$out"
assert_true "refused restart: the running program is still attached" link_has_xdp "$SRV" s0
write_conf "$CONF" 'guard: { enabled = true; response = "challenge"; ratio = 4.5; syn_rate = 2000; verified_ttl = 600;
  analyzer = { block_top = true; min_samples = 30; min_share = 0.5; block_seconds = 60; }; };
events: { samples_per_second = 1000; };'
daemon_start "$SRV" -i s0 -m skb -c "$CONF"
assert_match "restart with the old size adopts the running program" 'adopted the running program' "$(cat "$DAEMON_LOG")"
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"

# ---------------------------------------------------------------------------------------------
e2e_section "(f) guard.enabled = false"
write_conf "$CONF" 'guard: { enabled = false; };'
daemon_start "$SRV" -i s0 -m skb -c "$CONF"
assert_match "show says OFF" '^flood guard: OFF' "$(x guard show)"
expect_fail "set refused while off" 1 'xl4: the flood guard is off \(guard.enabled = false' x guard set web on
assert_eq "still normal" normal "$(gval web mode)"
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"

# ---------------------------------------------------------------------------------------------
e2e_section "(g) xl4 replay against emergency mode"
"$PY" - "$E2E_TMP/syn.pcap" "$VIP4" <<'EOF' || die "cannot write the capture"
import sys
from scapy.all import Ether, IP, TCP, wrpcap
wrpcap(sys.argv[1], [Ether(src="02:00:00:00:00:aa", dst="02:00:00:00:00:bb") /
                     IP(src="198.18.0.5", dst=sys.argv[2]) /
                     TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460)])])
EOF
rp() { "$XL4" replay -c "$CONF" "$@" "$E2E_TMP/syn.pcap" 2>/dev/null; }
assert_match "replay, guard as configured (off): forwarded" '^1 tx len=58 out_len=58 out=02000000002102' "$(rp)"
assert_eq "replay --guard-force on: First Drop" "1 drop guard_first_drop len=58" "$(rp --guard-force on)"
assert_eq "replay --guard-force off: forwarded" tx "$(rp --guard-force off --json | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["verdict"])')"
out=$(rp --guard-force on --guard-level challenge --json)
assert_eq "replay --guard-level challenge: a SYN-ACK (flags 0x12, window 1024) back to the client" \
	"tx 54 12 0400" "$("$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); o=r["out"]; print(r["verdict"], r["out_len"], o[94:96], o[96:100])' "$out")"
expect_fail "replay --guard-level without on" 2 "--guard-level goes only with --guard-force on" \
	"$XL4" replay --guard-level challenge "$E2E_TMP/syn.pcap"
expect_fail "replay --guard-force bad" 2 "--guard-force 'yes' is not one of: on, off, auto" \
	"$XL4" replay --guard-force yes "$E2E_TMP/syn.pcap"

e2e_summary guard-cli
