#!/usr/bin/env python3
"""The harness the end-to-end tests of shmtrace share (every other
tests/e2e/*.py is a test file): paths, reporting, the test registry,
running commands, programs under build/shmtrace (traced()), reading back
what build/shmview says, the leak checks and the clean-up, the runner.

A test file imports the harness from its own folder, registers its tests
and hands them to main():

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import harness
    from harness import check, traced, ...

    TESTS, test = harness.registry()

    @test("name")
    def t_name(): ...

    if __name__ == "__main__":
        sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))

and prints one line per check, "ok - name" or "not ok - name: why", which
tests/run-tests.sh counts; it exits 1 when any check failed.

    python3 tests/e2e/FILE.py [WORD...]   run only the tests of FILE whose
                                          name contains one of the WORDs

These conventions hold for every test file and are said only here; a test
file's docstring says what it tests.

Python 3 standard library only (tests/e2e/live.py also needs tmux).
Every run uses its own temporary directory, its own SysV keys and POSIX
names (tagged with this process's pid); every segment, object and file a
test makes, and whatever the examples leak on purpose, is removed again
whatever happens, and a file's last checks say nothing was left behind.
"""

import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "common"))
import records  # noqa: E402  (common/records.py: the compact file, in Python)
BUILD = os.environ.get("SHMTRACE_BUILD") or os.path.join(ROOT, "build")
LAUNCHER = os.path.join(BUILD, "shmtrace")
VIEWER = os.path.join(BUILD, "shmview")
EXAMPLES = os.path.join(BUILD, "examples")
SOURCES = os.path.join(ROOT, "examples")

TIMEOUT = 120                        # seconds, for any one command
TAG = "shmtrace-e2e-%d" % os.getpid()
TMP = tempfile.mkdtemp(prefix=TAG + "-")

# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

PASSED = 0
FAILED = 0


def _line(text):
    return " ".join(str(text).split())


def ok(name):
    global PASSED
    PASSED += 1
    print("ok - " + _line(name), flush=True)


def fail(name, why):
    global FAILED
    FAILED += 1
    print("not ok - %s: %s" % (_line(name), _line(why)), flush=True)


def check(cond, name, why="check failed"):
    if cond:
        ok(name)
    else:
        fail(name, why)
    return bool(cond)


class Fatal(Exception):
    """Stops one test: reported as a single "not ok" line."""


def registry():
    """A list of tests and the decorator that fills it, one pair per test
    file:  TESTS, test = registry();  @test("name") def t(): ..."""
    tests = []

    def test(name):
        def register(fn):
            tests.append((name, fn))
            return fn
        return register
    return tests, test


# --------------------------------------------------------------------------
# System state: SysV segments, /dev/shm, clean-up
# --------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
IPC_RMID = 0
USED_KEYS = set()                    # every SysV key this run handed out


def _c_key(key):
    key &= 0xffffffff
    return key - (1 << 32) if key >= (1 << 31) else key


def sysv_segments():
    """shmid -> dict(key, size, cpid, nattch) from /proc/sysvipc/shm."""
    segs = {}
    try:
        with open("/proc/sysvipc/shm") as f:
            next(f, None)
            for line in f:
                c = line.split()
                if len(c) < 7:
                    continue
                segs[int(c[1])] = {"key": int(c[0]) & 0xffffffff,
                                   "size": int(c[3]), "cpid": int(c[4]),
                                   "nattch": int(c[6])}
    except OSError:
        pass
    return segs


def segment_by_key(key):
    for shmid, s in sysv_segments().items():
        if s["key"] == key & 0xffffffff:
            return shmid, s
    return None, None


def remove_shmid(shmid):
    return _libc.shmctl(ctypes.c_int(shmid), ctypes.c_int(IPC_RMID), None) == 0


def remove_key(key):
    shmid, _ = segment_by_key(key)
    if shmid is not None:
        remove_shmid(shmid)


# A run watched while it goes on holds its workers HOLD seconds; the test
# must see the state it checks within SEEN_WITHIN, a margin before the
# run ends, however loaded the machine (it stops looking once it has).
HOLD, SEEN_WITHIN = "6", 5.5


def trace_started(path):
    """Whether the launcher has written the trace file's header yet: it
    creates the file empty first, so for a moment the file is there but
    holds nothing a reader can take.  Tests that read a run while it goes
    on wait for this, not for the file to exist."""
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"SHMTRACE"
    except OSError:
        return False


def dev_shm():
    try:
        return set(os.listdir("/dev/shm"))
    except OSError:
        return set()


def unlink_shm(name):
    try:
        os.unlink(os.path.join("/dev/shm", name.lstrip("/")))
    except OSError:
        pass


def posix_name(what):
    """A POSIX shm name unique to this run."""
    return "/%s-%s" % (TAG, what)


def ftok(path, proj):
    st = os.stat(path)
    return (st.st_ino & 0xffff) | ((st.st_dev & 0xff) << 16) | \
        ((proj & 0xff) << 24)


_ftok_n = 0


def ftok_path():
    """A fresh file whose ftok(path, 'S') key is in use by nobody."""
    global _ftok_n
    keys = {s["key"] for s in sysv_segments().values()}
    for _ in range(100):
        _ftok_n += 1
        path = os.path.join(TMP, "ftok-%d" % _ftok_n)
        open(path, "w").close()
        key = ftok(path, ord("S"))
        if key not in keys and key not in USED_KEYS:
            USED_KEYS.add(key)
            return path, key
    raise Fatal("no free ftok key found")


def free_key():
    """A SysV key in use by nobody, for sysv-excl."""
    keys = {s["key"] for s in sysv_segments().values()}
    rnd = random.Random(os.getpid())
    for _ in range(1000):
        key = 0x5e000000 | rnd.randrange(1, 1 << 24)
        if key not in keys and key not in USED_KEYS:
            USED_KEYS.add(key)
            return key
    raise Fatal("no free SysV key found")


def cleanup_all():
    for key in USED_KEYS:
        remove_key(key)
    for name in dev_shm():
        if name.startswith(TAG):
            unlink_shm(name)
    shutil.rmtree(TMP, ignore_errors=True)


# --------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------

class Result:
    def __init__(self, argv, rc, out, err, pid):
        self.argv, self.rc, self.out, self.err, self.pid = argv, rc, out, err, pid

    def why(self):
        return "%s: exit %s, stderr %r" % (
            " ".join(os.path.basename(a) if i == 0 else a
                     for i, a in enumerate(self.argv)),
            self.rc, self.err.decode(errors="replace")[-300:])


CURRENT = None      # the process group running now, killed if we are


def run(argv, env=None, timeout=TIMEOUT, umask=None):
    """Run argv in its own process group; Result with bytes out/err."""
    global CURRENT
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, start_new_session=True,
                             preexec_fn=preexec)
    except OSError as e:
        raise Fatal("cannot run %s: %s" % (argv[0], e))
    CURRENT = p.pid
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.communicate()
        raise Fatal("%s timed out after %d s" % (" ".join(argv), timeout))
    finally:
        CURRENT = None
    return Result(argv, p.returncode, out, err, p.pid)


def on_term(signum, frame):
    """Killed (by run-tests.sh's timeout): stop the child, then clean up."""
    if CURRENT is not None:
        try:
            os.killpg(CURRENT, signal.SIGKILL)
        except OSError:
            pass
    print("not ok - %s: interrupted by signal %d"
          % (os.path.basename(sys.argv[0]), signum), flush=True)
    raise SystemExit(128 + signum)


def example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.access(path, os.X_OK):
        raise Fatal("%s is not built (make examples)" % path)
    return path


def bare(name, *args, env=None):
    return run([example(name)] + [str(a) for a in args], env=env)


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on now, for a server a test
    starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port, timeout=10):
    """Whether something listens on 127.0.0.1:port within `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def skip(name, why):
    """A real program's test that cannot run here: a skip line, or a failure
    when SHMTRACE_REQUIRE_REAL=1 (CI, where make deps installed it)."""
    if os.environ.get("SHMTRACE_REQUIRE_REAL") == "1":
        fail(name, "not installed: " + why)
    else:
        print("# skip %s: %s (make deps installs it)" % (name, why), flush=True)


def need(tool):
    if not os.access(tool, os.X_OK):
        raise Fatal("%s is not built yet" % os.path.relpath(tool, ROOT))


_trace_n = 0


def trace_path(label):
    global _trace_n
    _trace_n += 1
    return os.path.join(TMP, "%02d-%s.trace" % (_trace_n, re.sub(r"\W", "_", label)))


LEAKS = []      # (run, what) the tracer left behind
LOADED = []     # (label, events) of every trace read back


class Trace(Result):
    """A run under build/shmtrace plus lazy access to its events."""

    def __init__(self, res, path):
        super().__init__(res.argv, res.rc, res.out, res.err, res.pid)
        self.path = path
        self._events = None

    @property
    def events(self):
        if self._events is None:
            self._events = dump_json(self.path)
            LOADED.append((os.path.basename(self.path), self._events))
        return self._events

    def pids(self):
        return {e.get("pid") for e in self.events}

    def main_pid(self):
        """The pid of the program the launcher started."""
        for e in self.events:
            if e.get("call") == "execve" and num(arg(e, "ppid")) == self.pid:
                return e.get("pid")
        if not self.events:
            raise Fatal("the trace holds no events")
        return min(self.events, key=lambda e: e.get("seq", 0)).get("pid")

    def calls(self, *names, pid=None):
        return [e for e in self.events if e.get("call") in names and
                (pid is None or e.get("pid") == pid)]


def traced(name, *args, opts=(), env=None, leak_keys=(), leak_names=(),
           label=None, argv=None, path=None):
    """Run an example (or argv) under the launcher; check for leaks the
    tracer is responsible for.  leak_keys / leak_names: SysV keys and
    /dev/shm names the program itself is expected to leave."""
    need(LAUNCHER)
    if argv is None:
        argv = [example(name)] + [str(a) for a in args]
    path = path or trace_path(label or name)
    before_shm, before_sysv = dev_shm(), sysv_segments()
    res = run([LAUNCHER, "-o", path] + list(opts) + ["--"] + argv, env=env)
    after_shm, after_sysv = dev_shm(), sysv_segments()
    t = Trace(res, path)
    t.argv = argv
    note_leaks(t, label or name, before_shm, after_shm, before_sysv,
               after_sysv, leak_keys, leak_names)
    return t


def note_leaks(t, label, before_shm, after_shm, before_sysv, after_sysv,
               leak_keys, leak_names):
    try:
        pids = set(t.pids())
    except Fatal:
        pids = set()
    pids.add(t.pid)
    allowed = {n.lstrip("/") for n in leak_names}
    for name in sorted(after_shm - before_shm - allowed):
        m = re.match(r"shmtrace-e2e-(\d+)-", name)
        if m and int(m.group(1)) != os.getpid():
            continue            # another e2e run's object
        m = re.match(r"shmtrace-(?:churn|spawn)-(\d+)$", name)
        if m and int(m.group(1)) not in pids:
            continue            # someone else's example
        LEAKS.append((label, "/dev/shm/" + name))
        unlink_shm(name)
    keys = {k & 0xffffffff for k in leak_keys}
    for shmid, s in sorted(after_sysv.items()):
        if shmid in before_sysv or s["key"] in keys or s["cpid"] not in pids:
            continue
        LEAKS.append((label, "SysV segment key 0x%x shmid %d size %d" %
                      (s["key"], shmid, s["size"])))
        remove_shmid(shmid)


def dump_json(path):
    need(VIEWER)
    res = run([VIEWER, "dump", "--json", path])
    if res.rc != 0:
        raise Fatal("shmview dump --json failed: " + res.why())
    events = []
    for n, line in enumerate(res.out.decode(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise Fatal("shmview dump --json line %d is not JSON (%s): %r"
                        % (n, e, line[:200]))
        if not isinstance(ev, dict):
            raise Fatal("shmview dump --json line %d is not an object" % n)
        events.append(ev)
    return events


def viewer_text(args, user=None):
    """What `shmview ARGS` prints (as user, with runuser, when given);
    Fatal unless it exits 0."""
    need(VIEWER)
    argv = [VIEWER] + list(args)
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    res = run(argv)
    if res.rc != 0:
        raise Fatal("shmview %s failed: %s" % (" ".join(args), res.why()))
    return res.out.decode(errors="replace")


def viewer_json(args, user=None):
    """The one JSON object `shmview ARGS` prints on one line (see
    viewer_text); Fatal when it prints anything else."""
    lines = [l for l in viewer_text(args, user).splitlines() if l.strip()]
    what = "shmview " + " ".join(args)
    if len(lines) != 1:
        raise Fatal("%s printed %d lines, want one JSON object" % (what, len(lines)))
    try:
        obj = json.loads(lines[0])
    except ValueError as e:
        raise Fatal("%s is not JSON (%s): %r" % (what, e, lines[0][:300]))
    if not isinstance(obj, dict):
        raise Fatal("%s is not a JSON object: %r" % (what, lines[0][:300]))
    return obj


def brief(v):
    """A JSON value, short enough for a failure's why."""
    return json.dumps(v, sort_keys=True)[:600]


def dump_text(path, *opts):
    return viewer_text(["dump"] + list(opts) + [path])


# --------------------------------------------------------------------------
# Reading events
# --------------------------------------------------------------------------

def num(v):
    """A number from an event field: int, "0x..." or decimal string."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    s = str(v).strip()
    if s in ("(nil)", "NULL", "null"):
        return 0
    try:
        return int(s, 0) if not re.fullmatch(r"-?0[0-7]+", s) else int(s, 8)
    except ValueError:
        return None


def arg(e, key):
    return (e.get("args") or {}).get(key)


def argn(e, key):
    return num(arg(e, key))


def ret(e):
    return num(e.get("ret"))


def errno_of(e):
    v = e.get("errno")
    return v if v not in (None, "", 0) else None


ALIASES = {"MAP_ANON": "MAP_ANONYMOUS"}


def flags(v):
    """"IPC_CREAT|0666" -> ({"IPC_CREAT"}, 0o666); numbers are modes."""
    names, mode = set(), None
    if v is None:
        return names, None
    if isinstance(v, int):
        return names, v
    for tok in str(v).split("|"):
        tok = tok.strip()
        if not tok:
            continue
        if re.fullmatch(r"[0-7]+", tok):
            mode = (mode or 0) | int(tok, 8)
        elif re.fullmatch(r"0x[0-9a-fA-F]+", tok):
            mode = (mode or 0) | int(tok, 16)
        else:
            names.add(ALIASES.get(tok, tok))
    return names, mode


def fnames(v):
    return flags(v)[0]


def info_obj(e):
    info = e.get("info") or {}
    return info.get("object") if isinstance(info, dict) else None


def describe(e):
    if e is None:
        return "none"
    keep = {k: e.get(k) for k in ("seq", "pid", "tid", "call", "args", "ret",
                                  "errno", "info") if k in e}
    return json.dumps(keep, sort_keys=True)[:400]


def success(e):
    r = e.get("ret")
    return errno_of(e) is None and not (isinstance(r, int) and r == -1)


def one(evs, what):
    if len(evs) != 1:
        raise Fatal("expected one %s event, found %d: %s" %
                    (what, len(evs), "; ".join(describe(e) for e in evs[:4])))
    return evs[0]


def expect_same(name, bare_res, tr):
    """The program's stdout and exit status must not change under the tracer."""
    if tr.rc != bare_res.rc:
        fail(name, "exit status %s traced, %s bare; launcher stderr %r" %
             (tr.rc, bare_res.rc, tr.err.decode(errors="replace")[-300:]))
    elif tr.out != bare_res.out:
        fail(name, "stdout differs: traced %r, bare %r" % (tr.out[:300], bare_res.out[:300]))
    else:
        ok(name)


def expect_bare(name, res, want_out, want_rc=0):
    check(res.rc == want_rc and res.out == want_out.encode(), name,
          "got exit %s stdout %r stderr %r; want exit %s stdout %r" %
          (res.rc, res.out[:300], res.err[-200:], want_rc, want_out))


def traced_as_bare(title, want_out, name, *args, **traced_opts):
    """Run example name with args bare, its stdout must be want_out (check
    "title: bare run output"), then under the tracer (traced() with
    traced_opts), whose stdout and exit status must be the bare run's
    (check "title: stdout and exit status unchanged under the tracer").
    Returns the Trace."""
    b = bare(name, *args)
    expect_bare("%s: bare run output" % title, b, want_out)
    t = traced(name, *args, **traced_opts)
    expect_same("%s: stdout and exit status unchanged under the tracer" % title, b, t)
    return t


def check_args(title_, e, **want):
    """Each want: a value, or a callable taking the event's argument."""
    bad = []
    for k, w in want.items():
        if k == "ret_":
            got = ret(e)
            k = "ret"
        elif k == "errno_":
            got = errno_of(e)
            k = "errno"
        else:
            got = arg(e, k)
        good = w(got) if callable(w) else (num(got) == w if isinstance(w, int)
                                           else got == w)
        if not good:
            bad.append("%s=%r" % (k, got))
    return check(not bad, title_, "unexpected %s in %s" % (", ".join(bad), describe(e)))


def is_fd(v):
    n = num(v)
    return n is not None and n >= 0


def is_addr(v):
    n = num(v)
    return n is not None and n > 0 and n != (1 << 64) - 1


def seq(e):
    return e.get("seq", 0)


def cmd_is(name):
    """shmctl cmd check that tolerates an IPC_64 marker."""
    return lambda v: fnames(v) - {"IPC_64"} == {name}


def nonneg(v):
    n = num(v)
    return n is not None and n >= 0


# --------------------------------------------------------------------------
# The region file, read directly (independently of the viewer)
# --------------------------------------------------------------------------

def read_region(path):
    """Header counters and the committed events of a trace file: the slots
    of a region (version 1) or the event records of a compact file (2)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4096 or data[:8] != b"SHMTRACE":
        raise Fatal("%s is not a trace region" % path)
    h = {}
    h["version"], h["header_size"], _, h["slot_size"] = struct.unpack_from("<4I", data, 8)
    h["slot_offset"], h["slot_capacity"] = struct.unpack_from("<QQ", data, 32)
    h["head"] = struct.unpack_from("<Q", data, 256)[0]
    h["dropped"] = struct.unpack_from("<Q", data, 384)[0]
    (h["strings_dropped"], h["nested"], _, h["stack_errors"], h["nest_lost"],
     h["disabled"], h["stacks_no_room"], h["untraced"]) = struct.unpack_from("<8Q", data, 392)
    committed, calls = 0, {}
    if h["version"] == 2:
        for kind, payload in records.records(data):
            if kind == 1:           # EVENT: zz(seq - n), then the call
                committed += 1
                call = records.varint(payload, records.varint(payload, 0)[1])[0]
                calls[call] = calls.get(call, 0) + 1
        h["slot_capacity"] = committed
        h["committed"], h["calls"] = committed, calls
        return h
    for i in range(h["slot_capacity"]):
        off = h["slot_offset"] + i * h["slot_size"]
        if off + 128 > len(data):
            raise Fatal("trace %s is shorter than its slots" % path)
        if struct.unpack_from("<Q", data, off)[0] == i + 1:
            committed += 1
            call = struct.unpack_from("<H", data, off + 40)[0]
            calls[call] = calls.get(call, 0) + 1
    h["committed"], h["calls"] = committed, calls
    return h


SHMT_CALL_SHMCTL = 4


# --------------------------------------------------------------------------
# The examples' sources, the shim, what a tool says on stderr
# --------------------------------------------------------------------------

def source_line(name, pattern):
    with open(os.path.join(SOURCES, name)) as f:
        for n, line in enumerate(f, 1):
            if pattern in line:
                return n
    raise Fatal("%r not found in examples/%s" % (pattern, name))


SHIM = os.path.join(BUILD, "libshmtrace.so")


def one_line(res):
    return len(res.err.decode(errors="replace").strip().splitlines()) == 1


# --------------------------------------------------------------------------
# Reading reports
# --------------------------------------------------------------------------

def report_json(path):
    return viewer_json(["report", "--json", path])


def report_text(path, *opts):
    return viewer_text(["report"] + list(opts) + [path])


def map_json(path, *opts):
    return viewer_json(["map", "--json"] + list(opts) + [path])


def segs(rep, kind=None):
    return [s for s in rep.get("segments", []) if kind is None or s.get("kind") == kind]


def one_seg(rep, kind):
    found = segs(rep, kind)
    if len(found) != 1:
        raise Fatal("expected one %s segment, found %d: %s" %
                    (kind, len(found),
                     json.dumps(rep.get("segments"), sort_keys=True)[:600]))
    return found[0]


def summary_lines(err):
    """The launcher's end-of-run summary: its lines starting "=="."""
    return [l for l in err.decode(errors="replace").splitlines() if l.startswith("==")]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def run_tests(tests, words):
    """Run each (name, fn) of tests whose name contains one of words (every
    one when there are none), from the top of the checkout, with a clean-up
    on a signal.  A Fatal or an exception ends that test as one failure."""
    os.chdir(ROOT)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    for name, fn in tests:
        if words and not any(w in name for w in words):
            continue
        try:
            fn()
        except Fatal as e:
            fail(name, str(e))
        except Exception:
            fail(name, "exception: " + traceback.format_exc().strip().splitlines()[-1])
            sys.stderr.write(traceback.format_exc())


def tracer_checks(words):
    """A finish for main(): what the tracer must never do, over every trace
    the file read back (no private mapping recorded) and every run it made
    (nothing new left in /dev/shm or /proc/sysvipc/shm)."""
    if LOADED:
        priv = ["%s in %s" % (describe(e), label) for label, evs in LOADED for e in evs
                if e.get("call") == "mmap" and "MAP_PRIVATE" in fnames(arg(e, "flags"))]
        check(not priv, "no private mapping is recorded in any trace (%d traces)"
              % len(LOADED), "; ".join(priv[:3]))
    if not words or any(w in "leaks" for w in words):
        shm = [w for _, w in LEAKS if w.startswith("/dev/shm")]
        sysv = [w for _, w in LEAKS if not w.startswith("/dev/shm")]
        check(not shm, "leaks: the tracer left nothing new in /dev/shm",
              "; ".join("%s after %s" % (w, r) for r, w in LEAKS if w in shm))
        check(not sysv, "leaks: the tracer left nothing new in /proc/sysvipc/shm",
              "; ".join("%s after %s" % (w, r) for r, w in LEAKS if w in sysv))


def nothing_left(title):
    """A finish for main(): one check, named title, that no traced run of
    the file left anything behind; made only when every test ran."""
    def finish(words):
        if not words:
            check(not LEAKS, title,
                  "; ".join("%s after %s" % (w, r) for r, w in LEAKS))
    return finish


def main(argv, tests, finish=None, cleanup=None):
    """The main of a test file: run its tests (argv[1:] are the WORDs, see
    run_tests), then finish(words), its end-of-run checks; whatever
    happens, cleanup() then cleanup_all().  Returns the exit status: 1
    when any check failed."""
    words = argv[1:]
    try:
        run_tests(tests, words)
        if finish:
            finish(words)
    finally:
        if cleanup:
            cleanup()
        cleanup_all()
    return 1 if FAILED else 0
