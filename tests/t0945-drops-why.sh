# Issue 24: `dropped` counts only records that could not be written, each
# under its reason. A postfix-like master forks 200 short children in quick
# succession (each connects to it, connects a UDP socket, binds another,
# reports them and exits; the master accepts and reaps): no process drops
# anything, and every socket each child reported is in its trace. Then
# real drops of two kinds, each counted under its own reason and no other:
# a file that cannot grow (RLIMIT_FSIZE), and a process whose address-space
# limit leaves no room to map more of its file (RLIMIT_AS).
. "$(dirname "$0")/lib.sh"

# why PID: "total file address ring fd unreadable" from show --json
why() {
    "$SOCKTRACE" show "$1" --all --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
w = d["dropped_why"]
print(d["dropped"], w["file_could_not_grow"], w["address_space"], w["ring_busy"],
      w["fd_beyond_table"], w["unreadable"])'
}

N=200
start fm --traced "$B/tests/forkmaster" "$N"
check "the master forked, accepted and reaped $N children, none failed" \
    "children=$N failed=0 accepted=$N" "$(said fm | sed -n 's/^READY \(.*\) pid=.*/\1/p')"
mpid=$(ready_pid fm)
check "every child reported its three sockets" "$((3 * N))" \
    "$(said fm | grep '^SOCK' | grep -vc "pid=$mpid ")"

said fm | grep '^SOCK' | sed -E 's/^SOCK pid=([0-9]+) fd=([0-9]+) local=([^ ]*) peer=([^ ]*) .*/\1 \2 \3 \4/' >"$T/reported"
python3 - "$SOCKTRACE" "$T/reported" "$mpid" >"$T/wrong" <<'PY'
import json, subprocess, sys
viewer, path, master = sys.argv[1], sys.argv[2], sys.argv[3]
want = {}
for line in open(path):
    pid, fd, local, peer = line.split()
    want.setdefault(pid, []).append((int(fd), local, None if peer == "-" else peer))
for pid in sorted(want, key=int):
    r = subprocess.run([viewer, "show", pid, "--all", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(pid, "no trace:", r.stderr.strip()); continue
    d = json.loads(r.stdout)
    if d["source"] != "trace":
        print(pid, "not traced"); continue
    if d["dropped"] or any(d["dropped_why"].values()):
        print(pid, "dropped", d["dropped"], d["dropped_why"])
    have = {(s["fd"], s["local"], s["peer"]) for s in d["sockets"]}
    for w in want[pid]:
        if w not in have:
            print(pid, "missing", w, "has", sorted(x for x in have if x[0] == w[0]))
PY
[ $? = 0 ] || echo "the comparison itself failed" >>"$T/wrong"
check "no process dropped a record, every reported socket is in its trace" "" "$(head -20 "$T/wrong")"
[ -s "$T/wrong" ] && echo "#   ($(wc -l <"$T/wrong") problems)"
finish fm

# RLIMIT_FSIZE: the file is made, then cannot grow (past the limit the
# kernel would send SIGXFSZ, so the tracer checks first)
py=$(python3 -c 'import sys; print(sys.executable)')
cat >"$T/many.py" <<'PY'
import os, socket, sys
pairs = [socket.socketpair() for _ in range(300)]
print("READY made", 2 * len(pairs), "sockets pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
start fsz bash -c 'ulimit -f 100; SOCKTRACE_HISTORY=16K LD_PRELOAD="$1" exec "$3" "$2"' _ "$PRELOAD" "$T/many.py" "$py"
read -r total file addr ring fd torn < <(why "$(ready_pid fsz)")
check "RLIMIT_FSIZE: records dropped, all counted as 'file could not grow'" \
    "yes $total 0 0 0 0" "$([ "${total:-0}" -gt 0 ] && echo yes) $file $addr $ring $fd $torn"
finish fsz

# RLIMIT_AS: after its first sockets the program leaves itself 512 KiB
# (the tracer takes at most a sixteenth of what is left: 32 KiB is too
# little for the next part of its file); its own 128 KiB mmap succeeds
start asq "$B/tests/aslimit" squeeze 512 128
start asq_t bash -c 'LD_PRELOAD="$1" exec "$2" squeeze 512 128' _ "$B/libsocktrace.so" "$B/tests/aslimit"
check "RLIMIT_AS: the program's own mmap succeeds untraced" "MMAP ok" "$(said asq | grep '^MMAP\|^FAIL')"
check "  ... and traced" "MMAP ok" "$(said asq_t | grep '^MMAP\|^FAIL')"
read -r total file addr ring fd torn < <(why "$(ready_pid asq_t)")
check "  ... records dropped, all counted as 'address space'" \
    "yes 0 $total 0 0 0" "$([ "${total:-0}" -gt 0 ] && echo yes) $file $addr $ring $fd $torn"
"$SOCKTRACE" show "$(ready_pid asq_t)" | grep -i dropped | sed 's/^/#   /'
finish asq
finish asq_t
done_testing
