#!/usr/bin/env python3
"""End-to-end tests of what shmview shows from a trace: hostile names kept
off the terminal, a trace read while its run goes on, the attach map
(map, --at) and the Chrome export.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (check, dump_json, example, fail, free_key, map_json, need,  # noqa: E402
                     remove_key, run, seq, trace_path, trace_started, traced,
                     HOLD, LAUNCHER, SEEN_WITHIN, TIMEOUT, VIEWER)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# Names a traced program chose, on the user's terminal
# --------------------------------------------------------------------------

@test("hostile-names")
def t_hostile_names():
    """Names and argv from a traced program never put control bytes on the
    user's terminal, and JSON stays valid."""
    py = "/usr/bin/python3"
    if not os.path.exists(py):
        print("# skip hostile-names: no /usr/bin/python3", flush=True)
        return
    evil = "/\x1b[31mred\x1b]0;title\x07\nnext\xff"
    script = ("import _posixshmem, os, sys\n"
              "n = ''.join(c for c in sys.argv[1] if ord(c) < 128)\n"
              "fd = _posixshmem.shm_open(n, os.O_CREAT | os.O_RDWR, 0o600)\n"
              "os.close(fd)\n"
              "_posixshmem.shm_unlink(n)\n")
    t = traced("python", argv=[py, "-c", script, evil], label="hostile")
    check(t.rc == 0, "hostile-names: the program runs", t.why())
    outs = {}
    for cmd in (["dump"], ["dump", "--stack"], ["report"], ["map"]):
        res = run([VIEWER] + cmd + [t.path])
        outs[" ".join(cmd)] = res.out
    bad = [k for k, v in outs.items() if any(c in v for c in (b"\x1b", b"\x07", b"\xff"))]
    check(not bad, "hostile-names: no control byte in dump, dump --stack, report, map",
          "raw control bytes in %s" % bad)
    opens = t.calls("shm_open")
    check(len(opens) == 1 and opens[0]["args"]["name"] == "".join(
              c for c in evil if ord(c) < 128),
          "hostile-names: JSON is valid and carries the name exactly",
          repr(opens[:1]))
    res = run([VIEWER, "report", "--json", t.path])
    try:
        json.loads(res.out.decode())
        ok_json = True
    except ValueError:
        ok_json = False
    check(ok_json, "hostile-names: report --json stays valid JSON", res.why())


# --------------------------------------------------------------------------
# A trace read while its run goes on; the attach map; the export
# --------------------------------------------------------------------------

def launch_held(label):
    """nginx-zone with 3 workers holding its zone HOLD seconds, under the
    launcher in the background: (the process, its trace's path)."""
    need(LAUNCHER)
    path = trace_path(label)
    p = subprocess.Popen([LAUNCHER, "-q", "-o", path, "--", example("nginx-zone"),
                          "--hold", HOLD, "anon", "3"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    return p, path


def read_while_held(path, read, done):
    """read(path) every 0.2 s once the trace has its header, for
    SEEN_WITHIN seconds of a launch_held() run, until done(what it read):
    the last value read that was not None (None when there was none)."""
    last, deadline = None, time.time() + SEEN_WITHIN
    while time.time() < deadline:
        time.sleep(0.2)
        if trace_started(path):
            got = read(path)
            if got is not None:
                last = got
                if done(got):
                    break
    return last


def events_or_none(path):
    """`shmview dump --json` of a trace still being written; None when it
    fails."""
    res = run([VIEWER, "dump", "--json", path])
    return [json.loads(l) for l in res.out.decode().splitlines()] if res.rc == 0 else None


@test("live-read")
def t_live_read():
    """The trace file can be read while the run goes on."""
    p, path = launch_held("live")
    try:
        seen = read_while_held(path, events_or_none,
                               lambda evs: len([e for e in evs if e.get("call") == "fork"]) == 3)
        seen = seen or []
        running = p.poll() is None
        calls = [e.get("call") for e in seen]
        check(running and "mmap" in calls and calls.count("fork") == 3
              and "exit" not in [c for e, c in zip(seen, calls) if e.get("pid") == seen[0].get("pid")],
              "live-read: mmap and the 3 forks are readable while the master still runs",
              "running=%s calls=%s" % (running, calls))
    finally:
        p.communicate(timeout=TIMEOUT)
    final = [e.get("call") for e in dump_json(path)]
    check(p.returncode == 0 and final.count("exit") == 4 and "munmap" in final,
          "live-read: the final trace holds the whole run", "exit %s calls %s"
          % (p.returncode, final))


@test("map")
def t_map():
    """The attach map while the run goes on, at a past moment, and at the end."""
    p, path = launch_held("map")

    def four_attached(m):
        anon = [s for s in m["segments"] if s["kind"] == "anon"]
        return bool(anon) and len(anon[0]["attachments"]) == 4
    try:
        live = read_while_held(path, map_json, four_attached)
        live = live if live is not None and four_attached(live) else None
        before = time.monotonic_ns()
        now = map_json(path)
        after = time.monotonic_ns()
    finally:
        p.communicate(timeout=TIMEOUT)
    if not check(live is not None, "map: the workers' attachments appear while they run",
                 "never saw 4 attachments"):
        return
    seg = [s for s in live["segments"] if s["kind"] == "anon"][0]
    addrs = {a["addr"] for a in seg["attachments"]}
    alive = [q for q in live["processes"] if q["alive"]]
    check(live["running"] and len(addrs) == 1 and seg["state"] == "live"
          and len(alive) == 4 and seg["size"] == 1048576,
          "map: running, one live anon zone at one address in the master and 3 workers",
          json.dumps(live)[:400])
    with open(path, "rb") as f:
        start = struct.unpack_from("<Q", f.read(4096), 88)[0]  # start_ns
    check(now["running"] and before - start <= now["time_ns"] <= after - start,
          "map: a running trace is shown at the present, not at its last event",
          "read between +%d and +%d ns: %s" % (before - start, after - start,
                                               json.dumps(now)[:200]))
    evs = dump_json(path)
    master = min(evs, key=seq)["pid"]
    worker_exits = [e["time_ns"] for e in evs if e.get("call") == "exit" and e["pid"] != master]
    unmap = [e["time_ns"] for e in evs if e.get("call") == "munmap" and e["pid"] == master]
    if len(worker_exits) == 3 and unmap and max(worker_exits) < unmap[0]:
        at = (max(worker_exits) + unmap[0]) // 2
        mid = map_json(path, "--at", "%dns" % at)
        seg = [s for s in mid["segments"] if s["kind"] == "anon"]
        check(seg and [a["pid"] for a in seg[0]["attachments"]] == [master],
              "map: --at after the workers exited shows only the master attached",
              json.dumps(mid)[:400])
    end = map_json(path)
    check(not end["running"] and not [s for s in end["segments"] if s["kind"] == "anon"]
          and all(not q["alive"] for q in end["processes"]),
          "map: at the end the zone is gone and every process ended", json.dumps(end)[:300])
    res = run([VIEWER, "map", path])
    check(res.rc == 0 and b"attach map of" in res.out and b"processes:" in res.out,
          "map: text form", res.why())
    res = run([VIEWER, "map", "--at", "soon", path])
    check(res.rc == 2 and len(res.err.splitlines()) == 1, "map: a bad --at is one line, exit 2",
          res.why())


@test("export")
def t_export():
    key = free_key()
    try:
        t = traced("sysv-detach-twice")
        res = run([VIEWER, "export", "--format", "chrome", t.path])
        if not check(res.rc == 0, "export: chrome format runs", res.why()):
            return
        try:
            doc = json.loads(res.out.decode())
        except ValueError as e:
            fail("export: output is one valid JSON document", str(e))
            return
        evs = doc.get("traceEvents", [])
        check(all(isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int)
                  and e.get("ph") in ("M", "X", "i") for e in evs),
              "export: every trace event has ph, pid and tid", json.dumps(evs[:3]))
        names = [e for e in evs if e["ph"] == "M"]
        spans = [e for e in evs if e["ph"] == "X"]
        inst = [e for e in evs if e["ph"] == "i"]
        check(any(e["name"] == "process_name" for e in names)
              and any(e["name"] == "thread_name" for e in names),
              "export: process and thread names", json.dumps(names[:3]))
        seg = [e for e in spans if e["name"].startswith("sysv shmid")
               and e.get("args", {}).get("state")]
        att = [e for e in spans if e["name"].startswith("rw sysv")]
        check(len(seg) == 1 and len(att) == 1 and seg[0]["dur"] >= att[0]["dur"] >= 0,
              "export: a lifetime track for the segment and its attach interval",
              json.dumps(spans)[:400])
        check(any("shmdt failed: EINVAL" == e["name"] for e in inst),
              "export: the failed second shmdt is an instant event", json.dumps(inst))
        res = run([VIEWER, "export", "--format", "svg", t.path])
        check(res.rc == 2 and len(res.err.splitlines()) == 1,
              "export: an unknown format is one line, exit 2", res.why())
    finally:
        remove_key(key)


# --------------------------------------------------------------------------
# Output that cannot be written
# --------------------------------------------------------------------------

def run_to_full(argv):
    """Run argv with stdout on /dev/full; (exit status, stderr bytes)."""
    with open("/dev/full", "wb") as full:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=full,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    return p.returncode, p.stderr


@test("write-errors")
def t_write_errors():
    """A full disk under stdout is one line and exit 1, for every command
    that writes a result, checked once in main."""
    if not os.path.exists("/dev/full"):
        print("# skip write-errors: no /dev/full", flush=True)
        return
    t = traced("sysv-rdonly")    # IPC_PRIVATE, removed by the program
    want = b"shmview: write error on standard output: No space left on device\n"
    for cmd in (["dump"], ["report"], ["map"], ["export", "--format", "chrome"]):
        rc, err = run_to_full([VIEWER] + cmd + [t.path])
        check(rc == 1 and err == want,
              "write-errors: shmview %s > /dev/full is one line, exit 1" % cmd[0],
              "rc %s, stderr %r" % (rc, err[:200]))
    rc, err = run_to_full([LAUNCHER, "--help"])
    check(rc == 1 and err == want.replace(b"shmview", b"shmtrace"),
          "write-errors: shmtrace --help > /dev/full is one line, exit 1",
          "rc %s, stderr %r" % (rc, err[:200]))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
