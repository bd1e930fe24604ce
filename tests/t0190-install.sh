# make install honours DESTDIR and PREFIX, and the installed library works
# under its bare name, as `LD_PRELOAD=libsocktrace.so ./app` does after a
# real install (the library directory is on the search path).
. "$(dirname "$0")/lib.sh"
d=$T/dest
check_cmd "make install DESTDIR=... PREFIX=/usr" make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr
for f in usr/bin/socktrace usr/lib/libsocktrace.so usr/share/man/man1/socktrace.1 usr/share/man/man7/libsocktrace.7; do
    check_cmd "installed $f" test -f "$d/$f"
done
out=$(LD_LIBRARY_PATH=$d/usr/lib LD_PRELOAD=libsocktrace.so "$EX/bind_port_zero" </dev/null | grep -c '^SOCK')
check "the installed library preloads by its bare name" "3" "$out"
check "  ... and traced the program" "1" "$(ls "$SOCKTRACE_DIR" | wc -l)"
# another prefix: the loader does not search it, so the bare name fails
# (the program runs untraced) and the path form the README gives works
o=$T/opt
check_cmd "make install PREFIX=/opt/socktrace" make -s -C "$ROOT" install DESTDIR="$o" PREFIX=/opt/socktrace
before=$(ls "$SOCKTRACE_DIR" | wc -l)
if ldconfig -p 2>/dev/null | grep -q libsocktrace.so || [ -e /usr/local/lib/libsocktrace.so ]; then
    skip "the bare name: a system-wide libsocktrace.so is installed"
else
    LD_PRELOAD=libsocktrace.so "$EX/bind_port_zero" </dev/null >/dev/null 2>"$T/bare.err"
    check "  ... the bare name is not found there (the loader says so, nothing traced)" "1 $before" \
        "$(grep -c 'cannot be preloaded' "$T/bare.err") $(ls "$SOCKTRACE_DIR" | wc -l)"
fi
out=$(LD_PRELOAD="$o/opt/socktrace/lib/libsocktrace.so" "$EX/bind_port_zero" </dev/null | grep -c '^SOCK')
check "  ... the library named by its path preloads" "3 $((before + 1))" "$out $(ls "$SOCKTRACE_DIR" | wc -l)"
check_cmd "make uninstall removes what install put" sh -c "make -s -C '$ROOT' uninstall DESTDIR='$d' PREFIX=/usr && ! test -e '$d/usr/bin/socktrace'"
done_testing
