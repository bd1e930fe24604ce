#!/usr/bin/env bash
# tests/demo.sh - `make demo`: runs the wildcard-server example under the
# tracer and shows what socktrace resolved, next to what the program
# itself learned from getsockname/getpeername.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/socktrace-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export SOCKTRACE_DIR=$dir/traces
mkfifo "$dir/in"
LD_PRELOAD=$PWD/build/libsocktrace.so build/examples/wildcard_server <"$dir/in" >"$dir/out" &
exec 3>"$dir/in"
for _ in $(seq 100); do grep -q READY "$dir/out" && break; sleep 0.05; done
pid=$(sed -n 's/^READY pid=//p' "$dir/out")
echo "== A server on [::]:0 connects to itself over 127.0.0.1 and ::1 (examples/wildcard_server.c)."
echo "== What the program learned from its own getsockname/getpeername:"
grep '^SOCK' "$dir/out" | sed 's/^SOCK /   /'
echo
echo "== \$ socktrace show $pid     (read from its trace file, no help from the program)"
build/socktrace show "$pid"
echo
echo "== \$ socktrace show $pid --json"
build/socktrace show "$pid" --json
exec 3>&-
wait
