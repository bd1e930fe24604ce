# Every way of starting a process keeps each process's table exact: vfork
# (the child closes and dup2s the parent's sockets before exec),
# posix_spawn with file actions, a daemon (fork twice, setsid, close every
# fd, dup2 onto 0-2), and a root process dropping to another uid.
. "$(dirname "$0")/lib.sh"

# same_views NAME PID WHO: the program's own view, the tracer's and ss agree
same_views() {
    local own; own=$(own_view "$1" "$2")
    check "$3: the table equals the program's own view" "$own" "$(tracer_view "$2")"
    check "$3:   ... and the kernel's (ss)" "$(kernel_view "$2")" "$(tracer_view "$2")"
}
kid_of() { said "$1" | sed -n 's/^KID //p'; }

start v --traced "$B/tests/spawner" vfork
wait_for v '^CHILD'
same_views v "$(ready_pid v)" "vfork parent (child closed one socket, dup2'd one)"
same_views v "$(kid_of v)" "vfork child after exec"
check "  ... the socket dup2'd onto fd 9 came in by exec" "inherited" "$(tracer_field "$(kid_of v)" 9 origin)"
finish v
check "vfork: exit status as untraced" "0" "$?"

start s --traced "$B/tests/spawner" spawn
wait_for s '^CHILD'
same_views s "$(ready_pid s)" "posix_spawn parent"
same_views s "$(kid_of s)" "posix_spawn child"
check "  ... the listener dup2'd onto fd 7 by the file actions" "inherited listening" \
    "$(tracer_field "$(kid_of s)" 7 origin) $(tracer_field "$(kid_of s)" 7 state)"
finish s

# the daemon's log is d.out, for wait_for and said (hang guard 60 s)
: >"$T/d.out"; : >"$T/d.err"
LD_PRELOAD="$PRELOAD" "$B/tests/spawner" daemon "$T/d.out" >"$T/d.first" 2>&1
check "daemon: the first process exits 0" "0" "$?"
wait_for d '^READY'
dpid=$(ready_pid d)
same_views d "$dpid" "the daemon (every fd closed, new sockets after)"
check "  ... its three sockets from before show closed" "3" \
    "$("$SOCKTRACE" show "$dpid" --all --json | python3 -c '
import json, sys
print(sum(1 for s in json.load(sys.stdin)["sockets"] if s["closed"] and s["close_seen"] == "close"))')"
check "  ... nothing printed but its own lines" "" "$(grep -v '^SOCK\|^READY' "$T/d.out")"
kill "$dpid"

if [ "$(id -u)" != 0 ]; then
    for _ in 1 2 3 4 5 6 7; do skip "dropping to another uid needs root"; done
else
    # uid 65534 runs the viewer: a copy it can run, wherever the checkout is
    share_with_user 65534
    start u --traced "$B/tests/spawner" setuid
    upid=$(ready_pid u); ukid=$(kid_of u)
    same_views u "$upid" "root dropped to uid 65534: sockets from before and after"
    check "  ... the child forked after the drop is not traced (root's directory)" \
        "kernel" "$("$SOCKTRACE" show "$ukid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["source"])')"
    check "  ... and unaffected: its sockets as the kernel has them" "$(kernel_view "$ukid")" \
        "$(own_view u "$ukid")"
    check "  ... with one warning line at most" "1" "$(grep -c socktrace "$T/u.err")"
    finish u
    check "  ... the exit status is the untraced one" "0" "$?"
    # without SOCKTRACE_DIR each user has a directory of their own
    (cd / && env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$PRELOAD" \
        "$B/tests/spawner" setuid </dev/null >"$T/u2.out" 2>"$T/u2.err")
    kid=$(kid_of u2)
    check "a uid dropped, no SOCKTRACE_DIR: the child is traced in its new user's directory" \
        "$(own_view u2 "$kid")" "$("${AS_USER[@]}" env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR "$SOCKTRACE" show "$kid" --json | python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"]):
    print(s["fd"], s["local"] or "-", s["peer"] or "-")')"
    rm -f /tmp/socktrace-65534/"$kid"-*.trace /tmp/socktrace-0/"$(ready_pid u2)"-*.trace
fi
done_testing
