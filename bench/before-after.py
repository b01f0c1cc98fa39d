#!/usr/bin/env python3
"""The shim before and after a change, measured side by side: the per-call
cost of the main workloads and nginx's requests/s, under two builds of the
launcher and shim run alternately (bare, one, the other, bare), so that both
see the same machine load.  bench/run.py measures one build; this compares
two, which a table written days apart on a shared machine cannot.

    python3 bench/before-after.py OLD_BUILD [NEW_BUILD]

OLD_BUILD and NEW_BUILD (default build/) are build directories holding
shmtrace and libshmtrace.so (`make build/shmtrace build/libshmtrace.so` in a
checkout of the old commit, e.g. from `git archive`).  The workload is
NEW_BUILD's bench/workload.  BENCH_REPS=N repetitions (default 5).  Prints
a Markdown table: the median over the repetitions of the CPU time (user +
system, which time spent preempted by others does not inflate) and of the
loop's wall time added per intercepted call.

Python 3 standard library only.
"""

import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: workloads, wrapping, nginx)

WORKLOADS = ("fail", "file", "posix", "anon", "sysv")


def aside(build, tmp, label):
    """Copies a build's launcher and shim to tmp/label; returns the launcher."""
    d = os.path.join(tmp, label)
    os.mkdir(d)
    for f in ("shmtrace", "libshmtrace.so"):
        src = os.path.join(build, f)
        if not os.path.exists(src):
            sys.exit("before-after: %s is missing" % src)
        shutil.copy2(src, d)
    return os.path.join(d, "shmtrace")


def added(runs, bares, field):
    """Per intercepted call: run minus the mean of the bare runs around it."""
    b = statistics.mean(x[field] for x in bares)
    return [(r[field] - b) / r["calls"] for r in runs]


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    old = argv[1]
    new = argv[2] if len(argv) > 2 else bench.BUILD
    reps = int(os.environ.get("BENCH_REPS") or 5)
    tmp = tempfile.mkdtemp(prefix=bench.TAG + "-ba-")
    try:
        launchers = {"before": aside(old, tmp, "before"), "after": aside(new, tmp, "after")}
        bench.WORKLOAD = os.path.join(tmp, "workload")
        shutil.copy2(os.path.join(new, "bench", "workload"), bench.WORKLOAD)
        bench.TMP, bench.TRACE = tmp, os.path.join(tmp, "run.trace")
        for var in ("SHMTRACE_LIB", "SHMTRACE_VIEWER", "SHMTRACE_DEPTH", "LD_PRELOAD"):
            os.environ.pop(var, None)
        res = {}                        # (workload, tool, build) -> added per call
        spec = {w[0]: w for w in bench.WORKLOADS}
        for rep in range(reps):
            bench.log("repetition %d/%d" % (rep + 1, reps))
            # which build goes first alternates, so neither always follows bare
            order = ("before", "after") if rep % 2 == 0 else ("after", "before")
            for name in WORKLOADS:
                _, args, cpi, count, _, _ = spec[name]
                for tool in ("d0", "dflt"):
                    b1 = bench.measure("bare", args(count), count * cpi)
                    runs = {}
                    for build in order:
                        bench.LAUNCHER = launchers[build]
                        runs[build] = bench.measure(tool, args(count), count * cpi)
                    b2 = bench.measure("bare", args(count), count * cpi)
                    for build, r in runs.items():
                        for field in ("cpu_ns", "loop_ns"):
                            res.setdefault((name, tool, build, field), []).extend(
                                added([r], [b1, b2], field))
        server = {}
        if bench.have("wrk") and os.path.exists("/usr/sbin/nginx"):
            import socket
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            d = os.path.join(tmp, "nginx")
            os.makedirs(d)
            for rep in range(reps):
                bench.log("nginx %d/%d" % (rep + 1, reps))
                for label in ("bare", "before", "after"):
                    if label != "bare":
                        bench.LAUNCHER = launchers[label]
                    r = bench.server_once(label != "bare", port, d)
                    if r:
                        server.setdefault(label, []).append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = bench.med
    rows = []
    for name in WORKLOADS:
        for tool in ("d0", "dflt"):
            cb = med(res[(name, tool, "before", "cpu_ns")])
            ca = med(res[(name, tool, "after", "cpu_ns")])
            wb = med(res[(name, tool, "before", "loop_ns")])
            wa = med(res[(name, tool, "after", "loop_ns")])
            rows.append([name, bench.TOOL_LABEL[tool], "%.0f ns" % cb, "%.0f ns" % ca,
                         "%+.0f ns" % (ca - cb), "%.0f ns" % wb, "%.0f ns" % wa])
    print(bench.table(["workload", "shim", "CPU before", "CPU after", "CPU change",
                       "wall before", "wall after"], rows))
    if server:
        print()
        print(bench.table(["nginx run", "requests/s (median)", "each run"],
                          [[k, "%.0f" % med(v), " ".join("%.0f" % x for x in v)]
                           for k, v in server.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
