#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP errors about a VIP's flows, end to end (docs/load-balancer.md, "ICMP errors"), l2 mode,
# one backend b1 with a UDP echo on VIP:9000 (tests/e2e/lb_topo.sh):
#
#   (a) the attack: a "fragmentation needed" / "packet too big" to the VIP quoting a reply
#       VIP:9000 -> a client that never talked to the VIP (198.18.0.77 / 2001:db8::77). Before
#       issue 12.7 the balancer steered it to Maglev's pick, whose kernel then cached that
#       path MTU toward the victim for 10 minutes. Now: refused (lb_icmp_no_flow, counted) and
#       b1 caches nothing.
#   (b) the real thing: the client's UDP flow to the VIP exists (an echo comes back), then an
#       error about it: b1's kernel takes the announced MTU for the client.
#
# Needs root and scapy. Exit 0: all passed; 1: something failed; 77: skipped.
set -u -o pipefail

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/e2e/lb_topo.sh
. "$E2E_LIB_DIR/lb_topo.sh"

require_root
require_cmd ip nsenter setsid timeout
require_xl4
require_scapy
e2e_tmpdir

SEND="$E2E_LIB_DIR/icmp_err.py"
B1=$(lb_be_ns 1)
VICTIM4=198.18.0.77 VICTIM6=2001:db8::77
MTU4=1000 MTU6=1300 # above Linux's floors (min_pmtu 552, IPv6 1280): a kernel takes them

# cached_mtu FAM ADDR: the path MTU b1's kernel holds toward ADDR ("none" without one).
cached_mtu() {
	local out

	out=$(ip -n "$B1" -"$1" route get "$2" 2>&1)
	if [[ $out =~ mtu\ ([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo none; fi
}

e2e_section "(setup) one backend behind udp4/udp6 (l2)"
lb_topo_create 1
lb_backend_start l2 1
lb_write_conf l2 "$E2E_TMP/xl4.conf" 1
daemon_start "$LB_LB" -c "$E2E_TMP/xl4.conf"
lb_wait_active 1 || die "the backend did not become active"
assert_eq "b1: no path MTU toward $VICTIM4 before" none "$(cached_mtu 4 "$VICTIM4")"
assert_eq "b1: no path MTU toward $VICTIM6 before" none "$(cached_mtu 6 "$VICTIM6")"

e2e_section "(a) an error about a flow never seen is refused"
in_ns "$LB_CLI" "$PY" "$SEND" err "$LB_VIP4" "$LB_UPORT" "$VICTIM4" 5555 "$MTU4" || die "icmp_err.py"
in_ns "$LB_CLI" "$PY" "$SEND" err "$LB_VIP6" "$LB_UPORT" "$VICTIM6" 5555 "$MTU6" || die "icmp_err.py"
sleep 0.5
assert_eq "b1: no path MTU toward the victim $VICTIM4" none "$(cached_mtu 4 "$VICTIM4")"
assert_eq "b1: no path MTU toward the victim $VICTIM6" none "$(cached_mtu 6 "$VICTIM6")"
stats_snapshot "$E2E_TMP/stats-a.json" || _fail "xl4 stats"
assert_eq "drops: lb_icmp_no_flow" 2 "$(json_get "$E2E_TMP/stats-a.json" drops.lb_icmp_no_flow.packets)"

e2e_section "(b) an error about the client's flow reaches its backend"
in_ns "$LB_CLI" "$PY" "$SEND" flow "$LB_VIP4" "$LB_UPORT" 5601 || _fail "UDP echo over VIP4"
in_ns "$LB_CLI" "$PY" "$SEND" flow "$LB_VIP6" "$LB_UPORT" 5601 || _fail "UDP echo over VIP6"
in_ns "$LB_CLI" "$PY" "$SEND" err "$LB_VIP4" "$LB_UPORT" "$LB_C4" 5601 "$MTU4" || die "icmp_err.py"
in_ns "$LB_CLI" "$PY" "$SEND" err "$LB_VIP6" "$LB_UPORT" "$LB_C6" 5601 "$MTU6" || die "icmp_err.py"
sleep 0.5
assert_eq "b1: path MTU toward the client $LB_C4" "$MTU4" "$(cached_mtu 4 "$LB_C4")"
assert_eq "b1: path MTU toward the client $LB_C6" "$MTU6" "$(cached_mtu 6 "$LB_C6")"
stats_snapshot "$E2E_TMP/stats-b.json" || _fail "xl4 stats"
assert_eq "drops: lb_icmp_no_flow (no more)" 2 "$(json_get "$E2E_TMP/stats-b.json" drops.lb_icmp_no_flow.packets)"

e2e_cleanup
assert_eq "namespaces left" "" "$(ip netns list | grep "^$LB_P-" | cut -d' ' -f1 | tr '\n' ' ')"
e2e_summary "lb icmp"
