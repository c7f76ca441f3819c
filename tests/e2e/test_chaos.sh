#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Restart, reload and upgrade under load (docs/operations.md). Through one l2 balancer, 1000
# long-lived TCP connections and 20 UDP flows echo a byte every 200 ms, plus a fast UDP stream
# (a datagram every 2 ms), while:
#   (a) the daemon is killed with SIGKILL and started again 20 times: the program id never
#       changes (adopted, not reloaded), and
#   (b) the config is reloaded 100 times (xl4 reload, every fourth via SIGHUP), alternating
#       between two files that add/remove another VIP and change a filter rule;
# then: not one connection broke or stalled (> 2 s without an echo), no fast-stream datagram
# was lost, no lb_* drop was counted, and no packet to the VIP ever reached the balancer's
# own stack (an nftables counter in its namespace).
#   (c) a reload with a broken file changes nothing (VIP list identical) and names FILE:LINE
#       and the key; one that changes lb.table_size is refused with "needs restart"; one that
#       includes a directory or a FIFO is refused and the daemon lives on.
#   (d) upgrade: a daemon started with --upgrade swaps in a new program with one
#       XDP_FLAGS_REPLACE: the id changes, the fast stream loses nothing, nothing reaches
#       the stack; so does a restart with a changed load-time setting (samples_per_second).
#   (e) an interface the configuration no longer names loses the program at the next start;
#       xl4 detach stops traffic handling, with no daemon (after SIGKILL) and through one; a
#       second daemon on the same pins is refused.
#   (f) pins of another size (lb.table_size) or of an older layout (xl4_ct_v0) are refused by
#       name, never reused or reset.
#   (g) connection tables pinned with one shared LRU list (before per-CPU lists were the
#       default) are kept, the same maps, by a file that leaves lb.conntrack.per_cpu_lru out,
#       and refused by name by one that sets it true; fresh pins get per-CPU lists.
# Also: a runtime block entry keeps its deadline across restarts and reloads, a runtime VIP
# does not survive (the file is the truth for what it names).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_LIB_DIR/lb_topo.sh"

require_root
require_xl4
require_cmd ip nsenter nft bpftool
e2e_tmpdir

N_TCP=${CHAOS_TCP:-1000}
N_UDP=20
KILLS=${CHAOS_KILLS:-20}
RELOADS_PER_KILL=5 # 20 x 5 = 100 reloads
TPORT=7000 UPORT=7001
VIP=$LB_VIP4
CONF=$E2E_TMP/xl4.conf

e2e_section "topology: client, balancer, 2 backends (l2)"
lb_topo_create 2
for i in 1 2; do
	ns=$(lb_be_ns "$i")
	pin=$LB_PIN_PREFIX-b$i
	cleanup_push "nsenter --net=/run/netns/$ns '$XL4' agent -i eth0 --remove --pin-path '$pin'; rm -rf '$pin'"
	quietly nsenter --net="/run/netns/$ns" "$XL4" agent -i eth0 --pin-path "$pin" --vip "$VIP" --no-decap ||
		die "b$i: xl4 agent failed"
	bg_start "$ns" "$E2E_TMP/server-b$i.log" "$PY" "$E2E_LIB_DIR/chaos_flows.py" server "$TPORT" "$UPORT" "$VIP"
	wait_listen "$ns" tcp "$TPORT" || die "b$i: server did not start: $(cat "$E2E_TMP/server-b$i.log")"
done
# Client: 1000 sockets need more than the default 1024 descriptors.
ulimit -n 8192

# Packets to the VIP that reach the balancer's stack (the XDP program did not take them).
in_ns "$LB_LB" nft -f - <<EOF || die "nft: cannot set up the stack counter"
table inet xl4chaos {
	counter vip_in_stack {}
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		ip daddr $VIP counter name vip_in_stack
	}
}
EOF
stack_hits() { in_ns "$LB_LB" nft list counter inet xl4chaos vip_in_stack | awk '/packets/ {print $2; exit}'; }

# conf_write FILE VARIANT: a and b differ in one extra VIP and one filter rule only.
conf_write() {
	local f=$1 v=$2

	{
		echo 'interfaces = ["eth0"];'
		echo 'vips = ('
		printf '  { name = "chaos-tcp"; address = "%s:%s/tcp"; backends = ( { address = "%s"; }, { address = "%s"; } ); },\n' \
			"$VIP" "$TPORT" "$(lb_be4 1)" "$(lb_be4 2)"
		printf '  { name = "chaos-udp"; address = "%s:%s/udp"; backends = ( { address = "%s"; }, { address = "%s"; } ); }' \
			"$VIP" "$UPORT" "$(lb_be4 1)" "$(lb_be4 2)"
		[ "$v" = b ] && printf ',\n  { name = "extra"; address = "198.18.1.2:80/tcp"; backends = ( { address = "%s"; } ); }' "$(lb_be4 1)"
		[ "$v" = b-ipip ] && printf ',\n  { name = "extra"; address = "198.18.1.2:80/tcp"; mode = "ipip"; backends = ( { address = "%s"; } ); }' "$(lb_be4 1)"
		echo ');'
		echo 'filter: {'
		if [ "$v" = a ]; then
			echo '  rules = ( { dst = "198.18.1.3"; proto = "udp"; ports = "53"; action = "drop"; } );'
		else
			echo '  block = [ "198.18.200.0/24" ];'
			echo '  rules = ( { dst = "198.18.1.3"; proto = "tcp"; ports = "1000-2000"; action = "drop"; } );'
		fi
		echo '};'
	} >"$f"
}
conf_write "$CONF" a

e2e_section "daemon (no lb.seed: a random one, which must survive restarts)"
DAEMON_DETACH=0 daemon_start "$LB_LB" -c "$CONF"
for ((i = 0; i < 75; i++)); do
	timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" | grep -q "no-mac" || break
	sleep 0.2
done
prog_id() { timeout 10 "$XL4" status -s "$DAEMON_SOCK" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])'; }
vips_digest() { timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" --json | "$PY" -c '
import json, sys
print(json.dumps([(v["name"], v["vip"], v["mode"], [(b["address"], b["id"], b["weight"], b["state"]) for b in v["backends"]]) for v in json.load(sys.stdin)]))'; }
PROG0=$(prog_id)
assert_match "program id known" '^[0-9]+$' "$PROG0"
lb_globals() { bpftool -j map dump pinned "$DAEMON_PIN/xl4_lbglob_v1"; }
GLOB0=$(lb_globals)

e2e_section "flows: $N_TCP TCP connections, $N_UDP UDP flows, a fast UDP stream"
# Frames lost before xl4 sees them (the balancer's veth ring, the CPUs' backlogs): logged beside
# a loss, as the machine's and not the balancer's.
RING0=$(lb_ring_drops)
BACKLOG0=$(lb_backlog_drops)
STOP=$E2E_TMP/stop
bg_start "$LB_CLI" "$E2E_TMP/client.log" bash -c "ulimit -n 8192; exec '$PY' '$E2E_LIB_DIR/chaos_flows.py' client '$VIP' $TPORT $UPORT $N_TCP $N_UDP '$STOP'"
CLIENT=$BG_PID
for ((i = 0; i < 300; i++)); do
	grep -q '"phase": "running"' "$E2E_TMP/client.log" && break
	proc_exited "$CLIENT" && die "the client exited: $(tail -5 "$E2E_TMP/client.log")"
	sleep 0.1
done
grep -q '"phase": "running"' "$E2E_TMP/client.log" || die "the client did not connect in 30 s: $(tail -5 "$E2E_TMP/client.log")"
sleep 2
e2e_log "  client: $(tail -1 "$E2E_TMP/client.log")"

# Runtime changes the file does not name: a block entry with a deadline must survive restarts
# and reloads, a VIP must not (docs/operations.md).
quietly timeout 10 "$XL4" block add -s "$DAEMON_SOCK" 198.18.201.0/24 --ttl 600 || _fail "xl4 block add --ttl"
quietly timeout 10 "$XL4" vip add -s "$DAEMON_SOCK" runtime 198.18.1.5:80/tcp || _fail "xl4 vip add"

e2e_section "(a)+(b) $KILLS x SIGKILL + restart, $((KILLS * RELOADS_PER_KILL)) reloads"
same_prog=0 reload_ok=0 reload_ms_total=0 restart_ms_max=0 hup=0 n=0
t_start=$(date +%s)
for ((k = 1; k <= KILLS; k++)); do
	{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
	DAEMON_PID=
	link_has_xdp "$LB_LB" eth0 || _fail "kill $k: the program left the link"
	t0=$(date +%s%N)
	DAEMON_DETACH=0 daemon_start "$LB_LB" -c "$CONF"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt "$restart_ms_max" ] && restart_ms_max=$ms
	id=$(prog_id)
	if [ "$id" = "$PROG0" ]; then
		same_prog=$((same_prog + 1))
	else
		e2e_log "  restart $k: program id '$id', not $PROG0"
		daemon_log
	fi
	for ((r = 0; r < RELOADS_PER_KILL; r++)); do
		n=$((n + 1))
		if [ $((n % 2)) -eq 1 ]; then conf_write "$CONF" b; else conf_write "$CONF" a; fi
		if [ $((n % 4)) -eq 0 ]; then
			before=$(grep -c 'reload (SIGHUP)' "$DAEMON_LOG")
			kill -HUP "$DAEMON_PID"
			for ((i = 0; i < 50; i++)); do
				[ "$(grep -c 'reload (SIGHUP)' "$DAEMON_LOG")" -gt "$before" ] && break
				sleep 0.05
			done
			grep -q 'reload (SIGHUP) refused' "$DAEMON_LOG" || { [ "$(grep -c 'reload (SIGHUP)' "$DAEMON_LOG")" -gt "$before" ] && reload_ok=$((reload_ok + 1)) && hup=$((hup + 1)); }
		elif out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1); then
			reload_ok=$((reload_ok + 1))
			ms=$(printf '%s' "$out" | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p')
			reload_ms_total=$(awk -v a="$reload_ms_total" -v b="${ms:-0}" 'BEGIN {print a + b}')
		else
			e2e_log "  reload $n failed: $out"
		fi
	done
done
e2e_log "  $((KILLS * RELOADS_PER_KILL)) reloads and $KILLS restarts in $(($(date +%s) - t_start)) s; slowest restart (to 'ready') ${restart_ms_max} ms; mean xl4 reload apply $(awk -v a="$reload_ms_total" -v n="$((n - hup))" 'BEGIN {printf "%.1f", a / n}') ms"
assert_eq "program id unchanged across $KILLS kills and restarts" "$KILLS" "$same_prog"
assert_eq "reloads applied (xl4 reload and SIGHUP)" "$((KILLS * RELOADS_PER_KILL))" "$reload_ok"
assert_ge "reloads via SIGHUP" 20 "$hup"
assert_eq "LB settings (the random Maglev seed among them) unchanged by restarts" "$GLOB0" "$(lb_globals)"
assert_match "daemon log: the previous daemon's program was adopted" 'adopted the running program' "$(cat "$DAEMON_LOG")"

blocks=$(timeout 10 "$XL4" block list -s "$DAEMON_SOCK" --json)
assert_match "runtime block entry kept, with its deadline ($blocks)" '"prefix": ?"198.18.201.0/24", ?"expires_in_s": ?(5[0-9][0-9]|600)[,}]' "$blocks"
if [[ $blocks == *198.18.200.0/24* ]]; then _fail "the file's block entry of config b is still there after reloading a"; else _pass "the block entry only config b names is gone"; fi
if timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" | grep -q '^runtime '; then _fail "runtime VIP still there after reloads"; else _pass "runtime VIP gone (the file is the truth for VIPs)"; fi

e2e_section "(c) a broken reload changes nothing"
conf_write "$CONF" a
quietly timeout 10 "$XL4" reload -s "$DAEMON_SOCK" || _fail "reload to config a"
before=$(vips_digest)
cp "$CONF" "$E2E_TMP/good.conf"
# line 4 of the file: a VIP with a bad address
{ head -3 "$E2E_TMP/good.conf"; echo '  { name = "bad"; address = "198.18.1.9:99999/tcp"; },'; tail -n +4 "$E2E_TMP/good.conf"; } >"$CONF"
out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
rc=$?
assert_eq "xl4 reload of a broken file: exit status 1" 1 "$rc"
assert_match "the error names the file, line 4 and the key ($out)" "$CONF:4: vips\\[1\\]\\.address: .*port must be 1\\.\\.65535" "$out"
assert_eq "VIP list identical before and after" "$before" "$(vips_digest)"
sed 's/^interfaces.*/&\nlb: { table_size = 257; };/' "$E2E_TMP/good.conf" >"$CONF"
out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
assert_match "a changed lb.table_size: 'needs restart with new pins: lb.table_size' ($out)" 'needs restart with new pins: lb.table_size \(65537 -> 257\)' "$out"
assert_eq "VIP list identical after the refused reload" "$before" "$(vips_digest)"
# libconfig's scanner calls exit() when a read fails: an @include of a directory must be an
# error, not the daemon's end (and a FIFO must not hang it)
mkdir -p "$E2E_TMP/conf.d" && rm -f "$E2E_TMP/fifo" && mkfifo "$E2E_TMP/fifo"
for inc in conf.d fifo; do
	{ cat "$E2E_TMP/good.conf"; echo "@include \"$inc\""; } >"$CONF"
	out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
	assert_match "a reload including a $inc: refused, naming it ($out)" "@include \"$inc\": a (directory|FIFO)" "$out"
	assert_eq "the daemon still answers after the $inc include, its VIPs as they were" "$before" "$(vips_digest)"
done
# the fuzzer's shape: libconfig drops the lone backslash and would open the directory "conf.d"
{ cat "$E2E_TMP/good.conf"; echo '@include "conf\.d"'; } >"$CONF"
out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
assert_match "a reload including \"conf\\.d\": refused, saying why ($out)" 'a backslash not followed by' "$out"
assert_eq "the daemon still answers after it, its VIPs as they were" "$before" "$(vips_digest)"
cp "$E2E_TMP/good.conf" "$CONF"

# A VIP whose mode changes is changed in place: same backend id and generation (a re-created
# VIP would bump it), so its flows stay. Prints "MODE ID GEN".
extra_be() {
	local mode id

	read -r mode id < <(timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" --json | "$PY" -c '
import json, sys
print(" ".join("%s %s" % (v["mode"], v["backends"][0]["id"]) for v in json.load(sys.stdin) if v["name"] == "extra"))')
	echo "$mode $id $(bpftool -j map lookup pinned "$DAEMON_PIN/xl4_backends_v1" key $((id & 255)) $((id >> 8)) 0 0 |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["formatted"]["value"]["gen"])')"
}
conf_write "$CONF" b
quietly timeout 10 "$XL4" reload -s "$DAEMON_SOCK" || _fail "reload to config b"
id_l2=$(extra_be)
conf_write "$CONF" b-ipip
quietly timeout 10 "$XL4" reload -s "$DAEMON_SOCK" || _fail "reload to config b with an ipip extra VIP"
assert_eq "mode change in place: mode ipip, the same backend id and generation" "ipip ${id_l2#l2 }" "$(extra_be)"
cp "$E2E_TMP/good.conf" "$CONF"
quietly timeout 10 "$XL4" reload -s "$DAEMON_SOCK" || _fail "reload back to config a"

e2e_section "(d) upgrade: --upgrade swaps the program in one step"
vip_packets() { timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" --json | "$PY" -c '
import json, sys
for v in json.load(sys.stdin): print(v["name"], v["id"], v["counters"]["packets"])'; }
vip_packets >"$E2E_TMP/vp0" || die "xl4 vip list"
daemon_stop TERM
link_has_xdp "$LB_LB" eth0 || _fail "SIGTERM: the program left the link"
# The VIPs' counters as a build before 2026-12-06 pinned them: in xl4_vstats_v1, which counted
# their forwarded packets too (10^9 on each CPU here), and an xl4_vstats_v2 no program uses,
# as a start of the new build killed before its attach leaves it. The upgrade carries each
# VIP's over (src/lb_counters.c): a counter must not go down.
plant_old_vip_counters() { # PACKETS-PER-CPU-HEX-LE (8 bytes): one xl4_vstats_v1 entry a VIP
	bpftool map create "$DAEMON_PIN/xl4_vstats_v1" type percpu_array key 4 value 48 entries 64 \
		name xl4_vstats_v1 || die "bpftool map create"
	while read -r _ id _; do
		bpftool map update pinned "$DAEMON_PIN/xl4_vstats_v1" key "$id" 0 0 0 \
			value "$@" $(printf '0 %.0s' $(seq 40)) || die "bpftool map update"
	done <"$E2E_TMP/vp0"
}
plant_old_vip_counters 0x00 0xca 0x9a 0x3b 0 0 0 0
read -r _ VID0 _ <"$E2E_TMP/vp0"
OLD_TOTAL=$(bpftool -j map lookup pinned "$DAEMON_PIN/xl4_vstats_v1" key "$VID0" 0 0 0 |
	"$PY" -c 'import json, sys; print(sum(int.from_bytes(bytes(int(x, 16) for x in c["value"][:8]), "little") for c in json.load(sys.stdin)["values"]))')
rm -f "$DAEMON_PIN/xl4_vstats_v2"
bpftool map create "$DAEMON_PIN/xl4_vstats_v2" type percpu_array key 4 value 48 entries 64 \
	name xl4_vstats_v2 || die "bpftool map create"
# Pins as a build before the per-family tables left them: every IPv4 flow in xl4_ct_v1 under
# the 40-byte key (include/xl4/abi.h), plus one flow nobody sends (its entry cannot be
# rewritten by traffic) on the first flow's backend. The loader must move them all back to
# xl4_ct4_v1; the live flows must not notice (checked with the others below).
ct_plant_old_layout() {
	"$PY" - "$DAEMON_PIN" "$E2E_TMP/ct.batch" <<'EOF'
import json, subprocess, sys
pin, batch = sys.argv[1], sys.argv[2]
dump = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{pin}/xl4_ct4_v1"],
                                 check=True, capture_output=True, timeout=30).stdout)
b = lambda hexes: [int(x, 16) for x in hexes]
lines, n = [], 0
entries = [(b(e["key"]), b(e["value"])) for e in dump]
if entries:  # the unused flow: 198.18.99.99:4242 -> the first flow's VIP, on its backend
    k4, v = entries[0]
    entries.append(([198, 18, 99, 99] + k4[4:8] + [0x10, 0x92] + k4[10:16], v))
for i, (k4, v) in enumerate(entries):
    k40 = k4[0:4] + [0] * 12 + k4[4:8] + [0] * 12 + k4[8:13] + [4, 0, 0]
    h = lambda a: " ".join(f"{x:02x}" for x in a)
    lines.append(f"map update pinned {pin}/xl4_ct_v1 key hex {h(k40)} value hex {h(v)}")
    if i < len(dump):  # not the unused flow: it is in no table yet
        lines.append(f"map delete pinned {pin}/xl4_ct4_v1 key hex {h(k4)}")
    n += 1
open(batch, "w").write("\n".join(lines) + "\n")
print(n, entries[-1][1][0] | entries[-1][1][1] << 8 | entries[-1][1][2] << 16 | entries[-1][1][3] << 24 if entries else "none")
EOF
}
# ct_plant_old_layout: prints "N BACKEND_ID" (flows planted, the unused flow's backend), writes
# the bpftool batch that plants them. ct_old_layout_left: "IPv4 entries left in xl4_ct_v1; the unused flow's backend id in xl4_ct4_v1"
ct_old_layout_left() {
	"$PY" - "$DAEMON_PIN" <<'EOF'
import json, subprocess, sys
dump = lambda m: json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "pinned", f"{sys.argv[1]}/{m}"],
                                           check=True, capture_output=True, timeout=30).stdout)
left = sum(1 for e in dump("xl4_ct_v1") if int(e["key"][37], 16) == 4)
mine = [e["formatted"]["value"]["backend_id"] for e in dump("xl4_ct4_v1")
        if [int(x, 16) for x in e["key"][:4]] == [198, 18, 99, 99]]
print(left, mine[0] if mine else "none")
EOF
}
read -r N_PLANTED UNUSED_BE < <(ct_plant_old_layout) || die "cannot read the IPv4 connection table"
bpftool batch file "$E2E_TMP/ct.batch" >/dev/null || die "cannot write the old layout's entries"
assert_ge "IPv4 flows planted in xl4_ct_v1 as an older build kept them" $((N_TCP + 1)) "$N_PLANTED"
DAEMON_DETACH=0 daemon_start "$LB_LB" -c "$CONF" --upgrade
PROG1=$(prog_id)
if [ "$PROG1" != "$PROG0" ]; then _pass "program id changed: $PROG0 -> $PROG1"; else _fail "program id still $PROG0 after --upgrade"; fi
assert_match "daemon log: replaced in one step" "eth0: program id $PROG0 replaced by id $PROG1 in one step" "$(cat "$DAEMON_LOG")"
assert_match "daemon log: the planted IPv4 flows copied to xl4_ct4_v1 before the attach" \
	"conntrack: $N_PLANTED IPv4 flows in xl4_ct_v1 \\(an older build's\\) copied to xl4_ct4_v1" "$(cat "$DAEMON_LOG")"
assert_match "daemon log: and moved out of xl4_ct_v1 once the new program was attached" \
	"conntrack: $N_PLANTED IPv4 flows in xl4_ct_v1 \\(an older build's\\) moved to xl4_ct4_v1" "$(cat "$DAEMON_LOG")"
assert_eq "no IPv4 entry left in xl4_ct_v1; the unused flow in xl4_ct4_v1 on its backend" \
	"0 $UNUSED_BE" "$(ct_old_layout_left)"
assert_match "daemon log: the older build's VIP counters carried over" \
	"VIP counters: carried over from the older build's xl4_vstats_v1 \\($(wc -l <"$E2E_TMP/vp0") VIPs\\)" \
	"$(cat "$DAEMON_LOG")"
assert_false "xl4_vstats_v1 removed once the new program was attached" test -e "$DAEMON_PIN/xl4_vstats_v1"
vip_packets >"$E2E_TMP/vp1" || _fail "xl4 vip list"
while read -r name id pk; do
	pk0=$(awk -v n="$name" '$1 == n { print $3 }' "$E2E_TMP/vp0")
	# at least the older build's; and its backends' counts taken out of it once, not added
	# to it: what a VIP gained past it (the seconds since) is far less than what its
	# backends had counted (pk0, the run so far) on a VIP that has counted enough to tell
	assert_ge "VIP $name: its counters go on from the older build's $OLD_TOTAL packets ($pk)" "$OLD_TOTAL" "$pk"
	if [ "${pk0:-0}" -ge 20000 ]; then
		assert_ge "VIP $name: its backends' $pk0 not counted twice (at most $((OLD_TOTAL + pk0 / 2)))" "$pk" $((OLD_TOTAL + pk0 / 2))
	fi
done <"$E2E_TMP/vp1"
assert_eq "every VIP counted" "$(wc -l <"$E2E_TMP/vp0")" "$(wc -l <"$E2E_TMP/vp1")"
sleep 1
# A changed load-time setting (a rodata constant) is another program: a restart swaps it in.
{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
DAEMON_PID=
printf 'events: { samples_per_second = 50; };\n' >>"$CONF"
# an xl4_vstats_v1 left beside the xl4_vstats_v2 the running program counts into (a start
# killed after its attach): gone at the next start, and nothing carried over from it twice
plant_old_vip_counters 0x00 0xca 0x9a 0x3b 0 0 0 0
DAEMON_DETACH=0 daemon_start "$LB_LB" -c "$CONF"
PROG2=$(prog_id)
assert_match "changed events.samples_per_second: replaced at restart ($PROG1 -> $PROG2)" \
	"eth0: program id $PROG1 replaced by id $PROG2 in one step" "$(cat "$DAEMON_LOG")"
if grep -q "VIP counters: carried over" "$DAEMON_LOG"; then
	_fail "an older pin beside the running program's xl4_vstats_v2: carried over again"
else
	_pass "an older pin beside the running program's xl4_vstats_v2: not carried over"
fi
assert_false "and removed" test -e "$DAEMON_PIN/xl4_vstats_v1"
vip_packets >"$E2E_TMP/vp2" || _fail "xl4 vip list"
read -r _ _ pk2 <"$E2E_TMP/vp2"
assert_ge "VIP counters after it: the first carry-over's, once ($pk2, at most $((OLD_TOTAL * 3 / 2)))" "$pk2" $((OLD_TOTAL * 3 / 2))
out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
assert_eq "a reload of the same file: applied ($out)" 0 "$?"
sleep 1
PROG1=$PROG2 # the program (e) finds

e2e_section "the flows, the counters"
touch "$STOP"
for ((i = 0; i < 100; i++)); do
	grep -q '"phase": "done"' "$E2E_TMP/client.log" && break
	sleep 0.1
done
final=$(grep '"phase": "done"' "$E2E_TMP/client.log" | tail -1)
[ -n "$final" ] || die "the client gave no final report: $(tail -3 "$E2E_TMP/client.log")"
e2e_log "  client: $final"
printf '%s\n' "$final" >"$E2E_TMP/final.json"
assert_eq "TCP connections held" "$N_TCP" "$(json_get "$E2E_TMP/final.json" tcp)"
assert_eq "TCP connections broken" 0 "$(json_get "$E2E_TMP/final.json" tcp_broken)"
assert_eq "TCP connections stalled (> 2 s without an echo)" 0 "$(json_get "$E2E_TMP/final.json" tcp_stalled)"
assert_eq "UDP flows stalled" 0 "$(json_get "$E2E_TMP/final.json" udp_stalled)"
sent=$(json_get "$E2E_TMP/final.json" fast_sent)
# The stream ran through the phases: about 10 s of a datagram every 2 ms. A starved client
# skips the slots it missed (chaos_flows.py), and how long the phases take depends on the
# machine, so the bound leaves room: 4,890 was seen once on a loaded CI run, where 5,000 stood.
assert_ge "fast UDP datagrams sent" 4000 "$sent"
assert_eq "fast UDP datagrams lost" 0 "$((sent - $(json_get "$E2E_TMP/final.json" fast_recv)))"
# where a UDP loss would be the machine's and not the balancer's: the sockets' own drops
udp_rcvbuf_errors() {
	in_ns "$1" cat /proc/net/snmp |
		awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }'
}
e2e_log "  UDP receive-buffer drops (socket overflows): client $(udp_rcvbuf_errors "$LB_CLI"), b1 $(udp_rcvbuf_errors "$(lb_be_ns 1)"), b2 $(udp_rcvbuf_errors "$(lb_be_ns 2)")"
e2e_log "  frames dropped before xl4 while the flows ran: balancer's receive ring $(($(lb_ring_drops) - RING0)), CPU backlogs $(($(lb_backlog_drops) - BACKLOG0))"
assert_eq "packets to the VIP that reached the balancer's stack" 0 "$(stack_hits)"
stats_snapshot "$E2E_TMP/stats.json" || _fail "xl4 stats"
for r in lb_no_backend lb_frag lb_too_big lb_encap_fail lb_not_vip_port; do
	assert_eq "drops: $r" 0 "$(json_get "$E2E_TMP/stats.json" "drops.$r.packets")"
done

e2e_section "(e) an interface the configuration drops; xl4 detach, without and with a daemon"
veth_pair "$LB_LB" x0 "$LB_LB" x1
restart() {
	{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
	DAEMON_PID=
	DAEMON_DETACH=0 daemon_start "$LB_LB" "$@"
}
restart -c "$CONF" -i eth0 -i x0
assert_true "x0 added on the command line: attached" link_has_xdp "$LB_LB" x0
assert_eq "eth0 keeps the adopted program" "$PROG1" "$(prog_id)"
restart -c "$CONF"
assert_false "x0 no longer named: the program is taken off it" link_has_xdp "$LB_LB" x0
assert_match "daemon log: says so" "x0: no longer in the configuration: program id $PROG1 detached" "$(cat "$DAEMON_LOG")"
# settings written out at the object's own sizes load the same program: adopted, not swapped
sed 's/^interfaces.*/&\nlb: { table_size = 65537; conntrack: { max_entries = 262144; }; };/' "$CONF" \
	>"$E2E_TMP/explicit.conf"
restart -c "$E2E_TMP/explicit.conf"
assert_eq "lb.table_size and lb.conntrack.max_entries written out at their defaults: adopted" \
	"$PROG1" "$(prog_id)"
# `xl4 check` before a restart says which of the two a start would do
out=$(timeout 20 "$XL4" check -c "$CONF" --pin-path "$DAEMON_PIN" 2>&1)
assert_match "xl4 check, the same settings: a start adopts the running program ($out)" \
	"adopts the running program \\(id $PROG1\\)" "$out"
sed 's/samples_per_second = 50/samples_per_second = 51/' "$CONF" >"$E2E_TMP/swap.conf"
out=$(timeout 20 "$XL4" check -c "$E2E_TMP/swap.conf" --pin-path "$DAEMON_PIN" 2>&1)
assert_match "xl4 check, another load-time setting: a start swaps the program ($out)" \
	"swaps its program in for the running one \\(id $PROG1:" "$out"
{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
DAEMON_PID=
assert_true "after SIGKILL the program is still attached" link_has_xdp "$LB_LB" eth0
out=$(nsenter --net="/run/netns/$LB_LB" timeout 10 "$XL4" detach -s "$E2E_TMP/none.sock" --pin-path "$DAEMON_PIN" 2>&1)
assert_match "xl4 detach without a daemon: detaches the recorded program ($out)" "eth0: detached program id $PROG1" "$out"
assert_false "no XDP program after it" link_has_xdp "$LB_LB" eth0
DAEMON_DETACH=0 daemon_start "$LB_LB" -c "$CONF"
assert_match "a fresh start attaches afresh" 'event=attach iface=eth0 mode=[a-z]+ prog_id=[0-9]+ how=attached' "$(cat "$DAEMON_LOG")"
out=$(nsenter --net="/run/netns/$LB_LB" timeout 10 "$XL4" daemon --detach-on-exit -c "$CONF" \
	-s "$E2E_TMP/second.sock" --pin-path "$DAEMON_PIN" 2>&1)
assert_match "a second daemon on the same pins is refused ($out)" 'another xl4 daemon is using the pins' "$out"
quietly timeout 10 "$XL4" detach -s "$DAEMON_SOCK" || _fail "xl4 detach"
proc_wait_exit "$DAEMON_PID" 10 || _fail "the daemon did not exit after xl4 detach"
daemon_stop
assert_false "no XDP program on the link after xl4 detach" link_has_xdp "$LB_LB" eth0

e2e_section "(f) pins of another size or layout are refused, never silently reset"
sed 's/^interfaces.*/&\nlb: { table_size = 257; };/' "$E2E_TMP/good.conf" >"$E2E_TMP/small.conf"
# `xl4 check` before a restart: the same verdict and words as the daemon, nothing changed
out=$(timeout 20 "$XL4" check -c "$CONF" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "xl4 check -c over pins that fit: exit status 0 ($out)" 0 "$?"
assert_match "xl4 check: a start keeps them, and attaches its own program" \
	"pins at $DAEMON_PIN: a daemon with this configuration starts over them .*no program of theirs is running" "$out"
out=$(timeout 20 "$XL4" check -c "$E2E_TMP/small.conf" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "xl4 check -c with another lb.table_size: exit status 1" 1 "$?"
assert_match "xl4 check: names the map and the setting as the daemon does ($out)" \
	"cannot reuse the pinned map $DAEMON_PIN/xl4_ring_v1: .*this lb.table_size needs.*would refuse to start" "$out"
out=$(nsenter --net="/run/netns/$LB_LB" timeout 20 "$XL4" daemon --detach-on-exit -c "$E2E_TMP/small.conf" \
	-s "$E2E_TMP/f.sock" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "another lb.table_size over the pins: exit status 1" 1 "$?"
assert_match "names the map and the setting ($out)" "cannot reuse the pinned map $DAEMON_PIN/xl4_ring_v1: .*this lb.table_size needs" "$out"
bpftool map create "$DAEMON_PIN/xl4_ct_v0" type hash key 4 value 4 entries 1 name xl4_ct_v0 ||
	die "bpftool map create"
out=$(nsenter --net="/run/netns/$LB_LB" timeout 20 "$XL4" daemon --detach-on-exit -c "$CONF" \
	-s "$E2E_TMP/f.sock" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "a pin of an older layout: exit status 1" 1 "$?"
out=$(timeout 20 "$XL4" check -c "$CONF" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "xl4 check -c with that pin: exit status 1" 1 "$?"
assert_match "xl4 check: names the pin ($out)" "xl4_ct_v0 is pinned by an xl4 with another map layout" "$out"
assert_match "names the pin and this build's map ($out)" "$DAEMON_PIN/xl4_ct_v0 is pinned by an xl4 with another map layout \\(this build uses xl4_ct_v1\\)" "$out"
rm -f "$DAEMON_PIN/xl4_ct_v0"
assert_false "no XDP program after the refusals" link_has_xdp "$LB_LB" eth0
# the guard's windows and counters (4 buckets of 268 ms in v1) hold nothing a restart must
# keep: an older layout's pin is replaced, and the log says what that loses
bpftool map create "$DAEMON_PIN/xl4_gstat_v1" type percpu_array key 4 value 160 entries 1 \
	name xl4_gstat_v1 || die "bpftool map create"
out=$(timeout 20 "$XL4" check -c "$CONF" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "xl4 check -c with an older guard-counter pin: exit status 0 ($out)" 0 "$?"
assert_match "xl4 check: says a start replaces it" "xl4_gstat_v1: a start replaces it by xl4_gstat_v2" "$out"
assert_true "xl4 check removed nothing" test -e "$DAEMON_PIN/xl4_gstat_v1"
daemon_start "$LB_LB" -c "$CONF"
assert_match "an older guard-counter pin: replaced, and the log says what is lost" \
	"$DAEMON_PIN/xl4_gstat_v1: replaced by xl4_gstat_v2 \\(the guard's windows and counters, which start again from zero" \
	"$(cat "$DAEMON_LOG")"
assert_false "the old pin is gone" test -e "$DAEMON_PIN/xl4_gstat_v1"
assert_true "this build's pin is there" test -e "$DAEMON_PIN/xl4_gstat_v2"
quietly timeout 10 "$XL4" detach -s "$DAEMON_SOCK" || _fail "xl4 detach"
proc_wait_exit "$DAEMON_PID" 10 || _fail "the daemon did not exit after xl4 detach"
daemon_stop

e2e_section "(g) the connection tables' LRU lists: a file that leaves them out keeps the pins'"
# pins made with one shared list, as a build before per-CPU lists were the default made them
detach_stop() {
	quietly timeout 10 "$XL4" detach -s "$DAEMON_SOCK" || _fail "xl4 detach"
	proc_wait_exit "$DAEMON_PID" 10 || _fail "the daemon did not exit after xl4 detach"
	daemon_stop
}
ct4_show() { bpftool -j map show pinned "$DAEMON_PIN/xl4_ct4_v1" | "$PY" -c 'import json,sys; m=json.load(sys.stdin); print(m["id"], m["flags"] & 2)'; }
quietly timeout 20 "$XL4" cleanup --pin-path "$DAEMON_PIN" -s "$E2E_TMP/none.sock" || _fail "xl4 cleanup"
cp "$E2E_TMP/good.conf" "$CONF" # the files below differ from it in per_cpu_lru only
sed 's/^interfaces.*/&\nlb: { conntrack: { per_cpu_lru = false; }; };/' "$E2E_TMP/good.conf" >"$E2E_TMP/shared.conf"
sed 's/^interfaces.*/&\nlb: { conntrack: { per_cpu_lru = true; }; };/' "$E2E_TMP/good.conf" >"$E2E_TMP/percpu.conf"
daemon_start "$LB_LB" -c "$E2E_TMP/shared.conf"
shared=$(ct4_show)
assert_match "per_cpu_lru = false: one shared list (no BPF_F_NO_COMMON_LRU: $shared)" '^[0-9]+ 0$' "$shared"
detach_stop
out=$(timeout 20 "$XL4" check -c "$E2E_TMP/percpu.conf" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "xl4 check -c with per_cpu_lru = true over them: exit status 1" 1 "$?"
assert_match "xl4 check: names the table and the setting ($out)" \
	"cannot reuse the pinned map $DAEMON_PIN/xl4_ct4?_v1: .*per_cpu_lru needs .*\\(flags 0x2\\)" "$out"
out=$(timeout 20 "$XL4" check -c "$CONF" --pin-path "$DAEMON_PIN" 2>&1)
assert_eq "xl4 check -c with per_cpu_lru left out over them: exit status 0 ($out)" 0 "$?"
daemon_start "$LB_LB" -c "$CONF"
assert_eq "left out: the same table, still one shared list" "$shared" "$(ct4_show)"
assert_match "the log says the pins' lists are kept, and how to switch" \
	"the pinned tables have one shared LRU list and keep it .*lb.conntrack.per_cpu_lru is not set" "$(cat "$DAEMON_LOG")"
out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
assert_eq "a reload of the same file (still left out): accepted ($out)" 0 "$?"
cp "$E2E_TMP/percpu.conf" "$CONF"
out=$(timeout 10 "$XL4" reload -s "$DAEMON_SOCK" 2>&1)
assert_match "a reload that sets per_cpu_lru = true: needs new pins ($out)" \
	'needs restart with new pins: lb.conntrack.per_cpu_lru \(false -> true\)' "$out"
detach_stop
# fresh pins, the file silent: per-CPU lists, unless the kernel counts more possible CPUs
# than are online (src/ct_lru.c)
quietly timeout 20 "$XL4" cleanup --pin-path "$DAEMON_PIN" -s "$E2E_TMP/none.sock" || _fail "xl4 cleanup"
cp "$E2E_TMP/good.conf" "$CONF"
daemon_start "$LB_LB" -c "$CONF"
want=2
[ "$(cat /sys/devices/system/cpu/possible)" = "$(cat /sys/devices/system/cpu/online)" ] || want=0
assert_match "fresh pins, left out: per-CPU lists (flag $want)" "^[0-9]+ $want\$" "$(ct4_show)"
detach_stop

e2e_summary chaos
