#!/usr/bin/env python3
"""End-to-end tests on real programs from Debian: nginx with shared zones
and 4 workers, PostgreSQL under pgbench (as a non-root user), and Python's
multiprocessing.shared_memory.  Each runs bare and under the tracer: the
program's results must not change, and the trace must show what it did.

A program that is not installed (make deps installs them) is skipped
with a line saying so; the skip is reported as a failure when
SHMTRACE_REQUIRE_REAL=1.

How to run it and read its output: tests/e2e/harness.py.
"""

import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (free_port, wait_port, skip, Fatal, check, fail, run, need, LAUNCHER, BUILD,  # noqa: E402
                     TMP, dev_shm, map_json, report_json, sysv_segments, remove_shmid,
                     unlink_shm)

TESTS, test = harness.registry()
PGBIN = "/usr/lib/postgresql/15/bin"
PYTHON = "/usr/bin/python3"


def figure(pair):
    """A figure for tests/RELIABILITY.md, as a comment line run-tests.sh passes."""
    print("# figure: %s: %s" % pair, flush=True)


def wait_exit(p, timeout=30):
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise Fatal("did not stop within %d s" % timeout)


# --------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------

NGINX_CONF = """daemon off;
master_process on;
worker_processes 4;
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %(dir)s/body;
  proxy_temp_path %(dir)s/proxy;
  fastcgi_temp_path %(dir)s/fcgi;
  uwsgi_temp_path %(dir)s/uwsgi;
  scgi_temp_path %(dir)s/scgi;
  limit_req_zone $binary_remote_addr zone=perip:1m rate=1000000r/s;
  proxy_cache_path %(dir)s/cache keys_zone=cachezone:2m;
  server {
    listen 127.0.0.1:%(port)d;
    location / { limit_req zone=perip burst=1000000; return 200 "hello $uri\\n"; }
  }
}
"""

REQUESTS = 3000


def hammer(port, n):
    """n requests over a few keep-alive connections: (status, body) list."""
    out = []
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(4)]
    try:
        for i in range(n):
            c = conns[i % len(conns)]
            c.request("GET", "/r%d" % (i % 97))
            r = c.getresponse()
            out.append((r.status, r.read()))
    finally:
        for c in conns:
            c.close()
    return out


def run_nginx(traced_path, label):
    d = os.path.join(TMP, "nginx-" + label)
    os.makedirs(d, exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % {"dir": d, "port": port})
    argv = [shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf, "-p", d]
    if traced_path:
        argv = [LAUNCHER, "-o", traced_path, "--"] + argv
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        if not wait_port(port):
            raise Fatal("nginx (%s) did not listen" % label)
        responses = hammer(port, REQUESTS)
        snapshot = map_json(traced_path) if traced_path else None
    finally:
        try:
            with open(os.path.join(d, "nginx.pid")) as f:
                os.kill(int(f.read()), signal.SIGQUIT)
        except (OSError, ValueError):
            os.killpg(p.pid, signal.SIGTERM)
    rc = wait_exit(p)
    return responses, snapshot, rc, p.stderr.read()


@test("nginx")
def t_nginx():
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        return skip("nginx", "nginx is not installed")
    need(LAUNCHER)
    bare, _, bare_rc, _ = run_nginx(None, "bare")
    path = os.path.join(TMP, "nginx.trace")
    traced, snap, rc, err = run_nginx(path, "traced")
    check(bare_rc == 0 and rc == 0, "nginx: master stops cleanly bare and traced",
          "exit %s / %s: %r" % (bare_rc, rc, err[-300:]))
    check(len(traced) == REQUESTS and traced == bare,
          "nginx: %d responses, every one as without the shim" % REQUESTS,
          "%d responses, %d differ" % (len(traced),
                                       sum(1 for a, b in zip(bare, traced) if a != b)))
    zones = [s for s in snap["segments"] if s["kind"] == "anon"
             and s["size"] in (1 << 20, 2 << 20)]
    alive = {q["pid"] for q in snap["processes"] if q["alive"]}
    master = min(alive) if alive else None
    workers = {q["pid"] for q in snap["processes"] if q["alive"] and q["ppid"] == master}
    ok = len(zones) == 2 and len(workers) >= 4
    for z in zones:
        pids = {a["pid"] for a in z["attachments"]}
        addrs = {a["addr"] for a in z["attachments"]}
        ok = ok and master in pids and workers <= pids and len(addrs) == 1
    check(ok, "nginx: both zones attached in the master and every worker, at one address",
          "zones %s workers %s" % ([(z["size"], [a["pid"] for a in z["attachments"]])
                                    for z in zones], sorted(workers)))
    rep = report_json(path)
    states = {s["state"] for s in rep["segments"]}
    check(rep["leaks"] == 0 and states == {"removed"},
          "nginx: after a clean stop nothing is leaked", "leaks %s states %s"
          % (rep["leaks"], states))
    figure(("nginx: %d requests, master + %d workers" % (REQUESTS, len(workers)),
                        "responses identical, zones in every worker, no leak"))


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

def as_postgres():
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        return None
    return pw


def pg_cmd(pw, argv, **kw):
    """Run argv as the postgres user (PostgreSQL refuses to run as root)."""
    def demote():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return subprocess.run(argv, preexec_fn=demote, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, **kw)


def pg_start(pw, d, data, port, tracer):
    def demote():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    argv = [PGBIN + "/postgres", "-D", data, "-k", d, "-p", str(port),
            "-c", "listen_addresses=127.0.0.1"]
    if tracer:
        argv = tracer + ["--"] + argv
    p = subprocess.Popen(argv, preexec_fn=demote, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    if not wait_port(port, 30) or not pg_ready(pw, d, port, 30):
        os.killpg(p.pid, signal.SIGKILL)
        raise Fatal("postgres did not start: %r" % p.stderr.read()[-400:])
    return p


def pg_ready(pw, d, port, timeout):
    """Whether the server accepts sessions within timeout seconds: it
    listens before it does ("the database system is starting up")."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pg_cmd(pw, [PGBIN + "/pg_isready", "-q", "-h", d, "-p", str(port)]).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def pgbench(pw, d, port):
    res = pg_cmd(pw, [PGBIN + "/pgbench", "-h", d, "-p", str(port), "-c", "4",
                      "-t", "150", "postgres"])
    out = res.stdout.decode(errors="replace")
    done = re.search(r"number of transactions actually processed: (\d+)/(\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return (int(done.group(1)) if done else -1,
            int(failed.group(1)) if failed else 0, out + res.stderr.decode())


def pg_stop(pw, data):
    pg_cmd(pw, [PGBIN + "/pg_ctl", "-D", data, "stop", "-m", "fast", "-w"])


def cleanup_postgres(trace_paths):
    """Remove what a killed postmaster leaves: its SysV and POSIX segments."""
    for shmid, s in sysv_segments().items():
        if s["cpid"] and not os.path.exists("/proc/%d" % s["cpid"]) and s["nattch"] == 0:
            for path in trace_paths:
                try:
                    rep = report_json(path)
                except Fatal:
                    continue
                if any(x["shmid"] == shmid for x in rep["segments"]):
                    remove_shmid(shmid)
    for name in dev_shm():
        if name.startswith("PostgreSQL."):
            unlink_shm("/" + name)


@test("postgres")
def t_postgres():
    pw = as_postgres()
    if not os.path.exists(PGBIN + "/postgres") or not pw:
        return skip("postgres", "PostgreSQL 15 is not installed")
    need(LAUNCHER)
    d = os.path.join(TMP, "pg")
    os.makedirs(d)
    # the tools, readable by the postgres user wherever the checkout is
    tools = os.path.join(d, "bin")
    os.makedirs(tools)
    for f in ("shmtrace", "shmview", "libshmtrace.so"):
        shutil.copy2(os.path.join(BUILD, f), tools)
    for path in (TMP, d, tools):
        os.chmod(path, 0o755)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    data = os.path.join(d, "data")
    res = pg_cmd(pw, [PGBIN + "/initdb", "-D", data, "-A", "trust"])
    if res.returncode != 0:
        raise Fatal("initdb failed: %r" % res.stderr[-400:])
    port = free_port()
    traces = []
    try:
        p = pg_start(pw, d, data, port, None)
        res = pg_cmd(pw, [PGBIN + "/pgbench", "-h", d, "-p", str(port), "-i", "-s", "1",
                          "postgres"])
        if res.returncode != 0:
            raise Fatal("pgbench -i failed: %r" % res.stderr[-400:])
        bare_done, bare_failed, _ = pgbench(pw, d, port)
        pg_stop(pw, data)
        wait_exit(p)

        trace = os.path.join(d, "pg.trace")
        traces.append(trace)
        p = pg_start(pw, d, data, port, [os.path.join(tools, "shmtrace"), "-o", trace])
        done, failed, out = pgbench(pw, d, port)
        snap = map_json(trace)
        pg_stop(pw, data)
        rc = wait_exit(p)
        check(done == bare_done == 600 and failed == bare_failed == 0,
              "postgres: pgbench 4 clients, 600 transactions, as without the shim",
              "traced %s/%s failed, bare %s/%s: %s" % (done, failed, bare_done,
                                                      bare_failed, out[-300:]))
        alive = {q["pid"] for q in snap["processes"] if q["alive"]}
        kinds = {}
        for s in snap["segments"]:
            kinds.setdefault(s["kind"], []).append(s)
        sysv = [s for s in kinds.get("sysv", []) if s["size"] < 4096]
        main = [s for s in kinds.get("anon", []) if s["size"] > (64 << 20)]
        dsm = kinds.get("posix", [])
        every = lambda s: alive <= {a["pid"] for a in s["attachments"]}  # noqa: E731
        check(sysv and main and dsm and every(sysv[0]) and every(main[0]),
              "postgres: main shared memory, the small SysV segment and DSM (shm_open) "
              "segments, with every backend attached",
              "kinds %s, alive %d" % ({k: [(s["size"], len(s["attachments"]))
                                           for s in v] for k, v in kinds.items()},
                                      len(alive)))
        rep = report_json(trace)
        check(rc == 0 and rep["leaks"] == 0,
              "postgres: a clean stop leaves no leak", "exit %s leaks %s" % (rc, rep["leaks"]))

        trace2 = os.path.join(d, "pg-killed.trace")
        traces.append(trace2)
        p = pg_start(pw, d, data, port, [os.path.join(tools, "shmtrace"), "-o", trace2])
        pgbench(pw, d, port)
        with open(os.path.join(data, "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGKILL)
        wait_exit(p)
        rep = report_json(trace2)
        leaked = [s for s in rep["segments"] if s["kind"] == "sysv" and s["state"] == "leaked"]
        frames = [f.get("symbol") for f in (leaked[0]["creator"] or {}).get("stack", [])] \
            if leaked else []
        check(len(leaked) == 1 and "PGSharedMemoryCreate" in frames,
              "postgres: kill -9 of the postmaster leaves the SysV segment, reported "
              "leaked with its creation backtrace", "leaked %s frames %s" % (leaked, frames))
        figure(("postgres: pgbench 4 clients x 150", "%d/%d transactions, "
                            "%d segments mapped, kill -9 leak found" % (done, bare_done,
                                                                        len(snap["segments"]))))
    finally:
        try:
            pg_stop(pw, data)
        except Exception:
            pass
        cleanup_postgres(traces)


# --------------------------------------------------------------------------
# Python multiprocessing.shared_memory
# --------------------------------------------------------------------------

PY_SHARE = r"""
import sys
from multiprocessing import Process, shared_memory, resource_tracker
def child(name):
    shm = shared_memory.SharedMemory(name=name)
    print("child read", bytes(shm.buf[:5]).decode())
    shm.close()
if __name__ == "__main__":
    shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=4096)
    shm.buf[:5] = b"hello"
    p = Process(target=child, args=(sys.argv[1],))
    p.start(); p.join()
    shm.close()
    if sys.argv[2] == "unlink":
        shm.unlink()
    else:   # forget it, and keep the resource tracker from tidying up
        resource_tracker.unregister(shm._name, "shared_memory")
    print("done", p.exitcode)
"""


@test("python")
def t_python():
    if not os.path.exists(PYTHON):
        return skip("python", "python3 is not installed")
    script = os.path.join(TMP, "share.py")
    with open(script, "w") as f:
        f.write(PY_SHARE)
    for mode in ("unlink", "forget"):
        pyname = "shmtrace-py-%s-%d" % (mode, os.getpid())
        name = "/" + pyname     # Python adds the slash shm_open wants
        try:
            bare = run([PYTHON, script, pyname, mode])
            unlink_shm(name)
            path = os.path.join(TMP, "py-%s.trace" % mode)
            res = run([LAUNCHER, "-q", "-o", path, "--", PYTHON, script, pyname, mode])
            check(res.rc == bare.rc == 0 and res.out == bare.out
                  and b"child read hello" in res.out,
                  "python %s: output unchanged under the tracer" % mode, res.why())
            rep = report_json(path)
            segs = [s for s in rep["segments"] if s["kind"] == "posix" and s["name"] == name]
            pids = {a["pid"] for s in segs for a in s["attachments"]}
            if mode == "unlink":
                check(len(segs) == 1 and len(pids) >= 2 and segs[0]["state"] == "removed"
                      and rep["leaks"] == 0,
                      "python unlink: created, attached by parent and child, removed",
                      json.dumps(segs)[:400])
            else:
                check(len(segs) == 1 and segs[0]["state"] == "leaked" and rep["leaks"] == 1,
                      "python forget: the object never unlinked is reported leaked",
                      json.dumps(segs)[:400])
        finally:
            unlink_shm(name)
    figure(("python multiprocessing.shared_memory", "share + leak found"))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS))
