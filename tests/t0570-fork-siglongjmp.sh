# The two ways issue 12 found to leave the tracer's lock held for good:
# 4 threads forking at once (50 forks each; every child binds a UDP
# socket to 127.0.0.1 port 0 and reports the port the kernel gave it),
# and a SIGALRM handler that siglongjmps out of hooks 100,000 times (the
# connect-timeout idiom). Every child that touched a socket is traced
# with that port; after each part, a socket+close takes microseconds in
# every thread (main and 3 new ones: median of 100 pairs under 200 us; a
# stuck lock costs its 20 ms bound per call).
. "$(dirname "$0")/lib.sh"
FORKS=${FJ_FORKS:-50}
JUMPS=${FJ_JUMPS:-100000}
# start's own wait (10 s) is too short for 100,000 jumps on a slow
# machine: the same steps, then up to 60 s for READY
mkfifo "$T/fj.in"
run_bg fj "$PRELOAD" "$T/fj.in" timeout 120 "$B/tests/forkjmp" "$FORKS" "$JUMPS"
exec {fjin}>"$T/fj.in"
IN_FD[fj]=$fjin
for _ in $(seq 600); do
    grep -q '^READY' "$T/fj.out" && break
    kill -0 "${PIDS[fj]}" 2>/dev/null || break
    sleep 0.1
done
pid=$(said fj | sed -n 's/^READY pid=//p')
if [ -z "$pid" ]; then not_ok "the program did not get to READY"; done_testing; exit 1; fi
check "all $((4 * FORKS)) forks made (within 20 s)" "FORKS $((4 * FORKS))" "$(said fj | grep '^FORKS')"
check "every child reported its port" "$((4 * FORKS))" "$(said fj | grep -c '^CHILD')"

# each child's trace: a socket with the port the kernel gave the child
said fj | sed -n 's/^CHILD pid=\([0-9]*\) port=\([0-9]*\)/\1 \2/p' >"$T/children"
python3 - "$SOCKTRACE" "$T/children" >"$T/untraced" <<'PY'
import json, subprocess, sys
viewer, path = sys.argv[1], sys.argv[2]
for line in open(path):
    pid, port = line.split()
    r = subprocess.run([viewer, "show", pid, "--all", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(pid, "no trace:", r.stderr.strip()); continue
    d = json.loads(r.stdout)
    if not any(s["local"] == "127.0.0.1:" + port for s in d["sockets"]):
        print(pid, "no socket at 127.0.0.1:" + port, [s["local"] for s in d["sockets"]])
PY
check "every forked child is traced, with the port it was given" "" "$(head -5 "$T/untraced")"
[ -s "$T/untraced" ] && echo "#   ($(wc -l <"$T/untraced") of $(wc -l <"$T/children") children)"

check "the handler jumped out $JUMPS times (within 20 s)" "JUMPS $JUMPS" "$(said fj | grep '^JUMPS')"
for after in fork jump; do
    for th in 0 1 2 3; do
        read -r med max < <(said fj | sed -n "s/^TIMING after=$after thread=$th median_us=\([0-9.]*\) max_us=\([0-9.]*\)/\1 \2/p")
        check "after the ${after}s, thread $th: socket+close median under 200 us (${med:-?} us, max ${max:-?})" \
            yes "$(awk -v m="${med:-1e9}" 'BEGIN {print (m < 200) ? "yes" : "no"}')"
    done
done
check "the main thread's trace still reads after it all" 0 "$(status "$SOCKTRACE" show "$pid" --json)"
finish fj
check "exited cleanly (no sanitizer report)" "" \
    "$(grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error' "$T/fj.err")"
done_testing
