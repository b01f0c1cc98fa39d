"""What the identity tests (tests/e2e/ident.py, ident-real.py) share: the
kernel's shared mappings of a frozen process, and the checks that a
trace's map equals them and holds one segment per kernel object.

Python 3 standard library only.
"""

import os
import re
import signal
import subprocess
import time

import harness
from harness import Fatal, brief, check, map_json, trace_started

SHARED = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) [r-][w-][x-]s \S+ \S+ (\d+)\s*(.*)$")


def proc_shared(pid):
    """The shared mappings of pid, the tracer's own region aside:
    {(addr, length): path}."""
    out = {}
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            m = SHARED.match(line.rstrip("\n"))
            if m and "shmtrace-region" not in m.group(4):
                lo, hi = int(m.group(1), 16), int(m.group(2), 16)
                out[(lo, hi - lo)] = m.group(4)
    return out


def wait_for(what, cond, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise Fatal("timed out waiting for " + what)


def live_attachments(trace):
    """{pid: {(addr, length): segment}} of the map of a running trace."""
    live = {}
    for sg in map_json(trace).get("segments", []):
        for a in sg.get("attachments", []):
            live.setdefault(a["pid"], {})[(int(a["addr"], 16), a["length"])] = sg
    return live


def _shim_ranges(pid):
    ranges = []
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                if "libshmtrace.so" in line:
                    lo, hi = line.split()[0].split("-")
                    ranges.append((int(lo, 16), int(hi, 16)))
    except OSError:
        pass
    return ranges


def _thread_state(pid, tid):
    """('stopped', pc, sp) of a thread stopped by a signal (in a system call
    or not), ('running', 0, 0) otherwise, None when it is gone."""
    try:
        with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
            fields = f.read().split()
    except OSError:
        return None
    if state not in "tT" or len(fields) < 3:
        return ("running", 0, 0)
    return ("stopped", int(fields[-1], 16), int(fields[-2], 16))


def _in_shim(pid):
    """Whether a thread of pid is stopped inside the shim: its pc there, or
    a return address there at the top of its stack (a system call the shim
    made).  Such a thread may have made a call whose record is not written
    yet: the kernel shows what the trace cannot have."""
    ranges = _shim_ranges(pid)
    if not ranges:
        return False
    try:
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
        mem = open("/proc/%d/mem" % pid, "rb")
    except OSError:
        return False
    with mem:
        for tid in tids:
            st = _thread_state(pid, tid)
            if not st or st[0] != "stopped":
                continue
            words = [st[1]]
            try:
                mem.seek(st[2])
                top = mem.read(256)
                words += [int.from_bytes(top[i:i + 8], "little") for i in range(0, len(top) - 7, 8)]
            except (OSError, ValueError):
                pass
            if any(lo <= w < hi for w in words for lo, hi in ranges):
                return True
    return False


def _all_stopped(pid):
    try:
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return True     # gone
    return all((_thread_state(pid, t) or ("stopped",))[0] == "stopped" for t in tids)


def settle_stopped(pids):
    """Once SIGSTOP was sent to pids: wait until every thread is stopped,
    and none inside the shim (one that is goes on with SIGCONT and is
    stopped again), so what /proc shows is what the trace can hold."""
    def settled():
        busy = [q for q in pids if not _all_stopped(q) or _in_shim(q)]
        for q in busy:
            if _all_stopped(q):     # stopped mid-record: let it finish it
                os.kill(q, signal.SIGCONT)
                os.kill(q, signal.SIGSTOP)
        return not busy
    wait_for("the frozen processes to stop outside the shim", settled, timeout=20)


def frozen_check(title, trace, pids):
    """With every process of pids stopped: the trace's map (once the
    launcher has copied out what was recorded) has exactly the shared
    mappings /proc/PID/maps shows, and each kernel object is one segment.
    Returns the live attachments."""
    settle_stopped(pids)
    kernel = {q: proc_shared(q) for q in pids}
    wait_for("the trace header", lambda: trace_started(trace))

    def complete():
        live = live_attachments(trace)
        return live if all(set(kernel[q]) == set(live.get(q, {})) for q in pids) else None
    try:
        live = wait_for("the map to equal the kernel's mappings", complete, timeout=10)
    except Fatal:
        live = live_attachments(trace)
    for i, q in enumerate(pids):
        k, t = set(kernel[q]), set(live.get(q, {}))
        check(k == t, "%s: frozen process %d: the map's attachments equal /proc/PID/maps "
              "(%d shared mappings)" % (title, i, len(k)),
              "kernel only %s; trace only %s" %
              (sorted((hex(a), n, kernel[q][(a, n)]) for a, n in k - t),
               sorted((hex(a), n) for a, n in t - k)))
    by_obj = {}
    for q in pids:
        for key, sg in live.get(q, {}).items():
            name = kernel[q].get(key, "").replace(" (deleted)", "")
            by_obj.setdefault(name, set()).add((sg["kind"], sg["name"], sg["inode"]))
    check(all(len(v) == 1 for v in by_obj.values()),
          "%s: frozen: each kernel object is one segment of the map" % title,
          brief({k: sorted(v) for k, v in by_obj.items()}))
    return live


def object_id(x):
    """What names a segment in both a trace's map and a /proc view: a POSIX
    object's name (the shim keeps no inode for shm_open: until its
    descriptor is passed on, the trace knows the object by name only), the
    inode of any other object, nothing for a shared anonymous mapping
    (mmap(MAP_ANONYMOUS) gives the shim no descriptor to fstat)."""
    if x["kind"] == "posix":
        return x["name"]
    return "" if x["kind"] == "anon" else str(x["inode"])


def object_rows(segments, pids):
    """(kind, id, attachments) of each segment attached by one of pids, the
    tracer's own region aside: what a /proc view and a trace's map of
    frozen processes must share."""
    rows = []
    for x in segments:
        n = len([a for a in x.get("attachments", []) if a["pid"] in pids])
        if n and x.get("name") != "shmtrace-region":
            rows.append((x["kind"], object_id(x), n))
    return sorted(rows)


def pid_map_check(title, trace, root, pids):
    """With pids (root and some of its descendants) frozen: `map --pid ROOT
    --children`, built from /proc alone, has one row per object, the same
    as the trace's map.  Only the frozen processes' attachments count: a
    process that runs on (a helper forked and not yet exec'd) changes its
    mappings faster than a trace can say."""
    traced_rows = object_rows(map_json(trace).get("segments", []), pids)
    pid_rows = object_rows(harness.viewer_json(["map", "--pid", str(root), "--children",
                                                "--json"]).get("segments", []), pids)
    check(pid_rows == traced_rows,
          "%s: map --pid: one row per object, the same kinds, inodes and attachments "
          "as the trace's map (%d objects)" % (title, len(pid_rows)),
          "pid %s; trace %s" % (pid_rows, traced_rows))


def audit_check(title, trace, pids):
    """With pids frozen: `audit`, built from /dev/shm and /proc alone, has
    each POSIX object and semaphore of the trace's map once, attached by
    the same of those processes."""
    def attached(x):
        return sorted(a["pid"] for a in x["attachments"] if a["pid"] in pids)
    rows = {}
    for x in harness.viewer_json(["audit", "--json"]).get("posix", []):
        for key in {x["name"], str(x["inode"])}:       # audit's rows carry both
            rows.setdefault(key, []).append(attached(x))
    want = {object_id(x): attached(x) for x in map_json(trace).get("segments", [])
            if x["kind"] in ("posix", "sem") and attached(x)}
    check(want and all(rows.get(i) == [p] for i, p in want.items()),
          "%s: audit: each POSIX object and semaphore is one row, attached by the "
          "same processes as in the trace's map (%d objects)" % (title, len(want)),
          "trace %s; audit %s" % (want, {i: rows.get(i) for i in want}))


def one_per_object(title, rep):
    """No two segments of report rep are one (dev, inode)."""
    seen = {}
    for x in rep.get("segments", []):
        if x.get("inode") and x.get("kind") not in ("sysv",):
            seen.setdefault((x.get("dev"), x["inode"]), []).append(x)
    twice = {k: [(x["kind"], x["name"]) for x in v] for k, v in seen.items() if len(v) > 1}
    check(not twice, "%s: one segment per kernel object (%d objects)" % (title, len(seen)),
          brief(twice))


class Paused:
    """A program under the launcher that prints "paused PID [PID...]" and
    waits for a line on stdin: freeze() stops those pids, go() lets the
    program finish; the context ends it whatever happens."""

    def __init__(self, trace, argv, env=None):
        self.trace = trace
        self.p = subprocess.Popen([harness.LAUNCHER, "-q", "-o", trace, "--"] + argv,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.stopped = []
        self.out = b""
        self.rc = None

    def __enter__(self):
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise Fatal("%s ended before it paused: %r" %
                            (self.p.args[-1], self.p.stderr.read()[-400:]))
            if line.startswith(b"paused "):
                self.pids = [int(x) for x in line.split()[1:]]
                return self
            self.out += line

    def freeze(self):
        for q in self.pids:
            os.kill(q, signal.SIGSTOP)
            self.stopped.append(q)

    def go(self):
        for q in self.stopped:
            os.kill(q, signal.SIGCONT)
        self.stopped = []
        out, _ = self.p.communicate(b"go\n", timeout=120)
        self.out += out
        self.rc = self.p.returncode

    def __exit__(self, *exc):
        for q in self.stopped:
            os.kill(q, signal.SIGCONT)
        if self.p.poll() is None:
            try:
                self.p.communicate(b"go\n", timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.communicate()
        return False
