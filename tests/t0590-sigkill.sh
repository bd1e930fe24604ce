# A writer killed with SIGKILL mid-record, 1,000 times: build/tests/killme
# loops socket, bind (port 0), dup2 onto fds 50-57 and close, logging
# each port the kernel gave it before its next call; the test kills it
# 0-5 ms into its work (100 runs with SOCKTRACE_TEST_STALL=50:20, so the
# kill lands inside a stalled record; 100 runs 0-5 ms after exec, maybe
# before its first socket call). Then `show PID --all --json` exits 0 and
# every socket it shows is whole: fd 0-64, inet, TCP or UDP, a state
# this program can reach, and a local address that is none or
# 127.0.0.1 with a port from the log (or, only on the fd whose bind was
# in flight, an ephemeral port).
. "$(dirname "$0")/lib.sh"
RUNS=${KILL_RUNS:-1000}
python3 - "$B/tests/killme" "$SOCKTRACE" "$PRELOAD" "$T" "$RUNS" >"$T/summary" 2>&1 <<'PY'
import json, os, random, struct, subprocess, sys, time, glob
killme, viewer, preload, tmp, runs = sys.argv[1:6]
runs = int(runs)
lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
tracedir = os.environ["SOCKTRACE_DIR"]
log = os.path.join(tmp, "killme.log")
rnd = random.Random(590)
bad = []            # (run, what)
count = dict(runs=0, early_no_socket=0, early_no_trace=0, stalled=0, shown=0,
             sockets=0, with_port=0, inflight_port=0)
for run in range(runs):
    env = dict(os.environ, LD_PRELOAD=preload)
    early = run % 10 == 5
    stalled = run % 10 == 7
    if stalled:
        env["SOCKTRACE_TEST_STALL"] = "50:20"
        count["stalled"] += 1
    open(log, "wb").close()
    p = subprocess.Popen([killme, log], env=env, stdin=subprocess.DEVNULL)
    if not early:
        t_end = time.monotonic() + 5
        while os.path.getsize(log) < 8 and time.monotonic() < t_end and p.poll() is None:
            time.sleep(0.0002)
    time.sleep(rnd.random() * 0.005)
    p.kill()
    p.wait()
    count["runs"] += 1
    data = open(log, "rb").read()
    recs = [struct.unpack_from("II", data, o) for o in range(0, len(data) - len(data) % 8, 8)]
    first = any(k == 1 for k, v in recs)
    if p.returncode != -9:
        bad.append((run, "exited %s before the kill" % p.returncode))
    r = subprocess.run([viewer, "show", str(p.pid), "--all", "--json"], capture_output=True, text=True, env=env)
    if not first:
        count["early_no_socket"] += 1
        if r.returncode == 1 and "no trace file" in r.stderr:
            count["early_no_trace"] += 1
            continue
    if r.returncode != 0:
        bad.append((run, "show exit %d: %s" % (r.returncode, r.stderr.strip()[:200])))
        continue
    try:
        d = json.loads(r.stdout)
    except ValueError as e:
        bad.append((run, "show printed no JSON: %s" % e))
        continue
    count["shown"] += 1
    ports = {v for k, v in recs if k == 3}
    inflight = recs[-1][1] if recs and recs[-1][0] == 2 else None
    for s in d["sockets"]:
        count["sockets"] += 1
        why = []
        if not (0 <= s["fd"] <= 64): why.append("fd")
        if s["family"] != "inet": why.append("family")
        if (s["type"], s["proto"]) not in (("stream", "tcp"), ("dgram", "udp")): why.append("type/proto")
        if s["state"] not in ("created", "bound", "closed"): why.append("state")
        if s["peer"] is not None: why.append("peer")
        loc = s["local"]
        if loc is not None:
            host, _, port = loc.rpartition(":")
            port = int(port) if port.isdigit() else -1
            count["with_port"] += 1
            if port not in ports and host == "127.0.0.1":
                count["inflight_port"] += 1
            if host != "127.0.0.1":
                why.append("local host")
            elif port not in ports and not (s["fd"] == inflight and lo <= port <= hi
                                            and s["closed"] is None):
                why.append("local port not one the kernel gave")
        if why:
            bad.append((run, "%s: %s" % (",".join(why), json.dumps(s))))
    for f in glob.glob(os.path.join(tracedir, "%d-*" % p.pid)):
        os.unlink(f)
print("BAD %d" % len(bad))
for k, v in count.items():
    print("COUNT %s %d" % (k, v))
for run, what in bad[:10]:
    print("run %d: %s" % (run, what))
PY
sed 's/^/# /' "$T/summary"
check "$RUNS runs killed and read back" "$RUNS" "$(sed -n 's/^COUNT runs //p' "$T/summary")"
check "every file read (exit 0) and every socket shown whole" "BAD 0" "$(grep '^BAD' "$T/summary")"
check "most kills landed after the first socket call (shown: over 85%)" yes \
    "$(awk -v s="$(sed -n 's/^COUNT shown //p' "$T/summary")" -v r="$RUNS" 'BEGIN {print (s > 0.85 * r) ? "yes" : "no"}')"
done_testing
