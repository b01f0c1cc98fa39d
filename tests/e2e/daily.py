#!/usr/bin/env python3
"""End-to-end tests of the viewer as a daily tool: the filters every
command shares (-p, --children, --tid, -e trace=, --kind, --segment,
--since, --until), dump's timestamps, -y and -c, the CI controls
(--log-file, suppressions, --error-exitcode) and the error messages.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (VIEWER, check, dump_json, run, traced,  # noqa: E402
                     viewer_json, viewer_text)

TESTS, test = harness.registry()


def nginx(label, *args):
    """nginx-zone under the tracer: a master that forks workers."""
    return traced("nginx-zone", *args, label=label)


@test("filters")
def t_filters():
    t = nginx("filters", "sysv", "2")
    evs = dump_json(t.path)
    master = t.main_pid()
    kids = sorted({e["pid"] for e in evs if e["pid"] != master and e["call"] != "reap"})
    shown = dump_json_args(t.path, "-p", str(master))
    check(shown and all(e["pid"] == master for e in shown),
          "dump -p MASTER: only the master's events", brief_calls(shown))
    fam = dump_json_args(t.path, "-p", str(master), "--children")
    check({e["pid"] for e in fam} == {master} | set(kids),
          "dump -p MASTER --children: the master and its %d workers" % len(kids),
          brief_calls(fam))
    calls = dump_json_args(t.path, "-e", "trace=shmget,shmat")
    check([e["call"] for e in calls] == ["shmget", "shmat"],
          "dump -e trace=shmget,shmat: those two calls", brief_calls(calls))
    long_form = dump_json_args(t.path, "--call", "shmget,shmat")
    check(long_form == calls, "dump --call is -e trace='s long form", brief_calls(long_form))
    waits = dump_json_args(t.path, "-e", "trace=waitpid")
    check(waits and all(e["call"] == "waitpid" for e in waits),
          "dump -e trace=waitpid: the waits, by the name dump prints", brief_calls(waits))
    tid = evs[1]["tid"]
    by_tid = dump_json_args(t.path, "--tid", str(tid))
    check(by_tid and all(e["tid"] == tid for e in by_tid), "dump --tid: that thread's events",
          brief_calls(by_tid))
    shmid = [e for e in evs if e["call"] == "shmget"][0]["ret"]
    seg = dump_json_args(t.path, "--segment", str(shmid))
    check({e["call"] for e in seg} >= {"shmget", "shmat", "shmctl", "shmdt"} and
          len(seg) < len(evs) and "reap" not in {e["call"] for e in seg},
          "dump --segment SHMID: the segment's history", brief_calls(seg))
    anon = dump_json_args(t.path, "--kind", "anon,posix,sem")
    check(anon == [], "dump --kind anon,posix,sem: nothing in a sysv run", brief_calls(anon))
    sysv = dump_json_args(t.path, "--kind", "sysv")
    check([e["call"] for e in sysv][:2] == ["shmget", "shmat"],
          "dump --kind sysv: the sysv segment's history", brief_calls(sysv))
    last = max(e["time_ns"] for e in evs)
    late = dump_json_args(t.path, "--since", "%dns" % last)
    check(late and all(e["time_ns"] >= last for e in late),
          "dump --since T: only events from T on", brief_calls(late))
    early = dump_json_args(t.path, "--until", "%dns" % evs[1]["time_ns"])
    check(early and all(e["time_ns"] <= evs[1]["time_ns"] for e in early),
          "dump --until T: only events up to T", brief_calls(early))
    # the model commands take the same options
    rep = viewer_json(["report", "--json", "--kind", "anon", t.path])
    check(rep["segments"] == [], "report --kind anon: no segment", json.dumps(rep)[:300])
    rep = viewer_json(["report", "--json", "-p", str(master), t.path])
    check(len(rep["segments"]) == 1 and [p["pid"] for p in rep["processes"]] == [master],
          "report -p MASTER: its segment, one process", json.dumps(rep)[:300])
    mp = viewer_json(["map", "--json", "--until", "%dns" % evs[2]["time_ns"], t.path])
    check(len(mp["segments"]) == 1, "map --until T: the segment attached then",
          json.dumps(mp)[:300])
    ex = viewer_text(["export", "--kind", "posix", t.path])
    check("shmid" not in ex, "export --kind posix: no sysv track", ex[:300])
    for cmd in ("dump", "report", "map", "export"):
        res = run([VIEWER, cmd, "--kind", "bogus", t.path])
        check(res.rc == 2 and len(res.err.splitlines()) == 1 and b"--kind" in res.err,
              "%s --kind bogus: one line, exit 2" % cmd, res.why())
        res = run([VIEWER, cmd, "--children", t.path])
        check(res.rc == 2 and len(res.err.splitlines()) == 1,
              "%s --children without -p: one line, exit 2" % cmd, res.why())


@test("dump-clock")
def t_dump_clock():
    t = nginx("clock", "sysv", "2")
    evs = dump_json(t.path)
    env = dict(os.environ, TZ="UTC")
    lines = {}
    for opt in ("-t", "-tt", "-ttt", "-r"):
        res = run([VIEWER, "dump", opt, t.path], env=env)
        lines[opt] = res.out.decode().splitlines()
        check(res.rc == 0 and len(lines[opt]) == len(evs),
              "dump %s: one line per event" % opt, res.why())
    check(all(re.match(r"\[pid \d+\] \d\d:\d\d:\d\d [a-z_]+\(", l) for l in lines["-t"]),
          "dump -t: HH:MM:SS before the call", "\n".join(lines["-t"][:3]))
    check(all(re.match(r"\[pid \d+\] \d\d:\d\d:\d\d\.\d{6} [a-z_]+\(", l) for l in lines["-tt"]),
          "dump -tt: HH:MM:SS.uuuuuu before the call", "\n".join(lines["-tt"][:3]))
    epoch = [float(l.split("] ")[1].split(" ")[0]) for l in lines["-ttt"]]
    start = [float(l.split("] ")[1].split(" ")[0]) for l in lines["-ttt"][:1]]
    check(start and abs(start[0] - time.time()) < 600 and
          all(abs((e - epoch[0]) * 1e9 - (ev["time_ns"] - evs[0]["time_ns"])) < 2000
              for e, ev in zip(epoch, evs)),
          "dump -ttt: epoch seconds, apart as the events' time_ns", str(epoch[:4]))
    hms = lines["-tt"][0].split("] ")[1].split(" ")[0]
    check(time.strftime("%H:%M:%S", time.gmtime(epoch[0])) == hms.split(".")[0],
          "dump -tt and -ttt say the same time", "%s vs %s" % (hms, epoch[0]))
    rel = [float(l.split("] ")[1].split()[0]) for l in lines["-r"]]
    want = [0.0] + [(b["time_ns"] - a["time_ns"]) / 1e9 for a, b in zip(evs, evs[1:])]
    check(all(abs(r - max(w, 0)) < 2e-6 for r, w in zip(rel, want)),
          "dump -r: the time since the previous line", "%s vs %s" % (rel[:5], want[:5]))
    res = run([VIEWER, "dump", "-c", "-tt", t.path])
    check(res.rc == 2 and len(res.err.splitlines()) == 1, "dump -c -tt: one line, exit 2",
          res.why())


@test("dump-threads")
def t_dump_threads():
    t = traced("stress", "threads", "3", "2", label="threads")
    evs = dump_json(t.path)
    text = viewer_text(["dump", t.path]).splitlines()
    tids = {e["tid"] for e in evs if e["pid"] == t.main_pid()}
    check(len(tids) >= 3, "stress threads 3: events of several threads", str(tids))
    main_lines = [l for l in text if l.startswith("[pid %d " % t.main_pid())]
    check(main_lines and all(re.match(r"\[pid %d tid \d+\] " % t.main_pid(), l)
                             for l in main_lines),
          "dump: each line of a threaded process names its thread", "\n".join(main_lines[:4]))
    got = {int(re.match(r"\[pid \d+ tid (\d+)\]", l).group(1)) for l in main_lines}
    check(got == tids, "dump: the threads the text names are the JSON's tids",
          "%s vs %s" % (got, tids))
    single = nginx("one-thread", "sysv", "1")
    check(all(re.match(r"\[pid \d+\] ", l) for l in viewer_text(["dump", single.path]).splitlines()),
          "dump: a process with one thread shows no tid", "")


@test("dump-objects")
def t_dump_objects():
    name = harness.posix_name("y")
    t = traced("posix-writer", "--unlink", name, label="objects")
    lines = viewer_text(["dump", "-y", t.path]).splitlines()
    obj = "</dev/shm/%s>" % name.lstrip("/")
    for call, what in (("shm_open", "= 5" + obj), ("ftruncate", "fd=5" + obj),
                       ("mmap", "fd=5" + obj), ("munmap", obj), ("close", "fd=5" + obj)):
        line = [l for l in lines if "] %s(" % call in l]
        check(line and what.split("5")[-1] in line[0] and (what.split("<")[0] in line[0]),
              "dump -y: %s shows %s" % (call, what), "\n".join(lines))
    s = traced("sysv-server", "--remove", label="objects-sysv")
    lines = viewer_text(["dump", "-y", s.path]).splitlines()
    shmid = [l for l in lines if "] shmget(" in l][0].split(" = ")[1]
    at = [l for l in lines if "] shmat(" in l]
    dt = [l for l in lines if "] shmdt(" in l]
    want = "<shmid %s key 0x5300c51a>" % shmid
    check(at and at[0].endswith(want) and dt and ("shmaddr=0x" in dt[0] and want + ")" in dt[0]),
          "dump -y: shmat's result and shmdt's shmaddr show <shmid N key K>",
          "\n".join(at + dt))
    plain = viewer_text(["dump", s.path])
    check("<shmid" not in plain, "dump without -y: no objects", plain[:300])


@test("dump-summary")
def t_dump_summary():
    t = traced("sysv-detach-twice", label="summary")
    evs = dump_json(t.path)
    text = viewer_text(["dump", "-c", t.path]).splitlines()
    check(text[0].split() == ["%", "time", "seconds", "usecs/call", "max", "usecs", "calls",
                              "errors", "call"], "dump -c: strace -c's header, and max",
          "\n".join(text))
    rows = {l.split()[-1]: l.split() for l in text[2:-2]}
    calls = {}
    for e in evs:
        calls[e["call"]] = calls.get(e["call"], 0) + 1
    check(set(rows) == set(calls) and all(int(rows[c][4]) == n for c, n in calls.items()),
          "dump -c: a row per call name dump prints, with its count", "\n".join(text))
    check(len(rows["shmdt"]) == 7 and rows["shmdt"][5] == "1",
          "dump -c: shmdt failed once", "\n".join(text))
    j = viewer_json(["dump", "-c", "--json", t.path])
    byname = {c["call"]: c for c in j["calls"]}
    check(j["schema"] >= 1 and byname["shmdt"]["calls"] == 2 and byname["shmdt"]["errors"] == 1
          and j["total"]["calls"] == len(evs)
          and abs(sum(c["share"] for c in j["calls"]) - 100) < 0.1
          and all(c["max_ns"] >= c["avg_ns"] for c in j["calls"])
          and j["total"]["total_ns"] == sum(e["duration_ns"] for e in evs),
          "dump -c --json: counts, errors, shares summing to 100, total time", json.dumps(j)[:500])
    rep = viewer_json(["report", "--json", t.path])
    check(rep["profile"]["calls"] == j["calls"],
          "report --json: the profile is dump -c's, by the same names", json.dumps(rep["profile"])[:400])
    n = nginx("names", "sysv", "1")
    rt = viewer_text(["report", n.path])
    prof = rt[rt.find("profile:"):]
    check(re.search(r"\n  execve +1 ", prof) and re.search(r"\n  waitpid +1 ", prof),
          "report: the profile says execve and waitpid, as dump does", prof[:500])


def leaky_writer(label, name, *opts):
    """posix-writer leaving /dev/shm/NAME behind, under the launcher."""
    return traced("posix-writer", name, label=label, leak_names=[name], opts=opts)


@test("ci")
def t_ci():
    name = harness.posix_name("ci")
    try:
        log = os.path.join(harness.TMP, "ci.%p.log")
        t = leaky_writer("ci-log", name, "--log-file=" + log)
        main = t.main_pid()
        path = log.replace("%p", str(main))
        text = open(path).read() if os.path.exists(path) else ""
        err = t.err.decode()
        check("==%d== shmtrace: 1 segment created, 0 removed, 1 leaked" % main in text
              and "events recorded" in text and "==" not in err,
              "launcher --log-file=F.%p: the summary in F.<pid>, none on stderr",
              "log %r, stderr %r" % (text[:300], err[:300]))

        supp = os.path.join(harness.TMP, "ci.supp")
        gen = viewer_text(["report", "--gen-suppressions", t.path])
        check(gen.startswith("{\n") and "kind:posix" in gen and "name:%s" % name in gen
              and "fun:main" in gen and gen.rstrip().endswith("}"),
              "report --gen-suppressions: a block with kind, name and frames", gen)
        open(supp, "w").write(gen)
        for opts, want in ((["--error-exitcode=9"], 9), (["--leak-exit", "9"], 9),
                           (["--error-exitcode=9", "--suppressions=" + supp], 0)):
            res = run([VIEWER, "report", "--summary"] + opts + [t.path])
            check(res.rc == want, "report --summary %s: exit %d" % (" ".join(opts), want),
                  res.why())
        res = run([VIEWER, "report", "--summary", "--suppressions", supp, t.path])
        check(b"1 leaked (1 suppressed)" in res.out and b"leaked: posix" not in res.out,
              "report --summary --suppressions: counted as suppressed, not listed", res.why())
        rep = viewer_json(["report", "--json", "--suppressions", supp, t.path])
        check(rep["suppressed"] == 1 and rep["segments"][0]["suppressed"],
              "report --json --suppressions: the leak names its suppression", json.dumps(rep)[:300])

        for block, hits in (("name:/shmtrace-e2e-*-ci", True), ("name:/other-*", False),
                            ("kind:sysv", False), ("kind:posix\n...\nfun:main", True),
                            ("fun:main", True), ("fun:*\nfun:main", False),
                            ("fun:main\nfun:__libc_start_call_main", True),
                            ("obj:*posix-writer", True), ("obj:*libc.so*", False),
                            ("...\nobj:*libc.so*", True), ("src:posix-writer.c:*", True),
                            ("src:posix-writer.c:1", False)):
            f = os.path.join(harness.TMP, "one.supp")
            open(f, "w").write("# a comment\n{\n   one\n   %s\n}\n" % block.replace("\n", "\n   "))
            res = run([VIEWER, "report", "--summary", "--error-exitcode=9", "--suppressions", f,
                       t.path])
            check(res.rc == (0 if hits else 9), "suppression %r %s the leak" %
                  (block, "suppresses" if hits else "does not suppress"), res.why())

        harness.unlink_shm(name)
        t2 = leaky_writer("ci-supp", name, "--suppressions=" + supp, "--error-exitcode=9")
        check(t2.rc == 0 and b"(1 suppressed)" in t2.err,
              "launcher --suppressions: a suppressed leak neither fails nor is listed",
              t2.why())
        harness.unlink_shm(name)
        t3 = leaky_writer("ci-fail", name, "--error-exitcode=9")
        check(t3.rc == 9, "launcher --error-exitcode=9: a leak exits 9", t3.why())
    finally:
        harness.unlink_shm(name)
    bad = os.path.join(harness.TMP, "bad.supp")
    open(bad, "w").write("{\n  x\n  bogus:1\n}\n")
    res = run([VIEWER, "report", "--suppressions", bad, t.path])
    check(res.rc == 1 and res.err.decode().strip() == "shmview: %s:3: unknown line 'bogus:1' "
          "(want kind:, key:, name:, fun:, src:, obj:, ... or })" % bad,
          "report: a bad suppressions file is one line with its line number, exit 1", res.why())
    res = run([harness.LAUNCHER, "--suppressions=/nonexistent.supp", "--", "true"])
    check(res.rc == 2 and len(res.err.splitlines()) == 1 and b"/nonexistent.supp" in res.err,
          "launcher: a missing suppressions file is one line, exit 2", res.why())
    for cmd in (["report"], ["audit"], []):
        argv = [VIEWER] + cmd if cmd else [harness.LAUNCHER]
        for n in ("0", "256"):
            res = run(argv + ["--error-exitcode=" + n] + (["x.trace"] if cmd == ["report"] else
                                                            [] if cmd else ["--", "true"]))
            check(res.rc == 2 and len(res.err.splitlines()) == 1 and b"1 to 255" in res.err,
                  "%s --error-exitcode=%s: refused the same way (1 to 255)"
                  % (" ".join(argv[-1:] + cmd[1:]) or "shmtrace", n), res.why())
    res = run([VIEWER, "audit", "--json", "--error-exitcode=7"])
    a = json.loads(res.out) if res.out else {}
    check(res.rc == (7 if a.get("totals", {}).get("leaks") else 0),
          "audit --error-exitcode=7: exit 7 exactly when it lists likely leaks", res.why())


@test("errors")
def t_errors():
    L = harness.LAUNCHER
    def one_line(title, argv, rc, has, env=None):
        res = run(argv, env=env)
        lines = res.err.decode(errors="replace").splitlines()
        check(res.rc == rc and len(lines) == 1 and has in lines[0] and "==" not in lines[0],
              "%s: one line saying %r, exit %d" % (title, has, rc), res.why())
    one_line("shmtrace -xq", [L, "-xq"], 2, "unknown option '-x'")
    one_line("shmtrace -xq PROG", [L, "-xq", "true"], 2, "unknown option '-x'")
    one_line("shmview dump -zz", [VIEWER, "dump", "-zz", "x.trace"], 2, "unknown option '-z'")
    t = nginx("errors", "sysv", "1")
    for argv in (["dump", "-tt", t.path], ["dump", t.path, "-tt"]):
        res = run([VIEWER] + argv)
        check(res.rc == 0 and res.out and not res.err, "shmview %s: options before or after TRACE"
              % " ".join(argv[1:2] if argv[1] == "-tt" else ["TRACE", "-tt"]), res.why())
    for size in ("100T", "4K", "0"):
        one_line("shmtrace --size %s" % size, [L, "--size", size, "--", "true"], 2,
                 "bad --size '%s': want 64K to 64T" % size)
    one_line("SHMTRACE_LIB=/nonexistent.so", [L, "-o", os.path.join(harness.TMP, "e1.trace"),
                                              "--", "true"], 125,
             "SHMTRACE_LIB '/nonexistent.so': No such file",
             env=dict(os.environ, SHMTRACE_LIB="/nonexistent.so"))
    junk = os.path.join(harness.TMP, "junk.so")
    open(junk, "w").write("not a library\n")
    one_line("an invalid shim", [L, "-o", os.path.join(harness.TMP, "e2.trace"), "--", "true"],
             125, "is not an ELF shared library", env=dict(os.environ, SHMTRACE_LIB=junk))
    one_line("a directory as PROG", [L, "-o", os.path.join(harness.TMP, "e3.trace"), "--",
                                     harness.TMP], 126, "Is a directory")
    one_line("-o DIR", [L, "-o", harness.TMP, "--", "true"], 125, "it is a directory")
    for at, ns in (("1.5", 1500000000), ("1h", 3600 * 10**9), ("200ms", 200 * 10**6)):
        m = viewer_json(["map", "--json", "--at", at, t.path])
        check(m["time_ns"] == ns, "map --at %s is %d ns" % (at, ns), json.dumps(m)[:200])
    one_line("map --at 1x", [VIEWER, "map", "--at", "1x", t.path], 2, "bad --at '1x'")


@test("json")
def t_json():
    name = harness.posix_name("json")
    try:
        t = leaky_writer("json", name)
        evs = dump_json(t.path)
        docs = {"dump -c": viewer_json(["dump", "-c", "--json", t.path]),
                "report": viewer_json(["report", "--json", t.path]),
                "map": viewer_json(["map", "--json", t.path]),
                "export": viewer_json(["export", t.path]),
                "audit": viewer_json(["audit", "--json"])}
        check(all(e.get("schema") == 2 for e in evs) and
              all(d.get("schema") == 2 for d in docs.values()),
              "json: every document has \"schema\": 2 (dump lines, dump -c, report, map, "
              "export, audit)", " ".join("%s=%s" % (k, d.get("schema")) for k, d in docs.items()))
        start = evs[0].get("start_epoch_ns")
        check(isinstance(start, int) and abs(start / 1e9 - time.time()) < 600 and
              all(d.get("start_epoch_ns") == start for k, d in docs.items() if k in
                  ("report", "map", "export")) and all(e["start_epoch_ns"] == start for e in evs),
              "json: the trace's documents carry one start_epoch_ns", str(start))
        rets = [e.get("ret") for e in evs]
        # no return: exit, and the records beside the calls (what a
        # descriptor names, the launcher's /proc sightings and samples)
        none = ("exit", "_exit", "object", "seen_in_proc", "tmpfs", "cgroup_mem")
        check(all(isinstance(r, int) for r in rets if r is not None) and
              all("ret" not in e for e in evs if e["call"] in none) and
              all("ret" in e for e in evs if e["call"] not in none),
              "json: ret is always a number, absent for exit and records", str(rets))
        mm = [e for e in evs if e["call"] == "mmap"]
        check(mm and isinstance(mm[0]["ret"], int) and mm[0]["ret"] > 0,
              "json: mmap's address is a number in ret", str(mm[:1]))
        a = docs["audit"]
        objs = [o for o in a["posix"] if o["name"] == name.lstrip("/") or o["name"] == name]
        check(objs and objs[0]["leak"] is True and "attachments" in objs[0] and
              "mappers" not in objs[0] and objs[0]["mtime_epoch_ns"] > 10**18 and
              isinstance(a["time_epoch_ns"], int) and a["stale_ns"] == 3600 * 10**9,
              "json: audit has a leak verdict, attachments, *_epoch_ns times", json.dumps(objs)[:400])
        check(all(o["leak"] == bool(set(o["flags"]) & {"orphaned", "stale", "pending"})
                  for o in a["sysv"] + a["posix"]),
              "json: audit's leak is the verdict its flags give", "")
        full = len(viewer_text(["dump", "--modules", t.path]).splitlines())
        said = int(re.search(rb"shmtrace: (\d+) events? recorded", t.err).group(1))
        text = viewer_text(["report", t.path])
        rep = int(re.search(r"; (\d+) events? over", text).group(1))
        check(said == full == rep == docs["report"]["events"] == docs["map"]["events"],
              "json: one event count: launcher %d, dump --modules %d, report %d, report --json "
              "%d, map --json %d" % (said, full, rep, docs["report"]["events"],
                                     docs["map"]["events"]), "")
    finally:
        harness.unlink_shm(name)


def dump_json_args(path, *opts):
    out = viewer_text(["dump", "--json"] + list(opts) + [path])
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def brief_calls(evs):
    return " ".join("%s/%s" % (e["pid"], e["call"]) for e in evs)[:400]


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
