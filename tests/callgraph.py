#!/usr/bin/env python3
# tests/callgraph.py - the file-level call graph of a set of C files, from
# gcc's -fcallgraph-info output (one .ci file per translation unit).
# Prints "a.c -> b.c (fn, ...)" per edge; exits 1 when files call in a loop.
import re
import sys

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*"( shape)?')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def load(paths):
    home = {}       # function -> the .c files that define it (a node without
    calls = []      # a shape has its body in that unit); (caller's file, callee)
    for path in paths:
        text = open(path).read()
        unit = re.search(r'graph: \{ title: "([^"]+)"', text).group(1)
        for name, ext in NODE.findall(text):
            if not ext:
                home.setdefault(name, set()).add(unit)
        calls += [(unit, callee) for _, callee in EDGE.findall(text)]
    return home, calls


def cycles(edges):
    """Strongly connected sets of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    nodes = sorted({a for a, _ in edges} | {b for _, b in edges})

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for a, b in edges:
            if a != v:
                continue
            if b not in index:
                visit(b)
                low[v] = min(low[v], low[b])
            elif b in on:
                low[v] = min(low[v], index[b])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main(paths):
    if not paths:
        sys.exit("usage: callgraph.py FILE.ci...")
    home, calls = load(paths)
    edges = {}
    for unit, callee in calls:
        # defined in more than one other unit: a static in each of them,
        # so not what this unit calls
        where = home.get(callee, set())
        if unit in where or len(where) != 1:
            continue
        edges.setdefault((unit, next(iter(where))), set()).add(callee)
    for (a, b), fns in sorted(edges.items()):
        print(f"{a} -> {b} ({', '.join(sorted(fns))})")
    loops = cycles(set(edges))
    for group in loops:
        print("cycle: " + " ".join(group))
    sys.exit(1 if loops else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
