#!/usr/bin/env bash
# demo.sh - the README's demo (make demo): trace an nginx-style master whose
# four workers share a SysV zone, then show what the trace recorded.
set -eu
cd "$(dirname "$0")/.."

for f in build/shmtrace build/shmview build/examples/nginx-zone; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is missing; run 'make all examples' first" >&2
		exit 1
	fi
done

# Examples built with SAN=1 carry ASan, which must not refuse the preload.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shmtrace-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trace=$tmp/demo.trace

echo "== 1. Run an nginx-style master under the tracer. Like ngx_shm_alloc() it"
echo "==    makes a 1 MiB zone with shmget(IPC_PRIVATE), shmat and an immediate"
echo "==    IPC_RMID, then forks 4 workers that count in the zone:"
echo "\$ build/shmtrace -o demo.trace -- build/examples/nginx-zone sysv 4"
build/shmtrace -o "$trace" -- build/examples/nginx-zone sysv 4
echo

echo "== 2. Every shared-memory and process event recorded, in order, each"
echo "==    tagged with the pid that made it (the master, then each worker):"
echo "\$ build/shmview dump demo.trace"
build/shmview dump "$trace"
echo

echo "== 3. Where the calls came from: the first events again with their"
echo "==    symbolized call stacks (function+offset, module, file:line):"
echo "\$ build/shmview dump --stack demo.trace | (first 4 events)"
build/shmview dump --stack "$trace" >"$tmp/stack.txt"
awk '/^\[pid / { n++ } n > 4 { exit } { print }' "$tmp/stack.txt"
