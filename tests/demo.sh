#!/usr/bin/env bash
# demo.sh - the README's demo (make demo): trace an nginx-style master whose
# four workers share a SysV zone, show what the trace recorded and the
# attach map; then trace a server that leaks its segment, and find the leak.
# The traces stay in ./demo/ (made here, replaced at each run), so every
# command it shows can be typed again afterwards, as shown.
set -eu
cd "$(dirname "$0")/.."

for f in build/shmtrace build/shmview build/examples/nginx-zone; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is missing; run 'make all examples' first" >&2
		exit 1
	fi
done

dir=${DEMO_DIR:-demo}   # where the traces stay
rm -rf "$dir"
mkdir -p "$dir"
trace=$dir/demo.trace
leak=$dir/leak.trace

echo "== 1. Run an nginx-style master under the tracer. Like ngx_shm_alloc() it"
echo "==    makes a 1 MiB zone with shmget(IPC_PRIVATE), shmat and an immediate"
echo "==    IPC_RMID, then forks 4 workers that count in the zone:"
echo "\$ build/shmtrace -o $trace -- build/examples/nginx-zone sysv 4"
build/shmtrace -o "$trace" -- build/examples/nginx-zone sysv 4
echo

echo "== 2. Every shared-memory and process event recorded, in order, each"
echo "==    tagged with the pid that made it (the master, then each worker):"
echo "\$ build/shmview dump $trace"
build/shmview dump "$trace"
echo

echo "== 3. Where the calls came from: the first events again with their"
echo "==    symbolized call stacks (function+offset, module, file:line):"
echo "\$ build/shmview dump --stack -e trace=shmget,shmat $trace"
build/shmview dump --stack -e trace=shmget,shmat "$trace"
echo

echo "== 4. The attach map as it stood while the workers ran: the zone,"
echo "==    already marked for removal (pending), attached in every process"
echo "==    at the same address:"
at=$(build/shmview dump --json "$trace" |
	awk -F'"time_ns":' '/"call":"fork"/ { split($2, a, ","); t = a[1] } END { print t + 1 }')
echo "\$ build/shmview map --at ${at}ns $trace"
build/shmview map --at "${at}ns" "$trace"
echo

echo "== 5. A server that exits still attached and never removes its"
echo "==    segment: the launcher says what leaked, where it was made, and"
echo "==    how to remove it; shmview clean removes it:"
echo "\$ build/shmtrace -o $leak -- build/examples/sysv-server $dir"
build/shmtrace -o "$leak" -- build/examples/sysv-server "$dir"
echo "\$ build/shmview clean --yes $leak"
build/shmview clean --yes "$leak"
echo
echo "== The traces stay in $dir/: build/shmview report $trace, build/shmview"
echo "==    live $trace, build/shmview dump -c $leak ..."
