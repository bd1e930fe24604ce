#!/usr/bin/env bash
# tests/run.sh - runs the unit test binaries and every tests/tNNNN-*.sh,
# and ends with one line: "N passed, M failed".
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skipped=0
log=$(mktemp)
run() {
    local name=$1; shift
    "$@" >"$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log"); s=$(grep -c '^ok .*# SKIP' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
    pass=$((pass + p - s)); fail=$((fail + f)); skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        printf 'FAIL  %s\n' "$name"; grep -v '^ok ' "$log" | sed 's/^/      /'
    else
        printf 'ok    %s (%d)%s\n' "$name" "$((p - s))" "$([ "$s" -gt 0 ] && echo ", $s skipped")"
        grep '# SKIP' "$log" | sed 's/^/      /'
    fi
}
for t in build/tests/test_*; do
    case $t in *.d) continue ;; esac
    [ -x "$t" ] && run "$(basename "$t")" "$t"
done
for t in tests/t[0-9]*.sh; do
    case "${1:-}" in ""|*"$(basename "$t")"*) run "$(basename "$t" .sh)" bash "$t" ;; esac
done
rm -f "$log"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
