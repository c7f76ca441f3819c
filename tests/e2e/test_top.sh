#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `xl4 top` end to end: client ns <-> server ns over a veth pair, `xl4 daemon` on the server
# end with a UDP VIP (two backends with static MACs, one drained). `xl4 top` runs in a tmux
# pane (private tmux server, 160x50); the test reads the screen with capture-pane.
#
#   (a) usage: a bad --delay is a usage error; without a terminal top says so and exits 1
#   (b) UDP to the VIP at a known rate: the VIP's PPS column matches it (within 25 %), new
#       flows per second are shown, the sparkline fills, the backend lines show health, state,
#       weight and drain; the guard column is "-" or a guard mode
#   (c) crafted drops from one source: the reason appears with a non-zero count and the source
#       heads the dropped-sources table
#   (d) the screen refreshes (the clock moves); `q` quits with status 0 and the terminal is
#       restored (the alternate screen left, echo and canonical mode back on)
#   (e) a backend failing its health checks shows DOWN; the daemon's log is logfmt, line by
#       line, with the key events (start, vip/backend added, attach, backend_down, stop, detach)
#
# Needs root. Exit 0: all passed; 1: something failed; 77: skipped (kernel lacks a feature).
set -u -o pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd ip nsenter setsid ethtool timeout tmux
require_xl4
require_scapy
e2e_tmpdir

CLI=xl4t-$$-c
SRV=xl4t-$$-s
C_IF=c0
S_IF=s0
C4=198.18.0.1 S4=198.18.0.2
VIP4=198.18.1.1 VPORT=9000
BE1=198.18.0.11 BE2=198.18.0.12
BE3=198.18.0.13 # nothing answers there: its TCP health check fails
SPOOF=198.18.0.99 # the source of the crafted drops
RATE=200	  # UDP datagrams per second to the VIP
TMUX_SOCK=xl4e2e-top-$$
TM=(tmux -L "$TMUX_SOCK")

# screen: the pane's text now.
screen() { "${TM[@]}" capture-pane -p -t top 2>/dev/null; }
# vip_pps TEXT: the PPS column of the web4 line ("1.20k" -> 1200), "none" if absent.
vip_pps() {
	printf '%s\n' "$1" | awk '$1 == "web4" {
		v = $4; m = 1
		if (v ~ /k$/) { m = 1000; sub(/k$/, "", v) }
		if (v !~ /^[0-9.]+$/) { print "none"; exit }
		printf "%d\n", v * m; exit
	} END { if (NR == 0) print "none" }'
}

# ---------------------------------------------------------------------------------------------
e2e_section "(a) usage"
"$XL4" top -d 0 </dev/null >/dev/null 2>"$E2E_TMP/err"
rc=$?
assert_eq "top -d 0: usage error (exit 2; $(cat "$E2E_TMP/err"))" 2 "$rc"
"$XL4" top -d abc </dev/null >/dev/null 2>&1
assert_eq "top -d abc: usage error" 2 "$?"
out=$("$XL4" top -s "$E2E_TMP/none.sock" </dev/null 2>&1)
assert_eq "top without a terminal: exit 1" 1 "$?"
assert_match "top without a terminal: says so ($out)" "needs a terminal" "$out"

# ---------------------------------------------------------------------------------------------
e2e_section "topology: $CLI/$C_IF ($C4) <-> $SRV/$S_IF ($S4), daemon on $S_IF"
ns_create "$CLI"
ns_create "$SRV"
veth_pair "$CLI" "$C_IF" "$SRV" "$S_IF"
addr4 "$CLI" "$C_IF" "$C4/24"
addr4 "$SRV" "$S_IF" "$S4/24"
ip -n "$CLI" route add "$VIP4/32" via "$S4" || die "cannot add the route to the VIP"
S_MAC=$(link_mac "$SRV" "$S_IF")
cat >"$E2E_TMP/xl4.conf" <<CONF
interfaces = ["$S_IF"];
xdp_mode = "native";
metrics: { listen = ""; };
lb: { seed = 7; };
vips = ( {
  name = "web4"; address = "$VIP4:$VPORT/udp"; mode = "l2";
  backends = ( { address = "$BE1"; mac = "02:00:00:00:00:11"; weight = 3; },
               { address = "$BE2"; mac = "02:00:00:00:00:12"; drained = true; } );
}, {
  name = "hc4"; address = "$VIP4:80/tcp"; mode = "l2";
  health: { type = "tcp"; interval_ms = 300; timeout_ms = 200; rise = 1; fall = 2; };
  backends = ( { address = "$BE3"; mac = "02:00:00:00:00:13"; } );
} );
CONF
daemon_start "$SRV" -c "$E2E_TMP/xl4.conf"
e2e_log "  daemon pid $DAEMON_PID, socket $DAEMON_SOCK"

# The tmux pane: UTF-8 locale (sparkline blocks); when top ends, its exit status and the
# terminal's modes are written down, and the pane stays open for capture.
cat >"$E2E_TMP/pane.sh" <<PANE
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen
printf 'before-top\n'
'$XL4' top -s '$DAEMON_SOCK' -d 1
echo "top-exit=\$?" >'$E2E_TMP/top.rc'
stty -a >'$E2E_TMP/stty.after'
printf 'after-top\n'
sleep 120
PANE
cleanup_push "${TM[*]} kill-server"
"${TM[@]}" new-session -d -x 160 -y 50 -s top bash "$E2E_TMP/pane.sh" ||
	die "tmux new-session failed"

# ---------------------------------------------------------------------------------------------
e2e_section "(b) UDP to the VIP at $RATE/s"
# A new socket (a new flow) every 10 datagrams; paced by the clock, not by sleeps adding up.
# (The schedule t0 may slip forward; the loop ends at a fixed time, 25 s after it began.)
cat >"$E2E_TMP/udp_rate.py" <<'EOF'
import socket, sys, time
host, port, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t0 = time.monotonic()
n = 0
s = None
end = t0 + secs
while time.monotonic() < end:
    if n % 10 == 0:
        if s:
            s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"xl4-top-%d" % n, (host, port))
    n += 1
    delay = t0 + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    elif delay < -0.1:
        t0 -= delay  # fell behind (a busy machine): no catch-up burst, the rate stays flat
EOF
bg_start "$CLI" "$E2E_TMP/udp.log" "$PY" "$E2E_TMP/udp_rate.py" "$VIP4" "$VPORT" "$RATE" 25
UDP_PID=$BG_PID
# Wait (at most 20 s) for three refreshes in a row showing the rate within 25 %.
lo=$((RATE * 3 / 4)) hi=$((RATE * 5 / 4)) good=0 pps=none
for ((i = 0; i < 40 && good < 3; i++)); do
	sleep 0.5
	pps=$(vip_pps "$(screen)")
	if [[ $pps =~ ^[0-9]+$ ]] && [ "$pps" -ge "$lo" ] && [ "$pps" -le "$hi" ]; then
		good=$((good + 1))
	else
		good=0
	fi
done
S=$(screen)
printf '%s\n' "$S" | sed 's/^/        | /'
assert_eq "web4 PPS within $lo..$hi for three samples in a row (last: $pps)" 3 "$good"
line=$(printf '%s\n' "$S" | grep '^web4 ')
assert_match "web4 line: address, mode" "^web4 +$VIP4:$VPORT/udp +l2 " "$line"
nf=$(printf '%s\n' "$line" | awk '{print $6}')
assert_match "web4 new flows per second ($nf) near $((RATE / 10))" '^(1[5-9]|2[0-5])$' "$nf"
assert_match "web4 guard column: '-' or a guard mode" "^web4 +[^ ]+ +l2 +[^ ]+ +[^ ]+ +[^ ]+ +(-|normal|EMERG)" "$line"
assert_match "backend $BE1: up, active, weight 3" "backend $BE1 +up +active +weight 3 " "$S"
assert_match "backend $BE2: up, drained, weight 1, drain" "backend $BE2 +up +drained +weight 1 +drain " "$S"
assert_match "packets/s summary line" $'(^|\n)packets/s: pass ' "$S"
# hc4's only backend fails its checks (fall = 2 at 300 ms): top shows it DOWN within seconds.
for ((i = 0; i < 20; i++)); do
	grep -q "backend $BE3 +DOWN" <<<"$(screen)" && break
	sleep 0.5
done
assert_match "backend $BE3 (failing TCP checks): DOWN, with the check counts" \
	"backend $BE3 +DOWN +down +weight 1 .*checks [0-9]+ failed [1-9]" "$(screen)"

# ---------------------------------------------------------------------------------------------
e2e_section "(c) crafted drops from $SPOOF"
in_ns "$CLI" timeout 60 "$PY" "$E2E_LIB_DIR/craft.py" --iface "$C_IF" --dst-mac "$S_MAC" \
	--src4 "$SPOOF" tcp_flags_null=40 udp_port_zero=20 || die "craft.py failed"
# Until the totals are all there: the daemon samples its counters once a second, so the first
# screen that names udp_port_zero may hold a sample taken while the packets were arriving.
for ((i = 0; i < 20; i++)); do
	S=$(screen)
	n_null=$(printf '%s\n' "$S" | awk '$1 == "tcp_flags_null" {print $3; exit}')
	n_zero=$(printf '%s\n' "$S" | awk '$1 == "udp_port_zero" {print $3; exit}')
	grep -q "^  $SPOOF " <<<"$S" && [ "${n_null:-0}" -ge 40 ] && [ "${n_zero:-0}" -ge 20 ] && break
	sleep 0.5
done
printf '%s\n' "$S" | sed -n '/^DROPS/,$p' | sed 's/^/        | /'
assert_ge "tcp_flags_null total on screen" 40 "${n_null:-none}"
assert_ge "udp_port_zero total on screen" 20 "${n_zero:-none}"
assert_match "the dropped-sources table names $SPOOF with tcp_flags_null" \
	"  $SPOOF +[0-9]+ +tcp_flags_null" "$S"
first=$(printf '%s\n' "$S" | sed -n '/^TOP DROPPED SOURCES/{n;p;q}' | awk '{print $1}')
assert_eq "$SPOOF heads the dropped-sources table" "$SPOOF" "$first"

# ---------------------------------------------------------------------------------------------
e2e_section "(d) refresh and q"
c1=$(screen | head -1)
sleep 2.2
c2=$(screen | head -1)
assert_true "the header changes between refreshes ('$c1' -> '$c2')" test "$c1" != "$c2"
# The PPS history fills one cell a refresh (wait at most 12 s for 8 cells).
for ((i = 0; i < 24; i++)); do
	line=$(screen | grep '^web4 ')
	[[ $line =~ [▁▂▃▄▅▆▇█]{8} ]] && break
	sleep 0.5
done
assert_match "web4 line has a PPS sparkline of 8+ cells ($line)" '[▁▂▃▄▅▆▇█]{8}' "$line"
"${TM[@]}" send-keys -t top q
for ((i = 0; i < 50; i++)); do
	[ -s "$E2E_TMP/top.rc" ] && break
	sleep 0.1
done
assert_eq "top exits on q with status 0" "top-exit=0" "$(cat "$E2E_TMP/top.rc" 2>/dev/null)"
S=$(screen)
assert_match "after q the shell's own output is back" "before-top" "$S"
assert_false "after q no top screen is left in the pane" grep -q '^xl4 top - ' <<<"$S"
modes=$(cat "$E2E_TMP/stty.after" 2>/dev/null)
assert_match "terminal modes restored: icanon" '(^|[ ;])icanon' "$modes"
assert_match "terminal modes restored: echo" '(^|[ ;])echo( |;|$)' "$modes"
_kill_group "$UDP_PID"

# ---------------------------------------------------------------------------------------------
e2e_section "(e) the daemon's log: logfmt lines, key events"
daemon_stop TERM
assert_eq "daemon exit status" 0 "$DAEMON_RC"
LOG=$(cat "$DAEMON_LOG")
bad=$(grep -vE '^level=(warn|info|debug) time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z event=[a-z_]+( [a-z_]+=([^ "=]+|"([^"\\]|\\.)*"))*$' \
	"$DAEMON_LOG" | head -3)
assert_eq "every line is level=.. time=..Z event=.. key=value..." "" "$bad"
assert_match "event=start" '(^|'$'\n'')level=info time=[^ ]+ event=start version=[^ ]+ pid=[0-9]+ config=' "$LOG"
assert_match "event=vip_added web4" "event=vip_added vip=web4 addr=$VIP4:$VPORT/udp mode=l2" "$LOG"
assert_match "event=backend_added $BE1" "event=backend_added vip=web4 backend=$BE1 weight=3 mac=known backends=1" "$LOG"
assert_match "event=attach" "event=attach iface=$S_IF mode=native prog_id=[0-9]+" "$LOG"
assert_match "event=backend_down hc4 (level warn, quoted reason)" \
	"level=warn time=[^ ]+ event=backend_down vip=hc4 backend=$BE3 reason=" "$LOG"
assert_match "event=stop, then event=detach" "event=stop signal=Terminated.*event=detach iface=$S_IF" \
	"$(tr '\n' ' ' <"$DAEMON_LOG")"

e2e_summary "top"
