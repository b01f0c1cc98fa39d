#!/usr/bin/env python3
"""End-to-end tests of the leak audit, `shmview report` (text, --json), on
the examples: what leaked (SysV, POSIX) and what did not, with the call
sites that made it; the model behind it (a zone pending while attached,
read-only attaches, a second shmdt, a child killed mid-run, a partial
munmap) against what the kernel says.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Fatal, arg, brief, check, dev_shm, ftok_path, need, one_seg,  # noqa: E402
                     posix_name, remove_key, report_json, report_text, ret,
                     run, segment_by_key, segs, seq, source_line,
                     summary_lines, trace_started, traced, traced_as_bare,
                     unlink_shm, HOLD, LAUNCHER, SEEN_WITHIN, VIEWER)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# Reading reports
# --------------------------------------------------------------------------

def process(rep, pid):
    for p in rep.get("processes", []):
        if p.get("pid") == pid:
            return p
    return None


def top_frame(actor):
    stack = (actor or {}).get("stack") or []
    return stack[0] if stack else {}


def live_at(seg, t, pid=None):
    """Attachments of seg live at time t (ns since the trace start)."""
    return [a for a in seg.get("attachments", [])
            if (pid is None or a.get("pid") == pid) and a["attached_ns"] <= t
            and (a.get("detached_ns") is None or a["detached_ns"] > t)]


def stat_events(t):
    """The trace's successful IPC_STAT calls, with the kernel's nattch."""
    out = []
    for e in t.calls("shmctl"):
        info = e.get("info") or {}
        if "IPC_STAT" in str(arg(e, "cmd")) and ret(e) == 0 and "shm_nattch" in info:
            out.append((e.get("time_ns"), info["shm_nattch"], e))
    return sorted(out, key=lambda x: seq(x[2]))





# --------------------------------------------------------------------------
# Leaks
# --------------------------------------------------------------------------

@test("sysv-leak")
def t_sysv_leak():
    path, key = ftok_path()
    try:
        t = traced("sysv-server", path, leak_keys=[key], label="report-sysv-leak")
        check(t.rc == 0, "sysv-leak: sysv-server runs traced", t.why())
        shmid, kseg = segment_by_key(key)
        if kseg is None:
            raise Fatal("sysv-server left no segment with key 0x%x" % key)
        line = source_line("sysv-server.c", "int shmid = shmget(key")
        main = t.main_pid()

        rep = report_json(t.path)
        s = one_seg(rep, "sysv")
        check(s.get("shmid") == shmid and s.get("key") == "0x%x" % key
              and s.get("size") == 4096 and s.get("state") == "leaked",
              "sysv-leak: report --json: the segment (shmid, key, 4096 bytes) is leaked",
              brief(s))
        f = top_frame(s.get("creator"))
        check((s.get("creator") or {}).get("pid") == main and f.get("symbol") == "main"
              and str(f.get("file", "")).endswith("examples/sysv-server.c")
              and f.get("line") == line,
              "sysv-leak: report --json: created by main at examples/sysv-server.c:%d" % line,
              brief(s.get("creator")))
        check(set(f) == {"ip", "module", "symbol", "offset", "file", "line",
                         "module_offset", "build_id"},
              "sysv-leak: report --json: frames have dump's fields", brief(f))
        check(s.get("removed_by") is None and rep.get("leaks") == 1
              and rep.get("running") is False and rep.get("trace") == t.path,
              "sysv-leak: report --json: removed_by null, leaks 1, not running",
              brief({k: rep.get(k) for k in ("trace", "running", "leaks")}))
        atts = s.get("attachments", [])
        check(len(atts) == 1 and atts[0].get("pid") == main and atts[0].get("how") == "shmat"
              and atts[0].get("readonly") is False and atts[0].get("detached_ns") is not None
              and re.fullmatch(r"0x[0-9a-f]+", str(atts[0].get("addr"))),
              "sysv-leak: report --json: one shmat attachment, dropped at exit",
              brief(atts))

        lines = summary_lines(t.err)
        pre = "==%d== " % main
        check(lines and lines[0] == pre + "shmtrace: 1 segment created, 0 removed, 1 leaked",
              "sysv-leak: launcher summary counts 1 created, 0 removed, 1 leaked",
              repr(t.err[-600:]))
        text = "\n".join(lines)
        check(re.search(r"leaked: sysv shmid %d key 0x%x, 4096 bytes" % (shmid, key), text)
              and re.search(r"at 0x[0-9a-f]+: main \(sysv-server\.c:%d\)" % line, text)
              and pre + "   remove it with: ipcrm -m %d" % shmid in lines,
              "sysv-leak: launcher summary: identity, creation line, 'ipcrm -m %d'" % shmid,
              text[-800:])
        check(all(l.startswith(pre) for l in lines),
              "sysv-leak: every summary line carries ==PID== of the program", text[-400:])

        out = report_text(t.path)
        check("LEAKED" in out and "ipcrm -m %d" % shmid in out
              and "1 segment: 0 removed, 1 leaked, 0 live, 0 pending" in out
              and "sysv-server.c:%d" % line in out,
              "sysv-leak: text report shows LEAKED, the creation line and the ipcrm command",
              out[:800])
        res = run([VIEWER, "report", "--leak-exit", "5", t.path])
        check(res.rc == 5, "sysv-leak: --leak-exit 5 exits 5 when something leaked", res.why())
        res = run([VIEWER, "report", "--summary", t.path])
        check(res.rc == 0 and res.out.decode().startswith("==%d== shmtrace:" % main),
              "sysv-leak: report --summary prints the summary on stdout, exit 0", res.why())
    finally:
        remove_key(key)


@test("posix-leak")
def t_posix_leak():
    name = posix_name("report")
    base = name.lstrip("/")
    try:
        t = traced("posix-writer", name, leak_names=[name], label="report-posix-leak")
        check(t.rc == 0 and base in dev_shm(), "posix-leak: posix-writer leaves %s" % name,
              t.why())
        rep = report_json(t.path)
        s = one_seg(rep, "posix")
        line = source_line("posix-writer.c", "int fd = shm_open(name")
        f = top_frame(s.get("creator"))
        check(s.get("name") == name and s.get("state") == "leaked" and s.get("shmid") is None
              and s.get("key") is None and rep.get("leaks") == 1,
              "posix-leak: report --json: the object is leaked", brief(s))
        check(f.get("symbol") == "main" and f.get("line") == line
              and str(f.get("file", "")).endswith("examples/posix-writer.c"),
              "posix-leak: report --json: created by main at examples/posix-writer.c:%d" % line,
              brief(s.get("creator")))
        atts = s.get("attachments", [])
        check(len(atts) == 1 and atts[0].get("how") == "mmap"
              and atts[0].get("detached_ns") is not None,
              "posix-leak: one mmap attachment, unmapped", brief(atts))
        lines = summary_lines(t.err)
        check(any(l.endswith("remove it with: rm /dev/shm/" + base) for l in lines)
              and any('leaked: posix "%s"' % name in l for l in lines),
              "posix-leak: launcher summary says 'rm /dev/shm/%s'" % base, repr(t.err[-600:]))
    finally:
        unlink_shm(name)


@test("no-leak")
def t_no_leak():
    path, key = ftok_path()
    try:
        t = traced("sysv-server", "--remove", path, label="report-no-leak")
        lines = summary_lines(t.err)
        check(len(lines) == 1 and lines[0].endswith(
            "shmtrace: 1 segment created, 1 removed, 0 leaked"),
            "no-leak: the launcher summary is the counts line alone", repr(t.err))
        check(re.search(rb"shmtrace: \d+ events recorded", t.err),
              "no-leak: the launcher still prints its events line", repr(t.err))
        res = run([VIEWER, "report", "--leak-exit", "5", t.path])
        check(res.rc == 0, "no-leak: --leak-exit 5 exits 0 when nothing leaked", res.why())
        rep = report_json(t.path)
        s = one_seg(rep, "sysv")
        check(s.get("state") == "removed" and (s.get("removed_by") or {}).get("pid")
              == t.main_pid() and rep.get("leaks") == 0,
              "no-leak: the segment is removed, by the server", brief(s))
    finally:
        remove_key(key)


# --------------------------------------------------------------------------
# The model, seen through the report
# --------------------------------------------------------------------------

@test("nginx-zone")
def t_nginx_zone():
    t = traced("nginx-zone", "sysv", 4, label="report-nginx")
    check(t.rc == 0, "nginx-zone: runs traced", t.why())
    rep = report_json(t.path)
    s = one_seg(rep, "sysv")
    master = t.main_pid()
    workers = {ret(e) for e in t.calls("fork", pid=master) if (ret(e) or 0) > 0}
    atts = s.get("attachments", [])
    mine = [a for a in atts if a.get("pid") == master]
    forks = [a for a in atts if a.get("pid") != master]
    check(s.get("state") == "removed" and (s.get("removed_by") or {}).get("pid") == master
          and top_frame(s.get("removed_by")).get("symbol") == "main",
          "nginx-zone: the zone is removed, by the master's main", brief(s))
    check(len(mine) == 1 and mine[0].get("how") == "shmat" and len(workers) == 4
          and {a.get("pid") for a in forks} == workers and len(forks) == 4
          and all(a.get("how") == "fork" for a in forks),
          "nginx-zone: attached by the master (shmat) and by each of the 4 workers (fork)",
          brief(atts))
    check(len({a.get("addr") for a in atts}) == 1 and
          len({a.get("length") for a in atts}) == 1,
          "nginx-zone: every attachment at the same address, same length", brief(atts))
    marked, destroyed = s.get("marked_ns"), s.get("destroyed_ns")
    check(marked is not None and mine and marked >= mine[0]["attached_ns"]
          and all(marked <= a["attached_ns"] for a in forks),
          "nginx-zone: marked for removal right after the master attached, before the forks",
          brief(s))
    check(destroyed is not None and marked is not None and destroyed > marked
          and all(a.get("detached_ns") is not None and a["detached_ns"] <= destroyed
                  for a in atts),
          "nginx-zone: pending while attached, destroyed when the last detach came",
          brief(s))
    procs = [process(rep, w) for w in workers]
    check(all(p and p.get("ppid") == master and p.get("exit_status") == 0
              and p.get("signal") is None and p.get("end_ns") is not None for p in procs),
          "nginx-zone: the workers are children of the master, exit 0",
          brief(rep.get("processes")))
    text = report_text(t.path)
    check(re.search(r"1 segment: 1 removed, 0 leaked", text) and "removal" in text,
          "nginx-zone: text report shows the removal and the totals", text[-400:])


@test("nginx-pending")
def t_nginx_pending():
    """Read while the workers still hold it: pending; at the end: removed."""
    need(LAUNCHER)
    path = harness.trace_path("report-pending")
    p = subprocess.Popen([LAUNCHER, "-q", "-o", path, "--", harness.example("nginx-zone"),
                          "--hold", HOLD, "sysv", "2"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        rep, deadline = None, time.time() + SEEN_WITHIN
        while time.time() < deadline:
            time.sleep(0.2)
            res = run([VIEWER, "report", "--json", path]) if trace_started(path) else None
            if res and res.rc == 0:
                rep = json.loads(res.out)
                if len(segs(rep, "sysv")) == 1 and len(segs(rep)[0]["attachments"]) == 3:
                    break
        running = p.poll() is None
        rep = rep or {}
        s = segs(rep, "sysv")[0] if rep and segs(rep, "sysv") else {}
        check(running and rep.get("running") is True and s.get("state") == "pending"
              and s.get("marked_ns") is not None
              and all(a.get("detached_ns") is None for a in s.get("attachments", [])),
              "nginx-pending: while the workers run, the zone is pending, attached 3 times",
              "running=%s report %s" % (running, brief(rep)))
    finally:
        _, err = p.communicate(timeout=harness.TIMEOUT)
    rep = report_json(path)
    s = one_seg(rep, "sysv")
    check(p.returncode == 0 and rep.get("running") is False and s.get("state") == "removed",
          "nginx-pending: once the run ended, the zone is removed",
          "exit %s, %s" % (p.returncode, brief(s)))


@test("sysv-rdonly")
def t_rdonly():
    t = traced("sysv-rdonly", label="report-rdonly")
    rep = report_json(t.path)
    s = one_seg(rep, "sysv")
    atts = sorted(s.get("attachments", []), key=lambda a: a["attached_ns"])
    check([a.get("readonly") for a in atts] == [False, True]
          and all(a.get("how") == "shmat" and a.get("detached_ns") is not None for a in atts),
          "sysv-rdonly: two shmat attachments, the second readonly", brief(atts))
    check("ro shmat" in report_text(t.path), "sysv-rdonly: text shows the ro attachment",
          "no 'ro shmat'")


@test("sysv-detach-twice")
def t_detach_twice():
    t = traced("sysv-detach-twice", label="report-detach-twice")
    rep = report_json(t.path)
    s = one_seg(rep, "sysv")
    atts = s.get("attachments", [])
    dts = sorted(t.calls("shmdt"), key=seq)
    check(len(atts) == 1 and len(dts) == 2 and atts[0].get("detached_ns") == dts[0].get("time_ns"),
          "sysv-detach-twice: one attachment, detached by the first shmdt", brief(atts))
    check(s.get("state") == "removed", "sysv-detach-twice: removed", brief(s))
    text = report_text(t.path)
    check(re.search(r"\n  shmdt +2 +1 ", text) and re.search(r"failed calls by errno: .*EINVAL 1", text),
          "sysv-detach-twice: the profile shows shmdt 2 calls, 1 failed, EINVAL 1",
          text[text.find("profile:"):][:600])


@test("killed-child")
def t_killed_child():
    want = ("parent: attached\nparent: child attached, nattch 2\n"
            "parent: child killed by SIGKILL\nparent: detached and removed\n")
    t = traced_as_bare("killed-child", want, "killed-child", label="report-killed-child")
    rep = report_json(t.path)
    s = one_seg(rep, "sysv")
    parent = t.main_pid()
    kids = [p for p in rep.get("processes", []) if p.get("ppid") == parent]
    if len(kids) != 1:
        raise Fatal("expected one child of %s: %s" % (parent, brief(rep.get("processes"))))
    kid = kids[0]
    check(kid.get("signal") == "SIGKILL" and kid.get("exit_status") is None
          and kid.get("end_ns") is not None,
          "killed-child: the child ended with signal SIGKILL", brief(kid))
    katt = [a for a in s.get("attachments", []) if a.get("pid") == kid.get("pid")]
    pdt = [e for e in t.calls("shmdt", pid=parent)]
    check(len(katt) == 1 and katt[0].get("how") == "fork"
          and katt[0].get("detached_ns") is not None and pdt
          and katt[0]["detached_ns"] <= pdt[0].get("time_ns"),
          "killed-child: its inherited attachment dropped when it died, before the parent's shmdt",
          brief(katt))
    stats = stat_events(t)
    check(stats and all(len(live_at(s, tm)) == n for tm, n, _ in stats),
          "killed-child: live attachments match the kernel's shm_nattch at each IPC_STAT",
          "%s vs %s" % ([n for _, n, _ in stats], [len(live_at(s, tm)) for tm, _, _ in stats]))
    check(s.get("state") == "removed" and rep.get("leaks") == 0,
          "killed-child: the segment is removed", brief(s))


@test("partial-munmap")
def t_partial_munmap():
    want = ("attached 3 pages, nattch 1\nafter munmap of the middle page, nattch 2\n"
            "shmdt 0, nattch 0\nremoved\n")
    t = traced_as_bare("partial-munmap", want, "partial-munmap", label="report-partial-munmap")
    rep = report_json(t.path)
    s = one_seg(rep, "sysv")
    page = os.sysconf("SC_PAGESIZE")
    atts = sorted(s.get("attachments", []), key=lambda a: int(a["addr"], 16))
    base = int(atts[0]["addr"], 16) if atts else 0
    check(len(atts) == 2 and [(int(a["addr"], 16) - base, a["length"]) for a in atts]
          == [(0, page), (2 * page, page)],
          "partial-munmap: the attach is split in two pieces, the middle page gone",
          brief(atts))
    dt = [e for e in t.calls("shmdt")]
    check(len(dt) == 1 and all(a.get("detached_ns") == dt[0].get("time_ns") for a in atts),
          "partial-munmap: one shmdt detaches both pieces", brief(atts))
    # A piece split off keeps its attach time: count from the munmap on.
    um = [e for e in t.calls("munmap") if ret(e) == 0]
    stats = [x for x in stat_events(t) if um and x[0] > um[0].get("time_ns")]
    check([n for _, n, _ in stats] == [2, 0]
          and [len(live_at(s, tm)) for tm, _, _ in stats] == [2, 0],
          "partial-munmap: 2 live pieces after the munmap, then none, as the kernel counts",
          "kernel %s, model %s" % ([n for _, n, _ in stats],
                                   [len(live_at(s, tm)) for tm, _, _ in stats]))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS,
                          harness.nothing_left("report leaks: the tests left nothing behind")))
