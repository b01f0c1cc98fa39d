#!/usr/bin/env python3
"""End-to-end tests of `shmview metrics`: a SysV segment and a POSIX object
leaked on purpose show as orphaned bytes; the file written with -o passes
Debian's promtool, is replaced atomically and is served by a real
node_exporter (prometheus-node-exporter) started here on 127.0.0.1 with
its textfile collector; the tmpfs figures agree with df; --per-object
names each object, with hostile names escaped.

How to run it and read its output: tests/e2e/harness.py.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (free_port, Fatal, bare, check, ftok_path, need, one_line,  # noqa: E402
                     posix_name, run, unlink_shm, TAG, TMP, VIEWER)

TESTS, test = harness.registry()

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
NODE_EXPORTER = (shutil.which("prometheus-node-exporter") or
                 "/usr/bin/prometheus-node-exporter")
DEADLINE = 30       # seconds for node_exporter to answer

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def samples(text):
    """[(name, {label: value}, float)] of an exposition, comments skipped."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise Fatal("not an exposition line: %r" % line[:200])
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(3) or "")}
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def value(smp, metric, **labels):
    found = [v for n, l, v in smp if n == metric and
             all(l.get(k) == w for k, w in labels.items())]
    if len(found) != 1:
        raise Fatal("%d samples of %s%r" % (len(found), metric, labels))
    return found[0]


def metrics(*opts):
    need(VIEWER)
    res = run([VIEWER, "metrics"] + list(opts))
    if res.rc != 0:
        raise Fatal("shmview metrics failed: " + res.why())
    return res.out.decode()


def promtool_ok(path):
    with open(path, "rb") as f:
        p = subprocess.run([PROMTOOL, "check", "metrics"], stdin=f,
                           capture_output=True, timeout=60)
    return p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")


def leak_both():
    """A SysV segment (sysv-server, attached at exit) and a POSIX object
    (posix-writer), both left behind by processes that are gone."""
    path, key = ftok_path()
    res = bare("sysv-server", path)
    if res.rc != 0:
        raise Fatal("sysv-server failed: " + res.why())
    name = posix_name("metrics")
    res = bare("posix-writer", name)
    if res.rc != 0:
        raise Fatal("posix-writer failed: " + res.why())
    shmid = [i for i, s in harness.sysv_segments().items() if s["key"] == key]
    if len(shmid) != 1:
        raise Fatal("sysv-server left %d segments with key 0x%x" % (len(shmid), key))
    return key, shmid[0], name


def df(mount):
    p = subprocess.run(["df", "-B1", "--output=size,used", mount],
                       capture_output=True, text=True, timeout=30)
    size, used = p.stdout.splitlines()[1].split()
    return int(size), int(used)


@test("metrics-file")
def t_file():
    key, shmid, name = leak_both()
    textdir = os.path.join(TMP, "textfile")
    os.mkdir(textdir)
    prom = os.path.join(textdir, "shm.prom")
    res = run([VIEWER, "metrics", "-o", prom])
    check(res.rc == 0 and res.out == b"" and os.path.exists(prom),
          "metrics-file: -o writes the file and nothing on stdout", res.why())
    mode = stat.S_IMODE(os.stat(prom).st_mode)
    check(mode == 0o644, "metrics-file: the file is readable by the collector "
          "(0644)", "mode %o" % mode)
    good, out = promtool_ok(prom)
    check(good, "metrics-file: promtool check metrics passes", out[-600:])
    with open(prom) as f:
        smp = samples(f.read())
    sysv_orphaned = value(smp, "shmtrace_bytes", kind="sysv", verdict="orphaned")
    posix_orphaned = value(smp, "shmtrace_bytes", kind="posix", verdict="orphaned")
    check(sysv_orphaned >= 4096 and posix_orphaned >= 4096,
          "metrics-file: the orphaned bytes include the leaked segment and "
          "object", "sysv %d posix %d" % (sysv_orphaned, posix_orphaned))
    check(value(smp, "shmtrace_collect_success", source="sysv") == 1 and
          value(smp, "shmtrace_collect_success", source="posix") == 1,
          "metrics-file: the collection says it read both sources")
    ino = os.stat(prom).st_ino
    res = run([VIEWER, "metrics", "-o", prom])
    check(res.rc == 0 and os.stat(prom).st_ino != ino and
          sorted(os.listdir(textdir)) == ["shm.prom"],
          "metrics-file: a second run renames a new file over it and leaves "
          "no temporary file", str(os.listdir(textdir)))
    serve(textdir, shmid, name)
    harness.remove_key(key)
    unlink_shm(name.lstrip("/"))


def scrape(port, proc):
    """GET /metrics of node_exporter once it answers (or Fatal)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                        timeout=5) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.1)     # polling its port until it listens
    raise Fatal("node_exporter did not answer within %d s" % DEADLINE)


def serve(textdir, shmid, name):
    """node_exporter with the textfile collector only, on a free port."""
    if not os.access(NODE_EXPORTER, os.X_OK):
        raise Fatal("prometheus-node-exporter is not installed (make deps)")
    text = proc = None
    for _ in range(5):          # a port taken between bind and listen: again
        port = free_port()
        proc = subprocess.Popen([NODE_EXPORTER, "--collector.disable-defaults",
                                 "--collector.textfile",
                                 "--collector.textfile.directory=" + textdir,
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            text = scrape(port, proc)
        finally:
            if text is None or proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
        if text is not None:
            break
    if text is None:
        raise Fatal("node_exporter did not start: " + err[-400:])
    smp = samples(text)
    check(value(smp, "node_textfile_scrape_error") == 0,
          "node-exporter: node_textfile_scrape_error is 0")
    with open(os.path.join(textdir, "shm.prom")) as f:
        want = value(samples(f.read()), "shmtrace_bytes", kind="sysv",
                     verdict="orphaned")
    check(value(smp, "shmtrace_bytes", kind="sysv", verdict="orphaned") == want,
          "node-exporter: serves shmtrace_bytes as the file has it")
    check(any(n == "node_textfile_mtime_seconds" and l.get("file", "").endswith("shm.prom")
              for n, l, v in smp),
          "node-exporter: it read shm.prom (node_textfile_mtime_seconds)")


@test("metrics-df")
def t_df():
    """The tmpfs figures are statvfs's, as df's: compared when df gives the
    same answer before and after (another test may write /dev/shm)."""
    for _ in range(20):
        before = df("/dev/shm")
        smp = samples(metrics())
        after = df("/dev/shm")
        if before == after:
            break
    else:
        raise Fatal("/dev/shm kept changing under df")
    got = (value(smp, "shmtrace_tmpfs_size_bytes", mount="/dev/shm"),
           value(smp, "shmtrace_tmpfs_used_bytes", mount="/dev/shm"))
    check(got == before, "metrics-df: /dev/shm size and use agree with df",
          "metrics %r, df %r" % (got, before))


@test("metrics-per-object")
def t_per_object():
    key, shmid, name = leak_both()
    weird = "%s-we\"ird\\x\nline\x1b" % TAG
    fd = os.open("/dev/shm/" + weird, os.O_CREAT | os.O_WRONLY, 0o600)
    os.ftruncate(fd, 8192)
    os.close(fd)
    try:
        text = metrics("--per-object")
        path = os.path.join(TMP, "per-object.prom")
        with open(path, "w") as f:
            f.write(text)
        good, out = promtool_ok(path)
        check(good, "metrics-per-object: promtool check metrics passes with "
              "a hostile name", out[-600:])
        smp = samples(text)
        check(value(smp, "shmtrace_object_bytes", kind="sysv", shmid=str(shmid),
                    key="0x%08x" % key) == 4096 and
              value(smp, "shmtrace_object_bytes", kind="posix", name=name) == 4096,
              "metrics-per-object: a series per object, by shmid and key or name")
        check(value(smp, "shmtrace_object_bytes", kind="posix",
                    name="/" + weird.replace("\x1b", "\\x1b")) == 8192,
              "metrics-per-object: quote, backslash and newline escaped; a "
              "control byte as the text \\x1b")
        check("shmtrace_object_bytes" not in metrics(),
              "metrics-per-object: no per-object series by default")
    finally:
        unlink_shm(weird)
        harness.remove_key(key)
        unlink_shm(name.lstrip("/"))


@test("metrics-units")
def t_units():
    """The shipped systemd service and cron line run `shmview metrics -o
    FILE` into the same textfile directory; that command, pointed at a
    directory of ours, writes a file promtool accepts."""
    cmds = []
    with open(os.path.join(harness.SOURCES, "shmview-metrics.service")) as f:
        cmds += [l.split("=", 1)[1].split() for l in f if l.startswith("ExecStart=")]
    with open(os.path.join(harness.SOURCES, "shmview-metrics.cron")) as f:
        cmds += [l.split()[6:] for l in f if l.strip() and not l.startswith("#")]
    check(len(cmds) == 2 and all(c[0].endswith("/shmview") and c[1:3] == ["metrics", "-o"]
                                 and c[3].endswith(".prom") for c in cmds) and
          cmds[0][3] == cmds[1][3],
          "metrics-units: the service and the cron line run shmview metrics -o "
          "FILE.prom, the same file", str(cmds))
    with open(os.path.join(harness.SOURCES, "shmview-metrics.timer")) as f:
        timer = f.read()
    check("OnUnitActiveSec=" in timer and "WantedBy=timers.target" in timer,
          "metrics-units: the timer repeats and can be enabled")
    out = os.path.join(TMP, os.path.basename(cmds[0][3]))
    res = run([VIEWER] + cmds[0][1:3] + [out] + cmds[0][4:])
    good, why = promtool_ok(out) if res.rc == 0 else (False, res.why())
    check(good, "metrics-units: the unit's command writes a file promtool "
          "accepts", why[-400:])


@test("metrics-nobody")
def t_nobody():
    """As an ordinary user: it still collects, says how many processes it
    could not inspect, and the output still passes promtool."""
    import harness_audit
    if not harness_audit.can_be_nobody():
        raise Fatal("needs root, runuser and the user nobody")
    text = harness.viewer_text(["metrics"], user=harness_audit.NOBODY)
    path = os.path.join(TMP, "nobody.prom")
    with open(path, "w") as f:
        f.write(text)
    good, out = promtool_ok(path)
    smp = samples(text)
    check(good and value(smp, "shmtrace_processes_unreadable") > 0 and
          value(smp, "shmtrace_collect_success", source="processes") == 1,
          "metrics-nobody: as nobody, the processes it could not inspect are "
          "counted, and promtool passes", out[-400:])


@test("metrics-errors")
def t_errors():
    res = run([VIEWER, "metrics", "-o", os.path.join(TMP, "no-such-dir", "x.prom")])
    check(res.rc == 1 and one_line(res) and b"no-such-dir" in res.err,
          "metrics-errors: a directory that does not exist is one line, exit 1",
          res.why())
    res = run([VIEWER, "metrics", "--bogus"])
    check(res.rc == 2, "metrics-errors: an unknown option is a usage error (2)",
          res.why())
    res = run([VIEWER, "metrics", "--help"])
    check(res.rc == 0 and b"--per-object" in res.out,
          "metrics-errors: --help lists the options", res.why())


def nothing_left(words):
    """What the tests leaked on purpose is gone again."""
    keys = harness.USED_KEYS
    left = [s for s in harness.sysv_segments().values() if s["key"] in keys]
    left += [n for n in harness.dev_shm() if n.startswith(TAG)]
    check(not left, "metrics: nothing the tests made is left", str(left)[:300])


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, nothing_left))
