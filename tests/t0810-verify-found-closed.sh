# show --verify and ps count open what show prints open: a socket closed
# where no hook saw it (the syscall instruction itself) is shown by show
# as closed (unseen); --verify must not call it a difference and ps must
# not count it, both held against the kernel (ss, /proc/PID/fd).
. "$(dirname "$0")/lib.sh"

start rc --traced "$B/tests/rawclose"
pid=$(ready_pid rc)
read -r _ keep gone < <(said rc | grep '^FDS')

check "the kernel has the listener, not the raw-closed fd" "$keep" \
    "$(kernel_view "$pid" | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
[ -e "/proc/$pid/fd/$gone" ] && not_ok "fd $gone is still open in /proc" || ok "fd $gone is closed in /proc"

"$SOCKTRACE" show "$pid" >"$T/show.txt"
check "show prints the raw-closed fd as closed (unseen)" "closed (was bound, unseen)" \
    "$(awk -v fd="$gone" '$1 == fd' "$T/show.txt" | grep -o 'closed ([^)]*)')"
# show's rows that are not closed: what the header's count must say
rows_open=$(awk 'NR > 3 && $1 ~ /^[0-9]+$/ && $3 != "closed" {n++} END {print n + 0}' "$T/show.txt")
kernel_n=$(kernel_view "$pid" | wc -l)
check "show's rows not closed equal the kernel's sockets" "$kernel_n" "$rows_open"
check "show's header counts them, not the raw-closed one" "$rows_open open" \
    "$(grep -m1 '^  ppid' "$T/show.txt" | grep -o '[0-9]* open')"

check "--verify: exit 0 (the trace, as show reads it, agrees with the kernel)" "0" \
    "$(status "$SOCKTRACE" show "$pid" --verify)"
check_cmd "  ... and names the raw-closed fd as found closed" grep -q "fd $gone (unseen)" "$T/out"
check "--verify --json: no differences; the raw-closed fd found closed" "true [] [$gone]" \
    "$("$SOCKTRACE" show "$pid" --verify --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(str(d["agree"]).lower(), d["differences"], d["found_closed"])')"

check "ps --json: open equals show's count" "$rows_open" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
print([p["open"] for p in json.load(sys.stdin)["processes"] if p["pid"] == '"$pid"'][0])')"
check "ps: the OPEN column equals show's count" "$rows_open" \
    "$("$SOCKTRACE" ps | awk -v pid="$pid" '$1 == pid {print $5}')"
check "ps: SEEN still counts the raw-closed socket" "2" \
    "$("$SOCKTRACE" ps | awk -v pid="$pid" '$1 == pid {print $6}')"

finish rc

# once it has ended there is no /proc to hold the table against: ps, like
# show, counts what the file holds
check "after the end: ps counts the file's entries, as show does" \
    "$("$SOCKTRACE" show "$pid" | grep -m1 '^  ppid' | grep -o '[0-9]* open at the end' | cut -d' ' -f1)" \
    "$("$SOCKTRACE" ps --json | python3 -c '
import json, sys
print([p["open"] for p in json.load(sys.stdin)["processes"] if p["pid"] == '"$pid"'][0])')"
done_testing
