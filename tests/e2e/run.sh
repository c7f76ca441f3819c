#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every tests/e2e/test_*.sh (or the ones named as arguments), each under a time limit,
# and tally: a test passes with exit 0, is skipped with exit 77 (its reason is echoed) and
# fails otherwise. Prints "e2e: N passed, N failed, N skipped"; exits non-zero if any failed.
#
#   O=build tests/e2e/run.sh [tests/e2e/test_x.sh ...]
#   E2E_TIMEOUT=300 (seconds per test)
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export O=${O:-build}
limit=${E2E_TIMEOUT:-300}

if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=("$here"/test_*.sh)
fi

pass=0 fail=0 skipped=0
failed=() skips=()
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	log=$(mktemp /tmp/xl4e-run.XXXXXX)
	printf '\n######## %s\n' "$name"
	start=$(date +%s%N)
	# The test's own output goes to the terminal and to a log (for the skip reason). timeout
	# sends SIGTERM, which the test's trap turns into a full cleanup.
	timeout --kill-after=20 "$limit" bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	ds=$((($(date +%s%N) - start) / 100000000))
	secs=$((ds / 10)).$((ds % 10))
	case $rc in
	0)
		pass=$((pass + 1))
		printf '######## %s: PASS (%ss)\n' "$name" "$secs"
		;;
	77)
		skipped=$((skipped + 1))
		why=$(grep -m1 'SKIPPED:' "$log" | sed 's/^\** *SKIPPED: *//; s/ *\**$//')
		skips+=("$name: ${why:-no reason given}")
		printf '######## %s: SKIPPED (%s)\n' "$name" "${why:-no reason given}"
		;;
	124 | 137)
		fail=$((fail + 1))
		failed+=("$name (timed out after ${limit}s)")
		printf '######## %s: FAIL (timed out after %ss)\n' "$name" "$limit"
		;;
	*)
		fail=$((fail + 1))
		failed+=("$name (exit $rc)")
		printf '######## %s: FAIL (exit %s, %ss)\n' "$name" "$rc" "$secs"
		;;
	esac
	rm -f "$log"
done

echo
for s in "${skips[@]}"; do echo "skipped: $s"; done
for f in "${failed[@]}"; do echo "failed:  $f"; done
echo "e2e: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
