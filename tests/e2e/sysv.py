#!/usr/bin/env python3
"""End-to-end tests of the SysV examples (sysv-server, sysv-client,
sysv-wait-client, sysv-excl, sysv-rdonly, sysv-detach-twice) and the
nginx-style zone shared by a master and its workers: every call recorded
with its arguments, results and call site, the output of each program
unchanged under the tracer.

How to run it and read its output: tests/e2e/harness.py.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import (Fatal, arg, argn, bare, check, check_args, cmd_is,  # noqa: E402
                     describe, dump_text, example, expect_bare, expect_same,
                     fail, flags, fnames, free_key, ftok_path, info_obj,
                     is_addr, is_fd, nonneg, num, one, remove_key, ret,
                     segment_by_key, seq, source_line, success, traced,
                     traced_as_bare)

TESTS, test = harness.registry()


# --------------------------------------------------------------------------
# SysV examples
# --------------------------------------------------------------------------

SERVER_OUT = ('server: wrote "hello from sysv-server"\n'
              'server: exiting attached, segment left behind\n')
SERVER_RM_OUT = ('server: wrote "hello from sysv-server"\n'
                 'server: detached and removed the segment\n')
CLIENT_OUT = 'client: read "hello from sysv-server"\n'
CLIENT_RM_OUT = CLIENT_OUT + 'client: removed the segment\n'


@test("sysv-server")
def t_sysv_server():
    path, key = ftok_path()
    try:
        # Bare: the leak, then a client reads and another removes it.
        b_srv = bare("sysv-server", path)
        expect_bare("sysv-server: bare run output", b_srv, SERVER_OUT)
        shmid, seg = segment_by_key(key)
        check(seg is not None and seg["nattch"] == 0 and seg["size"] == 4096,
              "sysv-server: bare run leaks the segment (key 0x%x, nattch 0)" % key,
              "segment %r" % seg)
        b_cli = bare("sysv-client", path)
        expect_bare("sysv-client: bare run output", b_cli, CLIENT_OUT)
        b_rm = bare("sysv-client", "--remove", path)
        expect_bare("sysv-client --remove: bare run output", b_rm, CLIENT_RM_OUT)
        check(segment_by_key(key)[1] is None, "sysv-client --remove: segment gone (bare)",
              "still there")
        b_srv2 = bare("sysv-server", path)
        remove_key(key)
        check(b_srv2.out == b_srv.out, "sysv-server: deterministic output over two runs",
              "%r vs %r" % (b_srv.out, b_srv2.out))

        # Traced.
        srv = traced("sysv-server", path, leak_keys=[key])
        expect_same("sysv-server: stdout and exit status unchanged under the tracer", b_srv, srv)
        sid, seg = segment_by_key(key)
        check(seg is not None and seg["nattch"] == 0,
              "sysv-server: traced run leaks the segment as it does bare", "segment %r" % seg)
        main = srv.main_pid()
        g = one(srv.calls("shmget"), "shmget")
        check_args("sysv-server: shmget(key=ftok, size=4096, IPC_CREAT|0666)", g,
                   key=key, size=4096,
                   shmflg=lambda v: flags(v) == ({"IPC_CREAT"}, 0o666),
                   ret_=sid if sid is not None else (lambda r: r is not None and r >= 0),
                   errno_=None)
        check(g.get("pid") == main and g.get("tid") == main,
              "sysv-server: shmget recorded with the program's pid and tid", describe(g))
        a = one(srv.calls("shmat"), "shmat")
        check_args("sysv-server: shmat(shmid, NULL, 0) returns an address", a,
                   shmid=ret(g), shmaddr=lambda v: num(v) in (0, None),
                   shmflg=lambda v: fnames(v) == set(),
                   ret_=lambda r: is_addr(r), errno_=None)
        check(isinstance(a.get("ret"), int) and a["ret"] > 0,
              "sysv-server: shmat's address is a number in JSON, as every ret", describe(a))
        segsz = (a.get("info") or {}).get("segsz")
        check(segsz in (None, 4096), "sysv-server: shmat info.segsz 4096", describe(a))
        check(not srv.calls("shmdt") and not srv.calls("shmctl"),
              "sysv-server: no shmdt, no shmctl recorded (the leak)",
              "; ".join(describe(e) for e in srv.calls("shmdt", "shmctl")))
        check(g.get("stack") is not None and isinstance(g.get("stack"), list),
              "sysv-server: events carry a stack array", describe(g))

        text = dump_text(srv.path)
        pat = (r"^\[pid %d\] shmget\(key=0x0*%x, size=4096, shmflg=IPC_CREAT\|0666\) = %d$"
               % (main, key, ret(g)))
        check(re.search(pat, text, re.M), "sysv-server: text dump shows the shmget line",
              "no line matching %s in %r" % (pat, text[:600]))

        # Symbolized stacks: a frame in main with examples/sysv-server.c:LINE.
        call_line = source_line("sysv-server.c", "int shmid = shmget(")
        frames = g.get("stack") or []
        mains = [f for f in frames if isinstance(f, dict) and f.get("symbol") == "main"]
        fm = mains[0] if mains else None
        check(fm is not None and str(fm.get("module", "")).endswith("sysv-server")
              and str(fm.get("file", "")).endswith("examples/sysv-server.c")
              and num(fm.get("line")) is not None
              and call_line <= num(fm.get("line")) <= call_line + 2,
              "sysv-server: JSON stack of shmget has main at examples/sysv-server.c:%d" % call_line,
              "frames %s" % json.dumps(frames)[:600])
        stext = dump_text(srv.path, "--stack")
        fpat = (r"^\s+#\d+ 0x[0-9a-fA-F]+ main\+0x[0-9a-fA-F]+ \([^)]*sysv-server\) "
                r"(?:\S*/)?sysv-server\.c:(\d+)\s*$")
        lines = [int(m.group(1)) for m in re.finditer(fpat, stext, re.M)]
        check(any(call_line <= n <= call_line + 2 for n in lines),
              "sysv-server: dump --stack shows main+0x.. (sysv-server) sysv-server.c:%d"
              % call_line, "main frames at lines %s; output %r" % (lines, stext[:800]))

        cli = traced("sysv-client", path)
        expect_same("sysv-client: stdout and exit status unchanged under the tracer", b_cli, cli)
        g = one(cli.calls("shmget"), "shmget")
        check_args("sysv-client: shmget(key, 0, 0) finds the server's segment", g,
                   key=key, size=0, shmflg=lambda v: "IPC_CREAT" not in fnames(v),
                   ret_=sid, errno_=None)
        a = one(cli.calls("shmat"), "shmat")
        check_args("sysv-client: shmat(shmid, NULL, SHM_RDONLY)", a, shmid=sid,
                   shmflg=lambda v: fnames(v) == {"SHM_RDONLY"}, ret_=is_addr)
        d = one(cli.calls("shmdt"), "shmdt")
        check_args("sysv-client: shmdt of the address shmat returned, ret 0", d,
                   shmaddr=lambda v: num(v) == ret(a), ret_=0, errno_=None)
        check(seq(g) < seq(a) < seq(d), "sysv-client: events in call order (seq)",
              "seqs %s %s %s" % (seq(g), seq(a), seq(d)))

        rm = traced("sysv-client", "--remove", path)
        expect_same("sysv-client --remove: stdout and exit status unchanged under the tracer",
                    b_rm, rm)
        c = one(rm.calls("shmctl"), "shmctl")
        check_args("sysv-client --remove: shmctl(shmid, IPC_RMID) = 0", c,
                   shmid=sid, cmd=cmd_is("IPC_RMID"), ret_=0, errno_=None)
        check(segment_by_key(key)[1] is None, "sysv-client --remove: segment gone (traced)",
              "still there")

        b_nc = bare("sysv-server", "--wait-client", 0, "--remove", path)
        expect_bare("sysv-server --wait-client 0: no client, exit 1", b_nc,
                    'server: wrote "hello from sysv-server"\nserver: no client within 0 s\n', 1)
        check(segment_by_key(key)[1] is None, "sysv-server --wait-client 0 --remove: cleans up",
              "segment left")
        b_srm = bare("sysv-server", "--remove", path)
        expect_bare("sysv-server --remove: bare run output", b_srm, SERVER_RM_OUT)
        srm = traced("sysv-server", "--remove", path)
        expect_same("sysv-server --remove: stdout and exit status unchanged under the tracer",
                    b_srm, srm)
        a = one(srm.calls("shmat"), "shmat")
        d = one(srm.calls("shmdt"), "shmdt")
        c = one(srm.calls("shmctl"), "shmctl")
        check(argn(d, "shmaddr") == ret(a) and ret(d) == 0 and cmd_is("IPC_RMID")(arg(c, "cmd"))
              and argn(c, "shmid") == argn(a, "shmid") and ret(c) == 0 and seq(d) < seq(c),
              "sysv-server --remove: shmdt(addr) then shmctl(IPC_RMID)",
              "%s / %s / %s" % (describe(a), describe(d), describe(c)))
        check(segment_by_key(key)[1] is None, "sysv-server --remove: nothing left behind",
              "segment still there")
    finally:
        remove_key(key)


@test("sysv-wait-client")
def t_sysv_wait_client():
    """Server and client started by one shell, all under one trace."""
    path, key = ftok_path()
    srv, cli = example("sysv-server"), example("sysv-client")
    script = ('"$1" --wait-client 30 --remove "$3" & s=$!; i=0; '
              'until "$2" --ack "$3" 2>/dev/null; do i=$((i+1)); '
              '[ $i -gt 400 ] && break; sleep 0.05; done; wait $s')
    try:
        t = traced(None, argv=["/bin/sh", "-c", script, "sh", srv, cli, path],
                   label="wait-client")
        check(t.rc == 0 and b"server: client acknowledged" in t.out,
              "sysv wait-client: server sees the client's ack under the tracer", t.why())
        sh = t.main_pid()
        starts = {e.get("pid"): e for e in t.calls("execve")
                  if num(arg(e, "ppid")) == sh}
        spid = [p for p, e in starts.items() if str(arg(e, "path")).endswith("sysv-server")]
        cpids = [p for p, e in starts.items() if str(arg(e, "path")).endswith("sysv-client")]
        check(len(spid) == 1 and cpids and sh not in spid + cpids,
              "sysv wait-client: server and client each start (execve) as children of the shell",
              "shell %s starts %s" % (sh, {p: arg(e, "path") for p, e in starts.items()}))
        if not spid:
            raise Fatal("no server process in the trace")
        g = one(t.calls("shmget", pid=spid[0]), "server shmget")
        acks = [e for e in t.calls("shmat") if e.get("pid") in cpids and success(e)]
        check(len(acks) == 1 and argn(acks[0], "shmid") == ret(g)
              and fnames(arg(acks[0], "shmflg")) == set(),
              "sysv wait-client: the acking client attached the server's shmid read-write",
              "server shmget %s, client shmats %s" % (describe(g), [describe(e) for e in acks]))
        check(len(t.pids()) >= 3, "sysv wait-client: shell, server and client have their own pids",
              "pids %s" % sorted(t.pids()))
    finally:
        remove_key(key)


@test("sysv-excl")
def t_sysv_excl():
    key = free_key()
    want = ("first shmget: created\nsecond shmget: EEXIST\n"
            "IPC_STAT: size 4096, mode 0600\nIPC_RMID: removed\n")
    try:
        t = traced_as_bare("sysv-excl", want, "sysv-excl", "%x" % key)
        gets = sorted(t.calls("shmget"), key=seq)
        if len(gets) != 2:
            raise Fatal("expected 2 shmget events, got %s" % [describe(e) for e in gets])
        check_args("sysv-excl: first shmget(key, 4096, IPC_CREAT|IPC_EXCL|0600) succeeds",
                   gets[0], key=key, size=4096,
                   shmflg=lambda v: flags(v) == ({"IPC_CREAT", "IPC_EXCL"}, 0o600),
                   ret_=nonneg, errno_=None)
        check_args("sysv-excl: second shmget fails -1 EEXIST", gets[1], key=key,
                   ret_=-1, errno_="EEXIST")
        ctls = sorted(t.calls("shmctl"), key=seq)
        cmds = [sorted(fnames(arg(e, "cmd")) - {"IPC_64"}) for e in ctls]
        check(cmds == [["IPC_STAT"], ["IPC_RMID"]]
              and all(argn(e, "shmid") == ret(gets[0]) and ret(e) == 0 for e in ctls)
              and seq(gets[1]) < seq(ctls[0]),
              "sysv-excl: shmctl IPC_STAT then IPC_RMID on the created shmid",
              "; ".join(describe(e) for e in ctls))
        text = dump_text(t.path)
        check(re.search(r"shmget\(.*\) = -1 EEXIST \(File exists\)", text),
              "sysv-excl: text dump shows '= -1 EEXIST (File exists)'", repr(text[:600]))
    finally:
        remove_key(key)


@test("sysv-rdonly")
def t_sysv_rdonly():
    want = ("writer: filled 8192 bytes\nreader: 0 mismatches, checksum 1044480\n"
            "detached both, removed\n")
    t = traced_as_bare("sysv-rdonly", want, "sysv-rdonly")
    g = one(t.calls("shmget"), "shmget")
    check_args("sysv-rdonly: shmget(IPC_PRIVATE=0x0, 8192, IPC_CREAT|0600)", g,
               key=lambda v: v == "0x0" or num(v) == 0, size=8192,
               shmflg=lambda v: flags(v) == ({"IPC_CREAT"}, 0o600), ret_=nonneg)
    ats = sorted(t.calls("shmat"), key=seq)
    check(len(ats) == 2 and [fnames(arg(e, "shmflg")) for e in ats] == [set(), {"SHM_RDONLY"}]
          and all(argn(e, "shmid") == ret(g) and is_addr(ret(e)) for e in ats)
          and ret(ats[0]) != ret(ats[1]),
          "sysv-rdonly: shmat with shmflg 0, then with SHM_RDONLY, two addresses",
          "; ".join(describe(e) for e in ats))
    dts = t.calls("shmdt")
    check(sorted(argn(e, "shmaddr") for e in dts) == sorted(ret(e) for e in ats)
          and all(ret(e) == 0 for e in dts),
          "sysv-rdonly: both attachments detached", "; ".join(describe(e) for e in dts))
    c = one(t.calls("shmctl"), "shmctl")
    check_args("sysv-rdonly: IPC_RMID last", c, cmd=cmd_is("IPC_RMID"), shmid=ret(g), ret_=0)


@test("sysv-detach-twice")
def t_detach_twice():
    want = "first shmdt: 0\nsecond shmdt: -1 EINVAL\nremoved\n"
    t = traced_as_bare("sysv-detach-twice", want, "sysv-detach-twice")
    a = one(t.calls("shmat"), "shmat")
    dts = sorted(t.calls("shmdt"), key=seq)
    if len(dts) != 2:
        raise Fatal("expected 2 shmdt events, got %s" % [describe(e) for e in dts])
    check_args("sysv-detach-twice: first shmdt(addr) = 0", dts[0],
               shmaddr=lambda v: num(v) == ret(a), ret_=0, errno_=None)
    check_args("sysv-detach-twice: second shmdt(same addr) = -1 EINVAL", dts[1],
               shmaddr=lambda v: num(v) == ret(a), ret_=-1, errno_="EINVAL")
    c = one(t.calls("shmctl"), "shmctl")
    check_args("sysv-detach-twice: IPC_RMID", c, cmd=cmd_is("IPC_RMID"), ret_=0)


# --------------------------------------------------------------------------
# nginx-style zones
# --------------------------------------------------------------------------

ZONE = 1024 * 1024


def nginx_out(kind, n):
    return ("master: %s zone of 1048576 bytes\n"
            "master: %d workers done, 0 failed, slots ok\n"
            "master: total %d (expected %d)\nmaster: zone freed\n"
            % (kind, n, n * 1000, n * 1000))


def check_workers(name, t, n):
    """Master forked n workers; each worker shows up under its own pid."""
    forks = [e for e in t.calls("fork") if (ret(e) or 0) > 0]
    masters = {e.get("pid") for e in forks}
    check(len(forks) == n and len(masters) == 1, "%s: master records %d forks" % (name, n),
          "; ".join(describe(e) for e in forks) or "no fork events")
    if len(masters) != 1:
        raise Fatal("cannot tell the master")
    master = masters.pop()
    check(master == t.main_pid(), "%s: the forks come from the traced program" % name,
          "fork pid %s, main %s" % (master, t.main_pid()))
    workers = {ret(e) for e in forks}
    by_pid = {}
    for e in t.events:
        if e.get("call") != "reap":     # the launcher's own records
            by_pid.setdefault(e.get("pid"), []).append(e)
    missing = [w for w in workers if w not in by_pid]
    check(not missing, "%s: every forked worker has events under its own pid" % name,
          "workers %s without events (pids in trace: %s)" % (missing, sorted(by_pid)))
    strangers = set(by_pid) - workers - {master}
    check(not strangers, "%s: every other pid in the trace is a fork child of the master" % name,
          "unexpected pids %s" % sorted(strangers))
    check(all(e.get("tid") == e.get("pid") for w in workers for e in by_pid.get(w, [])),
          "%s: worker events have tid == pid" % name, "tids differ")
    last_worker = max((seq(e) for w in workers for e in by_pid.get(w, [])), default=0)
    return master, workers, last_worker


@test("nginx-zone")
def t_nginx_zone():
    start = time.monotonic()
    b = bare("nginx-zone", "--hold", 1, "anon", 2)
    expect_bare("nginx-zone --hold 1 anon 2: bare run output", b, nginx_out("anon", 2))
    check(time.monotonic() - start >= 1.0, "nginx-zone --hold 1: workers stay alive a second",
          "took %.2f s" % (time.monotonic() - start))
    for kind in ("anon", "devzero", "sysv"):
        name = "nginx-zone %s" % kind
        try:
            t = traced_as_bare(name, nginx_out(kind, 4), "nginx-zone", kind, label="nginx-" + kind)
            master, workers, last_worker = check_workers(name, t, 4)
            first_fork = min(seq(e) for e in t.calls("fork", pid=master))
            if kind in ("anon", "devzero"):
                m = one([e for e in t.calls("mmap", pid=master) if argn(e, "length") == ZONE],
                        "1 MiB mmap")
                if kind == "anon":
                    check_args("%s: mmap(NULL, 1 MiB, PROT_READ|PROT_WRITE, "
                               "MAP_SHARED|MAP_ANONYMOUS, -1, 0), info anon" % name, m,
                               addr=lambda v: num(v) in (0, None),
                               prot=lambda v: fnames(v) == {"PROT_READ", "PROT_WRITE"},
                               flags=lambda v: fnames(v) == {"MAP_SHARED", "MAP_ANONYMOUS"},
                               fd=-1, offset=0, ret_=is_addr)
                    check(info_obj(m) == "anon", "%s: mmap info.object anon" % name, describe(m))
                else:
                    check_args("%s: mmap(NULL, 1 MiB, PROT_READ|PROT_WRITE, MAP_SHARED, "
                               "fd of /dev/zero, 0)" % name, m,
                               prot=lambda v: fnames(v) == {"PROT_READ", "PROT_WRITE"},
                               flags=lambda v: fnames(v) == {"MAP_SHARED"},
                               fd=is_fd, offset=0, ret_=is_addr)
                    check(info_obj(m) == "devzero", "%s: mmap info.object devzero" % name,
                          describe(m))
                check(seq(m) < first_fork, "%s: zone mapped before the forks" % name,
                      describe(m))
                u = one([e for e in t.calls("munmap", pid=master)
                         if argn(e, "addr") == ret(m)], "munmap of the zone")
                check_args("%s: munmap(zone, 1 MiB) = 0 after the workers" % name, u,
                           length=ZONE, ret_=0)
                check(seq(u) > last_worker, "%s: munmap after every worker event" % name,
                      "munmap seq %s, last worker seq %s" % (seq(u), last_worker))
            else:
                g = one(t.calls("shmget", pid=master), "shmget")
                check_args("%s: shmget(IPC_PRIVATE=0x0, 1 MiB, SHM_R|SHM_W|IPC_CREAT)" % name,
                           g, key=lambda v: v == "0x0" or num(v) == 0, size=ZONE,
                           shmflg=lambda v: flags(v) == ({"IPC_CREAT"}, 0o600),
                           ret_=nonneg)
                a = one(t.calls("shmat", pid=master), "shmat")
                check_args("%s: shmat(shmid, NULL, 0)" % name, a, shmid=ret(g),
                           shmflg=lambda v: fnames(v) == set(), ret_=is_addr)
                c = one(t.calls("shmctl", pid=master), "shmctl")
                check_args("%s: shmctl(shmid, IPC_RMID) = 0" % name, c, shmid=ret(g),
                           cmd=cmd_is("IPC_RMID"), ret_=0)
                mine = sorted((e for e in t.events if e.get("pid") == master), key=seq)
                after = [e for e in mine if seq(e) > seq(a)]
                check(seq(g) < seq(a) < seq(c) < first_fork and after and after[0] is c,
                      "%s: IPC_RMID is the master's next call right after shmat, before fork"
                      % name, "master events after shmat: %s" %
                      [e.get("call") for e in after[:5]])
                d = one(t.calls("shmdt", pid=master), "shmdt")
                check_args("%s: shmdt(zone) = 0 after the workers" % name, d,
                           shmaddr=lambda v: num(v) == ret(a), ret_=0)
                check(seq(d) > last_worker, "%s: shmdt after every worker event" % name,
                      "shmdt seq %s, last worker seq %s" % (seq(d), last_worker))
        except Fatal as e:
            fail(name, str(e))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS, harness.tracer_checks))
