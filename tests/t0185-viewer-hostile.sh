# The viewer against hostile trace directories: real trace files cut short,
# a file of another user, a FIFO, a file that shrinks and grows while it is
# read, and 3,000 files at once. One line per bad file, the good ones
# still shown, exit 1 only when nothing could be shown, never a crash.
. "$(dirname "$0")/lib.sh"

# a real trace file to mangle (the example exits at once: stdin is empty)
SOCKTRACE_HISTORY=16K LD_PRELOAD="$B/libsocktrace.so" "$EX/bind_port_zero" </dev/null >/dev/null
good=$(ls "$SOCKTRACE_DIR")
size=$(stat -c %s "$SOCKTRACE_DIR/$good")
mkdir -m 700 "$T/bad"
n=0
for cut in 7 100 4095 4096 $((size / 2)) $((size - 1)); do
    n=$((n + 1))
    head -c "$cut" "$SOCKTRACE_DIR/$good" >"$T/bad/$((5000 + n))-1.trace"
done
check "a real file cut at 7, 100, 4095, 4096, half and all-but-one bytes: each refused, exit 1" \
    "1 1 1 1 1 1" "$(for i in 1 2 3 4 5 6; do status "$SOCKTRACE" -d "$T/bad" show $((5000 + i)); done | tr '\n' ' ' | sed 's/ $//')"
cp "$SOCKTRACE_DIR/$good" "$T/bad/"
check "ps over them and one good file: exit 0" "0" "$(status "$SOCKTRACE" -d "$T/bad" ps)"
check "  ... the good one shown" "1" "$(grep -c bind_port_zero "$T/out")"
check "  ... and one line per refused file, none of them a crash" "6 6" \
    "$(wc -l <"$T/err") $(grep -c '^socktrace: .*trace: ' "$T/err")"

mkdir -m 700 "$T/odd"
mkfifo "$T/odd/6001-1.trace"
check "a FIFO named as a trace file: refused without blocking" "1" \
    "$(timeout 5 "$SOCKTRACE" -d "$T/odd" show 6001 >/dev/null 2>&1; echo $?)"
if [ "$(id -u)" = 0 ]; then
    cp "$SOCKTRACE_DIR/$good" "$T/odd/6002-1.trace"
    chown 65534 "$T/odd/6002-1.trace"
    check "a file of another user is not read" "1" "$(status "$SOCKTRACE" -d "$T/odd" show 6002)"
    check_cmd "  ... and the line says so" grep -q 'belongs to another user' "$T/err"
else
    cp "$SOCKTRACE_DIR/$good" "$T/odd/6002-1.trace"; chmod 000 "$T/odd/6002-1.trace"
    check "an unreadable file: refused" "1" "$(status "$SOCKTRACE" -d "$T/odd" show 6002)"
    skip "another user's file needs root"
fi

# a file rewritten while the viewer reads it: cut to nothing, regrown, cut
# to half, over and over; every read ends in a table or one line
mkdir -m 700 "$T/live"
cp "$SOCKTRACE_DIR/$good" "$T/live/7001-1.trace"
python3 - "$T/live/7001-1.trace" "$SOCKTRACE_DIR/$good" "$T/stop" <<'PY' &
import os, sys
path, orig, stop = sys.argv[1:]
data = open(orig, "rb").read()
fd = os.open(path, os.O_WRONLY)
while not os.path.exists(stop):
    for n in (0, len(data) // 2, 4096, len(data)):
        os.ftruncate(fd, n)
        os.pwrite(fd, data[:n], 0)
PY
mutator=$!
codes=$(for _ in $(seq 300); do "$SOCKTRACE" -d "$T/live" show 7001 --all >/dev/null 2>>"$T/live.err"; echo $?; done | sort -u | tr '\n' ' ')
touch "$T/stop"; wait "$mutator"
check "300 reads of a file that shrinks and grows meanwhile: exit 0 or 1, no signal" "yes" \
    "$(case $codes in *[2-9]*|*1[0-9][0-9]*) echo "no: $codes" ;; *) echo yes ;; esac)"
check "  ... every refusal one line with the reason" "0" \
    "$(grep -vc '^socktrace: .*7001-1.trace: ' "$T/live.err")"

# 3,000 trace files (hard links of one: cheap, and each is read whole)
mkdir -m 700 "$T/many"
for i in $(seq 10001 13000); do ln "$SOCKTRACE_DIR/$good" "$T/many/$i-1.trace"; done
check "ps over 3,000 files: exit 0, a row for each" "0 3000" \
    "$(timeout 60 "$SOCKTRACE" -d "$T/many" ps --json 2>/dev/null | python3 -c 'import json,sys; print(0, len(json.load(sys.stdin)["processes"]))')"
check "ports over them: exit 0" "0" "$(timeout 60 "$SOCKTRACE" -d "$T/many" ports >/dev/null 2>&1; echo $?)"
done_testing
