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
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness_ident import Paused, frozen_check, one_per_object, pid_map_check  # noqa: E402
from harness import (TMP, Fatal, arg, argn, bare, brief, check,  # noqa: E402
                     describe, example, expect_same, map_json, one, report_json,
                     ret, seq, trace_path, traced, unlink_shm)

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
        files = [o for o in recs if argn(o, "inode") == st_file.st_ino]
        check(len(files) == REQUESTS + 1 and
              all(argn(o, "dev") == st_file.st_dev and argn(o, "size") == FILE_SIZE
                  for o in files),
              "file: one record per mapping, dev, inode and size as stat says",
              "%d records; %s" % (len(files), describe(files[0] if files else None)))
        named = {o["pid"]: arg(o, "path") for o in reversed(files) if arg(o, "path")}
        # read by the first mapper, and again only once the file changed
        # (its change time is part of what the shim remembers: a freed
        # inode number may name a new file)
        check(1 <= len([o for o in files if arg(o, "path")]) <= 2 and
              set(named.values()) == {path},
              "file: its path is read once (readlink costs 3 us), again only "
              "after the file was written, not per mapping",
              "; ".join(describe(o) for o in files[:3]))
        objs = [o for o in recs if argn(o, "inode") == st_obj.st_ino]
        made = [o for o in objs if o.get("info", {}).get("of_seq") ==
                seq(one(t.calls("shm_open"), "shm_open"))]
        check(len(objs) == 5 and len(made) == 1 and
              all(argn(o, "dev") == st_obj.st_dev and
                  argn(o, "size") == (0 if o in made else OBJ) for o in objs),
              "posix object made by shm_open, mapped by path and by F_DUPFD, sent "
              "and received: five records of its dev and inode",
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
        bad = [e for e in t.calls("mmap") if e.get("errno") == "EBADF"]
        rec = record_of(t, bad[0]) if len(bad) == 1 else None
        check(rec and (rec.get("info") or {}).get("object") == "badfd" and
              argn(rec, "errors") & 0xffff == 9,
              "a closed descriptor: EBADF kept, recorded as badfd with fstat's errno",
              describe(rec))
        failed = [e for e in t.calls("mmap") if e.get("errno") == "ENODEV"]
        kinds = sorted(str((record_of(t, e) or {}).get("info", {}).get("object"))
                       for e in failed)
        check(kinds == ["anon_inode", "pipe"],
              "pipe and eventfd: the failed mappings keep ENODEV, their kinds recorded",
              "%s; %s" % (kinds, "; ".join(describe(e) for e in failed)))
        sends, recvs = t.calls("sendmsg"), t.calls("recvmsg")
        check(len(sends) == 2 and len(recvs) == 2 and
              {e["pid"] for e in sends} == {t.main_pid()} and
              {e["pid"] for e in recvs} & {t.main_pid()} == set() and
              sorted((e.get("info") or {}).get("inode") for e in sends) ==
              sorted((e.get("info") or {}).get("inode") for e in recvs) ==
              sorted([st_obj.st_ino, argn(mrec, "inode")]),
              "SCM_RIGHTS: two descriptors (sendmsg, sendmmsg) sent by the parent, "
              "received by the child (recvmsg, recvmmsg), the memfd and the object",
              "; ".join(describe(e) for e in sends + recvs))
    finally:
        remove(tag, sem, path)


def seg_named(rep, kind, name):
    found = [x for x in rep.get("segments", []) if x.get("kind") == kind and x.get("name") == name]
    if len(found) != 1:
        raise Fatal("want one %s segment %r, found %d: %s" %
                    (kind, name, len(found), brief(rep.get("segments"))))
    return found[0]


def pids_of(seg):
    return sorted({a["pid"] for a in seg.get("attachments", [])})


@test("viewer: one segment per object")
def t_one_segment():
    tag, sem, path = names("model")
    try:
        t = traced("fd-pass", tag, path, "--leave", leak_names=[tag, "sem." + sem.lstrip("/")])
        rep = report_json(t.path)
        one_per_object("fd-pass", rep)
        main = t.main_pid()
        child = [p for p in t.pids() if p not in (main, t.pid)]
        check(len(rep.get("segments", [])) == 4,
              "fd-pass: 4 objects, 4 segments (memfd, posix, semaphore, file)",
              brief([(x["kind"], x["name"]) for x in rep.get("segments", [])]))
        pool = seg_named(rep, "memfd", "shmt-id-pool")
        check(pool["size"] == POOL and len(pool["attachments"]) == 4 and
              pids_of(pool) == sorted([main] + child),
              "memfd: one segment, 4 attachments in 2 processes (mmap, fork, "
              "received over the socket, through /proc/PID/fd), its size",
              brief(pool))
        got = [a for a in pool["attachments"] if a.get("received_from") is not None]
        check(len(got) == 2 and all(a["received_from"] == main and a["pid"] in child
                                   for a in got),
              "memfd: the child's mappings say received from the parent over a socket",
              brief(pool["attachments"]))
        obj = seg_named(rep, "posix", tag)
        check(obj["size"] == OBJ and len(obj["attachments"]) == 2 and
              pids_of(obj) == sorted([main] + child) and obj["state"] == "leaked",
              "posix: by F_DUPFD in the parent, by path in the child: one segment, leaked",
              brief(obj))
        s = seg_named(rep, "sem", sem)
        check(s["state"] == "leaked" and len(s["attachments"]) == 2 and
              s["inode"] == os.stat("/dev/shm/sem." + sem.lstrip("/")).st_ino,
              "semaphore: one segment of kind sem, its inode, leaked (--leave)", brief(s))
        f = seg_named(rep, "file", path)
        check(f["size"] == FILE_SIZE and len(f["attachments"]) == REQUESTS + 2 and
              f["state"] == "ended" and f["inode"] == os.stat(path).st_ino,
              "file: 50 per-request mappings and the parent's: one segment, path and "
              "size, ended (the file remains)", brief({k: v for k, v in f.items()
                                                        if k != "attachments"}))
        text = harness.report_text(t.path)
        check("the file remains" in text and "more attachments" in text and
              text.count("ro mmap") < 10,
              "report: the file's end says the file remains; its 50 mappings fold into a run",
              text[-1500:])
        check("received from pid %d" % main in text and "over a socket" in text,
              "report: the transfer is shown", text[:1500])
        leaks = sorted((x["kind"], x["name"]) for x in rep["segments"] if x["state"] == "leaked")
        check(leaks == sorted([("posix", tag), ("sem", sem)]),
              "leak verdicts: the object and the semaphore, not the file nor the memfd",
              brief(leaks))
        shown = sorted((x["kind"], x["name"]) for x in map_json(t.path).get("segments", []))
        check(shown == sorted([("posix", tag), ("sem", sem)]),
              "map: what still exists (the leaked object and semaphore), not the ended "
              "file nor the removed memfd", brief(shown))
        sumlines = harness.summary_lines(t.err)
        check(any("semaphore" in l and sem in l for l in sumlines),
              "exit summary: names the leaked semaphore", "\n".join(sumlines))
        res = harness.run([harness.VIEWER, "clean", "--yes", t.path])
        left = [n for n in (tag.lstrip("/"), "sem." + sem.lstrip("/"))
                if os.path.exists("/dev/shm/" + n)]
        check(res.rc == 0 and not left and os.path.exists(path),
              "clean --yes: removes the leaked object and semaphore, not the file",
              "%s; left %s" % (res.why(), left))
        remove(tag, sem, path)
        t3 = traced("fd-pass", tag, path, "--leave", opts=["--error-exitcode=42"],
                    leak_names=[tag, "sem." + sem.lstrip("/")])
        check(t3.rc == 42, "--error-exitcode: a leaked semaphore or object fails the run",
              t3.why())
        remove(tag, sem, path)
        t2 = traced("fd-pass", tag, path)
        rep2 = report_json(t2.path)
        f2 = seg_named(rep2, "file", path)
        check(f2["state"] == "ended" and "file_unlinked" in (f2.get("notes") or []) and
              not [x for x in rep2["segments"] if x["state"] == "leaked"],
              "without --leave: nothing leaked, the file reported unlinked",
              brief([(x["kind"], x["state"], x.get("notes")) for x in rep2["segments"]]))
    finally:
        remove(tag, sem, path)


@test("frozen: attachments equal /proc/PID/maps")
def t_frozen():
    tag, sem, path = names("frozen")
    trace = trace_path("frozen")
    try:
        with Paused(trace, [example("fd-pass"), tag, path, "--pause"]) as run:
            run.freeze()
            frozen_check("fd-pass", trace, run.pids)

            pid_map_check("fd-pass", trace, run.pids[0], run.pids)
            run.go()
        check(run.rc == 0, "fd-pass --pause: runs to the end", run.out[-300:])
    finally:
        remove(tag, sem, path)


@test("deepbind: a library that binds past the preload")
def t_deepbind():
    name = "/shmt-id-%d-deepbind" % os.getpid()
    try:
        b = bare("deepbind", name)
        t = traced("deepbind", name)
        expect_same("deepbind: stdout and exit status unchanged under the tracer", b, t)
        calls = [e["call"] for e in t.events if e.get("pid") == t.main_pid()]
        want = ["shm_open", "ftruncate", "mmap", "mmap", "munmap", "munmap", "close",
                "shm_unlink"]
        check([c for c in calls if c in set(want)] == want,
              "deepbind: every call the RTLD_DEEPBIND library makes is recorded", calls)
        o = one(t.calls("shm_open"), "shm_open")
        mods = [f.get("module") or "" for f in o.get("stack", [])]
        check(mods and mods[0].endswith("libshmt-deepbind.so") and
              any((f.get("symbol") or "") == "share_and_remove" for f in o["stack"]),
              "deepbind: with its stack, in the library", brief(o.get("stack")))
        rep = report_json(t.path)
        kinds = sorted((x["kind"], x["state"]) for x in rep.get("segments", []))
        check(kinds == [("anon", "removed"), ("posix", "removed")],
              "deepbind: its object and zone are segments, removed", brief(kinds))
    finally:
        unlink_shm(name.lstrip("/"))


@test("frames: demangled, stripped as module+offset")
def t_frames():
    tag, sem, path = names("frames")
    try:
        t = traced("fd-pass", tag, path)
        mc = one(t.calls("memfd_create"), "memfd_create")
        syms = [f.get("symbol") for f in mc.get("stack", [])]
        check("shmt::pool::create()" in syms,
              "a C++ name is demangled (shmt::pool::create())", brief(syms))
        text = harness.report_text(t.path)
        check("shmt::pool::create()+0x" in text, "report: the demangled name",
              text[:800])
    finally:
        remove(tag, sem, path)
    strip = shutil.which("strip")
    if not strip:
        return
    lib = os.path.join(TMP, "libstripped-deepbind.so")
    shutil.copy(os.path.join(harness.EXAMPLES, "libshmt-deepbind.so"), lib)
    subprocess.run([strip, "--strip-all", lib], check=True)
    name = "/shmt-id-%d-stripped" % os.getpid()
    try:
        t = traced("deepbind", name, lib)
        o = one(t.calls("shm_open"), "shm_open")
        f0 = (o.get("stack") or [{}])[0]
        check(f0.get("module") == lib and f0.get("symbol") is None and
              harness.num(f0.get("module_offset")) and
              re.fullmatch(r"[0-9a-f]{40}", f0.get("build_id") or ""),
              "stripped module: JSON frame has module_offset and build_id",
              brief(f0))
        text = harness.dump_text(t.path, "--stack")
        check("libstripped-deepbind.so+0x%x" % harness.num(f0.get("module_offset")) in text,
              "stripped module: text frame is module+0xOFFSET", text[:800])
    finally:
        unlink_shm(name.lstrip("/"))


@test("files: a freed inode a new file takes is a new object")
def t_reused_inode():
    """One file after another, each made, mapped shared, unmapped and
    unlinked: the file system hands the freed inode number to the next
    one, and each file must still be one segment of its own, under its own
    path (not all under the first one's)."""
    d = os.path.join(TMP, "reuse")
    os.makedirs(d, exist_ok=True)
    prog = ("import mmap, os, sys\n"
            "for i in range(40):\n"
            "    p = os.path.join(sys.argv[1], 'f%d' % i)\n"
            "    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)\n"
            "    os.ftruncate(fd, 4096)\n"
            "    m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)\n"
            "    m[0] = 1\n"
            "    m.close(); os.close(fd); os.unlink(p)\n"
            "    print(os.stat(sys.argv[1]).st_ino % 1 or i)\n")
    t = traced(None, argv=["/usr/bin/python3", "-c", prog, d], label="reuse")
    if t.rc != 0:
        raise Fatal(t.why())
    rep = report_json(t.path)
    files = [s for s in rep["segments"] if s["kind"] == "file" and
             (s.get("name") or "").startswith(d)]
    names = sorted(s["name"] for s in files)
    want = sorted(os.path.join(d, "f%d" % i) for i in range(40))
    check(names == want,
          "files: 40 files one after another (inodes reused) are 40 segments, "
          "each under its own path", "%d segments: %s" % (len(files), names[:4]))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
