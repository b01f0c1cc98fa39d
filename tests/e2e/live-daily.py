#!/usr/bin/env python3
"""End-to-end tests of `shmview live` as a daily tool: NO_COLOR and
--color, a clean layout at 80x24, stepping through the time of a finished
trace with [ and ] (the map then is `map --at`'s), a filter that replaces
the last one, and singulars.

How to run it and read its output: tests/e2e/harness.py (and
harness_live.py for the tmux panes).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
import harness_live  # noqa: E402
from harness import check, map_json, traced, viewer_text, VIEWER  # noqa: E402
from harness_live import Pane, find_line, lines_of, live_cmd  # noqa: E402

TESTS, test = harness.registry()

SGR_COLOR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)[0-9;]*m")


def finished_nginx(label):
    return traced("nginx-zone", "sysv", "2", label=label)


@test("live-color")
def t_color():
    t = finished_nginx("live-color")
    for env, opt, want in (("", "", True), ("NO_COLOR=1 ", "", False),
                           ("NO_COLOR=1 ", "--color=always", True),
                           ("", "--color=never", False)):
        pane = Pane("color", env + live_cmd(t.path, *([opt] if opt else [])))
        try:
            pane.wait_for(lambda s: "IDENTITY" in s, "the map")
            raw = pane.tmux("capture-pane", "-p", "-e").out.decode(errors="replace")
            check(bool(SGR_COLOR.search(raw)) == want, "live %s%s: %s" %
                  (env, opt or "(default)", "in color" if want else "no color at all"),
                  repr(raw[:300]))
            check(re.search(r"\x1b\[[0-9;]*7[0-9;]*m", raw) is not None or want,
                  "live %s%s: without color the bars are in reverse video" % (env, opt),
                  repr(raw[:300]))
            pane.quit("live %s%s: q quits" % (env, opt))
        finally:
            pane.close()
    res = harness.run([VIEWER, "live", "--color=sometimes", t.path])
    check(res.rc == 2 and len(res.err.splitlines()) == 1 and b"--color" in res.err,
          "live --color=sometimes: one line, exit 2", res.why())


HINTS = {"q quit", "? help", "Enter details", "[ ] time", "Tab tree", "Tab map",
         "p process", "/ search", "a:all"}


@test("live-80x24")
def t_small():
    t = finished_nginx("live-80x24")
    pane = Pane("small", live_cmd(t.path), x=80, y=24)
    try:
        s = pane.wait_for(lambda s: "IDENTITY" in s and "row " in s, "the map at 80x24")
        head = lines_of(s)[0].rstrip()
        fields = re.split(r"\s{2,}", head.strip())
        known = [r"shmview live", r"\S+\.trace", r"(finished|running|stopped) [\d.]+s",
                 r"segments \d+ live, \d+ pending, \d+ leaked, \d+ removed",
                 r"\d+ live \d+ pend \d+ leak \d+ rm", r"processes \d+/\d+ alive",
                 r"events \d+", r"dropped \d+"]
        check(len(head) <= 80 and all(any(re.fullmatch(k, f) for k in known) for f in fields),
              "live at 80x24: the header holds whole fields only", repr(head))
        bottom = lines_of(s)[23]
        m = re.match(r"^(.*?)\s+(row \d+/\d+ col \d+/\d+)\s*$", bottom)
        items = [i.strip() for i in re.split(r"\s{2,}", m.group(1).strip())] if m else None
        check(m and all(i in HINTS or re.fullmatch(r"(s sort|f filter)(:\S*)?", i)
                        or re.fullmatch(r"/dev/shm \S+( \d+%)?( FULL)?", i) for i in items),
              "live at 80x24: the status line holds whole hints (and /dev/shm), then the position",
              repr(bottom))
        pane.quit("live at 80x24: q quits")
    finally:
        pane.close()


def header_at(s):
    m = re.search(r" at \+(\d+)\.(\d{9})s ", lines_of(s)[0])
    return int(m.group(1)) * 10**9 + int(m.group(2)) if m else None


@test("live-time")
def t_time():
    t = finished_nginx("live-time")
    pane = Pane("time", live_cmd(t.path))
    try:
        s = pane.wait_for(lambda s: "finished" in lines_of(s)[0], "the finished trace")
        check("no segment exists now" in s and "[ and ] step through time" in s,
              "live-time: a finished trace says [ and ] step through time", s[:600])
        seen, at = 0, None
        for _ in range(40):         # back, event by event, until the zone shows
            before = header_at(pane.screen())
            pane.keys("[")
            s = pane.wait_for(lambda s: header_at(s) is not None and header_at(s) != before,
                              "the header's moment to move back")
            at = header_at(s)
            if find_line(s, r"^ pending\s+sysv\s"):
                seen += 1
                break
        check(seen and at is not None, "live-time: [ goes back to when the zone was there",
              s[:800])
        if at is not None:
            m = map_json(t.path, "--at", "%dns" % at)
            row = find_line(s, r"^ pending\s+sysv\s")
            att = int(row.split("|")[0].split()[-1]) if row else None
            want = [len(x["attachments"]) for x in m["segments"]]
            check(want == [att], "live-time: the map then is map --at's (%s attached)" % want,
                  "live %r, map --at %r" % (row, want))
        for _ in range(60):         # forward, past the last event: now
            if "finished" in lines_of(pane.screen())[0]:
                break
            before = pane.screen()
            pane.keys("]")
            pane.settle(lambda s: s != before, timeout=3)
        check("finished" in lines_of(pane.screen())[0] and header_at(pane.screen()) is None,
              "live-time: ] past the last event comes back to the end", pane.screen()[:300])

        pid = t.main_pid()
        pane.keys("f")
        pane.keys(str(pid), literal=True)
        pane.keys("Enter")
        pane.wait_for(lambda s: "filter:%d" % pid in s, "the first filter")
        pane.keys("f")
        pane.keys("sysv", literal=True)
        pane.keys("Enter")
        s = pane.wait_for(lambda s: "filter:" in s and "filter:%d" % pid not in s,
                          "the second filter")
        check("filter:sysv" in s, "live: a second f replaces the filter, not appends",
              lines_of(s)[-1])
        pane.quit("live-time: q quits")
    finally:
        pane.close()


@test("singulars")
def t_singulars():
    t = traced("sysv-server", "--remove", label="singular")
    text = viewer_text(["map", t.path])
    check(re.search(r"\b0 of 1 process alive\b", text), "map: \"1 process\", not \"1 processes\"",
          text[:300])
    pane = Pane("singular", live_cmd(t.path))
    try:
        pane.wait_for(lambda s: "IDENTITY" in s, "the map")
        pane.keys("a")
        pane.wait_for(lambda s: re.search(r"^ removed\s+sysv", s, re.M), "the removed row")
        pane.keys("Enter")
        s = pane.wait_for(lambda s: "in all" in s, "the detail")
        check("1 attachment in all" in s and "1 attachments" not in s,
              "live: \"1 attachment\", not \"1 attachments\"", s[:500])
        pane.quit("singulars: q quits")
    finally:
        pane.close()


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS,
                          harness.nothing_left("live-daily leaks: the tests left nothing behind"),
                          harness_live.close_all))
