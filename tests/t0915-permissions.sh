# Permissions (issue 14): root reads every user's trace directory, so a
# process traced as nobody (uid 65534, in /tmp/socktrace-65534) is found by
# show, ps and ports without naming a directory; a directory the viewer
# may not read is an error. Held against ss and the program's own view.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
    skip "running a program as another uid needs root"; done_testing; exit
fi
ud=/tmp/socktrace-65534
if [ -e "$ud" ] && [ "$(stat -c %u "$ud")" != 65534 ]; then
    skip "$ud exists and belongs to uid $(stat -c %u "$ud")"; done_testing; exit
fi
share_with_user 65534
# as root, with the default directories (no SOCKTRACE_DIR, no XDG_RUNTIME_DIR)
as_root() { env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR "$SOCKTRACE" "$@"; }
cat >"$T/listen.py" <<'PY'
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
for f in (s, c, a):
    print("SOCK pid=%d fd=%d local=%s:%d peer=%s end" % ((os.getpid(), f.fileno()) + f.getsockname() +
          ("%s:%d" % f.getpeername() if f is not s else "-",)), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
chmod a+r "$T/listen.py"
start u --traced "${AS_USER[@]}" env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR python3 "$T/listen.py"
upid=$(ready_pid u)
check "the program runs as uid 65534" "65534" "$(stat -c %u "/proc/$upid")"
check "  ... and is traced in its own directory" "1" "$(ls "$ud"/"$upid"-*.trace 2>/dev/null | wc -l)"
view() { python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["source"])
for s in sorted(d["sockets"], key=lambda s: s["fd"]): print(s["fd"], s["local"] or "-", s["peer"] or "-")'; }
check "root: show PID finds the trace, the sockets as the kernel has them" \
    "trace
$(kernel_view "$upid")" "$(as_root show "$upid" --json | view)"
check "  ... and as the program has them" "$(own_view u)" "$(as_root show "$upid" --json | view | tail -n +2)"
check "  ... also with SOCKTRACE_DIR naming root's own directory (the owner's is searched)" \
    "trace" "$("$SOCKTRACE" show "$upid" --json | view | sed -n 1p)"
check "root: ps lists it" "1" "$(as_root ps --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
procs = d["processes"] if isinstance(d, dict) else d
print(sum(1 for p in procs if p["pid"] == '"$upid"'))')"
lport=$(own_view u | awk 'NR==1 {print $2}' | sed 's/.*://')
check "root: ports lists its listener with the pid ss gives" \
    "$(ss -H -n -l -t -p "sport = :$lport" | grep -o 'pid=[0-9]*' | sed 's/pid=//')" \
    "$(as_root ports --json "sport = :$lport" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["ports"]: print(p["process"]["pid"])')"
check "root: show -c python3 with a filter finds it" "$upid" \
    "$(as_root show -c python3 "sport = :$lport" --json | python3 -c '
import json, sys
for l in sys.stdin: print(json.loads(l)["pid"])')"
check "root: -d naming the user's directory" "trace" "$(as_root show "$upid" -d "$ud" --json | view | sed -n 1p)"
# uid 65534 may not read root's 0700 directory: an error, not an empty list
check "a directory the viewer may not read: exit 1" "1" \
    "$(status "${AS_USER[@]}" "$SOCKTRACE" -d "$SOCKTRACE_DIR" ps)"
check "  ... in one line naming it" "1" "$(wc -l <"$T/err")"
check_cmd "  ... saying why" grep -q "^socktrace: trace directory $SOCKTRACE_DIR: Permission denied" "$T/err"
finish u
rm -f "$ud"/"$upid"-*.trace
done_testing
