#!/usr/bin/env bash
# The demo: nginx on 127.0.0.1:18443 stands in for the connector, serving a
# certificate that expires in 30 days; certsteward runs as the daemon on
# conf/demo.ini and watches build/demo/drop. The script then drops a renewed
# certificate and a bad one, as an admin would, and shows what happens: the
# events, the certificate nginx serves, the quarantine, `certsteward status`.
# Interactive: the daemon keeps running for more drops until Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build/native -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/native -j"$(nproc)" --target certsteward certsteward-worker cs-testpki >/dev/null
CS=$PWD/build/native/service/certsteward
D=build/demo
NGINX_PID= DAEMON_PID=
stop() {
  # each step may fail (the daemon already gone): the next must run all the same
  [ -z "$DAEMON_PID" ] || { kill -TERM "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; }
  [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true
}
trap stop EXIT

# a fresh demo: a test CA and certificates for board.example.test, the one in service
# (30 days left), the connector's binding file naming it, an empty drop folder
rm -rf "$D"
mkdir -p "$D/pki" "$D/store" "$D/nginx/logs" "$D/nginx/tmp"
mkdir -m 700 "$D/drop" "$D/state"
build/native/tests/cs-testpki "$D/pki" >/dev/null
cat "$D/pki/current-ok.pem" "$D/pki/inter.pem" > "$D/store/cert.pem"
install -m 600 "$D/pki/leaf.key" "$D/store/key.pem"
OLD=$("$CS" check --json --config conf/demo.ini --key "$D/pki/leaf.key" "$D/pki/current-ok.pem" | jq -r .thumbprint || true)
printf '{\n  "webServer": { "port": 8197, "thumbprint": "%s" },\n  "configurationServer": { "port": 8096, "thumbprint": "%s" }\n}\n' \
  "$OLD" "$OLD" > "$D/tls.json"
cat > "$D/nginx/nginx.conf" <<CONF
worker_processes 1; pid $PWD/$D/nginx/nginx.pid; error_log $PWD/$D/nginx/logs/error.log;
events { worker_connections 32; }
http { access_log off; client_body_temp_path $PWD/$D/nginx/tmp/body; proxy_temp_path $PWD/$D/nginx/tmp/proxy;
  fastcgi_temp_path $PWD/$D/nginx/tmp/fcgi; uwsgi_temp_path $PWD/$D/nginx/tmp/uwsgi; scgi_temp_path $PWD/$D/nginx/tmp/scgi;
  server { listen 127.0.0.1:18443 ssl; ssl_certificate $PWD/$D/store/cert.pem;
           ssl_certificate_key $PWD/$D/store/key.pem; return 200 "the connector\n"; } }
CONF
/usr/sbin/nginx -p "$D/nginx" -c nginx.conf || { echo "demo: nginx could not start on 127.0.0.1:18443" >&2; exit 1; }
NGINX_PID=$(cat "$D/nginx/nginx.pid")

served() {
  openssl s_client -connect 127.0.0.1:18443 -servername board.example.test </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'
}
events() { jq -r '"  [\(.id)] \(.severity): \(.message)"' "$D/state/events.jsonl" 2>/dev/null | sed -n "$1,\$p"; }
wait_for() { # wait_for ID: until an event with that id is written (30 s at most)
  for _ in $(seq 300); do jq -r .id "$D/state/events.jsonl" 2>/dev/null | grep -qx "$1" && return 0; sleep 0.1; done
  echo "demo: no event $1 within 30 s" >&2; return 1
}

echo "== nginx (the connector) serves the certificate in service: $(served)"
echo "== certsteward run --config conf/demo.ini (the daemon; its events follow)"
"$CS" run --config conf/demo.ini >"$D/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for 1000
events 1
n=$(wc -l < "$D/state/events.jsonl")

echo
echo "== an admin drops a renewed certificate: cp $D/pki/good-aes.pfx $D/drop/"
cp "$D/pki/good-aes.pfx" "$D/drop/"
wait_for 4006
sleep 0.5
events $((n + 1))
n=$(wc -l < "$D/state/events.jsonl")
echo "   nginx now serves $(served); the binding file says:"
sed 's/^/   /' "$D/tls.json"

echo
echo "== an admin drops a certificate for the wrong host: cp $D/pki/bad-wronghost.pem $D/drop/"
cp "$D/pki/bad-wronghost.pem" "$D/drop/"
wait_for 3002
events $((n + 1))
echo "   quarantined, with the reason: $(ls "$D/state/quarantine/"*.reason)"

echo
echo "== certsteward status --config conf/demo.ini"
"$CS" status --config conf/demo.ini | sed 's/^/   /'

if [ -t 0 ]; then
  echo
  echo "The daemon keeps running. Try more of the bundled files in $D/pki (good-*.pfx, bad-*.pem,"
  echo "good-leaf.der: a renewal that kept its key), copy them into $D/drop/, and watch"
  echo "$D/state/events.jsonl or run: $CS status --config conf/demo.ini"
  echo "Ctrl+C stops the daemon and nginx."
  wait "$DAEMON_PID" || true
fi
echo "demo: done"
