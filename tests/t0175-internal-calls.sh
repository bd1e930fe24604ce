#!/usr/bin/env bash
# t0175 - the tracer's own I/O never enters its own hooks, and the
# preload's files call each other one way only. Read from the built
# libraries (every call to a PLT slot, by caller) and from gcc's call graph
# of preload/*.c, not from anything the tracer reports.
. "$(dirname "$0")/lib.sh"

# Exported hooks, and the libc I/O calls the tracer makes for itself: none
# may be called through the PLT except by a hook forwarding the program's
# own call (__read_chk to read, execl to execv) or by the syscall() hook
# handing a socket call number to the hook of that name.
for lib in "$B/libsocktrace.so" "$LIB"; do
    name=$(basename "$(dirname "$lib")")/$(basename "$lib")
    exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" || $2 == "i" {print $3}' | sort -u)
    [ -n "$exported" ] || { not_ok "$name: nm lists its exported hooks"; continue; }
    objdump -d --no-show-raw-insn "$lib" >"$T/dis" 2>&1
    # a disassembly that lists nothing would pass: __read_chk's forwarding
    # call to read through the PLT must be in it
    if ! grep -q 'call.*<read@plt>\|jmp.*<read@plt>' "$T/dis"; then
        not_ok "$name: objdump disassembled it (__read_chk's call to read@plt found)"
        continue
    fi
    bad=$(awk -v exported="$exported" '
        BEGIN {
            n = split(exported, e, "\n"); for (i = 1; i <= n; i++) hook[e[i]] = 1
            split("open open64 openat openat64 read pread pread64 write pwrite readlink readlinkat fopen fopen64", io, " ")
            for (i in io) forbidden[io[i]] = 1
            for (h in hook) forbidden[h] = 1
        }
        /^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3); sub(/\..*/, "", fn) }
        /(call|jmp).*@plt>/ {
            match($0, /<[^>@]*@plt>/); target = substr($0, RSTART + 1, RLENGTH - 6)
            if ((target in forbidden) && !(fn in hook) && fn != "st_syscall_hook")
                print fn " calls " target "@plt"
        }' "$T/dis" | sort -u)
    check "$name: no tracer-internal call reaches an exported hook or libc's read/write/open (raw syscalls)" "" "$bad"
done

# the file-level call graph of the preload, printed; no two files in a loop
check_call_graph "preload: no two files call each other in a loop" preload \
    "-std=gnu11 -O2 -fPIC -fvisibility=hidden -idirafter build/deps/usr/include"

# small files with one job each
sizes=$(cd "$ROOT" && wc -l preload/*.c preload/*.h | awk '$2 != "total"')
check "wc measured the preload's files" "yes" "$([ "$(echo "$sizes" | grep -c 'preload/')" -gt 20 ] && echo yes)"
check "no file in preload/ above 500 lines" "" "$(echo "$sizes" | awk '$1 > 500 {print $2 " " $1}')"

done_testing
