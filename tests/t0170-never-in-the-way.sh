# When the trace directory cannot be used, the program runs untraced and
# unaffected: same output, same exit status, at most one warning line
# (none with SOCKTRACE_QUIET=1). Also: a set-uid style secure-execution
# process is not traced (checked by the absence of a trace file).
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
done_testing
