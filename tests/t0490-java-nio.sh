#!/usr/bin/env bash
# t0490 - Java NIO closes a channel that a thread is blocked on by
# dup2'ing a pre-closed socket over its fd (then closing that later), and
# a channel registered with a selector by shutting it down and closing it
# at the next select. Each closed channel is in history with the byte
# counts the program itself sent and received, and the table equals ss
# and /proc. The Java program is compiled into $T at test time.
. "$(dirname "$0")/lib.sh"

if ! command -v javac >/dev/null || ! command -v java >/dev/null; then
    skip "no JDK (Debian: apt-get install default-jdk-headless)"
    done_testing; exit
fi

cat >"$T/Nio.java" <<'EOF'
// Channels closed the ways NIO closes them; prints what each carried.
import java.io.*;
import java.net.*;
import java.nio.ByteBuffer;
import java.nio.channels.*;
import java.nio.file.*;

public class Nio {
    static ServerSocketChannel server;

    static String ends(SocketChannel c) throws IOException {
        InetSocketAddress l = (InetSocketAddress) c.getLocalAddress();
        InetSocketAddress r = (InetSocketAddress) c.getRemoteAddress();
        return "local=" + l.getPort() + " peer=" + r.getPort();
    }

    // from writes n bytes, to reads them all
    static void carry(SocketChannel from, SocketChannel to, int n) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(n), in = ByteBuffer.allocate(n);
        while (out.hasRemaining()) from.write(out);
        while (in.hasRemaining()) if (to.read(in) < 0) throw new EOFException();
    }

    // a connected pair, sent/received bytes each way; prints both ends
    static SocketChannel[] pair(String name, int up, int down) throws IOException {
        SocketChannel c = SocketChannel.open(server.getLocalAddress());
        SocketChannel s = server.accept();
        carry(c, s, up);
        carry(s, c, down);
        System.out.println("CHAN " + name + "-client " + ends(c) + " sent=" + up + " received=" + down);
        System.out.println("CHAN " + name + "-server " + ends(s) + " sent=" + down + " received=" + up);
        return new SocketChannel[] {c, s};
    }

    // until the thread named name is asleep in the kernel where wchan (a
    // regular expression) says: in its read or accept, as /proc/self/task
    // shows it; the hang guard 60 s
    static void blockedIn(String name, String wchan) throws Exception {
        long end = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < end) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(Paths.get("/proc/self/task"))) {
                for (Path p : ds) {
                    try {
                        if (new String(Files.readAllBytes(p.resolve("comm"))).trim().equals(name)
                            && new String(Files.readAllBytes(p.resolve("wchan"))).trim().matches(wchan))
                            return;
                    } catch (IOException e) {
                        // a task gone meanwhile
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException(name + " not blocked in " + wchan + " after 60 s");
    }

    // a thread blocked reading ch, so that closing ch takes NIO's pre-close
    // (dup2) path
    static Thread blockedReader(SocketChannel ch) throws Exception {
        Thread t = new Thread(() -> {
            try {
                ch.read(ByteBuffer.allocate(10));
            } catch (IOException e) {
                // AsynchronousCloseException: the close woke us
            }
        }, "st-reader");
        t.start();
        blockedIn("st-reader", "wait_woken|sk_wait_data");   // into the read
        return t;
    }

    public static void main(String[] a) throws Exception {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", 0));

        // A: the client closed while a thread reads it (dup2), then the server end
        SocketChannel[] p = pair("A", 123456, 7890);
        Thread t = blockedReader(p[0]);
        p[0].close();
        t.join();
        p[1].close();

        // B: the server end closed while a thread reads it, then the client
        p = pair("B", 4321, 65432);
        t = blockedReader(p[1]);
        p[1].close();
        t.join();
        p[0].close();

        // C: the client registered with a selector: shut down, closed at
        // the next select after the server end's close
        p = pair("C", 1000, 300);
        Selector sel = Selector.open();
        p[0].configureBlocking(false);
        p[0].register(sel, SelectionKey.OP_READ);
        p[0].close();
        p[1].close();
        sel.selectNow();

        // D: a listener closed while a thread waits in accept (dup2)
        ServerSocketChannel l = ServerSocketChannel.open();
        l.bind(new InetSocketAddress("127.0.0.1", 0));
        System.out.println("LISTENER closed local=" + ((InetSocketAddress) l.getLocalAddress()).getPort());
        Thread acc = new Thread(() -> {
            try {
                l.accept();
            } catch (IOException e) {
            }
        }, "st-acceptor");
        acc.start();
        blockedIn("st-acceptor", "inet_csk_(accept|wait_for_connect)");
        l.close();
        acc.join();

        // E: left open
        pair("E", 10, 20);
        System.out.println("READY pid=" + ProcessHandle.current().pid());
        while (System.in.read() >= 0)
            ;
    }
}
EOF
if ! javac -d "$T" "$T/Nio.java" >"$T/javac.err" 2>&1; then
    not_ok "javac compiled the test program"; sed 's/^/#   /' "$T/javac.err"; done_testing; exit
fi

# the JVM takes SIGSEGV for its own use: ASan must leave that signal alone
export ASAN_OPTIONS="$ASAN_OPTIONS:handle_segv=0:allow_user_segv_handler=1"
start nio --traced java -cp "$T" Nio || { not_ok "the Java program started"; done_testing; exit; }
pid=$(ready_pid nio)

# "local peer sent received" per closed TCP socket, ports only, from history
"$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["sockets"]:
    if s["proto"].startswith("tcp") and s["closed"] and s["peer"]:
        print(s["local"].rsplit(":", 1)[1], s["peer"].rsplit(":", 1)[1],
              s.get("bytes_sent"), s.get("bytes_received"), s["close_seen"])' | sort >"$T/hist"
for name in A-client A-server B-client B-server C-client C-server; do
    want=$(said nio | sed -n "s/^CHAN $name local=\([0-9]*\) peer=\([0-9]*\) sent=\([0-9]*\) received=\([0-9]*\)$/\1 \2 \3 \4 close/p")
    check "$name: in history with the bytes the program sent and received, closed by a call" \
        "$want" "$(grep "^$(cut -d' ' -f1,2 <<<"$want") " "$T/hist")"
done
lport=$(said nio | sed -n 's/^LISTENER closed local=//p')
check "D: the listener closed under a thread in accept is in history, closed by a call" "close" \
    "$("$SOCKTRACE" show "$pid" --all --json | python3 -c '
import json, sys
print(" ".join(s["close_seen"] for s in json.load(sys.stdin)["sockets"]
               if s["closed"] and s["state"] == "closed" and s["local"] and s["local"].endswith(":" + sys.argv[1])))' "$lport")"
# that the pre-close path was taken (a precondition, not a result)
check "the blocked channels were closed by dup2 (NIO's pre-close), 3 of them" "3" \
    "$("$SOCKTRACE" events "$pid" --json | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if json.loads(l)["call"] == "dup2" and json.loads(l)["fd2"] is not None))')"

k=$(kernel_view "$pid")
check "the open table equals ss's view (the listener and pair E)" "$k" "$(tracer_view "$pid" "$(fds_of "$k")")"
check "the table's open fds = /proc/$pid/fd's sockets (NIO's pre-close socket and its copies included)" \
    "$(find /proc/"$pid"/fd -lname 'socket:*' -printf '%f\n' | sort -n | tr '\n' ' ')" \
    "$("$SOCKTRACE" show "$pid" --json | python3 -c '
import json, sys
print(" ".join(str(s["fd"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"])), end=" ")')"
"$SOCKTRACE" show --verify "$pid" >"$T/verify" 2>&1
check "show --verify exits 0" "0" "$?"
finish nio
check "the program exited 0" "0" "$?"
done_testing
