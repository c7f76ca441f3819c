# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for the end-to-end tests (and scripts/demo). Source it; do not run it.
#
#   namespaces and links  ns_create, veth_pair, addr4, addr6, in_ns, link_mac, link_has_xdp
#   background processes  bg_start (in a namespace, killed at exit), proc_wait_exit, proc_stop
#   the daemon            daemon_start, daemon_stop (sets DAEMON_RC), daemon_log
#   counters              stats_snapshot FILE, json_get FILE a.b.c
#   assertions            assert_eq, assert_ge, assert_true, assert_false, assert_match, e2e_summary
#                         (quietly CMD: output shown only when CMD fails)
#   giving up             die (failure, exit 1), skip (exit 77: the kernel lacks something)
#   by hand               raw_request JSON (one control request, the reply line),
#                         expect_fail NAME EXIT PATTERN CMD... (one line of error, that exit)
#
# Everything created here is registered with cleanup_push and undone, newest first, by the EXIT
# trap: on success, on failure, on Ctrl-C and on `timeout`. The cleanup is idempotent.
#
# Build output: the binary is "$O/xl4" with O from the environment (default: build).

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_LIB_DIR/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$E2E_ROOT/$O" ;; esac
XL4="$O/xl4"
# The system interpreter: it has scapy (a python3 earlier on PATH may not).
PY=/usr/bin/python3
E2E_SKIP=77

E2E_PASS=0
E2E_FAIL=0
_E2E_CLEANUPS=()

# ---- control socket requests by hand, and failing commands ----

# raw_request JSON: the daemon's reply line.
raw_request() {
	"$PY" - "$DAEMON_SOCK" "$1" <<'PY_END'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.shutdown(socket.SHUT_WR)
print(s.makefile().readline().strip())
PY_END
}

# expect_fail NAME EXIT PATTERN CMD...: CMD exits with EXIT and prints one line matching PATTERN.
expect_fail() {
	local name=$1 want=$2 pat=$3 out rc

	shift 3
	out=$("$@" 2>&1)
	rc=$?
	assert_eq "$name: exit status" "$want" "$rc"
	assert_eq "$name: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	assert_match "$name: says why ($out)" "$pat" "$out"
}

# ---- messages and giving up ----

e2e_log() { printf '%s\n' "$*"; }
e2e_section() { printf '\n== %s\n' "$*"; }

die() {
	printf 'FATAL: %s\n' "$*" >&2
	exit 1
}

# Exit 77: this machine cannot run the test (a kernel feature is missing). Loud on purpose.
skip() {
	printf '\n*** SKIPPED: %s ***\n\n' "$*" >&2
	exit "$E2E_SKIP"
}

require_root() {
	[ "$(id -u)" -eq 0 ] || skip "must run as root (creates namespaces, loads XDP programs)"
}

require_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "missing command '$c' (run scripts/setup-deps)"
	done
}

require_xl4() {
	[ -x "$XL4" ] || die "$XL4 not found: build it first (make O=$O)"
}

require_scapy() {
	"$PY" -c 'import scapy.all' 2>/dev/null ||
		die "$PY cannot import scapy (apt-get install python3-scapy)"
}

# ---- cleanup registry ----

# cleanup_push CMD...: run CMD (one shell string) at exit; newest first.
cleanup_push() { _E2E_CLEANUPS+=("$*"); }

e2e_cleanup() {
	local i cmd

	for ((i = ${#_E2E_CLEANUPS[@]} - 1; i >= 0; i--)); do
		cmd=${_E2E_CLEANUPS[i]}
		unset '_E2E_CLEANUPS[i]'
		[ -n "$cmd" ] && eval "$cmd" >/dev/null 2>&1
	done
	_E2E_CLEANUPS=()
	return 0
}

_e2e_on_exit() {
	local rc=$?

	trap - EXIT
	e2e_cleanup
	exit "$rc"
}
trap _e2e_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A private temporary directory, removed at exit (kept with E2E_KEEP_TMP=1, to read the
# daemons' logs after a failure).
e2e_tmpdir() {
	E2E_TMP=$(mktemp -d /tmp/xl4e.XXXXXX) || die "mktemp failed"
	if [ "${E2E_KEEP_TMP:-0}" = 1 ]; then
		cleanup_push "echo 'e2e: kept $E2E_TMP (E2E_KEEP_TMP=1)' >&2"
	else
		cleanup_push "rm -rf '$E2E_TMP'"
	fi
}

# ---- namespaces and links ----

# ns_create NAME: a network namespace with lo up and IPv6 DAD off; deleted at exit
# (deleting it also deletes the veth ends inside it).
ns_create() {
	local ns=$1

	ip netns add "$ns" || die "cannot create namespace $ns"
	cleanup_push "ip netns del '$ns'"
	ip -n "$ns" link set lo up || die "$ns: lo up failed"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null 2>&1 || true
}

# veth_pair NS1 IF1 NS2 IF2: a veth pair created directly inside the two namespaces (no name
# ever exists in the root namespace), both ends up, TX checksum offload off (veth would
# otherwise hand partial checksums to whoever checks them).
veth_pair() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4

	ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" ||
		die "cannot create veth $ns1/$if1 <-> $ns2/$if2"
	ip -n "$ns1" link set "$if1" up || die "$ns1/$if1 up failed"
	ip -n "$ns2" link set "$if2" up || die "$ns2/$if2 up failed"
	ip netns exec "$ns1" ethtool -K "$if1" tx off >/dev/null 2>&1 || die "$ns1/$if1: ethtool -K tx off"
	ip netns exec "$ns2" ethtool -K "$if2" tx off >/dev/null 2>&1 || die "$ns2/$if2: ethtool -K tx off"
}

# addr4 NS IF ADDR/PLEN, addr6 NS IF ADDR/PLEN (nodad: usable at once)
addr4() { ip -n "$1" addr add "$3" dev "$2" || die "$1/$2: cannot add $3"; }
addr6() { ip -n "$1" -6 addr add "$3" dev "$2" nodad || die "$1/$2: cannot add $3"; }

in_ns() {
	local ns=$1

	shift
	ip netns exec "$ns" "$@"
}

# link_mac NS IF
link_mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }

# ethstat NS DEV NAME: one `ethtool -S` counter (0 when the driver has no such counter)
ethstat() { ip netns exec "$1" ethtool -S "$2" | awk -v k="$3:" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'; }

# link_has_xdp NS IF: true if any XDP program is attached to IF.
link_has_xdp() { ip -n "$1" link show dev "$2" | grep -q 'xdp'; }

# Wait until a TCP port listens in NS (ss), at most ~5 s.
wait_listen() {
	local ns=$1 proto=$2 port=$3 i

	for ((i = 0; i < 50; i++)); do
		ip netns exec "$ns" ss -Hln"${proto:0:1}" "sport = :$port" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ---- background processes ----

# proc_exited PID: true once PID (a child of this shell) has exited (gone, or a zombie).
proc_exited() {
	local state

	[ -e "/proc/$1" ] || return 0
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$state" = Z ]
}

# proc_wait_exit PID SECS: wait until PID has exited, at most SECS; 0 if it did.
proc_wait_exit() {
	local pid=$1 secs=$2 i

	for ((i = 0; i < secs * 10; i++)); do
		proc_exited "$pid" && return 0
		sleep 0.1
	done
	proc_exited "$pid"
}

# Signal a process group we created, then make sure it is gone. Its other members (a forking
# server's children) go first, so that the leader reaps them rather than leaving zombies to init.
_kill_group() {
	local pid=$1 others

	others=$(pgrep -g "$pid" | grep -vx "$pid")
	if [ -n "$others" ]; then
		# shellcheck disable=SC2086
		kill -TERM $others 2>/dev/null
		sleep 0.2
	fi
	kill -TERM -- "-$pid" 2>/dev/null || return 0
	proc_wait_exit "$pid" 3 || kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# bg_start NS LOG CMD...: run CMD in NS's network namespace as its own process group, output to
# LOG; sets BG_PID; killed (the whole group) at exit.
bg_start() {
	local ns=$1 log=$2

	shift 2
	# emptied here, not only by the child's redirection: a caller polling the log right after
	# (lb_hold_start) could otherwise read what a previous run left in it
	: >"$log"
	setsid nsenter --net="/run/netns/$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	cleanup_push "_kill_group $BG_PID"
}

# proc_stop PID [SIGNAL] [SECONDS]: signal it (TERM), wait at most SECONDS (10), then KILL it;
# reaps it. Nothing to do for an empty PID.
proc_stop() {
	local pid=$1 sig=${2:-TERM} secs=${3:-10}

	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	proc_wait_exit "$pid" "$secs" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ---- the daemon ----

# daemon_start NS ARGS...: start "xl4 daemon ARGS" in NS (nsenter: the network namespace only, so
# its pins land in the bpffs everyone sees), control socket DAEMON_SOCK and pins DAEMON_PIN
# (both made unique here unless already set). Waits for the event=ready line, at most 30 s (a
# busy machine can hold the RTNL lock that attaching needs for seconds). On
# failure prints the daemon's log and dies, or skips when the kernel lacks a feature.
# It runs with --detach-on-exit unless DAEMON_DETACH=0.
daemon_start() {
	local ns=$1 i

	shift
	[ -n "${E2E_TMP:-}" ] || e2e_tmpdir
	DAEMON_SOCK=${DAEMON_SOCK:-$E2E_TMP/xl4.sock}
	DAEMON_PIN=${DAEMON_PIN:-/sys/fs/bpf/xl4-e2e-$$}
	DAEMON_LOG=$E2E_TMP/daemon.log
	# Pins outlive the daemon: remove them at exit whatever happens (xl4 cleanup, then rm).
	cleanup_push "nsenter --net='/run/netns/$ns' '$XL4' detach --pin-path '$DAEMON_PIN' -s '$E2E_TMP/none.sock'; '$XL4' cleanup --pin-path '$DAEMON_PIN' -s '$DAEMON_SOCK'; rm -rf '$DAEMON_PIN'"
	# The program outlives the daemon unless told otherwise (docs/operations.md); tests stop
	# traffic handling with the daemon, except those that set DAEMON_DETACH=0 (restarts).
	local detach=(--detach-on-exit)
	[ "${DAEMON_DETACH:-1}" = 0 ] && detach=()
	# Empty the log here, not in the background child: a restarted daemon's 'ready' check
	# must never see the previous daemon's line.
	: >"$DAEMON_LOG"
	nsenter --net="/run/netns/$ns" "$XL4" daemon -s "$DAEMON_SOCK" --pin-path "$DAEMON_PIN" \
		"${detach[@]}" "$@" 2>"$DAEMON_LOG" &
	DAEMON_PID=$!
	cleanup_push "daemon_stop"
	for ((i = 0; i < 300; i++)); do
		if grep -q '^level=info .* event=ready ' "$DAEMON_LOG" && [ -S "$DAEMON_SOCK" ]; then
			return 0
		fi
		if proc_exited "$DAEMON_PID"; then
			wait "$DAEMON_PID"
			DAEMON_RC=$?
			DAEMON_PID=
			daemon_log
			if grep -q 'missing:' "$DAEMON_LOG"; then
				skip "kernel lacks what xl4 needs: $(grep 'missing:' "$DAEMON_LOG" | head -1)"
			fi
			if grep -qE 'cannot attach XDP in native mode: (Operation not supported|Invalid argument)' \
				"$DAEMON_LOG"; then
				skip "kernel lacks native XDP on veth: $(grep 'cannot attach' "$DAEMON_LOG" | head -1)"
			fi
			die "xl4 daemon exited with status $DAEMON_RC before it was ready (log above)"
		fi
		sleep 0.1
	done
	daemon_log
	printf 'daemon pid %s is blocked in: %s\n%s\n' "$DAEMON_PID" \
		"$(cat "/proc/$DAEMON_PID/wchan" 2>/dev/null)" "$(cat "/proc/$DAEMON_PID/stack" 2>/dev/null)" >&2
	die "xl4 daemon not ready after 30 s (log above)"
}

daemon_log() {
	printf -- '---- xl4 daemon log (%s) ----\n' "${DAEMON_LOG:-?}" >&2
	cat "${DAEMON_LOG:-/dev/null}" >&2
	printf -- '---- end of daemon log ----\n' >&2
}

# daemon_stop [SIGNAL]: stop the daemon (SIGTERM by default), wait at most 10 s; DAEMON_RC gets
# its exit status (124 if it had to be killed). Safe to call twice.
daemon_stop() {
	local sig=${1:-TERM}

	[ -n "${DAEMON_PID:-}" ] || return 0
	kill -"$sig" "$DAEMON_PID" 2>/dev/null
	if proc_wait_exit "$DAEMON_PID" 10; then
		wait "$DAEMON_PID"
		DAEMON_RC=$?
	else
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_RC=124
	fi
	DAEMON_PID=
	return 0
}

# ---- counters ----

# stats_snapshot FILE [ARGS...]: `xl4 stats --json` into FILE (ARGS: e.g. --pin-path DIR).
stats_snapshot() {
	local f=$1

	shift
	timeout 10 "$XL4" stats -s "$DAEMON_SOCK" --json "$@" >"$f" || {
		e2e_log "xl4 stats --json failed"
		return 1
	}
}

# json_get FILE PATH: a value from a JSON document (one object, or the first line of many);
# PATH is dotted (drops.tcp_flags_null.packets). Prints "missing" when a key is absent.
json_get() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    v = json.loads(f.readline())
for k in sys.argv[2].split("."):
    if not isinstance(v, dict) or k not in v:
        print("missing")
        sys.exit(0)
    v = v[k]
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)
EOF
}

# ---- assertions: each names what it compared, and counts ----

_pass() {
	E2E_PASS=$((E2E_PASS + 1))
	printf '  ok    %s\n' "$*"
}

_fail() {
	E2E_FAIL=$((E2E_FAIL + 1))
	printf '  FAIL  %s\n' "$*"
}

# assert_eq NAME EXPECTED ACTUAL
assert_eq() {
	if [ "$2" == "$3" ]; then
		_pass "$1: $3"
	else
		_fail "$1: expected '$2', got '$3'"
		return 1
	fi
}

# assert_ge NAME MIN ACTUAL (integers)
assert_ge() {
	if [[ $3 =~ ^-?[0-9]+$ ]] && [ "$3" -ge "$2" ]; then
		_pass "$1: $3 >= $2"
	else
		_fail "$1: expected >= $2, got '$3'"
		return 1
	fi
}

# assert_match NAME REGEX TEXT
assert_match() {
	if [[ $3 =~ $2 ]]; then
		_pass "$1"
	else
		_fail "$1: /$2/ not found in: $(printf '%s' "$3" | head -c 600)"
		return 1
	fi
}

# quietly CMD...: run CMD with its output held back; shown (indented) only if CMD fails.
quietly() {
	local out rc

	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | sed 's/^/        | /'
	return "$rc"
}

# assert_true NAME CMD...: CMD exits 0. assert_false NAME CMD...: CMD exits non-zero.
assert_true() {
	local name=$1

	shift
	if "$@"; then
		_pass "$name"
	else
		_fail "$name (command failed: $*)"
		return 1
	fi
}

assert_false() {
	local name=$1

	shift
	if "$@"; then
		_fail "$name (command unexpectedly succeeded: $*)"
		return 1
	else
		_pass "$name"
	fi
}

# e2e_summary LABEL: the final tally line; returns non-zero when anything failed.
e2e_summary() {
	printf '\ne2e %s: %d passed, %d failed\n' "$1" "$E2E_PASS" "$E2E_FAIL"
	[ "$E2E_FAIL" -eq 0 ] && [ "$E2E_PASS" -gt 0 ]
}
