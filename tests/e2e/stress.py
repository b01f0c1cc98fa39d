#!/usr/bin/env python3
"""Stress and fault tests: 8 threads churning every call family while a
timer signal's handler maps shared memory, a region that fills up, a fork
storm with inherited attachments, a child killed by SIGKILL in the middle
of its calls, an exec chain that drops and re-adds LD_PRELOAD.  The
program's results must not change, the trace must stay readable, and
recorded plus dropped events must add up exactly.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Fatal, check, run, traced, bare, free_key,  # noqa: E402
                     remove_key, remove_shmid, report_json, example, VIEWER)

TESTS, test = harness.registry()


def figure(what, value):
    print("# figure: %s: %s" % (what, value), flush=True)


def program_counts(stderr):
    m = re.search(rb"calls: (.*)", stderr)
    if not m:
        raise Fatal("no call counts on stderr: %r" % stderr[-300:])
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).decode().split())}


def header(path):
    with open(path, "rb") as f:
        h = f.read(4096)
    return {"head": struct.unpack_from("<Q", h, 256)[0],
            "dropped": struct.unpack_from("<Q", h, 384)[0],
            "capacity": struct.unpack_from("<Q", h, 40)[0]}


THREADS, ROUNDS = 8, 40


@test("stress-threads")
def t_threads():
    b = bare("stress", "threads", THREADS, ROUNDS)
    t = traced("stress", "threads", THREADS, ROUNDS, opts=["--size", "64M"])
    check(t.rc == b.rc == 0 and t.out == b.out,
          "stress-threads: %d threads x every call family + signal handler: "
          "output unchanged" % THREADS, t.why())
    want = program_counts(t.err)
    got = {}
    for e in t.events:
        got[e["call"]] = got.get(e["call"], 0) + 1
    diff = {k: (v, got.get(k, 0)) for k, v in want.items() if got.get(k, 0) != v}
    check(not diff, "stress-threads: every call recorded exactly once (%d calls)"
          % sum(want.values()), "want/got %s" % diff)
    check(got.get("thread_start") == THREADS and got.get("thread_exit") == THREADS,
          "stress-threads: each thread's start and end", str(got))
    res = run([VIEWER, "dump", t.path])
    check(res.rc == 0 and b"warning" not in res.err,
          "stress-threads: the trace reads back whole: nothing dropped or abandoned",
          res.err.decode(errors="replace")[-300:])
    figure("stress 8 threads x 40 rounds + SIGALRM handler",
           "%d calls, %d events, 0 dropped" % (sum(want.values()), len(t.events)))


@test("stress-full")
def t_full():
    """A region too small: what is kept plus what is dropped is exact."""
    t = traced("stress", "threads", THREADS, ROUNDS, opts=["--size", "256K"],
               label="stress-full")
    check(t.rc == 0, "stress-full: the program runs to the end when the region fills",
          t.why())
    want = program_counts(t.err)
    h = header(t.path)
    kept = [e for e in t.events]
    # events the program caused: its calls, its threads, its start and exit,
    # and the launcher reaping it, and the object record after each
    # memfd_create and shm_open; module events are recorded first, kept
    expected = sum(want.values()) + 2 * THREADS + 1 + 1 + 1 + \
        want.get("memfd_create", 0) + want.get("shm_open", 0)
    check(h["dropped"] > 0 and len(kept) + h["dropped"] == expected,
          "stress-full: recorded + dropped == events made (%d + %d == %d)"
          % (len(kept), h["dropped"], expected),
          "kept %d dropped %d expected %d" % (len(kept), h["dropped"], expected))
    res = run([VIEWER, "dump", t.path])
    check(res.rc == 0 and re.search(rb"%d events? dropped" % h["dropped"], res.err),
          "stress-full: the drop count is reported", res.err[-300:])
    figure("region full (256 KiB)", "%d kept + %d dropped == %d made"
           % (len(kept), h["dropped"], expected))


@test("stress-forks")
def t_forks():
    n = 64
    b = bare("stress", "forks", n)
    t = traced("stress", "forks", n)
    check(t.rc == b.rc == 0 and t.out == b.out,
          "stress-forks: a storm of %d forks, output unchanged" % n, t.why())
    rep = report_json(t.path)
    segs = [s for s in rep["segments"] if s["kind"] == "sysv"]
    if len(segs) != 1:
        raise Fatal("want one segment, got %d" % len(segs))
    s = segs[0]
    forks = [a for a in s["attachments"] if a["how"] == "fork"]
    addrs = {a["addr"] for a in s["attachments"]}
    check(len(forks) == n and len(addrs) == 1
          and all(a["detached_ns"] is not None for a in s["attachments"]),
          "stress-forks: %d inherited attachments at one address, each detached" % n,
          "%d fork attachments, addrs %s" % (len(forks), addrs))
    check(s["state"] == "removed" and rep["leaks"] == 0,
          "stress-forks: marked at once, removed when the last one detached",
          s["state"])
    figure("fork storm", "%d children, %d attachments modelled" % (n, len(s["attachments"])))


@test("stress-kill")
def t_kill():
    t = traced("stress", "kill-child", 150)
    try:
        check(t.rc == 0 and t.out == b"child killed by SIGKILL\n",
              "stress-kill: a child killed by SIGKILL mid-call", t.why())
        res = run([VIEWER, "dump", "--json", t.path])
        check(res.rc == 0 and len(res.out.splitlines()) > 10,
              "stress-kill: the trace stays readable", res.why())
        rep = report_json(t.path)
        killed = [p for p in rep["processes"] if p.get("signal") == "SIGKILL"]
        check(len(killed) == 1 and killed[0]["end_ns"] is not None,
              "stress-kill: the killed child ends, by SIGKILL, in the model",
              json.dumps(rep["processes"])[:300])
        live = [a for s in rep["segments"] for a in s["attachments"]
                if killed and a["pid"] == killed[0]["pid"] and a["detached_ns"] is None]
        check(not live, "stress-kill: its attachments are dropped", str(live))
        figure("child killed mid-call", "%d events, %d segments it left"
               % (len(res.out.splitlines()), rep["leaks"]))
    finally:
        for s in report_json(t.path)["segments"]:
            if s["kind"] == "sysv" and s["state"] == "leaked":
                remove_shmid(s["shmid"])


@test("stress-exec-chain")
def t_exec_chain():
    key = free_key()
    try:
        sx = example("sysv-excl")
        chain = "env -i /bin/sh -c 'LD_PRELOAD= exec %s %x'" % (sx, key)
        t = traced("chain", argv=["/bin/sh", "-c", chain], label="exec-chain")
        starts = [e["args"]["path"] for e in t.events if e["call"] == "execve"]
        gets = t.calls("shmget")
        check(t.rc == 0 and len(gets) == 2 and starts[-1].endswith("/sysv-excl"),
              "stress-exec-chain: sh -> env -i -> sh -> LD_PRELOAD= exec: still traced",
              "starts %s, %d shmget" % (starts, len(gets)))
    finally:
        remove_key(key)


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS))
