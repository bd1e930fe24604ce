# The fleet path end to end: two "hosts" (two trace directories exported
# under two names) ship with examples/fleet/ship.sh into a throw-away
# PostgreSQL (unix socket only), and the auditor's queries (queries.sql)
# answer what the traced programs and the kernel saw; a close updates its row.
. "$(dirname "$0")/lib.sh"
FLEET=$ROOT/examples/fleet

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ] || ! command -v psql >/dev/null; then
    skip "PostgreSQL is not installed (apt-get install postgresql)"
    done_testing; exit
fi

# the server: as this user, or as uid 65534 when root (initdb refuses root)
pg=$T/pg
mkdir -m 700 "$pg"
as_pg=()
if [ "$(id -u)" = 0 ]; then
    chmod 711 "$T"
    chown 65534:65534 "$pg"
    as_pg=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
(cd / && "${as_pg[@]}" "$pgbin/initdb" -D "$pg/data" -U socktrace --auth=trust --no-locale \
    -E UTF8) >"$T/initdb.log" 2>&1 || { not_ok "initdb"; sed 's/^/#   /' "$T/initdb.log"; done_testing; exit; }
if ! (cd / && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/log" -w -t 60 \
        -o "-c listen_addresses='' -k $pg" start) >"$T/pg_ctl.log" 2>&1; then
    not_ok "PostgreSQL starts"; sed 's/^/#   /' "$T/pg_ctl.log" "$pg/log"; done_testing; exit
fi
trap '(cd / && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pg/data" -m immediate stop) >/dev/null 2>&1; cleanup' EXIT
export PGHOST=$pg PGUSER=socktrace PGDATABASE=postgres PGTZ=UTC
sql() { psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -c "$1"; }
check_cmd "schema.sql loads" psql -X -q -v ON_ERROR_STOP=1 -f "$FLEET/schema.sql"
check_cmd "queries.sql loads" psql -X -q -v ON_ERROR_STOP=1 -f "$FLEET/queries.sql"

# host alpha: a server on the wildcard address [::]:0 (it connects to
# itself twice) and a fork-per-connection server on 127.0.0.1:0
mkdir -m 700 "$T/alpha" "$T/beta"
export SOCKTRACE_DIR=$T/alpha
start ws --traced "$EX/wildcard_server"
start fs --traced "$EX/fork_server" 0 1
W=$(said ws | sed -n 's/^SOCK .* fd=3 local=\[::\]:\([0-9]*\) .*/\1/p')
F=$(said fs | sed -n 's/^PORT //p')
# host beta: a client of alpha's loopback server
export SOCKTRACE_DIR=$T/beta
start cl --traced "$EX/client_ephemeral" 127.0.0.1 "$F"
wait_for fs 'what=served'
# the client's port, as the server's accepted socket has it
C=$(said fs | sed -n 's/^SOCK .* peer=127\.0\.0\.1:\([0-9]*\) what=served$/\1/p')
export SOCKTRACE_DIR=$T/traces

ship() { # HOST: that host's export into the database
    SOCKTRACE="$SOCKTRACE" SOCKTRACE_DIR=$T/$1 SOCKTRACE_HOSTNAME=$1 sh "$FLEET/ship.sh"
}
check_cmd "ship.sh from host alpha" ship alpha
check_cmd "ship.sh from host beta" ship beta
check "every socket of both hosts is one row" \
    "$(for h in alpha beta; do SOCKTRACE_HOSTNAME=$h "$SOCKTRACE" -d "$T/$h" export --all; done | wc -l)" \
    "$(sql 'SELECT count(*) FROM sockets')"

check "wildcard_listeners: alpha's [::] listener, the port the kernel has (ss), nothing of beta's" \
    "alpha tcp6 $(kernel_view "${PIDS[ws]}" 3 | sed -n 's/^3 \[::\]:\([0-9]*\) -$/\1/p') ${PIDS[ws]}" \
    "$(sql 'SELECT host, proto, port, pid FROM wildcard_listeners')"
check "  ... the port wildcard_server itself printed" "$W" "$(sql 'SELECT port FROM wildcard_listeners')"
check "connected_to('127.0.0.1', F): beta's client, with the port alpha's server accepted" \
    "beta $EX/client_ephemeral 127.0.0.1 $F|1|{$C}" \
    "$(sql "SELECT host, command, connections, local_ports FROM connected_to('127.0.0.1', $F)" |
       sed -E 's/^(beta .*) ([0-9]+) (\{[0-9,]*\})$/\1|\2|\3/')"
check "connected_to('127.0.0.1', W): alpha's wildcard_server, to itself" \
    "alpha $EX/wildcard_server" "$(sql "SELECT host, command FROM connected_to('127.0.0.1', $W)")"
# the ports the kernel chose: alpha's two listeners bound to port 0 and
# wildcard_server's two client ends; beta's client
ws_clients=$(said ws | grep '^SOCK' | sed -n "s/^SOCK .* local=[^ ]*:\([0-9]*\) peer=[^ ]*:$W .*/\1/p")
today=$(date -u +%F)
check "kernel_ports_per_day: per host, today, the ports bound to 0 and the clients' ports" \
    "alpha $today {$(printf '%s\n' "$W" "$F" $ws_clients | sort -n -u | paste -sd,)}
beta $today {$C}" \
    "$(sql 'SELECT host, day, ports FROM kernel_ports_per_day')"

# the client closes: the next ship updates its row, no new one
before=$(sql "SELECT count(*) FROM sockets WHERE host = 'beta'")
finish cl
check_cmd "ship.sh from beta after the client closed" ship beta
check "  ... the same rows for beta" "$before" "$(sql "SELECT count(*) FROM sockets WHERE host = 'beta'")"
check "  ... the client's row is closed, with its close time" "closed t" \
    "$(sql "SELECT state, closed IS NOT NULL FROM sockets WHERE host = 'beta' AND peer_port = $F")"
check "  ... and still answers connected_to" "beta 1" \
    "$(sql "SELECT host, connections FROM connected_to('127.0.0.1', $F)")"
finish fs
finish ws
done_testing
