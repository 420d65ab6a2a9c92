#!/usr/bin/env python3
"""tests/layering.py SOURCE_DIR OBJECT_DIR - the library's files form layers.

Fails (exit 1) when
  * headers include each other in a circle (include/wse/*.h, src/**/*.h,
    following #include "..." lines), or
  * source files call each other in a circle: file A calls B when A's object
    file needs a symbol that B's object file defines (read with nm from the
    library's objects under OBJECT_DIR);
and prints each circle found.  Also fails if include/wse/pe.h includes any
other header of the project.
"""
import os
import re
import subprocess
import sys


def strongly_connected(graph):
    """Tarjan's algorithm; returns the components with more than one node."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def include_graph(src):
    headers = {}
    for base in ("include", "src"):
        for root, _, files in os.walk(os.path.join(src, base)):
            for f in files:
                if f.endswith(".h"):
                    path = os.path.join(root, f)
                    headers[os.path.relpath(path, src)] = path
    by_name = {}
    for rel in headers:
        by_name[rel.split("include/", 1)[1] if rel.startswith("include/") else os.path.basename(rel)] = rel
    graph = {}
    for rel, path in headers.items():
        deps = set()
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if m and m.group(1) in by_name:
                    deps.add(by_name[m.group(1)])
        graph[rel] = deps
    return graph


def call_graph(objdir):
    objs = []
    for root, _, files in os.walk(objdir):
        objs += [os.path.join(root, f) for f in files if f.endswith(".o")]
    defined, needed = {}, {}
    for o in objs:
        name = os.path.basename(o)[:-2]          # heat2d.c.o -> heat2d.c
        text = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        needed[name] = set()
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                needed[name].add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = name
    return {f: {defined[s] for s in syms if s in defined and defined[s] != f}
            for f, syms in needed.items()}


def main():
    src, objdir = sys.argv[1], sys.argv[2]
    fails = 0
    inc = include_graph(src)
    for comp in strongly_connected(inc):
        print("FAIL: include cycle:", " <-> ".join(comp))
        fails += 1
    own = [d for d in inc.get("include/wse/pe.h", ())]
    if own:
        print("FAIL: wse/pe.h includes", ", ".join(own))
        fails += 1
    calls = call_graph(objdir)
    if len(calls) < 10:
        print("FAIL: found only %d object files under %s" % (len(calls), objdir))
        fails += 1
    for comp in strongly_connected(calls):
        print("FAIL: call cycle:", " <-> ".join(comp))
        fails += 1
    edges = sum(len(v) for v in calls.values())
    print("layering: %d headers, %d source files, %d call edges, %d failures"
          % (len(inc), len(calls), edges, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
