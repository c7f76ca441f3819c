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
# no XDP program left.
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

e2e_summary "control socket"
