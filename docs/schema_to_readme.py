# docs/schema_to_readme.py - prints README.md's "JSON schema" section from
# docs/socktrace.schema.json, so the two cannot drift apart: after a change
# to the schema, paste its output over the section (tests/t0900 checks
# that both name the same fields).
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sc = json.load(open(os.path.join(here, "socktrace.schema.json")))
D = sc["$defs"]


def typ(p):
    if "$ref" in p:
        r = p["$ref"].split("/")
        if r[-2] == "properties":
            return typ(D[r[2]]["properties"][r[-1]])
        return "<" + r[-1] + ">"
    if "const" in p:
        return json.dumps(p["const"])
    if "enum" in p:
        return " | ".join(json.dumps(v) for v in p["enum"])
    if "anyOf" in p:
        return " | ".join(typ(x) for x in p["anyOf"])
    t = p.get("type")
    if t == "array":
        return "[" + typ(p["items"]) + ", ...]"
    if t == "object" and isinstance(p.get("additionalProperties"), dict):
        return '{"<name>": integer, ...}'
    if t == "object":
        return "{...}"
    if isinstance(t, list):
        return " | ".join(t)
    if "pattern" in p:
        return "<ISO-8601>" if "T" in p["pattern"] else '"E..."'
    return t or "?"


def fields(o, indent, out, skip=()):
    req = set(o.get("required", []))
    for k, p in o["properties"].items():
        if k in skip:
            continue
        d = p.get("description", "")
        if k not in req:
            d = "only some: " + d
        inner = p.get("items") if p.get("type") == "array" else None
        if inner and inner.get("type") == "object" and "properties" in inner:
            out.append(f'{indent}"{k}": [ {{' + (f"  // {d}" if d else ""))
            fields(inner, indent + "    ", out, skip=[x for x in D["process"]["properties"]
                                                      if x in inner["properties"]])
            out.append(f"{indent}}}, ... ]")
        elif p.get("type") == "object" and "properties" in p:
            out.append(f'{indent}"{k}": {{' + (f"  // {d}" if d else ""))
            fields(p, indent + "    ", out)
            out.append(f"{indent}}}")
        else:
            out.append(f'{indent}"{k}": {typ(p)}' + (f"  // {d}" if d else ""))


kinds = [
    ("process", "A **process** (`<process>`), the same in `show`, `ps`, `run`, `ports` and `export`:"),
    ("socket", "A **socket** (`<socket>`), the same in `show`, `run`, `ports`, `export` and `--verify`:"),
    ("event", "An **event**, one line of `events --json`:"),
    ("kernel_socket", "A **kernel socket** (`<kernel_socket>`): `show` of an untraced process, `--verify`:"),
    ("port", "A **port** (`<port>`) of `ports --json`:"),
    ("destination", "A **destination** (`<destination>`) of a process's outgoing connections:"),
    ("ephemeral", "A process's **ephemeral** ports (`<ephemeral>`):"),
    ("show", "`show PID --json`: the process's fields (above), then:"),
    ("show_kernel", "`show PID --json` of a process with no trace file:"),
    ("verify", "`show PID --verify --json`:"),
    ("ps", "`ps --json` (each entry a process's fields, then):"),
    ("ports", "`ports --json`:"),
    ("run", "`run --json` (each entry a process's fields, then):"),
    ("export", "`export`, one line per socket:"),
]
out = []
for name, title in kinds:
    o = D[name]
    out.append(title)
    out.append("```")
    skip = [k for k in D["process"]["properties"] if name in ("show",) and k in o["properties"]]
    fields(o, "", out, skip)
    out.append("```")
    out.append("")
sys.stdout.write("\n".join(out))
