#!/usr/bin/env python3
"""The README as a new user meets it: every `$ ` command of its examples
runs as typed (in order, in one shell, from a scratch directory that holds
`build/` as a checkout does), the launcher's hint works from there, the
README holds no path of this machine, and `make demo`'s script keeps its
traces in the directory it names.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import BUILD, ROOT, check, run  # noqa: E402

TESTS, test = harness.registry()

README = os.path.join(ROOT, "README.md")
# what the README's examples make and leave for the next one to remove
README_KEY = 0x5300c51a            # sysv-server's ftok("/tmp", 'S')
README_NAME = "demo-cache"


def commands():
    """The `$ ` lines of the README's fenced blocks, in order."""
    cmds, inside = [], False
    for line in open(README).read().splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside and line.startswith("$ "):
            cmds.append(line[2:])
    return cmds


def scratch():
    """A directory everyone may enter (runuser -u nobody), with build/."""
    d = tempfile.mkdtemp(prefix=harness.TAG + "-readme-")
    os.chmod(d, 0o755)
    os.symlink(BUILD, os.path.join(d, "build"))
    return d


def script(cmds, d):
    lines = ["cd %s || exit 99" % d]
    for i, c in enumerate(cmds):
        out = "%s/.out.%d %s/.err.%d" % (d, i, d, i)
        o, e = out.split()
        if c.rstrip().endswith("&"):
            lines.append("%s >%s 2>%s &" % (c.rstrip()[:-1], o, e))
            lines.append("echo 0 >%s/.rc.%d" % (d, i))
        else:
            lines.append("{ %s\n} >%s 2>%s; echo $? >%s/.rc.%d" % (c, o, e, d, i))
    lines.append("wait")
    return "\n".join(lines) + "\n"


def leftovers():
    harness.remove_key(README_KEY)
    harness.unlink_shm(README_NAME)


@test("readme-paths")
def t_paths():
    text = open(README).read()
    mine = [p for p in (ROOT, "/work/", "/home/", "/root/")
            if p in text]
    check(not mine, "README: no absolute path of this machine", ", ".join(mine))
    check("shmview" in text and "$ " in text and len(commands()) >= 15,
          "README: its examples are found (%d commands)" % len(commands()), "")


@test("readme-commands")
def t_commands():
    cmds = commands()
    d = scratch()
    try:
        leftovers()
        res = subprocess.run(["bash", "-c", script(cmds, d)], timeout=300,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(res.returncode == 0, "README: the commands ran to the end", res.stderr[-300:])
        for i, c in enumerate(cmds):
            rcf = os.path.join(d, ".rc.%d" % i)
            rc = open(rcf).read().strip() if os.path.exists(rcf) else "missing"
            err = open(os.path.join(d, ".err.%d" % i), errors="replace").read()
            check(rc == "0", "README: `%s` works as typed" % c, "exit %s: %s" % (rc, err[-400:]))
            m = re.search(r"\(read it with: (.*)\)$", err, re.M)
            if c.startswith("build/shmtrace") and "-q" not in c.split():
                check(m is not None, "README: `%s` says how to read its trace" % c, err[-300:])
                if m:
                    r = run(["bash", "-c", "cd %s && %s >/dev/null" % (d, m.group(1))])
                    check(r.rc == 0, "README: its hint `%s` works from where the user is"
                          % m.group(1), r.why())
    finally:
        leftovers()
        shutil.rmtree(d, ignore_errors=True)


@test("readme-demo")
def t_demo():
    d = scratch()
    try:
        demo = os.path.join(d, "demo")
        res = run([os.path.join(ROOT, "tests", "demo.sh")], env=dict(os.environ, DEMO_DIR=demo))
        out = res.out.decode(errors="replace")
        check(res.rc == 0, "make demo: the script runs", res.why())
        kept = sorted(f for f in os.listdir(demo)) if os.path.isdir(demo) else []
        check(kept == ["demo.trace", "leak.trace"], "make demo: its traces stay in the "
              "directory it names", str(kept))
        shown = re.findall(r"^\$ (build/shmview (?:dump|map) .*)$", out, re.M)
        check(shown and all(demo in c for c in shown),
              "make demo: each command shown names the kept trace", "\n".join(shown))
        for c in shown:
            r = run(["bash", "-c", "cd %s && %s >/dev/null" % (ROOT, c)])
            check(r.rc == 0, "make demo: `%s` works again afterwards" % c, r.why())
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
