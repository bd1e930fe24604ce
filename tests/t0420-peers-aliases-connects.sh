# What the table learns after the call that made a socket: an unconnected
# UDP socket's last peer and distinct-peer count, a change made through one
# dup alias seen on the others, and a non-blocking connect finished by a
# send or by nobody at all (the viewer asks the kernel). python3 is the
# traced program; each value is held against the program's own view or ss.
. "$(dirname "$0")/lib.sh"

cat >"$T/udp.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("SERVER %d %s:%d" % ((s.fileno(),) + s.getsockname()), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
for line in sys.stdin:
    n = int(line)
    for _ in range(n):
        data, addr = s.recvfrom(100)
        print("FROM %s:%d" % addr, flush=True)
PY
start udp --traced python3 "$T/udp.py"
pid=$(ready_pid udp)
read -r _ sfd saddr < <(said udp | grep '^SERVER')
sport=${saddr##*:}
# three untraced clients, each from its own port; the last one twice
python3 - "$sport" >"$T/clients" <<'PY'
import socket, sys
port = int(sys.argv[1]); cs = []
for i in range(3):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0)); cs.append(c)
    print("%s:%d" % c.getsockname())
for c in cs + [cs[0]]:
    c.sendto(b"x", ("127.0.0.1", port))
PY
echo 4 >&"${IN_FD[udp]}"
wait_for udp '^FROM' 4
check "the server's own view of its four sources" "$(cat "$T/clients"; head -1 "$T/clients")" \
    "$(said udp | sed -n 's/^FROM //p')"
check "distinct peers: 3 (the server received from 3 ports)" "3" "$(tracer_field "$pid" "$sfd" peers_seen)"
check "last peer: the first client, which sent last" "$(head -1 "$T/clients")" \
    "$(tracer_field "$pid" "$sfd" last_peer)"
check "an unconnected socket has no peer, as ss says" "$(kernel_view "$pid" "$sfd")" \
    "$(tracer_view "$pid" "$sfd")"
check_cmd "text output marks the last peer" sh -c "'$SOCKTRACE' show $pid | grep -q 'last of 3 peers'"
finish udp

cat >"$T/alias.py" <<'PY'
import os, socket, sys
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
a = socket.socket()
b = a.dup()                                 # fcntl(F_DUPFD_CLOEXEC): an alias
b.connect(srv.getsockname())                # through the alias
print("SOCK pid=%d fd=%d local=%s:%d peer=%s:%d x" % ((os.getpid(), a.fileno()) + a.getsockname() + a.getpeername()), flush=True)
print("SOCK pid=%d fd=%d local=%s:%d peer=%s:%d x" % ((os.getpid(), b.fileno()) + b.getsockname() + b.getpeername()), flush=True)
print("FDS %d %d" % (a.fileno(), b.fileno()), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
start alias --traced python3 "$T/alias.py"
pid=$(ready_pid alias)
read -r _ afd bfd < <(said alias | grep '^FDS')
check "a connect through a dup alias shows on the original fd too" "$(own_view alias)" \
    "$(tracer_view "$pid" "$afd $bfd")"
check "  ... and both equal the kernel's view" "$(kernel_view "$pid" "$afd $bfd")" \
    "$(tracer_view "$pid" "$afd $bfd")"
check "  ... both marked shared" "True True" \
    "$(tracer_field "$pid" "$afd" shared) $(tracer_field "$pid" "$bfd" shared)"
finish alias

cat >"$T/nb.py" <<'PY'
import os, select, socket, sys, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
dead = socket.socket(); dead.bind(("127.0.0.1", 0)); dead_addr = dead.getsockname(); dead.close()
def start(addr):
    s = socket.socket(); s.setblocking(False)
    assert s.connect_ex(addr) in (0, 115)   # EINPROGRESS
    return s
sent = start(srv.getsockname())            # finished by a send
quiet = start(srv.getsockname())           # never checked by the program
refused = start(dead_addr)                 # fails; never checked either
# until the kernel has settled all three (writable: connected, or failed);
# the hang guard 60 s. Nothing here is seen by the tracer.
left, end = {sent, quiet, refused}, time.time() + 60
while left and time.time() < end:
    left -= set(select.select([], list(left), [], 1)[1])
if left:
    sys.exit("connects not settled after 60 s: %s" % sorted(s.fileno() for s in left))
sent.send(b"x")
print("FDS %d %d %d" % (sent.fileno(), quiet.fileno(), refused.fileno()), flush=True)
print("READY pid=%d" % os.getpid(), flush=True)
sys.stdin.read()
PY
start nb --traced python3 "$T/nb.py"
pid=$(ready_pid nb)
read -r _ sent quiet refused < <(said nb | grep '^FDS')
check "a non-blocking connect finished by the program's send" "connected" \
    "$(tracer_field "$pid" "$sent" state)"
check "one the program never checked: the viewer asks the kernel" "connected" \
    "$(tracer_field "$pid" "$quiet" state)"
check "one that was refused: failed" "failed" "$(tracer_field "$pid" "$refused" state)"
check "the connected ones equal the kernel's view" "$(kernel_view "$pid" "$sent $quiet")" \
    "$(tracer_view "$pid" "$sent $quiet")"
check "the send is in the event log" "1" \
    "$("$SOCKTRACE" events "$pid" --json | grep -c "\"call\":\"send\",\"fd\":$sent,")"
finish nb
done_testing
