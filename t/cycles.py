"""make lint: fails on a cycle between the files of master/.

Builds two file-level graphs of master/ and prints them:

  include  a.c -> b   when a.c or a.h includes master/b.h
  call     a -> b     when a.c calls a function that b.c defines

A file is its .c and .h together (module b = b.c + b.h). A cycle in
either graph (a -> ... -> a) is printed and the script exits 1; policy
that must reach back registers a function instead of calling it.

Plain regex over the sources, comments and strings removed: the style
puts a definition's name at the start of its line, its type on the line
before, so "^name(" in a .c file is a definition (a static one when the
line before says so, private to its file) and "name(" elsewhere a call."""
import glob
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(TOP, "master")

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
INCLUDE = re.compile(r'^\s*#\s*include\s+"master/(\w+)\.h"', re.M)
DEFINE = re.compile(r"^(\w+)\(", re.M)
EXTERN = re.compile(r"^(?!static\b)[^\n#]*\n(\w+)\(", re.M)
CALL = re.compile(r"\b(\w+)\s*\(")


def strip(text):
    return STRING.sub('""', COMMENT.sub(" ", text))


def read(path):
    with open(path) as f:
        return f.read()


def modules():
    """{module: {"c": text or "", "h": text or ""}} for master/."""
    mods = {}
    for path in sorted(glob.glob(os.path.join(DIR, "*.[ch]"))):
        name, ext = os.path.splitext(os.path.basename(path))
        mods.setdefault(name, {"c": "", "h": ""})[ext[1:]] = read(path)
    return mods


def include_graph(mods):
    g = {}
    for name, m in mods.items():
        deps = set(INCLUDE.findall(m["c"] + m["h"])) - {name}
        g[name] = sorted(d for d in deps if d in mods)
    return g


def call_graph(mods):
    owner = {}
    for name, m in mods.items():
        for fn in EXTERN.findall(strip(m["c"])):
            owner.setdefault(fn, name)
    g = {}
    for name, m in mods.items():
        body = strip(m["c"])
        body = DEFINE.sub(" ", body)    # a definition is not a call
        called = {owner[f] for f in CALL.findall(body) if f in owner}
        g[name] = sorted(called - {name})
    return g


def cycles(g):
    """Every elementary cycle found by depth-first search, each once."""
    found, seen = [], set()

    def walk(start, node, path, on):
        for nxt in g.get(node, []):
            if nxt == start:
                cyc = path[:]
                key = frozenset(cyc)
                if key not in seen:
                    seen.add(key)
                    found.append(cyc + [start])
            elif nxt not in on and nxt > start:
                on.add(nxt)
                walk(start, nxt, path + [nxt], on)
                on.discard(nxt)

    for start in sorted(g):
        walk(start, start, [start], {start})
    return found


def show(title, g):
    print(f"{title} graph of master/ (file -> files it depends on):")
    for name in sorted(g):
        if g[name]:
            print(f"  {name} -> {' '.join(g[name])}")


def main():
    mods = modules()
    bad = 0
    for title, g in (("include", include_graph(mods)),
                     ("call", call_graph(mods))):
        show(title, g)
        for c in cycles(g):
            print(f"cycle ({title}): {' -> '.join(c)}")
            bad += 1
    if bad:
        print(f"cycles: {bad} cycle(s) in master/")
        return 1
    print("cycles: none in master/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
