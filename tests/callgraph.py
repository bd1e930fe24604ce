#!/usr/bin/env python3
# tests/callgraph.py - the file-level call graph of a set of C files, from
# gcc's -fcallgraph-info output (one .ci file per translation unit).
# Prints "a.c -> b.c (fn, ...)" per edge; exits 1 when files call in a loop.
# With --layers FILE (lines "NAME GLOB...", lowest layer first; "NAME!"
# for a layer whose files may not call each other, "NAME<A,B" for one
# that may call only layers A and B below it) also when a file calls one
# of a higher layer or of a layer it may not call, or is in no layer.
import fnmatch
import os
import re
import sys

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*"( shape)?')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def load(paths):
    home = {}       # function -> the .c files that define it (a node without
    calls = []      # a shape has its body in that unit); (caller's file, callee)
    units = []
    for path in paths:
        text = open(path).read()
        unit = re.search(r'graph: \{ title: "([^"]+)"', text).group(1)
        units.append(unit)
        for name, ext in NODE.findall(text):
            if not ext:
                home.setdefault(name, set()).add(unit)
        calls += [(unit, callee) for _, callee in EDGE.findall(text)]
    return home, calls, units


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


def read_layers(path):
    layers = []     # (rank, name, sealed, globs, below): below None is all
    for line in open(path):
        words = line.split('#')[0].split()
        if words:
            head, _, below = words[0].partition('<')
            name = head.rstrip('!')
            layers.append((len(layers), name, head.endswith('!'), words[1:],
                           set(below.split(',')) if below else None))
    return layers


def layer_of(layers, unit):
    for rank, name, sealed, globs, below in layers:
        if any(fnmatch.fnmatch(os.path.basename(unit), g) for g in globs):
            return rank, name, sealed, below
    return None


def layer_errors(layers, units, edges):
    out = []
    for u in sorted(units):
        if layer_of(layers, u) is None:
            out.append(f"layer: {u} is in no layer")
    for a, b in sorted(edges):
        la, lb = layer_of(layers, a), layer_of(layers, b)
        if la is None or lb is None:
            continue
        if lb[0] > la[0]:
            out.append(f"layer: {a} ({la[1]}) calls up into {b} ({lb[1]})")
        elif la == lb and la[2]:
            out.append(f"layer: {a} calls {b}, both {la[1]}, whose files call none of each other")
        elif lb[0] < la[0] and la[3] is not None and lb[1] not in la[3]:
            out.append(f"layer: {a} ({la[1]}) calls {b} ({lb[1]}), a layer it may not call")
    return out


def main(args):
    layers = None
    if args[:1] == ["--layers"] and len(args) > 1:
        layers = read_layers(args[1])
        args = args[2:]
    paths = args
    if not paths:
        sys.exit("usage: callgraph.py [--layers FILE] FILE.ci...")
    home, calls, units = load(paths)
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
    bad = []
    if layers is not None:
        bad = layer_errors(layers, units, edges)
        for line in bad:
            print(line)
    sys.exit(1 if loops or bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
