#!/bin/sh
# examples/fleet/ship.sh - one machine's `socktrace export --all` into the
# fleet's PostgreSQL (schema.sql): \copy into a staging table, then upsert
# on "id". Run from a timer (socktrace-ship.timer) or cron, as each user
# whose processes are traced. Connection from the usual PG* variables
# (PGHOST, PGDATABASE, PGUSER, ~/.pgpass); SOCKTRACE_DIR and
# SOCKTRACE_HOSTNAME are passed on to the export.
set -eu
socktrace=${SOCKTRACE:-socktrace}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
"$socktrace" export --all >"$lines"
# CSV with quote and delimiter bytes JSON never contains: each line arrives
# whole, backslashes untouched (COPY's text format would unescape them)
psql -X -q -v ON_ERROR_STOP=1 -f /dev/fd/3 3<<'SQL' <"$lines"
BEGIN;
CREATE TEMP TABLE socktrace_staging (line jsonb) ON COMMIT DROP;
\copy socktrace_staging (line) FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
SELECT count(sockets_upsert(line)) AS shipped FROM socktrace_staging \gset
COMMIT;
SQL
