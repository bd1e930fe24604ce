# A Go program linked with cgo is dynamically linked and loads the
# preload, but the Go runtime makes its socket calls as raw system calls:
# `run` warns before starting it, and its summary says why it shows no
# sockets. Held against the connection the test's listener accepted from
# the port the Go program itself reports.
. "$(dirname "$0")/lib.sh"

if ! command -v go >/dev/null; then
    skip "go not installed (Debian: golang-go)"
    done_testing; exit
fi
mkdir -p "$T/goclient"
cat >"$T/goclient/main.go" <<'GO'
// dials argv[1] and reports the local address it got, on stderr
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ERR", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "LOCAL %s pid=%d\n", c.LocalAddr(), int(C.getpid()))
	c.Close()
}
GO
printf 'module goclient\n\ngo 1.18\n' >"$T/goclient/go.mod"
# a build of its own: no network, caches under $T
if ! (cd "$T/goclient" && env CGO_ENABLED=1 GOCACHE="$T/gocache" GOPATH="$T/gopath" \
        GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go build -o "$T/goclient/goclient" .) \
        >"$T/gobuild.log" 2>&1; then
    skip "go build with cgo failed: $(head -1 "$T/gobuild.log")"
    done_testing; exit
fi
check "the Go client is dynamically linked (cgo): the static warning would not fire" "yes" \
    "$(readelf -l "$T/goclient/goclient" 2>/dev/null | grep -q 'Requesting program interpreter' && echo yes)"

cat >"$T/listen.py" <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print("PORT %d" % s.getsockname()[1], flush=True)
c, peer = s.accept()
print("ACCEPTED %s:%d" % peer, flush=True)
c.recv(1)
PY
spawn lst python3 "$T/listen.py"
wait_for lst '^PORT'
port=$(said lst | sed -n 's/^PORT //p')

# stderr only: the warning, the program's own line and the summary, in order
"$SOCKTRACE" run -- "$T/goclient/goclient" "127.0.0.1:$port" >/dev/null 2>"$T/run.err"
rc=$?
wait_for lst '^ACCEPTED'
check "the Go program connected (exit 0)" "0" "$rc"
check "the listener accepted the port the Go program reports" \
    "$(said lst | sed -n 's/^ACCEPTED //p')" "$(sed -n 's/^LOCAL \([^ ]*\) .*/\1/p' "$T/run.err")"
warn_line=$(grep -n 'is a Go program: Go makes its socket calls as raw system calls' "$T/run.err" | cut -d: -f1)
prog_line=$(grep -n '^LOCAL ' "$T/run.err" | cut -d: -f1)
if [ -n "$warn_line" ] && [ -n "$prog_line" ] && [ "$warn_line" -lt "$prog_line" ]; then
    ok "run warns before starting the Go program"
else
    not_ok "run warns before starting the Go program"; sed 's/^/#   /' "$T/run.err"
fi
check_cmd "the summary says why it shows no sockets" \
    grep -Eq "socktrace: [01] traced process(es)?, 0 sockets: .*goclient is a Go program; its sockets are made by raw system calls" "$T/run.err"
stop lst

spawn lst python3 "$T/listen.py"
wait_for lst '^PORT'
port=$(said lst | sed -n 's/^PORT //p')
check "run --json: the note in the summary" "True" \
    "$("$SOCKTRACE" run --json -- "$T/goclient/goclient" "127.0.0.1:$port" 2>/dev/null |
       tail -1 | python3 -c 'import json, sys; print("is a Go program" in json.load(sys.stdin)["note"])')"
stop lst

# not every program is one: python makes its sockets through libc
"$SOCKTRACE" run -- python3 -c 'import socket; socket.socket()' >/dev/null 2>"$T/py.err"
check "a Python program: no Go warning, its socket in the summary" "0 1" \
    "$(grep -c 'Go program' "$T/py.err") $(grep -c '^socktrace: 1 traced process, 1 socket$' "$T/py.err")"
done_testing
