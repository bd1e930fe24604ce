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
check_cmd "make uninstall removes what install put" sh -c "make -s -C '$ROOT' uninstall DESTDIR='$d' PREFIX=/usr && ! test -e '$d/usr/bin/socktrace'"
done_testing
