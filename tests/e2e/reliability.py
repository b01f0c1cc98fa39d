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
from harness import (argn, check, describe, free_key, posix_name, ret, traced_as_bare)  # noqa: E402

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


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
