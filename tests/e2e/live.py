#!/usr/bin/env python3
"""End-to-end tests of `shmview live`, the terminal UI: run it for real in a
tmux server of our own and read the screen back (tests/e2e/harness_live.py);
what it shows is checked against `shmview map --json` and `shmview dump
--json` at about the same time.

Every tmux server is killed, whatever happens.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
import harness_live  # noqa: E402
from harness import (Fatal, check, example, need, ok, posix_name, run,  # noqa: E402
                     trace_path, traced, unlink_shm, TMP, VIEWER)
from harness_live import (Pane, check_map_cells, column_of, find_line, launch,  # noqa: E402
                          lines_of, live_cmd, stop, wait_zone, HEIGHT, WIDTH)

TESTS, test = harness.registry()


def drawn_at(screen, x, y):
    """A frame drawn x wide and y high: the header on top; at the bottom
    the status line, whose position ("row N/M") ends a column from the edge."""
    rows = lines_of(screen)
    return (screen.startswith(" shmview live") and len(rows) >= y
            and len(rows[y - 1]) == x - 1 and re.search(r"row \d+/\d+", rows[y - 1]))


@test("live-running")
def t_live_running():
    """The map of a running nginx-style master and its workers: the zone's
    row, each worker's column with the zone's address; select, filter,
    tree, help, resize; the run ending while we watch; q."""
    need(VIEWER)
    path = trace_path("live-nginx")
    p = launch(path, example("nginx-zone"), "--hold", "10", "anon", "3")
    pane = None
    try:
        zone, master = wait_zone(path, p.pid, 3)
        pids = sorted(a["pid"] for a in zone["attachments"])
        workers = [x for x in pids if x != master]
        check(master is not None and len(workers) == 3,
              "live-running: map --json sees the master and 3 workers", repr(zone))
        pane = Pane("running", live_cmd(path))
        s = pane.wait_for(lambda s: all(str(x) in s for x in pids) and " anon " in s,
                          "the zone and every process")
        check(find_line(s, r"^ live\s+anon\s+from pid %d\b" % master),
              "live-running: the anon zone is a row, live, created by the master",
              s[:600])
        check("running" in lines_of(s)[0] and "dropped 0" in lines_of(s)[0],
              "live-running: the header says running, with totals and drops",
              lines_of(s)[0])
        check_map_cells(s, zone, pids, "live-running")

        pane.keys("Enter")
        s = pane.wait_for(lambda s: "nginx-zone.c:" in s, "the segment's detail")
        check(re.search(r"created \+\S+ by pid %d" % master, s) and
              re.search(r"#0 0x[0-9a-f]+ main\+0x[0-9a-f]+ \(\S*nginx-zone\) nginx-zone\.c:\d+", s),
              "live-running: Enter shows the creation backtrace (main, nginx-zone.c)",
              s[:1500])
        check("mmap(addr=NULL, length=1048576" in s and s.count("fork() = ") >= 3,
              "live-running: the detail lists the zone's events (mmap, the forks)",
              s[:1500])
        check(all(re.search(r"pid %d\s.*%s-0x[0-9a-f]+ rw (mmap|fork)" %
                            (x, zone["attachments"][0]["addr"]), s) for x in pids),
              "live-running: the detail lists each attachment", s[:1500])
        pane.keys("Escape")
        pane.wait_for(lambda s: "IDENTITY" in s, "the map again")

        w = workers[1]
        pane.keys("f")
        pane.keys(str(w), literal=True)
        pane.keys("Enter")
        s = pane.wait_for(lambda s: "filter:%d" % w in s, "the filter")
        heading = find_line(s, r"STATE\s+KIND\s+IDENTITY")
        check(column_of(heading, w) > 0 and
              all(column_of(heading, x) < 0 for x in pids if x != w),
              "live-running: filtering by a worker's pid leaves its column only",
              heading)
        check_map_cells(s, zone, [w], "live-running filtered")
        pane.keys("Escape")
        s = pane.wait_for(lambda s: all("|%d" % x in s for x in pids), "the filter cleared")
        ok("live-running: Esc clears the filter")

        pane.keys("Tab")
        s = pane.wait_for(lambda s: "COMMAND (tree)" in s, "the process tree")
        tree = [l for l in lines_of(s) if re.match(r"^ \d+\s+\d+\s+(alive|ended)", l)]
        check(len(tree) == 4 and str(master) in tree[0] and
              all(re.match(r"^ %d\s+%d\s+alive\s+1\s+  nginx-zone --hold 10 anon 3" % (x, master),
                           tree[i + 1]) for i, x in enumerate(workers)),
              "live-running: Tab shows the process tree, workers under the master",
              repr(tree))
        pane.keys("Home", "Down", "Enter")
        s = pane.wait_for(lambda s: "attachments now" in s, "a process's detail")
        check(re.search(r"^pid %d \(nginx-zone\)" % workers[0], s, re.M) and
              "attachments now (1):" in s and zone["attachments"][0]["addr"] in s and
              "fork() = %d" % workers[0] in s,
              "live-running: a process's detail shows its attachment and calls",
              s[:1200])
        pane.keys("Escape", "Tab")
        pane.wait_for(lambda s: "IDENTITY" in s, "the map after the tree")

        pane.keys("?")
        s = pane.wait_for(lambda s: "press any key" in s, "the help")
        check("filter by name" in s and "sort:" in s, "live-running: ? shows the keys",
              s[:800])
        pane.keys("x")
        pane.wait_for(lambda s: "IDENTITY" in s, "the map after the help")

        for x, y in ((60, 20), (20, 5), (1, 1), (WIDTH, HEIGHT)):
            pane.tmux("resize-window", "-x", str(x), "-y", str(y))
            s = pane.screen()
            if x > 12:      # at 1x1 nothing shows: the next size says it lived
                s = pane.wait_for(lambda s: drawn_at(s, x, y),
                                  "the header and the status line at %dx%d" % (x, y))
            check(pane.rc() is None and max(len(l) for l in lines_of(s)) <= x,
                  "live-running: resized to %dx%d, it still draws" % (x, y),
                  "rc %s screen %r" % (pane.rc(), s[:400]))
            if x == 60:     # one column shows: the others scroll into view
                def has(s, pid):
                    return re.search(r"\|%d\b" % pid, s) is not None
                pane.wait_for(lambda s: not has(s, pids[-1]),
                              "only the first columns at 60 wide")
                pane.keys(">")
                last = pane.wait_for(lambda s: has(s, pids[-1]),
                                     "the last column scrolled into view")
                check("col 4/4" in last and not has(last, pids[0]),
                      "live-running: on a narrow screen > scrolls to the last column",
                      last[:600])
                pane.keys("<")
                pane.wait_for(lambda s: has(s, pids[0]), "the first column again")
        s = pane.wait_for(lambda s: "IDENTITY" in s, "the map at full size")
        check_map_cells(s, zone, pids, "live-running after resizing")

        p.wait(timeout=20)
        s = pane.wait_for(lambda s: "finished" in lines_of(s)[0],
                          "the run's end", timeout=5)
        heading = find_line(s, r"STATE\s+KIND\s+IDENTITY")
        check("no segment exists now" in s and
              all(re.search(r"\|%d\s+ended" % x, heading or "") for x in pids),
              "live-running: the run ended while watching: zone gone, processes ended",
              s[:800])
        pane.keys("a")
        s = pane.wait_for(lambda s: re.search(r"^ removed anon", s, re.M), "removed rows")
        ok("live-running: a lists the removed zone")
        pane.quit("live-running: q quits with status 0")
    finally:
        if pane:
            pane.close()
        stop(p)


@test("live-finished")
def t_live_finished():
    """A finished trace: the removed SysV zone, with its creation and its
    removal (IPC_RMID) backtraces."""
    need(VIEWER)
    t = traced("nginx-zone", "sysv", "2", label="live-finished")
    if t.rc != 0:
        raise Fatal(t.why())
    gets = t.calls("shmget")
    shmid = gets[0]["ret"] if gets else None
    pane = Pane("finished", live_cmd(t.path))
    try:
        s = pane.wait_for(lambda s: "finished" in s, "the header")
        check(re.search(r"no segment exists now: .*a lists the 1 removed", s),
              "live-finished: a finished run whose zone is gone says so", s[:600])
        pane.keys("a")
        s = pane.wait_for(lambda s: "removed sysv" in s, "the removed zone")
        check(find_line(s, r"^ removed sysv\s+shmid %s IPC_PRIVATE\s+1\.0M\s+0 \|" % shmid),
              "live-finished: a shows the removed zone with its shmid", s[:800])
        pane.keys("Enter")
        s = pane.wait_for(lambda s: "removal asked" in s, "the detail")
        check(re.search(r"shmget\(key=IPC_PRIVATE|shmget\(key=0x0", s) and
              "main+" in s and "nginx-zone.c:" in s,
              "live-finished: the creation (shmget) with its backtrace", s[:1500])
        check(re.search(r"removal asked \+\S+ by pid \d+ \(nginx-zone\):\n.*shmctl\("
                        r"shmid=%s, cmd=IPC_RMID" % shmid, s),
              "live-finished: the removal (IPC_RMID) with its backtrace", s[:1500])
        check(re.search(r"shmdt\(shmaddr=0x[0-9a-f]+\) = 0", s),
              "live-finished: the event history has the master's shmdt", s[:2500])
        pane.quit("live-finished: q quits with status 0")
    finally:
        pane.close()


@test("live-hostile")
def t_live_hostile():
    """A leaked POSIX object with control bytes in its name: shown leaked,
    the name escaped (a raw ESC would have been eaten by the terminal)."""
    need(VIEWER)
    name = posix_name("live-\x1b[31mred\x07")
    t = traced("posix-writer", name, label="live-hostile",
               leak_names=(name.lstrip("/"),))
    pane = None
    try:
        if t.rc != 0:
            raise Fatal(t.why())
        pane = Pane("hostile", live_cmd(t.path))

        def row_of(s):
            return find_line(s, r"^ leaked\s+posix\s")
        s = pane.wait_for(lambda s: row_of(s), "the leaked object's row")
        s = pane.settle(lambda s: "live-\\x1b[31mred\\x07" in (row_of(s) or ""))
        row = row_of(s)
        check(row and "live-\\x1b[31mred\\x07" in row,
              "live-hostile: the leaked object's name is escaped on screen", repr(row))
        pane.keys("Enter")
        s = pane.wait_for(lambda s: "shm_open(" in s, "the detail")
        s = pane.settle(lambda s: '\\x1b[31mred\\x07' in s)
        check('\\x1b[31mred\\x07' in s and "\x1b" not in s,
              "live-hostile: the detail escapes it too", s[:800])
        pane.quit("live-hostile: q quits with status 0")
    finally:
        if pane:
            pane.close()
        unlink_shm(name)


@test("live-many")
def t_live_many():
    """Ten thousand segments scroll (End, Home, PgDn) and draw fast."""
    need(VIEWER)
    t = traced("churn", "anon", "10000", label="live-many")
    if t.rc != 0:
        raise Fatal(t.why())
    pane = Pane("many", live_cmd(t.path, "--timing"))
    try:
        pane.wait_for(lambda s: "10000 removed" in s, "the header")
        pane.keys("a")
        s = pane.wait_for(lambda s: "row 1/10000" in s, "10000 rows")
        rows = [l for l in lines_of(s) if l.startswith(" removed anon")]
        check(len(rows) == HEIGHT - 4, "live-many: the rows fill the screen",
              "%d rows" % len(rows))
        pane.keys("End")
        pane.wait_for(lambda s: "row 10000/10000" in s, "End")
        pane.keys("Home", "NPage")
        pane.wait_for(lambda s: "row %d/10000" % (HEIGHT - 4 + 1) in s, "PgDn")
        pane.keys("s")
        s = pane.wait_for(lambda s: "sorted by size" in s, "sort by size")
        sizes = re.findall(r"^ removed anon .* (\S+)\s+0 \|", s, re.M)
        check(len(sizes) == HEIGHT - 4 and all(x == "4.0K" for x in sizes),
              "live-many: s sorts (by size), the rows still fill the screen",
              repr(sizes[:5]))
        ok("live-many: End, Home and PgDn scroll through 10000 rows")
        # a frame drawn after the selection moved down, with its timing
        row = re.search(r"row (\d+)/10000", s)
        moved = "row %d/10000" % (int(row.group(1)) + 1) if row else "row "
        timing = r"read ([\d.]+)ms draw ([\d.]+)ms"
        pane.keys("Down")
        s = pane.settle(lambda s: moved in s and re.search(timing, s))
        m = re.search(timing, s)
        check(m and float(m.group(2)) < 50.0,
              "live-many: a frame of 10000 segments draws in under 50 ms",
              m.group(0) if m else "no timing shown")
        if m:
            print("# live-many: reading %s ms, drawing %s ms" % m.groups(), flush=True)
        pane.quit("live-many: q quits with status 0")
    finally:
        pane.close()


@test("live-pick")
def t_live_pick():
    """Without TRACE: the only trace of the directory, or a list."""
    need(VIEWER)
    one = os.path.join(TMP, "pick-one")
    two = os.path.join(TMP, "pick-two")
    os.makedirs(one)
    os.makedirs(two)
    t = traced("nginx-zone", "anon", "1", label="live-pick",
               path=os.path.join(one, "only.trace"))
    if t.rc != 0:
        raise Fatal(t.why())
    shutil.copy(t.path, os.path.join(two, "old.trace"))
    shutil.copy(t.path, os.path.join(two, "new.trace"))
    now = time.time()
    os.utime(os.path.join(two, "old.trace"), (now - 600, now - 600))
    open(os.path.join(two, "notes.trace"), "w").write("not a trace\n")
    pane = Pane("pick-one", shlex.quote(VIEWER) + " live", cwd=one)
    try:
        s = pane.wait_for(lambda s: "the only trace here: only.trace" in s, "the note")
        check(" only.trace " in lines_of(s)[0],
              "live-pick: the only trace of the directory is opened", lines_of(s)[0])
        pane.keys("q")
        pane.wait_exit()
    finally:
        pane.close()
    pane = Pane("pick-two", shlex.quote(VIEWER) + " live", cwd=two)
    try:
        def listed(s):
            return [l.split()[-1] for l in lines_of(s)[1:] if l.endswith(".trace")]

        pane.wait_for(lambda s: "which trace?" in s, "the picker")
        # the list may come after the title: wait for it, then judge it
        s = pane.settle(lambda s: listed(s) == ["new.trace", "old.trace"])
        names = listed(s)
        check(names == ["new.trace", "old.trace"],
              "live-pick: several traces give a list, newest first, traces only",
              repr(names))
        pane.keys("Down", "Enter")
        s = pane.wait_for(lambda s: "IDENTITY" in s, "the picked trace")
        check(" old.trace " in lines_of(s)[0], "live-pick: Enter opens the one picked",
              lines_of(s)[0])
        pane.quit("live-pick: q quits with status 0")
    finally:
        pane.close()


@test("live-errors")
def t_live_errors():
    need(VIEWER)
    t = traced("nginx-zone", "anon", "1", label="live-errors")
    res = run([VIEWER, "live", t.path])
    check(res.rc == 1 and res.out == b"" and res.err.decode() ==
          "shmview: live needs a terminal; use 'shmview map'\n",
          "live-errors: without a terminal, one line and exit 1", res.why())
    res = run([VIEWER, "live", "--help"])
    check(res.rc == 0 and res.out.startswith(b"usage: shmview live"),
          "live-errors: --help works without a terminal", res.why())
    res = run([VIEWER, "live", "--interval", "x", t.path])
    check(res.rc == 2 and len(res.err.splitlines()) == 1,
          "live-errors: a bad option is one line, exit 2", res.why())
    pane = Pane("missing", live_cmd(os.path.join(TMP, "missing.trace")))
    try:
        check(pane.wait_exit() == 1, "live-errors: a missing trace fails, exit 1",
              "rc %s" % pane.rc())
    finally:
        pane.close()
    # a trace that goes away while watching: the error shows, the map stays
    path = os.path.join(TMP, "vanishing.trace")
    shutil.copy(t.path, path)
    pane = Pane("vanish", live_cmd(path))
    try:
        pane.wait_for(lambda s: "IDENTITY" in s, "the map")
        os.unlink(path)
        s = pane.wait_for(lambda s: "cannot read" in s, "the error")
        status = [l for l in lines_of(s) if l.strip()][-1]
        check("No such file" in status and "IDENTITY" in s,
              "live-errors: a trace that vanishes: error in the status line, map kept",
              s[-400:])
        shutil.copy(t.path, path)
        pane.wait_for(lambda s: "cannot read" not in s, "the error gone")
        ok("live-errors: the trace back, the error goes")
        pane.quit("live-errors: q quits with status 0")
    finally:
        pane.close()


@test("live-pid")
def t_live_pid():
    """live --pid: an untraced master and its workers, from /proc."""
    need(VIEWER)
    p = subprocess.Popen([example("nginx-zone"), "--hold", "4", "anon", "2"],
                         stdout=subprocess.DEVNULL, start_new_session=True)
    pane = None
    try:
        zone = None
        end = time.time() + 5
        while time.time() < end and not zone:
            time.sleep(0.2)
            res = run([VIEWER, "map", "--json", "--pid", str(p.pid), "--children"])
            if res.rc == 0:
                m = json.loads(res.out.decode())
                z = [s for s in m["segments"] if s["kind"] == "anon"
                     and s["size"] == 1 << 20 and len(s["attachments"]) == 3]
                zone = z[0] if z else None
        if not zone:
            raise Fatal("map --pid never showed the zone in 3 processes")
        pids = sorted(a["pid"] for a in zone["attachments"])
        pane = Pane("pid", " ".join([VIEWER, "live", "--pid", str(p.pid), "--children"]))
        s = pane.wait_for(lambda s: all(str(x) in s for x in pids) and " anon " in s,
                          "the zone and every process")
        check("proc" in lines_of(s)[0] and "no history" in s,
              "live-pid: the header says the map comes from /proc, without history",
              lines_of(s)[0])
        check_map_cells(s, zone, pids, "live-pid")
        pane.keys("Enter")
        s = pane.wait_for(lambda s: "from /proc now" in s, "the segment's detail")
        check("attachments (3 live" in s, "live-pid: Enter shows its 3 attachments", s[:800])
        pane.quit("live-pid: q quits")
    finally:
        if pane:
            pane.close()
        p.kill()
        p.wait()


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS,
                          harness.nothing_left("live leaks: the tests left nothing behind"),
                          harness_live.close_all))
