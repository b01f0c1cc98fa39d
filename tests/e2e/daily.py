#!/usr/bin/env python3
"""End-to-end tests of the viewer as a daily tool: the filters every
command shares (-p, --children, --tid, -e trace=, --kind, --segment,
--since, --until), dump's timestamps, -y and -c, the CI controls
(--log-file, suppressions, --error-exitcode) and the error messages.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import sys

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


def dump_json_args(path, *opts):
    out = viewer_text(["dump", "--json"] + list(opts) + [path])
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def brief_calls(evs):
    return " ".join("%s/%s" % (e["pid"], e["call"]) for e in evs)[:400]


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
