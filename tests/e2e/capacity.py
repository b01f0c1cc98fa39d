#!/usr/bin/env python3
"""End-to-end tests of capacity: a program fills a small tmpfs mounted
here (under this run's temporary directory, unmounted after) through a
shared mapping until SIGBUS kills it, under the tracer: the launcher's
summary names the mapping and says the tmpfs was full, report --json has
the peak and the death, and the program died as it does untraced (the
shim installs no handler).  A POSIX run's summary gives /dev/shm's peak;
`audit` and `live` show /dev/shm against its size.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
import harness_live  # noqa: E402
from harness import (Fatal, bare, check, posix_name, report_json,  # noqa: E402
                     traced, unlink_shm, viewer_json, TMP)
from harness_live import Pane, live_cmd  # noqa: E402

TESTS, test = harness.registry()

SMALL = 256 * 1024          # the tmpfs
FILL = 1024 * 1024          # what the program tries to write: more
SIGBUS = 7
MOUNTS = []


def mount_small(label):
    """A tmpfs of SMALL bytes at a new directory of this run."""
    point = os.path.join(TMP, label)
    os.mkdir(point)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % SMALL,
                        "shmtrace-test", point], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise Fatal("cannot mount a tmpfs (root needed): " + p.stderr.strip())
    MOUNTS.append(point)
    return point


def unmount_all():
    while MOUNTS:
        point = MOUNTS.pop()
        subprocess.run(["umount", point], capture_output=True, timeout=30)
        try:
            os.rmdir(point)
        except OSError:
            pass


def mounted(point):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == point for line in f)


@test("capacity-sigbus")
def t_sigbus():
    point = mount_small("small")
    target = os.path.join(point, "fill")
    try:
        plain = bare("fill-tmpfs", target, FILL)
        os.unlink(target)
        t = traced("fill-tmpfs", target, FILL, label="fill")
        check(plain.rc == -SIGBUS and t.rc == 128 + SIGBUS,
              "capacity-sigbus: SIGBUS kills the program, traced as untraced "
              "(the launcher exits 128+7)", "bare %s, traced %s" % (plain.rc, t.rc))
        err = t.err.decode(errors="replace")
        pid = t.main_pid()
        check(re.search(r"==\d+== pid %d \(fill-tmpfs\) was killed by SIGBUS "
                        r"with 1 shared mapping" % pid, err),
              "capacity-sigbus: the summary says SIGBUS killed it", err[-1500:])
        check(re.search(r"==\d+==\s+file \"%s\" inode %d at 0x[0-9a-f]+-0x[0-9a-f]+ "
                        r"\(1\.0 MiB\) on tmpfs %s\n" %
                        (re.escape(target), os.stat(target).st_ino, re.escape(point)),
                        err),
              "capacity-sigbus: it names the mapping, its file and its tmpfs",
              err[-1500:])
        check(re.search(r"tmpfs %s was full when it died \(256\.0 KiB of "
                        r"256\.0 KiB used\)" % re.escape(point), err),
              "capacity-sigbus: it says the tmpfs was full when it died",
              err[-1500:])
        check(re.search(r"tmpfs %s: peak 256\.0 KiB of 256\.0 KiB \(100%%\), FULL"
                        % re.escape(point), err),
              "capacity-sigbus: the summary gives the tmpfs' peak", err[-1500:])
        rep = report_json(t.path)
        cap = rep.get("capacity") or {}
        fs = [f for f in cap.get("tmpfs", []) if f.get("mount") == point]
        check(len(fs) == 1 and fs[0]["size"] == SMALL and fs[0]["peak"] == SMALL
              and fs[0]["full"] and fs[0]["start"] == 0 and cap.get("samples", 0) >= 2,
              "capacity-sigbus: report --json has the tmpfs at its peak, full",
              harness.brief(cap))
        deaths = cap.get("sigbus", [])
        check(len(deaths) == 1 and deaths[0]["pid"] == pid and deaths[0]["sampled"]
              and deaths[0]["full_mount"] == point and
              deaths[0]["mappings"][0].get("path") == target,
              "capacity-sigbus: report --json has the death, sampled at the "
              "reap, and its mapping", harness.brief(deaths))
    finally:
        unmount_all()
    check(not mounted(point) and not os.path.exists(point),
          "capacity-sigbus: the tmpfs is unmounted and its directory gone")


@test("capacity-child")
def t_child():
    """A child fills the tmpfs and dies; its traced parent reaps it (as a
    DataLoader's main process reaps a worker): the launcher samples when
    it sees the parent's wait in the trace."""
    point = mount_small("child")
    target = os.path.join(point, "fill")
    try:
        t = traced("fill-tmpfs", "--child", target, FILL, label="fill-child")
        out = t.out.decode(errors="replace")
        err = t.err.decode(errors="replace")
        m = re.search(r"child (\d+) killed by signal %d" % SIGBUS, out)
        check(t.rc == 1 and m, "capacity-child: the parent reaps a child SIGBUS "
              "killed", out + err[-300:])
        child = int(m.group(1)) if m else -1
        check(re.search(r"pid %d \(fill-tmpfs\) was killed by SIGBUS with 1 shared "
                        r"mapping:\n.*\n.*tmpfs %s was full when its parent reaped "
                        r"it \(256\.0 KiB of 256\.0 KiB used\)" % (child, re.escape(point)),
                        err),
              "capacity-child: the summary says the tmpfs was full when the "
              "parent reaped it", err[-1500:])
        deaths = (report_json(t.path).get("capacity") or {}).get("sigbus", [])
        check(len(deaths) == 1 and deaths[0]["pid"] == child and
              deaths[0]["sampled"] and not deaths[0]["by_launcher"] and
              deaths[0]["full_mount"] == point,
              "capacity-child: report --json: sampled for this death, not "
              "reaped by the launcher", harness.brief(deaths))
    finally:
        unmount_all()


@test("capacity-room")
def t_room():
    """The same program with room to spare: no SIGBUS, no blame."""
    point = mount_small("roomy")
    try:
        t = traced("fill-tmpfs", os.path.join(point, "fits"), 64 * 1024,
                   label="fits")
        err = t.err.decode(errors="replace")
        check(t.rc == 0 and "SIGBUS" not in err and "FULL" not in err,
              "capacity-room: nothing is said of SIGBUS when it fits", err[-800:])
        cap = report_json(t.path).get("capacity") or {}
        fs = [f for f in cap.get("tmpfs", []) if f.get("mount") == point]
        check(len(fs) == 1 and fs[0]["peak"] >= 64 * 1024 and not fs[0]["full"],
              "capacity-room: its peak is what it wrote, not full",
              harness.brief(fs))
    finally:
        unmount_all()


@test("capacity-posix")
def t_posix():
    name = posix_name("capacity")
    try:
        t = traced("posix-writer", name, leak_names=[name], label="posix-cap")
        err = t.err.decode(errors="replace")
        check(t.rc == 0 and re.search(r"==\d+== capacity during the run \(\d+ samples\):\n"
                                      r"==\d+==\s+tmpfs /dev/shm: peak [^\n]* of ", err),
              "capacity-posix: the summary gives /dev/shm's peak for a POSIX object",
              err[-800:])
        a = viewer_json(["audit", "--json"])
        shm = [f for f in a.get("capacity", {}).get("tmpfs", [])
               if f.get("mount") == "/dev/shm"]
        st = os.statvfs("/dev/shm")
        check(len(shm) == 1 and shm[0]["size"] == st.f_blocks * st.f_frsize and
              shm[0]["posix"], "capacity-posix: audit --json gives /dev/shm's "
              "size", harness.brief(a.get("capacity")))
        text = harness.viewer_text(["audit"])
        check(re.search(r"capacity now:\n  tmpfs /dev/shm \(POSIX objects\): .* of ", text),
              "capacity-posix: the text audit starts with /dev/shm's use",
              text[:600])
        pane = Pane("capacity", live_cmd(t.path), x=200)
        try:
            s = pane.wait_for(lambda s: "/dev/shm" in s.splitlines()[0],
                              "the header's /dev/shm")
            check(re.search(r" /dev/shm \S+/\S+ \d+%", s.splitlines()[0]),
                  "capacity-posix: live shows /dev/shm against its size in "
                  "its header", s.splitlines()[0])
            pane.quit("capacity-posix: live quits with status 0")
        finally:
            pane.close()
    finally:
        unlink_shm(name.lstrip("/"))


def finish(words):
    harness.tracer_checks(words)
    check(not MOUNTS, "capacity: every tmpfs the tests mounted is unmounted")


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, finish,
                          cleanup=lambda: (unmount_all(), harness_live.close_all())))
