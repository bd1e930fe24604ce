# Faults around the program, which must never notice the tracer: an
# unwritable trace directory, RLIMIT_FSIZE and a full tmpfs (at creation,
# and later when the table must grow), a program that closes every fd at
# start-up and dup2s onto high fds, fork while four threads are inside the
# tracer, and a default directory planted in the shared /tmp by another user.
. "$(dirname "$0")/lib.sh"

# 300 socketpairs: more sockets than the first table segments hold
cat >"$T/many.py" <<'PY'
import socket
pairs = [socket.socketpair() for _ in range(300)]
print("made", 2 * len(pairs), "sockets")
PY
# the interpreter itself: a wrapper script (pyenv) would be traced too,
# each of its processes with its own warning
py=$(python3 -c 'import sys; print(sys.executable)')
expected=$("$py" "$T/many.py" 2>&1; echo "exit $?")

# same_as_untraced DESC WARNINGS CMD...: CMD (traced by its environment)
# prints what the untraced run printed and exits the same way, with at
# most WARNINGS warning lines
same_as_untraced() {
    local desc=$1 warn=$2; shift 2
    local out
    out=$("$@" 2>"$T/err"; echo "exit $?")
    check "$desc: output and exit status as untraced" "$expected" "$out"
    check "$desc: $warn warning line(s)" "$warn" "$(grep -c '^socktrace' "$T/err")"
}

# an unwritable directory (root writes anywhere: it runs as another uid,
# with an interpreter that uid can run)
as_user=() upy=$py
if [ "$(id -u)" = 0 ]; then
    # the library and the ASan runtime, where uid 54321 can load them
    share_with_user 54321
    as_user=("${AS_USER[@]}")
    chmod 755 "$T"
    for upy in "$py" /usr/bin/python3 ""; do
        [ -n "$upy" ] && "${as_user[@]}" env "$upy" -c pass 2>/dev/null && break
    done
fi
if [ -n "$upy" ]; then
    mkdir -m 500 "$T/ro"
    [ "$(id -u)" = 0 ] && chown 54321:54321 "$T/ro"
    same_as_untraced "an unwritable trace directory" 1 \
        "${as_user[@]}" env SOCKTRACE_DIR="$T/ro" LD_PRELOAD="$PRELOAD" "$upy" "$T/many.py"
else
    skip "no python3 that uid 54321 can run"; skip "unwritable directory"
fi

# RLIMIT_FSIZE: too small for the file, then enough for it but not for its
# growth (past the limit the kernel would kill the program with SIGXFSZ)
same_as_untraced "RLIMIT_FSIZE below the file's size" 1 \
    bash -c 'ulimit -f 16; SOCKTRACE_HISTORY=16K LD_PRELOAD="$1" exec "$3" "$2"' _ "$PRELOAD" "$T/many.py" "$py"
same_as_untraced "RLIMIT_FSIZE reached when the table grows" 0 \
    bash -c 'ulimit -f 150; SOCKTRACE_HISTORY=16K LD_PRELOAD="$1" exec "$3" "$2"' _ "$PRELOAD" "$T/many.py" "$py"

# a full tmpfs, likewise (a sparse file there would SIGBUS on first touch)
if [ "$(id -u)" = 0 ] && mkdir -p "$T/tiny" && mount -t tmpfs -o size=32k,mode=700 tmpfs "$T/tiny" 2>/dev/null; then
    same_as_untraced "a tmpfs too small for the file" 1 \
        env SOCKTRACE_DIR="$T/tiny" SOCKTRACE_HISTORY=16K LD_PRELOAD="$PRELOAD" "$py" "$T/many.py"
    umount "$T/tiny"
    mount -t tmpfs -o size=96k,mode=700 tmpfs "$T/tiny"
    same_as_untraced "a tmpfs that fills when the table grows" 0 \
        env SOCKTRACE_DIR="$T/tiny" SOCKTRACE_HISTORY=16K LD_PRELOAD="$PRELOAD" "$py" "$T/many.py"
    tiny_pid=$("$SOCKTRACE" -d "$T/tiny" ps --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["pid"])')
    check "  ... every one of the 600 sockets is listed, those that found no room as unknown, and counted as dropped" \
        "600 yes yes" "$("$SOCKTRACE" -d "$T/tiny" show "$tiny_pid" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
socks = [s for s in d["sockets"] if s["family"] == "unix"]
unknown = [s for s in d["sockets"] if s["state"] == "unknown"]
print(len(socks) + len(unknown), "yes" if unknown else "no", "yes" if d["dropped"] > 0 else "no")')"
    umount "$T/tiny"
else
    for _ in 1 2 3 4 5; do skip "no tmpfs mount here (needs root and mount permission)"; done
fi

# a program that closes every fd first, then dup2s a socket onto fd 1000
cat >"$T/closer.py" <<'PY'
import os, socket, sys
os.closerange(3, 65536)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
os.dup2(c.fileno(), 1000)
for fd in (l.fileno(), c.fileno(), a.fileno(), 1000):
    s = socket.socket(fileno=os.dup(fd)); loc = s.getsockname()
    try: p = "%s:%d" % s.getpeername()
    except OSError: p = "-"
    os.close(s.detach())
    print("SOCK pid=%d fd=%d local=%s:%d peer=%s x" % ((os.getpid(), fd) + loc + (p,)), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
start closer --traced python3 "$T/closer.py"
cpid=$(ready_pid closer)
check "closes every fd at start-up, dup2 onto fd 1000: the table equals its own view" \
    "$(own_view closer)" "$(tracer_view "$cpid" "$(fds_of "$(own_view closer)")")"
check "  ... and the kernel's" "$(kernel_view "$cpid")" "$(tracer_view "$cpid")"
finish closer

# fork while four threads make, dup and close sockets without pause
LD_PRELOAD="$PRELOAD" "$B/tests/forkthreads" 100 >"$T/ft.out" 2>&1
check "fork under threads: 100 children, each exits 0" "DONE children=100 failed=0" "$(grep '^DONE' "$T/ft.out")"
check "  ... each child's own trace holds its socket as it saw it" "100" "$(python3 - "$T/ft.out" "$SOCKTRACE" <<'PY'
import json, re, subprocess, sys
good = 0
for line in open(sys.argv[1]):
    m = re.match(r"SOCK pid=(\d+) fd=(\d+) local=(\S+)", line)
    if not m:
        continue
    r = subprocess.run([sys.argv[2], "show", m[1], "--json"], capture_output=True, text=True)
    if r.returncode == 0:
        socks = json.loads(r.stdout)["sockets"]
        good += any(str(s["fd"]) == m[2] and s["local"] == m[3] and s["proto"] == "udp" for s in socks)
print(good)
PY
)"

# the shared /tmp: another user (root here) plants the default directory
# of uid 54321 as a symbolic link to its own directory, then as its own
# directory; the program runs untraced and nothing lands in root's hands
if [ "$(id -u)" = 0 ] && [ -n "$upy" ]; then
    plant=/tmp/socktrace-54321
    if [ -e "$plant" ] || [ -L "$plant" ]; then rm -rf "$plant"; fi
    mkdir -m 755 "$T/trap"
    ln -s "$T/trap" "$plant"
    same_as_untraced "default directory planted as a symlink by another user" 1 \
        "${as_user[@]}" env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$PRELOAD" "$upy" "$T/many.py"
    check "  ... nothing written through it" "" "$(ls -A "$T/trap")"
    rm "$plant"; mkdir -m 777 "$plant"; chmod +t "$plant"
    same_as_untraced "default directory planted as another user's directory" 1 \
        "${as_user[@]}" env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR LD_PRELOAD="$PRELOAD" "$upy" "$T/many.py"
    check "  ... nothing written in it" "" "$(ls -A "$plant")"
    rm -rf "$plant"
else
    for _ in 1 2 3 4 5 6; do skip "planting another user's directory needs root (and a python3 for uid 54321)"; done
fi
done_testing
