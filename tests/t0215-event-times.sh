#!/usr/bin/env bash
# t0215 - an event carries the time its call returned, held against the
# program's own clock read on both sides of the call: an accept that
# blocked for a second (its event no earlier than 1 s after the reading
# before it), and a failed bind made a second after the thread's previous
# call (an event stamped with an earlier reading falls outside), and the
# fork event of a child forked a second after that bind.
. "$(dirname "$0")/lib.sh"

start cc --traced "$B/tests/callclock"
pid=$(ready_pid cc)
viewer_json events "$pid" --json >"$T/events.jsonl"
child=$(said cc | sed -n 's/^FORK fd=\([0-9]*\) .*/\1/p')
viewer_json events "${child:-none}" --json >"$T/child.jsonl"
for name in ACCEPT BIND FORK; do
    line=$(said cc | grep "^$name ")
    call=$(echo "$name" | tr A-Z a-z)
    fd=$(echo "$line" | sed 's/.* fd=\([0-9]*\) .*/\1/')
    before=$(echo "$line" | sed 's/.* before=\([0-9]*\) .*/\1/')
    after=$(echo "$line" | sed 's/.* after=\([0-9]*\)$/\1/')
    # the event's time in ms since the epoch (the viewer prints ms)
    got=$(python3 -c '
import datetime, json, sys
call, fd = sys.argv[1], int(sys.argv[2])
# a fork event is in the file of the child (fd= names it)
hits = [e for e in map(json.loads, open(sys.argv[3]))
        if e["call"] == call and (call == "fork" or e.get("fd") == fd)]
if len(hits) != 1:
    sys.exit("%d %s events on fd %d" % (len(hits), call, fd))
t = datetime.datetime.fromisoformat(hits[0]["time"])
print(int(t.timestamp() * 1000 + 0.5))' "$call" "$fd" "$T/$([ "$name" = FORK ] && echo child || echo events).jsonl" 2>&1)
    lo=$((before / 1000000)) hi=$((after / 1000000))
    # the accept returned 1 s or more after its reading: a time taken when
    # it started would fall before that
    [ "$name" = ACCEPT ] && lo=$((lo + 1000))
    if [[ $got =~ ^[0-9]+$ ]] && [ "$got" -ge "$lo" ] && [ "$got" -le "$hi" ]; then
        ok "$call event time within the program's own clock readings around it ($lo <= $got <= $hi ms)"
    else
        not_ok "$call event time within the program's own clock readings around it ($lo .. $hi ms)"
        echo "#   event: $got"
    fi
done
if [[ $(said cc | grep '^ACCEPT ') =~ before=([0-9]+).*after=([0-9]+) ]]; then
    check "the accept really blocked at least 1 s (the child connected after 1 s)" "yes" \
        "$([ $(( (BASH_REMATCH[2] - BASH_REMATCH[1]) / 1000000 )) -ge 1000 ] && echo yes || echo no)"
else
    not_ok "callclock printed its ACCEPT line"
fi
finish cc
done_testing
