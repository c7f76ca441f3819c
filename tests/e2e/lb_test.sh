#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The load balancer end to end, one forwarding mode per run:
#
#   tests/e2e/lb_test.sh l2|port|ipip      (run by tests/e2e/test_lb_{l2,port,ipip}.sh)
#
# A client, the balancer (xl4 daemon) and backends b1..b4 on a bridge (tests/e2e/lb_topo.sh);
# each backend runs `xl4 agent` for the mode (l2: VIPs on lo + ARP sysctls; port: + source-port
# restore, backend ports 8080/9090 behind VIP ports 80/9000; ipip: + decapsulation) and
# lb_server.py (HTTP and UDP echo, both answering with the backend's name). VIPs web4
# (198.18.1.1:80/tcp), web6 ([2001:db8:1::1]:80/tcp), udp4 and udp6 (port 9000/udp); weights
# b1:b2:b3 = 1:1:2.
#
#   (a) set-up: agents and servers up, the daemon resolves every backend and marks it active
#   (b) HTTP: LB_E2E_REQUESTS (2000) requests per family, each a new TCP connection from its
#       own source port, 12 in parallel: none fails; the spread over b1..b3 (counted from who
#       answered) is within 5 percentage points of 25/25/50
#   (c) UDP: 20 sockets x 5 datagrams per family, each reply verified (from VIP:9000, echo of
#       the datagram, one backend per socket)
#   (d) direct server return, counted on the bridge (nftables, see lb_nft_setup): no frame from
#       a VIP reaches or leaves the balancer's port, while the client's port received the
#       replies straight from the backends' ports; every client->VIP frame went to the balancer
#       and nowhere else, the balancer forwarded exactly as many, and its per-VIP counters
#       (`xl4 vip list --json`) equal that count
#   (e) 120 long-lived HTTP/1.1 connections (60 per family, a request every 100 ms, each reply
#       checked) while b1 is drained, b4 is added (agent + server + `xl4 backend add`) and b2's
#       weight changes: no connection breaks; after the drain no new connection reaches b1 (the
#       replies and b1's new-flow counters say so), not even one whose 5-tuple went to b1
#       before the drain (fixed source ports 60000+, used before and after), and b4 gets new
#       ones. Then b3 is removed:
#       every b3 connection breaks (its flows go to others, which reset them) and only those;
#       all the others keep getting replies
#   (f) the daemon stops cleanly; teardown leaves no namespace, pin or process behind
#
# Set LB_E2E_CONF_WEIGHTS="1 1 1" to configure other weights than the checks expect: (b) must
# then fail (a check that cannot fail proves nothing).
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
MODE=${1:-}
case $MODE in
l2 | port | ipip) ;;
*)
	echo "usage: $0 l2|port|ipip" >&2
	exit 2
	;;
esac

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/lb_topo.sh
. "$E2E_LIB_DIR/lb_topo.sh"

require_root
require_cmd ip nsenter setsid ethtool nft ss timeout
require_xl4
e2e_tmpdir
T0=$SECONDS

W=(1 1 2)                                     # what the checks expect
read -r -a CONF_W <<<"${LB_E2E_CONF_WEIGHTS:-${W[*]}}" # what the daemon is told
N_REQ=${LB_E2E_REQUESTS:-2000}
N_HOLD=120
CLIENT="$E2E_LIB_DIR/lb_client.py"
EV=$E2E_TMP/events
STOP=$E2E_TMP/stop

xl4c() { timeout 10 "$XL4" "$@" -s "$DAEMON_SOCK"; }
vip_host() { if [ "$1" = 4 ]; then echo "$LB_VIP4"; else echo "$LB_VIP6"; fi; }

# spread_ok FILE W1 W2 W3: the "by" counts of a client result follow the weights within 5
# percentage points (b1..bN), and nobody else answered.
spread_ok() {
	"$PY" - "$@" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
w = [int(x) for x in sys.argv[2:]]
total = sum(r["by"].values())
bad = [k for k in r["by"] if k not in [f"b{i + 1}" for i in range(len(w))]]
ok = total > 0 and not bad
out = []
for i, wi in enumerate(w):
    got = 100.0 * r["by"].get(f"b{i + 1}", 0) / max(total, 1)
    want = 100.0 * wi / sum(w)
    ok = ok and abs(got - want) <= 5.0
    out.append(f"b{i + 1} {got:.1f}% (want {want:.1f}%)")
print(", ".join(out) + (f"; unexpected backends {bad}" if bad else ""))
sys.exit(0 if ok else 1)
EOF
}

# jq-like access to the last line of a client result: jget FILE EXPR (Python expression on r)
jget() {
	"$PY" -c 'import json, sys; r = json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# b4_states: b4's state behind web4 and web6 in $E2E_TMP/vips-add.json ("active/active")
b4_states() {
	"$PY" -c '
import json, sys
vs = {v["name"]: v for v in json.load(open(sys.argv[1]))}
print("/".join(b["state"] for n in ("web4", "web6") for b in vs[n]["backends"] if b["address"] in sys.argv[2:]))' \
		"$E2E_TMP/vips-add.json" "$(lb_be_addr "$MODE" 4 4)" "$(lb_be_addr "$MODE" 6 4)"
}
# be_new_flows FILE ADDR: new flows of one backend summed over the VIPs it is in
be_new_flows() {
	"$PY" -c 'import json, sys; vs = json.load(open(sys.argv[1])); print(sum(b["counters"]["new_flows"] for v in vs for b in v["backends"] if b["address"] == sys.argv[2]))' "$1" "$2"
}

# http_run NAME FAM COUNT [SPORT_BASE]: COUNT new-connection requests to the VIP; result in
# $E2E_TMP/NAME.json
http_run() {
	in_ns "$LB_CLI" timeout 120 "$PY" "$CLIENT" http "$(vip_host "$2")" "$LB_VPORT" "$3" 12 ${4:+"$4"} \
		>"$E2E_TMP/$1.json" 2>"$E2E_TMP/$1.log"
	sed 's/^/        /' "$E2E_TMP/$1.log"
}

# be_cmd ACTION I [ARGS]: `xl4 backend ACTION` for backend I on both TCP VIPs
be_cmd() {
	local action=$1 i=$2 fam rc=0

	shift 2
	for fam in 4 6; do
		xl4c backend "$action" "web$fam" "$(lb_be_addr "$MODE" "$fam" "$i")" "$@" || rc=1
	done
	return "$rc"
}

event() { echo "$1 $(date +%s.%N)" >>"$EV"; }

# The client's ephemeral ports, one range per phase: a connection made after a change never
# reuses the 5-tuple of one made before it, so "new connections" are new flows to the
# balancer. Ports 60000+ stay free for the explicit same-tuple check.
client_ports() { in_ns "$LB_CLI" sysctl -qw net.ipv4.ip_local_port_range="$1 $2"; }

# ---- (a) set-up ----
e2e_section "set-up ($MODE mode)"
lb_topo_create 4
lb_nft_setup "$MODE"
for i in 1 2 3; do lb_backend_start "$MODE" "$i"; done
lo_addrs=$(ip -n "$(lb_be_ns 1)" -o addr show dev lo)
assert_match "b1: VIP4 on lo (xl4 agent)" "$LB_VIP4/32" "$lo_addrs"
assert_match "b1: VIP6 on lo (xl4 agent)" "$LB_VIP6/128" "$lo_addrs"
assert_eq "b1: arp_ignore" 1 "$(in_ns "$(lb_be_ns 1)" cat /proc/sys/net/ipv4/conf/all/arp_ignore)"
lb_write_conf "$MODE" "$E2E_TMP/xl4.conf" "${CONF_W[@]}"
DAEMON_PIN=$LB_PIN_PREFIX-lb
daemon_start "$LB_LB" -c "$E2E_TMP/xl4.conf"
if grep -qi 'generic\|skb mode' "$DAEMON_LOG"; then
	e2e_log "  note: the daemon fell back to generic XDP: $(grep -i 'generic\|skb mode' "$DAEMON_LOG" | head -1)"
fi
assert_true "every backend of the 4 VIPs is active (MAC resolved, healthy)" lb_wait_active 3 ||
	{ daemon_log; die "backends not active: nothing below can work"; }
t_setup=$((SECONDS - T0))

# ---- (b) HTTP over new connections ----
e2e_section "HTTP: $N_REQ new connections per family, weights ${W[*]}"
t=$SECONDS
# Each request from its own fixed source port (10000 + i): the client's own port choice
# depends on which of its earlier sockets linger in TIME_WAIT, i.e. on earlier outcomes, and
# port reuse hits the balancer's connection table; both skew a count from ephemeral ports by a
# few points. Fixed ports make the spread a property of xl4 alone (Maglev over the flow hash).
for fam in 4 6; do
	http_run "http$fam" "$fam" "$N_REQ" 10000
	assert_eq "IPv$fam: HTTP requests answered" "$N_REQ" "$(jget "$E2E_TMP/http$fam.json" 'r["ok"]')"
	assert_eq "IPv$fam: HTTP failures" 0 "$(jget "$E2E_TMP/http$fam.json" 'r["fail"]')"
	assert_true "IPv$fam: spread $(spread_ok "$E2E_TMP/http$fam.json" "${W[@]}")" \
		spread_ok "$E2E_TMP/http$fam.json" "${W[@]}"
done
t_http=$((SECONDS - t))

# ---- (c) UDP ----
e2e_section "UDP echo: 20 sockets x 5 datagrams per family"
for fam in 4 6; do
	in_ns "$LB_CLI" timeout 60 "$PY" "$CLIENT" udp "$(vip_host "$fam")" "$LB_UPORT" 20 5 \
		>"$E2E_TMP/udp$fam.json" 2>"$E2E_TMP/udp$fam.log"
	sed 's/^/        /' "$E2E_TMP/udp$fam.log"
	assert_eq "IPv$fam: UDP replies verified" 100 "$(jget "$E2E_TMP/udp$fam.json" 'r["ok"]')"
	assert_eq "IPv$fam: UDP sockets answered by more than one backend" 0 \
		"$(jget "$E2E_TMP/udp$fam.json" 'r["mixed"]')"
	assert_ge "IPv$fam: UDP backends used" 2 "$(jget "$E2E_TMP/udp$fam.json" 'len(r["by"])')"
done

# ---- (d) direct server return ----
# Counted on the bridge, where every frame of every host crosses (lb_nft_setup): replies carry
# the VIP as source, so "no frame from a VIP to or from the balancer's port" while the
# client's port got them from the backends' ports is exactly "replies bypass the balancer".
# The other direction is accounted for too: each client->VIP frame went to the balancer (and
# nowhere else), the balancer forwarded that many to backends and counted that many per VIP.
e2e_section "direct server return (bridge counters vs the balancer's per-VIP counters)"
sleep 0.5 # the last FIN/ACKs
lb_vip_json "$E2E_TMP/vips-d.json" || die "xl4 vip list --json failed"
req=$(lb_nft_get req_to_lb)
fwd=$(lb_nft_get fwd_to_be)
vip_pkts=$("$PY" -c 'import json, sys; print(sum(v["counters"]["packets"] for v in json.load(open(sys.argv[1]))))' "$E2E_TMP/vips-d.json")
e2e_log "  bridge: client->VIP to balancer $req, balancer->backends $fwd, VIP->client from backends $(lb_nft_get reply_to_cli); xl4 per-VIP packets $vip_pkts"
assert_eq "frames from a VIP delivered to the balancer's port" 0 "$(lb_nft_get vip_to_lb)"
assert_eq "frames from a VIP sent by the balancer" 0 "$(lb_nft_get vip_from_lb)"
assert_eq "client->VIP frames that bypassed the balancer" 0 "$(lb_nft_get req_other)"
# per connection at least SYN-ACK, response, FIN from the backend; per datagram one reply
assert_ge "VIP->client frames straight from the backends' ports" $((2 * 3 * N_REQ + 200)) "$(lb_nft_get reply_to_cli)"
assert_ge "client->VIP frames the balancer received" $((2 * 3 * N_REQ + 200)) "$req"
assert_eq "frames the balancer forwarded to backends = client->VIP frames it received" "$req" "$fwd"
assert_eq "xl4 per-VIP packet counters = client->VIP frames on the bridge" "$req" "$vip_pkts"

# ---- (e) long-lived connections through drain, add, set-weight, del ----
e2e_section "$N_HOLD long-lived connections: drain b1, add b4, set-weight b2 3, del b3"
t=$SECONDS
# Same-tuple check, part 1: 100 connections per family from fixed source ports 60000-60099;
# part 2 after the drain sends new connections with the same 5-tuples.
for fam in 4 6; do
	http_run "tuple$fam" "$fam" 100 60000
	assert_eq "IPv$fam: fixed-port connections answered" 100 "$(jget "$E2E_TMP/tuple$fam.json" 'r["ok"]')"
done
: >"$EV"
client_ports 30000 34999
bg_start "$LB_CLI" "$E2E_TMP/hold.out" timeout 90 "$PY" "$CLIENT" hold "$LB_VIP4" "$LB_VIP6" \
	"$LB_VPORT" "$N_HOLD" 0.1 60 "$STOP" "$EV"
HOLD_PID=$BG_PID
for ((i = 0; i < 150; i++)); do
	grep -q '^connected' "$E2E_TMP/hold.out" && break
	proc_exited "$HOLD_PID" && break
	sleep 0.1
done
assert_eq "long-lived connections established" "connected $N_HOLD" "$(grep '^connected' "$E2E_TMP/hold.out")"

sleep 0.5
event drain
assert_true "xl4 backend drain b1" be_cmd drain 1
lb_vip_json "$E2E_TMP/vips-drained.json"
b1_flows_drain=$(be_new_flows "$E2E_TMP/vips-drained.json" "$(lb_be_addr "$MODE" 4 1)")/$(be_new_flows "$E2E_TMP/vips-drained.json" "$(lb_be_addr "$MODE" 6 1)")
client_ports 35000 44999
for fam in 4 6; do
	http_run "drain$fam" "$fam" 200
	assert_eq "IPv$fam after drain: new connections answered" 200 "$(jget "$E2E_TMP/drain$fam.json" 'r["ok"]')"
	assert_eq "IPv$fam after drain: new connections to b1" 0 "$(jget "$E2E_TMP/drain$fam.json" 'r["by"].get("b1", 0)')"
done

# A new TCP connection is a new flow even when its 5-tuple was seen before (a client reusing
# a port): it must not go to the drained backend either.
for fam in 4 6; do
	http_run "tuple$fam-again" "$fam" 100 60000
	assert_eq "IPv$fam after drain: fixed-port connections answered" 100 "$(jget "$E2E_TMP/tuple$fam-again.json" 'r["ok"]')"
	assert_eq "IPv$fam after drain: new connections on 5-tuples b1 had before the drain ($(jget "$E2E_TMP/tuple$fam.json" 'r["by"].get("b1", 0)')) that went to b1 again" 0 \
		"$(jget "$E2E_TMP/tuple$fam-again.json" 'r["by"].get("b1", 0)')"
done

event add
client_ports 45000 54999
lb_backend_start "$MODE" 4
assert_true "xl4 backend add b4" be_cmd add 4
for ((i = 0; i < 75; i++)); do
	lb_vip_json "$E2E_TMP/vips-add.json" && [ "$(b4_states)" = active/active ] && break
	sleep 0.2
done
assert_eq "b4 state behind web4/web6" active/active "$(b4_states)"
for fam in 4 6; do
	http_run "add$fam" "$fam" 300
	assert_eq "IPv$fam after add: new connections answered" 300 "$(jget "$E2E_TMP/add$fam.json" 'r["ok"]')"
	assert_eq "IPv$fam after add: new connections to b1 (drained)" 0 "$(jget "$E2E_TMP/add$fam.json" 'r["by"].get("b1", 0)')"
	assert_ge "IPv$fam after add: new connections to b4" 1 "$(jget "$E2E_TMP/add$fam.json" 'r["by"].get("b4", 0)')"
done

event weight
assert_true "xl4 backend set-weight b2 3" be_cmd set-weight 2 3
sleep 1
lb_vip_json "$E2E_TMP/vips-weight.json"
assert_eq "b1 new flows (v4/v6) unchanged since the drain" "$b1_flows_drain" \
	"$(be_new_flows "$E2E_TMP/vips-weight.json" "$(lb_be_addr "$MODE" 4 1)")/$(be_new_flows "$E2E_TMP/vips-weight.json" "$(lb_be_addr "$MODE" 6 1)")"

event remove
assert_true "xl4 backend del b3" be_cmd del 3
sleep 2
touch "$STOP"
proc_wait_exit "$HOLD_PID" 15 || e2e_log "  the hold client did not stop in 15 s"
tail -n +2 "$E2E_TMP/hold.out" | grep -v '^{' | sed 's/^/        /'
tail -1 "$E2E_TMP/hold.out" >"$E2E_TMP/hold.json"
if jget "$E2E_TMP/hold.json" 'r["conns"]' >/dev/null 2>&1; then
	h() { jget "$E2E_TMP/hold.json" "$1"; }
	assert_ge "long-lived connections on b1 (drained later)" 1 "$(h 'r["by"].get("b1", 0)')"
	assert_ge "long-lived connections on b3 (removed later)" 1 "$(h 'r["by"].get("b3", 0)')"
	assert_eq "connections broken by drain, add or set-weight" 0 "$(h 'sum(n for p, n in r["broken_in"].items() if p != "remove")')"
	assert_eq "connections stalled (no break, but no reply lately)" 0 "$(h 'r["stalled"]')"
	assert_eq "broken after del b3: only b3's" "b3" "$(h '",".join(sorted(r["broken_by"].get("remove", {}))) or "none"')"
	assert_eq "broken after del b3: all of b3's" "$(h 'r["by"].get("b3", 0)')" "$(h 'r["broken_by"].get("remove", {}).get("b3", 0)')"
	assert_eq "alive at the end: every connection not on b3" "$(h 'r["conns"] - r["by"].get("b3", 0)')" "$(h 'sum(n for b, n in r["alive_by"].items() if b != "b3")')"
else
	_fail "the hold client gave no result: $(tail -5 "$E2E_TMP/hold.out")"
fi
t_hold=$((SECONDS - t))

# ---- (f) teardown ----
e2e_section "teardown"
daemon_stop TERM
assert_eq "daemon exit status on SIGTERM" 0 "${DAEMON_RC:-?}"
e2e_cleanup
assert_eq "namespaces left" "" "$(ip netns list | grep "^$LB_P-" | cut -d' ' -f1 | tr '\n' ' ')"
assert_eq "pins left" "" "$(ls -d "$LB_PIN_PREFIX"* 2>/dev/null | tr '\n' ' ')"
e2e_log "  time: set-up ${t_setup}s, HTTP ${t_http}s, long-lived ${t_hold}s, total $((SECONDS - T0))s"
e2e_summary "lb $MODE"
