#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The cluster job without BGP (tests/e2e/test_cluster.sh has BIRD, ECMP and real flows): the
# daemon keeps exactly the VIP routes it should in cluster.route_table, protocol 76, and
# nothing else there is touched.
#   - refused configs: cluster without lb.seed, a kernel table
#   - announced at start (IPv4 /32, IPv6 /128), with the reason, in vip list, show, metrics
#   - a health change withdraws within 50 ms of the daemon's backend_down event (ip monitor)
#   - min_healthy, changed by reload; a VIP sharing the address holds the route up
#   - drain / undrain, and a drain kept over a restart
#   - a reload that re-adds health checks withdraws nothing; a route deleted by hand is put
#     back; someone else's route for a VIP's address is neither replaced nor deleted
#   - SIGKILL leaves the routes; the next daemon takes them over (with health checks 5 s
#     apart: the backends it adopted count) without deleting the live one, and removes the
#     stale one
#   - the program taken off behind the daemon's back: withdrawn within the next tick
#   - a new VIP waits for its first passed health check
#   - xl4 detach: withdrawn first, forwarding drain_ms longer, then detached
#   - runtime changes warn that they are node-local
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped.
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter socat curl
require_xl4
e2e_tmpdir

A=xl4e-$$-node
B=xl4e-$$-be
ns_create "$A"
ns_create "$B"
veth_pair "$A" a0 "$B" b0
ip -n "$A" addr add 198.18.0.1/24 dev a0
ip -n "$B" addr add 198.18.0.21/24 dev b0
ip -n "$B" addr add 198.18.0.22/24 dev b0
ip -n "$A" -6 addr add 2001:db8::1/64 dev a0 nodad
ip -n "$B" -6 addr add 2001:db8::21/64 dev b0 nodad
BMAC=$(link_mac "$B" b0)
TABLE=100
V4=198.18.1.1
V6=2001:db8:1::1

# listener I: a TCP port 80 for the health checks of backend 198.18.0.2I
listen() {
	bg_start "$B" "$E2E_TMP/listen$1.log" socat TCP-LISTEN:80,bind=198.18.0.2"$1",reuseaddr,fork SYSTEM:true
	eval "LISTEN$1=$BG_PID"
}
unlisten() { eval "_kill_group \$LISTEN$1"; }

HC_INTERVAL=100 # ms between health checks (write_conf)
write_conf() { # MIN_HEALTHY [extra top-level text]
	cat >"$E2E_TMP/xl4.conf" <<EOC
interfaces = [ "a0" ];
lb: { seed = 7; };
cluster: { route_table = $TABLE; min_healthy = $1; drain_ms = 300; };
vips = (
  { name = "web"; address = "$V4:80/tcp";
    health: { type = "tcp"; interval_ms = $HC_INTERVAL; timeout_ms = $((HC_INTERVAL * 8 / 10)); rise = 1; fall = 1; };
    backends = ( { address = "198.18.0.21"; mac = "$BMAC"; },
                 { address = "198.18.0.22"; mac = "$BMAC"; } ); }
  ${2:-}
);
EOC
}
WEB6=", { name = \"web6\"; address = \"[$V6]:80/tcp\";
    backends = ( { address = \"[2001:db8::21]\"; mac = \"$BMAC\"; } ); }"

routes() { ip -n "$A" route show table "$TABLE" proto 76; ip -n "$A" -6 route show table "$TABLE" proto 76; }
has_route() { routes | grep "^blackhole $1 " >/dev/null; } # no -q: pipefail
# wait_route ADDR yes|no [SECONDS]: until the route is there (or gone)
wait_route() {
	local i n=$(( ${3:-3} * 20 ))

	for ((i = 0; i < n; i++)); do
		if has_route "$1"; then [ "$2" = yes ] && return 0; else [ "$2" = no ] && return 0; fi
		sleep 0.05
	done
	return 1
}
vip_field() { # NAME FIELD: from xl4 vip list --json
	"$XL4" vip list -s "$DAEMON_SOCK" --json | "$PY" -c '
import json, sys
for v in json.load(sys.stdin):
    if v["name"] == sys.argv[1]:
        print(v.get(sys.argv[2], "missing"))' "$1" "$2"
}

# wait_reason VIP TEXT: until its announce_reason has TEXT (at most 3 s)
wait_reason() {
	local i

	for ((i = 0; i < 60; i++)); do
		case $(vip_field "$1" announce_reason) in *"$2"*) return 0 ;; esac
		sleep 0.05
	done
	return 1
}

e2e_section "configs the cluster refuses"
cat >"$E2E_TMP/noseed.conf" <<EOC
interfaces = [ "a0" ];
cluster: { route_table = 100; };
EOC
expect_fail "cluster without lb.seed" 1 "announcing VIPs needs lb.seed" \
	"$XL4" daemon -c "$E2E_TMP/noseed.conf" -s "$E2E_TMP/x.sock" --pin-path /sys/fs/bpf/xl4-e2e-$$-x
cat >"$E2E_TMP/main.conf" <<EOC
interfaces = [ "a0" ];
lb: { seed = 7; };
cluster: { route_table = 254; };
EOC
expect_fail "the main table" 1 "kernel's own tables" \
	"$XL4" daemon -c "$E2E_TMP/main.conf" -s "$E2E_TMP/x.sock" --pin-path /sys/fs/bpf/xl4-e2e-$$-x

e2e_section "announced at start, with the reason"
# Someone else's route in the same table: never touched.
ip -n "$A" route add blackhole 198.18.9.9/32 table "$TABLE"
listen 1
listen 2
write_conf 1 "$WEB6"
DAEMON_DETACH=0 daemon_start "$A" -c "$E2E_TMP/xl4.conf"
assert_true "IPv4 VIP route in table $TABLE, protocol 76 ($(routes | tr '\n' ';'))" wait_route "$V4" yes
assert_true "IPv6 VIP route (/128)" wait_route "$V6" yes
assert_eq "web announced" True "$(vip_field web announced)"
assert_match "web's reason" "2 of 2 backends usable" "$(vip_field web announce_reason)"
assert_match "xl4 cluster show" "198.18.1.1/32" "$("$XL4" cluster show -s "$DAEMON_SOCK")"
assert_match "status --json has the cluster" "\"route_table\": ?$TABLE" \
	"$("$XL4" status -s "$DAEMON_SOCK" --json)"
assert_match "xl4 status says the node serves" "cluster node: serving, 2 VIP route\(s\) in table 100" \
	"$("$XL4" status -s "$DAEMON_SOCK")"
assert_match "xl4 vip list shows the announced state" "cluster: announced \(2 of 2 backends usable\)" \
	"$("$XL4" vip list -s "$DAEMON_SOCK")"
m=$(ip netns exec "$A" curl -s --max-time 5 http://127.0.0.1:9143/metrics)
assert_match "metric xl4_vip_announced" 'xl4_vip_announced\{vip="web"\} 1' "$m"
assert_match "metric xl4_cluster_drained" 'xl4_cluster_drained 0' "$m"

e2e_section "a health change withdraws the route at once"
ip -n "$A" -ts monitor route >"$E2E_TMP/monitor.log" 2>&1 &
MON=$!
cleanup_push "kill $MON 2>/dev/null"
sleep 0.3
unlisten 1
unlisten 2
assert_true "withdrawn when no backend is usable" wait_route "$V4" no
assert_eq "web announced" False "$(vip_field web announced)"
assert_match "web's reason" "0 of 2 backends usable, below min_healthy 1" \
	"$(vip_field web announce_reason)"
assert_true "the IPv6 VIP stays announced" has_route "$V6"
kill "$MON"
# From the daemon's last backend_down event to the kernel's route deletion.
lag=$("$PY" - "$DAEMON_LOG" "$E2E_TMP/monitor.log" "$V4" <<'EOF'
import re, sys
from datetime import datetime, timezone
down = [l for l in open(sys.argv[1]) if "event=backend_down" in l]
t0 = datetime.strptime(re.search(r"time=(\S+)Z", down[-1]).group(1), "%Y-%m-%dT%H:%M:%S.%f")
t0 = t0.replace(tzinfo=timezone.utc).timestamp()
for l in open(sys.argv[2]):
    m = re.match(r"\[(\S+)\]\s*Deleted blackhole " + re.escape(sys.argv[3]), l)
    if m:
        t1 = datetime.fromisoformat(m.group(1)).astimezone(timezone.utc).timestamp()
        print(int((t1 - t0) * 1000))
        break
else:
    print("none")
EOF
)
e2e_log "withdrawn ${lag} ms after the daemon's backend_down event"
assert_true "withdrawn within 50 ms of the health change (${lag} ms)" \
	test "$lag" != none -a "${lag:-999}" -le 50
assert_match "vip_withdrawn event with the reason" 'event=vip_withdrawn vip=web route=198.18.1.1/32 reason="0 of 2' \
	"$(cat "$DAEMON_LOG")"
listen 1
listen 2
assert_true "announced again when the backends come back" wait_route "$V4" yes
assert_true "both backends healthy again" wait_reason web "2 of 2 backends usable"

e2e_section "min_healthy, changed by a reload"
write_conf 2 "$WEB6"
quietly "$XL4" reload -s "$DAEMON_SOCK"
unlisten 2
assert_true "1 of 2 usable is below min_healthy 2: withdrawn" wait_route "$V4" no
assert_match "reason" "1 of 2 backends usable, below min_healthy 2" "$(vip_field web announce_reason)"
write_conf 1 "$WEB6"
quietly "$XL4" reload -s "$DAEMON_SOCK"
assert_true "min_healthy back to 1 by reload: announced" wait_route "$V4" yes
TABLE=101 write_conf 1 "$WEB6"
quietly "$XL4" reload -s "$DAEMON_SOCK"
assert_true "route_table changed by reload: the routes move to the new table" \
	sh -c "ip -n $A route show table 101 proto 76 | grep '^blackhole $V4 ' >/dev/null"
assert_eq "...and leave the old one" "" "$(routes)"
write_conf 1 "$WEB6"
quietly "$XL4" reload -s "$DAEMON_SOCK"
assert_true "and back" wait_route "$V4" yes

e2e_section "a reload that re-adds the health checks withdraws nothing"
ip -n "$A" -ts monitor route >"$E2E_TMP/monitor3.log" 2>&1 &
MON=$!
cleanup_push "kill $MON 2>/dev/null"
sleep 0.2
HC_INTERVAL=2000 write_conf 1 "$WEB6" # other health settings: the checks start over
quietly "$XL4" reload -s "$DAEMON_SOCK"
sleep 0.5
kill "$MON"
assert_false "the route stayed ($(tr '\n' ';' <"$E2E_TMP/monitor3.log"))" \
	grep -q "Deleted blackhole $V4" "$E2E_TMP/monitor3.log"
write_conf 1 "$WEB6"
quietly "$XL4" reload -s "$DAEMON_SOCK"

e2e_section "a route deleted by hand is put back"
ip -n "$A" route del blackhole "$V4/32" table "$TABLE" proto 76
assert_true "back within a tick or two" wait_route "$V4" yes 3
assert_match "the log says so" "198.18.1.1/32 was removed from table 100 behind the daemon's back" \
	"$(cat "$DAEMON_LOG")"

e2e_section "a VIP on the same address holds the route up"
out=$("$XL4" vip add dns "$V4:53/udp" -s "$DAEMON_SOCK" 2>&1)
assert_match "a runtime change warns that it is node-local" "warning: node-local change" "$out"
# (its own backend: a backend address is one backend, health-checked for web)
quietly "$XL4" backend add dns 198.18.0.23 --mac "$BMAC" -s "$DAEMON_SOCK"
unlisten 1
sleep 0.5
assert_true "web has no usable backend, dns has: the address stays" has_route "$V4"
assert_match "web's reason says why" "another VIP on its address is announced" \
	"$(vip_field web announce_reason)"
quietly "$XL4" vip del dns -s "$DAEMON_SOCK"
assert_true "dns removed: withdrawn" wait_route "$V4" no
listen 1
listen 2
assert_true "announced again" wait_route "$V4" yes
assert_true "both backends healthy again" wait_reason web "2 of 2 backends usable"

e2e_section "drain and undrain, kept over a restart"
out=$("$XL4" cluster drain -s "$DAEMON_SOCK")
assert_match "drain reports the withdrawn routes" "2 route\(s\) withdrawn" "$out"
assert_true "drained: IPv4 route gone" wait_route "$V4" no
assert_true "drained: IPv6 route gone" wait_route "$V6" no
assert_match "show says so" "DRAINED" "$("$XL4" cluster show -s "$DAEMON_SOCK")"
assert_true "someone else's route is still there" \
	sh -c "ip -n $A route show table $TABLE | grep '198.18.9.9' >/dev/null"
daemon_stop
DAEMON_DETACH=0 daemon_start "$A" -c "$E2E_TMP/xl4.conf"
sleep 0.5
assert_false "still drained after a restart" has_route "$V4"
# Someone else's route for the VIP's own address: ours is not added over it.
ip -n "$A" route add unreachable "$V4/32" table "$TABLE" proto static
quietly "$XL4" cluster undrain -s "$DAEMON_SOCK"
assert_true "undrained: IPv6 announced" wait_route "$V6" yes
sleep 0.3
assert_match "the foreign route is left as it was" "unreachable $V4 proto static" \
	"$(ip -n "$A" route show table "$TABLE")"
assert_match "web's reason names the refused route" "route refused: add 198.18.1.1/32 in table 100: File exists" \
	"$(vip_field web announce_reason)"
quietly "$XL4" cluster drain -s "$DAEMON_SOCK"
assert_match "a drain does not delete it either" "unreachable $V4 proto static" \
	"$(ip -n "$A" route show table "$TABLE")"
ip -n "$A" route del unreachable "$V4/32" table "$TABLE" proto static
quietly "$XL4" cluster undrain -s "$DAEMON_SOCK"
assert_true "undrained, the way clear: announced" wait_route "$V4" yes
assert_true "both backends healthy" wait_reason web "2 of 2 backends usable"

e2e_section "SIGKILL leaves the routes; the next daemon takes them over"
daemon_stop KILL
assert_true "routes left by the killed daemon" has_route "$V4"
ip -n "$A" -ts monitor route >"$E2E_TMP/monitor2.log" 2>&1 &
MON=$!
cleanup_push "kill $MON 2>/dev/null"
sleep 0.2
# web6 gone from the config; checks 5 s apart: only the adopted backends' state can keep web
HC_INTERVAL=5000 write_conf 1
DAEMON_DETACH=0 daemon_start "$A" -c "$E2E_TMP/xl4.conf"
assert_true "the stale IPv6 route is removed" wait_route "$V6" no
assert_true "the live one is there" has_route "$V4"
sleep 0.5
kill "$MON"
assert_false "the live route was never deleted in between ($(tr '\n' ';' <"$E2E_TMP/monitor2.log"))" \
	grep -q "Deleted blackhole $V4" "$E2E_TMP/monitor2.log"
assert_match "the new daemon found them" "2 route\(s\) in table 100 from a previous daemon" \
	"$(cat "$DAEMON_LOG")"
assert_false "and never withdrew web" grep -q "event=vip_withdrawn vip=web " "$DAEMON_LOG"
assert_eq "web announced" True "$(vip_field web announced)"

e2e_section "the program taken off behind the daemon's back"
ip -n "$A" link set dev a0 xdp off
assert_true "withdrawn within the next tick" wait_route "$V4" no 3
assert_match "reason" "program not attached" "$(vip_field web announce_reason)"
daemon_stop
assert_true "daemon stop leaves no route of ours" test -z "$(routes)"

e2e_section "a new VIP waits for its first passed health check"
DAEMON_DETACH=0 daemon_start "$A" -c "$E2E_TMP/xl4.conf"
assert_true "announced" wait_route "$V4" yes
quietly "$XL4" vip add lost 198.18.1.9:80/tcp --health tcp -s "$DAEMON_SOCK"
quietly "$XL4" backend add lost 198.18.0.29 --mac "$BMAC" -s "$DAEMON_SOCK"
sleep 0.3
assert_false "not announced before a check passed" has_route 198.18.1.9
assert_match "reason" "joining: no verdict yet on 1 of 1 backends" \
	"$(vip_field lost announce_reason)"
quietly "$XL4" vip del lost -s "$DAEMON_SOCK"

e2e_section "xl4 detach withdraws, forwards drain_ms longer, then detaches"
t0=$(date +%s%N)
"$XL4" detach -s "$DAEMON_SOCK" >"$E2E_TMP/detach.out" 2>&1 &
DETACH=$!
sleep 0.15
assert_false "during drain_ms: routes withdrawn" has_route "$V4"
assert_true "...the program still attached" link_has_xdp "$A" a0
assert_true "...and the daemon still answers" quietly "$XL4" status -s "$DAEMON_SOCK"
wait "$DETACH"
assert_eq "xl4 detach exit status ($(cat "$E2E_TMP/detach.out"))" 0 "$?"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_match "it says what it waited for" "detaches in [0-9]+ ms \(cluster.drain_ms\)" \
	"$(cat "$E2E_TMP/detach.out")"
assert_true "detach waited drain_ms = 300 ($ms ms)" test "$ms" -ge 300
assert_false "then detached" link_has_xdp "$A" a0
assert_true "someone else's route is still there" \
	sh -c "ip -n $A route show table $TABLE | grep '198.18.9.9' >/dev/null"
daemon_stop

grep -E "event=(backend|vip|cluster)" "$DAEMON_LOG"
e2e_summary "cluster routes"
