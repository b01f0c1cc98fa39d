"""The harness of the tests of what shmview knows without a trace
(tests/e2e/audit.py): helper processes that make shared memory of every
family and say what they made, and reading back what shmview says.

Each helper is a small Python program (ctypes and the libc, no module
beyond the standard library) that makes segments of every family - SysV,
POSIX, memfd, shared anonymous, /dev/zero, a shared file, a named
semaphore - some left attached, some leaked on purpose (a SysV segment
never removed whose creator is gone, a /dev/shm object never unlinked),
some marked for removal while attached - and prints what it made as one
JSON line: ids, keys, names, inodes, sizes, the addresses it got.
Whatever a helper was asked to make is removed again by cleanup_made().
"""

import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import time

import harness
from harness import (Fatal, check, dev_shm, remove_key,
                     sysv_segments, unlink_shm, viewer_json)

PAGE = os.sysconf("SC_PAGE_SIZE")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
NOBODY = "nobody"
MADE_KEYS = set()       # every SysV key a helper was asked to make
MADE_NAMES = set()      # every /dev/shm entry a helper was asked to make


# --------------------------------------------------------------------------
# The helper: makes what its spec says, prints it, holds until stdin closes
# --------------------------------------------------------------------------

HELPER = r'''
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                          ctypes.c_uint]
libc.memfd_create.argtypes = [ctypes.c_char_p, ctypes.c_uint]
IPC_CREAT, IPC_EXCL, IPC_RMID, SHM_RDONLY = 0o1000, 0o2000, 0, 0o10000
PROT_READ, PROT_WRITE, MAP_SHARED, MAP_ANON = 1, 2, 1, 0x20
FAILED = (None, ctypes.c_void_p(-1).value)

def die(what):
    e = ctypes.get_errno()
    sys.stderr.write("helper: %s: %s\n" % (what, os.strerror(e)))
    os._exit(3)

def ckey(k):
    return k - (1 << 32) if k >= (1 << 31) else k

def mapfd(fd, size, ro, offset=0):
    prot = PROT_READ if ro else PROT_READ | PROT_WRITE
    a = libc.mmap(None, size, prot, MAP_SHARED, fd, offset)
    if a in FAILED:
        die("mmap")
    return a

def make(spec, out):
    for s in spec.get("sysv", []):
        shmid = libc.shmget(ckey(s["key"]), s["size"], IPC_CREAT | IPC_EXCL | 0o600)
        if shmid < 0:
            die("shmget")
        a = None
        if s.get("attach", True):
            a = libc.shmat(shmid, None, SHM_RDONLY if s.get("ro") else 0)
            if a in FAILED:
                die("shmat")
        if s.get("rmid"):
            libc.shmctl(shmid, IPC_RMID, None)
        out["sysv"].append(dict(s, shmid=shmid, addr=a))
    for s in spec.get("attach", []):          # more attaches by key
        shmid = libc.shmget(ckey(s["key"]), 0, 0)
        a = libc.shmat(shmid, None, SHM_RDONLY if s.get("ro") else 0)
        if shmid < 0 or a in FAILED:
            die("attach")
        out["attach"].append(dict(s, shmid=shmid, addr=a))
    for s in spec.get("posix", []):
        path = "/dev/shm/" + s["name"].lstrip("/")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.ftruncate(fd, s["size"])
        ino = os.fstat(fd).st_ino
        a = mapfd(fd, s["size"], s.get("ro")) if s.get("map", True) else None
        if not s.get("keep_fd"):
            os.close(fd)
        if s.get("unlink"):
            os.unlink(path)
        out["posix"].append(dict(s, inode=ino, addr=a))
    for s in spec.get("memfd", []):
        fd = libc.memfd_create(s["name"].encode(), 0)
        if fd < 0:
            die("memfd_create")
        os.ftruncate(fd, s["size"])
        out["memfd"].append(dict(s, inode=os.fstat(fd).st_ino,
                                 addr=mapfd(fd, s["size"], False)))
        os.close(fd)
    for s in spec.get("anon", []):
        a = libc.mmap(None, s["size"], PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANON, -1, 0)
        if a in FAILED:
            die("mmap anon")
        out["anon"].append(dict(s, addr=a))
    for s in spec.get("devzero", []):
        fd = os.open("/dev/zero", os.O_RDWR)
        out["devzero"].append(dict(s, addr=mapfd(fd, s["size"], False)))
        os.close(fd)
    for s in spec.get("file", []):
        fd = os.open(s["path"], os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(fd, s["size"])
        out["file"].append(dict(s, inode=os.fstat(fd).st_ino,
                                addr=mapfd(fd, s["size"], True)))
        os.close(fd)
    for s in spec.get("sem", []):
        if libc.sem_open(s["name"].encode(), os.O_CREAT, 0o600, 1) in FAILED:
            die("sem_open")
        out["sem"].append(dict(s, inode=os.stat(
            "/dev/shm/sem." + s["name"].lstrip("/")).st_ino))

def report(role, spec):
    out = {"role": role, "pid": os.getpid(), "ppid": os.getppid(),
           "sysv": [], "attach": [], "posix": [], "memfd": [], "anon": [],
           "devzero": [], "file": [], "sem": []}
    make(spec, out)
    return out

def say(out):
    # one write of less than PIPE_BUF: the lines of a parent and its
    # children never interleave
    os.write(1, (json.dumps(out) + "\n").encode())

spec = json.loads(sys.argv[1])
top = report("parent", spec)
kids = []
for i, cspec in enumerate(spec.get("children", [])):
    pid = os.fork()
    if pid == 0:
        say(report("child%d" % i, cspec))
        if not cspec.get("exit"):
            sys.stdin.read()
        os._exit(0)
    kids.append(pid)
say(top)
if not spec.get("exit"):
    sys.stdin.read()
for pid in kids:
    os.waitpid(pid, 0)
'''


class Helper:
    """A helper process tree; .out[role] is what each process made."""

    def __init__(self, spec, user=None, wrap=()):
        nlines = 1 + len(spec.get("children", []))
        argv = list(wrap) + [PYTHON, "-c", HELPER, json.dumps(spec)]
        if user:
            argv = ["runuser", "-u", user, "--"] + argv
        for s in spec.get("sysv", []):
            MADE_KEYS.add(s["key"])
        for s in spec.get("posix", []):
            MADE_NAMES.add(s["name"].lstrip("/"))
        for s in spec.get("sem", []):
            MADE_NAMES.add("sem." + s["name"].lstrip("/"))
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  start_new_session=True)
        self.out = {}
        buf = b""
        deadline = time.time() + 30
        while len(self.out) < nlines:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                self.stop()
                raise Fatal("the helper did not say what it made in 30 s")
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                err = self.p.stderr.read().decode(errors="replace")
                self.stop()
                raise Fatal("the helper failed: %s" % err.strip()[-300:])
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                d = json.loads(line)
                self.out[d["role"]] = d

    @property
    def pid(self):
        return self.out["parent"]["pid"]

    def stop(self):
        """End the helpers (they exit when stdin closes) and wait."""
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.p.wait()
        for f in (self.p.stdout, self.p.stderr):
            f.close()


def cleanup_made():
    for key in MADE_KEYS:
        remove_key(key)
    for name in MADE_NAMES:
        unlink_shm(name)


# --------------------------------------------------------------------------
# Running shmview
# --------------------------------------------------------------------------

def audit(*opts, user=None):
    return viewer_json(["audit", "--json"] + list(opts), user)


def mapper_set(obj):
    return {(m["pid"], int(m["addr"], 16), m["length"], m["readonly"])
            for m in obj.get("attachments", [])}


def sysv_of(rep, shmid):
    found = [s for s in rep["sysv"] if s["shmid"] == shmid]
    return found[0] if len(found) == 1 else None


def posix_of(rep, name):
    found = [p for p in rep["posix"] if p["name"] == name]
    return found[0] if len(found) == 1 else None


def pages(n):
    return n * PAGE


def is_root():
    return os.geteuid() == 0


def can_be_nobody():
    try:
        pwd.getpwnam(NOBODY)
    except KeyError:
        return False
    return is_root() and shutil.which("runuser") is not None


def nothing_left(words):
    """main()'s finish: what the helpers made is removed, and nothing of it
    nor of a traced run is left (checked when every test ran)."""
    cleanup_made()
    segs = sysv_segments()
    left = ["SysV key 0x%x" % s["key"] for s in segs.values() if s["key"] in MADE_KEYS]
    shm = dev_shm()
    left += ["/dev/shm/" + n for n in MADE_NAMES if n in shm]
    if not words:
        check(not left and not harness.LEAKS,
              "audit: the tests left nothing behind",
              "; ".join(left + ["%s after %s" % (w, r) for r, w in harness.LEAKS]))
