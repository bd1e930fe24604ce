#!/usr/bin/env bash
# The library loads in any glibc from 2.17: no symbol it needs from glibc
# has a newer version, no version reference names a newer one, and a
# GLIBC_PRIVATE name (which another glibc may not have) is only a weak
# reference. The check is first held against libraries built here to
# break each rule, so that a checker that finds nothing cannot pass.
. "$(dirname "$0")/lib.sh"
OLDEST=2.17

# too_new SO: one line per glibc requirement newer than $OLDEST (symbols
# and version references) and per GLIBC_PRIVATE symbol not weak
too_new() {
    {
        objdump -T "$1" | awk '$0 ~ /\*UND\*/ {
            v = ""; for (i = 1; i <= NF; i++) if ($i ~ /^\(?GLIBC_/) v = $i
            gsub(/[()]/, "", v)
            if (v == "GLIBC_PRIVATE") { if ($2 != "w") print "private " $NF; next }
            if (v != "") print v " " $NF }'
        objdump -p "$1" | awk '/required from/ { f = 1; next } f && /GLIBC_/ && !/GLIBC_PRIVATE/ { print $NF " (version reference)" }'
    } | while read -r v what; do
        case $v in
        private) echo "GLIBC_PRIVATE $what (not weak)" ;;
        GLIBC_*)
            n=${v#GLIBC_}
            # versions that are no numbers (GLIBC_ABI_DT_RELR) are newer
            if ! [[ $n =~ ^[0-9.]+$ ]] ||
               [ "$(printf '%s\n%s\n' "$OLDEST" "$n" | sort -V | tail -n1)" != "$OLDEST" ]; then
                echo "$v $what"
            fi ;;
        esac
    done | sort -u
}

# the checker on known answers: close_range is GLIBC_2.34, a plain
# __close_nocancel reference GLIBC_PRIVATE, and neither when weak
cat >"$T/bad.c" <<'C'
#define _GNU_SOURCE
#include <unistd.h>
int __close_nocancel(int);
int f(void) { return close_range(3, 3, 0) + __close_nocancel(3); }
C
cat >"$T/good.c" <<'C'
#include <unistd.h>
int __close_nocancel(int) __attribute__((weak));
int f(void) { return __close_nocancel ? __close_nocancel(3) : close(3); }
C
if ${CC:-cc} -shared -fPIC "$T/bad.c" -o "$T/bad.so" 2>"$T/cc.err" &&
   ${CC:-cc} -shared -fPIC "$T/good.c" -o "$T/good.so" 2>>"$T/cc.err"; then
    check "the check finds close_range (2.34) and a plain GLIBC_PRIVATE reference" \
        "$(printf '%s\n' "GLIBC_2.34 (version reference)" "GLIBC_2.34 close_range" "GLIBC_PRIVATE __close_nocancel (not weak)" | sort)" \
        "$(too_new "$T/bad.so")"
    check "  ... and nothing in a weak GLIBC_PRIVATE reference and close (2.2.5)" \
        "" "$(too_new "$T/good.so")"
else
    not_ok "cannot build the known-answer libraries"; sed 's/^/#   /' "$T/cc.err"
fi

# the library users install (the sanitizer build binds libc's names to
# libasan's interceptors, which are built for this glibc: not checked)
check "libsocktrace.so: nothing newer than GLIBC_$OLDEST, no strong GLIBC_PRIVATE reference" \
    "" "$(too_new "$B/libsocktrace.so")"

# dlsym lives in libdl.so.2 before glibc 2.34, whose loading every traced
# process would pay for: the library finds the next definitions itself
# (tests/unit/test_next_symbol holds that lookup against dlsym)
check "libsocktrace.so needs no dlsym" "" \
    "$(objdump -T "$B/libsocktrace.so" | awk '/\*UND\*/ && $NF ~ /^dl(sym|vsym|open|addr)$/ { print $NF }')"
check "  ... and no library but libc.so.6" "libc.so.6" \
    "$(objdump -p "$B/libsocktrace.so" | awk '$1 == "NEEDED" { print $2 }' | tr '\n' ' ' | sed 's/ $//')"
done_testing
