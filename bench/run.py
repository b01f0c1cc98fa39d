#!/usr/bin/env python3
"""make bench: what shmtrace costs, side by side with strace and ltrace.

Runs the workloads of bench/workload.c bare, under the shim with backtraces
off and at the default depth, and under strace -f / strace -f -k / ltrace -f
where installed; then the deep-stack, concurrency, lost-event, syscall,
launcher and viewer measurements.  Prints one table and writes it, with the
machine it ran on, to bench/RESULTS.md.

    python3 bench/run.py            (or: make bench)

Environment:
    BENCH_QUICK=1     fewer repetitions and smaller counts (about a minute)
    BENCH_REPS=N      repetitions of the main matrix (default 5, quick 3)
    BENCH_OUT=FILE    where to write the results (default bench/RESULTS.md)
    BENCH_PROFILE=0   no perf profile even when a target is missed
    BENCH_CALLGRIND=0 no callgrind instruction counts
    BENCH_ONLY=LIST   only these parts, comma-separated: matrix (workloads,
                      deep stacks, threads and processes), loss, syscalls,
                      launcher, viewer, scale (the viewer on synthetic
                      10M-event traces), callgrind, server (nginx under wrk),
                      profile; the results then
                      go to bench/RESULTS-partial.md unless BENCH_OUT says
    SHMTRACE_BUILD    the build directory (default build/)

Every figure of a workload comes from the loop's own clock (the workload
prints it), so starting a process and the launcher's set-up and write-out
stay out of the per-call figures; they are measured on their own.  Ratios
and added times compare each run with the bare run of the same repetition
and the same count; the table gives medians over the repetitions.  The
shim's figures are also given in CPU time (which time spent preempted by
other work on a shared machine does not inflate).  The launcher, shim,
viewer and workload are copied aside first, so a rebuild of build/ during
the run cannot mix two versions.

Python 3 standard library only.
"""

import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "common"))
from records import records, varint  # noqa: E402  (common/records.py)
BUILD = os.environ.get("SHMTRACE_BUILD") or os.path.join(ROOT, "build")
LAUNCHER = os.path.join(BUILD, "shmtrace")
VIEWER = os.path.join(BUILD, "shmview")
WORKLOAD = os.path.join(BUILD, "bench", "workload")
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
OUT = os.environ.get("BENCH_OUT") or os.path.join(
    ROOT, "bench", "RESULTS-partial.md" if ONLY else "RESULTS.md")


def part(name):
    return not ONLY or name in ONLY
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPS = int(os.environ.get("BENCH_REPS") or (3 if QUICK else 5))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
CALLGRIND = os.environ.get("BENCH_CALLGRIND", "1") != "0"
SCALE = 0.25 if QUICK else 1.0
TIMEOUT = 600
TAG = "shmtrace-bench-%d" % os.getpid()
TMP = TRACE = None      # a directory of build/bench, made by main()


def default_depth():
    with open(os.path.join(ROOT, "common", "shmtrace-format.h")) as f:
        m = re.search(r"#define SHMT_DEFAULT_DEPTH (\d+)u", f.read())
    return int(m.group(1)) if m else 16


DEPTH = default_depth()

# --------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------

NOTES = []          # things the reader must know (skips, failures)


def note(text):
    NOTES.append(text)
    print("note: " + text, flush=True)


def log(text):
    print(text, flush=True)


def have(tool):
    return shutil.which(tool) is not None


def slot_size(depth):
    return (128 + 8 * depth + 63) & ~63


def region_size(events, depth):
    """A region holding `events` events with room to spare: fitted rather
    than the default 272 MiB, so set-up does not reserve (and, at depth 64,
    fault in) hundreds of MiB a short run never uses."""
    total = 4096 + int(events * 1.1 + 8192) * slot_size(depth)
    total += total // 15 + (1 << 20)
    return max(total, 4 << 20)


class Failed(Exception):
    pass


def run(argv, env=None, timeout=TIMEOUT, check=True):
    """Runs argv; returns (stdout, stderr, wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, timeout=timeout)
    wall = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise Failed("%s exited %d: %s" % (" ".join(argv[:8]), p.returncode,
                                           p.stderr.strip()[-400:]))
    return p.stdout, p.stderr, wall


def parse_loop(out):
    m = re.search(r"iters=(\d+) calls=(\d+) loop_ns=(\d+) ns_per_iter=\S+"
                  r" cpu_ns=(\d+) minflt=(-?\d+)", out)
    if not m:
        raise Failed("no loop figures in output: %r" % out[-200:])
    it, calls, ns, cpu, flt = (int(x) for x in m.groups())
    return {"iters": it, "calls": calls, "loop_ns": ns, "cpu_ns": cpu,
            "minflt": flt}


# Tools: how each wraps a workload's argv.
TOOL_LABEL = {
    "bare": "bare",
    "d0": "shim, no stacks",
    "dflt": "shim, depth %d" % DEPTH,
    "d64": "shim, depth 64",
    "strace": "strace -f",
    "strace-k": "strace -f -k",
    "ltrace": "ltrace -f",
}


def tool_depth(tool):
    return {"d0": 0, "dflt": DEPTH, "d64": 64}.get(tool)


def wrap(tool, argv, events, trace=None):
    trace = trace or TRACE
    if tool == "bare":
        return argv
    d = tool_depth(tool)
    if d is not None:
        cmd = [LAUNCHER, "-q", "--force", "-o", trace,
               "--size", str(region_size(events, d))]
        if tool != "dflt":
            cmd += ["--depth", str(d)]
        return cmd + ["--"] + argv
    if tool == "strace":
        return ["strace", "-f", "-qq", "-o", "/dev/null"] + argv
    if tool == "strace-k":
        return ["strace", "-f", "-k", "-qq", "-o", "/dev/null"] + argv
    if tool == "ltrace":
        return ["ltrace", "-f", "-o", "/dev/null"] + argv
    raise ValueError(tool)


def measure(tool, args, events):
    out, _, wall = run(wrap(tool, [WORKLOAD] + args, events))
    r = parse_loop(out)
    r["wall"] = wall
    return r


def env_no_debuginfod():
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)
    return env


# --------------------------------------------------------------------------
# Statistics and formatting
# --------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    """min-max as a +-% of the median, to show how noisy a figure was."""
    xs = [x for x in xs if x is not None]
    if len(xs) < 2:
        return ""
    m = statistics.median(xs)
    if not m:
        return ""
    return "±%.0f%%" % (100.0 * (max(xs) - min(xs)) / 2 / abs(m))


def fmt_ns(x):
    if x is None:
        return "—"
    if abs(x) >= 10000:
        return "%.1f µs" % (x / 1000)
    return "%.0f ns" % x


def fmt_ratio(x):
    if x is None:
        return "—"
    if x >= 100:
        return "%.0fx" % x
    if x >= 10:
        return "%.1fx" % x
    return "%.3fx" % x


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The main matrix
# --------------------------------------------------------------------------

def n(x):
    return max(1, int(x * SCALE))


# name, args(count), intercepted calls per iteration, count for bare and the
# shim, counts for the slow tools, description
WORKLOADS = [
    ("sysv", lambda k: ["sysv", str(k)], 4, n(20000),
     {"strace": n(4000), "strace-k": n(80), "ltrace": n(400)},
     "shmget(IPC_PRIVATE)/shmat/touch/shmdt/shmctl(IPC_RMID)"),
    ("posix", lambda k: ["posix", str(k)], 6, n(20000),
     {"strace": n(3000), "strace-k": n(60), "ltrace": n(300)},
     "shm_open/ftruncate/mmap/touch/munmap/close/shm_unlink"),
    ("anon", lambda k: ["anon", str(k)], 2, n(25000),
     {"strace": n(6000), "strace-k": n(120), "ltrace": n(1000)},
     "mmap(MAP_SHARED|MAP_ANONYMOUS)/touch/munmap"),
    ("private", lambda k: ["private", str(k)], 2, n(50000),
     {"strace": n(8000), "strace-k": n(150), "ltrace": n(1500)},
     "mmap(MAP_PRIVATE|MAP_ANONYMOUS)/touch/munmap: pass-through"),
    ("file", lambda k: ["file", str(k)], 2, n(25000),
     {"strace": n(6000), "strace-k": n(120), "ltrace": n(1000)},
     "mmap(MAP_SHARED) of a regular file/touch/munmap: an object record "
     "per mapping (an fstat; the readlink that names the file is made once "
     "per object)"),
    ("malloc", lambda k: ["malloc", str(k)], 0, n(2000000),
     {"strace": n(1000000), "strace-k": n(15000), "ltrace": n(60)},
     "16 malloc/free (16 B-4 KiB) + a 256 KiB block every 64: not intercepted"),
    ("fail", lambda k: ["fail", str(k)], 1, n(400000),
     {"strace": n(3000), "strace-k": n(800), "ltrace": n(1500)},
     "shmctl(-1, IPC_STAT): fails with EINVAL, the cheapest intercepted call"),
]

INNER = 2      # bare/shim/bare sequences per repetition, main workloads
DEEP = [8, 32, 64]
DEEP_N = n(200000)
CONC_N = n(100000)       # calls per thread or process, 8 of them

RES = {}        # (workload, tool) -> list of per-rep dicts
# Figures come from the loop's wall clock: how much longer the program
# takes.  The loop's CPU time (user + system, all threads and children) is
# kept beside it for the shim, whose work all happens inside the program: on
# a shared 2-core machine it does not count time the workload spent
# preempted by someone else's compiler.  (For strace and ltrace it means
# nothing: their work happens in the tracer while the program is stopped.)
TIME_FIELD = "loop_ns"


def record(key, tool, r, *bares):
    """Keeps one run with the bare run(s) of the same repetition and count
    it is compared with (the mean of them, when there are two)."""
    r = dict(r)
    for f in ("loop_ns", "cpu_ns", "wall", "minflt"):
        r["bare_" + f] = statistics.mean(b[f] for b in bares)
    RES.setdefault((key, tool), []).append(r)


def measure_fast(key, args, events, tools):
    """bare, the shim's variants, bare again: the shim runs are compared
    with the mean of the two bare runs around them."""
    b1 = measure("bare", args, events)
    runs = [(t, measure(t, args, events)) for t in tools]
    b2 = measure("bare", args, events)
    record(key, "bare", b1, b1)
    record(key, "bare", b2, b2)
    for t, r in runs:
        record(key, t, r, b1, b2)


def slow_tools():
    tools = []
    if not part("matrix"):
        return tools
    for t, exe in (("strace", "strace"), ("strace-k", "strace"),
                   ("ltrace", "ltrace")):
        if have(exe):
            tools.append(t)
    if not have("strace"):
        note("strace is not installed: the strace -f and strace -f -k columns "
             "are skipped (make deps installs it)")
    if not have("ltrace"):
        note("ltrace is not installed: the ltrace -f column is skipped "
             "(make deps installs it)")
    return tools


def run_matrix(slow):
    for rep in range(REPS):
        log("repetition %d/%d" % (rep + 1, REPS))
        for name, args, cpi, count, counts, _ in WORKLOADS:
            events = count * max(cpi, 1)
            try:
                for _ in range(INNER):
                    measure_fast(name, args(count), events, ("d0", "dflt"))
                for tool in slow:
                    k = counts[tool]
                    b = measure("bare", args(k), k)
                    record(name, tool, measure(tool, args(k), k), b)
            except (Failed, subprocess.TimeoutExpired) as e:
                note("%s, repetition %d: %s" % (name, rep + 1, e))
        # deep stacks: N failing calls at the bottom of D frames
        for d in DEEP:
            key = "deep%d" % d
            try:
                measure_fast(key, ["deep", str(d), str(DEEP_N)], DEEP_N,
                             ("d0", "dflt", "d64"))
            except (Failed, subprocess.TimeoutExpired) as e:
                note("%s, repetition %d: %s" % (key, rep + 1, e))
        # 8 threads, 8 processes: contention on the region's head
        for key, args in (("threads8", ["threads", "8", str(CONC_N)]),
                          ("procs8", ["procs", "8", str(CONC_N)])):
            try:
                measure_fast(key, args, 8 * CONC_N, ("d0", "dflt"))
            except (Failed, subprocess.TimeoutExpired) as e:
                note("%s, repetition %d: %s" % (key, rep + 1, e))


def stat(key, tool):
    """Medians of one (workload, tool) over the repetitions."""
    rs = RES.get((key, tool))
    if not rs:
        return None
    t = TIME_FIELD
    per_iter = [r[t] / r["iters"] for r in rs]
    ratio = [r[t] / r["bare_" + t] for r in rs]
    cpu_ratio = [r["cpu_ns"] / r["bare_cpu_ns"] for r in rs]
    cpu_added = [(r["cpu_ns"] - r["bare_cpu_ns"]) / r["iters"] for r in rs]
    wall_ratio = [r["wall"] / r["bare_wall"] for r in rs]
    added_iter = [(r[t] - r["bare_" + t]) / r["iters"] for r in rs]
    calls_iter = rs[0]["calls"] / rs[0]["iters"]
    added_call = ([a / calls_iter for a in added_iter] if calls_iter else None)
    flt = [(r["minflt"] - r["bare_minflt"]) / r["calls"] * 1000
           if r["calls"] else None for r in rs]
    return {
        "ns_iter": med(per_iter), "ratio": med(ratio),
        "ratio_spread": spread(ratio), "wall_ratio": med(wall_ratio),
        "cpu_ratio": med(cpu_ratio), "cpu_spread": spread(cpu_ratio),
        "cpu_added_iter": med(cpu_added),
        "cpu_added_call": (med([a / calls_iter for a in cpu_added])
                           if calls_iter else None),
        "added_iter": med(added_iter),
        "added_call": med(added_call) if added_call else None,
        "added_call_all": added_call,
        "faults_per_1k": med(flt), "reps": len(rs),
        "calls_iter": calls_iter,
    }


# --------------------------------------------------------------------------
# Reading a trace file (the format of common/shmtrace-format.h)
# --------------------------------------------------------------------------

SHMT_CALL_SHMCTL = 4
SHMT_CALL_SHM_UNLINK = 9
SHMT_VERSION_RECORDS = 2        # the compact file the launcher writes
RECORDS_EVENT, RECORDS_STACK = 1, 2


def event_fields(payload):
    """(call, time_ns, stack id) of an EVENT record's payload: seq, call,
    flags, err, obj, pid, tid, time, duration, ret, argmask, the args set,
    stack id, str id."""
    i = varint(payload, 0)[1]
    call, i = varint(payload, i)
    for _ in range(5):                  # flags, err, obj, pid, tid
        i = varint(payload, i)[1]
    t, i = varint(payload, i)
    for _ in range(2):                  # duration, ret
        i = varint(payload, i)[1]
    mask = payload[i]
    i += 1
    for _ in range(bin(mask).count("1")):
        i = varint(payload, i)[1]
    stack, i = varint(payload, i)
    return call, t, stack


def trace_events(path):
    """(header bytes, [(call, time since start, frames kept)]) of a finished
    trace: the slots of a region file (version 1) or the event records of
    a compact file (version 2)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"SHMTRACE":
        raise Failed("%s: not a trace" % path)
    version, header_size, _, slot_size_ = struct.unpack_from("<4I", data, 8)
    evs = []
    if version == SHMT_VERSION_RECORDS:
        frames = {}
        for kind, payload in records(data, header_size):
            if kind == RECORDS_STACK:
                sid, i = varint(payload, 0)
                frames[sid] = varint(payload, i)[0]
            elif kind == RECORDS_EVENT:
                try:
                    call, t, sid = event_fields(payload)
                except IndexError:
                    raise Failed("%s: an event record this bench cannot read "
                                 "(an older layout of format 2?)" % path)
                evs.append((call, t, frames.get(sid, 0)))
        return data[:header_size], evs
    slot_off, cap = struct.unpack_from("<QQ", data, 32)
    start, = struct.unpack_from("<Q", data, 88)
    for i in range(cap):
        off = slot_off + i * slot_size_
        commit, t = struct.unpack_from("<QQ", data, off)
        if commit == i + 1:
            call, nframes = struct.unpack_from("<HH", data, off + 40)
            evs.append((call, t - start, nframes))
    return data[:header_size], evs


def first_time_of(path, call):
    """ns since the trace's start of the first recorded event of `call`."""
    return next((t for c, t, _ in trace_events(path)[1] if c == call), None)


def read_trace(path, want_frames=False):
    """Counts of a finished trace: header counters and recorded events.
    (In a compact file `head` is the events the file holds.)"""
    header, evs = trace_events(path)
    head, = struct.unpack_from("<Q", header, 256)
    dropped, = struct.unpack_from("<Q", header, 384)
    capacity_lost, = struct.unpack_from("<Q", header, 680)
    frames = [f for c, _, f in evs if c == SHMT_CALL_SHMCTL]
    shmctl = len(frames)
    return {"head": head, "dropped": dropped, "capacity_lost": capacity_lost,
            "capacity": struct.unpack_from("<Q", header, 40)[0],
            "committed": len(evs), "shmctl": shmctl, "other": len(evs) - shmctl,
            "frames": (statistics.mean(frames) if want_frames and frames else None)}


# --------------------------------------------------------------------------
# Deep stacks: frames recorded, ns per frame
# --------------------------------------------------------------------------

FRAMES = {}     # (depth of recursion, tool) -> mean frames recorded


def deep_frames():
    k = 1000
    for d in DEEP:
        for tool in ("dflt", "d64"):
            try:
                trace = os.path.join(TMP, "deep.trace")
                run(wrap(tool, [WORKLOAD, "deep", str(d), str(k)], k, trace))
                FRAMES[(d, tool)] = read_trace(trace, True)["frames"]
            except (Failed, subprocess.TimeoutExpired) as e:
                note("deep %d frames: %s" % (d, e))


def per_frame(tool="d64", lo=8, hi=32):
    a, b = stat("deep%d" % lo, tool), stat("deep%d" % hi, tool)
    fa, fb = FRAMES.get((lo, tool)), FRAMES.get((hi, tool))
    if not (a and b and fa and fb) or fb <= fa:
        return None
    return (b["added_call"] - a["added_call"]) / (fb - fa)


# --------------------------------------------------------------------------
# Lost events: 8 processes x 8 threads, below and above capacity
# --------------------------------------------------------------------------

LOSS = {}


def loss_check():
    per = n(4000)
    calls = 8 * 8 * per
    args = [WORKLOAD, "tp", "8", "8", str(per)]
    try:
        trace = os.path.join(TMP, "below.trace")
        run(wrap("dflt", args, calls, trace))
        below = read_trace(trace)
        below["calls"] = calls
        below["size"] = region_size(calls, DEPTH)
        LOSS["below"] = below
        # a region with room for about half the calls
        small = 4096 + (calls // 2) * slot_size(DEPTH)
        small += small // 15
        trace = os.path.join(TMP, "above.trace")
        _, err, _ = run([LAUNCHER, "--force", "-o", trace, "--size", str(small),
                         "--"] + args)
        above = read_trace(trace)
        above["calls"] = calls
        above["size"] = small
        above["launcher_says"] = " ".join(
            l.strip() for l in err.splitlines() if "DROPPED" in l)
        LOSS["above"] = above
        if os.path.exists(VIEWER):
            for key, path in (("below", os.path.join(TMP, "below.trace")),
                              ("above", trace)):
                out, err, _ = run([VIEWER, "dump", "--json", path], check=False)
                LOSS[key]["viewer_lines"] = len(out.splitlines())
                LOSS[key]["viewer_warns"] = " ".join(
                    l.strip() for l in err.splitlines())[:200]
    except (Failed, subprocess.TimeoutExpired) as e:
        note("lost-event check: %s" % e)


# --------------------------------------------------------------------------
# System calls per iteration: bare vs traced
# --------------------------------------------------------------------------

SYSCALLS = {}
# Start-up is not quite deterministic under the shim (libunwind validates
# stack pages with mincore and masks signals around its cache on a miss), so
# a handful of calls may differ between the two counts: allow one extra call
# per 500 iterations, far below one per iteration.
SYSCALL_SLACK = 0.002
# What the shim adds on purpose: one fstat per object a call makes
# (shm_open, memfd_create), the object's (dev, inode) that every later
# route into it joins by.  The posix workload makes one per iteration.
SYSCALL_ALLOWED = {"posix": {"fstat": 1.0}}


def strace_counts(path):
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                try:
                    counts[parts[-1]] = int(parts[3])
                except ValueError:
                    pass
    return counts


def syscall_check():
    if not have("strace"):
        note("strace is not installed: the system-call check is skipped")
        return
    for name in ("sysv", "posix", "anon", "fail"):
        n1, n2 = (2000, 22000) if name == "fail" else (1000, 5000)
        res = {"n": (n1, n2)}
        for mode in ("bare", "traced"):
            c = {}
            for k in (n1, n2):
                out = os.path.join(TMP, "strace.%s.%d" % (mode, k))
                cmd = ["strace", "-f", "-c", "-o", out, WORKLOAD, name, str(k)]
                if mode == "traced":
                    cmd = [LAUNCHER, "-q", "--force", "-o", TRACE, "--size",
                           str(region_size(6 * k, DEPTH)), "--"] + cmd
                try:
                    run(cmd)
                except (Failed, subprocess.TimeoutExpired) as e:
                    note("syscall check %s %s: %s" % (name, mode, e))
                    return
                c[k] = strace_counts(out)
            names = set(c[n1]) | set(c[n2])
            per = {s: (c[n2].get(s, 0) - c[n1].get(s, 0)) / (n2 - n1)
                   for s in names}
            res[mode] = {s: v for s, v in per.items() if abs(v) > 1e-9}
            res[mode + "_fixed"] = round(sum(c[n1].values()) -
                                         n1 * sum(res[mode].values()))
        SYSCALLS[name] = res


# --------------------------------------------------------------------------
# The launcher's own start-up and write-out
# --------------------------------------------------------------------------

LAUNCH = {}


def launcher_cost():
    reps = max(REPS, 5)
    cases = [
        ("bare /bin/true", ["/bin/true"]),
        ("shmtrace -- /bin/true (default size, 272 MiB)",
         [LAUNCHER, "-q", "--force", "-o", TRACE, "--", "/bin/true"]),
        ("shmtrace --depth 0 -- /bin/true (136 MiB)",
         [LAUNCHER, "-q", "--force", "-o", TRACE, "--depth", "0", "--",
          "/bin/true"]),
        ("shmtrace --size 4M -- /bin/true",
         [LAUNCHER, "-q", "--force", "-o", TRACE, "--size", "4M", "--",
          "/bin/true"]),
        ("shmtrace -- /bin/true, not quiet (default: the exit summary)",
         [LAUNCHER, "--force", "-o", TRACE, "--", "/bin/true"]),
    ]
    for label, cmd in cases:
        walls = []
        for _ in range(reps):
            try:
                walls.append(run(cmd)[2])
            except (Failed, subprocess.TimeoutExpired) as e:
                note("launcher cost %s: %s" % (label, e))
                break
        LAUNCH[label] = med(walls)
    # a million events written out: wall minus loop, minus a bare start
    k = n(1000000)
    try:
        bare = []
        for _ in range(3):
            out, _, wall = run([WORKLOAD, "fail", str(k)])
            bare.append(wall - parse_loop(out)["loop_ns"] / 1e9)
        for key, quiet in (("million", ["-q"]), ("million_summary", [])):
            walls, loops = [], []
            for _ in range(3):
                out, _, wall = run([LAUNCHER] + quiet + [
                    "--force", "-o", TRACE, "--", WORKLOAD, "fail", str(k)])
                walls.append(wall)
                loops.append(parse_loop(out)["loop_ns"] / 1e9)
            LAUNCH[key] = {
                "events": k, "wall": med(walls), "loop": med(loops),
                "outside": med([w - l for w, l in zip(walls, loops)]) - med(bare),
                "size": os.path.getsize(TRACE),
            }
    except (Failed, subprocess.TimeoutExpired) as e:
        note("launcher write-out: %s" % e)


ATTACH = {}


def attach_bench():
    """shmtrace -p on examples/attach-target churning with 4 threads: how
    long its thread is stopped for the attach and the detach (the
    launcher says, measured from PTRACE_INTERRUPT to the release), and the
    time from the command to the first event of the target."""
    prog = os.path.join(BUILD, "examples", "attach-target")
    if not os.path.exists(prog):
        note("attach: %s is missing" % prog)
        return
    rows = {"attach": [], "detach": [], "first": []}
    for i in range(max(REPS, 5)):
        name = "%s-att-%d" % (TAG, i)
        key = 0x7e140000 + (os.getpid() + i) % 0x10000
        t = subprocess.Popen([prog, name, "0x%x" % key, "4"], text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            if t.stdout.readline().strip() != "ready":
                note("attach: the target did not start")
                return
            _, err, _ = run([LAUNCHER, "-p", str(t.pid), "--force", "-o",
                             TRACE, "--duration", "0.3"])
            m = re.findall(r"stopped ([\d.]+) ms at most", err)
            f = re.search(r"first event came ([\d.]+) ms", err)
            if len(m) == 2 and f:
                rows["attach"].append(float(m[0]))
                rows["detach"].append(float(m[1]))
                rows["first"].append(float(f.group(1)))
            t.stdin.write("quit\n")
            t.stdin.flush()
            t.wait(timeout=60)
        finally:
            if t.poll() is None:
                t.kill()
                t.wait()
    for k, v in rows.items():
        if v:
            ATTACH[k] = (med(v), max(v), len(v))


# --------------------------------------------------------------------------
# The viewer on a million events
# --------------------------------------------------------------------------

VIEW = {}


def viewer_commands():
    if not os.path.exists(VIEWER):
        return None
    out, err, _ = run([VIEWER, "--help"], check=False)
    text = out + err
    cmds = set(re.findall(r"^\s{2,}([a-z]+)\s{2,}", text, re.M))
    return cmds or {"dump"}


def rss_parts(pid):
    """(RssAnon, RssFile) of a running process in KiB, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None
    get = lambda k: int(re.search(k + r":\s+(\d+)", text).group(1))
    try:
        return get("RssAnon"), get("RssFile") + get("RssShmem")
    except AttributeError:
        return None


def timed_rss(cmd):
    """Runs cmd under /usr/bin/time, output thrown away: (seconds, peak RSS
    KiB as time -f %M says, peak anonymous RSS KiB sampled every 2 ms, exit
    status).  The peak RSS counts the pages of a trace the viewer maps,
    which are the page cache's and reclaimable, so the anonymous part (heap,
    stacks) is sampled beside it."""
    tf = os.path.join(TMP, "time.out")
    t0 = time.perf_counter()
    with open(os.devnull, "w") as null:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%e %M %x", "-o", tf] + cmd,
                             stdout=null, stderr=null)
    anon, child = 0, None
    deadline = time.monotonic() + TIMEOUT
    while p.poll() is None:
        if child is None:
            try:
                with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                    kids = f.read().split()
                child = int(kids[0]) if kids else None
            except OSError:
                pass
        parts = rss_parts(child) if child else None
        if parts:
            anon = max(anon, parts[0])
        if time.monotonic() > deadline:
            p.kill()
            p.wait()
            raise subprocess.TimeoutExpired(cmd, TIMEOUT)
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    with open(tf) as f:
        parts = f.read().split()
    # time prints "Command exited with non-zero status N" first when it did
    return wall, int(parts[-2]), anon, int(parts[-1])


def viewer_bench():
    cmds = viewer_commands()
    if cmds is None:
        note("build/shmview is not built (it failed to build when make bench "
             "ran): the viewer benchmarks are skipped")
        return
    if not os.path.exists("/usr/bin/time"):
        note("/usr/bin/time is not installed: the viewer benchmarks are "
             "skipped (make deps installs it)")
        return
    segs = n(100000)
    traces = {}
    for label, s in (("big", segs), ("small", max(1, segs // 10))):
        path = os.path.join(TMP, "viewer-%s.trace" % label)
        try:
            out, _, wall = run([LAUNCHER, "-q", "--force", "-o", path, "--size",
                                str(region_size(10 * s, DEPTH)), "--",
                                WORKLOAD, "gen", str(s)])
            info = read_trace(path)
            traces[label] = path
            VIEW["gen_" + label] = {"segments": s, "events": info["committed"],
                                    "bytes": os.path.getsize(path),
                                    "wall": wall,
                                    "loop": parse_loop(out)["loop_ns"] / 1e9}
        except (Failed, subprocess.TimeoutExpired) as e:
            note("generating the %s viewer trace: %s" % (label, e))
            return
    # 10k segments alive at once, for map: the map as it stood just before
    # the first shm_unlink
    hold = n(10000)
    prefix = TAG + "-hold"
    path = os.path.join(TMP, "viewer-hold.trace")
    try:
        run([LAUNCHER, "-q", "--force", "-o", path, "--size",
             str(region_size(5 * hold, DEPTH)), "--",
             WORKLOAD, "hold", str(hold), prefix])
        at = first_time_of(path, SHMT_CALL_SHM_UNLINK)
        if at is not None:
            traces["hold"] = path
            VIEW["hold_at"] = at - 1
            VIEW["hold_segments"] = hold
    except (Failed, subprocess.TimeoutExpired) as e:
        note("generating the map trace: %s" % e)
    finally:
        for f in os.listdir("/dev/shm"):
            if f.startswith(prefix + "-"):
                try:
                    os.unlink(os.path.join("/dev/shm", f))
                except FileNotFoundError:
                    pass        # a concurrent e2e run's leak check took it
    runs = [("dump", ["dump"]), ("dump --json", ["dump", "--json"])]
    if "report" in cmds:
        runs.append(("report", ["report"]))
    else:
        note("shmview has no report command yet: report is not measured")
    if "map" in cmds:
        runs.append(("map", ["map"]))
        if "hold" in traces:
            runs.append(("map --at", ["map", "--at", str(VIEW["hold_at"])]))
    else:
        note("shmview has no map command yet: map is not measured")
    reps = 1 if QUICK else 3
    for label, args in runs:
        for tname in (("hold",) if label == "map --at" else ("big", "small")):
            if tname not in traces:
                continue
            walls, rss, anon, rcs = [], [], [], set()
            for _ in range(reps):
                try:
                    w, r, a, rc = timed_rss([VIEWER] + args + [traces[tname]])
                except subprocess.TimeoutExpired:
                    note("shmview %s on the %s trace timed out" % (label, tname))
                    break
                walls.append(w)
                rss.append(r)
                anon.append(a)
                rcs.add(rc)
            if walls:
                VIEW[(label, tname)] = {"wall": med(walls), "rss_kib": max(rss),
                                        "anon_kib": max(anon),
                                        "rc": sorted(rcs)}


# --------------------------------------------------------------------------
# The viewer at scale: synthetic compact traces (bench/gen-trace.c)
# --------------------------------------------------------------------------

GEN = os.path.join(BUILD, "bench", "gen-trace")
LIVE_REFRESH = os.path.join(BUILD, "bench", "live-refresh")
AT_SCALE = {}


def gen_trace(name, events, procs, running=False):
    path = os.path.join(TMP, name)
    run([GEN, path, str(events), str(procs)] + (["--running"] if running else []))
    return path


def scale_bench():
    """report and dump on 1M and 10M churn events over 3000 processes,
    export on 10k and 100k processes, live's refresh after an append to a
    growing 10M-event trace."""
    if not (os.path.exists(VIEWER) and os.path.exists(GEN)):
        note("build/shmview or build/bench/gen-trace is missing: the scale "
             "benchmarks are skipped")
        return
    big = n(10000000)
    for label, events in (("small", big // 10), ("big", big)):
        path = gen_trace("scale-%s.trace" % label, events, 3000)
        AT_SCALE["events_" + label] = events
        AT_SCALE["bytes_" + label] = os.path.getsize(path)
        for cmd in ("report", "dump"):
            w, r, a, rc = timed_rss([VIEWER, cmd, path])
            AT_SCALE[(cmd, label)] = {"wall": w, "rss_kib": r, "anon_kib": a, "rc": rc}
        os.unlink(path)
    for procs in (n(10000), n(100000)):
        path = gen_trace("scale-export.trace", 14 * procs, procs)
        w, r, a, rc = timed_rss([VIEWER, "export", path])
        AT_SCALE[("export", procs)] = {"wall": w, "rss_kib": r, "rc": rc}
        os.unlink(path)
    if os.path.exists(LIVE_REFRESH):
        src = gen_trace("scale-live.trace", big, 3000, running=True)
        out, _, _ = run([LIVE_REFRESH, src, os.path.join(TMP, "scale-work.trace"),
                         "20", "3000"], check=False)
        AT_SCALE["live"] = dict(kv.split("=") for kv in out.split())
        os.unlink(src)


def scale_evaluate():
    r = AT_SCALE.get(("report", "big"))
    if r:
        ev = AT_SCALE["events_big"]
        ok = r["wall"] <= 10 and r["rss_kib"] <= 256 * 1024 and r["rc"] == 0
        target("report on %d events (synthetic churn, 3000 processes) ≤ 10 s, "
               "≤ 256 MiB peak RSS" % ev,
               "%.1f s, %.0f MiB (anonymous %.0f MiB)" % (
                   r["wall"], r["rss_kib"] / 1024, r["anon_kib"] / 1024), None,
               "PASS" if ok else "MISS (%.1fx the time, %.1fx the memory)" % (
                   r["wall"] / 10, r["rss_kib"] / (256 * 1024)))
    big, small = AT_SCALE.get(("dump", "big")), AT_SCALE.get(("dump", "small"))
    if big and small:
        ok = big["anon_kib"] <= small["anon_kib"] * 1.1 + 1024
        target("dump of %d events in constant memory (against %d: anonymous "
               "memory must not grow)" % (AT_SCALE["events_big"], AT_SCALE["events_small"]),
               "anonymous %.1f → %.1f MiB, peak RSS %.1f → %.1f MiB, %.1f s" % (
                   small["anon_kib"] / 1024, big["anon_kib"] / 1024,
                   small["rss_kib"] / 1024, big["rss_kib"] / 1024, big["wall"]), ok)
    a, b = AT_SCALE.get(("export", n(10000))), AT_SCALE.get(("export", n(100000)))
    if a and b:
        k = b["wall"] / max(a["wall"], 1e-3)
        target("export is linear: 10x the processes (%d → %d) ≤ 15x the time"
               % (n(10000), n(100000)),
               "%.2f s → %.2f s (%.1fx), %.0f MiB" % (a["wall"], b["wall"], k,
                                                     b["rss_kib"] / 1024),
               k <= 15 and b["rc"] == 0)
    lv = AT_SCALE.get("live")
    if lv:
        med_ms = float(lv["refresh_median_ms"])
        target("live on a growing %s-event trace takes in an append ≤ 100 ms "
               "(trace_refresh + model_extend + reconcile; drawing not included)"
               % lv["events"],
               "median %.1f ms, max %s ms over %s appends of 3000 bytes (%s "
               "extended); a full rebuild: %s ms" % (
                   med_ms, lv["refresh_max_ms"], lv["pieces"], lv["extended"],
                   lv["build_ms"]),
               med_ms <= 100 and lv["extended"] == lv["pieces"])


# --------------------------------------------------------------------------
# Instructions per call (callgrind: independent of machine noise)
# --------------------------------------------------------------------------

IR = {}


def callgrind_ir(cmd):
    _, err, _ = run(cmd, env=env_no_debuginfod())
    m = re.search(r"Collected : (\d+)", err)
    if not m:
        raise Failed("no callgrind total in: %r" % err[-300:])
    return int(m.group(1))


def callgrind_bench():
    if not CALLGRIND:
        return
    if not have("valgrind"):
        note("valgrind is not installed: instruction counts are skipped")
        return
    n1, n2 = 2000, 12000
    for label, args, tool in (("fail", ["fail"], "d0"),
                              ("fail", ["fail"], "dflt"),
                              ("deep8", ["deep", "8"], "dflt"),
                              ("deep32", ["deep", "32"], "d64"),
                              ("private", ["private"], "dflt")):
        try:
            per = {}
            for mode in ("bare", tool):
                ir = {}
                for k in (n1, n2):
                    cg = ["valgrind", "--tool=callgrind",
                          "--callgrind-out-file=/dev/null", WORKLOAD] + args + [str(k)]
                    ir[k] = callgrind_ir(wrap(mode, cg, k) if mode != "bare" else cg)
                per[mode] = (ir[n2] - ir[n1]) / (n2 - n1)
                if label == "private":
                    per[mode] /= 2          # two pass-through calls
            IR[(label, tool)] = (per["bare"], per[tool])
        except (Failed, subprocess.TimeoutExpired) as e:
            note("callgrind %s %s: %s" % (label, tool, e))
            return


# --------------------------------------------------------------------------
# Where the time goes (perf), when a target is missed
# --------------------------------------------------------------------------

PROFILES = []


def perf_profile(label, tool, args, events):
    if not have("perf"):
        note("perf is not installed: no profile (make deps installs linux-perf)")
        return
    data = os.path.join(TMP, "perf.data")
    try:
        run(["perf", "record", "-q", "-F", "10000", "-g", "-o", data, "--"] +
            wrap(tool, [WORKLOAD] + args, events))
        out, _, _ = run(["perf", "report", "-i", data, "--stdio", "--no-children",
                         "--comm", "workload", "--percentage", "relative",
                         "--sort", "dso,sym", "-g", "none"], check=False)
        by_mod, _, _ = run(["perf", "report", "-i", data, "--stdio",
                            "--no-children", "--sort", "comm,dso", "-g", "none"],
                           check=False)
    except (Failed, subprocess.TimeoutExpired) as e:
        note("perf profile %s: %s" % (label, e))
        return
    top = []
    for line in out.splitlines():
        m = re.match(r"\s+(\d+\.\d+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if m:
            dso = os.path.basename(m.group(2))
            top.append((float(m.group(1)), dso, m.group(4).strip()))
        if len(top) >= 15:
            break
    # by module, within the workload; and the share of every process
    mods, comms = {}, {}
    for line in by_mod.splitlines():
        m = re.match(r"\s+(\d+\.\d+)%\s+(\S+)\s+(\S+)\s*$", line)
        if m:
            pct, comm, mod = float(m.group(1)), m.group(2), m.group(3)
            comms[comm] = comms.get(comm, 0) + pct
            if comm == "workload":
                mod = os.path.basename(mod)
                mods[mod] = mods.get(mod, 0) + pct
    total = comms.get("workload", 0) or 1
    dsos = ", ".join("%s %.0f%%" % (k, 100 * v / total) for k, v in
                     sorted(mods.items(), key=lambda kv: -kv[1])[:5])
    procs = ", ".join("%s %.0f%%" % kv for kv in
                      sorted(comms.items(), key=lambda kv: -kv[1])[:3])
    samples = re.search(r"# Samples: (\S+)", by_mod)
    PROFILES.append((label, top, dsos, procs,
                     samples.group(1) if samples else "?"))


# --------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------

TARGETS = []    # (target, measured, verdict)


def verdict(ok, value, limit, unit="", lower_is_better=True):
    if value is None:
        return "n/a"
    if ok:
        return "PASS"
    if lower_is_better and limit:
        return "MISS by %.0f%% (%.0f over %.0f)" % (
            100.0 * (value - limit) / limit, value, limit)
    if limit:
        return "MISS (%.2g of the %.2g wanted)" % (value, limit)
    return "MISS"


def ratio_verdict(v, lim):
    if v <= lim:
        return "PASS"
    return "MISS: +%.1f%% overhead, +%.0f%% allowed" % (100 * (v - 1),
                                                        100 * (lim - 1))


def target(what, measured, ok, how=None):
    TARGETS.append((what, measured, how if how is not None else
                    ("PASS" if ok else "MISS") if ok is not None else "n/a"))


def cpu_too(s):
    return "%s %s (CPU time: %s %s)" % (fmt_ratio(s["ratio"]), s["ratio_spread"],
                                        fmt_ratio(s["cpu_ratio"]), s["cpu_spread"])


def evaluate():
    for k in ("attach", "detach"):
        if k in ATTACH:
            v = ATTACH[k][1]
            target("target stopped during the %s (worst) ≤ 100 ms" % k,
                   "%.1f ms" % v, v <= 100)
    s = stat("fail", "d0")
    if s:
        v = s["added_call"]
        target("added cost per call, no stacks (fail) ≤ 100 ns",
               "%s (CPU time: %s)" % (fmt_ns(v), fmt_ns(s["cpu_added_call"])),
               None, verdict(v <= 100, v, 100))
    for key in ("deep8", "fail"):
        s = stat(key, "dflt")
        if s:
            v = s["added_call"]
            fr = FRAMES.get((8, "dflt")) if key == "deep8" else None
            what = ("added cost per call, depth %d, typical stack (%s%s) ≤ 500 ns"
                    % (DEPTH, key, ", %.0f frames" % fr if fr else ""))
            target(what, "%s (CPU time: %s)" % (fmt_ns(v),
                   fmt_ns(s["cpu_added_call"])), None, verdict(v <= 500, v, 500))
    for key in ("sysv", "posix", "anon"):
        for tool, lim in (("d0", 1.05), ("dflt", 1.25)):
            s = stat(key, tool)
            if s:
                v = s["ratio"]
                target("%s churn, %s ≤ %.2fx" % (key, TOOL_LABEL[tool], lim),
                       cpu_too(s), None, ratio_verdict(v, lim))
    for key in ("private", "malloc"):
        for tool in ("d0", "dflt"):
            s = stat(key, tool)
            if s:
                v = s["ratio"]
                target("%s, %s ≤ 1.02x" % (key, TOOL_LABEL[tool]),
                       cpu_too(s), None, ratio_verdict(v, 1.02))
    for other, want in (("strace", 20), ("strace-k", 200)):
        for key in ("sysv", "posix", "anon", "fail"):
            a, b = stat(key, other), stat(key, "dflt")
            if not (a and b):
                continue
            shim = b["added_iter"]
            if shim <= 0:
                target("%s: %dx less added time than %s" % (key, want,
                       TOOL_LABEL[other]), "shim's added time within noise "
                       "(≤ 0)", None, "PASS")
                continue
            v = a["added_iter"] / shim
            target("%s: ≥ %dx less added time than %s (vs shim at depth %d)"
                   % (key, want, TOOL_LABEL[other], DEPTH), "%.0fx" % v, None,
                   "PASS" if v >= want else "MISS (%.0fx of the %dx wanted)"
                   % (v, want))
    for key, r in SYSCALLS.items():
        b, t = sum(r["bare"].values()), sum(r["traced"].values())
        allowed = SYSCALL_ALLOWED.get(key, {})
        ok = t <= b + sum(allowed.values()) + SYSCALL_SLACK
        extra = ["+%.2f %s" % (r["traced"].get(c, 0) - r["bare"].get(c, 0), c)
                 for c in sorted(set(r["traced"]) | set(r["bare"]))
                 if r["traced"].get(c, 0) - r["bare"].get(c, 0) > SYSCALL_SLACK]
        what = ("no more system calls per iteration traced than bare" if not allowed
                else "no more system calls per iteration traced than bare, but %s"
                % ", ".join("%g %s (the object's identity)" % (v, c)
                            for c, v in sorted(allowed.items())))
        target("%s: %s" % (key, what),
               "bare %.4f, traced %.4f%s" % (b, t, " (%s)" % ", ".join(extra)
                                              if extra else ""), ok)
    if "below" in LOSS:
        b = LOSS["below"]
        ok = b["dropped"] == 0 and b["shmctl"] == b["calls"] and \
            b["committed"] == b["head"]
        target("zero events lost below capacity, 8 processes x 8 threads",
               "%d calls, %d recorded, %d dropped" % (b["calls"], b["shmctl"],
                                                       b["dropped"]), ok)
    if "above" in LOSS and "below" in LOSS:
        a, b = LOSS["above"], LOSS["below"]
        expect = a["calls"] + b["other"]
        # in a compact file `head` is the events it holds: each recorded
        # event is there, and recorded + dropped is what was made (the
        # launcher's own capacity samples lost to the full region are
        # counted apart, in capacity_lost)
        lost = a["dropped"] + a["capacity_lost"]
        ok = a["committed"] + lost == expect and a["committed"] == a["head"]
        target("exact drop count above capacity",
               "%d recorded + %d dropped (%d of them the launcher's samples) = %d "
               "(events made: %d)" % (a["committed"], lost, a["capacity_lost"],
                                      a["committed"] + lost, expect), ok)
    for label in ("report",):
        r = VIEW.get((label, "big"))
        if r:
            ev = VIEW["gen_big"]["events"]
            ok = r["wall"] <= 2.0 and r["rss_kib"] <= 256 * 1024 and r["rc"] == [0]
            target("report on %d events ≤ 2 s, ≤ 256 MiB peak RSS" % ev,
                   "%.2f s, %.0f MiB (anonymous %.0f MiB)%s" % (
                       r["wall"], r["rss_kib"] / 1024, r["anon_kib"] / 1024,
                       "" if r["rc"] == [0] else ", exit status %s" % r["rc"]),
                   ok)
        elif "gen_big" in VIEW:
            target("report on a million events ≤ 2 s, ≤ 256 MiB",
                   "not measured: no report command", None, "n/a")
    for label in ("dump", "dump --json"):
        big, small = VIEW.get((label, "big")), VIEW.get((label, "small"))
        if not (big and small):
            continue
        ok = big["anon_kib"] <= small["anon_kib"] * 1.1 + 1024
        target("%s streams in constant memory (10x the events: anonymous "
               "memory must not grow)" % label,
               "anonymous %.1f → %.1f MiB; all RSS (with the mapped trace's "
               "page cache) %.1f → %.1f MiB" % (
                   small["anon_kib"] / 1024, big["anon_kib"] / 1024,
                   small["rss_kib"] / 1024, big["rss_kib"] / 1024), ok)
    r = VIEW.get(("map --at", "hold"))
    if r:
        target("map with %d live segments ≤ 50 ms (`shmview map --at`, the "
               "whole command: reading and replaying the trace included)" %
               VIEW["hold_segments"], "%.0f ms" % (r["wall"] * 1000),
               r["wall"] <= 0.05 and r["rc"] == [0])
    elif VIEW:
        target("live map redraws in ≤ 50 ms with 10k segments",
               "not measured: no map command", None, "n/a")


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1048576)
    except OSError:
        pass
    clk = "?"
    try:
        with open("/sys/devices/system/clocksource/clocksource0/"
                  "current_clocksource") as f:
            clk = f.read().strip()
    except OSError:
        pass
    ver = {}
    for tool, args in (("strace", ["-V"]), ("ltrace", ["-V"]),
                       ("valgrind", ["--version"])):
        if have(tool):
            out, err, _ = run([tool] + args, check=False)
            ver[tool] = (out + err).splitlines()[0].strip() if (out + err) else "?"
    cc = "?"
    try:
        cc = run(["cc", "--version"], check=False)[0].splitlines()[0]
    except (OSError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "mem": mem, "clocksource": clk, "tools": ver, "cc": cc}


def uptime():
    try:
        return run(["uptime"], check=False)[0].strip()
    except OSError:
        return "?"


def matrix_table(slow):
    cols = ["bare", "d0", "dflt"] + slow
    header = ["workload", "calls/iter", "bare ns/iter"] + \
        [TOOL_LABEL[c] for c in cols[1:]] + \
        ["added/call, no stacks", "added/call, depth %d" % DEPTH]
    rows = []
    for name, _, cpi, count, counts, _ in WORKLOADS:
        b = stat(name, "bare")
        if not b:
            continue
        row = [name, cpi, fmt_ns(b["ns_iter"])]
        for c in cols[1:]:
            s = stat(name, c)
            row.append("%s %s" % (fmt_ratio(s["ratio"]), s["ratio_spread"])
                       if s else "—")
        for c in ("d0", "dflt"):
            s = stat(name, c)
            if s and cpi:
                row.append(fmt_ns(s["added_call"]))
            elif s:
                row.append("%s/iter" % fmt_ns(s["added_iter"]))
            else:
                row.append("—")
        rows.append(row)
    return table(header, rows)


def deep_table():
    header = ["workload", "bare ns/call", "shim, no stacks",
              "shim, depth %d" % DEPTH, "shim, depth 64",
              "frames kept (depth %d / 64)" % DEPTH]
    rows = []
    for d in DEEP:
        key = "deep%d" % d
        b = stat(key, "bare")
        if not b:
            continue
        row = ["%d frames down" % d, fmt_ns(b["ns_iter"])]
        for tool in ("d0", "dflt", "d64"):
            s = stat(key, tool)
            row.append("+%s (%s)" % (fmt_ns(s["added_call"]), fmt_ratio(s["ratio"]))
                       if s else "—")
        f1, f2 = FRAMES.get((d, "dflt")), FRAMES.get((d, "d64"))
        row.append("%s / %s" % ("%.0f" % f1 if f1 else "?",
                                "%.0f" % f2 if f2 else "?"))
        rows.append(row)
    return table(header, rows)


def conc_table():
    header = ["workload", "bare ns/call (all)", "shim, no stacks",
              "shim, depth %d" % DEPTH, "faults per 1000 events (depth %d)"
              % DEPTH]
    rows = []
    for key, label in (("threads8", "8 threads x %d calls" % CONC_N),
                       ("procs8", "8 processes x %d calls" % CONC_N)):
        b = stat(key, "bare")
        if not b:
            continue
        per_call = b["ns_iter"] / 8
        row = [label, fmt_ns(per_call)]
        for tool in ("d0", "dflt"):
            s = stat(key, tool)
            row.append("%s %s (+%s per call)" % (
                fmt_ratio(s["ratio"]), s["ratio_spread"],
                fmt_ns(s["added_iter"] / 8)) if s else "—")
        s = stat(key, "dflt")
        row.append("%.1f" % s["faults_per_1k"] if s and
                   s["faults_per_1k"] is not None else "—")
        rows.append(row)
    return table(header, rows)


def faults_table():
    header = ["workload", "tool", "extra minor faults per 1000 calls"]
    rows = []
    for key in ("fail", "sysv", "deep8"):
        for tool in ("d0", "dflt", "d64"):
            s = stat(key, tool)
            if s and s["faults_per_1k"] is not None:
                rows.append([key, TOOL_LABEL[tool], "%.1f" % s["faults_per_1k"]])
    return table(header, rows)


def write_report(mach, load_before, load_after, started, elapsed, slow):
    L = []
    add = L.append
    add("# shmtrace benchmarks")
    add("")
    add("Written by `make bench` (bench/run.py) on %s, in %.0f s%s. "
        "Re-run it to refresh; `BENCH_QUICK=1` for a quick look." %
        (started.strftime("%Y-%m-%d %H:%M UTC"), elapsed,
         (" (QUICK: smaller counts)" if QUICK else "") +
         (" (only: %s)" % ", ".join(sorted(ONLY)) if ONLY else "")))
    add("")
    add("## Machine")
    add("")
    add("- %s CPUs (nproc), %s, %s RAM; kernel %s; clock source %s" %
        (mach["nproc"], mach["cpu"], mach["mem"], mach["kernel"],
         mach["clocksource"]))
    add("- measured: %s" % mach["build"])
    add("- compiler: %s" % mach["cc"])
    for t, v in mach["tools"].items():
        add("- %s: %s" % (t, v))
    add("- load before: `%s`" % load_before)
    add("- load after: `%s`" % load_after)
    add("- %d repetitions of the main matrix; in each, the shim runs of the "
        "six main workloads come %d times between two bare runs and are "
        "compared with their mean; the slow tools with a bare run of the "
        "same count. Every figure is the median over these; ±N%% is half "
        "the min-max spread of the ratio." % (REPS, INNER))
    add("")
    add("Times come from the workload's own loop clock (bench/workload.c), so "
        "process start-up and the launcher's set-up and write-out are not in "
        "them; those are measured on their own below. Under the shim the "
        "region is sized to fit the run (`--size`), not the default 272 MiB. "
        "strace and ltrace write to /dev/null.")
    add("")
    add("## Targets (issue 6)")
    add("")
    add(table(["target", "measured", "verdict"], TARGETS))
    add("")
    add("## Workloads: ratio to bare, added time per intercepted call")
    add("")
    for name, _, cpi, count, counts, desc in WORKLOADS:
        add("- `%s` (%d iterations; strace -f %d, -k %d, ltrace %d): %s" %
            (name, count, counts["strace"], counts["strace-k"], counts["ltrace"],
             desc))
    add("")
    add(matrix_table(slow))
    add("")
    add("Whole-command wall-clock ratios (process start, the launcher's set-up "
        "and write-out included), median: " + ", ".join(
            "%s %s/%s" % (name, fmt_ratio((stat(name, "d0") or {}).get("wall_ratio")),
                          fmt_ratio((stat(name, "dflt") or {}).get("wall_ratio")))
            for name, *_ in WORKLOADS if stat(name, "d0")) +
        " (no stacks / depth %d)." % DEPTH)
    add("")
    add("## Deep stacks")
    add("")
    add("`workload deep D N`: N failing shmctl calls made D frames below main.")
    add("")
    add(deep_table())
    add("")
    pf = per_frame("d64")
    add("Cost per frame kept (depth 64, between 8 and 32 frames down): %s; "
        "the rest of a backtrace's cost is fixed (setting up the walk, and the "
        "shim's own frames, walked and dropped). At depth %d the walk stops "
        "after %d frames, so deeper stacks cost no more." % (
            ("%.1f ns" % pf) if pf is not None else "?", DEPTH, DEPTH + 8))
    add("")
    add("## 8 threads, 8 processes at once")
    add("")
    add(conc_table())
    add("")
    if LOSS:
        add("Lost events, `workload tp 8 8 %d` (8 processes x 8 threads) at "
            "depth %d:" % (LOSS.get("below", LOSS.get("above"))["calls"] // 64,
                           DEPTH))
        add("")
        rows = []
        for key in ("below", "above"):
            r = LOSS.get(key)
            if not r:
                continue
            rows.append([key + " capacity", r["size"], r["calls"], r["head"],
                         r["committed"], r["shmctl"], r["other"], r["dropped"],
                         r.get("viewer_lines", "—"),
                         (r.get("viewer_warns") or "—").replace("|", "/")])
        add(table(["region", "--size", "shmctl calls made", "head (events made)",
                   "recorded", "shmctl recorded", "other events", "dropped",
                   "`dump --json` lines", "dump's stderr"], rows))
        if LOSS.get("above", {}).get("launcher_says"):
            add("")
            add("The launcher said: `%s`" % LOSS["above"]["launcher_says"])
        add("")
    add("## System calls per iteration (`strace -f -c`, bare vs traced)")
    add("")
    add("Counted at two iteration counts (given) and differenced, so "
        "start-up calls (the shim's own set-up included) cancel out; a "
        "difference under %.3f per iteration is start-up noise." % SYSCALL_SLACK)
    add("")
    rows = []
    for key, r in SYSCALLS.items():
        fb = ", ".join("%s %.2f" % (s, v) for s, v in sorted(r["bare"].items()))
        ft = ", ".join("%s %.2f" % (s, v) for s, v in sorted(r["traced"].items()))
        rows.append(["%s (%d, %d)" % ((key,) + r["n"]),
                     "%.4f" % sum(r["bare"].values()),
                     "%.4f" % sum(r["traced"].values()), fb,
                     "same" if r["bare"] == r["traced"] else ft,
                     "%d / %d" % (r["bare_fixed"], r["traced_fixed"])])
    add(table(["workload", "bare", "traced", "bare, by call", "traced, by call",
               "start-up calls bare / traced"], rows))
    add("")
    add("## The launcher's own cost")
    add("")
    rows = [[k, "%.1f ms" % (v * 1000)] for k, v in LAUNCH.items()
            if not k.startswith("million") and v is not None]
    add(table(["command", "wall (median)"], rows))
    m, m2 = LAUNCH.get("million"), LAUNCH.get("million_summary")
    if m:
        add("")
        add("A run of %d failing calls at the default size and depth, with "
            "`-q`: %.2f s wall, of which the loop %.2f s; start-up and "
            "write-out of the %.0f MiB trace take %.2f s beyond a bare run's%s. "
            "For a short run this fixed cost, not the per-call cost, is what "
            "a user sees." %
            (m["events"], m["wall"], m["loop"], m["size"] / 1048576,
             m["outside"],
             "; without `-q` (the exit summary) %.2f s" % m2["outside"]
             if m2 else ""))
    if ATTACH:
        add("")
        add("## Attaching (`shmtrace -p`)")
        add("")
        labels = {"attach": "target thread stopped for the attach",
                  "detach": "target thread stopped for the detach",
                  "first": "command to the first event of the target"}
        add(table(["what (attach-target, 4 churning threads)", "median",
                   "worst", "runs"],
                  [[labels[k], "%.1f ms" % v[0], "%.1f ms" % v[1], str(v[2])]
                   for k, v in ATTACH.items()]))
    add("")
    add("## Viewer")
    add("")
    if VIEW:
        for key in ("gen_big", "gen_small"):
            g = VIEW.get(key)
            if g:
                add("- %s trace: `workload gen %d` at depth %d: %d events, %d "
                    "segments, %.0f MiB (traced run %.1f s wall, loop %.1f s)" %
                    ("big" if key == "gen_big" else "small", g["segments"],
                     DEPTH, g["events"], g["segments"], g["bytes"] / 1048576,
                     g["wall"], g["loop"]))
        add("")
        rows = []
        for (label, tname), r in sorted((k, v) for k, v in VIEW.items()
                                        if isinstance(k, tuple)):
            ev = {"big": VIEW.get("gen_big", {}).get("events"),
                  "small": VIEW.get("gen_small", {}).get("events")}.get(tname)
            rows.append(["`shmview %s`" % label,
                         "%s events" % ev if ev else
                         "%d live segments" % VIEW.get("hold_segments", 0),
                         "%.2f s" % r["wall"], "%.1f MiB" % (r["rss_kib"] / 1024),
                         "%.1f MiB" % (r["anon_kib"] / 1024),
                         "/".join(str(c) for c in r["rc"])])
        add(table(["command", "trace", "time (median)", "peak RSS",
                   "peak anonymous RSS", "exit status"], rows))
        add("")
        add("Peak RSS is the kernel's ru_maxrss (what `/usr/bin/time -f %M` "
            "prints): it counts the pages of the trace file the viewer maps, "
            "which belong to the page cache and are reclaimable. The "
            "anonymous part (heap, stacks) is sampled every 2 ms.")
    else:
        add("Not measured (see the notes).")
    add("")
    if IR:
        add("## Instructions per call (callgrind)")
        add("")
        add("User-space instructions only (no kernel, no page faults): "
            "repeatable whatever else the machine does.")
        add("")
        rows = [[k, TOOL_LABEL[t], "%.0f" % b, "%.0f" % v, "+%.0f" % (v - b)]
                for (k, t), (b, v) in IR.items()]
        add(table(["workload", "tool", "bare Ir/call", "traced Ir/call",
                   "added"], rows))
        add("")
    add("## Minor page faults taken by the traced program")
    add("")
    add("Counted by the workload itself (getrusage) over its loop, minus the "
        "bare run's. A write fault on every 4 KiB page of the region the "
        "program writes would be %.1f per 1000 events with no stacks (%d-byte "
        "slots), %.1f at depth %d (%d-byte slots) and %.1f at depth 64." % (
            1000 * slot_size(0) / 4096, slot_size(0),
            1000 * slot_size(DEPTH) / 4096, DEPTH, slot_size(DEPTH),
            1000 * slot_size(64) / 4096))
    add("")
    add(faults_table())
    add("")
    if PROFILES:
        add("## Profiles (perf record -g, cpu-clock; the traced workload only)")
        add("")
        add("Samples of every process of the run are taken; the entries are "
            "the traced workload's. The launcher's share is its set-up, the "
            "pre-faulting of the region and the write-out, on the other "
            "core.")
        add("")
        for label, top, dsos, procs, samples in PROFILES:
            add("`%s`: %s samples, by process %s; the workload's by module: "
                "%s" % (label, samples, procs, dsos))
            add("")
            add("```")
            for pct, dso, sym in top:
                add("%6.2f%%  %-22s %s" % (pct, dso, sym))
            add("```")
            add("")
    if SERVER:
        add("## A network server: nginx requests/s (wrk on loopback)")
        add("")
        add("nginx, 1 worker, `return 200`; `wrk -t2 -c32 -d%ds`, %d runs each, "
            "alternated; the median. Under the shim every sendmsg/recvmsg, "
            "read, write and accept goes through the shim's interposed symbols "
            "where it has them (sendmsg and recvmsg since issue 12: one test of "
            "msg_controllen when no descriptor is passed)." % (
                SERVER_SECONDS[0], max(len(v) for v in SERVER.values())))
        add("")
        rows = [[k, "%.0f" % med(v), " ".join("%.0f" % x for x in v)]
                for k, v in SERVER.items()]
        add(table(["run", "requests/s (median)", "each run"], rows))
        add("")
    if NOTES:
        add("## Notes")
        add("")
        for t in NOTES:
            add("- " + t)
        add("")
    return "\n".join(L)


SERVER = {}             # label -> requests/s of each run
SERVER_SECONDS = [4]
NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %(dir)s/body;
  proxy_temp_path %(dir)s/proxy;
  fastcgi_temp_path %(dir)s/fcgi;
  uwsgi_temp_path %(dir)s/uwsgi;
  scgi_temp_path %(dir)s/scgi;
  server { listen 127.0.0.1:%(port)d; location / { return 200 "hello\\n"; } }
}
"""


def server_once(traced, port, d):
    import socket
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % {"dir": d, "port": port})
    argv = ["/usr/sbin/nginx", "-c", conf, "-p", d]
    if traced:
        argv = [LAUNCHER, "-q", "--force", "-o", TRACE, "--"] + argv
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % SERVER_SECONDS[0],
                              "http://127.0.0.1:%d/" % port], capture_output=True,
                             text=True, timeout=60).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        return float(m.group(1)) if m else None
    finally:
        try:
            with open(os.path.join(d, "nginx.pid")) as f:
                os.kill(int(f.read()), signal.SIGQUIT)
        except (OSError, ValueError):
            os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=30)


def server_bench():
    """nginx requests/s bare and under the shim (wrk on loopback)."""
    import socket
    if not (have("wrk") and os.path.exists("/usr/sbin/nginx")):
        note("server: wrk or nginx not installed: skipped (make deps)")
        return
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d = os.path.join(TMP, "nginx")
    os.makedirs(d, exist_ok=True)
    for _ in range(max(3, REPS)):
        for label, traced in (("bare", False), ("under the shim", True)):
            r = server_once(traced, port, d)
            if r:
                SERVER.setdefault(label, []).append(r)


def snapshot():
    """Copies the launcher, the shim and the viewer aside and uses the
    copies: build/ is shared, and a rebuild in the middle of a run would
    otherwise mix two versions in one table.  Returns what was measured."""
    global LAUNCHER, VIEWER, WORKLOAD
    d = os.path.join(TMP, "bin")
    os.mkdir(d)
    for src in (LAUNCHER, os.path.join(BUILD, "libshmtrace.so"), VIEWER,
                WORKLOAD):
        if os.path.exists(src):
            shutil.copy2(src, d)
    LAUNCHER = os.path.join(d, "shmtrace")
    VIEWER = os.path.join(d, "shmview")
    WORKLOAD = os.path.join(d, "workload")
    # the shim beside the launcher, the viewer beside it for the summary
    for var in ("SHMTRACE_LIB", "SHMTRACE_VIEWER", "SHMTRACE_DEPTH",
                "LD_PRELOAD"):
        os.environ.pop(var, None)
    rev = "?"
    try:
        rev = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                  check=False)[0].strip() or "?"
        dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--",
                     "common", "shim", "launcher", "viewer"],
                    check=False)[0].strip()
        if dirty:
            rev += " (the sources are modified)"
    except OSError:
        pass
    lib = os.path.join(BUILD, "libshmtrace.so")
    built = datetime.datetime.fromtimestamp(
        os.path.getmtime(lib), datetime.timezone.utc).strftime("%H:%M UTC")
    return "commit %s; libshmtrace.so built %s" % (rev, built)


def main():
    for path in (LAUNCHER, WORKLOAD, os.path.join(BUILD, "libshmtrace.so")):
        if not os.path.exists(path):
            sys.exit("bench: %s is missing: run make bench" % path)
    global TMP, TRACE
    TMP = tempfile.mkdtemp(prefix=TAG + "-", dir=os.path.dirname(WORKLOAD))
    TRACE = os.path.join(TMP, "run.trace")
    build = snapshot()
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.time()
    load_before = uptime()
    mach = machine()
    log("shmtrace benchmarks: %d repetitions%s; %s CPUs; load: %s" %
        (REPS, " (quick)" if QUICK else "", mach["nproc"], load_before))
    slow = slow_tools()
    try:
        if part("matrix"):
            run_matrix(slow)
            log("deep stacks: frames recorded")
            deep_frames()
        if part("loss"):
            log("lost events: 8 processes x 8 threads")
            loss_check()
        if part("syscalls"):
            log("system calls per iteration")
            syscall_check()
        if part("launcher"):
            log("launcher start-up and write-out")
            launcher_cost()
        if part("attach"):
            log("shmtrace -p: stop times")
            attach_bench()
        if part("viewer"):
            log("viewer")
            viewer_bench()
        if part("scale"):
            log("the viewer at scale (synthetic 10M-event traces)")
            scale_bench()
        if part("callgrind"):
            log("instructions per call (callgrind)")
            callgrind_bench()
        if part("server"):
            log("nginx under wrk")
            server_bench()
        evaluate()
        scale_evaluate()
        missed = any(v.startswith("MISS") for _, _, v in TARGETS)
        if PROFILE and (missed and not ONLY or "profile" in ONLY):
            log("profiles (a target was missed)")
            k = n(2000000)
            perf_profile("workload fail %d, no stacks" % k, "d0",
                         ["fail", str(k)], k)
            k = n(1000000)
            perf_profile("workload deep 8 %d, depth %d" % (k, DEPTH), "dflt",
                         ["deep", "8", str(k)], k)
            k = n(20000)
            perf_profile("workload posix %d, depth %d" % (k, DEPTH), "dflt",
                         ["posix", str(k)], 6 * k)
        load_after = uptime()
        mach["build"] = build
        text = write_report(mach, load_before, load_after, started,
                            time.time() - t0, slow)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    # the terminal gets the targets and the main table
    print()
    print(table(["target", "measured", "verdict"], TARGETS))
    print()
    print(matrix_table(slow))
    print()
    print("full results: %s" % os.path.relpath(OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
