#!/usr/bin/env python3
"""End-to-end tests of object identity (issue 12) with examples/fd-pass:
one object, many routes (a memfd passed over a unix socket and opened
through /proc/PID/fd, a POSIX object opened by path and through an
F_DUPFD copy, a named semaphore, a file mapped once per request).

The shim's part: every shared mapping of a descriptor it did not see
made is followed by an object record (fstat and readlink of the
descriptor) that names the kernel object, the same (dev, inode) as
os.stat says, with the kind of a descriptor that is no file; sendmsg and
recvmsg record each descriptor passed; sem_open, sem_close and
sem_unlink are recorded.  The viewer's part: one segment per object.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (TMP, arg, argn, bare, check, describe, dev_shm,  # noqa: E402
                     expect_same, one, ret, seq, traced, unlink_shm)

TESTS, test = harness.registry()

POOL = 65536
OBJ = 8192
FILE_SIZE = 4096
REQUESTS = 50


def names(label):
    """The POSIX object, the semaphore and the file of one run."""
    tag = "/shmt-id-%d-%s" % (os.getpid(), label)
    return tag, tag + "-sem", os.path.join(TMP, label + ".data")


def remove(tag, sem, path):
    unlink_shm(tag.lstrip("/"))
    unlink_shm("sem." + sem.lstrip("/"))
    if os.path.exists(path):
        os.unlink(path)


def objects_of(t):
    """Object records by the seq of the event they describe."""
    return {argn(e, "of") - 1 if argn(e, "of") is not None else None: e
            for e in t.calls("object")}


def record_of(t, e):
    for o in t.calls("object"):
        if o.get("pid") == e.get("pid") and seq(o) > seq(e) and \
                argn(o, "fd") == argn(e, "fd"):
            return o
    return None


@test("shim: object records")
def t_object_records():
    tag, sem, path = names("records")
    try:
        b = bare("fd-pass", tag, path)
        remove(tag, sem, path)
        t = traced("fd-pass", tag, path, "--leave", leak_names=[tag, "sem." + sem.lstrip("/")])
        expect_same("fd-pass: stdout and exit status unchanged under the tracer", b, t)
        st_file = os.stat(path)
        st_obj = os.stat("/dev/shm/" + tag.lstrip("/"))
        st_sem = os.stat("/dev/shm/sem." + sem.lstrip("/"))
        recs = t.calls("object")
        check(recs, "fd-pass: object records in the trace", "none")
        files = [o for o in recs if arg(o, "path") == path]
        check(len(files) == REQUESTS + 1 and
              all(argn(o, "inode") == st_file.st_ino and argn(o, "dev") == st_file.st_dev and
                  argn(o, "size") == FILE_SIZE for o in files),
              "file: one record per mapping, dev, inode and size as stat says",
              "%d records; %s" % (len(files), describe(files[0] if files else None)))
        objs = [o for o in recs if arg(o, "path") == "/dev/shm/" + tag.lstrip("/")]
        check(len(objs) == 2 and all(argn(o, "inode") == st_obj.st_ino and
                                     argn(o, "size") == OBJ for o in objs),
              "posix object by path and by F_DUPFD: dev and inode recorded",
              "; ".join(describe(o) for o in objs))
        pools = [o for o in recs if str(arg(o, "path") or "").startswith("/memfd:shmt-id-pool")]
        mc = one(t.calls("memfd_create"), "memfd_create")
        mrec = record_of(t, {"pid": mc["pid"], "seq": mc["seq"], "args": {"fd": ret(mc)}})
        check(mrec is not None and argn(mrec, "inode") and
              all(argn(o, "inode") == argn(mrec, "inode") and
                  argn(o, "dev") == argn(mrec, "dev") for o in pools) and len(pools) >= 4,
              "memfd: memfd_create, sendmsg, recvmsg and both mappings name one inode",
              "%s; %s" % (describe(mrec), "; ".join(describe(o) for o in pools)))
        sems = [o for o in recs if arg(o, "path") == "/dev/shm/sem." + sem.lstrip("/")]
        check(len(sems) == 2 and all(argn(o, "inode") == st_sem.st_ino for o in sems),
              "semaphore: both sem_open calls name its inode",
              "; ".join(describe(o) for o in sems))
        opens = t.calls("sem_open")
        check(len(opens) == 2 and all(ret(e) and ret(e) != -1 for e in opens) and
              len(t.calls("sem_close")) == 2 and not t.calls("sem_unlink"),
              "semaphore: sem_open twice, sem_close twice, no sem_unlink (--leave)",
              "; ".join(describe(e) for e in t.calls("sem_open", "sem_close", "sem_unlink")))
        failed = [e for e in t.calls("mmap") if e.get("errno") == "ENODEV"]
        kinds = sorted(str((record_of(t, e) or {}).get("info", {}).get("object"))
                       for e in failed)
        check(kinds == ["anon_inode", "pipe"],
              "pipe and eventfd: the failed mappings keep ENODEV, their kinds recorded",
              "%s; %s" % (kinds, "; ".join(describe(e) for e in failed)))
        sends, recvs = t.calls("sendmsg"), t.calls("recvmsg")
        check(len(sends) == 1 and len(recvs) == 1 and
              sends[0]["pid"] != recvs[0]["pid"],
              "SCM_RIGHTS: one descriptor sent by the parent, received by the child",
              "; ".join(describe(e) for e in sends + recvs))
    finally:
        remove(tag, sem, path)


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
