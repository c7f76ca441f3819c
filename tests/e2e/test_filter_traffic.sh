#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The filter on a real link: client ns <-> server ns over a veth pair, `xl4 daemon` attached
# to the server end, lists and rules changed at runtime through the control socket.
#
#   (a) an allowlisted client: real TCP (socat echo, 1 MB, sha256-checked) and UDP (echo)
#       pass, IPv4 and IPv6, even to a port a drop rule closes for everyone else
#   (b) `xl4 block add` of an IPv4 and an IPv6 prefix at runtime: TCP from an address in each
#       fails, and a fixed number of UDP datagrams from each shows up as exactly that many
#       filter_block drops; `xl4 events` names the blocking prefix (blocked_by)
#   (c) a limit rule (200 pps, burst 20) holds a source sending ~3x that to its rate:
#       accepted = rate x sending time + burst, by the rule's counters and by the receiver
#   (d) `xl4 stats` shows each: filter_block, filter_rule, filter_rate, allow_list
#   (e) the global per-source limit (rate 1, burst 10): `xl4 limit show` counts every datagram
#       a source sent as matched, and as dropped what filter_rate counted
# Addresses only from 198.18.0.0/15 and 2001:db8::/32. Neighbours are static on both ends:
# no ARP/ND from a blocked address can add drops the test did not send.
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter setsid socat ss sha256sum timeout
require_xl4
e2e_tmpdir

CLI=xl4e-$$-fc
SRV=xl4e-$$-fs
C_IF=c0
S_IF=s0
C4=198.18.0.1 S4=198.18.0.2 BAD4=198.18.6.1 LIM4=198.18.7.1 OTHER4=198.18.8.1
C6=2001:db8::1 S6=2001:db8::2 BAD6=2001:db8:6::1
N_BAD4=37 # UDP datagrams from the blocked IPv4 address (distinct counts: a mix-up shows)
N_BAD6=23
RATE=200 BURST=20 SEND_PPS=600 SEND_SECS=3

x() { timeout 10 "$XL4" "$@" -s "$DAEMON_SOCK"; }

# ---------------------------------------------------------------------------------------------
e2e_section "topology: $CLI/$C_IF <-> $SRV/$S_IF"
ns_create "$CLI"
ns_create "$SRV"
veth_pair "$CLI" "$C_IF" "$SRV" "$S_IF"
addr4 "$CLI" "$C_IF" "$C4/24"
addr6 "$CLI" "$C_IF" "$C6/64"
for a in $BAD4 $LIM4 $OTHER4; do addr4 "$CLI" "$C_IF" "$a/32"; done
addr6 "$CLI" "$C_IF" "$BAD6/128"
addr4 "$SRV" "$S_IF" "$S4/24"
addr6 "$SRV" "$S_IF" "$S6/64"
for p in 198.18.6.0/24 198.18.7.0/24 198.18.8.0/24; do in_ns "$SRV" ip route add "$p" dev "$S_IF"; done
in_ns "$SRV" ip -6 route add 2001:db8:6::/48 dev "$S_IF"
C_MAC=$(link_mac "$CLI" "$C_IF")
S_MAC=$(link_mac "$SRV" "$S_IF")
in_ns "$CLI" ip neigh replace "$S4" lladdr "$S_MAC" dev "$C_IF" nud permanent
in_ns "$CLI" ip -6 neigh replace "$S6" lladdr "$S_MAC" dev "$C_IF" nud permanent
for a in $C4 $BAD4 $LIM4 $OTHER4; do in_ns "$SRV" ip neigh replace "$a" lladdr "$C_MAC" dev "$S_IF" nud permanent; done
for a in $C6 $BAD6; do in_ns "$SRV" ip -6 neigh replace "$a" lladdr "$C_MAC" dev "$S_IF" nud permanent; done

CONF=$E2E_TMP/xl4.conf
cat >"$CONF" <<EOF
interfaces = ["$S_IF"];
xdp_mode = "native";
events: { samples_per_second = 1000; };
filter: { rate_table_size = 65536; };
EOF
daemon_start "$SRV" -c "$CONF"
assert_true "XDP program attached to $S_IF" link_has_xdp "$SRV" "$S_IF"

head -c $((1 << 20)) /dev/urandom >"$E2E_TMP/blob"
BLOB_SHA=$(sha256sum <"$E2E_TMP/blob" | cut -d' ' -f1)
bg_start "$SRV" "$E2E_TMP/echo.log" socat TCP6-LISTEN:9000,fork,reuseaddr,ipv6only=0 EXEC:cat
bg_start "$SRV" "$E2E_TMP/udp4.log" socat -T 5 UDP4-LISTEN:9001,fork,reuseaddr PIPE
bg_start "$SRV" "$E2E_TMP/udp6.log" socat -T 5 UDP6-LISTEN:9001,fork,reuseaddr,ipv6only=1 PIPE
wait_listen "$SRV" tcp 9000 || die "socat did not listen on 9000"
wait_listen "$SRV" udp 9001 || die "socat did not listen on udp 9001"

# udp_send SRC DST PORT COUNT PPS: COUNT datagrams from SRC, paced at PPS; prints
# "sent SECONDS MAXGAP" (first to last send, and the longest pause between two sends).
udp_send() {
	in_ns "$CLI" timeout 60 "$PY" - "$@" <<'PY_END'
import socket, sys, time
src, dst, port, count, pps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((src, 0))
t0 = time.monotonic()
last = t0
gap = 0.0
for i in range(count):
    due = t0 + i / pps
    while True:
        now = time.monotonic()
        if now >= due:
            break
        time.sleep(min(due - now, 0.001))
    s.sendto(b"xl4-filter-%d" % i, (dst, port))
    gap = max(gap, now - last)
    last = now
print("%d %.6f %.6f" % (count, last - t0, gap))
PY_END
}

# tcp_echo_ok SRC HOST: 1 MB through the echo server from SRC comes back intact.
tcp_echo_ok() {
	local fam=4 host=$2 src=$1

	[[ $2 == *:* ]] && fam=6 host="[$2]" src="[$1]"
	[ "$(in_ns "$CLI" timeout 10 socat -t 5 - "TCP$fam:$host:9000,bind=$src" <"$E2E_TMP/blob" |
		sha256sum | cut -d' ' -f1)" = "$BLOB_SHA" ]
}

# tcp_connects SRC HOST: a TCP connection from SRC is accepted within 2 s.
tcp_connects() {
	local fam=4 host=$2 src=$1

	[[ $2 == *:* ]] && fam=6 host="[$2]" src="[$1]"
	in_ns "$CLI" timeout 3 socat -T 2 /dev/null "TCP$fam:$host:9000,bind=$src,connect-timeout=2" 2>/dev/null
}

stat_of() { json_get "$1" "drops.$2.packets"; }

# ---------------------------------------------------------------------------------------------
e2e_section "(a) an allowlisted client passes, TCP and UDP, IPv4 and IPv6"
quietly x allow add "$C4" "$C6" || _fail "allow add $C4 $C6"
id_drop=$(x rule add "$S4" --proto tcp --port 9000 --action drop)
assert_match "rule add: drop tcp/9000 to $S4 (id $id_drop)" '^[0-9]+$' "$id_drop"
id_drop6=$(x rule add "$S6" --proto tcp --port 9000 --action drop)
assert_match "rule add: drop tcp/9000 to $S6 (id $id_drop6)" '^[0-9]+$' "$id_drop6"
stats_snapshot "$E2E_TMP/s0.json" || die "cannot read stats"
for pair in "$C4 $S4" "$C6 $S6"; do
	read -r src dst <<<"$pair"
	assert_true "allowlisted $src: 1 MB TCP echo to $dst:9000 intact (a drop rule closes the port)" \
		tcp_echo_ok "$src" "$dst"
	assert_true "allowlisted $src: UDP echo $dst:9001, 10 of 10" \
		quietly in_ns "$CLI" timeout 30 "$PY" "$E2E_LIB_DIR/udp_echo.py" "$dst" 9001 10
done
assert_false "not allowlisted $OTHER4: TCP to $S4:9000 refused by the drop rule" tcp_connects "$OTHER4" "$S4"
stats_snapshot "$E2E_TMP/s1.json" || die "cannot read stats"
assert_ge "stats: filter_rule counted the $OTHER4 SYNs" \
	$(($(stat_of "$E2E_TMP/s0.json" filter_rule) + 1)) "$(stat_of "$E2E_TMP/s1.json" filter_rule)"
assert_match "xl4 stats --json has allow_list (docs/filter.md, Counters)" '"allow_list"' "$(cat "$E2E_TMP/s1.json")"
assert_match "xl4 stats table names allow_list" 'allow_list' "$(x stats)"
assert_true "rule del $id_drop $id_drop6" quietly x rule del "$id_drop"
quietly x rule del "$id_drop6" || _fail "rule del $id_drop6"

# ---------------------------------------------------------------------------------------------
e2e_section "(b) a blocked prefix is dropped, IPv4 and IPv6"
assert_true "before the block: TCP from $BAD4 connects" tcp_connects "$BAD4" "$S4"
assert_true "before the block: TCP from $BAD6 connects" tcp_connects "$BAD6" "$S6"
quietly x block add 198.18.6.0/24 2001:db8:6::/48 || _fail "block add"
assert_false "blocked: TCP from $BAD4 fails" tcp_connects "$BAD4" "$S4"
assert_false "blocked: TCP from $BAD6 fails" tcp_connects "$BAD6" "$S6"
sleep 1.1 # the SYN retransmits are over; the event sampler has refilled
stats_snapshot "$E2E_TMP/b0.json" || die "cannot read stats"
udp_send "$BAD4" "$S4" 9001 "$N_BAD4" 200 >/dev/null
udp_send "$BAD6" "$S6" 9001 "$N_BAD6" 200 >/dev/null
sleep 0.3
stats_snapshot "$E2E_TMP/b1.json" || die "cannot read stats"
assert_eq "stats: filter_block grew by exactly the $N_BAD4 + $N_BAD6 datagrams sent" \
	$((N_BAD4 + N_BAD6)) $(($(stat_of "$E2E_TMP/b1.json" filter_block) - $(stat_of "$E2E_TMP/b0.json" filter_block)))
assert_match "xl4 stats table: a filter_block row" 'filter_block +[0-9]+' "$(x stats)"
timeout 10 "$XL4" events -s "$DAEMON_SOCK" --json >"$E2E_TMP/events.json"
ev=$("$PY" - "$E2E_TMP/events.json" "$BAD4" "$BAD6" <<'PY_END'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def n(src, by):
    return sum(1 for e in evs if e.get("reason") == "filter_block" and e.get("src") == src
               and e.get("blocked_by") == by and e.get("dport") == 9001)
print(n(sys.argv[2], "198.18.6.0/24"), n(sys.argv[3], "2001:db8:6::/48"))
PY_END
)
read -r ev4 ev6 <<<"$ev"
assert_eq "events: filter_block from $BAD4 blocked_by 198.18.6.0/24 (every datagram sampled)" "$N_BAD4" "${ev4:-0}"
assert_eq "events: filter_block from $BAD6 blocked_by 2001:db8:6::/48" "$N_BAD6" "${ev6:-0}"
quietly x block del 198.18.6.0/24 2001:db8:6::/48 || _fail "block del"
assert_true "unblocked: TCP from $BAD4 connects again" tcp_connects "$BAD4" "$S4"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) a rate-limited source is held to its rate"
bg_start "$SRV" "$E2E_TMP/sink.log" "$PY" -u -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9002))
s.settimeout(1.0)
n = 0
print("listening", flush=True)
while True:
    try:
        s.recv(2048)
        n += 1
    except socket.timeout:
        pass
    with open(sys.argv[1], "w") as f:
        f.write("%d\n" % n)
' "$E2E_TMP/sink.count"
wait_listen "$SRV" udp 9002 || die "sink did not listen on udp 9002"
id_lim=$(x rule add "$S4" --proto udp --port 9002 --action limit --rate "$RATE" --burst "$BURST")
assert_match "rule add: limit udp/9002 to $S4 at $RATE/s burst $BURST (id $id_lim)" '^[0-9]+$' "$id_lim"
stats_snapshot "$E2E_TMP/r0.json" || die "cannot read stats"
read -r sent secs gap <<<"$(udp_send "$LIM4" "$S4" 9002 $((SEND_PPS * SEND_SECS)) "$SEND_PPS")"
sleep 1.5 # the sink writes its count once a second
stats_snapshot "$E2E_TMP/r1.json" || die "cannot read stats"
x rule list --json >"$E2E_TMP/rules.json"
read -r matched dropped <<<"$("$PY" - "$E2E_TMP/rules.json" "$id_lim" <<'PY_END'
import json, sys
for r in json.load(open(sys.argv[1])):
    if r["id"] == int(sys.argv[2]):
        print(r["counters"]["matched"], r["counters"]["dropped"])
PY_END
)"
received=$(cat "$E2E_TMP/sink.count" 2>/dev/null || echo 0)
accepted=$((matched - dropped))
# Tolerance. The limiter itself is exact to well under 1% (the BPF fixtures drive it with a
# test clock). What the kernel sees here is the sender's real pacing: while the source sends
# faster than the rate the bucket stays empty after the burst, so accepted = burst + rate x
# (last - first send), however uneven the sending, as long as no pause is long enough to fill
# the bucket (burst/rate = 100 ms; checked below). The sender measures that time itself; the
# time from a send to the XDP program differs by scheduling delays of at most a few ms at
# each end, i.e. +-1-2 packets at 200 pps. +-5% (about +-30 packets of ~620) covers that with
# room, and is the accuracy the issue asks of the limiter.
want=$("$PY" -c "print(round($BURST + $RATE * $secs))")
lo=$("$PY" -c "print(int($want * 0.95))")
hi=$("$PY" -c "print(int($want * 1.05 + 0.999))")
e2e_log "  sent $sent in ${secs}s (longest pause ${gap}s); rule: matched $matched dropped $dropped; sink got $received; want $want ($lo..$hi)"
assert_true "sender kept sending faster than the rate (longest pause ${gap}s < 0.1 s)" \
	"$PY" -c "import sys; sys.exit(0 if $gap < 0.1 else 1)"
assert_eq "rule $id_lim matched every datagram sent" "$sent" "$matched"
assert_true "accepted by the rule: $accepted within $lo..$hi (burst + rate x ${secs}s +-5%)" \
	test "$accepted" -ge "$lo" -a "$accepted" -le "$hi"
assert_eq "the receiver got exactly what the rule accepted" "$accepted" "$received"
assert_eq "stats: filter_rate grew by what the rule dropped" "$dropped" \
	$(($(stat_of "$E2E_TMP/r1.json" filter_rate) - $(stat_of "$E2E_TMP/r0.json" filter_rate)))
assert_match "xl4 rule list: the limit rule with its counters" \
	"$id_lim +198\.18\.0\.2/32 +udp +9002 +limit .*matched $matched dropped $dropped" "$(x rule list)"
timeout 10 "$XL4" events -s "$DAEMON_SOCK" --json >"$E2E_TMP/events2.json"
n_rule=$("$PY" - "$E2E_TMP/events2.json" "$id_lim" "$LIM4" <<'PY_END'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(1 for e in evs if e.get("reason") == "filter_rate" and e.get("rule") == int(sys.argv[2])
          and e.get("src") == sys.argv[3]))
PY_END
)
assert_ge "events: filter_rate drops name rule $id_lim" 1 "${n_rule:-0}"
assert_true "rule del $id_lim" quietly x rule del "$id_lim"

# ---------------------------------------------------------------------------------------------
e2e_section "(d) xl4 stats"
table=$(x stats)
printf '%s\n' "$table" | grep -E 'filter_|allow_' | sed 's/^/    /'
for r in filter_block filter_rule filter_rate; do
	assert_match "xl4 stats table: a $r row with a count" "$r +[1-9][0-9]* " "$table"
done
stats_snapshot "$E2E_TMP/end.json" || die "cannot read stats"
assert_eq "verdicts.aborted.packets" 0 "$(json_get "$E2E_TMP/end.json" verdicts.aborted.packets)"

# ---------------------------------------------------------------------------------------------
e2e_section "(e) the global limit's counters"
N_GL=60
quietly x limit set --rate 1 --burst 10 || _fail "limit set --rate 1 --burst 10"
x limit show --json >"$E2E_TMP/gl0.json"
stats_snapshot "$E2E_TMP/g0.json" || die "cannot read stats"
read -r sent _ _ <<<"$(udp_send "$OTHER4" "$S4" 9003 "$N_GL" 200)"
x limit show --json >"$E2E_TMP/gl1.json"
stats_snapshot "$E2E_TMP/g1.json" || die "cannot read stats"
# gl COUNTER: how far `xl4 limit show` moved it (other traffic, such as the client's own IPv6
# chatter, may add a little)
gl() {
	echo $(($(json_get "$E2E_TMP/gl1.json" "counters.$1") -
		$(json_get "$E2E_TMP/gl0.json" "counters.$1")))
}
gl_dropped=$(gl dropped)
e2e_log "  sent $sent; limit show: matched +$(gl matched) dropped +$gl_dropped"
assert_ge "limit show: matched every datagram sent" "$sent" "$(gl matched)"
assert_ge "limit show: dropped all but the burst (and a second's rate)" $((N_GL - 12)) "$gl_dropped"
assert_eq "stats: filter_rate grew by what the limit dropped" "$gl_dropped" \
	$(($(stat_of "$E2E_TMP/g1.json" filter_rate) - $(stat_of "$E2E_TMP/g0.json" filter_rate)))
assert_true "limit off" quietly x limit off

daemon_stop
assert_eq "daemon exit status after SIGTERM" 0 "${DAEMON_RC:-x}"
e2e_summary "filter traffic"
