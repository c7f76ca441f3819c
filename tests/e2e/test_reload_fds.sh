#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A reload that restarts a job's thread keeps the loop listening to it. Changing the guard's
# analyzer settings restarts the analyzer with new pipes, which the kernel usually gives the
# same fd numbers as the old ones; the old pipe left the daemon's epoll when it closed, so the
# loop must register the new one again (it used to compare the fd numbers, saw no change, and
# never read the analyzer's decisions again). Checked through /proc: the daemon's main epoll
# (the one with the most fds) polls as many fds after the reload as before, and the analyzer's
# pipes are new ones.
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter
require_xl4
e2e_tmpdir

A=xl4e-$$-a
B=xl4e-$$-b
ns_create "$A"
ns_create "$B"
veth_pair "$A" a0 "$B" b0

write_conf() {
	cat >"$E2E_TMP/xl4.conf" <<EOC
interfaces = [ "a0" ];
lb: { seed = 7; };
vips = ( { name = "web"; address = "198.18.1.1:80/tcp";
           backends = ( { address = "198.18.2.1"; mac = "02:00:00:00:00:21"; } ); } );
guard: { enabled = true; analyzer = { min_samples = $1; }; };
EOC
}

# The fds of the daemon's busiest epoll instance, sorted, on one line.
loop_fds() {
	local ep best="" n max=-1

	for ep in $(find "/proc/$DAEMON_PID/fd" -lname 'anon_inode:\[eventpoll\]' -printf '%f\n'); do
		n=$(grep -c '^tfd:' "/proc/$DAEMON_PID/fdinfo/$ep")
		[ "$n" -gt "$max" ] && max=$n best=$ep
	done
	grep -o '^tfd: *[0-9]*' "/proc/$DAEMON_PID/fdinfo/$best" | awk '{print $2}' | sort -n | tr '\n' ' '
}

pipes() { find "/proc/$DAEMON_PID/fd" -lname 'pipe:*' -printf '%l\n' | sort -u | tr '\n' ' '; }

e2e_section "reload that restarts the guard's analyzer"
write_conf 30
daemon_start "$A" -c "$E2E_TMP/xl4.conf"
before=$(loop_fds)
pipes_before=$(pipes)
write_conf 40
out=$("$XL4" reload -s "$DAEMON_SOCK" 2>&1)
assert_eq "reload with new analyzer settings: exit 0 ($out)" 0 "$?"
after=$(loop_fds)
assert_true "the analyzer was restarted: new pipes ($pipes_before -> $(pipes))" \
	test "$pipes_before" != "$(pipes)"
assert_eq "the loop polls the same fds after the reload" "$before" "$after"
write_conf 50
kill -HUP "$DAEMON_PID"
for ((i = 0; i < 50; i++)); do
	grep -q 'SIGHUP' "$DAEMON_LOG" && break
	sleep 0.1
done
assert_true "SIGHUP reload logged" grep -q 'SIGHUP' "$DAEMON_LOG"
assert_eq "... and after a SIGHUP reload" "$before" "$(loop_fds)"
assert_true "daemon answers" "$XL4" status -s "$DAEMON_SOCK"
daemon_stop TERM
assert_eq "exit status after SIGTERM" 0 "$DAEMON_RC"

e2e_section "pin path and socket from the environment: a reload keeps them"
# the config names neither: a reload must read the environment as the start did, or it would
# see the default pin path and refuse ("needs restart")
ENV_PIN=/sys/fs/bpf/xl4-e2e-env-$$
ENV_SOCK=$E2E_TMP/env.sock
cleanup_push "'$XL4' cleanup --pin-path '$ENV_PIN' -s '$E2E_TMP/none.sock'; rm -rf '$ENV_PIN'"
# a daemon that ignored the environment would pin at the default path and listen on the
# default socket: remove what this test would have made there (only if nothing was there)
if [ ! -e /sys/fs/bpf/xl4 ]; then
	cleanup_push "'$XL4' cleanup --pin-path /sys/fs/bpf/xl4 -s '$E2E_TMP/none.sock' 2>/dev/null; rmdir /sys/fs/bpf/xl4 2>/dev/null"
fi
if [ ! -e /run/xl4 ]; then
	cleanup_push "rm -f /run/xl4/xl4.sock; rmdir /run/xl4 2>/dev/null"
fi
write_conf 30
XL4_PIN_PATH=$ENV_PIN XL4_SOCKET=$ENV_SOCK nsenter --net="/run/netns/$A" "$XL4" daemon \
	-c "$E2E_TMP/xl4.conf" --detach-on-exit 2>"$E2E_TMP/env.log" &
ENV_PID=$!
cleanup_push "kill -TERM $ENV_PID 2>/dev/null"
for ((i = 0; i < 300; i++)); do
	grep -q ' event=ready ' "$E2E_TMP/env.log" && [ -S "$ENV_SOCK" ] && break
	proc_exited "$ENV_PID" && break
	sleep 0.1
done
assert_true "daemon with XL4_PIN_PATH and XL4_SOCKET is ready" grep -q ' event=ready ' "$E2E_TMP/env.log"
assert_true "its maps are pinned at XL4_PIN_PATH" test -e "$ENV_PIN/xl4_stats_v1"
write_conf 40
out=$("$XL4" reload -s "$ENV_SOCK" 2>&1)
assert_eq "reload keeps the environment's pin path and socket: exit 0 ($out)" 0 "$?"
kill -TERM "$ENV_PID"
wait "$ENV_PID"
assert_eq "exit status after SIGTERM" 0 "$?"

e2e_summary "reload fds"
