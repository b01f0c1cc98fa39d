"""The harness of the tests of `shmview live` (tests/e2e/live.py): the
UI runs for real in a tmux server of our own (private socket, fixed
window size, no user configuration), driven with keys, its screen read
back with `tmux capture-pane -p`; the truth it is checked against comes
from `shmview map --json` of a launcher run in the background.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import time

from harness import (Fatal, check, map_json, need, run, trace_started, LAUNCHER, ROOT,
                     TMP, VIEWER)

WIDTH, HEIGHT = 160, 40


# --------------------------------------------------------------------------
# A tmux pane running one command
# --------------------------------------------------------------------------

PANES = []          # every pane started, killed at the end whatever happens
_pane_n = 0


class Pane:
    """`cmd` in a detached tmux session of its own server; the command's
    exit status lands in a file when it ends."""

    def __init__(self, label, cmd, cwd=ROOT, x=WIDTH, y=HEIGHT):
        global _pane_n
        tmux = shutil.which("tmux")
        if not tmux:
            raise Fatal("tmux is not installed (make deps)")
        _pane_n += 1
        self.tmux_path = tmux
        self.sock = "shmtrace-live-%d-%d" % (os.getpid(), _pane_n)
        self.rcfile = os.path.join(TMP, "%s-%d.rc" % (label, _pane_n))
        shell = "%s; echo $? > %s" % (cmd, shlex.quote(self.rcfile))
        # where tmux puts the socket; its server leaves the file behind
        self.socket_path = os.path.join(os.environ.get("TMUX_TMPDIR") or "/tmp",
                                        "tmux-%d" % os.getuid(), self.sock)
        PANES.append(self)
        # "screen" is in ncurses-base everywhere; no user config is read
        self.tmux("-f", "/dev/null", "start-server", ";",
                  "set-option", "-g", "default-terminal", "screen", ";",
                  "new-session", "-d", "-x", str(x), "-y", str(y),
                  "-c", cwd, "sh", "-c", shell)

    def tmux(self, *args, must=True):
        res = run([self.tmux_path, "-L", self.sock] + list(args), timeout=10)
        if must and res.rc != 0:
            raise Fatal("tmux %s failed: %s" % (args[0], res.why()))
        return res

    def screen(self):
        res = self.tmux("capture-pane", "-p", must=False)
        return res.out.decode(errors="replace") if res.rc == 0 else ""

    def keys(self, *keys, literal=False):
        self.tmux("send-keys", *(("-l",) if literal else ()), *keys)

    def settle(self, pred, timeout=6.0):
        """Read the screen until pred(screen) holds on two reads in a row
        that are alike, the command ends, or timeout seconds pass; the last
        screen read.  Two alike: tmux may hold part of a frame only (a
        frame is more than one write), and a check must judge a whole one."""
        end = time.time() + timeout
        last = None
        while True:
            s = self.screen()
            if pred(s) and s == last:
                return s
            if self.rc() is not None or time.time() > end:
                return s
            last = s
            time.sleep(0.05)

    def wait_for(self, pred, what, timeout=6.0):
        """The screen once pred(screen) holds (see settle); Fatal with it
        otherwise."""
        s = self.settle(pred, timeout)
        if pred(s):
            return s
        if self.rc() is not None:
            raise Fatal("waiting for %s: shmview live exited with %s"
                        % (what, self.rc()))
        raise Fatal("waiting for %s: not on the screen after %.0fs: %r"
                    % (what, timeout, s[:1500]))

    def rc(self):
        """The command's exit status once written in full, else None."""
        try:
            with open(self.rcfile) as f:
                text = f.read()
            return int(text) if text.endswith("\n") else None
        except (OSError, ValueError):
            return None

    def wait_exit(self, timeout=5.0):
        end = time.time() + timeout
        while self.rc() is None and time.time() < end:
            time.sleep(0.1)
        return self.rc()

    def quit(self, title):
        """Press q; check title: the command then ends with status 0."""
        self.keys("q")
        check(self.wait_exit() == 0, title, "rc %s" % self.rc())

    def close(self):
        self.tmux("kill-server", must=False)
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass


def live_cmd(path, *opts):
    return " ".join(shlex.quote(a) for a in [VIEWER, "live"] + list(opts) + [path])


def lines_of(screen):
    return screen.split("\n")


def find_line(screen, pattern):
    for line in lines_of(screen):
        if re.search(pattern, line):
            return line
    return None


def column_of(heading, pid):
    """Where pid's column starts in the map's heading line, or -1."""
    m = re.search(r"\|%d\b" % pid, heading or "")
    return m.start() + 1 if m else -1


# --------------------------------------------------------------------------
# The truth
# --------------------------------------------------------------------------

def wait_zone(path, launcher, workers, timeout=10.0):
    """The anon zone and its attachments (master and workers) once all
    are attached, from `map --json`."""
    end = time.time() + timeout
    while time.time() < end:
        if trace_started(path):
            m = map_json(path)
            for s in m.get("segments", []):
                if s.get("kind") == "anon" and len(s.get("attachments", [])) == workers + 1:
                    procs = {p["pid"]: p for p in m.get("processes", [])}
                    master = [p for p in procs.values() if p.get("ppid") == launcher]
                    return s, master[0]["pid"] if master else None
        if launcher_done(launcher):
            break
        time.sleep(0.1)
    raise Fatal("the zone and %d workers never showed in map --json" % workers)


_LAUNCHED = {}


def launcher_done(pid):
    p = _LAUNCHED.get(pid)
    return p is None or p.poll() is not None


def launch(path, *argv):
    """build/shmtrace -o path -- argv, in the background."""
    need(LAUNCHER)
    p = subprocess.Popen([LAUNCHER, "-q", "-o", path, "--"] + list(argv),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    _LAUNCHED[p.pid] = p
    return p


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def check_map_cells(screen, zone, pids, name):
    """Each pid's column shows the zone's address in the anon row."""
    heading = find_line(screen, r"STATE\s+KIND\s+IDENTITY")
    row = find_line(screen, r"^ live\s+anon\s")
    addr = {a["pid"]: a["addr"] for a in zone["attachments"]}
    for pid in pids:
        x = column_of(heading, pid)
        cell = row[x:x + 20] if row and x >= 0 else None
        check(cell is not None and cell.split()[:2] == [addr.get(pid), "rw"],
              "%s: pid %d's column shows the zone at %s rw" % (name, pid, addr.get(pid)),
              "heading %r row %r" % (heading, row))



def close_all():
    """Kill every tmux server and every launcher started: main()'s cleanup."""
    for pane in PANES:
        pane.close()
    for p in _LAUNCHED.values():
        stop(p)
