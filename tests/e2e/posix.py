#!/usr/bin/env python3
"""End-to-end tests of POSIX shared memory (posix-writer, posix-reader)
and memfd (memfd-share): every call recorded, the object named, the
output of each program unchanged under the tracer.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (argn, bare, check, check_args, describe, dev_shm,  # noqa: E402
                     expect_bare, expect_same, fnames, info_obj, is_addr,
                     is_fd, num, one, posix_name, ret, seq, traced, traced_as_bare,
                     unlink_shm)

TESTS, test = harness.registry()


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
    t = traced_as_bare("memfd-share", want, "memfd-share")
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


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
