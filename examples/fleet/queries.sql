-- examples/fleet/queries.sql - what an auditor asks the fleet's store
-- (schema.sql). Load once: psql -f queries.sql; then, for example:
--   SELECT * FROM wildcard_listeners;
--   SELECT * FROM connected_to('10.1.2.3');          -- or ('10.1.2.3', 5432)
--   SELECT * FROM kernel_ports_per_day WHERE day = current_date;

-- Every wildcard listener on every host, as of each host's last export:
-- TCP listeners and bound UDP sockets on 0.0.0.0 or [::] of running
-- processes, reachable on all of the host's interfaces.
CREATE OR REPLACE VIEW wildcard_listeners AS
SELECT host, proto, local_port AS port, pid, command, opened
FROM sockets
WHERE local_ip IN ('0.0.0.0', '::')
  AND (state = 'listening' OR (state = 'bound' AND proto LIKE 'udp%'))
  AND doc->'process'->>'state' = 'running'
ORDER BY host, port, pid;

-- Which hosts' processes connected to an address (and port), open or
-- closed since: the connecting side only, not the server's accepted end.
CREATE OR REPLACE FUNCTION connected_to(target inet, target_port integer DEFAULT NULL)
RETURNS TABLE (host text, command text, connections bigint, local_ports integer[],
               first_opened timestamptz, last_opened timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT s.host, s.command, count(*), array_agg(s.local_port ORDER BY s.local_port),
           min(s.opened), max(s.opened)
    FROM sockets AS s
    WHERE s.peer_ip = target AND (target_port IS NULL OR s.peer_port = target_port)
      AND s.origin <> 'accept'
    GROUP BY s.host, s.command
    ORDER BY s.host, s.command
$$;

-- Ports chosen by the kernel (ephemeral ports of clients, binds to port 0),
-- per host per day (UTC): how many sockets, and which ports.
CREATE OR REPLACE VIEW kernel_ports_per_day AS
SELECT host, (opened AT TIME ZONE 'UTC')::date AS day, count(*) AS sockets,
       count(DISTINCT local_port) AS distinct_ports,
       array_agg(DISTINCT local_port ORDER BY local_port) AS ports
FROM sockets
WHERE port_chosen_by_kernel AND local_port IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2;
