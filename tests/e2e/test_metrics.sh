#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Prometheus endpoint (docs/metrics.md): client ns <-> server ns over a veth pair, `xl4
# daemon` on the server end with a UDP VIP (two backends, one drained; static MACs).
#
#   (a) the strict parser (prom_check.py) rejects what it must: a check that cannot fail
#       proves nothing
#   (b) bad metrics.listen values and a taken port: one line each, the daemon does not start
#   (c) default config: GET /metrics on 127.0.0.1:9143 inside the namespace; 404 elsewhere,
#       405 (with Allow) for other methods; every line parses, HELP/TYPE before samples, no
#       duplicate series, every drop reason present, every metric examples/grafana-xl4.json uses;
#       four idle connections from 127.0.0.1 do not keep a fifth (the local scraper) out
#   (d) a known number of malformed frames (craft.py) and of UDP flows to the VIP: after one
#       tick, xl4_drops_total{reason} equals `xl4 stats --json` and the classes sent, exactly;
#       verdict packets/bytes equal stats; per-VIP and per-backend counters equal
#       `xl4 vip list --json` (the flood guard's series too); backend up/state gauges; build
#       info and start time
#   (d2) map pressure: xl4_map_entries / xl4_map_capacity_entries for every hash, LRU and LPM
#       map, equal to `xl4 status --json`; xl4_conntrack_entries equals the flows sent
#   (e0) metrics.listen on the server's veth address: four idle connections from one address
#       turn a fifth from it away, another address is still served
#   (e) metrics.listen = "[::1]:9143" serves on IPv6 loopback; listen = "" serves nothing
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter setsid ethtool curl timeout
require_xl4
require_scapy
e2e_tmpdir

CLI=xl4m-$$-c
SRV=xl4m-$$-s
C_IF=c0
S_IF=s0
C4=198.18.0.1 S4=198.18.0.2
C6=2001:db8::1 S6=2001:db8::2
VIP4=198.18.1.1 VPORT=9000
BE1=198.18.0.11 BE2=198.18.0.12
N_FLOWS=23 # UDP flows (one datagram each) to the VIP
BURST=(tcp_flags_syn_fin=4 'tcp_flags_null@6=3' udp_port_zero=7 ip4_bad_csum=5 ip6_ext_order=2)
declare -A EXPECT=([tcp_flags_syn_fin]=4 [tcp_flags_null]=3 [udp_port_zero]=7 [ip4_bad_csum]=5
	[ip6_ext_order]=2)
CHECK="$E2E_LIB_DIR/prom_check.py"
URL=http://127.0.0.1:9143/metrics

# scrape FILE [URL]: GET the metrics in the server namespace into FILE; 0 if HTTP 200.
scrape() {
	[ "$(in_ns "$SRV" curl -sg -o "$1" -w '%{http_code}' --max-time 5 "${2:-$URL}")" = 200 ]
}
# http_code METHOD URL: the status code of one request in the server namespace.
http_code() { in_ns "$SRV" curl -sg -o /dev/null -w '%{http_code}' --max-time 5 -X "$1" "$2"; }
# series FILE KEY: one value from prom_check.py's JSON (as an integer), "missing" if absent.
series() {
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); v = d.get(sys.argv[2]); print("missing" if v is None else int(v))' "$1" "$2"
}
# write_conf FILE [METRICS SECTION]: the daemon's config; the metrics section goes on line 9.
write_conf() {
	cat >"$1" <<EOF
interfaces = ["$S_IF"];
xdp_mode = "native";
lb: { seed = 7; conntrack: { ipv6_max_entries = 131072; }; };
vips = ( {
  name = "web4"; address = "$VIP4:$VPORT/udp"; mode = "l2";
  backends = ( { address = "$BE1"; mac = "02:00:00:00:00:11"; },
               { address = "$BE2"; mac = "02:00:00:00:00:12"; drained = true; } );
} );
${2:-}
EOF
}

# ---------------------------------------------------------------------------------------------
e2e_section "(a) the parser rejects bad text"
printf '# HELP a_total x\n# TYPE a_total counter\na_total 1\n' >"$E2E_TMP/good.txt"
assert_true "a well-formed family parses" quietly "$PY" "$CHECK" "$E2E_TMP/good.txt"
BAD_TEXT=(
	'a_total 1\n# HELP a_total x\n# TYPE a_total counter\n'                         # sample first
	'# HELP a_total x\n# TYPE a_total counter\na_total 1\na_total 2\n'              # duplicate
	'# HELP a_total x\n# TYPE a_total counter\na_total{l="x\\q"} 1\n'               # bad escape
	'# HELP a_total x\n# TYPE a_total counter\na_total{l="x"} one\n'                # bad value
	'# HELP a_total x\n# TYPE a_total counter\na_total 1'                           # no newline
	'# HELP b x\n# TYPE b gauge\nb 1\n# HELP c x\n# TYPE c gauge\nc 1\nb{x="1"} 2\n' # split
	'# HELP a x\n# TYPE a counter\na 1\n'                                           # not _total
	'# TYPE a_total counter\na_total 1\n'                                           # no HELP
)
for i in "${!BAD_TEXT[@]}"; do
	# shellcheck disable=SC2059
	printf "${BAD_TEXT[i]}" >"$E2E_TMP/bad$i.txt"
	assert_false "bad text $i is rejected" quietly "$PY" "$CHECK" "$E2E_TMP/bad$i.txt"
done

# ---------------------------------------------------------------------------------------------
e2e_section "topology: $CLI/$C_IF ($C4, $C6) <-> $SRV/$S_IF ($S4, $S6)"
ns_create "$CLI"
ns_create "$SRV"
veth_pair "$CLI" "$C_IF" "$SRV" "$S_IF"
addr4 "$CLI" "$C_IF" "$C4/24"
addr4 "$SRV" "$S_IF" "$S4/24"
addr6 "$CLI" "$C_IF" "$C6/64"
addr6 "$SRV" "$S_IF" "$S6/64"
ip -n "$CLI" route add "$VIP4/32" via "$S4" || die "cannot add the route to the VIP"
S_MAC=$(link_mac "$SRV" "$S_IF")

# ---------------------------------------------------------------------------------------------
e2e_section "(b) bad metrics.listen and a taken port"
B_PIN=/sys/fs/bpf/xl4-e2e-$$-b
cleanup_push "rm -rf '$B_PIN'"
for bad in '"127.0.0.1"' '"127.0.0.1:99999"' '"localhost:9143"' '"::1:9143"' '9143'; do
	write_conf "$E2E_TMP/bad.conf" "metrics: { listen = $bad; };"
	out=$(nsenter --net="/run/netns/$SRV" timeout 10 "$XL4" daemon -c "$E2E_TMP/bad.conf" \
		-s "$E2E_TMP/b.sock" --pin-path "$B_PIN" 2>&1)
	rc=$?
	assert_ge "listen = $bad: exit status non-zero" 1 "$rc"
	assert_eq "listen = $bad: lines of output" 1 "$(printf '%s\n' "$out" | wc -l)"
	assert_match "listen = $bad: names file:line and key ($out)" \
		"$E2E_TMP/bad.conf:9: metrics.listen: " "$out"
done
bg_start "$SRV" "$E2E_TMP/holder.log" "$PY" -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9143)); s.listen(); time.sleep(60)'
HOLDER=$BG_PID
wait_listen "$SRV" tcp 9143 || die "the port holder did not listen"
write_conf "$E2E_TMP/taken.conf"
out=$(nsenter --net="/run/netns/$SRV" timeout 20 "$XL4" daemon -c "$E2E_TMP/taken.conf" \
	-s "$E2E_TMP/b.sock" --pin-path "$B_PIN" 2>&1)
rc=$?
assert_ge "port 9143 taken: exit status non-zero" 1 "$rc"
assert_eq "port 9143 taken: warnings in the output" 1 "$(printf '%s\n' "$out" | grep -c '^level=warn ')"
assert_match "port 9143 taken: says which address and why ($out)" \
	"metrics: cannot listen on 127.0.0.1:9143: Address already in use" "$out"
assert_false "port 9143 taken: nothing attached to $S_IF" link_has_xdp "$SRV" "$S_IF"
assert_false "port 9143 taken: control socket removed" test -e "$E2E_TMP/b.sock"
_kill_group "$HOLDER"
"$XL4" cleanup --pin-path "$B_PIN" -s "$E2E_TMP/b.sock" >/dev/null 2>&1
rm -rf "$B_PIN"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) default config: the endpoint on 127.0.0.1:9143"
CONF=$E2E_TMP/xl4.conf
write_conf "$CONF" # no metrics section: the default
daemon_start "$SRV" -c "$CONF"
export DAEMON_SOCK
e2e_log "  daemon pid $DAEMON_PID, socket $DAEMON_SOCK, pins $DAEMON_PIN"
assert_true "GET $URL: 200" scrape "$E2E_TMP/m0.txt"
assert_true "content type is the text format 0.0.4" quietly bash -c \
	"ip netns exec '$SRV' curl -sI --max-time 5 '$URL' | grep -qi '^content-type: text/plain; version=0.0.4'"
assert_eq "GET /: 404" 404 "$(http_code GET http://127.0.0.1:9143/)"
assert_eq "GET /metricsx: 404" 404 "$(http_code GET http://127.0.0.1:9143/metricsx)"
assert_eq "POST /metrics: 405" 405 "$(http_code POST "$URL")"
assert_eq "DELETE /metrics: 405" 405 "$(http_code DELETE "$URL")"
assert_true "405 says Allow: GET, HEAD" quietly bash -c \
	"ip netns exec '$SRV' curl -si -X PUT --max-time 5 '$URL' | grep -qi '^allow: GET, HEAD'"
assert_false "not served on $S4 (loopback only by default)" \
	quietly in_ns "$CLI" curl -sf --max-time 3 "http://$S4:9143/metrics"
# Connections held from one address (libmicrohttpd's timeout is an idle one): on loopback
# every client is 127.0.0.1, the local scraper too, so no per-address share applies there.
hold_four() { # NS HOST LOG: four idle connections to HOST:9143 from NS, held 8 s
	bg_start "$1" "$3" "$PY" -c 'import socket, sys, time
held = [socket.create_connection((sys.argv[1], 9143), timeout=5) for _ in range(4)]
print("held", len(held), flush=True)
time.sleep(8)' "$2"
	HOLDER=$BG_PID
	for _ in $(seq 100); do grep -q held "$3" && break; sleep 0.1; done
}
hold_four "$SRV" 127.0.0.1 "$E2E_TMP/slow.log"
assert_true "four idle connections held from 127.0.0.1" grep -q 'held 4' "$E2E_TMP/slow.log"
assert_true "on loopback a fifth from 127.0.0.1 (the local scraper) is still served" \
	quietly in_ns "$SRV" curl -sf --max-time 3 "$URL"
proc_stop "$HOLDER"
out=$("$PY" "$CHECK" "$E2E_TMP/m0.txt" "$E2E_TMP/m0.json")
assert_eq "strict parse of the first scrape (exit status; $out)" 0 "$?"
absent=$(for n in $(grep -oE 'xl4_[a-z_]+' "$E2E_ROOT/examples/grafana-xl4.json" | sort -u); do
	grep -q "^# TYPE $n " "$E2E_TMP/m0.txt" || printf '%s ' "$n"
done)
assert_eq "metrics the Grafana dashboard uses that the endpoint lacks" "" "$absent"
stats_snapshot "$E2E_TMP/s0.json" || die "cannot read stats"
missing=$("$PY" - "$E2E_TMP/m0.json" "$E2E_TMP/s0.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
st = json.loads(open(sys.argv[2]).readline())
print(" ".join(r for r in st["drops"] if f'xl4_drops_total{{reason="{r}"}}' not in d) or "-")
EOF
)
assert_eq "every drop reason of xl4 stats has an xl4_drops_total series" "-" "$missing"
version=$(timeout 10 "$XL4" status -s "$DAEMON_SOCK" --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["version"])')
assert_eq "xl4_build_info{version=\"$version\"}" 1 "$(series "$E2E_TMP/m0.json" "xl4_build_info{version=\"$version\"}")"
started=$(series "$E2E_TMP/m0.json" 'xl4_daemon_start_time_seconds{}')
now=$(date +%s)
assert_true "xl4_daemon_start_time_seconds ($started) within the last 60 s of $now" \
	test "$started" -le "$now" -a "$started" -ge $((now - 60))

# ---------------------------------------------------------------------------------------------
e2e_section "(d) known traffic: metrics equal xl4 stats and xl4 vip list"
in_ns "$CLI" timeout 60 "$PY" "$E2E_LIB_DIR/craft.py" --iface "$C_IF" --dst-mac "$S_MAC" \
	"${BURST[@]}" || die "craft.py failed"
in_ns "$CLI" timeout 30 "$PY" - "$VIP4" "$VPORT" "$N_FLOWS" <<'EOF' || die "UDP sender failed"
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
for i, s in enumerate(socks):
    s.sendto(b"xl4-metrics-%d" % i, (host, port))
EOF
# A consistent snapshot: counters equal before and after a scrape that follows a 1 s tick.
for ((try = 0; try < 10; try++)); do
	stats_snapshot "$E2E_TMP/s1.json" || die "cannot read stats"
	sleep 1.3
	scrape "$E2E_TMP/m1.txt" || die "scrape failed"
	stats_snapshot "$E2E_TMP/s2.json" || die "cannot read stats"
	timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" --json >"$E2E_TMP/vips.json" || die "vip list failed"
	"$PY" - "$E2E_TMP/s1.json" "$E2E_TMP/s2.json" <<'EOF' && break
import json, sys
# packets and bytes only: pps/bps are rates and move on their own
a, b = ({(g, n, k): v for g, es in json.loads(open(f).readline()).items() if isinstance(es, dict)
         for n, e in es.items() for k, v in e.items() if k in ("packets", "bytes")}
        for f in sys.argv[1:])
sys.exit(a != b)
EOF
done
assert_true "stats unchanged around the scrape (try $((try + 1)))" test "$try" -lt 10
out=$("$PY" "$CHECK" "$E2E_TMP/m1.txt" "$E2E_TMP/m1.json")
assert_eq "strict parse after traffic (exit status; $out)" 0 "$?"
for r in $(printf '%s\n' "${!EXPECT[@]}" | sort); do
	assert_eq "xl4_drops_total{reason=\"$r\"} (sent ${EXPECT[$r]})" "${EXPECT[$r]}" \
		"$(series "$E2E_TMP/m1.json" "xl4_drops_total{reason=\"$r\"}")"
done
diff=$("$PY" - "$E2E_TMP/m1.json" "$E2E_TMP/s2.json" "$E2E_TMP/vips.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
st = json.loads(open(sys.argv[2]).readline())
vips = json.load(open(sys.argv[3]))
bad, n = [], 0
def cmp(key, want):
    global n
    n += 1
    got = m.get(key)
    if got is None or int(got) != want:
        bad.append(f"{key}={got} stats={want}")
for r, c in st["drops"].items():
    cmp(f'xl4_drops_total{{reason="{r}"}}', c["packets"])
    cmp(f'xl4_dropped_bytes_total{{reason="{r}"}}', c["bytes"])
for v, c in st["verdicts"].items():
    cmp(f'xl4_packets_total{{verdict="{v}"}}', c["packets"])
    cmp(f'xl4_bytes_total{{verdict="{v}"}}', c["bytes"])
for by, c in st["allowed"].items():
    cmp(f'xl4_allowed_packets_total{{by="{by}"}}', c["packets"])
    cmp(f'xl4_allowed_bytes_total{{by="{by}"}}', c["bytes"])
ctr = {"packets": "packets_total", "bytes": "bytes_total", "new_flows": "new_flows_total",
       "ct_hits": "conntrack_hits_total", "ct_misses": "conntrack_misses_total",
       "ct_insert_capped": "conntrack_insert_capped_total"}
for v in vips:
    for k, suf in ctr.items():
        cmp(f'xl4_vip_{suf}{{vip="{v["name"]}"}}', v["counters"][k])
        for b in v["backends"]:
            cmp(f'xl4_backend_{suf}{{backend="{b["address"]}",vip="{v["name"]}"}}', b["counters"][k])
    g = v["guard"]  # the flood guard's view of the VIP (docs/guard.md)
    vl = f'vip="{v["name"]}"'
    cmp(f'xl4_guard_emergency{{{vl}}}', int(g["mode"] == "emergency"))
    cmp(f'xl4_guard_level{{{vl}}}', {None: 0, "first-drop": 1, "challenge": 2}[g["level"]])
    cmp(f'xl4_guard_syn_total{{{vl}}}', g["syn_total"])
    cmp(f'xl4_guard_completing_ack_total{{{vl}}}', g["completing_ack_total"])
    for r in ("dropped", "early", "admitted"):
        cmp(f'xl4_guard_first_drop_total{{result="{r}",{vl}}}', g["first_drop"][r])
    for r in ("sent", "passed", "failed", "budget"):
        cmp(f'xl4_guard_challenge_total{{result="{r}",{vl}}}', g["challenge"][r])
    cmp(f'xl4_guard_verified_pass_total{{{vl}}}', g["verified_pass"])
    cmp(f'xl4_guard_mode_changes_total{{{vl}}}', g["mode_changes"])
cmp('xl4_guard_verified_sources{}', 0)
cmp('xl4_guard_verified_bits{}', 0)
cmp('xl4_guard_verified_bits_size{}', 2 * 2**20)  # two halves at verified_max's default (abi.h)
cmp('xl4_analyzer_blocks_total{}', 0)
pre = 'xl4_drops_total{reason="'
extra = [k for k in m if k.startswith(pre) and k[len(pre):-2] not in st["drops"]]
print(n, "; ".join(bad + [f"{k} not in stats" for k in extra]) or "-")
EOF
)
read -r n_cmp mismatches <<<"$diff"
assert_eq "metrics vs stats --json and vip list --json ($n_cmp series): mismatches" "-" "$mismatches"
VP='vip="web4"'
assert_eq "xl4_vip_packets_total{$VP}" "$N_FLOWS" "$(series "$E2E_TMP/m1.json" "xl4_vip_packets_total{$VP}")"
assert_eq "xl4_vip_new_flows_total{$VP}" "$N_FLOWS" "$(series "$E2E_TMP/m1.json" "xl4_vip_new_flows_total{$VP}")"
assert_eq "xl4_backend_new_flows_total of $BE1 (the only active backend)" "$N_FLOWS" \
	"$(series "$E2E_TMP/m1.json" "xl4_backend_new_flows_total{backend=\"$BE1\",$VP}")"
assert_eq "xl4_backend_up of $BE1" 1 "$(series "$E2E_TMP/m1.json" "xl4_backend_up{backend=\"$BE1\",$VP}")"
assert_eq "xl4_backend_state{state=active} of $BE1" 1 \
	"$(series "$E2E_TMP/m1.json" "xl4_backend_state{backend=\"$BE1\",state=\"active\",$VP}")"
assert_eq "xl4_backend_state{state=drained} of $BE2" 1 \
	"$(series "$E2E_TMP/m1.json" "xl4_backend_state{backend=\"$BE2\",state=\"drained\",$VP}")"
assert_eq "xl4_backend_state{state=active} of $BE2" 0 \
	"$(series "$E2E_TMP/m1.json" "xl4_backend_state{backend=\"$BE2\",state=\"active\",$VP}")"
assert_eq "xl4_vip_info of web4" 1 \
	"$(series "$E2E_TMP/m1.json" "xl4_vip_info{address=\"$VIP4:$VPORT/udp\",mode=\"l2\",$VP}")"

e2e_section "(d2) map pressure: entries and capacity of every hash/LRU/LPM map, conntrack fill"
assert_eq 'xl4_map_capacity_entries{map="xl4_vips_v1"}' 64 "$(series "$E2E_TMP/m1.json" 'xl4_map_capacity_entries{map="xl4_vips_v1"}')"
assert_eq 'xl4_map_entries{map="xl4_vips_v1"} (one VIP)' 1 "$(series "$E2E_TMP/m1.json" 'xl4_map_entries{map="xl4_vips_v1"}')"
assert_eq 'xl4_map_capacity_entries{map="xl4_ct4_v1"} (IPv4 flows)' 262144 "$(series "$E2E_TMP/m1.json" 'xl4_map_capacity_entries{map="xl4_ct4_v1"}')"
assert_eq 'xl4_map_capacity_entries{map="xl4_ct_v1"} (IPv6 flows: lb.conntrack.ipv6_max_entries)' 131072 "$(series "$E2E_TMP/m1.json" 'xl4_map_capacity_entries{map="xl4_ct_v1"}')"
assert_eq 'xl4_map_entries{map="xl4_block4_v1"} (no block list)' 0 "$(series "$E2E_TMP/m1.json" 'xl4_map_entries{map="xl4_block4_v1"}')"
# The maps are counted every 10 s: wait (at most 15 s) for a count that includes the flows.
for ((i = 0; i < 15; i++)); do
	scrape "$E2E_TMP/m2.txt" && "$PY" "$CHECK" "$E2E_TMP/m2.txt" "$E2E_TMP/m2.json" >/dev/null &&
		[ "$(series "$E2E_TMP/m2.json" 'xl4_conntrack_entries{}')" = "$N_FLOWS" ] && break
	sleep 1
done
assert_eq "xl4_conntrack_entries (one entry per UDP flow sent)" "$N_FLOWS" "$(series "$E2E_TMP/m2.json" 'xl4_conntrack_entries{}')"
assert_eq 'xl4_map_entries{map="xl4_ct4_v1"} equals xl4_conntrack_entries (the flows are IPv4)' "$N_FLOWS" \
	"$(series "$E2E_TMP/m2.json" 'xl4_map_entries{map="xl4_ct4_v1"}')"
assert_eq 'xl4_map_entries{map="xl4_ct_v1"} (the IPv6 table: no IPv4 flow in it)' 0 \
	"$(series "$E2E_TMP/m2.json" 'xl4_map_entries{map="xl4_ct_v1"}')"
timeout 10 "$XL4" status -s "$DAEMON_SOCK" --json >"$E2E_TMP/st.json" || die "status --json failed"
timeout 10 "$XL4" status -s "$DAEMON_SOCK" >"$E2E_TMP/st.txt" || die "status failed"
diff=$("$PY" - "$E2E_TMP/m2.json" "$E2E_TMP/st.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
maps = json.load(open(sys.argv[2]))["maps"]
names = {e["name"] for e in maps}
bad = [n for n in ("xl4_vips_v1", "xl4_vaddr_v1", "xl4_ct_v1", "xl4_ct4_v1", "xl4_rate_v1", "xl4_allow4_v1",
                   "xl4_allow6_v1", "xl4_block4_v1", "xl4_block6_v1", "xl4_rdst_v1", "xl4_rport_v1")
       if n not in names]
for e in maps:
    fams = [("xl4_map_entries", "entries"), ("xl4_map_capacity_entries", "capacity")]
    if e["type"] == "lru_hash":
        fams.append(("xl4_map_lru_lists", "lru_lists"))
    for fam, k in fams:
        got = m.get(f'{fam}{{map="{e["name"]}"}}')
        if got is None or int(got) != e[k]:
            bad.append(f'{fam}{{map="{e["name"]}"}}={got} status={e[k]}')
print("; ".join(bad) or "-")
EOF
)
assert_eq "every map of status --json has entries and capacity series, equal to it" "-" "$diff"
assert_match "xl4 status: maps section with the conntrack fill" \
	"xl4_ct4_v1 +lru_hash +$N_FLOWS +262144 +0\.0%" "$(cat "$E2E_TMP/st.txt")"
# per-CPU LRU lists (the default on a machine whose possible CPUs are online): each CPU's share
ncpu=$(($(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1))
if [ "$(cat /sys/devices/system/cpu/possible)" = "$(cat /sys/devices/system/cpu/online)" ] && [ "$ncpu" -gt 1 ]; then
	assert_match "xl4 status: the conntrack's per-CPU lists and each one's share" \
		"xl4_ct4_v1: per-CPU LRU lists, $ncpu lists of $((262144 / ncpu)) entries each" "$(cat "$E2E_TMP/st.txt")"
	assert_match "metrics: xl4_map_lru_lists of the conntrack" \
		"xl4_map_lru_lists\{map=\"xl4_ct4_v1\"\} $ncpu" "$(cat "$E2E_TMP/m2.txt")"
else
	e2e_log "  SKIPPED the per-CPU lists' status line: one CPU, or possible CPUs not all online (one shared list)"
fi
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"
assert_false "port 9143 closed after exit" quietly in_ns "$SRV" curl -sf --max-time 3 "$URL"

# ---------------------------------------------------------------------------------------------
e2e_section "(e0) on a network address: at most 4 connections from any one address"
write_conf "$CONF" "metrics: { listen = \"$S4:9143\"; };"
daemon_start "$SRV" -c "$CONF"
hold_four "$SRV" "$S4" "$E2E_TMP/slow4.log"
assert_true "four idle connections held from $S4" grep -q 'held 4' "$E2E_TMP/slow4.log"
assert_false "a fifth from $S4 is turned away" \
	quietly in_ns "$SRV" curl -sf --max-time 3 "http://$S4:9143/metrics"
assert_true "another address ($C4) is still served" \
	quietly in_ns "$CLI" curl -sf --max-time 3 "http://$S4:9143/metrics"
proc_stop "$HOLDER"
for _ in $(seq 30); do quietly in_ns "$SRV" curl -sf --max-time 3 "http://$S4:9143/metrics" && break; sleep 0.1; done
assert_true "$S4 served again once its connections closed" \
	quietly in_ns "$SRV" curl -sf --max-time 3 "http://$S4:9143/metrics"
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"

# ---------------------------------------------------------------------------------------------
e2e_section "(e) IPv6 loopback, and disabled"
write_conf "$CONF" 'metrics: { listen = "[::1]:9143"; };'
daemon_start "$SRV" -c "$CONF"
assert_true "GET http://[::1]:9143/metrics: 200" scrape "$E2E_TMP/m6.txt" "http://[::1]:9143/metrics"
assert_true "strict parse of the IPv6 scrape" quietly "$PY" "$CHECK" "$E2E_TMP/m6.txt"
assert_false "not on 127.0.0.1 when configured on [::1]" quietly in_ns "$SRV" curl -sf --max-time 3 "$URL"
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"
write_conf "$CONF" 'metrics: { listen = ""; };'
daemon_start "$SRV" -c "$CONF"
assert_false "listen = \"\": nothing on 127.0.0.1:9143" quietly in_ns "$SRV" curl -sf --max-time 3 "$URL"
assert_false "listen = \"\": nothing on [::1]:9143" \
	quietly in_ns "$SRV" curl -sgf --max-time 3 "http://[::1]:9143/metrics"
daemon_stop TERM
assert_eq "daemon exit status after SIGTERM" 0 "$DAEMON_RC"

e2e_summary metrics
