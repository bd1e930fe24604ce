# Calls the tracer meets off its usual path: a socket opened by another
# library's constructor before the tracer's own has run, and a socket
# closed through glibc's __close_nocancel (as NSS modules call it).
. "$(dirname "$0")/lib.sh"
EARLY=$B/tests/libearlysock.so
# the interpreter itself, not a wrapper script that would exec it
PY=$(python3 -c 'import sys; print(sys.executable)')
start p --traced "$PY" -c '
import ctypes, os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
fd = s.fileno()
# by the default search order, the first definition: what a PLT call in
# another glibc library reaches
rc = ctypes.CDLL(None).__close_nocancel(fd)
s.detach()
print("NOCANCEL fd=%d rc=%d" % (fd, rc))
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()'
pid=$(ready_pid p)
nfd=$(said p | sed -n 's/^NOCANCEL fd=\([0-9]*\) rc=.*/\1/p')
check "__close_nocancel on a listener returns what glibc's does" "0" "$(said p | sed -n 's/^NOCANCEL .* rc=//p')"
check "  ... the kernel has no socket at fd $nfd" "" "$(kernel_view "$pid" "$nfd")"
check "  ... nor the table's open sockets" "" "$(tracer_view "$pid" "$nfd")"
check "  ... the close was seen, not found later" "close" "$(tracer_closed "$pid" "$nfd" close_seen)"
finish p

# preloaded after the tracer, the library's constructor runs first
PRELOAD="$PRELOAD $EARLY" start e --traced "$PY" -c '
import os, sys
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()'
pid=$(ready_pid e)
efd=$(said e | sed -n 's/^EARLY fd=\([0-9]*\) .*/\1/p' | head -1)
check "the library ran its constructor once" "1" "$(said e | grep -c '^EARLY')"
check "a constructor before the tracer's opened a listener (fd $efd)" "1" "$([ -n "$efd" ] && echo 1)"
check "  ... the table has it as the kernel does" "$(kernel_view "$pid" "$efd")" "$(tracer_view "$pid" "$efd")"
check "  ... found at start-up: the library's constructor ran before the tracer's" "inherited" "$(tracer_field "$pid" "$efd" origin)"
finish e
check "  ... and the program ran normally" "0" "$?"
done_testing
