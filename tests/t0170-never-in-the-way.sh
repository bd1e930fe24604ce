# When the trace directory cannot be used, the program runs untraced and
# unaffected: same output, same exit status, at most one warning line
# (none with SOCKTRACE_QUIET=1). Also: a set-uid program run by another
# user is not traced, even when the loader does load the library.
. "$(dirname "$0")/lib.sh"
prog() { "$EX/bind_port_zero" </dev/null | sed -E 's/:[0-9]+/:P/g; s/pid=[0-9]+/pid=N/'; }
expected=$(prog)
try() {
    local desc=$1 dir=$2
    local out err rc
    out=$(SOCKTRACE_DIR=$dir LD_PRELOAD="$PRELOAD" "$EX/bind_port_zero" </dev/null 2>"$T/err" |
          sed -E 's/:[0-9]+/:P/g; s/pid=[0-9]+/pid=N/')
    rc=${PIPESTATUS[0]}
    check "$desc: same output as untraced" "$expected" "$out"
    check "$desc: exit status 0" "0" "$rc"
    check "$desc: at most one warning line" "1" "$(grep -c 'socktrace' "$T/err")"
    out=$(SOCKTRACE_QUIET=1 SOCKTRACE_DIR=$dir LD_PRELOAD="$PRELOAD" "$EX/bind_port_zero" </dev/null 2>&1 >/dev/null)
    check "$desc: silent with SOCKTRACE_QUIET=1" "" "$out"
}
try "missing parent directory" "$T/no/such/dir"
touch "$T/file"
try "a regular file" "$T/file"
mkdir -m 777 "$T/open"
try "a world-writable directory" "$T/open"
mkdir -m 700 "$T/real"
ln -s "$T/real" "$T/link"
try "a symbolic link" "$T/link"
check "nothing was written through the link" "" "$(ls "$T/real")"
if [ "$(id -u)" = 0 ]; then
    mkdir -m 700 "$T/other" && chown 65534 "$T/other"
    try "a directory of another user" "$T/other"
else
    skip "a directory of another user: needs root to create one"
fi

# Secure execution: a set-uid program (owner 54322) run by uid 54321. The
# loader ignores a preload named by path; one named without a slash is
# loaded from the system's library directory when it is set-uid itself, and
# then the library's own AT_SECURE check must keep it out.
secure() { # NAME PRELOAD: runs the program, prints its normalised output
    start "$1" setpriv --reuid=54321 --regid=54321 --clear-groups \
        env SOCKTRACE_DIR="$T/sec/traces" LD_PRELOAD="$2" "$T/sec/prog"
}
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # a library uid 54321 could load, were the program not set-uid
    share_with_user 54321
    mkdir -m 755 "$T/sec"
    mkdir -m 700 "$T/sec/traces" && chown 54321 "$T/sec/traces"
    cp "$EX/bind_port_zero" "$T/sec/prog" && chown 54322 "$T/sec/prog" && chmod 4755 "$T/sec/prog"
    secure sp "$B/libsocktrace.so"
    pid=$(ready_pid sp)
    check "set-uid program, preload by path: not loaded" "" "$(grep -o 'libsocktrace.*' /proc/"$pid"/maps | sort -u)"
    finish sp
    check "  ... same output as untraced" "$expected" "$(said sp | sed -E 's/:[0-9]+/:P/g; s/pid=[0-9]+/pid=N/')"
    libdir=$(dirname "$(readlink -f "$(ldd /bin/true | awk '/libc\.so/ {print $3}')")")
    sys="$libdir/libsocktrace-t0170-$$.so"
    cp "$B/libsocktrace.so" "$sys" && chmod 4755 "$sys"
    secure ss "$(basename "$sys")"
    pid=$(ready_pid ss)
    check "set-uid program, set-uid preload from $libdir: loaded" "$(basename "$sys")" \
        "$(grep -o 'libsocktrace.*' /proc/"$pid"/maps | sort -u)"
    finish ss
    rm -f "$sys"
    # secure_getenv hides SOCKTRACE_DIR from it: look in the default places too
    check "  ... but not tracing (AT_SECURE): no trace file" "" \
        "$(ls -A "$T/sec/traces"; ls /tmp/socktrace-54321 /tmp/socktrace-54322 2>/dev/null | grep "^$pid-")"
    check "  ... same output as untraced" "$expected" "$(said ss | sed -E 's/:[0-9]+/:P/g; s/pid=[0-9]+/pid=N/')"
else
    for _ in 1 2 3 4 5; do skip "secure execution: needs root (a set-uid file of another user) and setpriv"; done
fi
done_testing
