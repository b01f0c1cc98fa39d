#!/usr/bin/env python3
"""End-to-end tests of the trace region: call counts over many iterations
(churn), a region too small (drops), the stack depth, trace files that are
not traces (bad-files), and a region that is not this run's
(foreign-region).

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Fatal, arg, argn, bare, check, cmd_is, describe, errno_of,  # noqa: E402
                     example, fail, free_key, need, one_line, read_region,
                     remove_key, ret, run, trace_path, trace_started, traced,
                     traced_as_bare, HOLD, LAUNCHER, SEEN_WITHIN, SHIM,
                     SHMT_CALL_SHMCTL, TIMEOUT, TMP, VIEWER)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# churn: counts, private mappings, drops
# --------------------------------------------------------------------------

@test("churn")
def t_churn():
    n = 50
    for mode, calls in (("sysv", {"shmget": n, "shmat": n, "shmdt": n, "shmctl": n}),
                        ("posix", {"shm_open": n, "ftruncate": n, "mmap": n, "munmap": n,
                                   "close": n, "shm_unlink": n}),
                        ("anon", {"mmap": n, "munmap": n}),
                        ("private", {"mmap": 0}),
                        ("fail", {"shmctl": n})):
        name = "churn %s" % mode
        try:
            t = traced_as_bare(name, "churn %s: %d iterations\n" % (mode, n), "churn", mode, n,
                               label="churn-" + mode)
            got = {c: len(t.calls(c)) for c in calls}
            check(got == calls, "%s: %s" % (name, ", ".join("%d %s" % (v, k) for k, v in calls.items())),
                  "got %s" % got)
            if mode == "private":
                check(not t.calls("munmap"), "churn private: munmap of private mappings not recorded",
                      "%d munmap events" % len(t.calls("munmap")))
            if mode == "fail":
                check(all(argn(e, "shmid") == -1 and cmd_is("IPC_STAT")(arg(e, "cmd")) and ret(e) == -1
                          and errno_of(e) == "EINVAL" for e in t.calls("shmctl")),
                      "churn fail: every shmctl(-1, IPC_STAT) = -1 EINVAL",
                      describe(t.calls("shmctl")[0]) if t.calls("shmctl") else "none")
        except Fatal as e:
            fail(name, str(e))


LAUNCHER_RECORDS = (40, 41)     # SHMT_CALL_TMPFS, SHMT_CALL_CGROUP_MEM


@test("drops")
def t_drops():
    n = 5000
    full = traced("churn", "fail", n, opts=["--size", str(64 << 20)], label="drops-full")
    check(full.rc == 0, "drops: churn fail %d traced with a 64 MiB region" % n, full.why())
    hf = read_region(full.path)
    check(hf["dropped"] == 0 and hf["calls"].get(SHMT_CALL_SHMCTL, 0) == n,
          "drops: a big region records all %d shmctl, nothing dropped" % n,
          "dropped %d, shmctl %d" % (hf["dropped"], hf["calls"].get(SHMT_CALL_SHMCTL, 0)))

    small = traced("churn", "fail", n, opts=["--size", str(64 << 10)], label="drops-small")
    check(small.rc == 0 and small.out == full.out,
          "drops: the program runs unchanged with a 64 KiB region", small.why())
    hs = read_region(small.path)
    check(hs["dropped"] > 0, "drops: a 64 KiB region drops events (header dropped > 0)",
          "dropped %d, committed %d" % (hs["dropped"], hs["committed"]))
    # the launcher's capacity records are not the program's: never counted
    # in dropped (a full region loses them into capacity_lost)
    def program(h):
        return h["committed"] - sum(h["calls"].get(c, 0) for c in LAUNCHER_RECORDS)
    check(program(hs) + hs["dropped"] == program(hf),
          "drops: recorded + dropped equals what the program did (%d events)" % program(hf),
          "recorded %d + dropped %d != %d" % (program(hs), hs["dropped"], program(hf)))
    check(hs["committed"] == min(hs["head"], hs["slot_capacity"]),
          "drops: every reserved slot was committed",
          "committed %d, head %d, capacity %d" % (hs["committed"], hs["head"], hs["slot_capacity"]))
    need(VIEWER)
    res = run([VIEWER, "dump", small.path])
    check(res.rc == 0 and b"drop" in res.err.lower() and res.out.strip(),
          "drops: shmview dump still shows the events and warns about drops on stderr",
          res.why())
    res = run([VIEWER, "dump", full.path])
    check(res.rc == 0 and b"drop" not in res.err.lower(),
          "drops: no drop warning when nothing was dropped", res.why())


# --------------------------------------------------------------------------
# Stack depth
# --------------------------------------------------------------------------

@test("depth")
def t_depth():
    t = traced("sysv-detach-twice", label="depth-default")
    check(any(e.get("stack") for e in t.calls("shmget", "shmat", "shmdt", "shmctl")),
          "depth: default depth records stack frames", "no frames")
    t = traced("sysv-detach-twice", opts=["--depth", "0"], label="depth-0")
    check(t.rc == 0 and t.events and not any(e.get("stack") for e in t.events),
          "depth: --depth 0 records no frames",
          "; ".join(describe(e) for e in t.events if e.get("stack"))[:300] or t.why())
    env = dict(os.environ, SHMTRACE_DEPTH="0")
    t = traced("sysv-detach-twice", env=env, label="depth-env-0")
    check(t.rc == 0 and t.events and not any(e.get("stack") for e in t.events),
          "depth: SHMTRACE_DEPTH=0 records no frames", t.why())
    t = traced("sysv-detach-twice", opts=["--depth", "2"], label="depth-2")
    check(t.rc == 0 and t.events and all(len(e.get("stack") or []) <= 2 for e in t.events)
          and any(e.get("stack") for e in t.events),
          "depth: --depth 2 records at most 2 frames", t.why())


# --------------------------------------------------------------------------
# Bad trace files
# --------------------------------------------------------------------------

@test("bad-files")
def t_bad_files():
    need(VIEWER)
    good = traced("sysv-detach-twice", label="bad-files-source")
    if good.rc != 0 or not os.path.isfile(good.path):
        raise Fatal("no valid trace to derive bad files from: " + good.why())
    with open(good.path, "rb") as f:
        data = f.read()
    cases = {}
    cases["missing file"] = os.path.join(TMP, "does-not-exist.trace")

    def make(label, content):
        p = os.path.join(TMP, "bad-%s.trace" % re.sub(r"\W", "_", label))
        with open(p, "wb") as f:
            f.write(content)
        cases[label] = p
    make("empty file", b"")
    make("truncated header", data[:100])
    make("truncated records", data[:max(4096 + 64, len(data) // 2)])
    rnd = random.Random(1)
    make("random bytes", bytes(rnd.randrange(256) for _ in range(65536)))
    make("wrong version", data[:8] + struct.pack("<I", 7) + data[12:])
    make("magic only", b"SHMTRACE")
    cases["a directory"] = TMP
    for label, path in cases.items():
        for opts in ([], ["--json"]):
            res = run([VIEWER, "dump"] + opts + [path])
            lines = res.err.decode(errors="replace").splitlines()
            check(0 < res.rc < 128 and res.out == b"" and len(lines) == 1,
                  "bad files: shmview dump %s rejects %s with one line on stderr"
                  % (" ".join(opts), label),
                  "exit %s, stdout %d bytes, stderr %r" % (res.rc, len(res.out), res.err[:300]))


# --------------------------------------------------------------------------
# A region that is not this run's
# --------------------------------------------------------------------------

@test("foreign-region")
def t_foreign_region():
    need(SHIM)
    key = free_key()
    junk = os.path.join(TMP, "junk.region")
    with open(junk, "wb") as f:
        f.write(os.urandom(65536))
    try:
        b = bare("sysv-excl", "%x" % key)
        env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_REGION=junk)
        res = run([example("sysv-excl"), "%x" % key], env=env)
        check(res.rc == b.rc and res.out == b.out,
              "foreign-region: the program runs unchanged on a region that is not ours",
              res.why())
        check(one_line(res) and b"untraced" in res.err and b"bad magic" in res.err,
              "foreign-region: one warning line says why it runs untraced", res.why())
        with open(junk, "rb") as f:
            f.seek(0)
            same = len(f.read()) == 65536
        check(same, "foreign-region: the foreign file is left alone", "size changed")

        # a real region, altered: another version, another owner, a run over
        # (a region as the shim makes it without the launcher: the
        # launcher's final file is compact records, never a region)
        src = os.path.join(TMP, "region-src.region")
        env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_OUTPUT=src,
                   SHMTRACE_SIZE=str(1 << 20))
        env.pop("SHMTRACE_REGION", None)
        made = run([example("sysv-excl"), "%x" % key], env=env)
        if not check(made.rc == b.rc and os.path.isfile(src),
                     "foreign-region: the shim alone makes a region", made.why()):
            return
        with open(src, "rb") as f:
            good = bytearray(f.read())
        struct.pack_into("<I", good, 28, struct.unpack_from("<I", good, 28)[0] & ~2)
        cases = [("version", 8, "<I", 7, b"version"),
                 ("owner", 72, "<Q", 12345, b"another user")]
        for what, off, fmt, value, says in cases:
            bad = bytearray(good)
            struct.pack_into(fmt, bad, off, value)
            path = os.path.join(TMP, "altered-%s.region" % what)
            with open(path, "wb") as f:
                f.write(bad)
            env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_REGION=path)
            res = run([example("sysv-excl"), "%x" % key], env=env)
            with open(path, "rb") as f:
                untouched = f.read() == bytes(bad)
            check(res.rc == b.rc and res.out == b.out and one_line(res) and says in res.err
                  and untouched,
                  "foreign-region: a region of another %s is refused with one line, "
                  "the program runs, the file is untouched" % what, res.why())
        t = traced("sysv-excl", "%x" % key, label="region-ended")
        path = os.path.join(TMP, "ended.region")
        with open(path, "wb") as f:
            with open(t.path, "rb") as src:
                f.write(src.read())
        env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_REGION=path)
        res = run([example("sysv-excl"), "%x" % key], env=env)
        check(res.rc == b.rc and one_line(res) and b"ended" in res.err,
              "foreign-region: the finished trace of another run is refused", res.why())
    finally:
        remove_key(key)


# --------------------------------------------------------------------------
# A program that writes over the live region
# --------------------------------------------------------------------------

@test("scribbled-header")
def t_scribbled_header():
    """The program zeroes the region's header after leaking a segment: the
    launcher says so, the trace stays readable, the leak is still found,
    and the verdict says what the trace may have lost."""
    need(VIEWER)
    key = free_key()
    try:
        t = traced("scribble", "%x" % key, label="scribble", leak_keys=[key])
        check(t.rc == 0 and b"zeroed the region's header" in t.out,
              "scribbled-header: the program ran and wrote over the header", t.why())
        check(b"header OVERWRITTEN by the program" in t.err,
              "scribbled-header: the launcher's closing line says the header was "
              "overwritten", t.err[-600:])
        dump = run([VIEWER, "dump", t.path])
        check(dump.rc == 0 and b"shmget(key=0x%x" % key in dump.out,
              "scribbled-header: the trace stays readable, the shmget before the "
              "damage in it", dump.why())
        rep = json.loads(run([VIEWER, "report", "--json", t.path]).out)
        leaked = [s for s in rep["segments"] if s.get("key") == "0x%x" % key]
        check(leaked and leaked[0]["state"] == "leaked" and rep["leaks_known"] is False
              and "header" in rep.get("lost", ""),
              "scribbled-header: the leak is found, and the verdict says the trace "
              "lost the region's header", json.dumps(rep)[:400])
    finally:
        remove_key(key)


# --------------------------------------------------------------------------
# Finishing a trace nobody finished
# --------------------------------------------------------------------------

@test("finish")
def t_finish():
    """A launcher killed with SIGKILL leaves a readable trace up to its last
    pass, and `shmview finish` makes it a finished one that says the run's
    end is unknown; a full-size region the shim made alone becomes a small
    compact file with the same events."""
    need(VIEWER)
    path = trace_path("killed-launcher")
    p = subprocess.Popen([LAUNCHER, "-q", "-o", path, "--", example("nginx-zone"),
                          "--hold", HOLD, "anon", "1"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + SEEN_WITHIN
        seen = False
        while not seen and time.time() < deadline:
            time.sleep(0.1)
            if trace_started(path):
                r = run([VIEWER, "dump", path])
                seen = b"fork()" in r.out
        os.kill(p.pid, signal.SIGKILL)      # the launcher alone
        p.wait(timeout=TIMEOUT)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)    # and what it ran
        except ProcessLookupError:
            pass
    if not check(seen, "finish: the run's events reach the file while it runs",
                 "no fork in the trace within %ss" % SEEN_WITHIN):
        return
    r = run([VIEWER, "dump", path])
    check(r.rc == 0 and b"mmap(" in r.out and b"fork()" in r.out,
          "finish: a launcher killed by SIGKILL leaves the trace readable", r.why())
    r = run([VIEWER, "finish", path])
    check(r.rc == 0 and b"the run's end was not recorded" in r.out,
          "finish: an unfinished trace is finished, and it says the end is unknown",
          r.why())
    with open(path, "rb") as f:
        flags = struct.unpack_from("<I", f.read(32), 28)[0]
    check(flags & 0x2, "finish: the header says the trace is final now", "flags 0x%x" % flags)
    r = run([VIEWER, "finish", path])
    check(r.rc == 0 and b"finished already" in r.out,
          "finish: a finished trace is left as it is", r.why())

    region = os.path.join(TMP, "alone.region")
    env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_OUTPUT=region)
    env.pop("SHMTRACE_REGION", None)
    made = run([example("churn"), "posix", "50"], env=env)
    before = run([VIEWER, "dump", region])
    out = os.path.join(TMP, "alone.trace")
    r = run([VIEWER, "finish", "-o", out, region])
    after = run([VIEWER, "dump", out])
    check(made.rc == 0 and r.rc == 0 and before.out == after.out and before.out
          and os.path.getsize(out) * 100 < os.path.getsize(region),
          "finish: a full-size region the shim made alone becomes a compact file "
          "with the same events", "%s; %d -> %d bytes" % (r.why(), os.path.getsize(region),
                                                           os.path.getsize(out)
                                                           if os.path.exists(out) else 0))
    r = run([VIEWER, "finish", os.path.join(TMP, "no-such.trace")])
    check(r.rc == 1 and one_line(r), "finish: a missing trace is one line, exit 1", r.why())


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
