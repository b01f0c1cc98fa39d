#!/usr/bin/env python3
"""End-to-end tests of the installed tools: `make install` into a DESTDIR
and the installed launcher, viewer and manual pages; `--help`,
`--version` and the manual pages agreeing.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
import harness_audit  # noqa: E402
from harness import (brief, check, example, free_key, need, ok, remove_key, run,  # noqa: E402
                     LAUNCHER, ROOT, TAG, VIEWER)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# make install, the installed tools, the manual pages
# --------------------------------------------------------------------------

def roff_text(path):
    """The manual page's source with the roff escapes that matter undone."""
    with open(path, encoding="utf-8") as f:
        s = f.read()
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\(dq", '"').replace("\\c", "").replace("\\&", "")


def long_options(help_text):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text)))


@test("install")
def t_install():
    dest = tempfile.mkdtemp(prefix=TAG + "-dest-")
    key = free_key()
    try:
        res = run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest, "PREFIX=/usr"],
                  timeout=600)
        if not check(res.rc == 0, "install: make install DESTDIR=... PREFIX=/usr", res.why()):
            return
        usr = os.path.join(dest, "usr")
        files = {"bin/shmtrace": 0o755, "bin/shmview": 0o755,
                 "lib/shmtrace/libshmtrace.so": 0o644,
                 "share/man/man1/shmtrace.1": 0o644, "share/man/man1/shmview.1": 0o644}
        modes = {}
        for f in files:
            try:
                modes[f] = os.stat(os.path.join(usr, f)).st_mode & 0o777
            except OSError:
                modes[f] = None
        check(modes == files, "install: bin, lib/shmtrace, share/man/man1 with their modes",
              brief(modes))
        listed = sorted(os.path.relpath(os.path.join(d, f), dest)
                        for d, _, fs in os.walk(dest) for f in fs)
        check(len(listed) == len(files), "install: nothing else is installed", brief(listed))

        # the installed launcher finds the installed shim and viewer by itself
        env = {k: v for k, v in os.environ.items()
               if k not in ("SHMTRACE_LIB", "SHMTRACE_VIEWER", "LD_PRELOAD")}
        env["PATH"] = "/usr/bin:/bin"
        out = os.path.join(dest, "excl.trace")
        shmtrace, shmview = os.path.join(usr, "bin/shmtrace"), os.path.join(usr, "bin/shmview")
        res = run([shmtrace, "-o", out, "--", example("sysv-excl"), "%x" % key], env=env)
        check(res.rc == 0 and b"IPC_RMID: removed" in res.out
              and b"0 leaked" in res.err,
              "install: the installed shmtrace runs sysv-excl and prints the summary "
              "(from the installed shmview)", res.why())
        res = run([shmview, "dump", "--json", "--modules", out], env=env)
        evs = [json.loads(l) for l in res.out.decode().splitlines() if l.strip()]
        gets = [e for e in evs if e.get("call") == "shmget"]
        shim = os.path.realpath(os.path.join(usr, "lib/shmtrace/libshmtrace.so"))
        check(res.rc == 0 and len(gets) == 2
              and gets[0]["args"]["key"] == "0x%x" % key and gets[1].get("errno") == "EEXIST",
              "install: the installed shmview dump reads the trace back", res.why())
        check(shim in res.out.decode(errors="replace")
              and os.path.join(ROOT, "build", "libshmtrace.so") not in res.out.decode(errors="replace"),
              "install: the traced program had the installed shim preloaded",
              res.out.decode(errors="replace")[:300])
        res = run([shmview, "--version"], env=env)
        check(res.rc == 0 and res.out.startswith(b"shmview "), "install: shmview --version",
              res.why())

        # the manual pages
        for page in ("shmtrace", "shmview"):
            src = os.path.join(usr, "share/man/man1/%s.1" % page)
            res = run(["man", "-l", src], env=dict(env, MANWIDTH="80", MANPAGER="cat",
                                                   PAGER="cat", LC_ALL="C.UTF-8"))
            check(res.rc == 0 and page.upper() + "(1)" in res.out.decode(errors="replace")
                  and b"SYNOPSIS" in res.out and b"EXAMPLES" in res.out
                  and b"ENVIRONMENT" in res.out and b"EXIT STATUS" in res.out,
                  "install: man -l %s.1 renders, with synopsis, examples, environment, "
                  "exit status" % page, res.why())
            res = run(["groff", "-man", "-ww", "-z", "-Tutf8", src])
            check(res.rc == 0 and not res.err.strip(),
                  "install: groff -ww finds nothing to warn about in %s.1" % page, res.why())

        res = run(["make", "-s", "-C", ROOT, "uninstall", "DESTDIR=" + dest, "PREFIX=/usr"])
        left = sorted(os.path.relpath(os.path.join(d, f), dest)
                      for d, _, fs in os.walk(dest) for f in fs if not f.endswith(".trace"))
        check(res.rc == 0 and not left and not os.path.exists(os.path.join(usr, "lib/shmtrace")),
              "install: make uninstall removes it all", brief(left) + res.why())
        res = run(["make", "-s", "-n", "-C", ROOT, "install", "DESTDIR=/nonexistent"])
        check(res.rc == 0 and b"/nonexistent/usr/local/bin" in res.out
              and b"/nonexistent/usr/local/lib/shmtrace" in res.out
              and b"/nonexistent/usr/local/share/man/man1" in res.out,
              "install: PREFIX defaults to /usr/local", res.out[-300:])
    finally:
        remove_key(key)
        shutil.rmtree(dest, ignore_errors=True)


@test("help-man")
def t_help_man():
    """--help and --version everywhere; every long option --help prints is in
    the manual page; every command and environment variable too."""
    need(LAUNCHER)
    need(VIEWER)
    man_trace = roff_text(os.path.join(ROOT, "man", "shmtrace.1"))
    man_view = roff_text(os.path.join(ROOT, "man", "shmview.1"))

    def in_man(opt, text):
        return re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text)

    res = run([LAUNCHER, "--help"])
    opts = long_options(res.out.decode())
    missing = [o for o in opts if not in_man(o, man_trace)]
    check(res.rc == 0 and len(opts) >= 8 and not missing,
          "help-man: shmtrace --help's %d long options are all in shmtrace.1" % len(opts),
          "missing: %s" % missing)
    res = run([LAUNCHER, "--version"])
    check(res.rc == 0 and res.out.startswith(b"shmtrace "), "help-man: shmtrace --version",
          res.why())
    for var in ("SHMTRACE_DEPTH", "SHMTRACE_OUTPUT", "SHMTRACE_SIZE", "SHMTRACE_LIB",
                "SHMTRACE_VIEWER", "SHMTRACE_REGION", "SHMTRACE_DEBUGINFOD"):
        if not in_man(var, man_trace):
            check(False, "help-man: shmtrace.1 documents %s" % var)
            break
    else:
        ok("help-man: shmtrace.1 documents every SHMTRACE_* variable")

    res = run([VIEWER, "--help"])
    cmds = re.findall(r"^  ([a-z]+)\s", res.out.decode(), re.M)
    check(res.rc == 0 and {"dump", "report", "clean", "map", "export", "live", "audit"}
          <= set(cmds), "help-man: shmview --help lists every command", brief(cmds))
    for cmd in cmds:
        res = run([VIEWER, cmd, "--help"])
        opts = long_options(res.out.decode())
        section = re.search(r"^\.SS %s$" % cmd, man_view, re.M)
        missing = [o for o in opts if not in_man(o, man_view)]
        check(res.rc == 0 and res.out.startswith(b"usage: shmview " + cmd.encode())
              and section and not missing,
              "help-man: shmview %s --help (%d long options) is in shmview.1"
              % (cmd, len(opts)), "section %s, missing %s" % (bool(section), missing))
        res = run([VIEWER, cmd, "--version"])
        check(res.rc == 0 and res.out.startswith(b"shmview "),
              "help-man: shmview %s --version" % cmd, res.why())


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness_audit.nothing_left,
                          harness_audit.cleanup_made))
