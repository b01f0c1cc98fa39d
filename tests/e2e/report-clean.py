#!/usr/bin/env python3
"""End-to-end tests of the end of a traced run and what comes after: the
launcher's exit summary and --error-exitcode, the launcher without a
viewer, `shmview clean` (asking, --yes, what it leaves alone), and
`shmview report` on bad input.

How to run it and read its output: tests/e2e/harness.py.
"""

import ctypes
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Fatal, brief, check, dev_shm, ftok_path, need, one_seg,  # noqa: E402
                     posix_name, remove_key, remove_shmid, report_json,
                     report_text, run, segment_by_key, summary_lines,
                     sysv_segments, traced, unlink_shm, LAUNCHER, TMP, VIEWER)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# The launcher: exit summary and --error-exitcode
# --------------------------------------------------------------------------

@test("error-exitcode")
def t_error_exitcode():
    path, key = ftok_path()
    try:
        t = traced("sysv-server", path, opts=["--error-exitcode=3"], leak_keys=[key],
                   label="report-exitcode-leak")
        check(t.rc == 3, "error-exitcode: --error-exitcode=3 exits 3 when something leaked",
              t.why())
        remove_key(key)
        t = traced("sysv-server", path, opts=["-q", "--error-exitcode", "4"], leak_keys=[key],
                   label="report-exitcode-quiet")
        check(t.rc == 4 and t.err == b"",
              "error-exitcode: with -q, '--error-exitcode 4' exits 4, nothing on stderr",
              t.why())
        remove_key(key)
        t = traced("sysv-server", "--remove", path, opts=["--error-exitcode=3"],
                   label="report-exitcode-clean")
        check(t.rc == 0, "error-exitcode: exits with the program's status (0) when nothing leaked",
              t.why())
        t = traced(None, argv=["/bin/sh", "-c", "exit 7"], opts=["--error-exitcode=3"],
                   label="report-exitcode-7")
        check(t.rc == 7, "error-exitcode: exits with the program's status (7) when nothing leaked",
              t.why())
        res = run([LAUNCHER, "-o", os.path.join(TMP, "x.trace"), "--error-exitcode=0",
                   "--", "/bin/true"])
        check(res.rc == 2 and len(res.err.splitlines()) == 1,
              "error-exitcode: 0 is a usage error", res.why())
    finally:
        remove_key(key)


@test("no-viewer")
def t_no_viewer():
    env = dict(os.environ, SHMTRACE_VIEWER="/nonexistent/shmview")
    t = traced(None, argv=["/bin/true"], env=env, label="report-no-viewer")
    lines = t.err.decode(errors="replace").splitlines()
    check(t.rc == 0 and any("summary" in l and "shmview" in l for l in lines)
          and not summary_lines(t.err),
          "no-viewer: without the viewer, one line says the summary is unavailable",
          repr(t.err))


# --------------------------------------------------------------------------
# shmview clean
# --------------------------------------------------------------------------

def run_tty(argv, answer):
    """Run argv with a terminal as stdin, typing `answer` into it."""
    master, slave = os.openpty()
    try:
        p = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    finally:
        os.close(slave)
    try:
        os.write(master, answer)
        out, err = p.communicate(timeout=harness.TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise Fatal("%s timed out" % " ".join(argv))
    finally:
        os.close(master)
    return p.returncode, out, err


_libc = ctypes.CDLL(None, use_errno=True)
IPC_PRIVATE, IPC_CREAT = 0, 0o1000


@test("clean")
def t_clean():
    path, key = ftok_path()
    name = posix_name("clean")
    outside = _libc.shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0o600)
    if outside < 0:
        raise Fatal("cannot make a segment outside the trace: errno %d" % ctypes.get_errno())
    try:
        t = traced("sysv-server", path, leak_keys=[key], label="report-clean-sysv")
        shmid, _ = segment_by_key(key)
        if shmid is None:
            raise Fatal("sysv-server left no segment")
        res = run([VIEWER, "clean", t.path])
        check(res.rc == 1 and len(res.err.splitlines()) == 1 and segment_by_key(key)[1],
              "clean: without --yes and no terminal, refuses with one line, removes nothing",
              res.why())
        rc, out, err = run_tty([VIEWER, "clean", t.path], b"n\n")
        check(rc == 0 and b"[y/N]" in err and b"nothing removed" in out
              and segment_by_key(key)[1],
              "clean: on a terminal it asks; 'n' removes nothing",
              "exit %s, stdout %r, stderr %r" % (rc, out[-300:], err[-300:]))
        res = run([VIEWER, "clean", "--yes", t.path])
        after = sysv_segments()
        check(res.rc == 0 and shmid not in after and outside in after,
              "clean --yes: removes the leaked segment, leaves the one made outside the trace",
              "%s; shmid %d %s, outside %d %s" % (res.why(), shmid,
                                                   "kept" if shmid in after else "gone",
                                                   outside, "kept" if outside in after else "GONE"))
        check(("removed sysv shmid %d" % shmid).encode() in res.out,
              "clean --yes: says what it removed", repr(res.out))
        res = run([VIEWER, "clean", "--yes", t.path])
        check(res.rc == 0 and outside in sysv_segments(),
              "clean --yes: a second run finds nothing to remove", res.why())

        t = traced("sysv-server", path, leak_keys=[key], label="report-clean-tty")
        shmid, _ = segment_by_key(key)
        rc, out, err = run_tty([VIEWER, "clean", t.path], b"y\n")
        check(rc == 0 and shmid is not None and shmid not in sysv_segments(),
              "clean: on a terminal, 'y' removes the leaked segment",
              "exit %s, stdout %r, stderr %r" % (rc, out[-300:], err[-300:]))

        # A trace that attached the outside segment without creating it.
        bare_srv = harness.bare("sysv-server", path)
        shmid2, _ = segment_by_key(key)
        c = traced("sysv-client", path, leak_keys=[key], label="report-clean-client")
        rep = report_json(c.path)
        seg = one_seg(rep, "sysv")
        check(bare_srv.rc == 0 and seg.get("creator") is None and rep.get("leaks") == 0,
              "clean: a segment the trace only attached is no leak of it", brief(seg))
        out = report_text(c.path)
        check("LEAKED" not in out and "ipcrm" not in out and "left in place" in out,
              "clean: the text report does not call it a leak", out[:600])
        res = run([VIEWER, "clean", "--yes", c.path])
        check(res.rc == 0 and shmid2 in sysv_segments(),
              "clean --yes: never removes a segment the trace did not create", res.why())
        remove_key(key)

        p = traced("posix-writer", name, leak_names=[name], label="report-clean-posix")
        res = run([VIEWER, "clean", "--yes", p.path])
        check(res.rc == 0 and name.lstrip("/") not in dev_shm(),
              "clean --yes: removes a leaked POSIX object", res.why())

        # The name made again outside the trace, after it: not ours.
        p = traced("posix-writer", name, leak_names=[name], label="report-clean-posix2")
        unlink_shm(name)
        time.sleep(0.1)
        harness.bare("posix-writer", name)
        res = run([VIEWER, "clean", "--yes", p.path])
        # the trace recorded its object's inode: the new one is not it
        check(res.rc == 0 and name.lstrip("/") in dev_shm()
              and (b"left alone" in res.out or b"nothing to clean" in res.out),
              "clean --yes: leaves alone a POSIX name made again after the trace", res.why())
        seg = one_seg(report_json(p.path), "posix")
        check(seg.get("state") == "removed" and "name_reused" in seg.get("notes", []),
              "report: the traced object is gone, its name reused outside the trace",
              brief(seg))
    finally:
        remove_key(key)
        remove_shmid(outside)
        unlink_shm(name)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@test("bad-files")
def t_bad_files():
    need(VIEWER)
    empty = os.path.join(TMP, "report-empty.trace")
    open(empty, "wb").close()
    junk = os.path.join(TMP, "report-junk.trace")
    with open(junk, "wb") as f:
        f.write(b"SHMTRACE" + bytes(range(256)) * 40)
    cases = {"a missing file": os.path.join(TMP, "nope.trace"), "an empty file": empty,
             "junk": junk, "a directory": TMP}
    for label, path in cases.items():
        for cmd in (["report"], ["report", "--json"], ["report", "--summary"],
                    ["clean", "--yes"]):
            res = run([VIEWER] + cmd + [path])
            lines = res.err.decode(errors="replace").splitlines()
            check(res.rc == 1 and res.out == b"" and len(lines) == 1,
                  "bad-files: shmview %s rejects %s with one line, exit 1"
                  % (" ".join(cmd), label),
                  "exit %s, stdout %r, stderr %r" % (res.rc, res.out[:200], res.err[:300]))
    for bad in (["report"], ["report", "--bogus", empty], ["report", "--leak-exit", "x", empty],
                ["report", "--json", "--summary", empty], ["clean"], ["clean", "a", "b"]):
        res = run([VIEWER] + bad)
        check(res.rc == 2 and len(res.err.splitlines()) == 1,
              "bad-files: usage error %r exits 2 with one line" % " ".join(bad[1:]), res.why())


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS,
                          harness.nothing_left("report leaks: the tests left nothing behind")))
