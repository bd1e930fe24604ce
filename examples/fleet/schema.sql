-- examples/fleet/schema.sql - the central store for `socktrace export`
-- from every machine: one row per socket, upserted on the export's "id",
-- so the export that sees a socket closed updates the row of its opening.
-- Load once: psql -f schema.sql. ship.sh fills it; queries.sql reads it.

CREATE TABLE IF NOT EXISTS sockets (
    id          text PRIMARY KEY,       -- host-pid-start-serial-fd, from the export
    host        text NOT NULL,
    pid         integer NOT NULL,
    proc_start  bigint NOT NULL,        -- the process's start time (clock ticks)
    sock_id     bigint NOT NULL,        -- the socket's serial number in its process
    fd          integer NOT NULL,
    command     text,                   -- argv joined by spaces
    proto       text,                   -- tcp, tcp6, udp, udp6, unix, ...
    state       text,                   -- listening, connected, bound, closed, ...
    origin      text,                   -- socket, accept, inherited, ...
    local_ip    inet,                   -- null for unix sockets
    local_port  integer,
    peer_ip     inet,
    peer_port   integer,
    peer_host   text,                   -- the name the program looked the peer up by
    port_chosen_by_kernel boolean,
    opened      timestamptz,
    closed      timestamptz,
    doc         jsonb NOT NULL,         -- the whole exported line
    first_shipped timestamptz NOT NULL DEFAULT now(),
    last_shipped  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sockets_host_opened ON sockets (host, opened);
CREATE INDEX IF NOT EXISTS sockets_peer ON sockets (peer_ip, peer_port);
CREATE INDEX IF NOT EXISTS sockets_listening ON sockets (local_port) WHERE state = 'listening';

-- "127.0.0.1:80", "[::1]:80", "[fe80::1%eth0]:80" -> the address; null for
-- anything else (unix paths, null)
CREATE OR REPLACE FUNCTION socktrace_ip(addr text) RETURNS inet
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN addr ~ '^[0-9.]+:[0-9]+$' THEN split_part(addr, ':', 1)::inet
        WHEN addr ~ '^\[[0-9a-fA-F:.]+(%[^]]*)?\]:[0-9]+$'
            THEN substring(addr FROM '^\[([0-9a-fA-F:.]+)')::inet
    END
$$;

CREATE OR REPLACE FUNCTION socktrace_port(addr text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN socktrace_ip(addr) IS NOT NULL
                THEN substring(addr FROM ':([0-9]+)$')::integer END
$$;

-- one exported line into its row: a new socket is inserted, a known one
-- (same id) takes the newer line's state, peer and close time; returns the id
CREATE OR REPLACE FUNCTION sockets_upsert(line jsonb) RETURNS text
LANGUAGE sql AS $$
    INSERT INTO sockets AS s (id, host, pid, proc_start, sock_id, fd, command, proto,
                              state, origin, local_ip, local_port, peer_ip, peer_port,
                              peer_host, port_chosen_by_kernel, opened, closed, doc)
    SELECT line->>'id', line->>'hostname', (line->'process'->>'pid')::integer,
           m[1]::bigint, m[2]::bigint, (k->>'fd')::integer,
           (SELECT string_agg(a, ' ') FROM jsonb_array_elements_text(line->'process'->'command') AS a),
           k->>'proto', k->>'state', k->>'origin',
           socktrace_ip(k->>'local'), socktrace_port(k->>'local'),
           socktrace_ip(k->>'peer'), socktrace_port(k->>'peer'),
           k->>'host', (k->>'port_chosen_by_kernel')::boolean,
           (k->>'opened')::timestamptz, (k->>'closed')::timestamptz, line
    FROM (SELECT line->'socket' AS k,
                 regexp_match(line->>'id', '-([0-9]+)-([0-9]+)-[0-9]+$') AS m) AS x
    ON CONFLICT (id) DO UPDATE SET
        command = EXCLUDED.command, state = EXCLUDED.state,
        local_ip = EXCLUDED.local_ip, local_port = EXCLUDED.local_port,
        peer_ip = EXCLUDED.peer_ip, peer_port = EXCLUDED.peer_port,
        peer_host = EXCLUDED.peer_host,
        port_chosen_by_kernel = EXCLUDED.port_chosen_by_kernel,
        closed = EXCLUDED.closed, doc = EXCLUDED.doc, last_shipped = now()
    RETURNING id
$$;
