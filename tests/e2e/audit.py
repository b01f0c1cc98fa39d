#!/usr/bin/env python3
"""End-to-end tests of what shmview knows without a trace: `shmview audit`
(text, --json, --stale, --trace) as root and as an ordinary user, and
`shmview map --pid [--children]`.  The truth is what helper processes say
they made (tests/e2e/harness_audit.py).

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import pwd
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
import harness_audit  # noqa: E402
from harness import (Fatal, brief, check, free_key, ftok_path, need, posix_name,  # noqa: E402
                     remove_key, run, source_line, traced, unlink_shm, viewer_json,
                     LAUNCHER, TAG, TMP, VIEWER)
from harness_audit import (Helper, audit, can_be_nobody, cleanup_made,  # noqa: E402
                           mapper_set, pages, posix_of, sysv_of, NOBODY)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------

def holder_spec(tmpfile):
    """Attached, marked-while-attached and unlinked-while-mapped objects of
    every family, shared with a forked child that adds its own."""
    ka, kb = free_key(), free_key()
    return {
        "sysv": [{"key": ka, "size": 65536},
                 {"key": kb, "size": 16384, "ro": True, "rmid": True}],
        "posix": [{"name": posix_name("held"), "size": 12288},
                  {"name": posix_name("gone"), "size": 4096, "ro": True,
                   "unlink": True},
                  {"name": posix_name("open"), "size": 8192, "map": False,
                   "keep_fd": True}],
        "memfd": [{"name": TAG + "-memfd", "size": pages(2)}],
        "anon": [{"size": pages(3)}],
        "devzero": [{"size": pages(2)}],
        "file": [{"path": tmpfile, "size": pages(1)}],
        "children": [{"attach": [{"key": ka, "ro": True}],
                      "anon": [{"size": pages(5)}]}],
    }


def leaker_spec():
    """A process that leaks a SysV segment and a /dev/shm object (and a
    named semaphore), then exits: their creator is gone."""
    return {"sysv": [{"key": free_key(), "size": 32768, "attach": False}],
            "posix": [{"name": posix_name("leak"), "size": 20480, "map": False}],
            "sem": [{"name": posix_name("sem")}],
            "exit": True}


@test("audit")
def t_audit():
    tmpfile = os.path.join(TMP, "audit-file")
    leaker = Helper(leaker_spec())
    leaker.stop()
    holder = Helper(holder_spec(tmpfile))
    try:
        par, kid = holder.out["parent"], holder.out["child0"]
        lk = leaker.out["parent"]
        rep = audit()
        check(rep.get("source") == "kernel" and {"sysv", "posix", "unreadable", "totals"}
              <= set(rep) and rep.get("uid") == os.geteuid(),
              "audit: one object with sysv, posix, unreadable, totals", brief(rep))

        # SysV attached in the parent, inherited and attached again by the child
        a = par["sysv"][0]
        s = sysv_of(rep, a["shmid"])
        want = {(par["pid"], a["addr"], 65536, False), (kid["pid"], a["addr"], 65536, False),
                (kid["pid"], kid["attach"][0]["addr"], 65536, True)}
        check(s and s["key"] == "0x%x" % a["key"] and s["size"] == 65536
              and s["nattch"] == 3 and not s["marked"] and s["flags"] == []
              and s["waste"] == 0 and mapper_set(s) == want,
              "audit: an attached SysV segment: its 3 mappings in parent and child, "
              "no flag", brief(s))
        check(s and s["creator"]["pid"] == par["pid"] and s["creator"]["alive"]
              and s["creator"]["comm"] and s["last"]["pid"] == kid["pid"]
              and s["attach_epoch_ns"] and s["perms"] == "0600"
              and s["owner"]["uid"] == os.geteuid() and s["complete"],
              "audit: its creator (alive, with its command) and last attacher",
              brief(s))
        comms = {m["comm"] for m in (s or {}).get("attachments", [])}
        check(comms and all(c and c.startswith("python") for c in comms),
              "audit: attachments carry their command", brief(sorted(comms)))

        # SysV marked for removal while attached: pending, held by both
        b = par["sysv"][1]
        s = sysv_of(rep, b["shmid"])
        want = {(par["pid"], b["addr"], 16384, True), (kid["pid"], b["addr"], 16384, True)}
        check(s and s["marked"] and s["flags"] == ["pending"] and s["key"] == "0x%x" % b["key"]
              and mapper_set(s) == want and s["waste"] == 16384,
              "audit: a SysV segment marked while attached is pending, held by "
              "parent and child (the key read back from their mappings)", brief(s))

        # SysV leaked by a process that is gone
        l = lk["sysv"][0]
        s = sysv_of(rep, l["shmid"])
        check(s and "orphaned" in s["flags"] and "stale" not in s["flags"]
              and s["nattch"] == 0 and s["attachments"] == [] and not s["creator"]["alive"]
              and s["creator"]["pid"] == lk["pid"] and s["creator"]["comm"] is None
              and s["waste"] == 32768,
              "audit: a SysV segment never removed, creator gone: orphaned", brief(s))

        # POSIX
        h = par["posix"][0]
        p = posix_of(rep, h["name"])
        want = {(par["pid"], h["addr"], 12288, False), (kid["pid"], h["addr"], 12288, False)}
        check(p and p["inode"] == h["inode"] and p["size"] == 12288 and p["flags"] == []
              and mapper_set(p) == want and not p["semaphore"] and not p["unlinked"]
              and p["perms"] == "0600" and p["mtime_epoch_ns"],
              "audit: a mapped POSIX object, mapped by parent and child", brief(p))
        g = par["posix"][1]
        p = posix_of(rep, g["name"])
        want = {(par["pid"], g["addr"], 4096, True), (kid["pid"], g["addr"], 4096, True)}
        check(p and p["unlinked"] and p["flags"] == ["pending"] and p["inode"] == g["inode"]
              and mapper_set(p) == want,
              "audit: a POSIX object unlinked while mapped is pending, held by both",
              brief(p))
        o = par["posix"][2]
        p = posix_of(rep, o["name"])
        fds = {(x["pid"], x["fd"] >= 0) for x in (p or {}).get("holders", [])}
        check(p and p["flags"] == [] and p["attachments"] == [] and (par["pid"], True) in fds,
              "audit: a POSIX object only held open is not orphaned; its holders "
              "are listed", brief(p))
        lp = lk["posix"][0]
        p = posix_of(rep, lp["name"])
        check(p and p["flags"] == ["orphaned"] and p["size"] == 20480 and p["attachments"] == []
              and p["holders"] == [] and p["waste"] == 20480,
              "audit: a /dev/shm object never unlinked, nobody holding it: orphaned",
              brief(p))
        sem = lk["sem"][0]
        p = posix_of(rep, "/sem." + sem["name"].lstrip("/"))
        check(p and p["semaphore"] and p["inode"] == sem["inode"]
              and "orphaned" in p["flags"],
              "audit: a named semaphore left behind is reported as a semaphore", brief(p))

        # order and totals
        def ordered(objs):
            leak = [bool(set(o["flags"]) & {"orphaned", "stale", "pending"}) for o in objs]
            wastes = [o["waste"] for o in objs if o["waste"]]
            return leak == sorted(leak, reverse=True) and wastes == sorted(wastes, reverse=True)
        check(ordered(rep["sysv"]) and ordered(rep["posix"]),
              "audit: likely leaks first, the biggest waste first",
              brief([(o.get("shmid", o.get("name")), o["waste"]) for o in rep["sysv"] + rep["posix"]]))
        t = rep["totals"]
        everything = rep["sysv"] + rep["posix"]
        leaks = [o for o in everything if set(o["flags"]) & {"orphaned", "stale", "pending"}]
        check(t["sysv"] == len(rep["sysv"])
              and t["posix"] + t["semaphores"] == len(rep["posix"])
              and t["leaks"] == len(leaks) and t["waste"] == sum(o["waste"] for o in leaks)
              and t["bytes"] == sum(o["size"] for o in everything)
              and t["unreadable"] == len(rep["unreadable"]),
              "audit: totals add up", brief(t))

        # --stale 0: the unused ones are stale once their last use is a
        # second old (the kernel's SysV times are in seconds)
        deadline = time.time() + 5
        while True:
            rep0 = audit("--stale", "0")
            s = sysv_of(rep0, l["shmid"])
            p = posix_of(rep0, lp["name"])
            sa = sysv_of(rep0, a["shmid"])
            if (s and "stale" in s["flags"] and p and "stale" in p["flags"]) \
                    or time.time() > deadline:
                break
            time.sleep(0.1)
        check(s and "stale" in s["flags"] and p and "stale" in p["flags"]
              and sa and "stale" not in sa["flags"] and rep0["stale_ns"] == 0,
              "audit --stale 0: the unused ones are stale, an attached one is not",
              brief([s, p]))
        res = run([VIEWER, "audit", "--stale", "soon"])
        check(res.rc == 2 and len(res.err.splitlines()) == 1,
              "audit: a bad --stale is one line, exit 2", res.why())

        # the text
        res = run([VIEWER, "audit"])
        text = res.out.decode(errors="replace")
        leak_part = text.split("other objects")[0]
        check(res.rc == 0 and "no history" in text and "likely leaks" in text
              and "ipcrm -m %d" % l["shmid"] in leak_part
              and "rm /dev/shm/" + lp["name"].lstrip("/") in leak_part
              and "totals:" in text,
              "audit: text lists the leaks first, each with its remove command, then "
              "totals", text[:600])
        block = re.search(r"\] sysv shmid %d .*?\n\n" % b["shmid"], text, re.S)
        check(block and "PENDING" in block.group(0) and "held by:" in block.group(0)
              and ("pid %-7d" % kid["pid"]) in block.group(0),
              "audit: text says who holds a pending segment",
              block.group(0) if block else text[:400])
    finally:
        holder.stop()
        cleanup_made()


@test("audit-user")
def t_audit_user():
    """As an ordinary user: what it cannot see is said, what it can is right."""
    if not can_be_nobody():
        print("# skip audit-user: needs root, runuser and a '%s' user" % NOBODY,
              flush=True)
        return
    root_helper = Helper({"sysv": [{"key": free_key(), "size": 8192}],
                          "posix": [{"name": posix_name("rootheld"), "size": 4096}]})
    user_helper = Helper({"sysv": [{"key": free_key(), "size": 4096}],
                          "posix": [{"name": posix_name("userheld"), "size": 8192}],
                          "anon": [{"size": pages(2)}]}, user=NOBODY)
    try:
        rp, up = root_helper.out["parent"], user_helper.out["parent"]
        rep = audit(user=NOBODY)
        unread = {u["pid"] for u in rep["unreadable"]}
        nobody_uid = pwd.getpwnam(NOBODY).pw_uid
        check(rep["uid"] == nobody_uid and rp["pid"] in unread and up["pid"] not in unread
              and rep["totals"]["unreadable"] == len(rep["unreadable"]) > 0,
              "audit as %s: root's processes are listed as not inspected, its own are not"
              % NOBODY, brief(rep["unreadable"][:5]))
        s = sysv_of(rep, rp["sysv"][0]["shmid"])
        check(s and s["nattch"] == 1 and s["attachments"] == [] and s["unseen"] == 1
              and "unseen" in s["flags"] and not s["complete"]
              and "orphaned" not in s["flags"],
              "audit as %s: root's attached SysV segment: 1 attach unseen, not orphaned"
              % NOBODY, brief(s))
        s = sysv_of(rep, up["sysv"][0]["shmid"])
        sv = up["sysv"][0]
        check(s and mapper_set(s) == {(up["pid"], sv["addr"], 4096, False)}
              and s["complete"] and s["flags"] == [],
              "audit as %s: its own SysV segment with its mapping" % NOBODY, brief(s))
        pp = up["posix"][0]
        p = posix_of(rep, pp["name"])
        check(p and mapper_set(p) == {(up["pid"], pp["addr"], 8192, False)}
              and not p["complete"],
              "audit as %s: its own POSIX object mapped; complete is false while "
              "processes were not inspected" % NOBODY, brief(p))
        res = run(["runuser", "-u", NOBODY, "--", VIEWER, "audit"])
        text = res.out.decode(errors="replace")
        check(res.rc == 0 and re.search(r"could not inspect \d+ process", text)
              and "run as root" in text,
              "audit as %s: the text says how many processes it could not inspect, "
              "and by name" % NOBODY, text[-600:])

        # map --pid as the user: its own process yes, root's no
        m = viewer_json(["map", "--pid", str(up["pid"]), "--json"], user=NOBODY)
        kinds = sorted(s["kind"] for s in m["segments"])
        check(m["source"] == "proc" and {"sysv", "posix", "anon"} <= set(kinds),
              "map --pid as %s: its own process's SysV, POSIX and anon mappings"
              % NOBODY, brief(m))
        res = run(["runuser", "-u", NOBODY, "--", VIEWER, "map", "--pid", str(rp["pid"])])
        check(res.rc == 1 and len(res.err.splitlines()) == 1 and b"Permission denied" in res.err
              and not res.out,
              "map --pid as %s of root's process: one line, exit 1" % NOBODY, res.why())
    finally:
        root_helper.stop()
        user_helper.stop()
        cleanup_made()


@test("audit-trace")
def t_audit_trace():
    """--trace: the objects a trace made carry its creation backtrace."""
    path, key = ftok_path()
    name = posix_name("traced")
    try:
        ts = traced("sysv-server", path, leak_keys=[key], label="audit-sysv")
        tp = traced("posix-writer", name, leak_names=[name], label="audit-posix")
        if ts.rc != 0 or tp.rc != 0:
            raise Fatal("the examples failed: %s / %s" % (ts.why(), tp.why()))
        shmid, _ = harness.segment_by_key(key)
        rep = audit("--trace", ts.path)
        s = sysv_of(rep, shmid)
        tr = (s or {}).get("trace") or {}
        frames = tr.get("stack") or [{}]
        line = source_line("sysv-server.c", "int shmid = shmget(key")
        check(rep.get("trace") == ts.path and tr.get("pid") == ts.main_pid()
              and str(tr.get("exe", "")).endswith("/sysv-server")
              and frames[0].get("symbol") == "main" and frames[0].get("line") == line
              and str(frames[0].get("file", "")).endswith("examples/sysv-server.c")
              and "orphaned" in s["flags"],
              "audit --trace: the leaked SysV segment is annotated with its creation "
              "backtrace (main at sysv-server.c:%d)" % line, brief(s))
        others = [o for o in rep["sysv"] + rep["posix"] if o.get("trace") and o is not s]
        check(not others, "audit --trace: nothing the trace did not make is annotated",
              brief(others))
        rep = audit("--trace", tp.path)
        p = posix_of(rep, name)
        tr = (p or {}).get("trace") or {}
        frames = tr.get("stack") or [{}]
        line = source_line("posix-writer.c", "int fd = shm_open(name")
        check(tr.get("pid") == tp.main_pid() and frames[0].get("symbol") == "main"
              and frames[0].get("line") == line,
              "audit --trace: the leaked POSIX object too (by name and inode)", brief(p))
        res = run([VIEWER, "audit", "--trace", ts.path])
        text = res.out.decode(errors="replace")
        check(res.rc == 0 and "created in the trace" in text
              and "sysv-server.c:%d" % source_line("sysv-server.c", "int shmid = shmget(key")
              in text,
              "audit --trace: the text shows the backtrace", text[:800])

        # the same name made again is another object: not the trace's
        unlink_shm(name)
        fd = os.open("/dev/shm/" + name.lstrip("/"), os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        rep = audit("--trace", tp.path)
        p = posix_of(rep, name)
        check(p and p["trace"] is None,
              "audit --trace: a name unlinked and made again is not the trace's object",
              brief(p))
        res = run([VIEWER, "audit", "--trace", os.path.join(TMP, "missing.trace")])
        check(res.rc == 1 and len(res.err.splitlines()) == 1 and not res.out,
              "audit --trace of a missing file: one line, exit 1", res.why())
    finally:
        remove_key(key)
        unlink_shm(name)


@test("audit-trace-pending")
def t_audit_trace_pending():
    """A keyed SysV segment marked for removal while attached: the kernel
    shows it as IPC_PRIVATE, the trace and the mappings know its key."""
    need(LAUNCHER)
    path = harness.trace_path("pending")
    key = free_key()
    holder = Helper({"sysv": [{"key": key, "size": 8192, "rmid": True}]},
                    wrap=[LAUNCHER, "-q", "-o", path, "--"])
    try:
        sv = holder.out["parent"]["sysv"][0]
        deadline = time.time() + 5      # the launcher copies out every 100 ms
        while True:
            m = viewer_json(["map", "--json", path])
            s = seg_by(m, "sysv", lambda s: s["shmid"] == sv["shmid"])
            if (s and s["state"] == "pending") or time.time() > deadline:
                break
            time.sleep(0.1)
        check(s and s["state"] == "pending" and s["key"] == "0x%x" % key
              and atts(s) == {(holder.pid, sv["addr"], 8192, False)},
              "map of a live trace: a keyed segment marked while attached is pending "
              "(not taken for another segment)", brief(m["segments"]))
        rep = audit("--trace", path)
        s = sysv_of(rep, sv["shmid"])
        check(s and s["flags"] == ["pending"] and s["key"] == "0x%x" % key
              and (s.get("trace") or {}).get("pid") == holder.pid,
              "audit --trace: the pending segment is the trace's, with its key",
              brief(s))
    finally:
        holder.stop()
        cleanup_made()


# --------------------------------------------------------------------------
# map --pid
# --------------------------------------------------------------------------

def seg_by(m, kind, pred=lambda s: True):
    found = [s for s in m["segments"] if s["kind"] == kind and pred(s)]
    return found[0] if len(found) == 1 else None


def atts(seg):
    return {(a["pid"], int(a["addr"], 16), a["length"], a["readonly"])
            for a in (seg or {}).get("attachments", [])}


@test("map-pid")
def t_map_pid():
    tmpfile = os.path.join(TMP, "map-file")
    holder = Helper(holder_spec(tmpfile))
    try:
        par, kid = holder.out["parent"], holder.out["child0"]
        P, K = par["pid"], kid["pid"]
        m = viewer_json(["map", "--pid", str(P), "--json"])
        check(m.get("source") == "proc" and m.get("running") is True
              and [p["pid"] for p in m["processes"]] == [P]
              and m["processes"][0]["alive"] and m["processes"][0]["exe"],
              "map --pid: from /proc, the one process, alive", brief(m))
        a, b = par["sysv"]
        s = seg_by(m, "sysv", lambda s: s["shmid"] == a["shmid"])
        check(s and s["key"] == "0x%x" % a["key"] and s["size"] == 65536
              and s["state"] == "live" and atts(s) == {(P, a["addr"], 65536, False)},
              "map --pid: the attached SysV segment, rw, at the helper's address", brief(s))
        s = seg_by(m, "sysv", lambda s: s["shmid"] == b["shmid"])
        check(s and s["state"] == "pending" and atts(s) == {(P, b["addr"], 16384, True)},
              "map --pid: the one marked for removal is pending, ro", brief(s))
        h, g = par["posix"][0], par["posix"][1]
        s = seg_by(m, "posix", lambda s: s["name"] == h["name"])
        check(s and s["inode"] == h["inode"] and s["size"] == 12288 and s["state"] == "live"
              and atts(s) == {(P, h["addr"], 12288, False)},
              "map --pid: the POSIX object, by name and inode", brief(s))
        s = seg_by(m, "posix", lambda s: s["inode"] == g["inode"])
        check(s and s["state"] == "pending" and atts(s) == {(P, g["addr"], 4096, True)},
              "map --pid: the unlinked POSIX object is pending", brief(s))
        mf = par["memfd"][0]
        s = seg_by(m, "memfd", lambda s: s["inode"] == mf["inode"])
        check(s and s["name"] == mf["name"] and atts(s) == {(P, mf["addr"], pages(2), False)},
              "map --pid: the memfd with its name", brief(s))
        an, dz = par["anon"][0], par["devzero"][0]
        s1 = seg_by(m, "anon", lambda s: any(int(x["addr"], 16) == an["addr"]
                                             for x in s["attachments"]))
        s2 = seg_by(m, "anon", lambda s: any(int(x["addr"], 16) == dz["addr"]
                                             for x in s["attachments"]))
        check(s1 and s2 and s1 is not s2 and s1["size"] == pages(3) and s2["size"] == pages(2),
              "map --pid: shared anonymous memory and the /dev/zero mapping (both "
              "'anon': the kernel makes them alike)", brief([s1, s2]))
        f = par["file"][0]
        s = seg_by(m, "file", lambda s: s["inode"] == f["inode"])
        check(s and s["name"] == tmpfile and s["size"] == pages(1)
              and atts(s) == {(P, f["addr"], pages(1), True)},
              "map --pid: the shared file mapping, ro, with its path", brief(s))
        o = par["posix"][2]
        check(not [s for s in m["segments"] if s.get("name") == o["name"]],
              "map --pid: an object only held open is not on the map", brief(m["segments"]))

        mc = viewer_json(["map", "--pid", str(P), "--children", "--json"])
        procs = {p["pid"]: p for p in mc["processes"]}
        check(set(procs) == {P, K} and procs[K]["ppid"] == P,
              "map --pid --children: the helper and its child", brief(mc["processes"]))
        s = seg_by(mc, "sysv", lambda s: s["shmid"] == a["shmid"])
        check(s and atts(s) == {(P, a["addr"], 65536, False), (K, a["addr"], 65536, False),
                                (K, kid["attach"][0]["addr"], 65536, True)},
              "map --pid --children: the SysV segment in both, and the child's own "
              "read-only attach", brief(s))
        s = seg_by(mc, "anon", lambda s: any(int(x["addr"], 16) == an["addr"]
                                             for x in s["attachments"]))
        check(s and atts(s) == {(P, an["addr"], pages(3), False), (K, an["addr"], pages(3), False)},
              "map --pid --children: the region shared through fork is one segment",
              brief(s))
        ka = kid["anon"][0]
        s = seg_by(mc, "anon", lambda s: any(int(x["addr"], 16) == ka["addr"]
                                             for x in s["attachments"]))
        check(s and atts(s) == {(K, ka["addr"], pages(5), False)},
              "map --pid --children: the child's own region", brief(s))

        res = run([VIEWER, "map", "--pid", str(P), "--children"])
        text = res.out.decode(errors="replace")
        first = text.splitlines()[0] if text else ""
        check(res.rc == 0 and "from /proc" in first and "no history, no backtraces" in first
              and "sysv shmid %d" % a["shmid"] in text and "processes:" in text,
              "map --pid: text says there is no history nor backtraces", text[:500])
    finally:
        holder.stop()
        cleanup_made()
    # a pid that is not there, and usage errors
    gone = holder.pid
    res = run([VIEWER, "map", "--pid", str(gone)])
    check(res.rc == 1 and len(res.err.splitlines()) == 1 and not res.out,
          "map --pid of a process that is gone: one line, exit 1", res.why())
    for args in (["--pid", "x"], ["--pid", "1,2"], ["--children", "t.trace"],
                 ["--pid", "1", "--at", "1s"]):
        res = run([VIEWER, "map"] + args)
        check(res.rc == 2 and len(res.err.splitlines()) == 1,
              "map %s: a usage error, one line, exit 2" % " ".join(args), res.why())


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness_audit.nothing_left,
                          harness_audit.cleanup_made))
