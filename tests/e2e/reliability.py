#!/usr/bin/env python3
"""End-to-end tests of the shim's transparency and accounting in corner
cases (examples/rely.c, one mode each): errno after successful calls,
threads without valid TLS, raw clone children, small stacks, the region
protected or mapped over, losses that must be counted and reported, the
launcher stopped by a signal.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (arg, argn, bare, brief, check, describe, free_key, posix_name, read_region,  # noqa: E402
                     expect_bare, expect_same,
                     remove_key, report_json, ret, run, summary_lines, traced,
                     traced_as_bare, example, Fatal, LAUNCHER, SHIM, TMP)  # noqa: E402

TESTS, test = harness.registry()


@test("errno")
def t_errno():
    key, name = free_key(), posix_name("errno")
    want = ("shmget IPC_CREAT: same id, errno 12345\n"
            "shm_open O_CREAT: ok, errno 12345\n"
            "shm_open O_CREAT|O_TRUNC: ok, errno 12345\n")
    t = traced_as_bare("errno", want, "rely", "errno", hex(key), name)
    gets = t.calls("shmget")
    check(len(gets) == 2 and ret(gets[0]) == ret(gets[1]) and ret(gets[0]) >= 0,
          "errno: both shmget recorded, returning the same id",
          "; ".join(describe(e) for e in gets))


@test("settls")
def t_settls():
    # bare, the child exits 7; a hook that touched TLS would kill it (SIGSEGV)
    t = traced_as_bare("settls", "settls child: exit 7\n", "rely", "settls")
    check("libshmtrace" not in t.err.decode(errors="replace"),
          "settls: nothing said about the shim", t.why())
    traced_as_bare("settls exec", "settls child: exit 0\n", "rely", "settls", "exec")


@test("rawfork")
def t_rawfork():
    t = traced_as_bare("rawfork", "SYS_fork child: exit 4\nclone child: exit 5\n",
                       "rely", "rawfork")
    main = t.main_pid()
    kids = [argn(e, "pid") for e in t.calls("waitpid", pid=main)]
    maps = {e.get("pid") for e in t.calls("mmap")}
    check(len(kids) == 2 and maps == set(kids),
          "rawfork: each child's mmap is recorded under the child's own pid",
          "children %s, mmap pids %s" % (kids, sorted(maps)))
    forks = {e.get("pid"): argn(e, "ppid") for e in t.calls("fork")}
    check(all(forks.get(k) == main for k in kids),
          "rawfork: each child is recorded as a fork of the main program",
          "forks %s, main %s" % (forks, main))


@test("protect")
def t_protect():
    # mprotect(PROT_READ) and MADV_DONTFORK of the region would crash the
    # next event, and the fork child's first
    t = traced_as_bare("protect", "mprotect 0, madvise 0\nchild: ok, parent: ok\n",
                       "rely", "protect")
    gets = t.calls("shmget")
    check(len(gets) == 2 and len({e.get("pid") for e in gets}) == 2,
          "protect: the child's and the parent's shmget are both recorded",
          "; ".join(describe(e) for e in gets))


@test("altstack")
def t_altstack():
    # 8 KiB of alternate stack hold the signal frame and a bare shmat, not
    # a backtrace too: the event is recorded without one, and counted
    t = traced_as_bare("altstack", "altstack 8192: shmat in the handler ok\n",
                       "rely", "altstack", 8192)
    at = t.calls("shmat")
    check(len(at) == 1 and not at[0].get("stack"),
          "altstack: the handler's shmat is recorded, without a stack",
          "; ".join(describe(e) for e in at))
    check(read_region(t.path)["stacks_no_room"] == 2,
          "altstack: the header counts two backtraces left out for lack of stack (shmat, shmdt)",
          str(read_region(t.path)))
    big = traced_as_bare("altstack 64K", "altstack 65536: shmat in the handler ok\n",
                         "rely", "altstack", 65536)
    at = big.calls("shmat")
    check(len(at) == 1 and at[0].get("stack"),
          "altstack 64K: on a large alternate stack the shmat has its stack",
          "; ".join(describe(e) for e in at))


@test("bigenv")
def t_bigenv():
    # the exec hook puts LD_PRELOAD back into a copy of the environment:
    # 400 KB of pointers do not fit the thread's 256 KiB stack
    t = traced_as_bare("bigenv", "bigenv child: exit 3\n", "rely", "bigenv")
    gets = t.calls("shmget")
    check(len(gets) == 1 and gets[0].get("pid") != t.main_pid(),
          "bigenv: the exec'd child runs traced (its shmget is recorded)",
          "; ".join(describe(e) for e in gets))


@test("arena-full")
def t_arena_full():
    # 64 children with a 4000-byte argument fill a 1 MiB trace's string
    # arena: the leaked object's name is lost, so the verdict is unknown
    name = posix_name("arena")
    t = traced("rely", "spawnargs", 64, name, opts=["--size", "1M", "--error-exitcode", "9"],
               leak_names=[name], label="arena-full")
    err = t.err.decode(errors="replace")
    check(t.rc == 9, "arena-full: --error-exitcode fails a run whose verdict is unknown", t.why())
    summary = " ".join(summary_lines(t.err))
    check(re.search(r"leaks unknown \(the trace lost \d+ strings?\)", summary)
          or re.search(r"at least \d+ leaked \(the trace lost", summary),
          "arena-full: the summary says the leaks are unknown, not 0 leaked", summary)
    check("strings LOST" in err, "arena-full: the launcher says strings were lost", err[-400:])
    rep = report_json(t.path)
    check(rep.get("leaks_known") is False and "string" in rep.get("lost", ""),
          "arena-full: report --json says leaks_known false and what was lost",
          brief({k: rep.get(k) for k in ("leaks", "leaks_known", "lost")}))


@test("longjmp")
def t_longjmp():
    key = free_key()
    want = "longjmp: 20 jumps, segment left\n"
    b = bare("rely", "longjmp", 20, hex(key))
    remove_key(key)
    expect_bare("longjmp: bare run output", b, want)
    t = traced("rely", "longjmp", 20, hex(key), leak_keys=[key])
    remove_key(key)
    expect_same("longjmp: stdout and exit status unchanged under the tracer", b, t)
    gets = t.calls("shmget")
    check(len(gets) == 1 and gets[0].get("stack") and "nested" not in json.dumps(gets[0]),
          "longjmp: the shmget after 20 jumps out of hooks has its stack, not <nested>",
          "; ".join(describe(e) for e in gets))
    summary = " ".join(summary_lines(t.err))
    check("1 leaked" in summary and "leaked: sysv" in summary,
          "longjmp: the launcher names the leak", summary)
    check(read_region(t.path)["nest_lost"] >= 19,
          "longjmp: the header counts the hooks left by siglongjmp", str(read_region(t.path)))


@test("mapover")
def t_mapover():
    want = ("MAP_FIXED_NOREPLACE: File exists\nmisaligned munmap: Invalid argument\n"
            "MAP_FIXED: mapped\nsegments: ok, ok\n")
    t = traced_as_bare("mapover", want, "rely", "mapover")
    gets = t.calls("shmget")
    check(len(gets) == 1, "mapover: failed calls over the region leave tracing on "
          "(the first segment is recorded), MAP_FIXED over it turns it off",
          "%d shmget recorded" % len(gets))
    check(read_region(t.path)["disabled"] == 1, "mapover: the header counts it",
          str(read_region(t.path)))
    err = t.err.decode(errors="replace")
    check(re.search(r"pid \d+: the program mapped over the trace region; it runs untraced", err)
          and "1 process turned tracing off" in err,
          "mapover: the shim says so at the time, the viewer at the end", err[-500:])


DLSWAP_LIB = """#include <sys/shm.h>
int %s(void) { return shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600); }
int make(void) { return %s(); }
"""


@test("dlswap")
def t_dlswap():
    libs = []
    for name in ("a_make", "b_make"):
        src = os.path.join(TMP, name + ".c")
        lib = os.path.join(TMP, "lib%s.so" % name)
        with open(src, "w") as f:
            f.write(DLSWAP_LIB % (name, name))
        cc = run(["cc", "-shared", "-fPIC", "-g", "-O0", "-o", lib, src])
        if cc.rc != 0:
            raise Fatal("cannot build %s: %s" % (lib, cc.why()))
        libs.append(lib)
    t = traced_as_bare("dlswap", "dlswap: both made a segment\n", "rely", "dlswap", *libs)
    if "same address" not in t.err.decode(errors="replace"):
        print("# skip dlswap symbols: the loader put the second library elsewhere", flush=True)
        return
    got = []
    for e in t.calls("shmget"):
        top = (e.get("stack") or [{}])[0]
        got.append((os.path.basename(top.get("module") or "?"), top.get("symbol")))
    check(got == [("liba_make.so", "a_make"), ("libb_make.so", "b_make")],
          "dlswap: a library loaded where a closed one was is symbolized as itself",
          "frames %s" % got)


def still_running(err):
    """The pids the launcher says still run, from its one line."""
    m = re.search(r"still running, untraced from now on: (.*)", err)
    return [int(p) for p in re.findall(r"(\d+) \(", m.group(1))] if m else []


def kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def main_ended(path, launcher, within=60):
    """Waits until the live trace at path holds the exit of the program the
    launcher (pid) started."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if harness.trace_started(path):
            evs = harness.dump_json(path)
            main = [e.get("pid") for e in evs if e.get("call") == "execve"
                    and argn(e, "ppid") == launcher]
            if main and any(e.get("call") in ("exit", "_exit") and e.get("pid") == main[0]
                            for e in evs):
                return
        time.sleep(0.1)
    raise Fatal("the program under the launcher did not end within %d s" % within)


@test("stop")
def t_stop():
    # a daemon outlives the program: SIGTERM to the launcher stops the wait
    path = os.path.join(TMP, "stop.trace")
    p = subprocess.Popen([LAUNCHER, "-o", path, "--", "sh", "-c",
                          "setsid sleep 60 >/dev/null 2>&1 & echo started"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        p.stdout.readline()         # the daemon has been started
        main_ended(path, p.pid)     # the program has ended: only it lives on
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    except (Fatal, subprocess.TimeoutExpired):
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        kill_pids(still_running(err.decode(errors="replace")))
        raise
    err = err.decode(errors="replace")
    left = still_running(err)
    kill_pids(left)
    check(time.monotonic() - t0 < 30 and p.returncode == 0,
          "stop: SIGTERM ends the launcher while a daemon lives on", "rc %s, %r" % (p.returncode, err[-300:]))
    check(len(left) == 1, "stop: it names the daemon still running", err[-300:])
    check(report_json(path).get("trace") == path, "stop: the trace is written", path)


@test("no-wait-daemons")
def t_no_wait_daemons():
    t = traced(None, argv=["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo started"],
               opts=["--no-wait-daemons"], label="no-wait")
    err = t.err.decode(errors="replace")
    left = still_running(err)
    kill_pids(left)
    check(t.rc == 0 and t.out == b"started\n" and len(left) == 1,
          "no-wait-daemons: the launcher ends with the program and names the daemon",
          t.why())


ASAN_PROG = r"""#include <stdio.h>
#include <stdlib.h>
#include <sys/shm.h>
int main(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p = shmat(id, 0, 0), *m = malloc(10);
	p[0] = m[0] = 1;
	shmdt(p);
	shmctl(id, IPC_RMID, 0);
	free(m);
	printf("asan program ok\n");
	return 0;
}
"""


@test("asan")
def t_asan():
    src, prog = os.path.join(TMP, "asan.c"), os.path.join(TMP, "asan-prog")
    with open(src, "w") as f:
        f.write(ASAN_PROG)
    cc = run(["cc", "-fsanitize=address", "-g", "-o", prog, src])
    if cc.rc != 0:
        print("# skip asan: no AddressSanitizer runtime (%s)" % cc.why(), flush=True)
        return
    b = run([prog])
    expect_bare("asan: bare run output", b, "asan program ok\n")
    t = traced(None, argv=[prog], label="asan")
    expect_same("asan: an AddressSanitizer program runs traced", b, t)
    check(len(t.calls("shmget")) == 1, "asan: its shmget is recorded", t.why())


@test("region-gone")
def t_region_gone():
    # the launcher was killed: its region path is gone
    env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_REGION="/nonexistent-shmt-rel/fd/9")
    r = run(["sh", "-c", "sh -c 'sh -c true; true'; true"], env=env)
    err = r.err.decode(errors="replace")
    check(r.rc == 0 and err.count("cannot open trace region") == 1,
          "region-gone: one line says so, not one per exec", err)


@test("region-empty")
def t_region_empty():
    d = os.path.join(TMP, "empty-region")
    os.mkdir(d)
    env = dict(os.environ, LD_PRELOAD=SHIM, SHMTRACE_REGION="")
    p = subprocess.run([example("rely"), "errno", hex(free_key()), posix_name("empty")],
                       cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    check(p.returncode == 0 and not os.listdir(d) and not p.stderr,
          "region-empty: an empty SHMTRACE_REGION runs untraced, no file made",
          "rc %s, files %s, stderr %r" % (p.returncode, os.listdir(d), p.stderr[-200:]))


@test("seccomp")
def t_seccomp():
    t = traced_as_bare("seccomp", "seccomp: segment before ok, in the thread after ok\n",
                       "rely", "seccomp")
    h = read_region(t.path)
    err = t.err.decode(errors="replace")
    check(h["untraced"] == 1 and "forbids gettid" in err,
          "seccomp: the process goes on untraced, said and counted",
          "untraced %d, stderr %r" % (h["untraced"], err[-300:]))
    check(len(t.calls("shmget")) == 1 and "leaks unknown" in " ".join(summary_lines(t.err)),
          "seccomp: what came before is recorded; the verdict is unknown",
          " ".join(summary_lines(t.err)))


def sandboxed_leak(name, wrapper):
    """rely, run inside `wrapper` (a namespace or sandbox tool), leaves one
    segment of a fresh key: the leak must be found, by a process that
    reached the region through the descriptor it inherited."""
    key = free_key()
    t = traced(None, argv=wrapper + [example("rely"), "longjmp", "0", hex(key)],
               leak_keys=[key], label=name)
    remove_key(key)
    summary = " ".join(summary_lines(t.err))
    err = t.err.decode(errors="replace")
    check(t.rc == 0 and "1 leaked" in summary and "leaked: sysv" in summary
          and "cannot open trace region" not in err,
          "%s: the program inside is traced, its leak found" % name, t.why())
    return t


@test("unshare")
def t_unshare():
    t = sandboxed_leak("unshare", ["unshare", "-Urpf", "--mount-proc"])
    forks = [ret(e) for e in t.calls("fork") if ret(e) and ret(e) > 0]
    gets = t.calls("shmget")
    start = [e for e in t.calls("execve") if "rely" in str(arg(e, "path"))]
    check(len(gets) == 1 and gets[0].get("pid") in forks and gets[0].get("pid") != 1,
          "unshare: pids are the launcher's (NSpid), not the namespace's",
          "fork results %s, shmget %s" % (forks, describe(gets[0]) if gets else "none"))
    check(len(start) == 1 and argn(start[0], "inner_pid") == 1,
          "unshare: the image's start keeps its inner pid", describe(start[0]) if start else "no start")


@test("bwrap")
def t_bwrap():
    if not shutil.which("bwrap"):
        print("# skip bwrap: bubblewrap is not installed (make deps)", flush=True)
        return
    sandboxed_leak("bwrap", ["bwrap", "--dev-bind", "/", "/", "--unshare-pid",
                             "--unshare-user", "--proc", "/proc", "--"])


CHROMIUM_FLAGS = ["--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=400,300"]


@test("chromium")
def t_chromium():
    """Chromium headless with its own sandbox (user and pid namespaces, a
    chroot, seccomp), as the unprivileged user nobody."""
    if not shutil.which("chromium"):
        print("# skip chromium: not installed (make deps)", flush=True)
        return
    d = tempfile.mkdtemp(prefix="shmt-rel-chromium-")
    try:
        os.chmod(d, 0o755)
        shutil.chown(d, "nobody")
        page = os.path.join(d, "page.html")
        with open(page, "w") as f:
            f.write("<html><body style='background:#3a6'><h1>shmtrace</h1></body></html>")
        os.chmod(page, 0o644)

        def shot(tag, tracer=()):
            png = os.path.join(d, tag + ".png")
            argv = ["runuser", "-u", "nobody", "--"] + list(tracer) + [
                "chromium"] + CHROMIUM_FLAGS + ["--user-data-dir=" + os.path.join(d, tag),
                                                "--screenshot=" + png, "file://" + page]
            r = run(argv)
            with open(png, "rb") as f:
                return r, f.read()
        b, bare_png = shot("bare")
        trace = os.path.join(d, "chromium.trace")
        t, traced_png = shot("traced", [LAUNCHER, "-o", trace, "--"])
        check(b.rc == 0 and t.rc == 0 and bare_png == traced_png,
              "chromium: exit 0 and the same screenshot traced as bare", t.why())
        events = harness.dump_json(trace)
        inner = [e for e in events if e.get("call") == "execve" and argn(e, "inner_pid")]
        check(inner and all(e.get("pid") > 1 for e in inner),
              "chromium: its sandboxed zygote is traced, under its real pid",
              "%d starts with an inner pid" % len(inner))
        rep = report_json(trace)
        shared = [seg for seg in rep.get("segments", [])
                  if len({a.get("pid") for a in seg.get("attachments", [])
                          if a.get("how") == "mmap" and not a.get("readonly")}) >= 2]
        check(shared,
              "chromium: writable shared memory mapped by two of its processes",
              "%d segments" % len(rep.get("segments", [])))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
