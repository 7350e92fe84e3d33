#!/usr/bin/env bash
# Runs each unit-test binary given and adds up their "N passed, N failed".
# The binaries read the environment (config's tests): they get the suite's
# own, not the caller's.
# shellcheck source=tests/clean-env.sh
. "$(dirname "$0")/clean-env.sh"
clean_env
passed=0 failed=0
for bin in "$@"; do
	out=$("$bin" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^unit: [0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out"
		echo "FAIL $bin crashed or printed no summary (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/unit: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed/\1/')
	[ "$f" -gt 0 ] || [ "$rc" -ne 0 ] && printf '%s\n' "$out"
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	echo "$(basename "$bin"): $p passed, $f failed"
	passed=$((passed + p)); failed=$((failed + f))
done
echo "unit tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
