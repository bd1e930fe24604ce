# The trace-file reader under libFuzzer for a bounded time (FUZZ_SECONDS,
# default 30), seeded with real trace files; `make fuzz` runs it longer.
exec "$(dirname "$0")/fuzz/run.sh" "${FUZZ_SECONDS:-30}"
