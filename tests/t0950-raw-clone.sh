#!/usr/bin/env bash
# t0950 - children made behind fork()'s back (as vsftpd starts each session
# with syscall(__NR_clone, ...)): syscall(SYS_clone), syscall(SYS_clone3),
# syscall(SYS_fork), _Fork(), an inline clone instruction, and
# syscall(SYS_vfork) whose child closes the listener through syscall(2)
# before it execs. Each child gets a trace of its own, with the UDP port it
# reported, equal to ss; the parent's table still equals its own view, ss
# and /proc after every child closed its copies of the parent's sockets;
# the socket a thread made stays the parent's. With vsftpd installed and
# root, its listener stays in the table, equal to ss, while sessions come
# and go.
. "$(dirname "$0")/lib.sh"

start rc --traced "$B/tests/rawclone"
pid=$(ready_pid rc)
[ -n "$pid" ] || { not_ok "rawclone started"; said rc | sed 's/^/#   /'; done_testing; exit; }
while read -r _ kind why; do skip "${kind#kind=}: ${why#why=}"; done < <(said rc | grep '^NOKIND')

# the parent: listener, UDP socket, and the UDP socket its thread made
own=$(own_view rc "$pid")
check "parent: its own view has its three sockets" "3" "$(wc -l <<<"$own")"
check "parent: table = its own view (children closed their copies of the listener and the UDP socket)" \
    "$own" "$(tracer_view "$pid")"
check "  ... = ss" "$own" "$(kernel_view "$pid")"
proc_socks=$(for f in /proc/"$pid"/fd/*; do
    [[ $(readlink "$f") == socket:* ]] && echo .; done | wc -l)
"$SOCKTRACE" ps --json >"$T/ps.json"
check "parent: ps's open count = the sockets in /proc/$pid/fd" "$proc_socks" \
    "$(python3 -c 'import json,sys; print([p["open"] for p in json.load(open(sys.argv[1]))["processes"] if p["pid"] == int(sys.argv[2])])' "$T/ps.json" "$pid" | tr -d '[]')"
check "parent: no socket of its file closed (it closed none; its children did)" "" \
    "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in json.load(sys.stdin)["sockets"] if s["closed"]))')"
lport=$(said rc | grep "^SOCK pid=$pid fd=3 " | sed -E 's/.*local=[^ ]*:([0-9]+) .*/\1/')
check "parent: ports lists the listener's port (ss: $(ss -H -ltn "sport = :$lport" | wc -l) listener)" \
    "$lport" "$("$SOCKTRACE" ports "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(p["socket"]["local_port"]) for p in json.load(sys.stdin)["ports"]
               if p["socket"]["proto"] == "tcp"))')"

for kind in clone clone3 fork _Fork inline vfork; do
    line=$(said rc | grep -m1 "^CHILD kind=$kind ")
    if [ -z "$line" ]; then
        said rc | grep -q "^NOKIND kind=$kind " || not_ok "$kind: the child reported"
        continue
    fi
    cpid=$(sed -E 's/.* pid=([0-9]+) .*/\1/' <<<"$line")
    cfd=$(sed -E 's/.* fd=([0-9]+) .*/\1/' <<<"$line")
    cport=$(sed -E 's/.* port=([0-9]+)$/\1/' <<<"$line")
    check "$kind child $cpid: its own trace has its UDP socket at fd $cfd, port $cport as it reported" \
        "$cfd 127.0.0.1:$cport -" "$(tracer_view "$cpid" "$cfd")"
    check "  ... which it bound to port 0: the kernel chose the port" "True" \
        "$(tracer_field "$cpid" "$cfd" port_chosen_by_kernel)"
    check "  ... its table = ss (without the parent's listener and UDP socket)" \
        "$(kernel_view "$cpid")" "$(tracer_view "$cpid")"
    check "  ... its parent is $pid" "$pid" "$(python3 -c 'import json,sys; print(*[p["ppid"] for p in json.load(open(sys.argv[1]))["processes"] if p["pid"] == int(sys.argv[2])])' "$T/ps.json" "$cpid")"
done

finish rc
check "rawclone exited 0, every child 0" "0" "$?"
check "  ... and said so" "failed=0" "$(said rc | grep -m1 '^DONE' | sed 's/.* //')"

# vsftpd as Debian ships it starts each session with a raw clone (isolate,
# isolate_network): new pid and network namespaces, so it needs root
VSFTPD=$(command -v vsftpd || echo /usr/sbin/vsftpd)
if [ ! -x "$VSFTPD" ]; then
    skip "vsftpd not installed (Debian: vsftpd; tests/deps.sh test installs it as root)"
elif [ "$(id -u)" != 0 ]; then
    skip "vsftpd isolates sessions in new namespaces, which needs root"
else
    mkdir -p "$T/ftp/empty" "$T/ftp/anon"
    cat >"$T/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=0
background=NO
anonymous_enable=YES
anon_root=$T/ftp/anon
local_enable=NO
write_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=$T/ftp/empty
xferlog_enable=NO
EOF
    # the library without the sanitizer: vsftpd caps each session's address
    # space, which the sanitizer's shadow memory exceeds at once
    LD_PRELOAD=$B/libsocktrace.so "$VSFTPD" "$T/vsftpd.conf" >"$T/vsftpd.out" 2>&1 &
    PIDS[vsftpd]=$!
    vpid=${PIDS[vsftpd]}
    vport=""
    for _ in $(seq 1200); do
        vport=$(ss -H -ltnp | awk -v p="pid=$vpid," 'index($0, p) {sub(/.*:/, "", $4); print $4; exit}')
        [ -n "$vport" ] && break
        sleep 0.05
    done
    if [ -z "$vport" ]; then
        not_ok "vsftpd listens"; sed 's/^/#   /' "$T/vsftpd.out"
    else
        check "vsftpd $vpid: before any session, the table = ss" "$(kernel_view "$vpid")" "$(tracer_view "$vpid")"
        for i in 1 2 3; do
            printf 'QUIT\r\n' | timeout 10 nc.openbsd -N 127.0.0.1 "$vport" >"$T/ftp$i.out" 2>&1
        done
        check "three sessions were greeted (220)" "3" "$(cat "$T"/ftp?.out | grep -c '^220')"
        check "vsftpd $vpid: after three sessions the listener is still in the table, = ss" \
            "$(kernel_view "$vpid")" "$(tracer_view "$vpid")"
        check "  ... on the port ss has" "$vport" "$(tracer_view "$vpid" | awk '{sub(/.*:/, "", $2); print $2}')"
    fi
    stop vsftpd
fi
done_testing
