#!/usr/bin/env python3
"""End-to-end tests of the shim's transparency and accounting in corner
cases (examples/rely.c, one mode each): errno after successful calls,
threads without valid TLS, raw clone children, small stacks, the region
protected or mapped over, losses that must be counted and reported, the
launcher stopped by a signal.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (argn, check, describe, free_key, posix_name, read_region, ret,
                     traced_as_bare)  # noqa: E402

TESTS, test = harness.registry()


@test("errno")
def t_errno():
    key, name = free_key(), posix_name("errno")
    want = ("shmget IPC_CREAT: same id, errno 12345\n"
            "shm_open O_CREAT: ok, errno 12345\n"
            "shm_open O_CREAT|O_TRUNC: ok, errno 12345\n")
    t = traced_as_bare("errno", want, "rely", "errno", hex(key), name)
    gets = t.calls("shmget")
    check(len(gets) == 2 and ret(gets[0]) == ret(gets[1]) and ret(gets[0]) >= 0,
          "errno: both shmget recorded, returning the same id",
          "; ".join(describe(e) for e in gets))


@test("settls")
def t_settls():
    # bare, the child exits 7; a hook that touched TLS would kill it (SIGSEGV)
    t = traced_as_bare("settls", "settls child: exit 7\n", "rely", "settls")
    check("libshmtrace" not in t.err.decode(errors="replace"),
          "settls: nothing said about the shim", t.why())


@test("rawfork")
def t_rawfork():
    t = traced_as_bare("rawfork", "SYS_fork child: exit 4\nclone child: exit 5\n",
                       "rely", "rawfork")
    main = t.main_pid()
    kids = [argn(e, "pid") for e in t.calls("waitpid", pid=main)]
    maps = {e.get("pid") for e in t.calls("mmap")}
    check(len(kids) == 2 and maps == set(kids),
          "rawfork: each child's mmap is recorded under the child's own pid",
          "children %s, mmap pids %s" % (kids, sorted(maps)))
    forks = {e.get("pid"): argn(e, "ppid") for e in t.calls("fork")}
    check(all(forks.get(k) == main for k in kids),
          "rawfork: each child is recorded as a fork of the main program",
          "forks %s, main %s" % (forks, main))


@test("protect")
def t_protect():
    # mprotect(PROT_READ) and MADV_DONTFORK of the region would crash the
    # next event, and the fork child's first
    t = traced_as_bare("protect", "mprotect 0, madvise 0\nchild: ok, parent: ok\n",
                       "rely", "protect")
    gets = t.calls("shmget")
    check(len(gets) == 2 and len({e.get("pid") for e in gets}) == 2,
          "protect: the child's and the parent's shmget are both recorded",
          "; ".join(describe(e) for e in gets))


@test("altstack")
def t_altstack():
    # 8 KiB of alternate stack hold the signal frame and a bare shmat, not
    # a backtrace too: the event is recorded without one, and counted
    t = traced_as_bare("altstack", "altstack 8192: shmat in the handler ok\n",
                       "rely", "altstack", 8192)
    at = t.calls("shmat")
    check(len(at) == 1 and not at[0].get("stack"),
          "altstack: the handler's shmat is recorded, without a stack",
          "; ".join(describe(e) for e in at))
    check(read_region(t.path)["stacks_no_room"] == 2,
          "altstack: the header counts two backtraces left out for lack of stack (shmat, shmdt)",
          str(read_region(t.path)))
    big = traced_as_bare("altstack 64K", "altstack 65536: shmat in the handler ok\n",
                         "rely", "altstack", 65536)
    at = big.calls("shmat")
    check(len(at) == 1 and at[0].get("stack"),
          "altstack 64K: on a large alternate stack the shmat has its stack",
          "; ".join(describe(e) for e in at))


@test("bigenv")
def t_bigenv():
    # the exec hook puts LD_PRELOAD back into a copy of the environment:
    # 400 KB of pointers do not fit the thread's 256 KiB stack
    t = traced_as_bare("bigenv", "bigenv child: exit 3\n", "rely", "bigenv")
    gets = t.calls("shmget")
    check(len(gets) == 1 and gets[0].get("pid") != t.main_pid(),
          "bigenv: the exec'd child runs traced (its shmget is recorded)",
          "; ".join(describe(e) for e in gets))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
