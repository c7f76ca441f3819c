# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Load-balancer topology for the e2e tests (tests/e2e/lb_test.sh) and scripts/demo. Source it
# after lib.sh; do not run it. Everything is registered with lib.sh's cleanup trap.
#
#                          [ LB_SW: bridge br0 ]
#        p-cli      p-lb (XDP_PASS)      p-b1    p-b2    p-b3    p-b4 ...
#          |          |                   |       |       |       |
#   [ LB_CLI ]   [ LB_LB ]             [ b1 ]  [ b2 ]  [ b3 ]  [ b4 ]     each: eth0
#   198.18.0.1   198.18.0.2            198.18.0.1I (I = 1, 2, ...)
#   2001:db8::1  2001:db8::2           2001:db8::1I
#   routes VIP4/VIP6 via the balancer  VIPs on lo (xl4 agent), HTTP + UDP echo (lb_server.py)
#
# The balancer's XDP program sends forwarded frames back out of its eth0 with XDP_TX; a veth
# drops such frames unless its peer runs XDP, so p-lb gets bpf/pass.bpf.o (DESIGN.md §7).
#
#   lb_topo_create NBACKENDS       namespaces, bridge, links, addresses, routes
#   lb_backend_start MODE I        xl4 agent (removed at exit) + lb_server.py on backend I
#   lb_write_conf MODE FILE W...   daemon config: VIPs web4/web6 (TCP), udp4/udp6, weights W
#   lb_be_addr MODE FAM I [udp]    backend I's address as the balancer knows it (key for
#                                  `xl4 backend ...`): 198.18.0.11, [2001:db8::11]:8080, ...
#   lb_vip_json FILE               `xl4 vip list --json` into FILE
#   lb_nft_setup MODE / lb_nft_get NAME   packet counters on the bridge (see lb_nft_setup)

LB_P=${LB_P:-xl4lb-$$}
LB_SW=$LB_P-sw
LB_CLI=$LB_P-cli
LB_LB=$LB_P-lb
LB_C4=198.18.0.1 LB_C6=2001:db8::1
LB_L4=198.18.0.2 LB_L6=2001:db8::2
LB_VIP4=198.18.1.1 LB_VIP6=2001:db8:1::1
LB_VPORT=80 LB_UPORT=9000       # VIP ports (TCP: HTTP, UDP: echo)
# the flood tests' attacker (tests/e2e/bpf/switch_port.bpf.c drops what the balancer sends it)
LB_ATK_MAC=02:00:5e:a7:7a:c0
LB_PIN_PREFIX=${LB_PIN_PREFIX:-/sys/fs/bpf/xl4-lbe2e-$$}

lb_be_ns() { echo "$LB_P-b$1"; }
lb_be4() { echo "198.18.0.1$1"; }
lb_be6() { echo "2001:db8::1$1"; }

# Ports the backends listen on: port mode rewrites VIP port -> backend port (and the agent
# rewrites the replies' source port back); the servers then do NOT listen on the VIP ports, so a
# missing rewrite cannot go unnoticed.
lb_bport() { if [ "$1" = port ]; then echo 8080; else echo "$LB_VPORT"; fi; }
lb_buport() { if [ "$1" = port ]; then echo 9090; else echo "$LB_UPORT"; fi; }

lb_be_addr() {
	local mode=$1 fam=$2 i=$3 proto=${4:-tcp} port

	if [ "$proto" = udp ]; then port=$(lb_buport "$mode"); else port=$(lb_bport "$mode"); fi
	if [ "$mode" = port ]; then
		if [ "$fam" = 4 ]; then echo "$(lb_be4 "$i"):$port"; else echo "[$(lb_be6 "$i")]:$port"; fi
	else
		if [ "$fam" = 4 ]; then lb_be4 "$i"; else lb_be6 "$i"; fi
	fi
}

# _lb_port_ns NS IF: one more port on the bridge, its other end eth0 in NS.
_lb_port_ns() {
	veth_pair "$LB_SW" "$2" "$1" eth0
	ip -n "$LB_SW" link set "$2" master br0 || die "$2: cannot join br0"
}

lb_topo_create() {
	local n=$1 i ns out

	ns_create "$LB_SW"
	ip -n "$LB_SW" link add br0 type bridge mcast_snooping 0 || die "cannot create br0"
	ip -n "$LB_SW" link set br0 up
	ns_create "$LB_CLI"
	ns_create "$LB_LB"
	_lb_port_ns "$LB_CLI" p-cli
	_lb_port_ns "$LB_LB" p-lb
	if ! out=$(ip -n "$LB_SW" link set p-lb xdp obj "$O/bpf/pass.bpf.o" sec xdp 2>&1); then
		case $out in
		*"Operation not supported"* | *"Invalid argument"*)
			skip "kernel lacks native XDP on veth (attaching bpf/pass.bpf.o: $out)" ;;
		esac
		die "cannot attach $O/bpf/pass.bpf.o to $LB_SW/p-lb: $out"
	fi
	addr4 "$LB_CLI" eth0 "$LB_C4/24"
	addr6 "$LB_CLI" eth0 "$LB_C6/64"
	addr4 "$LB_LB" eth0 "$LB_L4/24"
	addr6 "$LB_LB" eth0 "$LB_L6/64"
	ip -n "$LB_CLI" route add "$LB_VIP4/32" via "$LB_L4" || die "client: route to VIP4"
	ip -n "$LB_CLI" -6 route add "$LB_VIP6/128" via "$LB_L6" || die "client: route to VIP6"
	for ((i = 1; i <= n; i++)); do
		ns=$(lb_be_ns "$i")
		ns_create "$ns"
		_lb_port_ns "$ns" "p-b$i"
		addr4 "$ns" eth0 "$(lb_be4 "$i")/24"
		addr6 "$ns" eth0 "$(lb_be6 "$i")/64"
	done
}

# lb_backend_start MODE I: the agent for MODE (l2 and ipip: the VIPs; port: the port
# mappings; ipip: the balancer's outer sources, otherwise --no-decap) and the server. The agent runs through nsenter (network namespace only) so its
# pins land in the bpffs everyone sees; --remove and the pin directory go at exit.
lb_backend_start() {
	local mode=$1 i=$2 ns pin bp bu args=()

	ns=$(lb_be_ns "$i")
	pin=$LB_PIN_PREFIX-b$i
	bp=$(lb_bport "$mode")
	bu=$(lb_buport "$mode")
	if [ "$mode" = port ]; then
		args=(--port "$LB_VIP4:$LB_VPORT=$bp/tcp" --port "$LB_VIP4:$LB_UPORT=$bu/udp"
			--port "[$LB_VIP6]:$LB_VPORT=$bp/tcp" --port "[$LB_VIP6]:$LB_UPORT=$bu/udp")
	else
		args=(--vip "$LB_VIP4" --vip "$LB_VIP6")
	fi
	# ipip: only the balancer's outer sources (xl4.conf's lb.ipip_source_v4/v6 defaults);
	# l2 and port: nothing is encapsulated, so nothing may be decapsulated
	if [ "$mode" = ipip ]; then
		args+=(--from 198.18.255.0/24 --from 2001:db8:ffff::/112)
	else
		args+=(--no-decap)
	fi
	cleanup_push "nsenter --net=/run/netns/$ns '$XL4' agent -i eth0 --remove --pin-path '$pin'; rm -rf '$pin'"
	quietly nsenter --net="/run/netns/$ns" "$XL4" agent -i eth0 --pin-path "$pin" "${args[@]}" ||
		die "b$i: xl4 agent ${args[*]} failed"
	bg_start "$ns" "$E2E_TMP/server-b$i.log" "$PY" "$E2E_LIB_DIR/lb_server.py" "b$i" "$bp" "$bu" \
		"$LB_VIP4" "$LB_VIP6"
	wait_listen "$ns" tcp "$bp" || die "b$i: the server did not start: $(cat "$E2E_TMP/server-b$i.log")"
}

# lb_write_conf MODE FILE W1 W2 ...: one backend per weight (b1, b2, ...) behind each VIP.
lb_write_conf() {
	local mode=$1 f=$2 i fam proto vip

	shift 2
	{
		echo 'interfaces = ["eth0"];'
		echo 'lb: { seed = 4242; table_size = 65537; };'
		echo 'vips = ('
		for proto in tcp udp; do
			for fam in 4 6; do
				if [ "$fam" = 4 ]; then vip=$LB_VIP4; else vip="[$LB_VIP6]"; fi
				[ "$proto$fam" = tcp4 ] || echo ','
				printf '  { name = "%s%s"; mode = "%s"; address = "%s:%s/%s";\n' \
					"$([ "$proto" = tcp ] && echo web || echo udp)" "$fam" "$mode" "$vip" \
					"$([ "$proto" = tcp ] && echo "$LB_VPORT" || echo "$LB_UPORT")" "$proto"
				# Health checks on the TCP VIPs: HTTP to each backend's own address and port.
				[ "$proto" = tcp ] && echo '    health: { type = "http"; path = "/health"; interval_ms = 1000; timeout_ms = 900; rise = 1; fall = 3; };'
				printf '    backends = ('
				for ((i = 1; i <= $#; i++)); do
					[ "$i" -gt 1 ] && printf ','
					printf ' { address = "%s"; weight = %s; }' "$(lb_be_addr "$mode" "$fam" "$i" "$proto")" "${!i}"
				done
				printf ' ); }\n'
			done
		done
		echo ');'
	} >"$f"
}

# lb_attacker_port NS: gives NS's eth0 (a flood test's attacker, on the bridge) LB_ATK_MAC and
# makes the switch's port towards the balancer drop what the balancer sends that MAC (its
# SYN-ACK challenges to spoofed sources), as a hardware switch would carry it away from the
# CPUs the balancer shares (tests/e2e/bpf/switch_port.bpf.c; docs/performance.md, round twelve)
lb_attacker_port() {
	ip -n "$1" link set eth0 address "$LB_ATK_MAC" || die "cannot set the attacker's MAC"
	ip -force -n "$LB_SW" link set p-lb xdp obj "$O/tests/e2e/switch_port.bpf.o" sec xdp ||
		die "cannot attach switch_port.bpf.o to p-lb"
}
# lb_to_attacker: frames the balancer sent LB_ATK_MAC (switch_port.bpf.o's drops at p-lb)
lb_to_attacker() { ethstat "$LB_SW" p-lb rx_queue_0_xdp_drops; }
# lb_xdp_seen: frames the balancer's XDP program saw on eth0
lb_xdp_seen() { ethstat "$LB_LB" eth0 rx_queue_0_xdp_packets; }

# lb_ring_drops: frames the balancer's veth receive ring dropped (its bridge-side peer p-lb's
# transmit drops): lost before xl4 sees them
lb_ring_drops() {
	ip -n "$LB_SW" -s -j link show p-lb |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])'
}

# lb_backlog_drops: frames dropped because a CPU's backlog (netdev_max_backlog) was full,
# machine-wide: where the client's and the backends' veths (no XDP there) queue what they get
lb_backlog_drops() {
	local n=0 _p d _r

	while read -r _p d _r; do n=$((n + 16#$d)); done </proc/net/softnet_stat
	echo "$n"
}

lb_vip_json() { timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" --json >"$1"; }

# lb_hold_start NAME SECS: $N_HOLD long-lived connections to both VIP families from the client
# namespace (lb_client.py hold, a request every 0.2 s, for at most SECS s; hold.out, its events
# in hold.events); waits for them to connect. Sets HOLD_PID. With a guard level in force a new
# source's first SYN is dropped or challenged, and a loaded machine can take several
# retransmissions: up to 45 s, the time it took logged.
lb_hold_start() {
	local i

	rm -f "$E2E_TMP/hold.stop"
	: >"$E2E_TMP/hold.events"
	bg_start "$LB_CLI" "$E2E_TMP/hold.out" timeout $(($2 + 10)) "$PY" "$E2E_LIB_DIR/lb_client.py" \
		hold "$LB_VIP4" "$LB_VIP6" "$LB_VPORT" "$N_HOLD" 0.2 "$2" "$E2E_TMP/hold.stop" \
		"$E2E_TMP/hold.events"
	HOLD_PID=$BG_PID
	for ((i = 0; i < 450; i++)); do
		grep -q '^connected' "$E2E_TMP/hold.out" && break
		sleep 0.1
	done
	e2e_log "  hold client: connected after $((i / 10)).$((i % 10)) s"
	assert_eq "$1: long-lived connections established" "connected $N_HOLD" \
		"$(grep '^connected' "$E2E_TMP/hold.out")"
}

# lb_hold_stop NAME: stops the hold client (its JSON summary in hold.json, its log lines
# printed) and checks every connection lived: none broken, none stalled.
lb_hold_stop() {
	touch "$E2E_TMP/hold.stop"
	proc_wait_exit "$HOLD_PID" 15 || e2e_log "  the hold client did not stop in 15 s"
	tail -1 "$E2E_TMP/hold.out" >"$E2E_TMP/hold.json"
	grep -v '^{' "$E2E_TMP/hold.out" | tail -n +2 | sed 's/^/        /'
	assert_eq "$1: long-lived connections alive at the end" "$N_HOLD" \
		"$(jget "$E2E_TMP/hold.json" 'sum(r["alive_by"].values())')"
	assert_eq "$1: long-lived connections broken" "0" \
		"$(jget "$E2E_TMP/hold.json" 'sum(r["broken_in"].values())')"
	assert_eq "$1: long-lived connections stalled" "0" "$(jget "$E2E_TMP/hold.json" 'r["stalled"]')"
}

# lb_wait_active N: wait (at most 15 s) until every backend of every VIP is "active" (MAC
# resolved, healthy, not drained) and there are N of them per VIP.
lb_wait_active() {
	local n=$1 i

	for ((i = 0; i < 75; i++)); do
		lb_vip_json "$E2E_TMP/vips.json" 2>/dev/null &&
			"$PY" - "$E2E_TMP/vips.json" "$n" <<'EOF' && return 0
import json, sys
vips = json.load(open(sys.argv[1]))
ok = vips and all(len(v["backends"]) == int(sys.argv[2]) and
                  all(b["state"] == "active" for b in v["backends"]) for v in vips)
sys.exit(0 if ok else 1)
EOF
		sleep 0.2
	done
	timeout 10 "$XL4" vip list -s "$DAEMON_SOCK" | sed 's/^/        | /'
	return 1
}

# Packet counters on the bridge, the one place every frame crosses (nftables, bridge family,
# forward hook: frames going from one port to another). XDP_TX'd frames re-enter the bridge
# through p-lb like any other.
#   req_to_lb     client -> VIP frames delivered to the balancer's port
#   req_other     client -> VIP frames delivered anywhere else (must stay 0)
#   fwd_to_be     frames the balancer forwarded to a backend (l2/port: destination VIP;
#                 ipip: IPIP / IPv6-in-IPv6)
#   vip_to_lb     frames with source VIP (replies) delivered to the balancer's port (must stay 0)
#   vip_from_lb   frames with source VIP sent by the balancer (must stay 0)
#   reply_to_cli  frames with source VIP from a backend's port to the client's port
lb_nft_setup() {
	local mode=$1 fwd

	in_ns "$LB_SW" nft add table bridge xl4probe 2>/dev/null ||
		skip "kernel lacks nftables for bridges (nf_tables bridge family): 'nft add table bridge' failed"
	in_ns "$LB_SW" nft delete table bridge xl4probe
	if [ "$mode" = ipip ]; then
		fwd="iifname \"p-lb\" oifname \"p-b*\" ip protocol 4 counter name fwd_to_be
		     iifname \"p-lb\" oifname \"p-b*\" ip6 nexthdr 41 counter name fwd_to_be"
	else
		fwd="iifname \"p-lb\" oifname \"p-b*\" ip daddr $LB_VIP4 counter name fwd_to_be
		     iifname \"p-lb\" oifname \"p-b*\" ip6 daddr $LB_VIP6 counter name fwd_to_be"
	fi
	in_ns "$LB_SW" nft -f - <<EOF || die "nft: cannot set up the bridge counters"
table bridge xl4lb {
	counter req_to_lb {}
	counter req_other {}
	counter fwd_to_be {}
	counter vip_to_lb {}
	counter vip_from_lb {}
	counter reply_to_cli {}
	chain count_fwd {
		type filter hook forward priority 0; policy accept;
		iifname "p-cli" oifname "p-lb" ip daddr $LB_VIP4 counter name req_to_lb
		iifname "p-cli" oifname "p-lb" ip6 daddr $LB_VIP6 counter name req_to_lb
		iifname "p-cli" oifname != "p-lb" ip daddr $LB_VIP4 counter name req_other
		iifname "p-cli" oifname != "p-lb" ip6 daddr $LB_VIP6 counter name req_other
		$fwd
		oifname "p-lb" ip saddr $LB_VIP4 counter name vip_to_lb
		oifname "p-lb" ip6 saddr $LB_VIP6 counter name vip_to_lb
		iifname "p-lb" ip saddr $LB_VIP4 counter name vip_from_lb
		iifname "p-lb" ip6 saddr $LB_VIP6 counter name vip_from_lb
		iifname "p-b*" oifname "p-cli" ip saddr $LB_VIP4 counter name reply_to_cli
		iifname "p-b*" oifname "p-cli" ip6 saddr $LB_VIP6 counter name reply_to_cli
	}
}
EOF
}

# lb_nft_get NAME: packets counted so far.
lb_nft_get() {
	in_ns "$LB_SW" nft list counter bridge xl4lb "$1" | awk '/packets/ {print $2; exit}'
}
