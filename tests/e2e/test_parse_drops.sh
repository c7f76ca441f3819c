#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The strict parser on a real link: client ns <-> server ns over a veth pair, `xl4 daemon`
# attached in native mode to the server end (configured from a libconfig file).
#
#   (g) bad command-line use: unknown interface, config syntax error, unknown config key
#   (a) real TCP passes untouched: HTTP downloads and echoed uploads of 1 MB, sha256-checked,
#       over IPv4 and IPv6; and nothing is dropped while it runs
#   (b) real UDP request/response (socat echo) and ping pass, IPv4 and IPv6
#   (c) malformed frames from scapy, a distinct count per class, show up as EXACTLY those
#       counts under the right drop reasons, and nothing else is dropped
#   (d) `xl4 events` shows sampled drops with the right reason, addresses and interface
#   (e) `xl4 status` shows the interface attached in native mode; cleanup refuses while the
#       daemon runs
#   (f) SIGTERM: exit 0, no XDP left on the link, pins (and counters) stay until `xl4 cleanup`
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter setsid ethtool socat curl ping ss sha256sum timeout
require_xl4
require_scapy
e2e_tmpdir

CLI=xl4e-$$-c
SRV=xl4e-$$-s
C_IF=c0
S_IF=s0
C4=198.18.0.1 S4=198.18.0.2
C6=2001:db8::1 S6=2001:db8::2
N_HTTP=12 # HTTP downloads per family
N_ECHO=10 # TCP echo connections per family
N_UDP=20  # UDP request/response pairs per family

# Malformed classes, sent in one burst: class (craft.py syntax) and count. Counts are distinct
# so a frame counted under the wrong reason cannot go unnoticed.
BURST=(
	tcp_flags_syn_fin=4 'tcp_flags_syn_fin@6=3'
	tcp_flags_null=3 'tcp_flags_null@6=2'
	tcp_flags_syn_rst=12
	tcp_bad_doff=9
	udp_len_mismatch=10 'udp_len_mismatch@6=7'
	udp_port_zero=14
	ip4_bad_csum=13
	ip4_bad_ihl=3
	ip4_src_martian=8
	ip4_frag=15
	ip6_src_martian=10
	ip6_ext_order=4
	ip6_ext_chain=6
	ip6_frag=16
	vlan_too_deep=2
)
# Sent alone after the burst (and a pause that refills the event sampler): the events check.
MARKER=(tcp_flags_xmas=11)
MARKER_REASON=tcp_flags_xmas
# What the counters must say afterwards, per reason.
declare -A EXPECT=(
	[tcp_flags_syn_fin]=7 [tcp_flags_null]=5 [tcp_flags_syn_rst]=12 [tcp_flags_xmas]=11
	[tcp_bad_doff]=9 [udp_len_mismatch]=17 [udp_port_zero]=14 [ip4_bad_csum]=13
	[ip4_bad_ihl]=3 [ip4_src_martian]=8 [ip4_frag]=15 [ip6_src_martian]=10
	[ip6_ext_order]=4 [ip6_ext_chain]=6 [ip6_frag]=16 [vlan_too_deep]=2
)

# ---------------------------------------------------------------------------------------------
e2e_section "topology: $CLI/$C_IF ($C4, $C6) <-> $SRV/$S_IF ($S4, $S6)"
ns_create "$CLI"
ns_create "$SRV"
veth_pair "$CLI" "$C_IF" "$SRV" "$S_IF"
addr4 "$CLI" "$C_IF" "$C4/24"
addr4 "$SRV" "$S_IF" "$S4/24"
addr6 "$CLI" "$C_IF" "$C6/64"
addr6 "$SRV" "$S_IF" "$S6/64"
S_MAC=$(link_mac "$SRV" "$S_IF")

# ---------------------------------------------------------------------------------------------
e2e_section "(g) bad command-line use"
G_PIN=/sys/fs/bpf/xl4-e2e-$$-g
cleanup_push "rm -rf '$G_PIN'"

out=$(nsenter --net="/run/netns/$SRV" timeout 10 "$XL4" daemon -i doesnotexist0 \
	-s "$E2E_TMP/g.sock" --pin-path "$G_PIN" 2>&1)
rc=$?
assert_ge "daemon -i doesnotexist0: exit status non-zero" 1 "$rc"
assert_eq "daemon -i doesnotexist0: warnings in the output" 1 "$(printf '%s\n' "$out" | grep -c '^level=warn ')"
assert_match "daemon -i doesnotexist0: the line names the interface ($out)" "doesnotexist0" "$out"
assert_false "daemon -i doesnotexist0: left no pin directory" test -e "$G_PIN"

cat >"$E2E_TMP/syntax.conf" <<EOF
interfaces = ["$S_IF"];
xdp_mode = = "native";
EOF
out=$(timeout 10 "$XL4" daemon -c "$E2E_TMP/syntax.conf" -s "$E2E_TMP/g.sock" 2>&1)
rc=$?
assert_ge "config syntax error: exit status non-zero" 1 "$rc"
assert_eq "config syntax error: lines of output" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_match "config syntax error: names file:line ($out)" "$E2E_TMP/syntax.conf:2: " "$out"

cat >"$E2E_TMP/unknown.conf" <<EOF
interfaces = ["$S_IF"];
xdp_mode = "native";
parser: { fragments = "drop"; };
events: { samples_per_second = 100; burst = 5; };
EOF
out=$(timeout 10 "$XL4" daemon -c "$E2E_TMP/unknown.conf" -s "$E2E_TMP/g.sock" 2>&1)
rc=$?
assert_ge "config unknown key: exit status non-zero" 1 "$rc"
assert_eq "config unknown key: lines of output" 1 "$(printf '%s\n' "$out" | wc -l)"
assert_match "config unknown key: names file:line and key ($out)" \
	"$E2E_TMP/unknown.conf:4: .*burst.*unknown key" "$out"
assert_false "bad configs: nothing attached to $S_IF" link_has_xdp "$SRV" "$S_IF"

# ---------------------------------------------------------------------------------------------
e2e_section "daemon on $SRV/$S_IF (config file, native mode)"
CONF=$E2E_TMP/xl4.conf
cat >"$CONF" <<EOF
# e2e: the server end, native XDP, fragments dropped by policy (checked in (c))
interfaces = ["$S_IF"];
xdp_mode = "native";
parser: { fragments = "drop"; };
events: { samples_per_second = 100; };
EOF
daemon_start "$SRV" -c "$CONF"
e2e_log "  daemon pid $DAEMON_PID, socket $DAEMON_SOCK, pins $DAEMON_PIN"
assert_true "XDP program attached to $S_IF" link_has_xdp "$SRV" "$S_IF"

# ---------------------------------------------------------------------------------------------
e2e_section "servers in $SRV"
mkdir -p "$E2E_TMP/www"
head -c $((1 << 20)) /dev/urandom >"$E2E_TMP/www/blob"
BLOB_SHA=$(sha256sum <"$E2E_TMP/www/blob" | cut -d' ' -f1)
bg_start "$SRV" "$E2E_TMP/http.log" "$PY" -m http.server 8080 --bind :: --directory "$E2E_TMP/www"
bg_start "$SRV" "$E2E_TMP/echo.log" socat TCP6-LISTEN:9000,fork,reuseaddr,ipv6only=0 EXEC:cat
bg_start "$SRV" "$E2E_TMP/udp4.log" socat -T 5 UDP4-LISTEN:9001,fork,reuseaddr PIPE
bg_start "$SRV" "$E2E_TMP/udp6.log" socat -T 5 UDP6-LISTEN:9001,fork,reuseaddr,ipv6only=1 PIPE
wait_listen "$SRV" tcp 8080 || die "http.server did not listen on 8080: $(cat "$E2E_TMP/http.log")"
wait_listen "$SRV" tcp 9000 || die "socat did not listen on 9000: $(cat "$E2E_TMP/echo.log")"
wait_listen "$SRV" udp 9001 || die "socat did not listen on udp 9001"
e2e_log "  http.server :8080 (1 MB blob, sha256 ${BLOB_SHA:0:16}...), TCP echo :9000, UDP echo :9001"

# ---------------------------------------------------------------------------------------------
e2e_section "(a) real TCP passes untouched"
for fam in 4 6; do
	if [ "$fam" = 4 ]; then host=$S4 url_host=$S4; else host=$S6 url_host="[$S6]"; fi
	ok=0
	for ((i = 0; i < N_HTTP; i++)); do
		got=$(in_ns "$CLI" timeout 10 curl -sfg "http://$url_host:8080/blob" | sha256sum | cut -d' ' -f1)
		[ "$got" = "$BLOB_SHA" ] && ok=$((ok + 1))
	done
	assert_eq "IPv$fam: HTTP GET of 1 MB with the right sha256, connections" "$N_HTTP" "$ok"
	ok=0
	for ((i = 0; i < N_ECHO; i++)); do
		got=$(in_ns "$CLI" timeout 10 socat -t 5 - "TCP$fam:$url_host:9000" <"$E2E_TMP/www/blob" |
			sha256sum | cut -d' ' -f1)
		[ "$got" = "$BLOB_SHA" ] && ok=$((ok + 1))
	done
	assert_eq "IPv$fam: 1 MB sent and echoed back intact over TCP, connections" "$N_ECHO" "$ok"
done

# ---------------------------------------------------------------------------------------------
e2e_section "(b) real UDP and ICMP pass"
for host in "$S4" "$S6"; do
	assert_true "UDP echo $host: $N_UDP requests, $N_UDP identical replies" \
		quietly in_ns "$CLI" timeout 60 "$PY" "$E2E_LIB_DIR/udp_echo.py" "$host" 9001 "$N_UDP"
	assert_true "ping $host: 3 of 3 replies" \
		quietly in_ns "$CLI" timeout 10 ping -q -c 3 -i 0.2 -W 2 "$host"
done

stats_snapshot "$E2E_TMP/stats-real.json" || die "cannot read stats"
assert_eq "after real traffic: packets dropped" 0 "$(json_get "$E2E_TMP/stats-real.json" verdicts.drop.packets)"
# 2 x 10 MB uploaded at <= 1500 bytes a segment: well over 10000 packets through the program.
assert_ge "after real traffic: packets passed" 10000 "$(json_get "$E2E_TMP/stats-real.json" verdicts.pass.packets)"
assert_eq "after real traffic: packets aborted" 0 "$(json_get "$E2E_TMP/stats-real.json" verdicts.aborted.packets)"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) malformed frames are dropped and counted under the right reason"
in_ns "$CLI" timeout 60 "$PY" "$E2E_LIB_DIR/craft.py" --iface "$C_IF" --dst-mac "$S_MAC" \
	"${BURST[@]}" || die "craft.py failed"
sleep 1.2 # the event sampler refills (100 tokens a second): the marker class is sampled whole
in_ns "$CLI" timeout 60 "$PY" "$E2E_LIB_DIR/craft.py" --iface "$C_IF" --dst-mac "$S_MAC" \
	"${MARKER[@]}" || die "craft.py failed"

stats_snapshot "$E2E_TMP/stats.json" || die "cannot read stats"
total=0
for r in $(printf '%s\n' "${!EXPECT[@]}" | sort); do
	assert_eq "drops.$r.packets" "${EXPECT[$r]}" "$(json_get "$E2E_TMP/stats.json" "drops.$r.packets")"
	total=$((total + EXPECT[$r]))
done
unexpected=$("$PY" - "$E2E_TMP/stats.json" "${!EXPECT[@]}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["drops"]
print(" ".join(f"{r}={v['packets']}" for r, v in d.items() if v["packets"] and r not in sys.argv[2:]))
EOF
)
assert_eq "drop reasons counted that no class was sent for" "" "$unexpected"
assert_eq "verdicts.drop.packets (sum of all classes)" "$total" "$(json_get "$E2E_TMP/stats.json" verdicts.drop.packets)"
assert_eq "verdicts.aborted.packets" 0 "$(json_get "$E2E_TMP/stats.json" verdicts.aborted.packets)"
table=$(timeout 10 "$XL4" stats -s "$DAEMON_SOCK")
assert_match "xl4 stats table: row '$MARKER_REASON  11'" "$MARKER_REASON +11 " "$table"

# ---------------------------------------------------------------------------------------------
e2e_section "(d) sampled drop events"
# The daemon reads the ring buffer asynchronously: give it up to 3 s to hold every marker.
for ((i = 0; i < 30; i++)); do
	timeout 10 "$XL4" events -s "$DAEMON_SOCK" --json >"$E2E_TMP/events.json"
	[ "$(grep -c "\"$MARKER_REASON\"" "$E2E_TMP/events.json")" -ge "${EXPECT[$MARKER_REASON]}" ] && break
	sleep 0.1
done
ev_check=$("$PY" - "$E2E_TMP/events.json" "$MARKER_REASON" "$C4" "$S4" "$S_IF" "${!EXPECT[@]}" <<'EOF'
import json, sys
path, marker, src, dst, ifname, *known = sys.argv[1:]
evs = [json.loads(l) for l in open(path) if l.strip()]
m = [e for e in evs if e.get("reason") == marker]
bad = sorted({e.get("reason") for e in evs} - set(known))
ok = [e for e in m if e.get("src") == src and e.get("dst") == dst and e.get("proto") == 6
      and e.get("dport") == 80 and 40000 <= e.get("sport", 0) < 40100
      and e.get("ifname") == ifname and e.get("type") == "drop"]
print(len(evs), len(m), len(ok), ",".join(bad) or "-")
EOF
)
read -r n_ev n_marker n_match ev_unknown <<<"$ev_check"
e2e_log "  $n_ev events held by the daemon, $n_marker of them $MARKER_REASON"
assert_eq "events --json: $MARKER_REASON events (all sampled: the sampler had refilled)" "${EXPECT[$MARKER_REASON]}" "${n_marker:-0}"
assert_eq "events --json: $MARKER_REASON events from $C4:4xxxx to $S4:80, proto 6, on $S_IF" \
	"${n_marker:-x}" "${n_match:-y}"
assert_eq "events --json: sampled reasons that were never sent" "-" "${ev_unknown:-}"
ev_text=$(timeout 10 "$XL4" events -s "$DAEMON_SOCK")
assert_match "events (text): a '$MARKER_REASON $S_IF $C4:PORT -> $S4:80 proto 6' line" \
	"$MARKER_REASON +$S_IF +$C4:4[0-9]+ -> $S4:80 proto 6 " "$ev_text"

# ---------------------------------------------------------------------------------------------
e2e_section "(e) status"
st=$(timeout 10 "$XL4" status -s "$DAEMON_SOCK")
printf '%s\n' "$st" | sed 's/^/    /'
assert_match "status: $S_IF attached in native mode" "$S_IF +[0-9]+ +native +attached" "$st"
assert_match "status: names the config file" "config $CONF" "$st"
timeout 10 "$XL4" status -s "$DAEMON_SOCK" --json >"$E2E_TMP/status.json"
assert_eq "status --json: interfaces[0]" \
	"{\"name\": \"$S_IF\", \"mode\": \"native\", \"attached\": true}" \
	"$("$PY" -c 'import json,sys; i=json.load(open(sys.argv[1]))["interfaces"][0]; print(json.dumps({k: i[k] for k in ("name","mode","attached")}))' "$E2E_TMP/status.json")"
assert_eq "status --json: pin_path" "$DAEMON_PIN" "$(json_get "$E2E_TMP/status.json" pin_path)"
assert_eq "status --json: pid" "$DAEMON_PID" "$(json_get "$E2E_TMP/status.json" pid)"
out=$(timeout 10 "$XL4" cleanup --pin-path "$DAEMON_PIN" -s "$DAEMON_SOCK" 2>&1)
rc=$?
assert_ge "cleanup while the daemon uses the pins: exit status non-zero" 1 "$rc"
assert_match "cleanup while the daemon uses the pins: says why ($out)" "pid $DAEMON_PID.*stop it first" "$out"
assert_true "pins still there after the refused cleanup" test -e "$DAEMON_PIN/xl4_stats_v1"

# ---------------------------------------------------------------------------------------------
e2e_section "(f) SIGTERM, detach, pins, cleanup"
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"
assert_false "no XDP program on $S_IF after exit (ip link show)" link_has_xdp "$SRV" "$S_IF"
assert_match "daemon log: 'event=detach iface=$S_IF'" "event=detach iface=$S_IF" "$(cat "$DAEMON_LOG")"
assert_false "control socket removed" test -e "$DAEMON_SOCK"
assert_true "pinned stats map survives the daemon" test -e "$DAEMON_PIN/xl4_stats_v1"
stats_snapshot "$E2E_TMP/stats-pinned.json" --pin-path "$DAEMON_PIN" || die "cannot read pinned stats"
assert_eq "counters read from the pins: drops.$MARKER_REASON.packets" "${EXPECT[$MARKER_REASON]}" \
	"$(json_get "$E2E_TMP/stats-pinned.json" "drops.$MARKER_REASON.packets")"
assert_eq "counters read from the pins: verdicts.drop.packets" "$total" \
	"$(json_get "$E2E_TMP/stats-pinned.json" verdicts.drop.packets)"
assert_true "xl4 cleanup exits 0" quietly timeout 10 "$XL4" cleanup --pin-path "$DAEMON_PIN" -s "$DAEMON_SOCK"
assert_false "pin directory removed by cleanup" test -e "$DAEMON_PIN"

e2e_summary parse
