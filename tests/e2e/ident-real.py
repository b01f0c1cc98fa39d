#!/usr/bin/env python3
"""End-to-end tests of object identity (issue 12) on real programs from
Debian: SQLite in WAL mode and LMDB (python3-lmdb), PyTorch's DataLoader
with 2 workers under both sharing strategies (python3-torch), a JVM's
hsperfdata (default-jre-headless, a Java program run from its source),
php-cli and php-fpm with opcache (a library php loads with RTLD_DEEPBIND),
and Apache under ab on loopback.  Each runs bare and under the tracer: its
output must not change; its trace must hold one segment per kernel object,
with names and sizes, and the right leak verdicts; and each is also stopped
(SIGSTOP, every process of it) while alive: the map of the frozen processes
must equal /proc/PID/maps, every shared mapping, the tracer's region aside.

A program that is not installed (make deps installs them) is skipped with
a line saying so; the skip is a failure when SHMTRACE_REQUIRE_REAL=1.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import pwd
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (free_port, wait_port, skip, TMP, Fatal, brief, check, fail, report_json, run,  # noqa: E402
                     trace_path, traced)
from harness_ident import (Paused, audit_check, frozen_check, one_per_object,  # noqa: E402
                           pid_map_check, wait_for)

TESTS, test = harness.registry()
PYTHON = "/usr/bin/python3"     # Debian's, with the Debian modules


def has_module(mod):
    return os.access(PYTHON, os.X_OK) and run([PYTHON, "-c", "import " + mod]).rc == 0


def script(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def segments(rep, kind=None):
    return [x for x in rep.get("segments", []) if kind is None or x["kind"] == kind]


def same_output(title, bare_res, tr):
    check(bare_res.rc == tr.rc and bare_res.out == tr.out,
          "%s: output and exit status unchanged under the tracer" % title,
          "bare %s %r; traced %s %r" % (bare_res.rc, bare_res.out[-200:], tr.rc, tr.out[-200:]))


# --------------------------------------------------------------------------
# SQLite (WAL) and LMDB: files mapped shared
# --------------------------------------------------------------------------

SQLITE = """import os, sqlite3, sys
db = sys.argv[1]
c = sqlite3.connect(db)
c.execute("pragma journal_mode=wal")
c.execute("create table t(x)")
for i in range(100):
    c.execute("insert into t values (?)", (i,))
c.commit()
c2 = sqlite3.connect(db)
print("rows", c2.execute("select count(*) from t").fetchone()[0], flush=True)
if len(sys.argv) > 2:
    print("paused", os.getpid(), flush=True)
    sys.stdin.readline()
c2.close()
c.close()
"""


@test("sqlite")
def t_sqlite():
    py = script("sqlite-wal.py", SQLITE)
    d = os.path.join(TMP, "sqlite")
    os.makedirs(d, exist_ok=True)
    db = os.path.join(d, "t.db")
    b = run([PYTHON, py, db])
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    t = traced(None, argv=[PYTHON, py, db], label="sqlite")
    same_output("sqlite WAL", b, t)
    rep = report_json(t.path)
    one_per_object("sqlite WAL", rep)
    shm = [x for x in segments(rep, "file") if x["name"] == db + "-shm"]
    check(len(shm) == 1 and shm[0]["size"] == 32768 and shm[0]["state"] == "ended" and
          "file_unlinked" in (shm[0].get("notes") or []),
          "sqlite WAL: db-shm is one file segment with its path and size, ended, "
          "reported unlinked (SQLite removes it at the last close)", brief(segments(rep)))
    check(not [x for x in segments(rep) if x["state"] == "leaked"],
          "sqlite WAL: nothing leaked", brief(segments(rep)))
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    with Paused(trace_path("sqlite-paused"), [PYTHON, py, db, "--pause"]) as p:
        p.freeze()
        frozen_check("sqlite WAL", p.trace, p.pids)
        p.go()


LMDB = """import lmdb, os, sys
env = lmdb.open(sys.argv[1], map_size=1 << 20)
with env.begin(write=True) as t:
    for i in range(100):
        t.put(b"k%d" % i, b"v%d" % i)
with env.begin() as t:
    print("entries", t.stat()["entries"], flush=True)
if len(sys.argv) > 2:
    print("paused", os.getpid(), flush=True)
    sys.stdin.readline()
env.close()
"""


@test("lmdb")
def t_lmdb():
    if not has_module("lmdb"):
        return skip("lmdb", "python3-lmdb")
    py = script("lmdb-env.py", LMDB)
    d = os.path.join(TMP, "lmdb")
    b = run([PYTHON, py, d])
    shutil.rmtree(d)
    t = traced(None, argv=[PYTHON, py, d], label="lmdb")
    same_output("lmdb", b, t)
    rep = report_json(t.path)
    one_per_object("lmdb", rep)
    names = {x["name"]: x for x in segments(rep, "file")}
    ok = all(os.path.join(d, n) in names for n in ("data.mdb", "lock.mdb"))
    check(ok and all(names[os.path.join(d, n)]["state"] == "ended" and
                     names[os.path.join(d, n)]["size"] ==
                     os.stat(os.path.join(d, n)).st_size and
                     not names[os.path.join(d, n)].get("notes")
                     for n in ("data.mdb", "lock.mdb")),
          "lmdb: data.mdb and lock.mdb are file segments with path and size; ended, "
          "the files remain", brief(segments(rep)))
    with Paused(trace_path("lmdb-paused"), [PYTHON, py, d, "--pause"]) as p:
        p.freeze()
        frozen_check("lmdb", p.trace, p.pids)
        p.go()


# --------------------------------------------------------------------------
# PyTorch DataLoader: descriptors passed over sockets, named semaphores
# --------------------------------------------------------------------------

TORCH = """import gc, sys
import torch, torch.multiprocessing as mp
from torch.utils.data import Dataset, DataLoader
mp.set_sharing_strategy(sys.argv[1])
class D(Dataset):
    def __len__(self): return 8
    def __getitem__(self, i): return torch.full((256,), float(i))
if __name__ == "__main__":
    dl = DataLoader(D(), batch_size=2, num_workers=2)
    total = 0.0
    for b in dl:
        total += float(b.sum())
    del b, dl
    gc.collect()
    print("total", total, flush=True)
"""

# The same, stopped after the first batch with both workers alive.
TORCH_PAUSED = """import gc, os, sys
import torch, torch.multiprocessing as mp
from torch.utils.data import Dataset, DataLoader
mp.set_sharing_strategy(sys.argv[1])
class D(Dataset):
    def __len__(self): return 8
    def __getitem__(self, i): return torch.full((256,), float(i))
if __name__ == "__main__":
    dl = DataLoader(D(), batch_size=2, num_workers=2, prefetch_factor=1)
    it = iter(dl)
    first = next(it)
    print("paused", os.getpid(), *[w.pid for w in it._workers], flush=True)
    sys.stdin.readline()
    total = float(first.sum()) + sum(float(b.sum()) for b in it)
    del first, it, dl
    gc.collect()
    print("total", total, flush=True)
"""


@test("torch")
def t_torch():
    if not has_module("torch"):
        return skip("torch", "python3-torch")
    py = script("torch-loader.py", TORCH)
    paused = script("torch-paused.py", TORCH_PAUSED)
    for strategy in ("file_descriptor", "file_system"):
        title = "torch DataLoader (%s)" % strategy
        b = run([PYTHON, py, strategy])
        t = traced(None, argv=[PYTHON, py, strategy], label="torch-" + strategy)
        same_output(title, b, t)
        rep = report_json(t.path)
        one_per_object(title, rep)
        main = t.main_pid()
        tensors = [x for x in segments(rep, "posix") if x["name"].startswith("/torch_")]
        multi = [x for x in tensors if len({a["pid"] for a in x["attachments"]}) >= 2]
        check(len(tensors) >= 4 and len(multi) == len(tensors) and
              all(main in {a["pid"] for a in x["attachments"]} for x in tensors),
              "%s: each batch's object is one segment, mapped by a worker and the "
              "main process (%d objects)" % (title, len(tensors)),
              brief([(x["name"], [a["pid"] for a in x["attachments"]]) for x in tensors]))
        if strategy == "file_descriptor":
            got = [a for x in tensors for a in x["attachments"]
                   if a["pid"] == main and a.get("received_from")]
            check(got and len(got) == len([a for x in tensors for a in x["attachments"]
                                           if a["pid"] == main]),
                  "%s: the main process's mappings say received from a worker over "
                  "a socket" % title, brief([x["attachments"] for x in tensors][:2]))
        sems = segments(rep, "sem")
        check(sems and all(x["name"].startswith("/mp-") and x["state"] == "removed"
                           for x in sems),
              "%s: multiprocessing's named semaphores are kind sem, removed" % title,
              brief([(x["name"], x["state"]) for x in sems]))
        check(not [x for x in segments(rep) if x["state"] == "leaked"],
              "%s: nothing leaked" % title,
              brief([(x["kind"], x["name"]) for x in segments(rep) if x["state"] == "leaked"]))
        with Paused(trace_path("torch-paused-" + strategy), [PYTHON, paused, strategy]) as p:
            p.freeze()
            frozen_check(title + ", main and 2 workers", p.trace, p.pids)
            pid_map_check(title, p.trace, p.pids[0], p.pids)
            audit_check(title, p.trace, p.pids)
            p.go()
        check(p.rc == 0 and p.out.endswith(b"total 7168.0\n"),
              "%s: the paused run ends as it should" % title, p.out[-200:])


# --------------------------------------------------------------------------
# A JVM, php's opcache
# --------------------------------------------------------------------------

# A Java program run from its source (the JRE's launcher compiles it in
# memory: default-jre-headless has no javac); with an argument it prints
# "paused PID" and waits for a line, its JVM alive.
JAVA = """public class Paused {
    public static void main(String[] args) throws Exception {
        long sum = 0;
        for (int i = 0; i < 1000; i++)
            sum += i;
        System.out.println("sum " + sum);
        if (args.length > 0) {
            System.out.println("paused " + ProcessHandle.current().pid());
            System.out.flush();
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        }
    }
}
"""


def hsperfdata(segs_, pid=None):
    """The segments of a JVM's hsperfdata file (of pid, if given)."""
    want = "/tmp/hsperfdata_%s/" % pwd.getpwuid(os.getuid()).pw_name
    return [x for x in segs_ if x["kind"] == "file" and (x["name"] or "").startswith(want) and
            (pid is None or x["name"] == want + str(pid))]


@test("jvm")
def t_jvm():
    java = shutil.which("java")
    if not java:
        return skip("jvm", "default-jre-headless")
    src = script("Paused.java", JAVA)
    argv = [java, "-XX:+UsePerfData", src]
    b = run(argv)
    t = traced(None, argv=argv, label="jvm")
    same_output("jvm", b, t)
    rep = report_json(t.path)
    one_per_object("jvm", rep)
    perf = hsperfdata(segments(rep))
    check(len(perf) == 1 and perf[0]["size"] == 32768 and perf[0]["state"] == "ended" and
          "file_unlinked" in (perf[0].get("notes") or []),
          "jvm: hsperfdata is one file segment with its path and size, the JVM "
          "removes it at exit", brief(segments(rep)))
    check(not [x for x in segments(rep) if x["state"] == "leaked"],
          "jvm: nothing leaked", brief(segments(rep)))
    with Paused(trace_path("jvm-paused"), argv + ["--pause"]) as p:
        p.freeze()
        live = frozen_check("jvm", p.trace, p.pids)
        mine = {id(sg): sg for sg in live.get(p.pids[0], {}).values()}
        perf = hsperfdata(mine.values(), p.pids[0])
        check(len(perf) == 1 and perf[0]["size"] == 32768 and perf[0]["state"] == "live",
              "jvm: frozen: its hsperfdata is one live segment of the map, named by "
              "its pid, 32768 bytes", brief(list(mine.values())))
        p.go()
    check(p.rc == 0 and p.out == b.out, "jvm: the paused run ends as it should",
          "exit %s %r" % (p.rc, p.out[-200:]))
    perf = hsperfdata(segments(report_json(p.trace)), p.pids[0])
    check(len(perf) == 1 and perf[0]["state"] == "ended" and
          "file_unlinked" in (perf[0].get("notes") or []),
          "jvm: after the paused run its hsperfdata is ended, the file unlinked",
          brief(perf))


PHP = 'echo "hello\\n"; if ($argc > 1) { echo "paused ".getmypid()."\\n"; fgets(STDIN); }'


def opcache_zones(segs_, size=None):
    """opcache's shared memory: a big shared anonymous (/dev/zero) mapping."""
    return [x for x in segs_ if x["kind"] == "anon" and
            (x["size"] == size if size else x["size"] >= 16 << 20)]


@test("php opcache")
def t_php():
    php = shutil.which("php")
    if not php or run([php, "-m"]).out.find(b"OPcache") < 0:
        return skip("php opcache", "php-fpm (php-cli, opcache)")
    argv = [php, "-d", "opcache.enable_cli=1", "-r", PHP]
    b = run(argv)
    t = traced(None, argv=argv, label="php")
    same_output("php opcache", b, t)
    rep = report_json(t.path)
    zones = opcache_zones(segments(rep))
    created = [s for s in zones if (s.get("creator") or {}).get("stack")]
    ok = zones and all(any((f.get("module") or "").endswith("opcache.so")
                           for f in s["creator"]["stack"]) for s in created)
    check(zones and created and ok,
          "php opcache: its shared memory (from a library loaded with "
          "RTLD_DEEPBIND) is recorded, with stacks in opcache.so",
          brief([(x["size"], x.get("creator")) for x in zones])[:600])
    check(not [x for x in segments(rep) if x["state"] == "leaked"],
          "php opcache: nothing leaked", brief(segments(rep)))
    with Paused(trace_path("php-paused"), argv + ["--", "--pause"]) as p:
        p.freeze()
        live = frozen_check("php opcache", p.trace, p.pids)
        zones = opcache_zones({id(sg): sg for sg in live.get(p.pids[0], {}).values()}.values())
        check(len(zones) == 1 and zones[0]["size"] == 128 << 20 and
              zones[0]["state"] == "live",
              "php opcache: frozen: its 128 MiB zone is one live segment of the map",
              brief(zones))
        p.go()
    check(p.rc == 0 and p.out == b.out, "php opcache: the paused run ends as it should",
          "exit %s %r" % (p.rc, p.out[-200:]))


FPM_CONF = """[global]
pid = %(dir)s/fpm.pid
error_log = %(dir)s/fpm.log
daemonize = no
[www]
listen = 127.0.0.1:%(port)d
pm = static
pm.max_children = 3
"""


@test("php-fpm opcache")
def t_php_fpm():
    fpm = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
    if not os.access(fpm, os.X_OK):
        return skip("php-fpm opcache", "php-fpm")
    d = os.path.join(TMP, "fpm")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "fpm.conf"), "w") as f:
        f.write(FPM_CONF % {"dir": d, "port": free_port()})
    trace = trace_path("php-fpm")
    p = subprocess.Popen([harness.LAUNCHER, "-q", "-o", trace, "--", fpm, "-R", "-y",
                          os.path.join(d, "fpm.conf"), "-F"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    stopped = []
    try:
        def zone():
            if not harness.trace_started(trace):
                return None
            for x in opcache_zones(harness.map_json(trace).get("segments", [])):
                if len(x.get("attachments", [])) == 4:
                    return x
            return None
        z = wait_for("opcache's zone in the master and 3 workers", zone, timeout=30)
        pids = sorted({a["pid"] for a in z["attachments"]})
        for q in pids:
            os.kill(q, signal.SIGSTOP)
            stopped.append(q)
        frozen_check("php-fpm opcache", trace, pids)
        with open(os.path.join(d, "fpm.pid")) as f:
            pid_map_check("php-fpm opcache", trace, int(f.read()), pids)
        for q in stopped:
            os.kill(q, signal.SIGCONT)
        stopped = []
    finally:
        for q in stopped:
            os.kill(q, signal.SIGCONT)
        stop_server(p, os.path.join(d, "fpm.pid"), signal.SIGQUIT)
    rep = report_json(trace)
    zones = [x for x in opcache_zones(segments(rep), 128 << 20)
             if len({a["pid"] for a in x["attachments"]}) > 1]
    check(len(zones) == 1 and len({a["pid"] for a in zones[0]["attachments"]}) == 4 and
          any((f.get("module") or "").endswith("opcache.so")
              for f in (zones[0].get("creator") or {}).get("stack", [])),
          "php-fpm opcache: its 128 MiB zone (made by a library loaded with "
          "RTLD_DEEPBIND) is one segment in the master and its 3 workers, created "
          "in opcache.so", brief([(x["size"], len(x["attachments"])) for x in zones]))
    check(p.returncode == 0 and not [x for x in segments(rep) if x["state"] == "leaked"],
          "php-fpm opcache: stops cleanly, nothing leaked",
          "exit %s; %s" % (p.returncode, brief([(x["kind"], x["state"]) for x in segments(rep)])))


# --------------------------------------------------------------------------
# Apache under ab: one file mapped per request
# --------------------------------------------------------------------------

APACHE_CONF = """ServerRoot "%(dir)s"
Listen 127.0.0.1:%(port)d
PidFile %(dir)s/httpd.pid
ErrorLog %(dir)s/error.log
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
StartServers 2
MinSpareServers 2
MaxSpareServers 4
ServerName localhost
DocumentRoot "%(dir)s/htdocs"
EnableMMAP On
EnableSendfile Off
<Directory "%(dir)s/htdocs">
  Require all granted
</Directory>
"""
def stop_server(p, pidfile, sig):
    """Ends a server the test started in session p: `sig` to the pid its
    pid file names (its group when there is none), SIGKILL after 30 s."""
    try:
        with open(pidfile) as f:
            os.kill(int(f.read()), sig)
    except (OSError, ValueError):
        os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


REQUESTS = 2000


def freeze_tree(trace):
    """Every traced process alive, stopped: the map equals /proc.  (A spare
    server the parent ends between the listing and the stop is left out.)"""
    pids = sorted(q["pid"] for q in harness.map_json(trace).get("processes", [])
                  if q.get("alive"))
    stopped = []
    try:
        for q in pids:
            try:
                os.kill(q, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            stopped.append(q)
        frozen_check("apache (%d processes)" % len(stopped), trace, stopped)
    finally:
        for q in stopped:
            os.kill(q, signal.SIGCONT)


def run_apache(d, port, trace):
    argv = ["/usr/sbin/apache2", "-f", os.path.join(d, "httpd.conf"), "-DFOREGROUND"]
    if trace:
        argv = [harness.LAUNCHER, "-q", "-o", trace, "--"] + argv
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        if not wait_port(port, timeout=20):
            raise Fatal("apache did not listen: %r" % p.stderr.read()[-300:])
        res = run(["ab", "-q", "-n", str(REQUESTS), "-c", "4",
                   "http://127.0.0.1:%d/index.html" % port])
        if trace:
            freeze_tree(trace)
    finally:
        stop_server(p, os.path.join(d, "httpd.pid"), signal.SIGTERM)
    return res


@test("apache")
def t_apache():
    if not (os.path.exists("/usr/sbin/apache2") and shutil.which("ab")):
        return skip("apache", "apache2, apache2-utils")
    d = os.path.join(TMP, "apache")
    os.makedirs(os.path.join(d, "htdocs"), exist_ok=True)
    index = os.path.join(d, "htdocs", "index.html")
    with open(index, "w") as f:
        f.write("hello world\n\n")          # 13 bytes
    port = free_port()
    with open(os.path.join(d, "httpd.conf"), "w") as f:
        f.write(APACHE_CONF % {"dir": d, "port": port})
    b = run_apache(d, port, None)
    trace = trace_path("apache")
    t = run_apache(d, port, trace)
    ok = b"Failed requests:        0" in t.out and b"Complete requests:      %d" % REQUESTS in t.out
    check(ok and b"Failed requests:        0" in b.out,
          "apache: %d requests under ab, none failed, bare and traced" % REQUESTS,
          t.out[-400:])
    rep = report_json(trace)
    one_per_object("apache", rep)
    pages = [x for x in segments(rep, "file") if x["name"] == index]
    check(len(pages) == 1 and pages[0]["size"] == 13 and pages[0]["state"] == "ended" and
          len(pages[0]["attachments"]) >= REQUESTS // 2,
          "apache: index.html, mapped per request, is one segment (%s mappings), "
          "13 bytes, ended" % (len(pages[0]["attachments"]) if pages else 0),
          brief([(x["name"], x["size"], len(x["attachments"])) for x in segments(rep, "file")]))
    text = harness.report_text(trace)
    check(len(text.splitlines()) < 2000,
          "apache: the report folds the per-request mappings (%d lines)"
          % len(text.splitlines()), text[-600:])
    check(not [x for x in segments(rep) if x["state"] == "leaked"],
          "apache: nothing leaked after a clean stop", brief(
              [(x["kind"], x["name"], x["state"]) for x in segments(rep)]))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
