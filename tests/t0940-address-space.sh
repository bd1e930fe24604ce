# Issue 24: the trace file takes address space as it grows, never more than
# a small part of what RLIMIT_AS leaves; a traced program under a limit
# behaves as it does untraced. A program under `ulimit -v` 200 MiB, one
# that sets the limit itself after its first sockets (vsftpd's way), each
# mapping 150 MiB: the same result traced and untraced, and the trace holds
# every socket as the program's getsockname/getpeername report it. One
# left almost no room is not traced, says so in one line in the trace
# directory, and runs as it does untraced. Then vsftpd with Debian's
# configuration: an anonymous login and download, traced as untraced.
# The plain library: ASan's shadow memory alone exceeds any such limit.
. "$(dirname "$0")/lib.sh"
PLAIN=$B/libsocktrace.so
AS=$B/tests/aslimit

# launch NAME PRELOAD ULIMIT_KIB CMD...: start (lib.sh) under `ulimit -v`
launch() {
    local name=$1 pre=$2 lim=$3; shift 3
    mkfifo "$T/$name.in"
    run_bg "$name" "$pre" "$T/$name.in" bash -c 'ulimit -v "$1" && shift && exec "$@"' _ "$lim" "$@"
    local fd
    exec {fd}>"$T/$name.in"
    IN_FD[$name]=$fd
    wait_for "$name" READY
}

# what the program printed, pids, fds and port numbers aside
outcome() {
    grep -v '^READY\|^START' "$T/$1.out" | sed -E -e 's/^SOCK pid=[0-9]+ fd=[0-9]+ /SOCK /' -e 's/:[0-9]+/:PORT/g' |
        sort | uniq -c
}

for run in "none 204800 0" "lower unlimited 204800" "above unlimited 256"; do
    read -r mode ulim kib <<<"$run"
    map=153600; [ "$mode" = above ] && map=128
    case $mode in
        none)  what="under ulimit -v 200 MiB, mapping 150 MiB" ;;
        lower) what="setting RLIMIT_AS 200 MiB itself after its first sockets, mapping 150 MiB" ;;
        above) what="left 256 KiB of address space, mapping 128 KiB" ;;
    esac
    launch u_$mode "" "$ulim" "$AS" "$mode" "$kib" "$map"
    launch t_$mode "$PLAIN" "$ulim" "$AS" "$mode" "$kib" "$map"
    tpid=$(ready_pid t_$mode)
    check "$mode: untraced, $what: the mmap succeeds" "MMAP ok" "$(said u_$mode | grep '^MMAP\|^FAIL')"
    check "  ... traced, the same outcome, socket for socket" "$(outcome u_$mode)" "$(outcome t_$mode)"
    check "  ... traced, nothing on stderr" "" "$(cat "$T/t_$mode.err")"
    if [ "$mode" != above ]; then
        # show falls back to the kernel's view for a process with no file
        check "  ... traced: its trace file is written" "1" "$(ls "$SOCKTRACE_DIR" | grep -c "^$tpid-")"
        check "  ... the trace holds every socket as the program sees it" \
            "$(own_view t_$mode)" "$(tracer_view "$tpid")"
        check "  ... and nothing was dropped" "0" \
            "$("$SOCKTRACE" show "$tpid" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["dropped"])')"
    else
        check "  ... not traced: no trace file" "" "$(ls "$SOCKTRACE_DIR" | grep "^$tpid-")"
        check "  ... one line in the trace directory names the process and the limit" \
            "1 yes" "$(grep -c "^$tpid " "$SOCKTRACE_DIR/untraced.log" 2>/dev/null || echo 0) $(grep "^$tpid " "$SOCKTRACE_DIR/untraced.log" 2>/dev/null | grep -q 'RLIMIT_AS' && echo yes)"
        sed 's/^/#   /' "$SOCKTRACE_DIR/untraced.log" 2>/dev/null
    fi
    finish u_$mode
    finish t_$mode
done

# vsftpd, Debian's configuration made standalone on a loopback port: each
# session sets RLIMIT_AS 200 MiB on itself before its own mmap
VSFTPD=$(command -v vsftpd || echo /usr/sbin/vsftpd)
if [ "$(id -u)" != 0 ]; then
    skip "vsftpd: it runs as root (sessions chroot and change user)"
elif [ ! -x "$VSFTPD" ] || [ ! -f /etc/vsftpd.conf ]; then
    skip "vsftpd: not installed (apt-get install vsftpd)"
else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$T/ftproot"
    echo "hello from vsftpd" >"$T/ftproot/hello.txt"
    chmod 755 "$T/ftproot"; chmod 644 "$T/ftproot/hello.txt"
    sed -e 's/^listen=NO/listen=YES/' -e 's/^listen_ipv6=YES/listen_ipv6=NO/' \
        -e 's/^anonymous_enable=NO/anonymous_enable=YES/' /etc/vsftpd.conf >"$T/vsftpd.conf"
    cat >>"$T/vsftpd.conf" <<CONF
listen_address=127.0.0.1
listen_port=$port
background=NO
anon_root=$T/ftproot
vsftpd_log_file=$T/vsftpd.log
xferlog_file=$T/xferlog
CONF
    for how in untraced traced; do
        pre=""; [ $how = traced ] && pre=$PLAIN
        run_bg ftp_$how "$pre" /dev/null "$VSFTPD" "$T/vsftpd.conf"
        wait_listen "$port"
        if [ $how = traced ]; then
            # before any session: a session is a raw clone of the listener
            vpid=${PIDS[ftp_traced]}
            check "vsftpd traced: its trace file is written" "1" "$(ls "$SOCKTRACE_DIR" | grep -c "^$vpid-")"
            check "vsftpd traced: its listener in the trace as the kernel has it" \
                "$(kernel_view "$vpid")" "$(tracer_view "$vpid")"
        fi
        curl -s -S --max-time 30 "ftp://127.0.0.1:$port/hello.txt" >"$T/curl_$how.out" 2>"$T/curl_$how.err"
        echo "rc=$? $(cat "$T/curl_$how.out")" >"$T/login_$how"
        stop ftp_$how
    done
    check "vsftpd untraced: an anonymous login downloads the file" "rc=0 hello from vsftpd" "$(cat "$T/login_untraced")"
    check "vsftpd traced: the same" "$(cat "$T/login_untraced")" "$(cat "$T/login_traced")"
    grep -h . "$T/curl_traced.err" | sed 's/^/#   curl: /'
    check "vsftpd traced: nothing from the tracer on its stderr" "" "$(grep socktrace "$T/ftp_traced.err")"
fi
done_testing
