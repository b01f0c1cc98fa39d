#!/usr/bin/env python3
"""End-to-end tests of shmtrace: run the examples under build/shmtrace and
check what build/shmview reads back from the trace.

Prints one line per check, "ok - name" or "not ok - name: why", which
tests/run-tests.sh counts; exits 1 when any check failed.

    python3 tests/e2e/harness.py [WORD...]  run only the tests whose name
                                       contains one of the WORDs

Python 3 standard library only.  Every run uses its own temporary
directory, its own SysV keys and POSIX names (tagged with this process's
pid), and removes whatever the examples leak on purpose.
"""

import ctypes
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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


TESTS, test = registry()


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


def dump_text(path, *opts):
    need(VIEWER)
    res = run([VIEWER, "dump"] + list(opts) + [path])
    if res.rc != 0:
        raise Fatal("shmview dump %s failed: %s" % (" ".join(opts), res.why()))
    return res.out.decode(errors="replace")


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
    """Header counters and the committed slots of a trace file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4096 or data[:8] != b"SHMTRACE":
        raise Fatal("%s is not a trace region" % path)
    h = {}
    h["version"], h["header_size"], _, h["slot_size"] = struct.unpack_from("<4I", data, 8)
    h["slot_offset"], h["slot_capacity"] = struct.unpack_from("<QQ", data, 32)
    h["head"] = struct.unpack_from("<Q", data, 256)[0]
    h["dropped"] = struct.unpack_from("<Q", data, 384)[0]
    committed, calls = 0, {}
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
# The launcher itself
# --------------------------------------------------------------------------


@test("launcher")
def t_launcher():
    need(LAUNCHER)
    path = os.path.join(TMP, "basic.trace")
    res = run([LAUNCHER, "-o", path, "--", "/bin/echo", "hello"], umask=0)
    if not check(res.rc == 0, "launcher: traces /bin/echo, exit 0", res.why()):
        raise Fatal("the launcher does not run a program")
    check(res.out == b"hello\n", "launcher: program stdout passes through unchanged",
          "stdout %r" % res.out)
    check(os.path.isfile(path), "launcher: -o FILE is written", "no file")
    st = os.lstat(path)
    check(st.st_mode & 0o7777 == 0o600, "launcher: trace file mode 0600 (even with umask 0)",
          "mode %o" % (st.st_mode & 0o7777))
    with open(path, "rb") as f:
        head = f.read(12)
    check(head[:8] == b"SHMTRACE" and struct.unpack("<I", head[8:12])[0] == 1,
          "launcher: file starts with magic SHMTRACE, version 1", "header %r" % head)

    with open(path, "rb") as f:
        original = f.read()
    res = run([LAUNCHER, "-o", path, "--", "/bin/true"])
    with open(path, "rb") as f:
        now = f.read()
    check(res.rc != 0 and res.err.strip() and now == original,
          "launcher: refuses to overwrite an existing trace without --force",
          "exit %s, stderr %r, file %s" % (res.rc, res.err, "unchanged" if now == original else "CHANGED"))
    res = run([LAUNCHER, "-o", path, "--force", "--", "/bin/true"])
    check(res.rc == 0 and os.path.getsize(path) > 0,
          "launcher: --force overwrites an existing trace", res.why())

    # A symlink as FILE is refused; even --force never writes through one
    # (it may replace the link itself).
    link = os.path.join(TMP, "link.trace")
    target = os.path.join(TMP, "link-target")
    os.symlink(target, link)
    res = run([LAUNCHER, "-o", link, "--", "/bin/true"])
    check(res.rc != 0 and res.err.strip() and not os.path.exists(target)
          and os.path.islink(link),
          "launcher: refuses a dangling symlink as FILE",
          "exit %s, target %s" % (res.rc, "created" if os.path.exists(target) else "absent"))
    res = run([LAUNCHER, "-o", link, "--force", "--", "/bin/true"])
    check(not os.path.exists(target) and (res.rc != 0 or not os.path.islink(link)),
          "launcher: --force never writes through a dangling symlink",
          "exit %s, target %s" % (res.rc, "created" if os.path.exists(target) else "absent"))
    link2 = os.path.join(TMP, "link2.trace")
    with open(target, "wb") as f:
        f.write(b"precious")
    os.symlink(target, link2)
    for opts in ([], ["--force"]):
        res = run([LAUNCHER, "-o", link2] + opts + ["--", "/bin/true"])
        with open(target, "rb") as f:
            kept = f.read() == b"precious"
        check(kept and (res.rc != 0 or not os.path.islink(link2)),
              "launcher: %s never writes through a symlink to an existing file"
              % ("--force" if opts else "without --force it"),
              "exit %s, target %s" % (res.rc, "unchanged" if kept else "OVERWRITTEN"))
        if not opts:
            check(res.rc != 0, "launcher: refuses a symlink to an existing file", res.why())

    res = run([LAUNCHER, "-o", os.path.join(TMP, "exit7.trace"), "--",
               "/bin/sh", "-c", "exit 7"])
    check(res.rc == 7, "launcher: exits with the program's exit status (7)", res.why())
    res = run([LAUNCHER, "-o", os.path.join(TMP, "kill.trace"), "--",
               "/bin/sh", "-c", "kill -TERM $$"])
    check(res.rc == 128 + signal.SIGTERM,
          "launcher: program killed by SIGTERM -> exit 143", res.why())
    res = run([LAUNCHER, "-q", "-o", os.path.join(TMP, "quiet.trace"), "--", "/bin/true"])
    check(res.rc == 0 and res.err == b"", "launcher: -q prints nothing on stderr",
          "exit %s stderr %r" % (res.rc, res.err))


# --------------------------------------------------------------------------
# SysV examples
# --------------------------------------------------------------------------

SERVER_OUT = ('server: wrote "hello from sysv-server"\n'
              'server: exiting attached, segment left behind\n')
SERVER_RM_OUT = ('server: wrote "hello from sysv-server"\n'
                 'server: detached and removed the segment\n')
CLIENT_OUT = 'client: read "hello from sysv-server"\n'
CLIENT_RM_OUT = CLIENT_OUT + 'client: removed the segment\n'


def source_line(name, pattern):
    with open(os.path.join(SOURCES, name)) as f:
        for n, line in enumerate(f, 1):
            if pattern in line:
                return n
    raise Fatal("%r not found in examples/%s" % (pattern, name))


@test("sysv-server")
def t_sysv_server():
    path, key = ftok_path()
    try:
        # Bare: the leak, then a client reads and another removes it.
        b_srv = bare("sysv-server", path)
        expect_bare("sysv-server: bare run output", b_srv, SERVER_OUT)
        shmid, seg = segment_by_key(key)
        check(seg is not None and seg["nattch"] == 0 and seg["size"] == 4096,
              "sysv-server: bare run leaks the segment (key 0x%x, nattch 0)" % key,
              "segment %r" % seg)
        b_cli = bare("sysv-client", path)
        expect_bare("sysv-client: bare run output", b_cli, CLIENT_OUT)
        b_rm = bare("sysv-client", "--remove", path)
        expect_bare("sysv-client --remove: bare run output", b_rm, CLIENT_RM_OUT)
        check(segment_by_key(key)[1] is None, "sysv-client --remove: segment gone (bare)",
              "still there")
        b_srv2 = bare("sysv-server", path)
        remove_key(key)
        check(b_srv2.out == b_srv.out, "sysv-server: deterministic output over two runs",
              "%r vs %r" % (b_srv.out, b_srv2.out))

        # Traced.
        srv = traced("sysv-server", path, leak_keys=[key])
        expect_same("sysv-server: stdout and exit status unchanged under the tracer", b_srv, srv)
        sid, seg = segment_by_key(key)
        check(seg is not None and seg["nattch"] == 0,
              "sysv-server: traced run leaks the segment as it does bare", "segment %r" % seg)
        main = srv.main_pid()
        g = one(srv.calls("shmget"), "shmget")
        check_args("sysv-server: shmget(key=ftok, size=4096, IPC_CREAT|0666)", g,
                   key=key, size=4096,
                   shmflg=lambda v: flags(v) == ({"IPC_CREAT"}, 0o666),
                   ret_=sid if sid is not None else (lambda r: r is not None and r >= 0),
                   errno_=None)
        check(g.get("pid") == main and g.get("tid") == main,
              "sysv-server: shmget recorded with the program's pid and tid", describe(g))
        a = one(srv.calls("shmat"), "shmat")
        check_args("sysv-server: shmat(shmid, NULL, 0) returns an address", a,
                   shmid=ret(g), shmaddr=lambda v: num(v) in (0, None),
                   shmflg=lambda v: fnames(v) == set(),
                   ret_=lambda r: is_addr(r), errno_=None)
        check(isinstance(a.get("ret"), str) and a["ret"].startswith("0x"),
              "sysv-server: shmat's address is a hex string in JSON", describe(a))
        segsz = (a.get("info") or {}).get("segsz")
        check(segsz in (None, 4096), "sysv-server: shmat info.segsz 4096", describe(a))
        check(not srv.calls("shmdt") and not srv.calls("shmctl"),
              "sysv-server: no shmdt, no shmctl recorded (the leak)",
              "; ".join(describe(e) for e in srv.calls("shmdt", "shmctl")))
        check(g.get("stack") is not None and isinstance(g.get("stack"), list),
              "sysv-server: events carry a stack array", describe(g))

        text = dump_text(srv.path)
        pat = (r"^\[pid %d\] shmget\(key=0x0*%x, size=4096, shmflg=IPC_CREAT\|0666\) = %d$"
               % (main, key, ret(g)))
        check(re.search(pat, text, re.M), "sysv-server: text dump shows the shmget line",
              "no line matching %s in %r" % (pat, text[:600]))

        # Symbolized stacks: a frame in main with examples/sysv-server.c:LINE.
        call_line = source_line("sysv-server.c", "int shmid = shmget(")
        frames = g.get("stack") or []
        mains = [f for f in frames if isinstance(f, dict) and f.get("symbol") == "main"]
        fm = mains[0] if mains else None
        check(fm is not None and str(fm.get("module", "")).endswith("sysv-server")
              and str(fm.get("file", "")).endswith("examples/sysv-server.c")
              and num(fm.get("line")) is not None
              and call_line <= num(fm.get("line")) <= call_line + 2,
              "sysv-server: JSON stack of shmget has main at examples/sysv-server.c:%d" % call_line,
              "frames %s" % json.dumps(frames)[:600])
        stext = dump_text(srv.path, "--stack")
        fpat = (r"^\s+#\d+ 0x[0-9a-fA-F]+ main\+0x[0-9a-fA-F]+ \([^)]*sysv-server\) "
                r"(?:\S*/)?sysv-server\.c:(\d+)\s*$")
        lines = [int(m.group(1)) for m in re.finditer(fpat, stext, re.M)]
        check(any(call_line <= n <= call_line + 2 for n in lines),
              "sysv-server: dump --stack shows main+0x.. (sysv-server) sysv-server.c:%d"
              % call_line, "main frames at lines %s; output %r" % (lines, stext[:800]))

        cli = traced("sysv-client", path)
        expect_same("sysv-client: stdout and exit status unchanged under the tracer", b_cli, cli)
        g = one(cli.calls("shmget"), "shmget")
        check_args("sysv-client: shmget(key, 0, 0) finds the server's segment", g,
                   key=key, size=0, shmflg=lambda v: "IPC_CREAT" not in fnames(v),
                   ret_=sid, errno_=None)
        a = one(cli.calls("shmat"), "shmat")
        check_args("sysv-client: shmat(shmid, NULL, SHM_RDONLY)", a, shmid=sid,
                   shmflg=lambda v: fnames(v) == {"SHM_RDONLY"}, ret_=is_addr)
        d = one(cli.calls("shmdt"), "shmdt")
        check_args("sysv-client: shmdt of the address shmat returned, ret 0", d,
                   shmaddr=lambda v: num(v) == ret(a), ret_=0, errno_=None)
        check(seq(g) < seq(a) < seq(d), "sysv-client: events in call order (seq)",
              "seqs %s %s %s" % (seq(g), seq(a), seq(d)))

        rm = traced("sysv-client", "--remove", path)
        expect_same("sysv-client --remove: stdout and exit status unchanged under the tracer",
                    b_rm, rm)
        c = one(rm.calls("shmctl"), "shmctl")
        check_args("sysv-client --remove: shmctl(shmid, IPC_RMID) = 0", c,
                   shmid=sid, cmd=cmd_is("IPC_RMID"), ret_=0, errno_=None)
        check(segment_by_key(key)[1] is None, "sysv-client --remove: segment gone (traced)",
              "still there")

        b_nc = bare("sysv-server", "--wait-client", 0, "--remove", path)
        expect_bare("sysv-server --wait-client 0: no client, exit 1", b_nc,
                    'server: wrote "hello from sysv-server"\nserver: no client within 0 s\n', 1)
        check(segment_by_key(key)[1] is None, "sysv-server --wait-client 0 --remove: cleans up",
              "segment left")
        b_srm = bare("sysv-server", "--remove", path)
        expect_bare("sysv-server --remove: bare run output", b_srm, SERVER_RM_OUT)
        srm = traced("sysv-server", "--remove", path)
        expect_same("sysv-server --remove: stdout and exit status unchanged under the tracer",
                    b_srm, srm)
        a = one(srm.calls("shmat"), "shmat")
        d = one(srm.calls("shmdt"), "shmdt")
        c = one(srm.calls("shmctl"), "shmctl")
        check(argn(d, "shmaddr") == ret(a) and ret(d) == 0 and cmd_is("IPC_RMID")(arg(c, "cmd"))
              and argn(c, "shmid") == argn(a, "shmid") and ret(c) == 0 and seq(d) < seq(c),
              "sysv-server --remove: shmdt(addr) then shmctl(IPC_RMID)",
              "%s / %s / %s" % (describe(a), describe(d), describe(c)))
        check(segment_by_key(key)[1] is None, "sysv-server --remove: nothing left behind",
              "segment still there")
    finally:
        remove_key(key)


@test("sysv-wait-client")
def t_sysv_wait_client():
    """Server and client started by one shell, all under one trace."""
    path, key = ftok_path()
    srv, cli = example("sysv-server"), example("sysv-client")
    script = ('"$1" --wait-client 30 --remove "$3" & s=$!; i=0; '
              'until "$2" --ack "$3" 2>/dev/null; do i=$((i+1)); '
              '[ $i -gt 400 ] && break; sleep 0.05; done; wait $s')
    try:
        t = traced(None, argv=["/bin/sh", "-c", script, "sh", srv, cli, path],
                   label="wait-client")
        check(t.rc == 0 and b"server: client acknowledged" in t.out,
              "sysv wait-client: server sees the client's ack under the tracer", t.why())
        sh = t.main_pid()
        starts = {e.get("pid"): e for e in t.calls("execve")
                  if num(arg(e, "ppid")) == sh}
        spid = [p for p, e in starts.items() if str(arg(e, "path")).endswith("sysv-server")]
        cpids = [p for p, e in starts.items() if str(arg(e, "path")).endswith("sysv-client")]
        check(len(spid) == 1 and cpids and sh not in spid + cpids,
              "sysv wait-client: server and client each start (execve) as children of the shell",
              "shell %s starts %s" % (sh, {p: arg(e, "path") for p, e in starts.items()}))
        if not spid:
            raise Fatal("no server process in the trace")
        g = one(t.calls("shmget", pid=spid[0]), "server shmget")
        acks = [e for e in t.calls("shmat") if e.get("pid") in cpids and success(e)]
        check(len(acks) == 1 and argn(acks[0], "shmid") == ret(g)
              and fnames(arg(acks[0], "shmflg")) == set(),
              "sysv wait-client: the acking client attached the server's shmid read-write",
              "server shmget %s, client shmats %s" % (describe(g), [describe(e) for e in acks]))
        check(len(t.pids()) >= 3, "sysv wait-client: shell, server and client have their own pids",
              "pids %s" % sorted(t.pids()))
    finally:
        remove_key(key)


@test("sysv-excl")
def t_sysv_excl():
    key = free_key()
    want = ("first shmget: created\nsecond shmget: EEXIST\n"
            "IPC_STAT: size 4096, mode 0600\nIPC_RMID: removed\n")
    try:
        b = bare("sysv-excl", "%x" % key)
        expect_bare("sysv-excl: bare run output", b, want)
        t = traced("sysv-excl", "%x" % key)
        expect_same("sysv-excl: stdout and exit status unchanged under the tracer", b, t)
        gets = sorted(t.calls("shmget"), key=seq)
        if len(gets) != 2:
            raise Fatal("expected 2 shmget events, got %s" % [describe(e) for e in gets])
        check_args("sysv-excl: first shmget(key, 4096, IPC_CREAT|IPC_EXCL|0600) succeeds",
                   gets[0], key=key, size=4096,
                   shmflg=lambda v: flags(v) == ({"IPC_CREAT", "IPC_EXCL"}, 0o600),
                   ret_=nonneg, errno_=None)
        check_args("sysv-excl: second shmget fails -1 EEXIST", gets[1], key=key,
                   ret_=-1, errno_="EEXIST")
        ctls = sorted(t.calls("shmctl"), key=seq)
        cmds = [sorted(fnames(arg(e, "cmd")) - {"IPC_64"}) for e in ctls]
        check(cmds == [["IPC_STAT"], ["IPC_RMID"]]
              and all(argn(e, "shmid") == ret(gets[0]) and ret(e) == 0 for e in ctls)
              and seq(gets[1]) < seq(ctls[0]),
              "sysv-excl: shmctl IPC_STAT then IPC_RMID on the created shmid",
              "; ".join(describe(e) for e in ctls))
        text = dump_text(t.path)
        check(re.search(r"shmget\(.*\) = -1 EEXIST \(File exists\)", text),
              "sysv-excl: text dump shows '= -1 EEXIST (File exists)'", repr(text[:600]))
    finally:
        remove_key(key)


@test("sysv-rdonly")
def t_sysv_rdonly():
    want = ("writer: filled 8192 bytes\nreader: 0 mismatches, checksum 1044480\n"
            "detached both, removed\n")
    b = bare("sysv-rdonly")
    expect_bare("sysv-rdonly: bare run output", b, want)
    t = traced("sysv-rdonly")
    expect_same("sysv-rdonly: stdout and exit status unchanged under the tracer", b, t)
    g = one(t.calls("shmget"), "shmget")
    check_args("sysv-rdonly: shmget(IPC_PRIVATE=0x0, 8192, IPC_CREAT|0600)", g,
               key=lambda v: v == "0x0" or num(v) == 0, size=8192,
               shmflg=lambda v: flags(v) == ({"IPC_CREAT"}, 0o600), ret_=nonneg)
    ats = sorted(t.calls("shmat"), key=seq)
    check(len(ats) == 2 and [fnames(arg(e, "shmflg")) for e in ats] == [set(), {"SHM_RDONLY"}]
          and all(argn(e, "shmid") == ret(g) and is_addr(ret(e)) for e in ats)
          and ret(ats[0]) != ret(ats[1]),
          "sysv-rdonly: shmat with shmflg 0, then with SHM_RDONLY, two addresses",
          "; ".join(describe(e) for e in ats))
    dts = t.calls("shmdt")
    check(sorted(argn(e, "shmaddr") for e in dts) == sorted(ret(e) for e in ats)
          and all(ret(e) == 0 for e in dts),
          "sysv-rdonly: both attachments detached", "; ".join(describe(e) for e in dts))
    c = one(t.calls("shmctl"), "shmctl")
    check_args("sysv-rdonly: IPC_RMID last", c, cmd=cmd_is("IPC_RMID"), shmid=ret(g), ret_=0)


@test("sysv-detach-twice")
def t_detach_twice():
    want = "first shmdt: 0\nsecond shmdt: -1 EINVAL\nremoved\n"
    b = bare("sysv-detach-twice")
    expect_bare("sysv-detach-twice: bare run output", b, want)
    t = traced("sysv-detach-twice")
    expect_same("sysv-detach-twice: stdout and exit status unchanged under the tracer", b, t)
    a = one(t.calls("shmat"), "shmat")
    dts = sorted(t.calls("shmdt"), key=seq)
    if len(dts) != 2:
        raise Fatal("expected 2 shmdt events, got %s" % [describe(e) for e in dts])
    check_args("sysv-detach-twice: first shmdt(addr) = 0", dts[0],
               shmaddr=lambda v: num(v) == ret(a), ret_=0, errno_=None)
    check_args("sysv-detach-twice: second shmdt(same addr) = -1 EINVAL", dts[1],
               shmaddr=lambda v: num(v) == ret(a), ret_=-1, errno_="EINVAL")
    c = one(t.calls("shmctl"), "shmctl")
    check_args("sysv-detach-twice: IPC_RMID", c, cmd=cmd_is("IPC_RMID"), ret_=0)


# --------------------------------------------------------------------------
# nginx-style zones
# --------------------------------------------------------------------------

ZONE = 1024 * 1024


def nginx_out(kind, n):
    return ("master: %s zone of 1048576 bytes\n"
            "master: %d workers done, 0 failed, slots ok\n"
            "master: total %d (expected %d)\nmaster: zone freed\n"
            % (kind, n, n * 1000, n * 1000))


def check_workers(name, t, n):
    """Master forked n workers; each worker shows up under its own pid."""
    forks = [e for e in t.calls("fork") if (ret(e) or 0) > 0]
    masters = {e.get("pid") for e in forks}
    check(len(forks) == n and len(masters) == 1, "%s: master records %d forks" % (name, n),
          "; ".join(describe(e) for e in forks) or "no fork events")
    if len(masters) != 1:
        raise Fatal("cannot tell the master")
    master = masters.pop()
    check(master == t.main_pid(), "%s: the forks come from the traced program" % name,
          "fork pid %s, main %s" % (master, t.main_pid()))
    workers = {ret(e) for e in forks}
    by_pid = {}
    for e in t.events:
        if e.get("call") != "reap":     # the launcher's own records
            by_pid.setdefault(e.get("pid"), []).append(e)
    missing = [w for w in workers if w not in by_pid]
    check(not missing, "%s: every forked worker has events under its own pid" % name,
          "workers %s without events (pids in trace: %s)" % (missing, sorted(by_pid)))
    strangers = set(by_pid) - workers - {master}
    check(not strangers, "%s: every other pid in the trace is a fork child of the master" % name,
          "unexpected pids %s" % sorted(strangers))
    check(all(e.get("tid") == e.get("pid") for w in workers for e in by_pid.get(w, [])),
          "%s: worker events have tid == pid" % name, "tids differ")
    last_worker = max((seq(e) for w in workers for e in by_pid.get(w, [])), default=0)
    return master, workers, last_worker


@test("nginx-zone")
def t_nginx_zone():
    start = time.monotonic()
    b = bare("nginx-zone", "--hold", 1, "anon", 2)
    expect_bare("nginx-zone --hold 1 anon 2: bare run output", b, nginx_out("anon", 2))
    check(time.monotonic() - start >= 1.0, "nginx-zone --hold 1: workers stay alive a second",
          "took %.2f s" % (time.monotonic() - start))
    for kind in ("anon", "devzero", "sysv"):
        name = "nginx-zone %s" % kind
        try:
            b = bare("nginx-zone", kind)
            expect_bare("%s: bare run output" % name, b, nginx_out(kind, 4))
            t = traced("nginx-zone", kind, label="nginx-" + kind)
            expect_same("%s: stdout and exit status unchanged under the tracer" % name, b, t)
            master, workers, last_worker = check_workers(name, t, 4)
            first_fork = min(seq(e) for e in t.calls("fork", pid=master))
            if kind in ("anon", "devzero"):
                m = one([e for e in t.calls("mmap", pid=master) if argn(e, "length") == ZONE],
                        "1 MiB mmap")
                if kind == "anon":
                    check_args("%s: mmap(NULL, 1 MiB, PROT_READ|PROT_WRITE, "
                               "MAP_SHARED|MAP_ANONYMOUS, -1, 0), info anon" % name, m,
                               addr=lambda v: num(v) in (0, None),
                               prot=lambda v: fnames(v) == {"PROT_READ", "PROT_WRITE"},
                               flags=lambda v: fnames(v) == {"MAP_SHARED", "MAP_ANONYMOUS"},
                               fd=-1, offset=0, ret_=is_addr)
                    check(info_obj(m) == "anon", "%s: mmap info.object anon" % name, describe(m))
                else:
                    check_args("%s: mmap(NULL, 1 MiB, PROT_READ|PROT_WRITE, MAP_SHARED, "
                               "fd of /dev/zero, 0)" % name, m,
                               prot=lambda v: fnames(v) == {"PROT_READ", "PROT_WRITE"},
                               flags=lambda v: fnames(v) == {"MAP_SHARED"},
                               fd=is_fd, offset=0, ret_=is_addr)
                    check(info_obj(m) == "devzero", "%s: mmap info.object devzero" % name,
                          describe(m))
                check(seq(m) < first_fork, "%s: zone mapped before the forks" % name,
                      describe(m))
                u = one([e for e in t.calls("munmap", pid=master)
                         if argn(e, "addr") == ret(m)], "munmap of the zone")
                check_args("%s: munmap(zone, 1 MiB) = 0 after the workers" % name, u,
                           length=ZONE, ret_=0)
                check(seq(u) > last_worker, "%s: munmap after every worker event" % name,
                      "munmap seq %s, last worker seq %s" % (seq(u), last_worker))
            else:
                g = one(t.calls("shmget", pid=master), "shmget")
                check_args("%s: shmget(IPC_PRIVATE=0x0, 1 MiB, SHM_R|SHM_W|IPC_CREAT)" % name,
                           g, key=lambda v: v == "0x0" or num(v) == 0, size=ZONE,
                           shmflg=lambda v: flags(v) == ({"IPC_CREAT"}, 0o600),
                           ret_=nonneg)
                a = one(t.calls("shmat", pid=master), "shmat")
                check_args("%s: shmat(shmid, NULL, 0)" % name, a, shmid=ret(g),
                           shmflg=lambda v: fnames(v) == set(), ret_=is_addr)
                c = one(t.calls("shmctl", pid=master), "shmctl")
                check_args("%s: shmctl(shmid, IPC_RMID) = 0" % name, c, shmid=ret(g),
                           cmd=cmd_is("IPC_RMID"), ret_=0)
                mine = sorted((e for e in t.events if e.get("pid") == master), key=seq)
                after = [e for e in mine if seq(e) > seq(a)]
                check(seq(g) < seq(a) < seq(c) < first_fork and after and after[0] is c,
                      "%s: IPC_RMID is the master's next call right after shmat, before fork"
                      % name, "master events after shmat: %s" %
                      [e.get("call") for e in after[:5]])
                d = one(t.calls("shmdt", pid=master), "shmdt")
                check_args("%s: shmdt(zone) = 0 after the workers" % name, d,
                           shmaddr=lambda v: num(v) == ret(a), ret_=0)
                check(seq(d) > last_worker, "%s: shmdt after every worker event" % name,
                      "shmdt seq %s, last worker seq %s" % (seq(d), last_worker))
        except Fatal as e:
            fail(name, str(e))


# --------------------------------------------------------------------------
# POSIX shm and memfd
# --------------------------------------------------------------------------

WRITER_OUT = 'writer: wrote "hello from posix-writer" (4096 bytes object)\n'
READER_OUT = 'reader: 4096 bytes, read "hello from posix-writer"\n'


@test("posix")
def t_posix():
    name = posix_name("posix")
    base = name.lstrip("/")
    try:
        bw = bare("posix-writer", name)
        expect_bare("posix-writer: bare run output", bw, WRITER_OUT + "writer: object left in place\n")
        check(base in dev_shm(), "posix-writer: bare run leaves /dev/shm/%s" % base, "absent")
        br = bare("posix-reader", name)
        expect_bare("posix-reader: bare run output", br, READER_OUT)
        bru = bare("posix-reader", "--unlink", name)
        expect_bare("posix-reader --unlink: bare run output", bru, READER_OUT + "reader: unlinked\n")
        check(base not in dev_shm(), "posix-reader --unlink: object gone (bare)", "still there")
        bwu = bare("posix-writer", "--unlink", name)
        expect_bare("posix-writer --unlink: bare run output", bwu, WRITER_OUT + "writer: unlinked\n")

        w = traced("posix-writer", name, leak_names=[name])
        expect_same("posix-writer: stdout and exit status unchanged under the tracer", bw, w)
        check(base in dev_shm(), "posix-writer: traced run leaves /dev/shm/%s as bare" % base,
              "absent")
        o = one(w.calls("shm_open"), "shm_open")
        check_args("posix-writer: shm_open(name, O_RDWR|O_CREAT, 0600) = fd", o,
                   name=name, oflag=lambda v: fnames(v) == {"O_RDWR", "O_CREAT"},
                   mode=lambda v: num(v) == 0o600 or v == "0600", ret_=is_fd, errno_=None)
        fd = ret(o)
        f = one(w.calls("ftruncate"), "ftruncate")
        check_args("posix-writer: ftruncate(fd, 4096) = 0", f, fd=fd, length=4096, ret_=0)
        m = one(w.calls("mmap"), "mmap")
        check_args("posix-writer: mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)", m,
                   length=4096, prot=lambda v: fnames(v) == {"PROT_READ", "PROT_WRITE"},
                   flags=lambda v: fnames(v) == {"MAP_SHARED"}, fd=fd, offset=0, ret_=is_addr)
        check(info_obj(m) == "posix", "posix-writer: mmap info.object posix", describe(m))
        u = one(w.calls("munmap"), "munmap")
        check_args("posix-writer: munmap(addr, 4096) = 0", u,
                   addr=lambda v: num(v) == ret(m), length=4096, ret_=0)
        c = [e for e in w.calls("close") if argn(e, "fd") == fd]
        check(len(c) == 1 and ret(c[0]) == 0 and seq(c[0]) > seq(u),
              "posix-writer: close(fd) = 0 after munmap", "; ".join(describe(e) for e in c))
        check(not w.calls("shm_unlink"), "posix-writer: no shm_unlink (the leak)",
              "; ".join(describe(e) for e in w.calls("shm_unlink")))
        check(seq(o) < seq(f) < seq(m) < seq(u), "posix-writer: calls in program order",
              "seqs %s" % [seq(o), seq(f), seq(m), seq(u)])

        r = traced("posix-reader", name, leak_names=[name])
        expect_same("posix-reader: stdout and exit status unchanged under the tracer", br, r)
        o = one(r.calls("shm_open"), "shm_open")
        check_args("posix-reader: shm_open(name, O_RDONLY, 0)", o, name=name,
                   oflag=lambda v: not fnames(v) & {"O_RDWR", "O_WRONLY", "O_CREAT"},
                   ret_=is_fd)
        m = one(r.calls("mmap"), "mmap")
        check_args("posix-reader: mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0)", m,
                   length=4096, prot=lambda v: fnames(v) == {"PROT_READ"},
                   flags=lambda v: fnames(v) == {"MAP_SHARED"}, fd=ret(o), ret_=is_addr)
        check(info_obj(m) == "posix", "posix-reader: mmap info.object posix", describe(m))

        ru = traced("posix-reader", "--unlink", name)
        expect_same("posix-reader --unlink: stdout and exit status unchanged under the tracer",
                    bru, ru)
        s = one(ru.calls("shm_unlink"), "shm_unlink")
        check_args("posix-reader --unlink: shm_unlink(name) = 0", s, name=name, ret_=0)
        check(base not in dev_shm(), "posix-reader --unlink: object gone (traced)", "still there")

        wu = traced("posix-writer", "--unlink", name)
        expect_same("posix-writer --unlink: stdout and exit status unchanged under the tracer",
                    bwu, wu)
        s = one(wu.calls("shm_unlink"), "shm_unlink")
        check_args("posix-writer --unlink: shm_unlink(name) = 0", s, name=name, ret_=0)
    finally:
        unlink_shm(name)


@test("memfd")
def t_memfd():
    want = ('parent: wrote "hello through a memfd"\n'
            'child: read "hello through a memfd"\nparent: child ok\n')
    b = bare("memfd-share")
    expect_bare("memfd-share: bare run output", b, want)
    t = traced("memfd-share")
    expect_same("memfd-share: stdout and exit status unchanged under the tracer", b, t)
    main = t.main_pid()
    c = one(t.calls("memfd_create"), "memfd_create")
    check_args("memfd-share: memfd_create(\"shmtrace-memfd\", MFD_CLOEXEC) = fd", c,
               name="shmtrace-memfd", flags=lambda v: "MFD_CLOEXEC" in fnames(v), ret_=is_fd)
    fd = ret(c)
    f = one(t.calls("ftruncate"), "ftruncate")
    check_args("memfd-share: ftruncate(fd, 4096)", f, fd=fd, length=4096, ret_=0)
    m = one(t.calls("mmap"), "mmap")
    check_args("memfd-share: mmap(MAP_SHARED) of the memfd", m, fd=fd, length=4096,
               flags=lambda v: fnames(v) == {"MAP_SHARED"}, ret_=is_addr)
    check(info_obj(m) == "memfd", "memfd-share: mmap info.object memfd", describe(m))
    forks = [e for e in t.calls("fork", pid=main) if (ret(e) or 0) > 0]
    check(len(forks) == 1, "memfd-share: one fork recorded", "; ".join(describe(e) for e in forks))
    child = ret(forks[0]) if forks else None
    cev = [e for e in t.events if e.get("pid") == child]
    check(child and child != main and cev, "memfd-share: the child's events carry its own pid",
          "child %s, pids %s" % (child, sorted(t.pids())))
    u = one(t.calls("munmap", pid=main), "munmap")
    check(argn(u, "addr") == ret(m) and ret(u) == 0
          and seq(u) > max([seq(e) for e in cev], default=0),
          "memfd-share: parent unmaps after the child is done", describe(u))
    cl = [e for e in t.calls("close", pid=main) if argn(e, "fd") == fd]
    check(len(cl) == 1 and ret(cl[0]) == 0, "memfd-share: close(memfd) = 0",
          "; ".join(describe(e) for e in cl))


# --------------------------------------------------------------------------
# Process events
# --------------------------------------------------------------------------

MISSING = "/nonexistent/shmtrace-no-such-program"
SPAWN_OUT = ("child-shm: created and unlinked a POSIX object\nfork+execv: exit 0\n"
             "child-noenv: mapped and unmapped a shared page\nvfork+execve: exit 0\n"
             "posix_spawn: exit 0\nexecv of a missing program: ENOENT\n"
             "thread: SysV segment created and removed\nspawn-exec: done\n")


@test("spawn-exec")
def t_spawn_exec():
    name = posix_name("spawn")
    try:
        b = bare("spawn-exec", name)
        expect_bare("spawn-exec: bare run output", b, SPAWN_OUT)
        t = traced("spawn-exec", name)
        expect_same("spawn-exec: stdout and exit status unchanged under the tracer", b, t)
        parent = t.main_pid()
        starts = {}
        for e in t.calls("execve"):
            if success(e) and ret(e) == 0:
                starts.setdefault(e.get("pid"), e)

        def started(child, what, path_end, argv_has=None):
            s = starts.get(child)
            good = (s is not None and num(arg(s, "ppid")) == parent
                    and str(arg(s, "path")).endswith(path_end)
                    and (argv_has is None or argv_has in json.dumps(arg(s, "argv"))))
            check(good, "spawn-exec: the %s child records an execve start with ppid = parent"
                  % what, "child %s start %s (parent %s)" % (child, describe(s), parent))

        fk = [e for e in t.calls("fork", pid=parent) if (ret(e) or 0) > 0]
        check(len(fk) == 1, "spawn-exec: fork recorded in the parent",
              "; ".join(describe(e) for e in fk))
        if fk:
            c1 = ret(fk[0])
            started(c1, "fork+execv", "spawn-exec", "--child-shm")
            o = [e for e in t.calls("shm_open", pid=c1) if arg(e, "name") == name]
            u = [e for e in t.calls("shm_unlink", pid=c1) if arg(e, "name") == name]
            check(len(o) == 1 and len(u) == 1 and is_fd(ret(o[0])) and ret(u[0]) == 0,
                  "spawn-exec: the exec'd child's shm_open/shm_unlink carry its pid",
                  "shm_open %s shm_unlink %s" % ([describe(e) for e in o], [describe(e) for e in u]))

        vf = [e for e in t.calls("vfork", pid=parent) if (ret(e) or 0) > 0]
        check(len(vf) == 1, "spawn-exec: vfork recorded in the parent",
              "; ".join(describe(e) for e in vf))
        if vf:
            c2 = ret(vf[0])
            started(c2, "vfork+execve (no LD_PRELOAD in its env)", "spawn-exec", "--child-noenv")
            m = [e for e in t.calls("mmap", pid=c2)
                 if fnames(arg(e, "flags")) == {"MAP_SHARED", "MAP_ANONYMOUS"}]
            check(len(m) == 1 and info_obj(m[0]) == "anon",
                  "spawn-exec: the vfork child stays traced despite its sanitised environment",
                  "child %s events %s" % (c2, [e.get("call") for e in t.events if e.get("pid") == c2]))

        sp = t.calls("posix_spawn", pid=parent)
        check(len(sp) == 1 and arg(sp[0], "path") == "/bin/true" and ret(sp[0]) == 0
              and (argn(sp[0], "pid") or 0) > 0,
              "spawn-exec: posix_spawn(\"/bin/true\") = 0 with the child's pid",
              "; ".join(describe(e) for e in sp))
        if sp:
            started(argn(sp[0], "pid"), "posix_spawn", "/bin/true")

        bad = [e for e in t.events if str(e.get("call", "")).startswith("exec")
               and arg(e, "path") == MISSING]
        check(len(bad) == 1 and bad[0].get("pid") == parent and ret(bad[0]) == -1
              and errno_of(bad[0]) == "ENOENT",
              "spawn-exec: the exec of a missing program shows -1 ENOENT in the parent",
              "; ".join(describe(e) for e in bad) or "no event")
        if bad:
            check(bad[0].get("call") == "execv", "spawn-exec: the failed exec is named execv",
                  describe(bad[0]))

        g = [e for e in t.calls("shmget", pid=parent) if e.get("tid") != parent]
        ctl = [e for e in t.calls("shmctl", pid=parent) if e.get("tid") != parent]
        check(len(g) == 1 and (num(arg(g[0], "key")) == 0) and nonneg(ret(g[0])) and len(ctl) == 1
              and ctl[0].get("tid") == g[0].get("tid") and cmd_is("IPC_RMID")(arg(ctl[0], "cmd"))
              and argn(ctl[0], "shmid") == ret(g[0]),
              "spawn-exec: the thread's shmget/IPC_RMID carry the parent pid and the thread's tid",
              "shmget %s shmctl %s" % ([describe(e) for e in g], [describe(e) for e in ctl]))
        if g:
            ts = [e for e in t.calls("thread_start") if e.get("tid") == g[0].get("tid")]
            check(len(ts) == 1 and ts[0].get("pid") == parent and seq(ts[0]) < seq(g[0]),
                  "spawn-exec: thread_start recorded for the thread", "; ".join(describe(e) for e in ts))
        child_pids = t.pids() - {parent}
        check(len(child_pids) >= 3, "spawn-exec: the three children have pids of their own",
              "pids %s" % sorted(t.pids()))
    finally:
        unlink_shm(name)


# --------------------------------------------------------------------------
# Signals and threads
# --------------------------------------------------------------------------

@test("sig-mmap")
def t_sig_mmap():
    want = "sig-mmap: 200 main-loop iterations, ok\n"
    b = bare("sig-mmap", 200)
    expect_bare("sig-mmap: bare run output", b, want)
    t = traced("sig-mmap", 200)
    expect_same("sig-mmap: stdout and exit status unchanged under the tracer", b, t)
    main = t.main_pid()
    sysv = t.calls("shmget", "shmat", "shmdt", "shmctl")
    check(sysv and all(success(e) for e in sysv),
          "sig-mmap: every recorded SysV call succeeded",
          "; ".join(describe(e) for e in sysv if not success(e))[:400] or "no events")
    main_gets = [e for e in t.calls("shmget") if e.get("tid") == main]
    check(len(main_gets) >= 200, "sig-mmap: at least 200 shmget in the main thread",
          "%d" % len(main_gets))
    tids = {e.get("tid") for e in t.calls("shmget")}
    check(len(tids) >= 3, "sig-mmap: shmget from three threads", "tids %s" % sorted(tids))
    maps = [e for e in t.calls("mmap") if argn(e, "length") == 4096]
    unmaps = [e for e in t.calls("munmap") if argn(e, "length") == 4096]
    check(maps and all(fnames(arg(e, "flags")) == {"MAP_SHARED", "MAP_ANONYMOUS"}
                       and info_obj(e) == "anon" for e in maps),
          "sig-mmap: the handler's shared anonymous mmaps are recorded",
          "%d mmaps" % len(maps))
    h = read_region(t.path)
    if h["dropped"] == 0:
        check(sorted(ret(e) for e in maps) == sorted(argn(e, "addr") for e in unmaps)
              or len(maps) == len(unmaps),
              "sig-mmap: every handler mmap has its munmap",
              "%d mmap, %d munmap recorded (a munmap whose mapping the shim "
              "no longer tracks goes unrecorded)" % (len(maps), len(unmaps)))
    else:
        fail("sig-mmap: every handler mmap has its munmap",
             "%d events dropped with the default region size" % h["dropped"])


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
            b = bare("churn", mode, n)
            expect_bare("%s: bare run output" % name, b, "churn %s: %d iterations\n" % (mode, n))
            t = traced("churn", mode, n, label="churn-" + mode)
            expect_same("%s: stdout and exit status unchanged under the tracer" % name, b, t)
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
    check(hs["committed"] + hs["dropped"] == hf["committed"],
          "drops: recorded + dropped equals what the program did (%d events)" % hf["committed"],
          "recorded %d + dropped %d != %d" % (hs["committed"], hs["dropped"], hf["committed"]))
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
    make("truncated slots", data[:max(4096 + 64, len(data) // 2)]
         if len(data) > 8192 else data[:4096 + 64])
    rnd = random.Random(1)
    make("random bytes", bytes(rnd.randrange(256) for _ in range(65536)))
    make("wrong version", data[:8] + struct.pack("<I", 2) + data[12:])
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
# Robustness: launcher errors, preloading by hand, hostile environments
# --------------------------------------------------------------------------

SHIM = os.path.join(BUILD, "libshmtrace.so")


def one_line(res):
    return len(res.err.decode(errors="replace").strip().splitlines()) == 1


@test("launcher-errors")
def t_launcher_errors():
    need(LAUNCHER)
    path = os.path.join(TMP, "nope.trace")
    res = run([LAUNCHER, "-o", path, "--", os.path.join(TMP, "no-such-program")])
    check(res.rc == 127 and one_line(res) and not os.path.exists(path),
          "launcher-errors: a missing program exits 127 with one line, no trace file",
          res.why())
    marker = os.path.join(TMP, "ran")
    res = run([LAUNCHER, "-o", path, "--size", "60T", "--", "/bin/sh", "-c",
               "touch " + marker])
    check(res.rc == 125 and one_line(res) and b"cannot create" in res.err
          and not os.path.exists(path) and not os.path.exists(marker),
          "launcher-errors: a trace the disk cannot hold fails before the program starts",
          res.why())
    # tmpfs answers ENOSPC at once: the message must say the size is the problem
    shm_path = "/dev/shm/%s-full.trace" % TAG
    res = run([LAUNCHER, "-o", shm_path, "--size", "1T", "--", "/bin/sh", "-c",
               "touch " + marker])
    check(res.rc == 125 and one_line(res) and b"cannot hold" in res.err
          and not os.path.exists(shm_path) and not os.path.exists(marker),
          "launcher-errors: a full filesystem is reported as such (ENOSPC)", res.why())
    for bad in (["--size", "lots"], ["--depth", "9999"], ["--bogus"], []):
        res = run([LAUNCHER, "-o", path] + bad + (["--", "/bin/true"] if bad else []))
        check(res.rc == 2 and one_line(res) and not os.path.exists(path),
              "launcher-errors: usage error %r exits 2 with one line" % " ".join(bad),
              res.why())


@test("untraceable")
def t_untraceable():
    """Statically linked and setuid programs run, untraced, and we say why."""
    need(LAUNCHER)
    src = os.path.join(TMP, "static.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 5; }\n")
    static = os.path.join(TMP, "static-prog")
    cc = run(["cc", "-static", "-o", static, src])
    if cc.rc == 0:
        res = run([LAUNCHER, "-q", "-o", trace_path("static"), "--", static])
        check(res.rc == 5 and b"statically linked" in res.err and one_line(res),
              "untraceable: a static program runs (exit 5), and the launcher says why",
              res.why())
    else:
        print("# skip untraceable static: no static libc (%s)" % cc.why(), flush=True)
    if os.geteuid() == 0:
        suid = os.path.join(TMP, "suid-true")
        shutil.copy2("/bin/true", suid)
        os.chown(suid, 65534, 65534)
        os.chmod(suid, 0o4755)
        res = run([LAUNCHER, "-q", "-o", trace_path("suid"), "--", suid])
        check(res.rc == 0 and b"setuid" in res.err and one_line(res),
              "untraceable: a setuid program of another user runs, untraced, and we say why",
              res.why())


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


@test("preload-by-hand")
def t_preload_by_hand():
    need(SHIM)
    key = free_key()
    path = os.path.join(TMP, "by-hand.trace")
    env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_OUTPUT=path)
    env.pop("SHMTRACE_REGION", None)
    try:
        res = run(["/bin/sh", "-c", "%s %x" % (example("sysv-excl"), key)], env=env)
        check(res.rc == 0 and res.err == b"", "preload-by-hand: runs quietly", res.why())
        check(os.path.isfile(path) and os.stat(path).st_mode & 0o777 == 0o600,
              "preload-by-hand: the first process creates SHMTRACE_OUTPUT, mode 0600",
              "missing or wrong mode")
        evs = dump_json(path)
        starts = [e for e in evs if e.get("call") == "execve"]
        gets = [e for e in evs if e.get("call") == "shmget"]
        check(len(starts) >= 2 and gets and gets[0]["pid"] != starts[0]["pid"],
              "preload-by-hand: the shell and its child share one trace",
              "; ".join(describe(e) for e in starts + gets))
        check([errno_of(e) for e in sorted(gets, key=seq)] == [None, "EEXIST"],
              "preload-by-hand: the child's calls are recorded",
              "; ".join(describe(e) for e in gets))
    finally:
        remove_key(key)


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
        t = traced("sysv-excl", "%x" % key, label="region-src")
        with open(t.path, "rb") as f:
            good = bytearray(f.read())
        struct.pack_into("<I", good, 28, struct.unpack_from("<I", good, 28)[0] & ~2)
        cases = [("version", 8, "<I", 2, b"version"),
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


@test("close-all")
def t_close_all():
    key = free_key()
    try:
        t = traced("close-all", example("sysv-excl"), "%x" % key)
        check(t.rc == 0, "close-all: a program that closes every fd runs to the end",
              t.why())
        child = [e for e in t.calls("execve")
                 if e.get("args", {}).get("path", "").endswith("/sysv-excl")]
        gets = t.calls("shmget")
        check(child and len(gets) == 2 and all(e["pid"] == child[0]["pid"] for e in gets),
              "close-all: its child is still traced after every fd was closed",
              "; ".join(describe(e) for e in t.events[:12]))
    finally:
        remove_key(key)


@test("env-dropped")
def t_env_dropped():
    key = free_key()
    try:
        t = traced("env", argv=["/usr/bin/env", "-i", example("sysv-excl"), "%x" % key],
                   label="env-i")
        check(t.rc == 0, "env-dropped: env -i runs", t.why())
        gets = t.calls("shmget")
        check(len(gets) == 2 and errno_of(sorted(gets, key=seq)[1]) == "EEXIST",
              "env-dropped: a program exec'd with an empty environment is still traced",
              "; ".join(describe(e) for e in t.events[:12]))
    finally:
        remove_key(key)


@test("live-read")
def t_live_read():
    """The trace file can be read while the run goes on."""
    need(LAUNCHER)
    path = trace_path("live")
    p = subprocess.Popen([LAUNCHER, "-q", "-o", path, "--", example("nginx-zone"),
                          "--hold", "2", "anon", "3"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        seen, deadline = [], time.time() + 1.8
        while time.time() < deadline:
            time.sleep(0.2)
            if os.path.exists(path):
                res = run([VIEWER, "dump", "--json", path])
                if res.rc == 0:
                    seen = [json.loads(l) for l in res.out.decode().splitlines()]
                    if len([e for e in seen if e.get("call") == "fork"]) == 3:
                        break
        running = p.poll() is None
        calls = [e.get("call") for e in seen]
        check(running and "mmap" in calls and calls.count("fork") == 3
              and "exit" not in [c for e, c in zip(seen, calls) if e.get("pid") == seen[0].get("pid")],
              "live-read: mmap and the 3 forks are readable while the master still runs",
              "running=%s calls=%s" % (running, calls))
    finally:
        _, err = p.communicate(timeout=TIMEOUT)
    final = [e.get("call") for e in dump_json(path)]
    check(p.returncode == 0 and final.count("exit") == 4 and "munmap" in final,
          "live-read: the final trace holds the whole run", "exit %s calls %s"
          % (p.returncode, final))


def map_json(path, *opts):
    res = run([VIEWER, "map", "--json"] + list(opts) + [path])
    if res.rc != 0:
        raise Fatal("shmview map failed: " + res.why())
    return json.loads(res.out.decode())


@test("map")
def t_map():
    """The attach map while the run goes on, at a past moment, and at the end."""
    need(LAUNCHER)
    path = trace_path("map")
    p = subprocess.Popen([LAUNCHER, "-q", "-o", path, "--", example("nginx-zone"),
                          "--hold", "2", "anon", "3"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    live = None
    try:
        deadline = time.time() + 1.8
        while time.time() < deadline and live is None:
            time.sleep(0.2)
            if not os.path.exists(path):
                continue
            m = map_json(path)
            anon = [s for s in m["segments"] if s["kind"] == "anon"]
            if anon and len(anon[0]["attachments"]) == 4:
                live = m
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
    evs = dump_json(path)
    master = min(evs, key=seq)["pid"]
    worker_exits = [e["time_ns"] for e in evs if e.get("call") == "exit" and e["pid"] != master]
    unmap = [e["time_ns"] for e in evs if e.get("call") == "munmap" and e["pid"] == master]
    if len(worker_exits) == 3 and unmap and max(worker_exits) < unmap[0]:
        at = (max(worker_exits) + unmap[0]) // 2
        mid = map_json(path, "--at", str(at))
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


def main(argv):
    words = argv[1:]
    try:
        run_tests(TESTS, words)
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
    finally:
        cleanup_all()
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
