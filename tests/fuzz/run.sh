#!/usr/bin/env bash
# Fuzz the trace reader for a bounded time (seconds, default 60), seeded
# with real traces made now and with the regression corpus.  Whatever the
# fuzzer finds is left in build/fuzz/artifacts; copy it into
# tests/fuzz/regressions so it stays fixed.  Exits non-zero on a finding.
set -u
secs=${1:-60}
cd "$(dirname "$0")/../.."
B=build/fuzz
mkdir -p "$B/seeds" "$B/corpus" "$B/artifacts"
# real traces of the examples, small enough to mutate quickly
n=0
for ex in "sysv-excl" "sysv-detach-twice" "nginx-zone sysv 2" "nginx-zone anon 2" \
	  "posix-writer --unlink /shmtrace-fuzz-$$" "memfd-share" "spawn-exec /shmtrace-fuzz2-$$"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	build/shmtrace -q -f --size 64K --depth 4 -o "$B/seeds/real-$n.trace" -- \
		build/examples/$ex >/dev/null 2>&1 || true
done
cp tests/fuzz/regressions/* "$B/seeds/" 2>/dev/null || true
echo "fuzz: $(ls "$B/seeds" | wc -l) seeds, ${secs}s"
"$B/fuzz-trace" -max_total_time="$secs" -max_len=262144 -timeout=10 \
	-artifact_prefix="$B/artifacts/" "$B/corpus" "$B/seeds" 2>&1 | tail -n 20
found=$(ls "$B/artifacts" 2>/dev/null | wc -l)
if [ "$found" -gt 0 ]; then
	echo "fuzz: $found finding(s) in $B/artifacts: copy them into tests/fuzz/regressions"
	exit 1
fi
echo "fuzz: no finding in ${secs}s"
