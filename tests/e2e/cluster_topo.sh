# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Scale-out topology for tests/e2e/test_cluster.sh (and scripts/demo-cluster): several xl4
# nodes behind a router that spreads flows over them with ECMP, the VIP announced over BGP by
# one BIRD per node. Source it after lib.sh; do not run it. Everything is registered with
# lib.sh's cleanup trap.
#
#   [ CL_CLI ] eth0 198.19.1.1
#        |
#        | c0 198.19.1.254: tc ingress clears the skb hash (tests/e2e/bpf/clear_hash.bpf.c)
#   [ CL_RT ]  BIRD: dynamic BGP from 198.19.2.0/24, BFD, merge paths -> ECMP in the kernel FIB
#        | eth0 198.19.2.254      (fib_multipath_hash_policy=1: the 5-tuple picks the node)
#        |
#   [ CL_SW: bridge br0, the top-of-rack VLAN 198.19.2.0/24 ]
#     p-rt   p-n1 p-n2 p-n3 (XDP_PASS)          p-b1 p-b2
#            |    |    |                         |    |
#          [n1] [n2] [n3] 198.19.2.I           [b1] [b2] 198.19.2.1I, VIP on lo, default via
#          xl4 daemon (l2 DSR, own socket/pins)  the router: replies go straight to the client
#          BIRD: kernel table 100 (learn) -> BGP to the router, BFD 100 ms x 3
#
# The VIP is 198.19.100.1:80/tcp. A node forwards with XDP_TX back out of its eth0; a veth drops
# such frames unless its peer runs XDP, so each node's bridge port gets bpf/pass.bpf.o.
# Addresses stay clear of lb_topo.sh (198.18.0.0/24, 198.18.1.0/24, 198.18.255.0/24).
#
#   cl_topo_create              switch, client, router (+ hash clearing), backends b1 b2
#   cl_node_create I            node namespace nI on the switch (no daemon yet)
#   cl_node_xl4_start I         xl4 daemon on nI (waits for ready); CL_XL4_PID[I]
#   cl_bird_start NAME NS CONF  BIRD in NS (foreground, own socket and pidfile); CL_BIRD_PID[NAME]
#   cl_node_bird_start I        BIRD on node I; cl_router_bird_start: the router's
#   cl_node_conf I FILE         xl4.conf of node I (cluster section only when CL_CLUSTER=1)
#   cl_fib_nodes                the router's next hops for the VIP, as node numbers: "1 2"
#   cl_wait_fib "1 2" SECS      until the router's FIB has exactly those next hops
#   cl_wait_bfd "1 2" SECS      until the router's BFD sessions up are exactly those nodes
#   cl_birdc NAME CMD...        birdc on that BIRD's socket
#   xl4n I CMD...               xl4 CMD on node I's control socket
#   cl_web I EXPR               a Python expression over node I's VIP "web" (as v) from
#                               `xl4 vip list --json`; cl_wait_web I EXPR WANT SECS
#   cl_fib_monitor_start [NS]   `ip -ts monitor route` on the router (or in NS), logged;
#   cl_fib_change_after T0 RE [NS]  seconds from T0 to the first logged change matching RE

CL_P=${CL_P:-xl4cl-$$}
CL_SW=$CL_P-sw
CL_CLI=$CL_P-cli
CL_RT=$CL_P-rt
CL_C4=198.19.1.1
CL_RC4=198.19.1.254
CL_R4=198.19.2.254
CL_NET4=198.19.2.0/24
CL_VIP4=198.19.100.1
CL_C6=2001:db8:c1::1
CL_RC6=2001:db8:c1::fe
CL_R6=2001:db8:c2::fe
CL_NET6=2001:db8:c2::/64
CL_VIP6=2001:db8:c100::1
CL_VIPNET6=2001:db8:c100::/64
CL_VIPNET4=198.19.100.0/24
CL_VPORT=80
CL_TABLE=100
CL_AS_RT=65000
CL_AS_NODE=65001
CL_PIN_PREFIX=${CL_PIN_PREFIX:-/sys/fs/bpf/xl4-cl-$$}
CL_CLUSTER=${CL_CLUSTER:-1}
CL_HASH_OBJ=${CL_HASH_OBJ:-$O/tests/e2e/clear_hash.bpf.o}
CL_HASH_PROG=${CL_HASH_PROG:-clear_hash}
CL_NBE=2
declare -A CL_BIRD_PID=()
declare -a CL_XL4_PID=()
declare -a _CL_PIN_DONE=()
declare -a CL_LL=()

cl_node_ns() { echo "$CL_P-n$1"; }
cl_node4() { echo "198.19.2.$1"; }
cl_be_ns() { echo "$CL_P-b$1"; }
cl_be4() { echo "198.19.2.1$1"; }
cl_node6() { echo "2001:db8:c2::$1"; }
cl_be6() { echo "2001:db8:c2::1$1"; }
cl_sock() { echo "$E2E_TMP/n$1.sock"; }
cl_pin() { echo "$CL_PIN_PREFIX-n$1"; }

xl4n() {
	local i=$1

	shift
	timeout 10 "$XL4" "$@" -s "$(cl_sock "$i")"
}

# _cl_spawn LOG CMD...: CMD in the background as its own process group (setsid), output appended
# to LOG,
# with every descriptor above 2 closed first: the e2e runner holds /tmp/xl4-e2e.lock on an
# inherited descriptor (flock FILE cmd), and a daemon that kept it would hold the lock for ever.
# Sets CL_SPAWNED (the pid; setsid and nsenter exec, so it is CMD's own pid).
_cl_spawn() {
	local log=$1

	shift
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		exec setsid "$@"
	) >>"$log" 2>&1 </dev/null &
	CL_SPAWNED=$!
	# out of the job table: bash would print "Killed" when the test kills it with -9
	disown "$CL_SPAWNED"
}

# _cl_port NS IF: one more port on the bridge, its other end eth0 in NS.
_cl_port() {
	veth_pair "$CL_SW" "$2" "$1" eth0
	ip -n "$CL_SW" link set "$2" master br0 || die "$2: cannot join br0"
}

_cl_sysctl() {
	local ns=$1

	shift
	ip netns exec "$ns" sysctl -qw "$@" >/dev/null || die "$ns: sysctl $* failed"
}

cl_topo_create() {
	local i ns out

	ns_create "$CL_SW"
	ip -n "$CL_SW" link add br0 type bridge mcast_snooping 0 || die "cannot create br0"
	ip -n "$CL_SW" link set br0 up
	ns_create "$CL_CLI"
	ns_create "$CL_RT"

	# client <-> router: a point-to-point link of its own
	veth_pair "$CL_CLI" eth0 "$CL_RT" c0
	addr4 "$CL_CLI" eth0 "$CL_C4/24"
	addr4 "$CL_RT" c0 "$CL_RC4/24"
	ip -n "$CL_CLI" route add default via "$CL_RC4" || die "client: default route"
	addr6 "$CL_CLI" eth0 "$CL_C6/64"
	addr6 "$CL_RT" c0 "$CL_RC6/64"
	ip -n "$CL_CLI" -6 route add default via "$CL_RC6" || die "client: IPv6 default route"

	# router <-> the VLAN
	_cl_port "$CL_RT" p-rt
	addr4 "$CL_RT" eth0 "$CL_R4/24"
	addr6 "$CL_RT" eth0 "$CL_R6/64"
	_cl_sysctl "$CL_RT" net.ipv6.conf.all.forwarding=1 net.ipv6.fib_multipath_hash_policy=1
	_cl_sysctl "$CL_RT" net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
	# A fixed hash seed (kernels >= 6.11; older ones pick a random one per boot): the same
	# 5-tuples take the same nodes on every run.
	ip netns exec "$CL_RT" sysctl -qw net.ipv4.fib_multipath_hash_seed=4242 2>/dev/null # v4 and v6
	# The client's socket hash rides the veth into the router; ECMP would use it instead of
	# the 5-tuple (see clear_hash.bpf.c). CL_HASH_PROG=none or zero_hash: mutation runs.
	ip netns exec "$CL_RT" tc qdisc add dev c0 clsact || die "router: tc clsact on c0"
	if [ "$CL_HASH_PROG" != none ] && ! out=$(ip netns exec "$CL_RT" tc filter add dev c0 \
		ingress bpf direct-action obj "$CL_HASH_OBJ" program "$CL_HASH_PROG" 2>&1); then
		die "router: cannot attach $CL_HASH_PROG ($CL_HASH_OBJ) to c0 ingress: $out"
	fi

	for ((i = 1; i <= CL_NBE; i++)); do
		ns=$(cl_be_ns "$i")
		ns_create "$ns"
		_cl_port "$ns" "p-b$i"
		addr4 "$ns" eth0 "$(cl_be4 "$i")/24"
		ip -n "$ns" route add default via "$CL_R4" || die "b$i: default route"
		addr6 "$ns" eth0 "$(cl_be6 "$i")/64"
		ip -n "$ns" -6 route add default via "$CL_R6" || die "b$i: IPv6 default route"
		# DSR: the VIPs on lo, never answered for in ARP (IPv6: lo addresses get no
		# neighbour advertisements on eth0), no reverse-path check
		ip -n "$ns" addr add "$CL_VIP4/32" dev lo || die "b$i: VIP on lo"
		ip -n "$ns" -6 addr add "$CL_VIP6/128" dev lo nodad || die "b$i: IPv6 VIP on lo"
		_cl_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
		bg_start "$ns" "$E2E_TMP/server-b$i.log" "$PY" "$E2E_LIB_DIR/lb_server.py" "b$i" \
			"$CL_VPORT" 9000
		wait_listen "$ns" tcp "$CL_VPORT" ||
			die "b$i: the server did not start: $(cat "$E2E_TMP/server-b$i.log")"
	done
}

# cl_node_create I: node I's namespace and bridge port (XDP_PASS on the bridge side).
cl_node_create() {
	local i=$1 ns out

	ns=$(cl_node_ns "$i")
	ns_create "$ns"
	_cl_port "$ns" "p-n$i"
	if ! out=$(ip -n "$CL_SW" link set "p-n$i" xdp obj "$O/bpf/pass.bpf.o" sec xdp 2>&1); then
		case $out in
		*"Operation not supported"* | *"Invalid argument"*)
			skip "kernel lacks native XDP on veth (attaching bpf/pass.bpf.o: $out)" ;;
		esac
		die "cannot attach $O/bpf/pass.bpf.o to $CL_SW/p-n$i: $out"
	fi
	# A crash must black-hole the node's flows until BFD notices: without this, the bridge
	# floods frames for a node whose port went down (its MAC is forgotten) to every other port,
	# and another node's XDP program, which does not look at the destination MAC, serves them.
	ip -n "$CL_SW" link set "p-n$i" type bridge_slave flood off || die "p-n$i: flood off"
	# IPv6 addresses survive a link going down and up (the crash test), as a configured host's
	# would come back
	_cl_sysctl "$ns" net.ipv6.conf.eth0.keep_addr_on_down=1
	addr4 "$ns" eth0 "$(cl_node4 "$i")/24"
	addr6 "$ns" eth0 "$(cl_node6 "$i")/64"
	# the router may install the node's link-local address as the IPv6 next hop
	CL_LL[i]=$(ip -n "$ns" -6 -o addr show dev eth0 scope link | grep -oE 'fe80::[0-9a-f:]+')
	[ -n "${CL_LL[i]}" ] || die "n$i: no link-local address on eth0"
}

# cl_node_conf I FILE: the same VIP, backends and seed on every node (identical Maglev tables).
# Health checks every 200 ms, down after 3 failures of 150 ms: a health change shows within
# ~750 ms. (Every 100 ms, 80 ms, 2 failures flapped on a loaded CI machine: both backends went
# down on one node for a moment, its table then differed from its peers' and the flows ECMP
# moved to it were reset.)
cl_node_conf() {
	local i=$1 f=$2 b fam

	{
		echo 'interfaces = ["eth0"];'
		echo 'lb: { seed = 4242; table_size = 65537; };'
		if [ "$CL_CLUSTER" = 1 ]; then
			echo "cluster: { route_table = $CL_TABLE; min_healthy = 1; drain_ms = ${CL_DRAIN_MS:-500}; };"
		fi
		echo 'vips = ('
		for fam in 4 6; do
			[ "$fam" = 6 ] && echo ','
			if [ "$fam" = 4 ]; then
				printf '  { name = "web"; mode = "l2"; address = "%s:%s/tcp";\n' "$CL_VIP4" "$CL_VPORT"
			else
				printf '  { name = "web6"; mode = "l2"; address = "[%s]:%s/tcp";\n' "$CL_VIP6" "$CL_VPORT"
			fi
			echo '    health: { type = "http"; path = "/health"; interval_ms = 200; timeout_ms = 150; rise = 1; fall = 3; };'
			printf '    backends = ('
			for ((b = 1; b <= CL_NBE; b++)); do
				[ "$b" -gt 1 ] && printf ','
				printf ' { address = "%s"; }' "$(cl_be"$fam" "$b")"
			done
			echo ' ); }'
		done
		echo ');'
	} >"$f"
}

# cl_node_xl4_start I: xl4 daemon on node I (network namespace only: its pins land in the bpffs
# everyone sees). Waits for event=ready, at most 30 s.
cl_node_xl4_start() {
	local i=$1 ns log conf pin k t

	ns=$(cl_node_ns "$i")
	log=$E2E_TMP/xl4-n$i.log
	conf=$E2E_TMP/xl4-n$i.conf
	pin=$(cl_pin "$i")
	cl_node_conf "$i" "$conf"
	if [ -z "${_CL_PIN_DONE[$i]:-}" ]; then
		_CL_PIN_DONE[i]=1
		cleanup_push "nsenter --net='/run/netns/$ns' '$XL4' detach --pin-path '$pin' -s '$E2E_TMP/none.sock'; '$XL4' cleanup --pin-path '$pin' -s '$(cl_sock "$i")'; rm -rf '$pin'"
	fi
	: >>"$log"
	printf -- '---- start %s\n' "$(date -u +%FT%T.%3NZ)" >>"$log"
	k=$(wc -l <"$log")
	_cl_spawn "$log" nsenter --net="/run/netns/$ns" "$XL4" daemon -c "$conf" -s "$(cl_sock "$i")" \
		--pin-path "$pin" --detach-on-exit
	CL_XL4_PID[i]=$CL_SPAWNED
	cleanup_push "cl_node_xl4_stop $i"
	for ((t = 0; t < 300; t++)); do
		if tail -n +"$k" "$log" | grep -q '^level=info .* event=ready ' && [ -S "$(cl_sock "$i")" ]; then
			return 0
		fi
		if proc_exited "${CL_XL4_PID[i]}"; then
			cat "$log" >&2
			die "n$i: xl4 daemon exited before it was ready (log above)"
		fi
		sleep 0.1
	done
	cat "$log" >&2
	die "n$i: xl4 daemon not ready after 30 s (log above)"
}

# cl_node_xl4_stop I [SIGNAL]: stop node I's daemon (TERM by default), at most 10 s.
cl_node_xl4_stop() {
	proc_stop "${CL_XL4_PID[$1]:-}" "${2:-TERM}" 10
	CL_XL4_PID[$1]=
}

# BIRD timers lowered for a test (an operator keeps BIRD's defaults or picks their own): hold and
# keepalive 3 s / 1 s, BFD 100 ms x 3, and reconnects after 1 s instead of 5 s (connect delay),
# 60-300 s (error wait) or 120 s (connect retry).
_CL_BGP_TIMERS='hold time 3; keepalive time 1; connect delay time 1; connect retry time 1;
	error wait time 1, 2; error forget time 10;'
_CL_BFD='min rx interval 100 ms; min tx interval 100 ms; multiplier 3;'

# cl_node_bird_conf I FILE: examples/bird/node.conf's shape with the test's addresses and timers.
cl_node_bird_conf() {
	local i=$1

	cat >"$2" <<EOF
log stderr all;
router id $(cl_node4 "$i");
protocol device { scan time 10; }
protocol kernel xl4vips4 {
	kernel table $CL_TABLE;
	learn;
	ipv4 { import where krt_source = 76; export none; };
}
protocol kernel xl4vips6 {
	kernel table $CL_TABLE;
	learn;
	ipv6 { import where krt_source = 76; export none; };
}
protocol bfd { interface "eth0" { $_CL_BFD }; }
protocol bgp uplink4 {
	local $(cl_node4 "$i") as $CL_AS_NODE;
	neighbor $CL_R4 as $CL_AS_RT;
	$_CL_BGP_TIMERS
	bfd on;
	ipv4 {
		import none;
		export where proto = "xl4vips4" && net ~ [ $CL_VIPNET4{32,32} ];
		next hop self;
	};
}
protocol bgp uplink6 {
	local $(cl_node6 "$i") as $CL_AS_NODE;
	neighbor $CL_R6 as $CL_AS_RT;
	$_CL_BGP_TIMERS
	bfd on;
	ipv6 {
		import none;
		export where proto = "xl4vips6" && net ~ [ $CL_VIPNET6{128,128} ];
		next hop self;
	};
}
EOF
}

# cl_router_bird_conf FILE: examples/bird/router.conf's shape.
cl_router_bird_conf() {
	cat >"$1" <<EOF
log stderr all;
router id $CL_R4;
protocol device { scan time 10; }
protocol kernel {
	merge paths on;
	ipv4 { import none; export where source = RTS_BGP; };
}
protocol kernel {
	merge paths on;
	ipv6 { import none; export where source = RTS_BGP; };
}
protocol bfd { interface "eth0" { $_CL_BFD }; }
protocol bgp xl4nodes {
	local $CL_R4 as $CL_AS_RT;
	neighbor range $CL_NET4 as $CL_AS_NODE;
	dynamic name "node";
	debug { states };	# BGP session changes in the log (and why)
	$_CL_BGP_TIMERS
	bfd on;
	ipv4 {
		import limit 16 action restart;
		import where net ~ [ $CL_VIPNET4{32,32} ];
		export none;
	};
}
protocol bgp xl4nodes6 {
	local $CL_R6 as $CL_AS_RT;
	neighbor range $CL_NET6 as $CL_AS_NODE;
	dynamic name "node6_";
	debug { states };
	$_CL_BGP_TIMERS
	bfd on;
	ipv6 {
		import limit 16 action restart;
		import where net ~ [ $CL_VIPNET6{128,128} ];
		export none;
	};
}
EOF
}

# cl_bird_start NAME NS CONF: BIRD in the foreground (its pid is ours to kill), own control socket
# and pidfile, log in $E2E_TMP/bird-NAME.log (appended: a restarted BIRD keeps the old lines).
cl_bird_start() {
	local name=$1 ns=$2 conf=$3 sock=$E2E_TMP/bird-$1.ctl t

	bird -p -c "$conf" || die "$name: BIRD refuses $conf"
	_cl_spawn "$E2E_TMP/bird-$name.log" nsenter --net="/run/netns/$ns" bird -f -c "$conf" -s "$sock" -P "$E2E_TMP/bird-$name.pid"
	CL_BIRD_PID[$name]=$CL_SPAWNED
	cleanup_push "cl_bird_stop $name"
	for ((t = 0; t < 50; t++)); do
		[ -S "$sock" ] && return 0
		proc_exited "$CL_SPAWNED" && die "$name: BIRD exited: $(tail -5 "$E2E_TMP/bird-$name.log")"
		sleep 0.1
	done
	die "$name: BIRD has no control socket after 5 s"
}

cl_bird_stop() {
	proc_stop "${CL_BIRD_PID[$1]:-}" "${2:-TERM}" 5
	CL_BIRD_PID[$1]=
	rm -f "$E2E_TMP/bird-$1.ctl"
}

cl_birdc() {
	local name=$1

	shift
	timeout 5 birdc -s "$E2E_TMP/bird-$name.ctl" "$@"
}

cl_router_bird_start() {
	cl_router_bird_conf "$E2E_TMP/bird-rt.conf"
	cl_bird_start rt "$CL_RT" "$E2E_TMP/bird-rt.conf"
}

cl_node_bird_start() {
	cl_node_bird_conf "$1" "$E2E_TMP/bird-n$1.conf"
	cl_bird_start "n$1" "$(cl_node_ns "$1")" "$E2E_TMP/bird-n$1.conf"
}

# cl_fib_nodes [6]: the router's kernel next hops for the VIP (IPv4, or IPv6 with 6) as node
# numbers, sorted ("" if none)
cl_fib_nodes() {
	local via i out=()

	if [ "${1:-4}" = 4 ]; then
		ip -n "$CL_RT" -4 route show "$CL_VIP4/32" 2>/dev/null |
			grep -oE 'via 198\.19\.2\.[0-9]+' | sed 's/.*\.//' | sort -n | tr '\n' ' ' | sed 's/ $//'
		return
	fi
	for via in $(ip -n "$CL_RT" -6 route show "$CL_VIP6/128" 2>/dev/null | grep -oE 'via [0-9a-f:]+' |
		sed 's/via //'); do
		for i in "${!CL_LL[@]}"; do
			[ "$via" = "${CL_LL[i]}" ] || [ "$via" = "$(cl_node6 "$i")" ] && out+=("$i")
		done
	done
	printf '%s\n' "${out[@]}" | grep . | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# cl_wait_fib "1 2" SECS: wait until the router's FIB has exactly these next hops for both VIPs
# (IPv4 and IPv6); 0 if it did.
cl_wait_fib() {
	local want=$1 secs=$2 t

	for ((t = 0; t <= secs * 20; t++)); do
		[ "$(cl_fib_nodes 4)" = "$want" ] && [ "$(cl_fib_nodes 6)" = "$want" ] && return 0
		sleep 0.05
	done
	return 1
}

# cl_wait_bfd "1 2" SECS: until the router's BFD sessions that are up (IPv4 and IPv6) are exactly
# these nodes
# (BFD comes up about a second after BGP: a crash before that takes the BGP hold time)
cl_wait_bfd() {
	local want=$1 secs=$2 t got

	for ((t = 0; t < secs * 10; t++)); do
		got=$(cl_birdc rt show bfd sessions 2>/dev/null | awk '$3 == "Up" { print $1 }')
		[ "$(echo "$got" | grep -oE '^198\.19\.2\.[0-9]+$' | sed 's/.*\.//' | sort -n | tr '\n' ' ' | sed 's/ $//')" = "$want" ] &&
			[ "$(echo "$got" | grep -oE '^2001:db8:c2::[0-9]+$' | sed 's/.*://' | sort -n | tr '\n' ' ' | sed 's/ $//')" = "$want" ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# cl_fib_monitor_start [NS]: route changes with timestamps (UTC) in the router (or NS), in
# $E2E_TMP/fib.log (or $E2E_TMP/routes-NS.log)
cl_fib_monitor_start() {
	local ns=${1:-$CL_RT} log=$E2E_TMP/fib.log

	[ -n "${1:-}" ] && log=$E2E_TMP/routes-$1.log
	bg_start "$ns" "$log" env TZ=UTC ip -ts monitor route
}

# cl_fib_change_after T0 REGEX [NS]: seconds from unix time T0 to the first route change the
# router's (NS's) `ip -ts monitor route` saw at or after T0 whose text (nexthop lines included)
# matches REGEX; "none" if there is none
cl_fib_change_after() {
	local log=$E2E_TMP/fib.log

	[ -n "${3:-}" ] && log=$E2E_TMP/routes-$3.log
	"$PY" - "$log" "$1" "$2" <<'EOF'
import datetime, re, sys
t0, pat = float(sys.argv[2]), re.compile(sys.argv[3])
blocks, cur = [], None
for line in open(sys.argv[1]):
    m = re.match(r"\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\] (.*)", line)
    if m:
        t = datetime.datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        cur = [t, m[2]]
        blocks.append(cur)
    elif cur:
        cur[1] += " " + line.strip()
for t, text in blocks:
    if t >= t0 and pat.search(text):
        print(f"{t - t0:.4f}")
        sys.exit(0)
print("none")
EOF
}

# cl_web I EXPR [VIP]: EXPR over node I's VIP "web" (IPv4; or VIP, e.g. web6) as v, from a fresh
# `xl4 vip list --json`
cl_web() {
	xl4n "$1" vip list --json >"$E2E_TMP/vips-n$1.json" || {
		echo "xl4 vip list failed"
		return 1
	}
	"$PY" -c 'import json, sys; v = [v for v in json.load(open(sys.argv[1])) if v["name"] == sys.argv[3]][0]; print(eval(sys.argv[2]))' \
		"$E2E_TMP/vips-n$1.json" "$2" "${3:-web}"
}

# cl_wait_web I EXPR WANT SECS [VIP]: until `cl_web I EXPR VIP` prints WANT; 0 if it did
cl_wait_web() {
	local t

	for ((t = 0; t < $4 * 10; t++)); do
		[ "$(cl_web "$1" "$2" "${5:-web}" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

