#!/usr/bin/env bash
# t0177 - what the tracer adds to every exec: a start-up that makes no
# socket calls none of the libc functions whose text, tables or data it
# would fault in for nothing (the printf family, getenv, the id and clock
# wrappers; a library preloaded in front of ours reports each call), and
# the state it touches lies in the page ld.so writes anyway (.data's last,
# where .bss begins).
. "$(dirname "$0")/lib.sh"

PLAIN=$B/libsocktrace.so
CALLS=$B/tests/libstartcalls.so

# the probe sees our library's calls: a directory path too long to use
# makes the constructor's warning, written with snprintf
out=$(SOCKTRACE_DIR=/$(printf 'x%.0s' $(seq 600)) LD_PRELOAD="$CALLS $PLAIN" /bin/true 2>&1)
check "the probe library sees the tracer's own calls (a warning's snprintf)" \
    "STARTCALL snprintf" "$(grep STARTCALL <<<"$out" | sort -u)"

# what the probe reports of a whole start-up: its one allowed call, the
# fork handler's registration, which the constructor makes last (a
# start-up that stopped early, or did nothing, lacks it)
DONE="STARTCALL __register_atfork"
# what the probe reported; a start-up that failed (a crash prints
# nothing) says its exit status, so it never matches an expected ""
start_up() {
    local out rc
    out=$(env -u SOCKTRACE_DIR -u XDG_RUNTIME_DIR "$@" LD_PRELOAD="$CALLS $PLAIN" /bin/true 2>&1)
    rc=$?
    printf '%s' "$out"
    [ "$rc" -eq 0 ] || printf '%sexit %d' "${out:+ }" "$rc"
}
mkdir -m 700 "$T/xdg"
check "a start-up in SOCKTRACE_DIR calls none of them" "$DONE" "$(start_up SOCKTRACE_DIR="$SOCKTRACE_DIR")"
check "a start-up in XDG_RUNTIME_DIR/socktrace calls none of them" "$DONE" "$(start_up XDG_RUNTIME_DIR="$T/xdg")"
check "a start-up in /tmp/socktrace-UID calls none of them" "$DONE" "$(start_up)"
check "a start-up with every setting set calls none of them" "$DONE" \
    "$(start_up SOCKTRACE_DIR="$SOCKTRACE_DIR" SOCKTRACE_QUIET=1 SOCKTRACE_TCPINFO=0 \
        SOCKTRACE_HISTORY=4M SOCKTRACE_RUN_ID=7 SOCKTRACE_PPID=1:1)"

# .bss's first page is .data's last, which ld.so writes (relocations, the
# zeroed tail): every variable of the library lies in it but the large
# arrays (ST_BSS_LAST), which come after them all
sect() { readelf -SW "$PLAIN" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v s="$1" '$1 == s {print $3, $5}'; }
read -r data_addr data_size < <(sect .data)
read -r bss_addr _ < <(sect .bss)
if [ -z "${data_size:-}" ] || [ -z "${bss_addr:-}" ]; then
    not_ok "readelf lists .data and .bss of $PLAIN"
else
    page=$(((16#$bss_addr) / 4096))
    check ".bss begins in .data's last page" "$(((16#$data_addr + 16#$data_size) / 4096))" "$page"
    # the large arrays are the common symbols of the objects (ST_BSS_LAST);
    # TLS variables (nm gives their offsets) lie below .data
    commons=" $(nm "$B"/obj/preload/*.o | awk '$2 == "C" {print $3}' | sort -u | tr '\n' ' ') "
    outside=$(nm -S "$PLAIN" | while read -r addr size type name; do
        case $type in b|B|d|D) ;; *) continue ;; esac
        [ -n "$name" ] && [ $((16#$addr)) -ge $((16#$data_addr)) ] || continue
        case $commons in *" $name "*) continue ;; esac
        [ $((16#$addr / 4096)) -eq "$page" ] || echo "$name"
    done | sort)
    check "every variable but the ST_BSS_LAST arrays shares that page" "" "$outside"
    # ... which means something only when nm listed them: st_on among them
    check "nm lists the library's variables (st_on in .bss)" "yes" \
        "$(nm "$PLAIN" | awk '$3 == "st_on" && ($2 == "b" || $2 == "B") {print "yes"}')"
fi

done_testing
