# The viewer on bad input: one clear line and a non-zero status, never a
# crash. Usage errors exit 2, a missing pid or an unreadable file exit 1.
. "$(dirname "$0")/lib.sh"
check "no verb: usage, exit 2" "2" "$(status "$SOCKTRACE")"
check "unknown verb: exit 2" "2" "$(status "$SOCKTRACE" frobnicate)"
check "show without a pid: exit 2" "2" "$(status "$SOCKTRACE" show)"
check "show with a word that is no pid, name or filter: exit 2" "2" "$(status "$SOCKTRACE" show 12ab)"
check "show with a name no traced process has: exit 1" "1" "$(status "$SOCKTRACE" show abc)"
check "show of a pid with no trace file: exit 1" "1" "$(status "$SOCKTRACE" show 999999)"
check "  ... in one line naming the directory" "socktrace: no trace file for pid 999999 in $SOCKTRACE_DIR" "$(cat "$T/err")"
check "--help exits 0" "0" "$(status "$SOCKTRACE" --help)"
check "show --help exits 0" "0" "$(status "$SOCKTRACE" show --help)"
fmt=$(sed -n 's/^#define ST_VERSION *\([0-9]*\)u.*/\1/p' "$ROOT/preload/trace_format.h")
check_cmd "--version names the trace format ($fmt, trace_format.h)" sh -c "'$SOCKTRACE' --version | grep -q 'trace format $fmt\$\|trace format $fmt)'"
check "-d selects the directory" "1" "$(status "$SOCKTRACE" -d "$T" show 2147483000)"
check "  ... and the message names it" "socktrace: no trace file for pid 2147483000 in $T" "$(cat "$T/err")"
# bad files, named as trace files
badfile() { printf '%s' "$2" >"$SOCKTRACE_DIR/$1-1.trace"; chmod 600 "$SOCKTRACE_DIR/$1-1.trace"; }
badfile 4242 "garbage"
check "a file of garbage: exit 1" "1" "$(status "$SOCKTRACE" show 4242)"
check "  ... one line" "1" "$(wc -l <"$T/err")"
check_cmd "  ... saying it is not a trace file" grep -q 'not a socktrace trace file' "$T/err"
head -c 4096 /dev/zero | sed 's/^/x/' >/dev/null
python3 -c '
import struct, sys
h = b"SOCKTRC1" + struct.pack("<I", 99)
sys.stdout.buffer.write(h + bytes(4096 - len(h)))' >"$SOCKTRACE_DIR/4343-1.trace"
check "a future format version: exit 1" "1" "$(status "$SOCKTRACE" show 4343)"
check_cmd "  ... the message names the version" grep -q 'version 99' "$T/err"
head -c 100 /dev/urandom >"$SOCKTRACE_DIR/4444-1.trace"
check "random bytes: exit 1, no crash" "1" "$(status "$SOCKTRACE" show 4444)"
check "ps with only bad files: exit 1" "1" "$(status "$SOCKTRACE" ps)"
check "  ... one line per bad file" "3" "$(wc -l <"$T/err")"
ln -s /etc/passwd "$SOCKTRACE_DIR/4545-1.trace"
check "a symbolic link is not followed: exit 1" "1" "$(status "$SOCKTRACE" show 4545)"
check_cmd "  ... and says why" grep -q 'symbolic link' "$T/err"
done_testing
