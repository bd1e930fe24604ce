# A writer stopped in the middle of a record (SOCKTRACE_TEST_STALL=FD:MS:PATH,
# the preload's test-only delay: the thread sleeps after it reserved its
# slot and built its record, before publishing either, while PATH exists)
# holds up nobody: thread A's dup2 onto fd 100 stays stalled until the
# test lets it go, and threads B and C run their 1,000 socket+bind+close
# cycles each to the end meanwhile. The viewer, during the stall, reads
# the file and shows fd 100 as it was (port P1) or as published (P2),
# nothing else; afterwards the table equals the kernel's view.
. "$(dirname "$0")/lib.sh"
# the stall ends when the test removes $T/hold; 120 s is the hang guard
export SOCKTRACE_TEST_STALL=100:120000:$T/hold
mkfifo "$T/st.in"
run_bg st "$PRELOAD" "$T/st.in" "$B/tests/stall" 1000
exec {stin}>"$T/st.in"
IN_FD[st]=$stin
pid=${PIDS[st]}
wait_line() { # PATTERN SECONDS
    for _ in $(seq $(($2 * 20))); do
        grep -q "$1" "$T/st.out" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
if ! wait_line '^STALLING' 30; then not_ok "the program did not get to its stall"; said st | sed 's/^/#   /'; done_testing; exit 1; fi
read -r p1 p2 < <(sed -n 's/^STALLING P1=\([0-9]*\) P2=\([0-9]*\)/\1 \2/p' "$T/st.out")

# fd 100 as the viewer shows it, twice during the stall
during() { # N
    local rc
    "$SOCKTRACE" show "$pid" --json >"$T/during$1.json" 2>"$T/during$1.err"
    rc=$?
    check "during the stall ($1): show reads the file (exit 0)" 0 "$rc"
    check "during the stall ($1): fd 100 is the old socket (port $p1) or the new one ($p2), whole" yes \
        "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["sockets"] if x["fd"] == 100]
ok = len(s) == 1 and s[0]["family"] == "inet" and s[0]["proto"] == "udp" and \
     s[0]["state"] == "bound" and s[0]["peer"] is None and \
     s[0]["local"] in ("127.0.0.1:" + sys.argv[2], "127.0.0.1:" + sys.argv[3])
print("yes" if ok else "no: %s" % s)' "$T/during$1.json" "$p1" "$p2")"
}
if ! wait_line '^A_ASLEEP' 60; then not_ok "A did not get into its stall"; said st | sed 's/^/#   /'; done_testing; exit 1; fi
during 1
# B and C run to the end while A is held (a writer that waited for A
# would wait for the hang guard, and A_DONE would come first)
wait_line '^B_DONE' 60 && wait_line '^C_DONE' 60
check "B and C each ran their 1,000 cycles while A was stalled" \
    "B_DONE cycles=1000 C_DONE cycles=1000 A_DONE lines: 0" \
    "$(echo $(grep -h '^[BC]_DONE' "$T/st.out" | sort)) A_DONE lines: $(grep -c '^A_DONE' "$T/st.out")"
during 2
check "  ... and A was still inside its dup2 after both looks" 0 "$(grep -c '^A_DONE' "$T/st.out")"
rm -f "$T/hold"
if ! wait_line '^READY' 60; then not_ok "the program did not get to READY"; said st | sed 's/^/#   /'; done_testing; exit 1; fi
check "A's dup2 returned once the stall was let go" 1 "$(grep -c '^A_DONE' "$T/st.out")"
check "the table's fd 100 equals the kernel's after A's dup2" "100 127.0.0.1:$p2 -" "$(kernel_view "$pid" 100)"
check "  ... (tracer)" "100 127.0.0.1:$p2 -" "$(tracer_view "$pid" 100)"
check "the open table has exactly the socket fds of /proc/PID/fd" \
    "$(find /proc/"$pid"/fd -lname 'socket:*' -printf '%f\n' | sort -n | tr '\n' ' ')" \
    "$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"]) if s["state"] != "closed"), end=" ")')"
check "nothing dropped" 0 "$("$SOCKTRACE" show "$pid" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["dropped"])')"
finish st
check "exited cleanly (no sanitizer report)" "" \
    "$(grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error' "$T/st.err")"
done_testing
