#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Random-packet replay: N random and mutated frames (tests/tools/gen-random-pcap) through
# `xl4 replay --json`; every frame must get exactly one JSON line, none may be "aborted", a
# drop must name a reason and a pass must not.
#
#   tests/bpf/random-replay.sh BUILD_DIR [N] [SEED]      (N defaults to 100000, SEED to 1)
#
# Exit 0 ok, 1 failed, 77 skipped (not root: the replay runs the real XDP program).
set -u

O=${1:?usage: $0 BUILD_DIR [N] [SEED]}
N=${2:-100000}
SEED=${3:-1}
GEN=$O/tests/tools/gen-random-pcap
XL4=$O/xl4

if [ "$(id -u)" != 0 ]; then
	echo "random-replay: skipped: needs root (BPF_PROG_TEST_RUN)"
	exit 77
fi
for f in "$GEN" "$XL4"; do
	[ -x "$f" ] || { echo "random-replay: FAIL: $f not built"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$GEN" -s "$SEED" "$N" "$tmp/random.pcap" || { echo "random-replay: FAIL: gen-random-pcap"; exit 1; }
"$XL4" replay --json "$tmp/random.pcap" >"$tmp/out.json" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "random-replay: FAIL: xl4 replay exited $rc:"
	head -5 "$tmp/err"
	exit 1
fi

# One object a line: count by verdict with a regex that tolerates spacing after the colon.
v() { grep -c "\"verdict\"[[:space:]]*:[[:space:]]*\"$1\"" "$tmp/out.json"; }
lines=$(wc -l <"$tmp/out.json")
aborted=$(v aborted)
drop=$(v drop)
pass=$(v pass)
other=$((lines - drop - pass - aborted))
drop_none=$(grep "\"verdict\"[[:space:]]*:[[:space:]]*\"drop\"" "$tmp/out.json" |
	grep -c "\"reason\"[[:space:]]*:[[:space:]]*\"none\"")
pass_reason=$(grep "\"verdict\"[[:space:]]*:[[:space:]]*\"pass\"" "$tmp/out.json" |
	grep -vc "\"reason\"[[:space:]]*:[[:space:]]*\"none\"")

status=ok
[ "$lines" -eq "$N" ] || status=FAIL
[ "$aborted" -eq 0 ] || status=FAIL
[ "$drop_none" -eq 0 ] || status=FAIL
[ "$pass_reason" -eq 0 ] || status=FAIL

echo "random-replay: $status: $N frames (seed $SEED), $lines results: $pass pass, $drop drop," \
	"$other other, $aborted aborted, $drop_none drops without reason, $pass_reason passes with a reason"
if [ "$status" != ok ]; then
	grep -m 3 "\"aborted\"" "$tmp/out.json"
	exit 1
fi
exit 0
