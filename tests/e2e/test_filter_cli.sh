#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The filter's control path end to end: `xl4 daemon` with a filter section on one end of a
# veth pair, then `xl4 block|allow|rule|limit` through the control socket:
#   - config lists and rules are in place at start; a config the kernel side refuses stops
#     the daemon with one line
#   - block add/list/del with IPv4 and IPv6, --ttl (entries expire and are swept), bad input
#     refused with one line naming the entry and nothing applied
#   - a 10,000-prefix file applied in well under a second, listed back, deleted
#   - rule add/list/del (overlaps refused), limit set/show/off, bad control requests
#   - a full IPv4 blocklist index (filter.ipv4_groups) refused with one line, nothing applied
# Addresses only from 198.18.0.0/15 and 2001:db8::/32.
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter timeout
require_xl4
e2e_tmpdir

A=xl4e-$$-a
B=xl4e-$$-b
ns_create "$A"
ns_create "$B"
veth_pair "$A" a0 "$B" b0

CONF=$E2E_TMP/xl4.conf
cat >"$CONF" <<'CONF_END'
filter: {
  allow = [ "198.18.5.0/24", "2001:db8:5::/48" ];
  block = [ "198.18.6.0/24" ];
  rules = (
    { dst = "198.18.1.0/24"; proto = "tcp"; ports = "1000-2000"; action = "drop"; },
    { dst = "198.18.1.1"; proto = "udp"; ports = "53"; action = "limit"; rate = 100; burst = 200; }
  );
  limit: { rate = 1000; burst = 2000; v6_prefix = 64; new_sources_per_second = 100000; };
  rate_table_size = 65536;
};
CONF_END

x() { "$XL4" "$@" -s "$DAEMON_SOCK"; }
NL=$'\n'

e2e_section "daemon with a filter section"
daemon_start "$B" -i b0 -m skb -c "$CONF"
out=$(x block list)
assert_match "config blocklist in place" '^198\.18\.6\.0/24 +never expires' "$out"
out=$(x allow list --json)
assert_match "config allowlist in place (IPv6 too)" '"2001:db8:5::/48"' "$out"
out=$(x rule list)
assert_eq "config rules in place" 2 "$(printf '%s\n' "$out" | grep -c .)"
assert_match "limit rule listed with its rate" 'udp +53 +limit 100/s burst 200' "$out"
out=$(x limit show --json)
assert_match "config global limit on" '"rate": ?1000' "$out"

e2e_section "block add / list / del"
assert_true "block add v4 and v6" x block add 198.18.7.0/24 2001:db8:7::/48 198.18.8.8
out=$(x block list)
assert_match "v4 listed" '198\.18\.7\.0/24' "$out"
assert_match "v6 listed" '2001:db8:7::/48' "$out"
assert_match "bare address is a /32" '198\.18\.8\.8/32' "$out"
expect_fail "host bits set" 1 "198.18.9.1/24.*has host bits set" x block add 198.18.9.0/24 198.18.9.1/24
out=$(x block list)
assert_false "nothing applied after a bad prefix" grep -q '198.18.9.0/24' <<<"$out"
expect_fail "del of an absent prefix" 1 "198.18.10.0/24 is not on the blocklist" \
	x block del 198.18.7.0/24 198.18.10.0/24
assert_match "nothing removed after a bad del" '198\.18\.7\.0/24' "$(x block list)"
assert_true "block del" x block del 198.18.7.0/24 2001:db8:7::/48 198.18.8.8
assert_false "deleted entries gone" grep -q '198.18.7.0' <<<"$(x block list)"
expect_fail "usage: no prefixes" 2 "add needs prefixes" x block add
expect_fail "usage: bad --ttl" 2 "--ttl 'x'" x block add 198.18.7.0/24 --ttl x

e2e_section "expiry"
assert_true "allow add --ttl 1" x allow add 198.18.11.0/24 --ttl 1
assert_match "expiring entry shows its time" '198\.18\.11\.0/24 +expires in [01] s' "$(x allow list)"
sleep 2.5
assert_false "expired entry swept" grep -q '198.18.11.0' <<<"$(x allow list)"

e2e_section "10,000 prefixes from a file"
BIG=$E2E_TMP/big.txt
{
	echo "# 10,000 /32s and /64s from the documentation ranges"
	echo
	for ((i = 0; i < 8000; i++)); do echo "198.19.$((i / 256)).$((i % 256))"; done
	for ((i = 0; i < 2000; i++)); do printf '2001:db8:100:%x::/64   # v6\n' "$i"; done
} >"$BIG"
t0=$(date +%s%N)
x block add -f "$BIG"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "block add -f (10,000 prefixes)" 0 "$rc"
e2e_log "        10,000 prefixes applied in $ms ms"
assert_true "applied in under 1 s ($ms ms)" test "$ms" -lt 1000
out=$(x block list --json)
n=$("$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out")
assert_eq "listed back (10,000 + 1 from the config)" 10001 "$n"
t0=$(date +%s%N)
x block del -f - <"$BIG"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "block del -f - (stdin)" 0 "$rc"
assert_true "deleted in under 1 s ($ms ms)" test "$ms" -lt 1000
assert_eq "only the config entry left" "198.18.6.0/24" "$(x block list --json | "$PY" -c \
	'import json,sys; print(" ".join(e["prefix"] for e in json.load(sys.stdin)))')"
printf '198.18.12.0/24\n198.18.12.0/33\n' >"$E2E_TMP/bad.txt"
expect_fail "bad line named by file and line" 1 "bad.txt:2: '198.18.12.0/33'" x block add -f "$E2E_TMP/bad.txt"

e2e_section "rules"
id=$(x rule add 198.18.1.2 --proto tcp --port 80 --action allow)
assert_match "rule add prints the id ($id)" '^[0-9]+$' "$id"
expect_fail "overlapping rule refused" 1 "conflicts with rule" x rule add 198.18.1.0/24 --proto tcp --port 1500-2500 --action drop
expect_fail "limit without rate" 1 'needs rate and burst' x rule add 198.18.1.3 --action limit
expect_fail "ports with icmp" 1 'ports need proto tcp, udp or any' x rule add 198.18.1.3 --proto icmp --port 5 --action drop
expect_fail "bad proto" 1 "proto 'sctp' is not one of" x rule add 198.18.1.3 --proto sctp --action drop
expect_fail "usage: no action" 2 'needs --action' x rule add 198.18.1.3
assert_match "new rule listed" "(^|$NL)$id +198\.18\.1\.2/32 +tcp +80 +allow .*matched 0 dropped 0" "$(x rule list)"
assert_true "rule del" x rule del "$id"
assert_false "rule gone" grep -q '198.18.1.2/32' <<<"$(x rule list)"
expect_fail "del of an absent rule" 1 "no rule $id" x rule del "$id"

e2e_section "global limit"
assert_true "limit set" x limit set --rate 50 --burst 60 --v6-prefix 56
assert_match "limit show" '50 packets/s, burst 60, IPv6 sources per /56' "$(x limit show)"
assert_true "limit off" x limit off
assert_match "limit off shown" 'off' "$(x limit show)"
expect_fail "usage: set without burst" 2 'needs --rate PPS and --burst N' x limit set --rate 5

e2e_section "bad control requests"
for req in '{"cmd":"block-add","prefixes":"198.18.6.0/24"}' \
	'{"cmd":"block-add","prefixes":[]}' \
	'{"cmd":"block-add","prefixes":[5]}' \
	'{"cmd":"block-add","prefixes":["198.18.13.0/24"],"ttl":-1}' \
	'{"cmd":"block-add","prefixes":["198.18.13.0/24"],"ttl":"5"}' \
	'{"cmd":"block-add","prefixes":["198.18.13.0/24"],"tll":5}' \
	'{"cmd":"rule-add","dst":"198.18.1.3","action":"limit","rate":1.5,"burst":2}' \
	'{"cmd":"rule-add","dst":7,"action":"drop"}' \
	'{"cmd":"rule-del","id":0}' \
	'{"cmd":"rule-del","id":true}' \
	'{"cmd":"limit-set","rate":10,"burst":10,"v6_prefix":200}'; do
	assert_match "refused: $req" '"ok": ?false, ?"error": ?"[^"]+"' "$(raw_request "$req")"
done
assert_false "no half-applied request" grep -q '198.18.13.0' <<<"$(x block list)"
assert_true "daemon still answers" x status

e2e_section "a full IPv4 index is refused, naming the setting"
daemon_stop
MAIN_PIN=$DAEMON_PIN
DAEMON_PIN=$MAIN_PIN-g16 # 16 groups is another map size: pins of its own
printf 'filter: { ipv4_groups = 16; rate_table_size = 65536; };\n' >"$E2E_TMP/groups.conf"
daemon_start "$B" -i b0 -m skb -c "$E2E_TMP/groups.conf"
pairs=()
for i in $(seq 100 115); do pairs+=("198.18.$i.1" "198.18.$i.2"); done
assert_true "16 /24s holding two /32s each take the 16 groups" x block add "${pairs[@]}"
expect_fail "the 17th such /24" 1 '198\.18\.116\.2/32: .*raise filter\.ipv4_groups\); nothing was added' \
	x block add 198.18.116.1 198.18.116.2
assert_false "nothing of the refused request listed" grep -q '198.18.116.1/32' <<<"$(x block list)"
assert_true "a /32 alone in its /24 needs no group" x block add 198.18.117.1
assert_true "deleting one of a pair gives its group back" x block del 198.18.100.2
assert_true "so the 17th fits now" x block add 198.18.116.1 198.18.116.2
daemon_stop
DAEMON_PIN=$MAIN_PIN

e2e_section "config errors stop the daemon with one line"
daemon_stop
cat >"$E2E_TMP/overlap.conf" <<'CONF_END'
filter: { rules = ( { dst = "198.18.1.0/24"; proto = "icmp"; action = "drop"; },
                    { dst = "2001:db8:1::/64"; proto = "any"; action = "allow"; } );
          rate_table_size = 65536; };   # the pinned bucket map keeps its size across restarts
CONF_END
out=$(nsenter --net="/run/netns/$B" timeout 3 "$XL4" daemon --detach-on-exit -i b0 -m skb -c "$E2E_TMP/overlap.conf" \
	-s "$DAEMON_SOCK" --pin-path "$DAEMON_PIN" 2>&1)
rc=$?
assert_eq "nested destinations, icmp and any: starts, stops on SIGTERM with 0 (log: $out)" 124 "$rc"
printf 'filter: { rules = ( { dst = "198.18.1.0/24"; proto = "tcp"; ports = "1-100"; action = "drop"; },\n{ dst = "198.18.1.0/24"; proto = "tcp"; ports = "50-150"; action = "allow"; } ); rate_table_size = 65536; };\n' \
	>"$E2E_TMP/nested.conf"
out=$(nsenter --net="/run/netns/$B" timeout 20 "$XL4" daemon -i b0 -m skb -c "$E2E_TMP/nested.conf" \
	-s "$DAEMON_SOCK" --pin-path "$DAEMON_PIN" 2>&1)
rc=$?
assert_eq "crossing port ranges in the config: refused" 1 "$rc"
assert_match "one line naming file, line and entry ($out)" 'nested.conf:2: filter.rules\[1\]: ports 50-150: overlaps rules\[0\]' "$out"
assert_false "no XDP program left" link_has_xdp "$B" b0

e2e_summary filter-cli
