#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# daemon.socket_group / --socket-group: who besides root may use the control socket.
#
#   (a) a group that does not exist is a clear error: --socket-group (usage, exit 2), the
#       config file (xl4 check and xl4 daemon name FILE:LINE: daemon.socket_group)
#   (b) with a group: the socket is root:GROUP 0660 in a root:GROUP 0750 directory the daemon
#       made; a member (a throw-away user) can run xl4 status and xl4 vip list, a non-member is
#       refused; the pins stay root-only (0700 directory); the ready line names the group
#   (c) a directory the daemon did not make and that is not root-only (here a 0755 one) keeps
#       its mode and owner: only the socket is opened to the group
#   (d) the default (no group): 0600 socket in a 0700 directory, the member is refused
#   (e) reload: a changed daemon.socket_group is refused as needing a restart (the socket is
#       made once) and the socket keeps its mode; with --socket-group the file's group does
#       not count, so a reload of a file without one applies and the group keeps its access
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter setsid ethtool timeout stat useradd userdel groupadd groupdel setpriv
require_xl4
e2e_tmpdir

NS=xl4g-$$
G=xl4g$$	# the socket group
MEMBER=xl4gm$$	# in $G
OTHER=xl4go$$	# not in $G
# A world-traversable place for the sockets and a copy of the binary the users can run.
PUB=/tmp/xl4e-sg-$$
mkdir -m 0755 "$PUB" || die "mkdir $PUB"
cleanup_push "rm -rf '$PUB'"
cp "$XL4" "$PUB/xl4" && chmod 0755 "$PUB/xl4" || die "cannot copy xl4 to $PUB"
echo 'metrics: { listen = ""; };' >"$E2E_TMP/base.conf"

groupadd "$G" || die "groupadd $G"
cleanup_push "groupdel '$G'"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$MEMBER" || die "useradd $MEMBER"
cleanup_push "userdel '$MEMBER'"
useradd -M -N -g nogroup -s /usr/sbin/nologin "$OTHER" || die "useradd $OTHER"
cleanup_push "userdel '$OTHER'"

# as USER CMD...: run CMD as USER with USER's groups.
as() {
	local u=$1

	shift
	setpriv --reuid="$u" --regid=nogroup --init-groups "$@"
}
# perms PATH: "mode owner group"
perms() { stat -c '%a %U %G' "$1"; }

# ---------------------------------------------------------------------------------------------
e2e_section "(a) a group that does not exist"
out=$(timeout 10 "$XL4" daemon -i lo --socket-group "nosuch$$" -s "$PUB/a.sock" 2>&1)
rc=$?
assert_eq "--socket-group nosuch$$: usage error, exit 2" 2 "$rc"
assert_eq "--socket-group nosuch$$: one line" 1 "$(printf '%s\n' "$out" | grep -c .)"
assert_match "--socket-group nosuch$$: names the group ($out)" "no group named 'nosuch$$'" "$out"
assert_false "--socket-group nosuch$$: no socket" test -e "$PUB/a.sock"
printf 'metrics: { listen = ""; };\ndaemon: { socket_group = "nosuch%s"; };\n' "$$" >"$E2E_TMP/bad.conf"
out=$(timeout 10 "$XL4" check -c "$E2E_TMP/bad.conf" 2>&1)
rc=$?
assert_ge "xl4 check with socket_group = nosuch$$: fails" 1 "$rc"
assert_match "xl4 check: names FILE:LINE: daemon.socket_group ($out)" \
	"bad.conf:2: daemon.socket_group: no group named 'nosuch$$'" "$out"
out=$(timeout 10 "$XL4" daemon -i lo -c "$E2E_TMP/bad.conf" -s "$PUB/a.sock" 2>&1)
rc=$?
assert_eq "xl4 daemon with socket_group = nosuch$$: exit 1" 1 "$rc"
assert_match "xl4 daemon: config_error naming it ($out)" \
	"event=config_error .*daemon.socket_group: no group named" "$out"
printf 'daemon: { socket_group = 5; };\n' >"$E2E_TMP/bad2.conf"
assert_false "socket_group = 5 (not a string) is refused" quietly "$XL4" check -c "$E2E_TMP/bad2.conf"

# ---------------------------------------------------------------------------------------------
e2e_section "(b) --socket-group $G"
ns_create "$NS"
veth_pair "$NS" g0 "$NS" g1
DAEMON_SOCK=$PUB/run/xl4.sock
daemon_start "$NS" -i g0 -c "$E2E_TMP/base.conf" --socket-group "$G"
assert_eq "socket directory: 0750 root:$G" "750 root $G" "$(perms "$PUB/run")"
assert_eq "socket: 0660 root:$G" "660 root $G" "$(perms "$DAEMON_SOCK")"
assert_eq "pin directory stays 0700 root:root" "700 root root" "$(perms "$DAEMON_PIN")"
assert_match "ready line names the group" "event=ready .*socket_group=$G " "$(cat "$DAEMON_LOG")"
out=$(as "$MEMBER" timeout 10 "$PUB/xl4" status -s "$DAEMON_SOCK" 2>&1)
assert_eq "member $MEMBER: xl4 status exits 0 ($out)" 0 "$?"
assert_match "member $MEMBER: xl4 status shows the daemon" "^xl4 daemon " "$out"
assert_true "member $MEMBER: xl4 vip list" quietly as "$MEMBER" timeout 10 "$PUB/xl4" vip list -s "$DAEMON_SOCK"
out=$(as "$OTHER" timeout 10 "$PUB/xl4" status -s "$DAEMON_SOCK" 2>&1)
assert_eq "non-member $OTHER: xl4 status exits 1" 1 "$?"
assert_match "non-member $OTHER: says permission denied ($out)" "permission denied" "$out"
assert_false "member $MEMBER cannot list the pins" quietly as "$MEMBER" ls "$DAEMON_PIN"
daemon_stop TERM
assert_eq "daemon exit status" 0 "$DAEMON_RC"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) a directory the daemon did not make keeps its mode"
DAEMON_SOCK=$PUB/xl4.sock
daemon_start "$NS" -i g0 -c "$E2E_TMP/base.conf" --socket-group "$G"
assert_eq "$PUB unchanged: 0755 root:root" "755 root root" "$(perms "$PUB")"
assert_eq "socket: 0660 root:$G" "660 root $G" "$(perms "$DAEMON_SOCK")"
assert_true "member $MEMBER: xl4 status" quietly as "$MEMBER" timeout 10 "$PUB/xl4" status -s "$DAEMON_SOCK"
daemon_stop TERM

# ---------------------------------------------------------------------------------------------
e2e_section "(d) the default: root only"
DAEMON_SOCK=$PUB/run2/xl4.sock
daemon_start "$NS" -i g0 -c "$E2E_TMP/base.conf"
assert_eq "socket directory: 0700 root:root" "700 root root" "$(perms "$PUB/run2")"
assert_eq "socket: 0600 root:root" "600 root root" "$(perms "$DAEMON_SOCK")"
out=$(as "$MEMBER" timeout 10 "$PUB/xl4" status -s "$DAEMON_SOCK" 2>&1)
assert_eq "member $MEMBER refused without socket_group (exit 1)" 1 "$?"
assert_match "member $MEMBER: says permission denied ($out)" "permission denied" "$out"
assert_true "root: xl4 status" quietly timeout 10 "$XL4" status -s "$DAEMON_SOCK"
daemon_stop TERM

# ---------------------------------------------------------------------------------------------
e2e_section "(e) reload: the group is set when the socket is made"
DAEMON_SOCK=$PUB/run3/xl4.sock
cp "$E2E_TMP/base.conf" "$E2E_TMP/live.conf"
daemon_start "$NS" -i g0 -c "$E2E_TMP/live.conf"
printf 'metrics: { listen = ""; };\ndaemon: { socket_group = "%s"; };\n' "$G" >"$E2E_TMP/live.conf"
expect_fail "reload adding socket_group = $G" 1 \
	"needs restart: daemon\.socket_group \(\"\" -> \"$G\"\); nothing was changed" \
	timeout 10 "$XL4" reload -s "$DAEMON_SOCK"
assert_eq "after it: socket still 0600 root:root" "600 root root" "$(perms "$DAEMON_SOCK")"
assert_true "after it: root's xl4 status" quietly timeout 10 "$XL4" status -s "$DAEMON_SOCK"
daemon_stop TERM
DAEMON_SOCK=$PUB/run4/xl4.sock
daemon_start "$NS" -i g0 -c "$E2E_TMP/base.conf" --socket-group "$G"
assert_true "--socket-group $G: reload of a file without a group applies" \
	quietly timeout 10 "$XL4" reload -s "$DAEMON_SOCK"
assert_eq "after it: socket still 0660 root:$G" "660 root $G" "$(perms "$DAEMON_SOCK")"
assert_true "after it: member $MEMBER's xl4 status" \
	quietly as "$MEMBER" timeout 10 "$PUB/xl4" status -s "$DAEMON_SOCK"
daemon_stop TERM

e2e_summary "socket group"
