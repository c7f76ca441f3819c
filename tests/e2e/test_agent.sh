#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The backend agent on a real link: client ns <-> backend ns over a veth pair, `xl4 agent` set
# up on the backend end. The client plays the balancer's part by hand (scapy for ipip mode, an
# nftables rewrite or a route for port mode), so no balancer runs here.
#
#   (a) usage errors: bad address, bad port spec, unknown interface, no source set for
#       decapsulation (neither --from, -c nor --no-decap) -> one line, exit 2
#   (b) set-up: VIPs on lo (/32, /128 nodad), DSR sysctls (rp_filter loose), clsact filters; a
#       second run with the same arguments changes nothing
#   (c) ipip mode: IPIP and ip6ip6 packets (scapy) to a UDP echo service on the VIP are
#       decapsulated and answered straight from the VIP to the client's real socket (DSR);
#       an encapsulated packet whose inner destination is not a VIP is not decapsulated;
#       --from replaces the source set, a family without a prefix is decapsulated from nobody
#   (c2) the attack: with the source set taken from the balancers' config (-c), encapsulated
#       packets from an unlisted host, to an outer destination that is not the backend's, or
#       with an outer header the balancer never sends (options, fragment, 6in4) never reach
#       the VIP's service (a UDP listener that logs every datagram) and are counted by
#       reason, in --status and --status --json; the balancer's own traffic still does;
#       --no-decap drops them all
#   (d) port mode, UDP: the client sends to VIP:8080 (what the balancer forwards), the reply
#       reaches its socket from VIP:80, checksum verified by the client's kernel (no UDP
#       checksum errors), IPv4 and IPv6; again with TX checksum offload on (CHECKSUM_PARTIAL)
#   (e) port mode, TCP: a real handshake and echo to VIP:80 with the balancer's destination
#       port rewrite done by a stateless nftables rule on the client
#   (f) counters in `xl4 agent --status` match the traffic
#   (g) --remove leaves the backend namespace exactly as before (addresses on lo, sysctls,
#       qdiscs and filters, pins); a second --remove is harmless
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped.
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter setsid ethtool socat ss tc timeout
require_xl4
require_scapy
e2e_tmpdir

CLI=xl4a-$$-c
BE=xl4a-$$-b
C_IF=c0
B_IF=b0
C4=198.18.0.1 B4=198.18.0.2
C6=2001:db8::1 B6=2001:db8::2
VIP4=198.18.1.1 VIP6=2001:db8:1::1
NOTVIP4=198.18.1.99
OUTER4=198.18.3.1 OUTER6=2001:db8:3::1 # the balancer's ipip source prefix
PIN=/sys/fs/bpf/xl4-agent-e2e-$$
AGENT_STATE_PIN=xl4_astate_v1
N=5 # datagrams per probe

# Run xl4 in the backend namespace. nsenter (network namespace only), not `ip netns exec`: the
# agent pins maps, and the pins must land in the bpffs everyone sees.
agent() { nsenter --net="/run/netns/$BE" "$XL4" agent "$@"; }

# Everything --remove must put back, in one text.
backend_snapshot() {
	local k s

	ip -n "$BE" -o addr show dev lo | awk '{print $3, $4}'
	for s in all "$B_IF"; do
		for k in arp_ignore arp_announce rp_filter; do
			printf '%s.%s=%s\n' "$s" "$k" "$(in_ns "$BE" cat "/proc/sys/net/ipv4/conf/$s/$k")"
		done
	done
	tc -n "$BE" qdisc show dev "$B_IF" 2>&1
	tc -n "$BE" filter show dev "$B_IF" ingress 2>&1
	tc -n "$BE" filter show dev "$B_IF" egress 2>&1
	ls -A "$PIN" 2>&1 | sed "s|$PIN|PIN|"
}

# The status without what legitimately changes between runs (program ids, counters).
status_shape() { agent -i "$B_IF" --pin-path "$PIN" --status | sed -E 's/prog id [0-9]+/prog id N/' | sed '/counters:/,$d'; }

# Program ids and tags differ between runs; nothing else may.
normalize_ids() { sed -E 's/(id |:\[)[0-9]+/\1N/g; s/tag [0-9a-f]+/tag T/'; }

# same_text NAME A B: multi-line texts equal; on failure the diff is shown.
same_text() {
	if [ "$2" == "$3" ]; then
		_pass "$1"
	else
		_fail "$1:"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/        /'
	fi
}

# counter NAME: packets of one agent counter, from --status.
counter() { agent -i "$B_IF" --pin-path "$PIN" --status | awk -v n="$1" '$1 == n {print $2}'; }

# shellcheck disable=SC2016
udp_csum_errors() {
	in_ns "$CLI" awk '/^Udp:/ { if (++n == 1) { for (i = 1; i <= NF; i++) if ($i == "InCsumErrors") c = i } else print $c }' /proc/net/snmp
}
# shellcheck disable=SC2016
udp6_csum_errors() { in_ns "$CLI" awk '$1 == "Udp6InCsumErrors" {print $2}' /proc/net/snmp6; }

cat >"$E2E_TMP/probe.py" <<'EOF'
import ipaddress, os, socket, sys
from scapy.all import IP, UDP, Ether, IPOption, IPv6, Raw, conf, sendp

conf.verb = 0


def same(a, b):
    return ipaddress.ip_address(a) == ipaddress.ip_address(b)


def main():
    mode = sys.argv[1]
    ok = 0
    if mode != "spoof":
        count, want = int(sys.argv[2]), int(sys.argv[3])
    if mode == "ipip":
        # ipip IFACE DSTMAC OUTER_SRC OUTER_DST CLIENT VIP PORT: encapsulated request from
        # scapy, the reply awaited on a real socket at CLIENT
        iface, mac, osrc, odst, client, vip, port = sys.argv[4:11]
        port = int(port)
        v6 = ":" in vip
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((client, 0))
        sport = s.getsockname()[1]
        s.settimeout(1.5)
        for i in range(count):
            msg = b"xl4-ipip-%d-" % i + os.urandom(6).hex().encode()
            if v6:
                outer = IPv6(src=osrc, dst=odst) / IPv6(src=client, dst=vip)
            else:
                outer = IP(src=osrc, dst=odst, flags="DF") / IP(src=client, dst=vip, flags="DF")
            sendp(Ether(dst=mac) / outer / UDP(sport=sport, dport=port) / Raw(msg), iface=iface)
            try:
                data, addr = s.recvfrom(2048)
                if data == msg and same(addr[0], vip) and addr[1] == port:
                    ok += 1
                else:
                    print(f"unexpected reply {data!r} from {addr}")
            except socket.timeout:
                pass
    elif mode == "spoof":
        # spoof IFACE DSTMAC OUTER_SRC OUTER_DST INNER_SRC VIP PORT COUNT TAG [opts|frag|sit]:
        # send only; the payload carries TAG so the listener's log shows what got through
        iface, mac, osrc, odst, isrc, vip, port, count, tag = sys.argv[2:11]
        how = sys.argv[11] if len(sys.argv) > 11 else ""
        for i in range(int(count)):
            msg = b"%s-%d" % (tag.encode(), i)
            if how == "sit":
                pkt = IP(src=osrc, dst=odst) / IPv6(src=isrc, dst=vip)
            elif ":" in vip:
                pkt = IPv6(src=osrc, dst=odst) / IPv6(src=isrc, dst=vip)
            elif how == "opts":
                pkt = IP(src=osrc, dst=odst, options=[IPOption(b"\x01\x01\x01\x00")]) / IP(src=isrc, dst=vip)
            elif how == "frag":
                pkt = IP(src=osrc, dst=odst, flags="MF") / IP(src=isrc, dst=vip)
            else:
                pkt = IP(src=osrc, dst=odst) / IP(src=isrc, dst=vip)
            sendp(Ether(dst=mac) / pkt / UDP(sport=40000 + i, dport=int(port)) / Raw(msg), iface=iface)
        print(f"spoof: sent {count} {tag}")
        sys.exit(0)
    else:
        # port VIP BPORT VPORT: request to VIP:BPORT, the reply must come from VIP:VPORT
        vip, bport, vport = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        v6 = ":" in vip
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1.5)
        for i in range(count):
            msg = b"xl4-port-%d-" % i + os.urandom(6).hex().encode() + b"." * (i * 97 % 900)
            s.sendto(msg, (vip, bport))
            try:
                data, addr = s.recvfrom(2048)
                if data == msg and same(addr[0], vip) and addr[1] == vport:
                    ok += 1
                else:
                    print(f"unexpected reply {data[:20]!r} from {addr}")
            except socket.timeout:
                pass
    print(f"{mode}: {ok}/{count} replies as expected")
    sys.exit(0 if ok == want else 1)


main()
EOF

# listen.py VIP4 VIP6 PORT LOG: a UDP echo on both VIPs that appends every datagram it hears
# to LOG, so a test can tell what reached the service.
cat >"$E2E_TMP/listen.py" <<'EOF'
import select, socket, sys

vip4, vip6, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.bind((vip4, port))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.bind((vip6, port))
with open(log, "ab", buffering=0) as f:
    while True:
        for s in select.select([s4, s6], [], [])[0]:
            data, addr = s.recvfrom(4096)
            f.write(data + b" from " + addr[0].encode() + b"\n")
            s.sendto(data, addr)
EOF

# ---------------------------------------------------------------------------------------------
e2e_section "topology: $CLI/$C_IF ($C4, $C6) <-> $BE/$B_IF ($B4, $B6); VIPs $VIP4 $VIP6"
ns_create "$CLI"
ns_create "$BE"
veth_pair "$CLI" "$C_IF" "$BE" "$B_IF"
addr4 "$CLI" "$C_IF" "$C4/24"
addr4 "$BE" "$B_IF" "$B4/24"
addr6 "$CLI" "$C_IF" "$C6/64"
addr6 "$BE" "$B_IF" "$B6/64"
B_MAC=$(link_mac "$BE" "$B_IF")
# port mode sends to the VIP directly: route it via the backend, as the balancer would
ip -n "$CLI" route add "$VIP4/32" via "$B4" || die "client: route to $VIP4"
ip -n "$CLI" -6 route add "$VIP6/128" via "$B6" || die "client: route to $VIP6"
# Non-default values, so restoring them is a real check.
in_ns "$BE" sysctl -qw "net.ipv4.conf.$B_IF.rp_filter=1" net.ipv4.conf.all.arp_announce=1 ||
	die "backend: sysctl"
# Whatever happens: take the agent down before the namespace goes (pins outlive namespaces).
cleanup_push "nsenter --net=/run/netns/$BE '$XL4' agent -i $B_IF --pin-path '$PIN' --remove; rm -rf '$PIN'"
BEFORE=$(backend_snapshot)

# ---------------------------------------------------------------------------------------------
e2e_section "(a) usage errors"
usage_check() {
	local name=$1 want=$2 out rc

	shift 2
	out=$(agent "$@" 2>&1)
	rc=$?
	assert_eq "$name: exit code" 2 "$rc"
	assert_match "$name: says why" "$want" "$out"
	assert_eq "$name: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
}
usage_check "bad address" "bad address '198.18.1.300'" -i "$B_IF" --pin-path "$PIN" --vip 198.18.1.300
usage_check "bad port spec" "bad port spec '$VIP4:80-8080/tcp'" -i "$B_IF" --pin-path "$PIN" --port "$VIP4:80-8080/tcp"
usage_check "bad protocol" "protocol 'sctp'" -i "$B_IF" --pin-path "$PIN" --port "$VIP4:80=8080/sctp"
usage_check "IPv6 port without brackets" "brackets" -i "$B_IF" --pin-path "$PIN" --port "$VIP6:80=8080/udp"
usage_check "unknown interface" "no such interface 'nope0'" -i nope0 --pin-path "$PIN" --vip "$VIP4"
usage_check "no interface" "which interface" --vip "$VIP4"
usage_check "remove with vip" "takes no --vip" -i "$B_IF" --pin-path "$PIN" --remove --vip "$VIP4"
# Secure by default: without a source set the agent refuses rather than decapsulate from anyone.
usage_check "no source set" "give --from PREFIX" -i "$B_IF" --pin-path "$PIN" --vip "$VIP4"
usage_check "--no-decap with --from" "--no-decap" -i "$B_IF" --pin-path "$PIN" --vip "$VIP4" \
	--no-decap --from 198.18.3.0/24
usage_check "-c: no such file" "nope.conf" -i "$B_IF" --pin-path "$PIN" --vip "$VIP4" -c "$E2E_TMP/nope.conf"
usage_check "--to: bad address" "bad address" -i "$B_IF" --pin-path "$PIN" --vip "$VIP4" \
	--from 198.18.3.0/24 --to 198.18.0.300
same_text "nothing changed by the usage errors" "$BEFORE" "$(backend_snapshot)"

# ---------------------------------------------------------------------------------------------
e2e_section "(b) set-up, twice"
BASE=(-i "$B_IF" --pin-path "$PIN" --vip "$VIP4" --vip "$VIP6"
	--port "$VIP4:80=8080/udp" --port "[$VIP6]:80=8080/udp"
	--port "$VIP4:80=8080/tcp" --port "[$VIP6]:80=8080/tcp")
SETUP=("${BASE[@]}" --from 198.18.3.0/24 --from 2001:db8:3::/64)
assert_true "xl4 agent set-up" quietly agent "${SETUP[@]}"
lo=$(ip -n "$BE" -o addr show dev lo)
assert_match "$VIP4/32 on lo" "inet $VIP4/32 " "$lo"
assert_match "$VIP6/128 nodad on lo" "inet6 $VIP6/128 scope global nodad" "$lo"
for s in all "$B_IF"; do
	assert_eq "$s.arp_ignore" 1 "$(in_ns "$BE" cat /proc/sys/net/ipv4/conf/$s/arp_ignore)"
	assert_eq "$s.arp_announce" 2 "$(in_ns "$BE" cat /proc/sys/net/ipv4/conf/$s/arp_announce)"
	assert_eq "$s.rp_filter (loose)" 2 "$(in_ns "$BE" cat /proc/sys/net/ipv4/conf/$s/rp_filter)"
done
assert_match "ingress filter" "xl4_agent_in" "$(tc -n "$BE" filter show dev "$B_IF" ingress)"
assert_match "egress filter" "xl4_agent_out" "$(tc -n "$BE" filter show dev "$B_IF" egress)"
SHAPE1=$(status_shape)
SNAP1=$(backend_snapshot | normalize_ids)
assert_true "xl4 agent set-up again" quietly agent "${SETUP[@]}"
same_text "second run: same status" "$SHAPE1" "$(status_shape)"
same_text "second run: same namespace state" "$SNAP1" "$(backend_snapshot | normalize_ids)"
assert_eq "one ingress filter" 1 "$(tc -n "$BE" filter show dev "$B_IF" ingress | grep -c xl4_agent_in)"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) ipip mode: decapsulation and a direct reply"
bg_start "$BE" "$E2E_TMP/echo4.log" socat -T 5 "UDP4-LISTEN:9000,bind=$VIP4,fork,reuseaddr" PIPE
bg_start "$BE" "$E2E_TMP/echo6.log" socat -T 5 "UDP6-LISTEN:9000,bind=[$VIP6],fork,reuseaddr" PIPE
wait_listen "$BE" udp 9000 || die "socat did not listen on udp 9000"
sleep 0.3
decap0=$(counter decapsulated)
assert_true "IPIP to $VIP4:9000: $N echoes from the VIP" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
	ipip "$N" "$N" "$C_IF" "$B_MAC" "$OUTER4" "$B4" "$C4" "$VIP4" 9000
assert_true "ip6ip6 to [$VIP6]:9000: $N echoes from the VIP" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
	ipip "$N" "$N" "$C_IF" "$B_MAC" "$OUTER6" "$B6" "$C6" "$VIP6" 9000
assert_eq "decapsulated counter" $((decap0 + 2 * N)) "$(counter decapsulated)"
assert_true "IPIP to a non-VIP inner address: no reply" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
	ipip 2 0 "$C_IF" "$B_MAC" "$OUTER4" "$B4" "$C4" "$NOTVIP4" 9000
assert_eq "non-VIP not decapsulated" $((decap0 + 2 * N)) "$(counter decapsulated)"
# --from: only the balancers' outer sources may deliver encapsulated packets
st=$(agent -i "$B_IF" --pin-path "$PIN" --status)
assert_match "--status lists --from" "ipip from 198.18.3.0/24" "$st"
assert_match "--status lists the outer destinations (IFACE's)" "ipip to   $B4" "$st"
assert_true "set-up with --from another IPv4 prefix only" quietly agent "${BASE[@]}" --from 198.18.9.0/24
rej0=$(counter from_rejected)
assert_true "IPIP from an unlisted source: not decapsulated, no reply" quietly in_ns "$CLI" "$PY" \
	"$E2E_TMP/probe.py" ipip 2 0 "$C_IF" "$B_MAC" "$OUTER4" "$B4" "$C4" "$VIP4" 9000
assert_true "ip6ip6, no IPv6 prefix given: decapsulated from nobody, no reply" quietly in_ns "$CLI" \
	"$PY" "$E2E_TMP/probe.py" ipip 2 0 "$C_IF" "$B_MAC" "$OUTER6" "$B6" "$C6" "$VIP6" 9000
assert_eq "from_rejected counter" $((rej0 + 4)) "$(counter from_rejected)"
usage_check "bad --from" "--from: " -i "$B_IF" --pin-path "$PIN" --vip "$VIP4" --from 198.18.3.1/33
# An IPv6 source set, but no IPv6 outer destination: every ip6ip6 packet would be dropped.
snap=$(backend_snapshot | normalize_ids)
out=$(agent "${SETUP[@]}" --to "$B4" 2>&1)
assert_eq "--from IPv6 with only an IPv4 --to: refused (exit 1)" 1 "$?"
assert_match "... and says to give an IPv6 --to" "no IPv6 address.*--to ADDR" "$out"
same_text "... and changes nothing" "$snap" "$(backend_snapshot | normalize_ids)"
assert_true "set-up with both prefixes again" quietly agent "${SETUP[@]}"
assert_true "IPIP from a listed source again: echoes" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
	ipip 3 3 "$C_IF" "$B_MAC" "$OUTER4" "$B4" "$C4" "$VIP4" 9000

# ---------------------------------------------------------------------------------------------
e2e_section "(c2) spoofed encapsulation does not reach the VIP's service"
# The balancers' config on the backend: the agent takes lb.ipip_source_v4/v6 from it.
cat >"$E2E_TMP/balancer.conf" <<'EOF'
interfaces = ["eth0"];
lb: { ipip_source_v4 = "198.18.3.0/24"; ipip_source_v6 = "2001:db8:3::/112"; };
EOF
bg_start "$BE" "$E2E_TMP/listen.log" "$PY" "$E2E_TMP/listen.py" "$VIP4" "$VIP6" 9100 "$E2E_TMP/heard"
wait_listen "$BE" udp 9100 || die "the logging listener did not start: $(cat "$E2E_TMP/listen.log")"
assert_true "set-up with -c the balancers' config (no --from)" quietly agent "${BASE[@]}" -c "$E2E_TMP/balancer.conf"
assert_match "-c: the balancers' IPv4 prefix" "ipip from 198.18.3.0/24" "$(agent -i "$B_IF" --pin-path "$PIN" --status)"
rej0=$(counter from_rejected) to0=$(counter to_rejected) bad0=$(counter bad_outer)
# spoof OUTER_SRC OUTER_DST INNER_SRC VIP PORT COUNT TAG [opts|frag|sit]: the inner source is the
# client's real address, so the backend could answer (and rp_filter cannot be what stops it):
# only the agent stands between the spoofer and the service.
spoof() { in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" spoof "$C_IF" "$B_MAC" "$@" >/dev/null; }
spoof "$C4" "$B4" "$C4" "$VIP4" 9100 "$N" spoof-from4 || _fail "scapy: spoof-from4"
spoof "$C6" "$B6" "$C6" "$VIP6" 9100 "$N" spoof-from6 || _fail "scapy: spoof-from6"
spoof "$OUTER4" 198.18.0.77 "$C4" "$VIP4" 9100 "$N" spoof-to4 || _fail "scapy: spoof-to4"
spoof "$OUTER6" 2001:db8::77 "$C6" "$VIP6" 9100 "$N" spoof-to6 || _fail "scapy: spoof-to6"
spoof "$OUTER4" "$B4" "$C4" "$VIP4" 9100 "$N" spoof-opts4 opts || _fail "scapy: spoof-opts4"
spoof "$OUTER4" "$B4" "$C4" "$VIP4" 9100 "$N" spoof-frag4 frag || _fail "scapy: spoof-frag4"
spoof "$OUTER4" "$B4" "$C6" "$VIP6" 9100 "$N" spoof-sit sit || _fail "scapy: spoof-sit"
# ...and the balancer's own traffic, after the spoofs, on the same path
assert_true "balancer's IPIP: echoes" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
	ipip "$N" "$N" "$C_IF" "$B_MAC" "$OUTER4" "$B4" "$C4" "$VIP4" 9100
assert_true "balancer's ip6ip6: echoes" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
	ipip "$N" "$N" "$C_IF" "$B_MAC" 2001:db8:3::beef "$B6" "$C6" "$VIP6" 9100
sleep 0.3
heard=$(cat "$E2E_TMP/heard" 2>/dev/null)
assert_eq "the service heard no spoofed datagram" 0 "$(printf '%s\n' "$heard" | grep -c spoof)"
assert_eq "the service heard the balancer's" $((2 * N)) "$(printf '%s\n' "$heard" | grep -c xl4-ipip)"
assert_eq "from_rejected: unlisted outer sources" $((rej0 + 2 * N)) "$(counter from_rejected)"
assert_eq "to_rejected: outer destination not the backend's" $((to0 + 2 * N)) "$(counter to_rejected)"
assert_eq "bad_outer: outer options, outer fragment, 6in4" $((bad0 + 3 * N)) "$(counter bad_outer)"
json=$(agent -i "$B_IF" --pin-path "$PIN" --status --json)
assert_eq "--status --json: to_rejected packets" $((to0 + 2 * N)) \
	"$(printf '%s' "$json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["counters"]["to_rejected"]["packets"])')"
# --no-decap (an l2/port-mode backend): the balancer's own encapsulated packets are refused too
assert_true "set-up with --no-decap" quietly agent "${BASE[@]}" --no-decap
assert_match "--status: decapsulates from nobody" "nobody" "$(agent -i "$B_IF" --pin-path "$PIN" --status)"
rej0=$(counter from_rejected)
assert_true "--no-decap: the balancer's IPIP is not decapsulated" quietly in_ns "$CLI" "$PY" \
	"$E2E_TMP/probe.py" ipip 2 0 "$C_IF" "$B_MAC" "$OUTER4" "$B4" "$C4" "$VIP4" 9100
assert_eq "--no-decap: counted as from_rejected" $((rej0 + 2)) "$(counter from_rejected)"
assert_true "set-up with --from again" quietly agent "${SETUP[@]}"

# ---------------------------------------------------------------------------------------------
e2e_section "(d) port mode, UDP: replies leave from the VIP port"
bg_start "$BE" "$E2E_TMP/p4.log" socat -T 5 "UDP4-LISTEN:8080,bind=$VIP4,fork,reuseaddr" PIPE
bg_start "$BE" "$E2E_TMP/p6.log" socat -T 5 "UDP6-LISTEN:8080,bind=[$VIP6],fork,reuseaddr" PIPE
wait_listen "$BE" udp 8080 || die "socat did not listen on udp 8080"
sleep 0.3
port0=$(counter port_restored)
err4=$(udp_csum_errors) err6=$(udp6_csum_errors)
for vip in "$VIP4" "$VIP6"; do
	assert_true "UDP $vip:8080 -> reply from port 80" quietly in_ns "$CLI" "$PY" "$E2E_TMP/probe.py" \
		port "$N" "$N" "$vip" 8080 80
done
assert_eq "client: no IPv4 UDP checksum errors" "$err4" "$(udp_csum_errors)"
assert_eq "client: no IPv6 UDP checksum errors" "$err6" "$(udp6_csum_errors)"
assert_eq "port_restored counter" $((port0 + 2 * N)) "$(counter port_restored)"
# TX checksum offload on: the replies leave as CHECKSUM_PARTIAL, the helper must leave the
# pseudo-header sum alone
in_ns "$BE" ethtool -K "$B_IF" tx on >/dev/null 2>&1 || die "ethtool -K $B_IF tx on"
for vip in "$VIP4" "$VIP6"; do
	assert_true "UDP $vip:8080 with TX offload -> reply from port 80" quietly in_ns "$CLI" "$PY" \
		"$E2E_TMP/probe.py" port "$N" "$N" "$vip" 8080 80
done
in_ns "$BE" ethtool -K "$B_IF" tx off >/dev/null 2>&1 || die "ethtool -K $B_IF tx off"
assert_eq "port_restored counter (offload)" $((port0 + 4 * N)) "$(counter port_restored)"

# ---------------------------------------------------------------------------------------------
e2e_section "(e) port mode, TCP: a real connection to VIP:80"
bg_start "$BE" "$E2E_TMP/t.log" socat "TCP6-LISTEN:8080,bind=[::],fork,reuseaddr,ipv6only=0" EXEC:cat
wait_listen "$BE" tcp 8080 || die "socat did not listen on tcp 8080"
# The balancer's rewrite, stateless, on the client's way out.
if in_ns "$CLI" nft -f - <<EOF; then
table inet xl4e {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr $VIP4 tcp dport 80 tcp dport set 8080
		ip6 daddr $VIP6 tcp dport 80 tcp dport set 8080
	}
}
EOF
	for url in "$VIP4" "[$VIP6]"; do
		msg="xl4-tcp-$url-$RANDOM"
		got=$(printf '%s\n' "$msg" | in_ns "$CLI" timeout 10 socat -t 2 - "TCP:$url:80" 2>&1)
		assert_eq "TCP echo via $url:80" "$msg" "$got"
	done
else
	_fail "nftables rule on the client (needed to emulate the balancer)"
fi

# ---------------------------------------------------------------------------------------------
e2e_section "(f) counters"
status=$(agent -i "$B_IF" --pin-path "$PIN" --status)
printf '%s\n' "$status" | sed 's/^/    /'
assert_eq "no decap errors" 0 "$(counter decap_errors)"
assert_eq "no port errors" 0 "$(counter port_errors)"
assert_ge "port_restored includes TCP" $((4 * N + 4)) "$(counter port_restored)"

# ---------------------------------------------------------------------------------------------
e2e_section "(g) --remove restores the namespace"
assert_true "xl4 agent --remove" quietly agent -i "$B_IF" --pin-path "$PIN" --remove
AFTER=$(backend_snapshot)
same_text "backend exactly as before" "$BEFORE" "$AFTER"
assert_false "pin directory gone" test -e "$PIN"
assert_true "second --remove is harmless" quietly agent -i "$B_IF" --pin-path "$PIN" --remove
out=$(agent -i "$B_IF" --pin-path "$PIN" --status)
assert_eq "--status after remove: exit 1" 1 "$?"
assert_match "--status says not set up" "not set up" "$out"

# --remove given the balancer's pin directory by mistake: refused, and every pin there stays.
# And an agent directory with a file that is not the agent's: only the agent's pins go.
FAKE=/sys/fs/bpf/xl4-agent-e2e-lb-$$
cleanup_push "rm -rf '$FAKE' '$PIN'"
mkdir -p "$FAKE"
bpftool map create "$FAKE/xl4_stats_v1" type array key 4 value 8 entries 1 name xl4_stats_v1
bpftool map create "$FAKE/xl4_ct4_v1" type hash key 16 value 24 entries 16 name xl4_ct4_v1
out=$(agent -i "$B_IF" --pin-path "$FAKE" --remove 2>&1)
assert_eq "--remove over the balancer's pins: exit 1" 1 "$?"
assert_match "it says whose pins they are" "holds the balancer's pins" "$out"
out=$(agent -i "$B_IF" --pin-path "$FAKE" --vip "$VIP4" --no-decap --no-sysctl 2>&1)
rc=$?
assert_ge "set-up into the balancer's pins refused (exit status)" 1 "$rc"
assert_match "set-up says whose pins they are" "holds the balancer's pins" "$out"
assert_false "no agent map pinned among the balancer's" test -e "$FAKE/$AGENT_STATE_PIN"
assert_true "the balancer's counters stay" test -e "$FAKE/xl4_stats_v1"
assert_true "the balancer's connection table stays" test -e "$FAKE/xl4_ct4_v1"
assert_true "set up again" quietly agent -i "$B_IF" --pin-path "$PIN" --vip "$VIP4" --no-decap --no-sysctl
bpftool map create "$PIN/xl4_other_v1" type array key 4 value 4 entries 1 name xl4_other_v1
assert_true "--remove" quietly agent -i "$B_IF" --pin-path "$PIN" --remove
assert_false "the agent's pins gone" test -e "$PIN/$AGENT_STATE_PIN"
assert_true "a pin that is not the agent's stays" test -e "$PIN/xl4_other_v1"

e2e_summary agent
