#!/usr/bin/env python3
"""Checks of the source tree's structure (docs/DESIGN.md, "The folders"):

- no circle among the object files of one program: a file that calls into
  another is never called back by it, directly or around a ring (read
  from the built objects' defined and undefined symbols, `nm -P`);
- include arrows run one way: viewer/core includes nothing of viewer/,
  shim/ and launcher/ nothing of viewer/, common/ nothing of the others;
- no code comment sends the reader outside the repository.

How to run it and read its output: tests/e2e/harness.py.
"""

import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the shared harness)
from harness import BUILD, ROOT, check  # noqa: E402

TESTS, test = harness.registry()

# The objects of each program, as the Makefile builds them.
PROGRAMS = {
    "shim": ["shim/*.o", "shim/common/*.o"],
    "launcher": ["launcher/*.o", "common/*.o"],
    "viewer": ["viewer/*.o", "viewer/core/*.o", "common/*.o"],
}


def symbols(obj):
    """(defined, undefined) global symbols of one object file."""
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        if parts[1] in "TDBRVW" and parts[1].isupper():
            defined.add(parts[0])
        elif parts[1] == "U":
            undefined.add(parts[0])
    return defined, undefined


def calls_between(objs):
    """{object: set of the other objects whose symbols it uses}."""
    owner, uses = {}, {}
    for o in objs:
        defined, uses[o] = symbols(o)
        for s in defined:
            owner[s] = o
    return {o: {owner[s] for s in u if s in owner and owner[s] != o}
            for o, u in uses.items()}


def circles(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(os.path.relpath(c, BUILD) for c in comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@test("structure-circles")
def t_circles():
    for prog, patterns in PROGRAMS.items():
        objs = sorted(o for p in patterns for o in glob.glob(os.path.join(BUILD, p)))
        if not check(len(objs) > 3, "structure: the %s's objects are built" % prog,
                     "%d objects under %s" % (len(objs), BUILD)):
            continue
        graph = calls_between(objs)
        check(any(graph.values()), "structure: the %s's objects call each other" % prog,
              "no call between objects was read: the check would be blind")
        found = circles(graph)
        check(not found, "structure: no circle among the %s's objects" % prog,
              "; ".join(" <-> ".join(c) for c in found))


def includes(path):
    with open(path, encoding="utf-8") as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)


def headers_of(folder):
    return {os.path.basename(h) for h in glob.glob(os.path.join(ROOT, folder, "*.h"))}


# folder -> the folders whose headers it must not include
FORBIDDEN = {
    "common": ["shim", "launcher", "viewer", "viewer/core"],
    "shim": ["launcher", "viewer", "viewer/core"],
    "launcher": ["shim", "viewer", "viewer/core"],
    "viewer/core": ["viewer", "shim", "launcher"],
}


@test("structure-includes")
def t_includes():
    for folder, banned in FORBIDDEN.items():
        names = set().union(*(headers_of(b) for b in banned)) - headers_of(folder)
        if folder != "viewer/core":
            names -= headers_of("common")
        bad = []
        sources = glob.glob(os.path.join(ROOT, folder, "*.[ch]"))
        for src in sources:
            bad += ["%s includes %s" % (os.path.relpath(src, ROOT), h)
                    for h in includes(src) if h in names]
        check(sources and not bad,
              "structure: %s includes nothing of %s" % (folder, ", ".join(banned)),
              "; ".join(bad) or "no source in " + folder)


@test("structure-pointers")
def t_pointers():
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True,
                         text=True, check=True).stdout.split()
    code = [f for f in out if re.search(r"\.(c|h|py|sh)$|^Makefile$", f)
            and f != "tests/e2e/structure.py"]
    bad = []
    for f in code:
        with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if "../shared" in line or "NOTES.md" in line:
                    bad.append("%s:%d" % (f, n))
    check(code and not bad, "structure: no comment points outside the repository "
          "(%d files)" % len(code), ", ".join(bad[:5]))


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, TESTS))
