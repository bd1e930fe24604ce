# Not being let look is not seeing nothing. A daemon that drops to a user
# but keeps a capability (named) hides what its fds are from that same
# user (readlink of /proc/PID/fd/N: EACCES); one made non-dumpable hides
# /proc/PID/fd itself. The viewer, run as that user, can read the trace
# but not the kernel's view: show says each socket is "unknown (no
# access)", not closed; ps says so; --verify exits 3 with one line, never
# 0 with "agree". Run as root, --verify checks as it always does. Held
# against ss -p (the sockets are open) and the programs' own fds.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
    skip "running programs as another uid, one keeping a capability, needs root"; done_testing; exit
fi
share_with_user 65534
# the user's own trace directory: the viewer may read the files in it
UD=$T/nobody-traces
mkdir -m 700 "$UD" && chown 65534:65534 "$UD"
cat >"$T/hold.py" <<'PY'
import ctypes, os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
for f in (s, c, a):
    print("SOCK pid=%d fd=%d local=%s:%d peer=%s end" % ((os.getpid(), f.fileno()) + f.getsockname() +
          ("%s:%d" % f.getpeername() if f is not s else "-",)), flush=True)
if sys.argv[1] == "nodump":
    PR_SET_DUMPABLE = 4
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_DUMPABLE): %s" % os.strerror(ctypes.get_errno()))
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
chmod a+r "$T/hold.py"
user_st() { "${AS_USER[@]}" env SOCKTRACE_DIR="$UD" "$SOCKTRACE" "$@"; }
root_st() { env SOCKTRACE_DIR="$UD" "$SOCKTRACE" "$@"; }

# cap: as uid 65534 with CAP_NET_BIND_SERVICE kept (ambient), as named
# keeps its own; nodump: as uid 65534, made non-dumpable
for kind in cap nodump; do
    if [ $kind = cap ]; then
        run_as=("${AS_USER[@]}" --inh-caps=+net_bind_service --ambient-caps=+net_bind_service)
    else
        run_as=("${AS_USER[@]}")
    fi
    start $kind --traced "${run_as[@]}" env SOCKTRACE_DIR="$UD" python3 "$T/hold.py" $kind ||
        { done_testing; exit 1; }
    pid=$(ready_pid $kind)
    fds=$(own_view $kind | awk '{print $1}' | tr '\n' ' ')
    check "$kind: the program runs as uid 65534, traced in the user's directory" "65534 1" \
        "$(stat -c %u "/proc/$pid") $(ls "$UD"/"$pid"-*.trace 2>/dev/null | wc -l)"
    check "$kind: its three sockets are open (ss -p, as root)" "$(own_view $kind)" "$(kernel_view "$pid")"
    check "$kind: uid 65534 may not see what its fds are" "denied" \
        "$("${AS_USER[@]}" readlink "/proc/$pid/fd/${fds%% *}" >/dev/null 2>&1 && echo readable || echo denied)"

    check "$kind: show --json: every socket unknown for want of access, none closed" \
        "$(own_view $kind | awk '{print $1, $2, $3, "unknown no_access None"}')" \
        "$(user_st show "$pid" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in sorted(d["sockets"], key=lambda s: s["fd"]):
    print(s["fd"], s["local"] or "-", s["peer"] or "-", s["state"], s.get("unknown_why"), s["closed"])
')"
    check "$kind: show --json: the process is running, no_access" "running True" \
        "$(user_st show "$pid" --json | python3 -c '
import json, sys; d = json.load(sys.stdin); print(d["state"], d.get("no_access"))')"
    check "$kind: show: each row says unknown (no access)" "3 0" \
        "$(user_st show "$pid" | grep -c 'unknown (no access)') $(user_st show "$pid" | grep -c 'closed')"
    check_cmd "$kind: show: the header says which are unknown and why" \
        grep -q "running, 0 open, 3 unknown: no access to /proc/$pid/fd" <(user_st show "$pid")
    check "$kind: ps --json: open unknown (null), no_access" "running None True" \
        "$(user_st ps --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["pid"] == int(sys.argv[1]): print(p["state"], p["open"], p.get("no_access"))' "$pid")"
    check "$kind: ps: OPEN says no access" "no access" \
        "$(user_st ps | awk -v p="$pid" '$1 == p {print $5, $6}')"
    if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
        for verb in show ps; do
            if [ $verb = show ]; then user_st show "$pid" --json; else user_st ps --json; fi >"$T/$verb.json"
            check_cmd "$kind: $verb --json with no access validates against the schema" \
                /usr/bin/python3 "$ROOT/tests/helpers/json_schema_check.py" \
                "$ROOT/docs/socktrace.schema.json" $verb "$T/$verb.json"
        done
    else
        skip "python3-jsonschema is not installed: the schema is not checked"
    fi
    for j in "" --json; do
        check "$kind: --verify ${j:-(text)}: exit status 3, nothing on stdout" "3 0" \
            "$(status user_st show "$pid" --verify $j) $(wc -c <"$T/out")"
        check "$kind: --verify ${j:-(text)}: one line naming the reason" \
            "socktrace: pid $pid: not verified: no access to /proc/$pid/fd (the process runs as another user, kept a capability or is not dumpable); run as root" \
            "$(cat "$T/err")"
    done
    check "$kind: as root, --verify checks: agree on all 3, exit 0" \
        "0 pid $pid: the trace and the kernel agree on all 3 sockets" \
        "$(status root_st show "$pid" --verify) $(head -1 "$T/out")"
    check "$kind: as root, show (exit 0) says open, not unknown" "0 0" \
        "$(root_st show "$pid" >"$T/show.txt"; echo $?) $(grep -c unknown "$T/show.txt")"
    finish $kind
done
done_testing
