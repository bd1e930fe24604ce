# The two ways issue 12 found to leave the tracer's lock held for good:
# 4 threads forking at once (50 forks each; every child binds a UDP
# socket to 127.0.0.1 port 0 and reports the port the kernel gave it),
# and a SIGALRM handler that siglongjmps out of hooks 100,000 times (the
# connect-timeout idiom). Both run to their counts, however long that
# takes. Every child that touched a socket is traced with that port; after
# each part, a UDP socket bound to port 0 in every thread (main and 3 new
# ones) is in the trace with the port the kernel gave it: state left stuck
# by a fork or a jump would lose them. And a fork while another thread
# holds the loader's list lock leaves the child's first lookups free.
. "$(dirname "$0")/lib.sh"
FORKS=${FJ_FORKS:-50}
JUMPS=${FJ_JUMPS:-100000}
# start's own wait (10 s) is too short for 100,000 jumps on a slow
# machine: the same steps, then READY or the hang guard (300 s)
mkfifo "$T/fj.in"
run_bg fj "$PRELOAD" "$T/fj.in" timeout 300 "$B/tests/forkjmp" "$FORKS" "$JUMPS"
exec {fjin}>"$T/fj.in"
IN_FD[fj]=$fjin
for _ in $(seq 3000); do
    grep -q '^READY' "$T/fj.out" && break
    kill -0 "${PIDS[fj]}" 2>/dev/null || break
    sleep 0.1
done
pid=$(said fj | sed -n 's/^READY pid=//p')
if [ -z "$pid" ]; then not_ok "the program did not get to READY (hung, or died)"; said fj | tail -5 | sed 's/^/#   /'; done_testing; exit 1; fi
check "all $((4 * FORKS)) forks made" "FORKS $((4 * FORKS))" "$(said fj | grep '^FORKS')"
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

check "the handler jumped out $JUMPS times" "JUMPS $JUMPS" "$(said fj | grep '^JUMPS')"

# the probes: "after thread fd port" as the program saw them
said fj | sed -n 's/^PROBE after=\([a-z]*\) thread=\([0-9]*\) fd=\([0-9]*\) port=\([0-9]*\)$/\1 \2 \3 \4/p' >"$T/probes"
check "8 probes made, each bound (4 threads after each part)" 8 "$(wc -l <"$T/probes")"
"$SOCKTRACE" show "$pid" --all --json >"$T/all.json" 2>"$T/all.err" ||
    { not_ok "show --all failed: $(head -1 "$T/all.err")"; }
for after in fork jump; do
    for th in 0 1 2 3; do
        read -r fd port < <(awk -v a=$after -v t=$th '$1 == a && $2 == t {print $3, $4}' "$T/probes")
        check "after the ${after}s, thread $th's socket is traced at its port (fd ${fd:-?}, 127.0.0.1:${port:-?})" yes \
            "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); fd, port = int(sys.argv[2]), sys.argv[3]
s = [x for x in d["sockets"] if x["fd"] == fd and x["local"] == "127.0.0.1:" + port and x["closed"] is None]
print("yes" if len(s) == 1 else "no: %d matching" % len(s))' "$T/all.json" "${fd:--1}" "${port:-0}")"
    done
done
check "the 8 probes in the kernel's view are the ports the program saw" \
    "$(awk '{print $3, "127.0.0.1:" $4, "-"}' "$T/probes" | sort -n)" \
    "$(kernel_view "$pid" "$(awk '{print $3}' "$T/probes" | tr '\n' ' ')")"
check "the main thread's trace still reads after it all" 0 "$(status "$SOCKTRACE" show "$pid" --json)"
finish fj
check "exited cleanly (no sanitizer report)" "" \
    "$(grep -E 'ERROR: (Address|Undefined)Sanitizer|runtime error' "$T/fj.err")"

# A fork while another thread is inside dl_iterate_phdr (an unwinder's
# way), whose lock fork does not reset: the child's first socket, bind and
# getsockname (each the tracer's first use of the real function) return,
# and its trace has the socket at the port the kernel gave it.
out=$(LD_PRELOAD="$PRELOAD" timeout 60 "$B/tests/forklistlock" 2>&1)
rc=$?
check "a child forked while the loader's list was locked ran to its end" "0" "$rc"
read -r cpid cfd clocal < <(sed -n 's/^SOCK pid=\([0-9]*\) fd=\([0-9]*\) local=\(.*\)/\1 \2 \3/p' <<<"$out")
check "  ... and said its socket" "yes" "$([ -n "${clocal:-}" ] && echo yes)"
check "  ... which its trace has at that port" "${cfd:-?} ${clocal:-?}" \
    "$("$SOCKTRACE" show "${cpid:-0}" --all --json 2>&1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%d %s" % (s["fd"], s["local"]) for s in d["sockets"]))' 2>&1)"
done_testing
