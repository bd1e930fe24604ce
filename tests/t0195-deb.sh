# make deb: the package's contents, owners, checksums and lintian's verdict;
# then, installed with dpkg -i (root, and only when no socktrace package is
# installed already), the library preloads by its bare name and `socktrace
# run -- curl` from /usr/bin records the port the server saw; dpkg -r after.
. "$(dirname "$0")/lib.sh"

if ! command -v dpkg-deb >/dev/null || ! command -v dpkg-shlibdeps >/dev/null; then
    skip "dpkg-deb or dpkg-shlibdeps is missing (apt-get install dpkg-dev)"
    done_testing; exit
fi
if ! deb=$(make -s --no-print-directory -C "$ROOT" deb 2>"$T/deb.err"); then
    not_ok "make deb"; sed 's/^/#   /' "$T/deb.err"
    done_testing; exit
fi
deb=$ROOT/$deb
ok "make deb: $(basename "$deb")"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
check "named socktrace_VERSION_ARCH.deb" \
    "socktrace_$(sed -n 's/^VERSION *= *//p' "$ROOT/Makefile")_$(dpkg-architecture -qDEB_HOST_ARCH).deb" \
    "$(basename "$deb")"
check "its files" "./usr/bin/socktrace
./usr/lib/$ma/libsocktrace.so
./usr/share/doc/socktrace/README.md
./usr/share/doc/socktrace/changelog.gz
./usr/share/doc/socktrace/copyright
./usr/share/lintian/overrides/socktrace
./usr/share/man/man1/socktrace.1.gz
./usr/share/man/man7/libsocktrace.7.gz" \
    "$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | grep -v '/examples/' | sort)"
check "  ... the fleet examples in its doc directory" "yes" \
    "$(dpkg-deb -c "$deb" | grep -q 'doc/socktrace/examples/fleet/schema.sql' && echo yes)"
check "every file owned by root:root" "root/root" "$(dpkg-deb -c "$deb" | awk '{print $2}' | sort -u)"
check "Depends: libc6, from the libraries the ELF files need" "libc6" \
    "$(dpkg-deb -f "$deb" Depends | sed 's/ (.*//')"
mkdir "$T/x"
dpkg-deb -R "$deb" "$T/x"
check_cmd "md5sums matches every file" sh -c "cd '$T/x' && md5sum --quiet -c DEBIAN/md5sums"
check "  ... and lists every file" "$(cd "$T/x" && find usr -type f | sort)" \
    "$(awk '{print $2}' "$T/x/DEBIAN/md5sums" | sort)"
check "the changelog's version is the package's" "$(dpkg-deb -f "$deb" Version)" \
    "$(zcat "$T/x/usr/share/doc/socktrace/changelog.gz" | sed -n '1s/.*(\(.*\)).*/\1/p')"
if command -v lintian >/dev/null; then
    lintian "$deb" >"$T/lintian.out" 2>&1
    check "lintian: no errors or warnings (overrides explained in the package)" "" \
        "$(grep -E '^(E|W):' "$T/lintian.out")"
else
    skip "lintian is not installed (apt-get install lintian)"
fi

if [ "$(id -u)" != 0 ]; then
    skip "dpkg -i needs root"; done_testing; exit
fi
if dpkg -s socktrace >/dev/null 2>&1 || [ -e "/usr/lib/$ma/libsocktrace.so" ]; then
    skip "socktrace is installed on this machine already: not replacing it"; done_testing; exit
fi
trap 'dpkg -r socktrace >/dev/null 2>&1; cleanup' EXIT
check_cmd "dpkg -i installs it" dpkg -i "$deb"
check "  ... the viewer in /usr/bin" "/usr/bin/socktrace" "$(command -v socktrace)"

# the bare name, as the README says: no path, no LD_LIBRARY_PATH
mkdir -m 700 "$T/bare"
out=$(SOCKTRACE_DIR=$T/bare LD_PRELOAD=libsocktrace.so "$EX/bind_port_zero" </dev/null | grep '^SOCK' | sort)
check "LD_PRELOAD=libsocktrace.so preloads the installed library by its bare name" "1" \
    "$(ls "$T/bare" | wc -l)"
check "  ... and the installed viewer reads what it recorded" \
    "$(sed -E 's/^SOCK pid=[0-9]+ fd=([0-9]+) local=([^ ]*) .*/\1 \2/' <<<"$out")" \
    "$(/usr/bin/socktrace -d "$T/bare" show "$(sed -n '1s/.*pid=\([0-9]*\).*/\1/p' <<<"$out")" --all --json |
       python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["fd"]):
    print(s["fd"], s["local"])')"

# socktrace run -- curl, against a server that prints the peer accept gave it
if command -v curl >/dev/null; then
    cat >"$T/server.py" <<'PY'
import socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print("READY port=%d" % l.getsockname()[1], flush=True)
c, a = l.accept()
c.recv(4096)
c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
c.close()
print("PEER %s:%d" % a, flush=True)
PY
    spawn srv python3 "$T/server.py"
    wait_for srv READY
    port=$(said srv | sed -n 's/^READY port=//p')
    /usr/bin/socktrace run --json -o "$T/run.json" -- curl -s "http://127.0.0.1:$port/" >"$T/curl.out"
    check "socktrace run -- curl: curl's own output" "ok" "$(cat "$T/curl.out")"
    wait_for srv PEER
    check "  ... the traced local address is the peer the server accepted" \
        "$(said srv | sed -n 's/^PEER //p')" \
        "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(s["local"] for p in d["processes"] for s in p["sockets"]
               if s["proto"] == "tcp" and s["peer"] == "127.0.0.1:" + sys.argv[2]))' "$T/run.json" "$port")"
else
    skip "curl is not installed"; skip "curl"; skip "curl"
fi

check_cmd "dpkg -r removes it" dpkg -r socktrace
check "  ... the library is gone from the search path" "" "$(ldconfig -p | grep 'libsocktrace\.so ')"
done_testing
