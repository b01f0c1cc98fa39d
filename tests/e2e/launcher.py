#!/usr/bin/env python3
"""End-to-end tests of the launcher, build/shmtrace: the trace file it
writes (mode, --force, symlinks), the exit status it passes on, its
errors (a missing program, a disk too small, usage), the programs it
cannot trace, and the shim preloaded by hand without it.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import shutil
import signal
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Fatal, check, describe, dump_json, errno_of, example,  # noqa: E402
                     free_key, need, one_line, remove_key, run, seq,
                     trace_path, LAUNCHER, SHIM, TAG, TMP, VIEWER)

TESTS, test = harness.registry()


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
    check(head[:8] == b"SHMTRACE" and struct.unpack("<I", head[8:12])[0] == 2,
          "launcher: file starts with magic SHMTRACE, version 2 (records)", "header %r" % head)

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
# Launcher errors, programs it cannot trace, the shim preloaded by hand
# --------------------------------------------------------------------------

@test("launcher-errors")
def t_launcher_errors():
    need(LAUNCHER)
    path = os.path.join(TMP, "nope.trace")
    res = run([LAUNCHER, "-o", path, "--", os.path.join(TMP, "no-such-program")])
    check(res.rc == 127 and one_line(res) and not os.path.exists(path),
          "launcher-errors: a missing program exits 127 with one line, no trace file",
          res.why())
    # The trace file grows as the run goes (the region is in memory): a
    # file the disk cannot hold fails while the program runs on unchanged,
    # and what was written before the disk filled stays readable.  The
    # disk: a 64 KiB tmpfs in a mount namespace of the test's own, gone
    # with it.
    small = os.path.join(TMP, "small-disk")
    os.mkdir(small)
    bare_churn = run([example("churn"), "sysv", "3000"])
    script = ('mount -t tmpfs -o size=65536 shmtrace-test "$1" || exit 99; '
              '"$2" -o "$1/t.trace" -- "$3" sysv 3000; rc=$?; '
              '"$4" dump "$1/t.trace" > "$5" 2>&1 || echo "dump failed" >&2; '
              'echo "shmget lines: $(grep -c "shmget(" "$5")" >&2; exit $rc')
    res = run(["unshare", "-m", "sh", "-c", script, "sh", small, LAUNCHER,
               example("churn"), VIEWER, os.path.join(TMP, "small-disk.dump")])
    lines = res.err.decode(errors="replace").splitlines()
    if res.rc == 99:
        fail("launcher-errors: a trace the disk cannot hold", "cannot mount a tmpfs: "
             + res.why())
    else:
        check(res.rc == 125 and res.out == bare_churn.out and len(lines) == 2
              and "cannot write the trace: No space left on device" in lines[0],
              "launcher-errors: a trace the disk cannot hold is one line, exit 125, "
              "and the program runs unchanged", res.why())
        got = int(lines[-1].split(":")[1]) if lines and "shmget lines" in lines[-1] else 0
        check(got > 100, "launcher-errors: what was written before the disk filled "
              "stays readable (%d shmget)" % got, res.why())
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


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
