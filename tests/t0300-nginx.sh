# nginx (master plus workers, IPv4 and IPv6 listeners) under the tracer:
# `ports` lists every listener with the pids `ss -p` gives for it, and each
# process's table equals the kernel's view. Workers are forked children
# that inherit the listeners.
. "$(dirname "$0")/lib.sh"
if [ ! -x "$NGINX" ]; then skip "nginx is not installed (apt-get install nginx-light)"; done_testing; exit; fi
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::",0)); print(s.getsockname()[1])')
start_nginx "127.0.0.1:$port" "[::1]:$port"
master=${PIDS[nginx]}
workers=$(pgrep -P "$master" | sort -n | tr '\n' ' ')
check "two workers started" "2" "$(wc -w <<<"$workers")"
for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$port/"; curl -s -g -o /dev/null "http://[::1]:$port/"; done
# curl is gone before the workers have closed their ends (they close on
# its end-of-file): until no process holds a connection on the port, so
# that each table is held against a kernel that is not changing under it
wait_until "the workers closed curl's connections (ss still shows a holder)" \
    '! ss -H -t -n -p state connected "sport = :$port" | grep -q "pid="'
# ss: pid and listening address of every socket listening on our port
kernel=$(ss -H -n -l -t -p "sport = :$port" | awk '{
    a = $4; line = $0
    while (match(line, /pid=[0-9]+/)) { print a, substr(line, RSTART + 4, RLENGTH - 4); line = substr(line, RSTART + RLENGTH) }
}' | sort -u)
traced=$("$SOCKTRACE" ports --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["ports"]:
    if p["socket"]["local_port"] == '"$port"': print(p["socket"]["local"], p["process"]["pid"])' | sort -u)
check "ports lists every nginx listener with the pids ss gives" "$kernel" "$traced"
for p in $master $workers; do
    check "pid $p: table equals the kernel's view" "$(kernel_view "$p")" "$(tracer_view "$p" "$(fds_of "$(kernel_view "$p")")")"
done
accepts=0
for w in $workers; do
    accepts=$((accepts + $("$SOCKTRACE" events "$w" --json | grep -c '"call":"accept4\?"')))
done
check "the workers' events hold the 6 accepted connections" "6" "$accepts"
locals=$(for w in $workers; do "$SOCKTRACE" show "$w" --all --json; done | python3 -c '
import json, sys
dec = json.JSONDecoder(); text = sys.stdin.read(); i = 0; out = set()
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    d, i = dec.raw_decode(text, i)
    for s in d["sockets"]:
        if s["origin"] == "accept": out.add(s["local"])
print(" ".join(sorted(out)))')
check "accepted connections show the listener addresses as local" "127.0.0.1:$port [::1]:$port" "$locals"
kill "$master"; wait "$master" 2>/dev/null; unset "PIDS[nginx]"
done_testing
