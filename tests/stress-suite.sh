#!/usr/bin/env bash
# tests/stress-suite.sh - the whole suite (or the tests named, as for
# tests/run.sh) while two busy loops load both cores: a test that passes
# only on an idle machine fails here. `make test-loaded` runs it.
cd "$(dirname "$0")/.." || exit 1
busy=()
for _ in 1 2; do
    sh -c 'while :; do :; done' &
    busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
echo "# two busy loops: pids ${busy[*]}"
tests/run.sh "$@"
