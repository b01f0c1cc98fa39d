#!/usr/bin/env python3
"""End-to-end tests of process events: fork, vfork, exec and posix_spawn
(spawn-exec), a signal handler mapping memory while threads churn
(sig-mmap), a program that closes every descriptor before it forks
(close-all), an exec with an empty environment (env-dropped).

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (arg, argn, check, cmd_is, describe, errno_of,  # noqa: E402
                     example, fail, fnames, free_key, info_obj, is_fd, nonneg,
                     num, posix_name, read_region, remove_key, ret, seq, success,
                     traced, traced_as_bare, unlink_shm)

TESTS, test = harness.registry()


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
        t = traced_as_bare("spawn-exec", SPAWN_OUT, "spawn-exec", name)
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

        def child_of(call, what, argv_has):
            """The child of the parent's one successful call, its exec'd start
            checked; None when the call is not recorded."""
            made = [e for e in t.calls(call, pid=parent) if (ret(e) or 0) > 0]
            check(len(made) == 1, "spawn-exec: %s recorded in the parent" % call,
                  "; ".join(describe(e) for e in made))
            if not made:
                return None
            started(ret(made[0]), what, "spawn-exec", argv_has)
            return ret(made[0])

        c1 = child_of("fork", "fork+execv", "--child-shm")
        if c1 is not None:
            o = [e for e in t.calls("shm_open", pid=c1) if arg(e, "name") == name]
            u = [e for e in t.calls("shm_unlink", pid=c1) if arg(e, "name") == name]
            check(len(o) == 1 and len(u) == 1 and is_fd(ret(o[0])) and ret(u[0]) == 0,
                  "spawn-exec: the exec'd child's shm_open/shm_unlink carry its pid",
                  "shm_open %s shm_unlink %s" % ([describe(e) for e in o], [describe(e) for e in u]))

        c2 = child_of("vfork", "vfork+execve (no LD_PRELOAD in its env)", "--child-noenv")
        if c2 is not None:
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
    t = traced_as_bare("sig-mmap", want, "sig-mmap", 200)
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
# Hostile programs: every descriptor closed, an empty environment
# --------------------------------------------------------------------------

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


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
