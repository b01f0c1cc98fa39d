#!/usr/bin/env python3
"""End-to-end tests of `shmtrace -p PID` (attach to a running process):
attached in the middle of a multi-threaded churn (examples/attach-target),
the segments it had before seeded with their identity and "before the
trace", its calls recorded with stacks, a fork after the attach followed;
detached with no mapping of the region left and the program's output
unchanged (no EINTR, no failed call); attached again; and the one-line
refusals (no such process, another user's, static, already traced).

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (LAUNCHER, TMP, Fatal, check, dump_json, example,  # noqa: E402
                     free_key, posix_name, run, viewer_text)

TESTS, test = harness.registry()

READY_WITHIN = 20.0     # seconds a target may take to print a line


class Target:
    """examples/attach-target (or its static build) driven over pipes."""

    def __init__(self, what, threads=3, name="attach-target", user=None):
        self.name = posix_name(what).lstrip("/")
        self.key = free_key()
        argv = [example(name), self.name, "0x%x" % self.key, str(threads)]
        if user:
            argv = ["runuser", "-u", user, "--"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out = []
        if self.line() != "ready":
            self.kill()
            raise Fatal("attach-target did not get ready: %s"
                        % self.proc.stderr.read())
        self.pid = self.target_pid(user)

    def target_pid(self, user):
        if not user:
            return self.proc.pid
        for _ in range(1000):   # runuser's child: the target itself
            try:
                with open("/proc/%d/task/%d/children" % (self.proc.pid,
                                                         self.proc.pid)) as f:
                    kids = f.read().split()
                if kids:
                    return int(kids[0])
            except OSError:
                pass
            time.sleep(0.01)
        raise Fatal("no child of runuser found")

    def line(self):
        line = self.proc.stdout.readline().rstrip("\n")
        self.out.append(line)
        return line

    def ask(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.line()

    def count(self):
        m = re.match(r"count (\d+)$", self.ask("count"))
        if not m:
            raise Fatal("attach-target answered %r" % self.out[-1])
        return int(m.group(1))

    def wait_churn(self, more=20):
        """Waits until the threads have churned `more` rounds beyond now."""
        start = self.count()
        deadline = time.time() + READY_WITHIN
        while self.count() < start + more:
            if time.time() > deadline:
                raise Fatal("attach-target does not churn")

    def quit(self):
        last = self.ask("quit")
        rc = self.proc.wait(timeout=READY_WITHIN)
        err = self.proc.stderr.read()
        return last, rc, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def attach(pid, label, *opts):
    out = os.path.join(TMP, label + ".trace")
    res = run([LAUNCHER, "-p", str(pid), "-o", out, "--force"] + list(opts))
    return res, out


def region_mapped(pid):
    with open("/proc/%d/maps" % pid) as f:
        return [l for l in f if "shmtrace-region" in l]


def seeded(events, pid):
    return [e for e in events if e.get("call") == "seen_in_proc" and
            e.get("pid") == pid]


@test("attach in the middle of a churn, detach, attach again")
def t_churn():
    t = Target("churn")
    try:
        t.wait_churn()
        res, path = attach(t.pid, "churn", "--duration", "0.5", "-q")
        check(res.rc == 0, "attach: shmtrace -p exits 0", res.why())
        evs = dump_json(path)
        mine = [e for e in evs if e.get("pid") == t.pid]
        opens = [e for e in mine if e.get("call") == "shm_open"]
        check(len(opens) > 3, "attach: the churn's shm_open calls are recorded "
              "(%d)" % len(opens), "%d events of pid %d" % (len(mine), t.pid))
        text = viewer_text(["report", path])
        check("round_of" in text, "attach: the calls have their stacks "
              "(round_of)", text[:300])
        run_line = next((l for l in text.splitlines() if l.startswith("run: ")), "")
        m = re.search(r"attached at \+([\d.]+)s, detached at \+([\d.]+)s", run_line)
        check(m and float(m.group(1)) <= float(m.group(2)),
              "attach: the report states the attach window", run_line)
        seeds = seeded(evs, t.pid)
        first_call = min((e["seq"] for e in opens), default=-1)
        check(seeds and all(e["seq"] < first_call for e in seeds),
              "attach: the segments it had are seeded before its first call",
              "%d seeded" % len(seeds))
        sysv = "key 0x%08x" % t.key
        block = next((b for b in text.split("\n\n") if sysv in b), "")
        check("existed before the trace" in block,
              "attach: the SysV segment made before, by its key, is "
              "labelled as existing before the trace", block[:300] or text[:300])
        block = next((b for b in text.split("\n\n")
                      if 'posix "/%s"' % t.name in b), "")
        check("existed before the trace" in block,
              "attach: the POSIX object made before, by its name, is "
              "labelled as existing before the trace", block[:300])
        check(not region_mapped(t.pid), "detach: /proc/PID/maps holds no "
              "mapping of the region", "".join(region_mapped(t.pid)))
        t.wait_churn()
        res, path = attach(t.pid, "again", "--duration", "0.3", "-q")
        evs = dump_json(path)
        again = [e for e in evs if e.get("pid") == t.pid and
                 e.get("call") == "shm_open"]
        check(res.rc == 0 and again, "attach again: calls recorded again "
              "(%d)" % len(again), res.why())
        check(not region_mapped(t.pid), "detach again: no mapping of the "
              "region", "".join(region_mapped(t.pid)))
        t.wait_churn()
        last, rc, err = t.quit()
        check(last == "done errors=0" and rc == 0,
              "attach: the target's output is unchanged and no call of it "
              "failed (no EINTR)", "%r rc %d %s" % (last, rc, err.strip()))
        check(t.out[0] == "ready" and all(re.match(r"count \d+$", l)
                                          for l in t.out[1:-1]),
              "attach: nothing else on the target's output", repr(t.out))
    finally:
        t.kill()


@test("a fork and an exec after the attach are followed")
def t_fork():
    t = Target("fork", threads=1)
    try:
        out = os.path.join(TMP, "fork.trace")
        sh = subprocess.Popen([LAUNCHER, "-p", str(t.pid), "-o", out, "-q"],
                              stderr=subprocess.PIPE, text=True)
        deadline = time.time() + READY_WITHIN
        while not harness.trace_started(out) or \
                not any(e.get("call") == "shm_open" and e.get("pid") == t.pid
                        for e in dump_json(out)):
            if time.time() > deadline or sh.poll() is not None:
                raise Fatal("no event of the target in the trace")
            time.sleep(0.05)
        check(t.ask("fork") == "forked", "fork: the child ran")
        check(t.ask("exec") == "execed", "exec: the child ran churn")
        sh.send_signal(signal.SIGINT)
        rc = sh.wait(timeout=60)
        check(rc == 0, "fork: shmtrace -p ends on SIGINT with 0",
              sh.stderr.read())
        evs = dump_json(out)
        kids = {e["pid"] for e in evs if e.get("call") == "shm_open" and
                e.get("pid") != t.pid and "-1000" in str(e.get("name", e))}
        check(kids, "fork: the child's calls are recorded under its pid")
        churned = {e["pid"] for e in evs if e.get("call") == "shm_open" and
                   "churn" in str(e)}
        check(len([e for e in evs if e.get("call") == "shm_open" and
                   e.get("pid") in churned]) >= 3,
              "exec: the exec'ed churn's 3 shm_open calls are recorded",
              "pids %s" % churned)
        last, rc, err = t.quit()
        check(last == "done errors=0" and rc == 0, "fork: the target is "
              "unchanged", "%r rc %d %s" % (last, rc, err.strip()))
    finally:
        t.kill()


def refused(res, pattern, name):
    err = res.err.decode(errors="replace").strip()
    check(res.rc != 0 and len(err.splitlines()) == 1 and
          re.search(pattern, err), name, "rc %d: %r" % (res.rc, err))


@test("refusals: one line and a non-zero exit")
def t_errors():
    gone = subprocess.Popen(["true"])
    gone.wait()
    res, _ = attach(gone.pid, "gone")
    refused(res, r"no such process", "refused: no such process")
    t = Target("static", name="attach-target-static")
    try:
        res, _ = attach(t.pid, "static")
        refused(res, r"statically linked", "refused: a statically linked "
                "target")
    finally:
        t.kill()
    t = Target("traced", threads=1)
    try:
        st = subprocess.Popen(["strace", "-qq", "-o", "/dev/null", "-p",
                               str(t.pid)], stderr=subprocess.DEVNULL)
        deadline = time.time() + READY_WITHIN
        while harness_tracer(t.pid) == 0 and time.time() < deadline:
            time.sleep(0.01)
        res, _ = attach(t.pid, "traced")
        refused(res, r"already traced by process %d" % st.pid,
                "refused: a target already traced (strace -p)")
        st.terminate()
        st.wait()
        check(t.quit()[1] == 0, "refused: the traced target is unchanged")
    finally:
        t.kill()
    if os.geteuid() == 0:
        t = Target("nobody", threads=1, user="nobody")
        try:
            res = run(["runuser", "-u", "daemon", "--", LAUNCHER, "-p",
                       str(t.pid), "-o", "/dev/null"])
            refused(res, r"belongs to uid \d+, not to you",
                    "refused: another user's process")
        finally:
            t.kill()


NGINX_CYCLES = 20


@test("nginx: attach --tree under load, detach, again")
def t_nginx():
    import shutil
    import threading
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import real
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        return real.skip("nginx", "nginx is not installed")
    d = os.path.join(TMP, "nginx-attach")
    os.makedirs(d, exist_ok=True)
    port = real.free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        # workers as our user: -p attaches to a process of its own user
        user = "user root root;\n" if os.geteuid() == 0 else ""
        f.write(user + real.NGINX_CONF % {"dir": d, "port": port})
    p = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c",
                          conf, "-p", d], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    answers, stop = [], threading.Event()

    def load():
        while not stop.is_set():
            answers.extend(real.hammer(port, 50))
    loader = None
    try:
        if not real.wait_port(port):
            raise Fatal("nginx did not listen")
        loader = threading.Thread(target=load)
        loader.start()
        zoned = 0
        for i in range(NGINX_CYCLES):
            before = len(answers)
            deadline = time.time() + READY_WITHIN
            while len(answers) < before + 100 and time.time() < deadline:
                time.sleep(0.01)   # the load goes on between the cycles
            res, path = attach(p.pid, "nginx-%d" % i, "--tree",
                               "--duration", "0.2", "-q")
            text = viewer_text(["report", path]) if res.rc == 0 else ""
            # the two zones: 1 MiB and 2 MiB shared mappings, before the trace
            zones = [b for b in text.split("\n\n")
                     if "existed before the trace" in b and
                     re.search(r"\b(1048576|2097152) bytes", b)]
            zoned += res.rc == 0 and len(zones) >= 2
        stop.set()
        loader.join()
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            pids = [p.pid] + [int(x) for x in f.read().split()]
        left = [q for q in pids if region_mapped(q)]
        check(len(pids) > 1 and not left, "nginx: after the detaches no "
              "process of it (%d) maps the region" % len(pids), str(left))
        bad = [a for a in answers if a[0] != 200]
        check(zoned == NGINX_CYCLES, "nginx: %d attach/detach cycles with "
              "--tree, both zones in every trace, before the trace"
              % NGINX_CYCLES, "%d of %d" % (zoned, NGINX_CYCLES))
        check(answers and not bad, "nginx: %d requests during the cycles, "
              "none failed" % len(answers), "%d failed" % len(bad))
    finally:
        stop.set()
        if loader:
            loader.join()
        try:
            with open(os.path.join(d, "nginx.pid")) as f:
                os.kill(int(f.read()), signal.SIGQUIT)
        except (OSError, ValueError):
            os.killpg(p.pid, signal.SIGTERM)
        real.wait_exit(p)


def harness_tracer(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
