#!/usr/bin/env bash
# run-tests.sh - run every unit test binary, then the end-to-end tests
# (every tests/e2e/*.py but the harness, tests/e2e/harness*.py).
#
# Passes their output through, counts the "ok " and "not ok " lines, and
# ends with exactly one line "N passed, N failed".  A unit binary (or e2e script)
# that exits non-zero without printing any "not ok" line, or that dies from
# a signal, counts as one more failure named after it.  Exit status 1 when
# anything failed (or when no test ran at all).
#
# Run from anywhere; it works from the repository root (make test).
#   SHMTRACE_TEST_TIMEOUT   seconds one test program may take (default 600)

set -u
cd "$(dirname "$0")/.." || exit 1

timeout_s=${SHMTRACE_TEST_TIMEOUT:-600}
passed=0
failed=0
log=$(mktemp "${TMPDIR:-/tmp}/shmtrace-tests.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT

# run_one NAME COMMAND...: run, pass output through, count results.
run_one() {
	local name=$1 status p f
	shift
	timeout --kill-after=10 "$timeout_s" "$@" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "not ok - $name: timed out after ${timeout_s}s"
		failed=$((failed + 1))
	elif [ "$status" -gt 128 ]; then
		echo "not ok - $name: killed by signal $((status - 128))"
		failed=$((failed + 1))
	elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited with status $status"
		failed=$((failed + 1))
	fi
}

for t in build/tests/test-*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	case $t in *.d|*.o) continue ;; esac
	run_one "$(basename "$t")" "$t"
done

for t in tests/e2e/*.py; do
	[ -f "$t" ] || continue
	case $t in */harness*.py) continue ;; esac
	run_one "$(basename "$t")" python3 "$t"
done

if [ $((passed + failed)) -eq 0 ]; then
	echo "not ok - run-tests: no test ran"
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
