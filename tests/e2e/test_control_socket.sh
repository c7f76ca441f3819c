#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The daemon survives whatever arrives on its control socket, and a second daemon never
# disturbs the first: one veth pair, `xl4 daemon` on one end, then
#   - a client that connects and hangs up without a request (what a second daemon's "is anyone
#     there?" probe does), a request that is not JSON, an unknown command
#   - a second daemon on the same socket (refused), on the same interface (refused)
#   - SIGHUP (ignored: reload is not supported yet)
# after each of which the first daemon must still answer `xl4 status`; then SIGTERM: exit 0,
# no XDP program left. Then a daemon with a config file:
#   - clients that ask for a large reply (a long block list) and do not read it: other
#     clients' pings are still answered within 1 s, and the slow readers get whole replies
#   - reloads of a file with a VIP name of non-UTF-8 bytes, and with integers libconfig would
#     wrap (weight = 4294967299): refused with a JSON reply that quotes the value (the bytes
#     escaped as \xNN, also in the log), the running VIP untouched
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter ethtool timeout
require_xl4
e2e_tmpdir

A=xl4e-$$-a
B=xl4e-$$-b
ns_create "$A"
ns_create "$B"
veth_pair "$A" a0 "$B" b0

daemon_alive() {
	! proc_exited "$DAEMON_PID" && timeout 10 "$XL4" status -s "$DAEMON_SOCK" >/dev/null 2>&1
}

# raw_request TEXT: send TEXT (maybe nothing) on the control socket, print the reply line.
raw_request() {
	"$PY" - "$DAEMON_SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
if sys.argv[2]:
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
    print(s.makefile().readline().strip())
s.close()
EOF
}

# After a failed check, start a fresh daemon so that the next check is judged on its own.
revive() {
	local rc

	proc_exited "$DAEMON_PID" || return 0
	wait "$DAEMON_PID"
	rc=$?
	e2e_log "        (the daemon died, exit status $rc; detaching its program and starting another)"
	ip -n "$B" link set dev b0 xdp off
	DAEMON_PID=
	daemon_start "$B" -i b0 -m native
}

e2e_section "daemon on $B/b0"
daemon_start "$B" -i b0 -m native
assert_true "daemon answers status" daemon_alive

e2e_section "odd clients"
raw_request "" >/dev/null 2>&1
sleep 0.3
assert_true "alive after a client connected and hung up without a request" daemon_alive || revive
reply=$(raw_request 'this is not json' 2>&1)
assert_match "not JSON: an error reply ($reply)" '"ok": ?false' "$reply"
assert_true "alive after a request that is not JSON" daemon_alive || revive
reply=$(raw_request '{"cmd":"frobnicate"}' 2>&1)
assert_match "unknown command: an error reply naming it ($reply)" 'frobnicate' "$reply"
assert_true "alive after an unknown command" daemon_alive || revive

e2e_section "a second daemon"
out=$(nsenter --net="/run/netns/$B" timeout 10 "$XL4" daemon -i b0 -m native -s "$DAEMON_SOCK" \
	--pin-path "/sys/fs/bpf/xl4-e2e-$$-2" 2>&1)
rc=$?
cleanup_push "rm -rf '/sys/fs/bpf/xl4-e2e-$$-2'"
assert_ge "same socket: second daemon exits non-zero" 1 "$rc"
assert_match "same socket: says another daemon runs ($out)" "another xl4 daemon is running" "$out"
assert_true "first daemon alive after the second was refused its socket" daemon_alive || revive
# (its metrics off: the first daemon has 127.0.0.1:9143 in this namespace)
echo 'metrics: { listen = ""; };' >"$E2E_TMP/nometrics.conf"
out=$(nsenter --net="/run/netns/$B" timeout 10 "$XL4" daemon -i b0 -m native -s "$E2E_TMP/2.sock" \
	-c "$E2E_TMP/nometrics.conf" --pin-path "/sys/fs/bpf/xl4-e2e-$$-2" 2>&1)
rc=$?
assert_ge "same interface: second daemon exits non-zero" 1 "$rc"
assert_match "same interface: says another program is attached ($out)" "another XDP program is attached" "$out"
assert_true "first daemon alive after the second was refused the interface" daemon_alive || revive
assert_true "XDP program still attached to b0" link_has_xdp "$B" b0

e2e_section "signals"
kill -HUP "$DAEMON_PID"
sleep 0.3
assert_true "alive after SIGHUP" daemon_alive || revive
daemon_stop TERM
assert_eq "exit status after SIGTERM" 0 "$DAEMON_RC"
assert_false "no XDP program on b0 after exit" link_has_xdp "$B" b0

e2e_section "a daemon with a config file"
CONF=$E2E_TMP/xl4.conf
good_conf='vips = ( { name = "web"; address = "198.18.1.1:80/tcp";
  backends = ( { address = "198.18.2.1"; mac = "02:00:00:00:02:01"; } ); } );'
printf '%s\n' "$good_conf" >"$CONF"
daemon_start "$B" -i b0 -m native -c "$CONF"
x() { "$XL4" "$@" -s "$DAEMON_SOCK"; }
vip_list_ok() { # the running VIP is the one the good file made: web, one backend of weight 1
	x vip list | grep -qE '^    198\.18\.2\.1 +weight 1 '
}
assert_true "vip list: web with its backend, weight 1" vip_list_ok

e2e_section "clients that do not read a large reply"
for ((i = 0; i < 30000; i++)); do
	printf '198.18.%d.%d/32\n' $((128 + i / 256)) $((i % 256))
done >"$E2E_TMP/blocks.txt"
assert_true "block add -f: 30000 prefixes" quietly x block add -f "$E2E_TMP/blocks.txt"
# three clients hold a ~1 MB reply each for 4 s (old daemon: 2 s of blocking sends per client)
read -r worst whole smallest < <(timeout 60 "$PY" "$E2E_LIB_DIR/bad_ctl.py" "$DAEMON_SOCK" unread 3 4 \
	'{"cmd":"block-list"}')
e2e_log "        slowest ping ${worst:-?} s; whole replies ${whole:-?}/3, the smallest ${smallest:-?} bytes"
assert_true "pings answered within 1 s while 3 clients do not read (${worst:-?} s)" \
	awk -v w="${worst:-99}" 'BEGIN { exit !(w < 1.0) }'
assert_eq "each slow reader got its whole reply" 3 "${whole:-0}"
assert_true "the replies were larger than a socket buffer (${smallest:-0} bytes)" \
	test "${smallest:-0}" -gt 1000000
assert_true "block del -f" quietly x block del -f "$E2E_TMP/blocks.txt"
assert_true "alive after the slow readers" daemon_alive

e2e_section "reloads refused with a JSON answer"
printf 'vips = ( { name = "w\377\376x"; address = "198.18.1.1:80/tcp"; } );\n' >"$CONF"
expect_fail "reload: VIP name of non-UTF-8 bytes" 1 "vips\[0\]\.name: name 'w\\\\xff\\\\xfex': only letters" x reload
assert_eq "the log has no raw non-UTF-8 byte" 0 "$(LC_ALL=C grep -c $'\xff' "$DAEMON_LOG")"
assert_true "the log has the escaped name" grep -q 'w\\*xff\\*xfex' "$DAEMON_LOG"
assert_true "vip list after the refused reload: unchanged" vip_list_ok
for v in 4294967299 18446744073709551616 99999999999 -1; do
	printf '%s\n' "${good_conf/\"02:00:00:00:02:01\";/\"02:00:00:00:02:01\"; weight = $v;}" >"$CONF"
	expect_fail "reload: weight = $v" 1 "vips\[0\]\.backends\[0\]\.weight: '$v' is out of range 1\.\.65535" x reload
	assert_true "vip list after weight = $v: unchanged" vip_list_ok
done
printf '%s\n' "${good_conf/\"02:00:00:00:02:01\";/\"02:00:00:00:02:01\"; weight = 7;}" >"$CONF"
assert_true "reload: weight = 7 applies" quietly x reload
assert_true "vip list: weight 7" grep -qE '^    198\.18\.2\.1 +weight 7 ' <<<"$(x vip list)"
daemon_stop TERM
assert_eq "exit status after SIGTERM" 0 "$DAEMON_RC"

e2e_summary "control socket"
