# Shared by the integration scripts (renewal.sh, test_status.sh): a real TLS
# service, nginx, started on 127.0.0.1 with its own prefix, reading the
# certificate files certsteward replaces; a configuration for it; assertions.
# Source it, define test_NAME functions, end with: run_test "$@"
# Environment (set by CTest): CS_BIN (certsteward), CS_TEST_DIR (the test PKI).
set -euo pipefail

PKI=${CS_TEST_DIR:?}
CS=${CS_BIN:?}
HOST=board.example.test
NGINX=/usr/sbin/nginx
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-it.XXXXXX")
NGINX_PID=

cleanup() {
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill "$NGINX_PID"
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAILED: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

# SHA-1 thumbprint of the first certificate in a file (check's verdict does not matter here)
thumbprint() {
  { "$CS" check --json --host "$HOST" --ca "$PKI/ca-chain.pem" --password-file "$PKI/pass.txt" "$1" || true; } |
    jq -r .thumbprint
}

# What an endpoint serves, as a thumbprint
served() {
  openssl s_client -connect "127.0.0.1:$1" -servername "$HOST" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'
}

# expect_served PORT THUMBPRINT WHAT: a reloaded nginx lets its old worker finish the
# connections it took, so a client may meet the old certificate for a moment: poll, 5 s at most
expect_served() {
  local got
  for _ in $(seq 50); do
    got=$(served "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$3: port $1 serves '$got', expected '$2'"
}

# The ids of the events written so far, space-separated
event_ids() { jq -r .id "$T/state/events.jsonl" | tr '\n' ' ' | sed 's/ $//'; }

# setup [SECOND_PORT_CERT|old]: the certificate in service (current-ok.pem, key leaf.key)
# in $T/store, a binding file naming it twice, nginx serving it on P1 (and, with an
# argument, that certificate file, or a copy of the old one, on P2), and a configuration.
setup() {
  mkdir -p "$T/store" "$T/nginx/logs" "$T/nginx/tmp" "$T/state"
  cat "$PKI/current-ok.pem" "$PKI/inter.pem" > "$T/store/cert.pem"
  install -m 600 "$PKI/leaf.key" "$T/store/key.pem"
  OLD=$(thumbprint "$PKI/current-ok.pem")
  local lower
  lower=$(tr 'A-F' 'a-f' <<<"$OLD")
  printf '{\r\n  "webServer": { "port": 8197, "thumbprint": "%s" },\r\n  "configurationServer": { "port": 8096, "thumbprint": "%s" }\r\n}\r\n' \
    "$lower" "$OLD" > "$T/tls.json"
  cp "$T/tls.json" "$T/tls.json.orig"
  cp "$T/store/cert.pem" "$T/cert.pem.orig"
  local second=${1:-}
  if [ "$second" = old ]; then # the second endpoint serves a copy of the old certificate, never replaced
    second=$T/old-copy.pem
    cp "$T/store/cert.pem" "$second"
  fi
  for attempt in 1 2 3 4 5; do
    P1=$((20000 + RANDOM % 20000)); P2=$((P1 + 1))
    {
      echo "worker_processes 1; pid $T/nginx/nginx.pid; error_log $T/nginx/logs/error.log;"
      echo "events { worker_connections 32; }"
      echo "http { access_log off; client_body_temp_path $T/nginx/tmp/body; proxy_temp_path $T/nginx/tmp/proxy;"
      echo "  fastcgi_temp_path $T/nginx/tmp/fcgi; uwsgi_temp_path $T/nginx/tmp/uwsgi; scgi_temp_path $T/nginx/tmp/scgi;"
      echo "  server { listen 127.0.0.1:$P1 ssl; ssl_certificate $T/store/cert.pem; ssl_certificate_key $T/store/key.pem; return 200; }"
      [ -z "$second" ] ||
        echo "  server { listen 127.0.0.1:$P2 ssl; ssl_certificate $second; ssl_certificate_key $PKI/leaf.key; return 200; }"
      echo "}"
    } > "$T/nginx/nginx.conf"
    if "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx/start.err"; then
      NGINX_PID=$(cat "$T/nginx/nginx.pid")
      break
    fi
    grep -q "Address already in use" "$T/nginx/start.err" || { cat "$T/nginx/start.err" >&2; fail "nginx did not start"; }
  done
  [ -n "$NGINX_PID" ] || fail "no free port for nginx"
  expect_served "$P1" "$OLD" "nginx serves the certificate in service"
  RELOAD="$NGINX -p $T/nginx -c $T/nginx/nginx.conf -s reload"
  write_config "127.0.0.1:$P1" "$RELOAD"
}

# write_config ENDPOINTS RESTART_COMMAND
write_config() {
  cat > "$T/cs.ini" <<EOF
[connector]
host = $HOST
account = nobody
endpoints = $1
binding_files = tls.json
restart_command = $2
restart_timeout = 5

[store]
state_dir = state
cert_file = store/cert.pem
key_file = store/key.pem

[watch]
password_file = $PKI/pass.txt

[policy]
ca_file = $PKI/ca-chain.pem
EOF
}

unchanged() {
  cmp -s "$T/store/cert.pem" "$T/cert.pem.orig" || fail "cert.pem changed"
  cmp -s "$T/tls.json" "$T/tls.json.orig" || fail "tls.json changed"
  expect_served "$P1" "$OLD" "still served"
  [ ! -e "$T/state/journal" ] || fail "a journal was left behind"
  [ ! -e "$T/state/tx" ] || fail "the transaction folder was left behind"
}

# run_test NAME: runs test_NAME (each one is one CTest test)
run_test() {
  local name=${1:?test name}
  declare -F "test_$name" >/dev/null || fail "no test named $name"
  "test_$name"
  echo "ok: $name"
}
