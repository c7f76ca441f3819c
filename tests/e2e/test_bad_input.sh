#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input never crashes xl4, never hangs it and never costs it what already works:
#   - every subcommand with unknown options, missing values, wrong types, out-of-range numbers,
#     extra arguments, empty / 10 KB / non-UTF-8 strings: exit 1 or 2, exactly one line on
#     stderr, no signal, no hang (each run under `timeout 10`)
#   - the control socket (a daemon with a VIP, a backend, list entries, a rule and a limit):
#     not JSON, arrays, no/odd "cmd", trailing garbage, > 16 MiB, no newline, every field of
#     every command with a wrong type (tests/e2e/bad_ctl.py), idle and half-sent clients
#     (must not stall other clients); afterwards the state is what the valid requests made it
#   - replay of odd captures (tests/e2e/bad_pcap.py)
#   - configs: garbage, huge, deeply nested, every key of examples/xl4.conf and every scalar key
#     `xl4 config` lists with a wrong type, duplicates, limits (1025 backends, 65 VIPs, 3 million list entries), @include
#   - the daemon: second daemon, occupied interface, stale pins of another layout, SIGHUP,
#     SIGTERM during start-up, cleanup of a running daemon's pins
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped.
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter ethtool timeout bpftool
require_xl4
e2e_tmpdir

T=$E2E_TMP
CTL="$PY $E2E_LIB_DIR/bad_ctl.py"
A=xl4bad-$$-a
B=xl4bad-$$-b
DAEMON_PIN=/sys/fs/bpf/xl4-bad-$$
DAEMON_SOCK=$T/xl4.sock
export XL4_SOCKET=$DAEMON_SOCK XL4_PIN_PATH=$DAEMON_PIN
LONG=$(head -c 10240 /dev/zero | tr '\0' a)
NU=$'\xff\xfe\x80'
# the things a core dump could leave behind in the working directory
cd "$T" || die "cd $T"
ulimit -c 0

ns_create "$A"
ns_create "$B"
veth_pair "$A" a0 "$B" b0
veth_pair "$A" a1 "$B" b1

# ---- helpers ----

# bad NAME CMD...: xl4 CMD must exit 1 or 2 (never a signal, never a hang) with exactly one
# line on stderr. Sets OUT_ERR, OUT_RC.
bad() {
	local name=$1 lines

	shift
	timeout 10 "$XL4" "$@" </dev/null >"$T/out" 2>"$T/err"
	OUT_RC=$?
	OUT_ERR=$(cat "$T/err")
	lines=$(wc -l <"$T/err")
	if [ "$OUT_RC" -ne 1 ] && [ "$OUT_RC" -ne 2 ]; then
		_fail "$name: exit status $OUT_RC (want 1 or 2; 124 = hang, >128 = signal): $OUT_ERR"
	elif [ "$lines" -ne 1 ]; then
		_fail "$name: $lines lines on stderr (want 1): $(tr '\n' '|' <"$T/err" | head -c 300)"
	else
		_pass "$name: exit $OUT_RC: $(printf '%s' "$OUT_ERR" | head -c 120)"
		return 0
	fi
	return 1
}

# bad_says NAME REGEX CMD...: as bad, and the line must match REGEX (names the problem)
bad_says() {
	local name=$1 re=$2

	shift 2
	bad "$name" "$@" || return 1
	if [[ ! $OUT_ERR =~ $re ]]; then
		_fail "$name: the error does not name the problem (/$re/): $OUT_ERR"
		return 1
	fi
}

# usage NAME CMD...: a usage error: exit 2, one line
usage() {
	local name=$1

	shift
	bad "$name" "$@" || return 1
	if [ "$OUT_RC" -ne 2 ]; then
		_fail "$name: exit $OUT_RC, want 2 (usage error): $OUT_ERR"
		return 1
	fi
}

daemon_alive() {
	! proc_exited "$DAEMON_PID" && timeout 10 "$XL4" status -s "$DAEMON_SOCK" >/dev/null 2>&1
}

# the state the valid requests made, to compare after the abuse
state() {
	{
		timeout 10 "$XL4" vip list --json
		timeout 10 "$XL4" block list --json
		timeout 10 "$XL4" allow list --json
		timeout 10 "$XL4" rule list --json
		timeout 10 "$XL4" limit show --json
	} 2>&1 | sed -E 's/"(packets|bytes|new_flows|matched|dropped|expires_in_s|checks|failures|latency_us)": ?[0-9]+/"\1":N/g' |
		sed -E 's/"(since_s|syn_per_s|ack_per_s|ratio)": ?[0-9.e+-]+/"\1":T/g' # the guard's clock and rates
}

ctl() { timeout 60 $CTL "$DAEMON_SOCK" "$@" 2>&1; }

# =====================================================================================
e2e_section "daemon with state on $B/b0"
daemon_start "$B" -i b0 -m native
quietly "$XL4" vip add web 198.18.1.1:80/tcp || die "vip add"
quietly "$XL4" backend add web 198.18.2.1 --mac 02:00:00:00:02:01 || die "backend add"
quietly "$XL4" block add 198.18.6.0/24 2001:db8:6::/48 || die "block add"
quietly "$XL4" allow add 198.18.5.0/24 || die "allow add"
quietly "$XL4" rule add 198.18.1.0/24 --proto tcp --port 1000-2000 --action drop || die "rule add"
quietly "$XL4" limit set --rate 1000 --burst 2000 || die "limit set"
state >"$T/state.before"
assert_true "daemon answers status" daemon_alive

# =====================================================================================
e2e_section "command line: global"
usage "unknown global option" --bogus
usage "unknown command" nosuch
usage "empty command" ""
usage "non-UTF-8 command" "$NU"
usage "10 KB command" "$LONG"
usage "help for an unknown command" help nosuch

e2e_section "command line: options common to every subcommand"
for c in daemon status stats events replay cleanup check reasons vip backend agent block allow rule limit; do
	usage_re="unknown option|'--bogus'"
	bad_says "$c --bogus" "$usage_re" "$c" --bogus
	[ "$OUT_RC" -eq 2 ] || _fail "$c --bogus: exit $OUT_RC, want 2"
	bad "$c --bogus=$NU" "$c" "--bogus=$NU"
	bad "$c -Z" "$c" -Z
	bad "$c 10 KB option" "$c" "--$LONG"
done
# options that take a value, given none
for spec in "status -s" "stats -n" "stats --count" "events -s" "replay -c" "replay -w" "cleanup --pin-path" \
	"check -c" "daemon -i" "daemon -m" "daemon -c" "daemon --pin-path" "vip -m" "vip --mtu" \
	"backend -w" "backend --mac" "block -f" "block --ttl" "allow --ttl" "rule --action" "rule --rate" \
	"limit --rate" "agent -i" "agent --vip"; do
	# shellcheck disable=SC2086
	bad_says "$spec (no value)" "needs a value" $spec
done
# flags that take no value, given one
bad_says "status --json=1" "json.*takes no (argument|value)" status --json=1
bad_says "stats --all=1 names --all" "'--all'" stats --all=1
bad_says "stats --watch=1 names --watch" "'--watch'" stats --watch=1
bad_says "vip --reschedule=1" "reschedule" vip add w 198.18.1.9:80/tcp --reschedule=1
# extra arguments
for c in status stats events cleanup check reasons; do
	bad_says "$c extra argument" "unexpected argument|extra" "$c" extra
done
usage "replay two captures" replay a.pcap b.pcap
usage "daemon extra argument" daemon -i b0 extra

e2e_section "command line: values"
usage "stats -n 0" stats -w -n 0
usage "stats -n -1" stats -w -n -1
usage "stats -n nan" stats -w -n nan
usage "stats -n 99999999999999999999" stats -w -n 99999999999999999999
usage "stats --count 0" stats -w --count 0
usage "stats --count x" stats -w --count x
usage "daemon -m bogus" daemon -m bogus -i b0
usage "daemon -i ''" daemon -i ""
usage "daemon -i 10 KB" daemon -i "$LONG"
usage "daemon --pin-path outside bpffs" daemon -i b0 --pin-path /tmp/x
# the environment's paths are checked as the options are (XL4_PIN_PATH, XL4_SOCKET: exported above)
XL4_PIN_PATH=/tmp/x bad_says "daemon with XL4_PIN_PATH outside bpffs" "XL4_PIN_PATH" daemon -i b0
XL4_PIN_PATH=/tmp/x bad_says "check with XL4_PIN_PATH outside bpffs" "XL4_PIN_PATH" check
XL4_SOCKET=relative.sock bad_says "daemon with a relative XL4_SOCKET" "XL4_SOCKET" daemon -i b0
# ... and only the value in effect: --pin-path wins over a bad XL4_PIN_PATH, check never uses
# the socket
out=$(XL4_PIN_PATH=/tmp/x XL4_SOCKET=relative.sock timeout 30 "$XL4" check --pin-path "$DAEMON_PIN-ovr" 2>&1)
rc=$?
assert_eq "check --pin-path over a bad XL4_PIN_PATH, a relative XL4_SOCKET: exit (${out##*$'\n'})" 0 "$rc"
# the config insists on an absolute control_socket; the command line should too
out=$(nsenter --net="/run/netns/$B" timeout 5 "$XL4" daemon -i b1 -m native -s relative.sock \
	--pin-path "$DAEMON_PIN-rel" 2>&1)
rc=$?
rm -rf "$DAEMON_PIN-rel" "$T/relative.sock"
ip -n "$B" link set dev b1 xdp off 2>/dev/null
assert_match "daemon -s relative.sock: refused like the config's control_socket (exit $rc)" '^2$' "$rc"
bad_says "daemon -c ''" "cannot read|No such" daemon -c ""
bad_says "daemon -c 10 KB" "too long|cannot read" daemon -c "$T/$LONG"
bad_says "status -s 10 KB" "too long" status -s "$LONG"
bad_says "status -s ''" "not running|socket" status -s ""
bad_says "events -s non-UTF-8" "not running|not valid UTF-8" events -s "$NU"
bad_says "check -c missing" "cannot read" check -c /nonexistent
bad_says "replay missing capture" "nonexistent" replay /nonexistent
bad_says "replay ''" "cannot read" replay ""
bad_says "replay 10 KB name" "too long|cannot read" replay "$LONG"

e2e_section "command line: vip and backend (daemon running)"
usage "vip no action" vip
usage "vip bogus action" vip bogus
usage "vip add no address" vip add web2
usage "vip add extra" vip add web2 198.18.1.2:80/tcp extra
usage "vip del extra" vip del a b
usage "vip list extra" vip list x
usage "vip --mtu 100" vip add w 198.18.1.2:80/tcp --mtu 100
usage "vip --mtu abc" vip add w 198.18.1.2:80/tcp --mtu abc
bad_says "vip add name ''" "name" vip add "" 198.18.1.2:80/tcp
bad_says "vip add name 10 KB" "name|long" vip add "$LONG" 198.18.1.2:80/tcp
bad_says "vip add name non-UTF-8" "name|UTF" vip add "$NU" 198.18.1.2:80/tcp
bad_says "vip add /sctp" "sctp|tcp" vip add w 198.18.1.2:80/sctp
bad_says "vip add port 0" "port|80|:0" vip add w 198.18.1.2:0/tcp
bad_says "vip add port 65536" "65536|port" vip add w 198.18.1.2:65536/tcp
bad_says "vip add bad address" "300" vip add w 300.1.1.1:80/tcp
bad_says "vip add 10 KB address" "aaa|address" vip add w "$LONG"
bad_says "vip add non-UTF-8 address" "address|UTF|is not" vip add w "$NU"
bad_says "vip add -m bogus" "bogus" vip add w 198.18.1.2:80/tcp -m bogus
bad_says "vip add -m non-UTF-8 (not silently l2)" "mode|UTF" vip add w2 198.18.1.3:80/tcp -m "$NU"
timeout 10 "$XL4" vip del w2 >/dev/null 2>&1
bad_says "vip add --health bogus" "bogus" vip add w 198.18.1.2:80/tcp --health bogus
bad_says "vip add duplicate name" "web|exists" vip add web 198.18.1.4:80/tcp
bad_says "vip del unknown" "nosuch" vip del nosuch
usage "backend no action" backend
usage "backend bogus action" backend bogus web 198.18.2.1
usage "backend add no address" backend add web
usage "backend -w 0" backend add web 198.18.2.9 -w 0
usage "backend -w 65536" backend add web 198.18.2.9 -w 65536
usage "backend -w -1" backend add web 198.18.2.9 -w -1
usage "set-weight no N" backend set-weight web 198.18.2.1
usage "set-weight x" backend set-weight web 198.18.2.1 x
usage "set-weight extra" backend set-weight web 198.18.2.1 2 3
bad_says "backend --mac zz" "zz|MAC" backend add web 198.18.2.9 --mac zz
bad_says "backend --mac broadcast" "MAC" backend add web 198.18.2.9 --mac ff:ff:ff:ff:ff:ff
bad_says "backend bad address" "1\.2\.3" backend add web 1.2.3
bad_says "backend :99999" "99999|port" backend add web 198.18.2.9:99999
bad_says "backend non-UTF-8 address" "address|UTF|is not" backend add web "$NU"
bad_says "backend 10 KB vip" "VIP|aaa" backend add "$LONG" 198.18.2.9
bad_says "backend add to unknown vip" "nosuch" backend add nosuch 198.18.2.9
bad_says "backend del unknown" "198\.18\.2\.99" backend del web 198.18.2.99
bad_says "backend drain unknown" "198\.18\.2\.99" backend drain web 198.18.2.99

e2e_section "command line: block, allow, rule, limit (daemon running)"
for l in block allow; do
	usage "$l no action" $l
	usage "$l bogus action" $l bogus
	usage "$l add nothing" $l add
	usage "$l list extra" $l list x
	usage "$l --ttl 0" $l add 198.18.7.1 --ttl 0
	usage "$l --ttl -5" $l add 198.18.7.1 --ttl -5
	usage "$l --ttl huge" $l add 198.18.7.1 --ttl 99999999999
	usage "$l del --ttl" $l del 198.18.7.1 --ttl 5
	bad_says "$l /33" "/33|length" $l add 198.18.7.0/33
	bad_says "$l host bits" "host bits" $l add 198.18.7.1/24
	bad_says "$l ''" "''" $l add ""
	bad_says "$l non-UTF-8" "is not" $l add "$NU"
	bad_says "$l 10 KB" "is not" $l add "$LONG"
	bad_says "$l -f missing" "nonexistent" $l add -f /nonexistent
	bad_says "$l -f directory" "directory" $l add -f /tmp
	bad_says "$l -f empty" "no prefixes" $l add -f /dev/null
	bad_says "$l -f /etc/passwd" "passwd:1" $l add -f /etc/passwd
	bad_says "$l one bad prefix among good: all or nothing" "198\.18\.7\.0/33" $l add 198.18.7.1 198.18.7.0/33
done
usage "rule no action" rule
usage "rule add no --action" rule add 198.18.8.0/24
usage "rule add extra" rule add 198.18.8.0/24 extra --action drop
usage "rule del nothing" rule del
usage "rule del 0" rule del 0
usage "rule del x" rule del x
usage "rule del huge" rule del 99999999999
usage "rule del two" rule del 1 2
usage "rule --rate 0" rule add 198.18.8.0/24 --action limit --rate 0 --burst 1
usage "rule --burst huge" rule add 198.18.8.0/24 --action limit --rate 1 --burst 99999999999
usage "rule --v6-prefix 129" rule add 198.18.8.0/24 --action limit --rate 1 --burst 1 --v6-prefix 129
bad_says "rule --action bogus" "bogus" rule add 198.18.8.0/24 --action bogus
bad_says "rule --action ''" "action" rule add 198.18.8.0/24 --action ""
bad_says "rule --proto bogus" "bogus" rule add 198.18.8.0/24 --action drop --proto bogus
bad_says "rule --port 0" "port|'0'" rule add 198.18.8.0/24 --action drop --port 0
bad_says "rule --port 70000" "70000" rule add 198.18.8.0/24 --action drop --port 70000
bad_says "rule --port 20-10" "20-10" rule add 198.18.8.0/24 --action drop --port 20-10
bad_says "rule --port ''" "port|''" rule add 198.18.8.0/24 --action drop --port ""
bad_says "rule icmp with a port" "port|icmp" rule add 198.18.8.0/24 --action drop --proto icmp --port 80
bad_says "rule limit without rate" "rate" rule add 198.18.8.0/24 --action limit
bad_says "rule drop with rate" "rate" rule add 198.18.8.0/24 --action drop --rate 5
bad_says "rule crossing port ranges" "overlap|conflicts" rule add 198.18.1.0/24 --proto tcp --port 1500-2500 --action drop
bad_says "rule dst non-UTF-8 (not 'out of memory')" "is not|UTF" rule add "$NU" --action drop
bad_says "rule dst 10 KB" "is not" rule add "$LONG" --action drop
bad_says "rule del unknown id" "4000|rule" rule del 4000
usage "limit no action" limit
usage "limit bogus" limit bogus
usage "limit set nothing" limit set
usage "limit set no burst" limit set --rate 1
usage "limit --rate 0" limit set --rate 0 --burst 1
usage "limit --rate x" limit set --rate x --burst 1
usage "limit --rate too big" limit set --rate 10000001 --burst 1
usage "limit --v6-prefix 200" limit set --rate 1 --burst 1 --v6-prefix 200
usage "limit set extra" limit set --rate 1 --burst 1 extra
usage "limit off --rate" limit off --rate 5
usage "limit show extra" limit show x
usage "agent no -i" agent
bad_says "agent -i missing" "nosuch0" agent -i nosuch0
bad_says "agent --vip bogus" "bogus" agent -i lo --vip bogus
bad_says "agent --port bogus" "bogus" agent -i lo --port bogus
bad_says "agent -i 10 KB" "interface" agent -i "$LONG"
usage "agent --remove --status" agent -i lo --remove --status
assert_true "daemon alive after the command-line checks" daemon_alive

# =====================================================================================
e2e_section "control socket: malformed requests"
reply=$(ctl raw 'not json')
assert_match "not JSON: error reply ($reply)" '"ok":false.*not JSON' "$reply"
reply=$(ctl raw '[1,2]')
assert_match "JSON array: error reply ($reply)" '"ok":false.*object' "$reply"
reply=$(ctl raw '{}')
assert_match "missing cmd: error reply ($reply)" '"ok":false.*cmd' "$reply"
reply=$(ctl raw '{"cmd":5}')
assert_match "cmd not a string: error reply ($reply)" '"ok":false.*cmd' "$reply"
reply=$(ctl raw '{"cmd":""}')
assert_match "empty cmd: error reply ($reply)" '"ok":false' "$reply"
reply=$(ctl raw '{"cmd":"\xff"}')
assert_match "non-UTF-8 cmd: error reply ($reply)" '"ok":false' "$reply"
reply=$(ctl raw '\x00\x00\x00')
assert_match "NUL bytes: error reply ($reply)" '"ok":false' "$reply"
reply=$(ctl raw '{"cmd":"ping"} {"cmd":"vip-del","name":"web"}')
assert_match "two requests on one line: refused, not half-run ($reply)" '"ok":false' "$reply"
reply=$(ctl raw '{"cmd":"ping"} trailing garbage')
assert_match "trailing garbage after the request: refused ($reply)" '"ok":false' "$reply"
reply=$(ctl nonl)
assert_match "request without newline, then close: answered ($reply)" '"ok":true' "$reply"
reply=$(ctl huge 17)
assert_match "17 MiB request: refused naming the limit ($(printf '%s' "$reply" | tail -1))" 'longer than' "$reply"
assert_true "alive after malformed requests" daemon_alive

e2e_section "control socket: every field of every command with a wrong type"
ctl matrix >"$T/matrix"
[ -n "${BAD_MATRIX_OUT:-}" ] && cp "$T/matrix" "$BAD_MATRIX_OUT"
for cmd in vip-add vip-del vip-list backend-add backend-del backend-weight backend-drain backend-undrain \
	block-add block-del block-list allow-add allow-del allow-list rule-add rule-del rule-list \
	limit-set limit-off limit-show status stats events ping; do
	n_ok=$(grep -c "^OK    $cmd field" "$T/matrix")
	wrong=$(grep -E "^(BAD|VAGUE) +$cmd field" "$T/matrix")
	if [ -z "$wrong" ] && [ "$n_ok" -gt 0 ]; then
		_pass "$cmd: $n_ok wrong-typed/unknown fields refused, each naming the field"
	else
		_fail "$cmd: $(printf '%s\n' "$wrong" | wc -l) of $((n_ok + $(printf '%s\n' "$wrong" | grep -c .))) cases accepted or vague:"
		printf '%s\n' "$wrong" | head -4 | cut -c1-160 | sed 's/^/        | /'
	fi
done
assert_true "alive after the wrong-type matrix" daemon_alive

e2e_section "control socket: clients that stall the single loop"
worst=$(ctl idle 5 4)
assert_match "5 idle connections: other clients answered within 1 s (slowest ping ${worst}s)" \
	'^0\.[0-9]+$' "$worst"
worst=$(ctl idle 200 5)
assert_match "200 idle connections: other clients answered within 1 s (slowest ping ${worst}s)" \
	'^0\.[0-9]+$' "$worst"
worst=$(ctl slow 7)
assert_match "a client sending one byte per 1.5 s: others answered within 1 s (slowest ${worst}s)" \
	'^0\.[0-9]+$' "$worst"
# stats keep flowing: the 1 s sampler runs in the same loop; with samples, rates are non-zero
ip netns exec "$A" ping -c 30 -i 0.1 -W 1 198.18.0.99 >/dev/null 2>&1 &
pingpid=$!
$CTL "$DAEMON_SOCK" idle 5 1 >/dev/null 2>&1 &
idlepid=$!
sleep 2.5
t0=$(date +%s%N)
stats_snapshot "$T/st.json" >/dev/null 2>&1
t1=$(date +%s%N)
wait $idlepid $pingpid 2>/dev/null
ms=$(((t1 - t0) / 1000000))
assert_match "stats answered within 1 s while 5 idle clients queue (${ms} ms)" '^[0-9]{1,3}$' "$ms"
sleep 3
assert_true "alive after stalling clients" daemon_alive
state >"$T/state.after"
if diff -u "$T/state.before" "$T/state.after" >"$T/state.diff"; then
	_pass "VIPs, backends, lists, rules and limit unchanged by the bad requests"
else
	_fail "state changed by bad requests:"
	head -20 "$T/state.diff" | sed 's/^/        | /'
fi
assert_true "XDP program still on b0" link_has_xdp "$B" b0

# =====================================================================================
e2e_section "replay: odd captures"
"$PY" "$E2E_LIB_DIR/bad_pcap.py" "$T" || die "bad_pcap.py"
bad_says "empty file" "empty\.pcap" replay "$T/empty.pcap"
bad_says "not a pcap" "text\.pcap.*(format|not a)" replay "$T/text.pcap"
bad_says "truncated mid-record" "trunc.*(truncated|corrupt)" replay "$T/trunc.pcap"
assert_match "truncated: the whole first packet still replayed" '^1 pass' "$(cat "$T/out")"
bad_says "record length 16 MB" "badlen.*(corrupt|length)" replay "$T/badlen.pcap"
bad_says "link type RAW" "RAW.*not supported" replay "$T/raw.pcap"
bad_says "link type Linux SLL" "SLL.*not supported" replay "$T/sll.pcap"
for f in ng.pcapng zero.pcap snap0.pcap; do
	timeout 10 "$XL4" replay "$T/$f" >"$T/out" 2>"$T/err"
	assert_eq "$f: exit status" 0 "$?"
done
assert_match "pcapng: its packet replayed" '^1 pass' "$(cat "$T/out" 2>/dev/null; timeout 10 "$XL4" replay "$T/ng.pcapng" 2>/dev/null)"
assert_match "0 packets: says 0" 'replayed 0 packets' "$(timeout 10 "$XL4" replay "$T/zero.pcap" 2>&1)"
out=$(timeout 10 "$XL4" replay "$T/short.pcap" 2>&1)
assert_match "caplen < len: says the capture cut the packet, not a parse drop ($(echo "$out" | head -1))" \
	'capt|snap|cut|caplen' "$out"
out=$(timeout 10 "$XL4" replay "$T/big.pcap" 2>&1)
rc=$?
assert_match "64 KB packet: exit 0 or 1, not a signal (rc $rc)" '^[01]$' "$rc"
assert_match "64 KB packet: the error names the size limit, not ENOSPC ($out)" \
	'(too (big|large|long)|larger|exceeds|max)' "$out"

# =====================================================================================
e2e_section "config files (checked through replay -c, which loads them fully)"
# cfg NAME REGEX FILE: loading FILE fails with one line matching REGEX
cfg() { bad_says "config: $1" "$2" replay -q -c "$3" "$T/zero.pcap"; }
head -c 4096 /dev/urandom >"$T/garbage.conf"
cfg "binary garbage" "garbage\.conf:[0-9]+" "$T/garbage.conf"
printf 'xdp_mode = "auto";\n' >"$T/ok.conf"
"$PY" -c "import sys; sys.stdout.write('# ' + 'x' * 1048576 + '\nxdp_mode = 5;\n')" >"$T/1mb.conf"
cfg "1 MB config" "1mb\.conf:2: xdp_mode" "$T/1mb.conf"
"$PY" -c "print('a:' + '{b:' * 20000 + '}' * 20000 + ';')" >"$T/nest.conf"
cfg "20000 nested groups" "nest\.conf:1" "$T/nest.conf"
# libconfig's own words ("memory exhausted", "duplicate setting name" without the name, a 64-bit
# overflow read as -1): limits of the library, listed in docs/config.md. The checks above still
# require one line naming the file and line.
printf 'xdp_mode = "auto";\nxdp_mode = "native";\n' >"$T/dup.conf"
cfg "duplicate key" "dup\.conf:2.*(duplicate)" "$T/dup.conf"
printf 'lb: { seed = 99999999999999999999; };\n' >"$T/seed.conf"
cfg "seed overflow" "lb\.seed" "$T/seed.conf"
"$PY" - "$E2E_ROOT/examples/xl4.conf" "$T" <<'EOF'
# one config per key of the example, that key given a value of the wrong type
import re, sys
src = open(sys.argv[1]).read().splitlines()
n = 0
for i, line in enumerate(src):
    code = line.split("#")[0]
    for m in re.finditer(r'(\w+)\s*=\s*("[^"]*"|\[[^\]]*\]|-?\d+|true|false)\s*;', code):
        key, val = m.group(1), m.group(2)
        wrong = "true" if val.startswith(('"', '[')) else '"x"'
        new = code[:m.start(2)] + wrong + code[m.end(2):]
        out = src[:i] + [new] + src[i + 1:]
        n += 1
        with open("%s/wrongtype-%02d-%s.conf" % (sys.argv[2], n, key), "w") as f:
            f.write("\n".join(out) + "\n")
EOF
for f in "$T"/wrongtype-*.conf; do
	key=${f##*/wrongtype-??-}
	key=${key%.conf}
	cfg "wrong type for $key" "$key" "$f"
done
# and every scalar key xl4 knows (xl4 config), not only those the example sets: each alone, in
# its groups, with a value of the wrong type; the error names the file, the line and the key
"$XL4" config --markdown >"$T/keys.md"
"$PY" - "$T/keys.md" "$T" <<'EOF'
import sys
n = 0
for line in open(sys.argv[1]):
    cols = [c.strip() for c in line.split("|")]
    if len(cols) < 4 or not cols[1].startswith("`"):
        continue
    key, kind = cols[1].strip("`"), cols[2]
    if "list" in kind:  # lists (and the groups in them) have their own checks above
        continue
    textual = kind.startswith("`") or any(w in kind for w in ("string", "path", "prefix", "/112", "name", "PORT"))
    wrong = "true" if textual else '"x"'
    *groups, leaf = key.split(".")
    conf = "".join(g + ": { " for g in groups) + leaf + " = " + wrong + "; " + "}; " * len(groups)
    n += 1
    with open("%s/anykey-%02d-%s.conf" % (sys.argv[2], n, key), "w") as f:
        f.write(conf.strip() + "\n")
EOF
nkeys=$(ls "$T"/anykey-*.conf 2>/dev/null | wc -l)
assert_match "xl4 config lists the scalar keys to sweep ($nkeys)" '^[4-9][0-9]$' "$nkeys"
for f in "$T"/anykey-*.conf; do
	key=${f##*/anykey-??-}
	key=${key%.conf}
	cfg "wrong type for $key (any key)" "anykey-[0-9]+-${key//./\\.}\.conf:1: ${key//./\\.}" "$f"
done
"$PY" -c "
print('vips = ( { name = \"w\"; address = \"198.18.1.1:80/tcp\"; backends = (' + ','.join(
  '{ address = \"198.18.%d.%d\"; mac = \"02:00:00:00:00:01\"; }' % (2 + i // 250, 1 + i % 250) for i in range(1025)) + '); } );')" >"$T/b1025.conf"
cfg "1025 backends" "1025 backends; at most 1024" "$T/b1025.conf"
"$PY" -c "
print('vips = (' + ','.join('{ name = \"v%d\"; address = \"198.18.1.%d:80/tcp\"; backends = ( { address = \"198.18.2.1\"; mac = \"02:00:00:00:00:01\"; } ); }' % (i, i + 1) for i in range(65)) + ');')" >"$T/v65.conf"
cfg "65 VIPs" "65 VIPs; at most 64" "$T/v65.conf"
"$PY" -c "
import sys
w = sys.stdout.write
w('filter: { block = [')
w(','.join('\"%d.%d.%d.%d\"' % (10 + (i >> 24) % 200, (i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(3000000)))
w(']; };\n')" >"$T/3m.conf"
t0=$(date +%s)
timeout 60 "$XL4" replay -q -c "$T/3m.conf" "$T/zero.pcap" >/dev/null 2>"$T/err"
rc=$?
t1=$(date +%s)
assert_eq "3 million block entries: refused (exit 1)" 1 "$rc"
assert_match "3 million block entries: the error names the limit ($(head -c 150 "$T/err"))" 'at most' "$(cat "$T/err")"
assert_match "3 million block entries: answered within 20 s ($((t1 - t0)) s)" '^([0-9]|1[0-9])$' "$((t1 - t0))"
rm -f "$T/3m.conf"
# @include: relative to the including file, whatever the working directory; errors name the
# included file
mkdir -p "$T/inc"
printf '@include "sub.conf"\n' >"$T/inc/main.conf"
printf 'events: { samples_per_second = 10; };\n' >"$T/inc/sub.conf"
out=$(cd / && timeout 10 "$XL4" replay -q -c "$T/inc/main.conf" "$T/zero.pcap" 2>&1)
assert_match "relative @include is resolved next to the config, not in the cwd ($out)" 'replayed 0' "$out"
printf '@include "sub.conf"\n' >"$T/inc/main2.conf"
printf 'xdp_mode = "auto";\nxdp_mode = "bogus";\n' >"$T/inc/sub.conf"
out=$(cd "$T/inc" && timeout 10 "$XL4" replay -q -c "$T/inc/main2.conf" "$T/zero.pcap" 2>&1)
assert_match "an error in an included file names that file and line ($out)" 'sub\.conf:2' "$out"
printf '@include "nosuch.conf"\n' >"$T/inc/main3.conf"
out=$(cd "$T/inc" && timeout 10 "$XL4" replay -q -c "$T/inc/main3.conf" "$T/zero.pcap" 2>&1)
assert_match "a missing include: named, with the path looked for ($out)" "main3\\.conf:1: @include \"nosuch\\.conf\": No such file or directory \\($T/inc/nosuch\\.conf\\)" "$out"
# libconfig 1.5 puts the config's directory before an absolute name too: said, not a bare
# "cannot open include file"
printf '@include "%s"\n' "$T/inc/sub.conf" >"$T/inc/abs.conf"
cfg "an absolute @include" "abs\.conf:1: @include .*: No such file or directory .*an absolute one too" "$T/inc/abs.conf"
printf '@include "loop.conf"\n' >"$T/inc/loop.conf"
cfg "@include loop: refused where libconfig stops" 'loop\.conf:1: @include "loop\.conf": include file nesting too deep \(libconfig 1\.5 stops at 10 levels\)' "$T/inc/loop.conf"
# ten self-includes per file: libconfig stops at the 10th level, so must the walk (10^10 reads)
for i in 1 2 3 4 5 6 7 8 9 10; do echo '@include "loop10.conf"'; done >"$T/inc/loop10.conf"
cfg "ten self-includes per file: refused at once" 'include file nesting too deep' "$T/inc/loop10.conf"
# what libconfig drops without a word: an include name or a comment never closed
printf 'xdp_mode = "auto";\n@include "sub.conf' >"$T/inc/open-name.conf"
cfg "an @include name never closed" 'open-name\.conf:2: @include "sub\.conf: the name has no closing quote' "$T/inc/open-name.conf"
printf 'xdp_mode = "auto";\n/* to do\nxdp_mode = 5;\n' >"$T/inc/open-comment.conf"
cfg "a comment never closed" 'open-comment\.conf:2: a /\* comment is never closed' "$T/inc/open-comment.conf"
# the walk that finds includes before libconfig reads follows libconfig's scanner: an included
# file ending inside a string does not hide the directory after it (src/conf_include.c)
printf 'xdp_mode = "auto' >"$T/inc/open.conf"
printf '@include "open.conf"\n"\n@include "conf.d"\n' >"$T/inc/hide.conf"
mkdir -p "$T/inc/conf.d"
cfg "@include of a directory after an unfinished string" 'hide\.conf:3: @include "conf\.d": a directory' "$T/inc/hide.conf"
# libconfig's scanner exits the process on a read error: a directory is refused before it reads
mkdir -p "$T/inc/conf.d"
printf 'xdp_mode = "auto";\n@include "conf.d"\n' >"$T/inc/dir.conf"
cfg "@include of a directory" 'dir\.conf:2: @include "conf\.d": a directory' "$T/inc/dir.conf"

# =====================================================================================
e2e_section "daemon: start-up conflicts and signals"
out=$(nsenter --net="/run/netns/$B" timeout 10 "$XL4" daemon -i b1 -m native -s "$DAEMON_SOCK" \
	--pin-path "$DAEMON_PIN-2" 2>&1)
rc=$?
cleanup_push "'$XL4' cleanup --pin-path '$DAEMON_PIN-2' -s '$T/none.sock'; rm -rf '$DAEMON_PIN-2'"
assert_eq "second daemon on the same socket: exit 1" 1 "$rc"
assert_match "second daemon on the same socket: names it ($out)" 'another xl4 daemon is running' "$out"
assert_eq "second daemon on the same socket: one warning on stderr" 1 "$(printf '%s\n' "$out" | grep -c '^level=warn ')"
# The later daemons run beside the first, which has 127.0.0.1:9143 here: their metrics are off.
echo 'metrics: { listen = ""; };' >"$T/nometrics.conf"
out=$(nsenter --net="/run/netns/$B" timeout 10 "$XL4" daemon -i b0 -m native -s "$T/2.sock" \
	-c "$T/nometrics.conf" --pin-path "$DAEMON_PIN-2" 2>&1)
rc=$?
assert_eq "second daemon on an interface with another XDP program: exit 1" 1 "$rc"
assert_match "occupied interface: says so ($out)" 'another XDP program is attached' "$out"
assert_eq "occupied interface: one warning on stderr" 1 "$(printf '%s\n' "$out" | grep -c '^level=warn ')"
assert_true "first daemon alive after both refusals" daemon_alive
assert_true "XDP program still on b0" link_has_xdp "$B" b0
# stale pins of another layout
STALE=/sys/fs/bpf/xl4-bad-$$-stale
mkdir -p "$STALE"
cleanup_push "rm -rf '$STALE'"
bpftool map create "$STALE/xl4_stats_v1" type percpu_array key 4 value 4 entries 1 name xl4_stats_v1 ||
	die "bpftool map create"
out=$(nsenter --net="/run/netns/$B" timeout 20 "$XL4" daemon -i b1 -m native -s "$T/3.sock" \
	--pin-path "$STALE" 2>&1)
rc=$?
assert_eq "stale pins of another layout: exit 1" 1 "$rc"
assert_match "stale pins: the message names xl4 cleanup ($(printf '%s' "$out" | tail -1 | head -c 200))" \
	"xl4 cleanup" "$out"
assert_match "stale pins: the message names the map (xl4_stats_v1)" "xl4_stats_v1" "$out"
assert_eq "stale pins: at most 2 warnings" 1 "$(($(printf '%s\n' "$out" | grep -c '^level=warn ') <= 2))"
assert_false "stale pins: nothing attached to b1" link_has_xdp "$B" b1
# cleanup of a running daemon's pins must refuse, however the path is spelled
timeout 10 "$XL4" cleanup --pin-path "$DAEMON_PIN/" >/dev/null 2>&1
assert_true "cleanup '$DAEMON_PIN/' (trailing slash) leaves a running daemon's pins" \
	test -e "$DAEMON_PIN/xl4_stats_v1"
timeout 10 "$XL4" cleanup --pin-path "$DAEMON_PIN" -s "$T/other.sock" >/dev/null 2>&1
assert_true "cleanup with another -s leaves a running daemon's pins (it holds them)" \
	test -e "$DAEMON_PIN/xl4_stats_v1"
mkdir -p "$T/notbpf/keep"
touch "$T/notbpf/xl4_important"
bad_says "cleanup of a directory outside bpffs: refused" "bpf" cleanup --pin-path "$T/notbpf"
assert_true "cleanup outside bpffs: files there untouched" test -e "$T/notbpf/xl4_important"
kill -HUP "$DAEMON_PID"
sleep 0.5
assert_true "alive after SIGHUP" daemon_alive
assert_true "XDP program still on b0 after SIGHUP" link_has_xdp "$B" b0
state >"$T/state.after2"
assert_true "state unchanged after SIGHUP and the refused daemons" diff -q "$T/state.before" "$T/state.after2"

# SIGTERM during start-up, at a few points of it (--detach-on-exit: a stop then leaves nothing
# attached, wherever in the start it comes)
for delay in 0.05 0.2 0.5; do
	rm -f "$T/4.sock"
	nsenter --net="/run/netns/$B" "$XL4" daemon --detach-on-exit -i b1 -m native -s "$T/4.sock" \
		-c "$T/nometrics.conf" --pin-path "$DAEMON_PIN-4" 2>"$T/4.log" &
	pid=$!
	cleanup_push "kill -KILL $pid; '$XL4' cleanup --pin-path '$DAEMON_PIN-4' -s '$T/none.sock'; rm -rf '$DAEMON_PIN-4'"
	sleep "$delay"
	kill -TERM "$pid" 2>/dev/null
	if proc_wait_exit "$pid" 10; then
		wait "$pid"
		rc=$?
		assert_match "SIGTERM ${delay}s into start-up: a clean exit status ($rc)" '^(0|1|143)$' "$rc"
	else
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		_fail "SIGTERM ${delay}s into start-up: still running after 10 s"
	fi
	assert_false "SIGTERM ${delay}s into start-up: no XDP program left on b1" link_has_xdp "$B" b1
	assert_false "SIGTERM ${delay}s into start-up: no socket file left" test -e "$T/4.sock"
	ip -n "$B" link set dev b1 xdp off 2>/dev/null
done
assert_true "first daemon still alive" daemon_alive

daemon_stop TERM
assert_eq "exit status after SIGTERM" 0 "$DAEMON_RC"
assert_false "no XDP program on b0 after exit" link_has_xdp "$B" b0

e2e_summary "bad input"
