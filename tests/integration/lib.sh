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

# fail MESSAGE: the test fails; a suite that defines cs_on_fail adds what explains it
fail() {
  echo "FAILED: $*" >&2
  if declare -F cs_on_fail >/dev/null; then cs_on_fail >&2 || true; fi
  exit 1
}
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
# event_message ID: the messages of the events with that id, one a line
event_message() { jq -r --argjson id "$1" 'select(.id == $id) | .message' "$T/state/events.jsonl"; }

# setup [SECOND_PORT_CERT|old|plain]: the certificate in service (current-ok.pem, key leaf.key)
# in $T/store, a binding file naming it twice, nginx serving it on P1 (and, with an
# argument, that certificate file, or a copy of the old one, on P2; with plain, HTTP
# without TLS on P2), and a configuration.
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
    # below the kernel's ephemeral ports (32768 up): no client socket can hold them
    P1=$((20000 + RANDOM % 12000)); P2=$((P1 + 1))
    {
      echo "worker_processes 1; pid $T/nginx/nginx.pid; error_log $T/nginx/logs/error.log;"
      echo "events { worker_connections 32; }"
      echo "http { access_log off; client_body_temp_path $T/nginx/tmp/body; proxy_temp_path $T/nginx/tmp/proxy;"
      echo "  fastcgi_temp_path $T/nginx/tmp/fcgi; uwsgi_temp_path $T/nginx/tmp/uwsgi; scgi_temp_path $T/nginx/tmp/scgi;"
      echo "  server { listen 127.0.0.1:$P1 ssl; ssl_certificate $T/store/cert.pem; ssl_certificate_key $T/store/key.pem; return 200; }"
      if [ "$second" = plain ]; then
        echo "  server { listen 127.0.0.1:$P2; return 200; }"
      elif [ -n "$second" ]; then
        echo "  server { listen 127.0.0.1:$P2 ssl; ssl_certificate $second; ssl_certificate_key $PKI/leaf.key; return 200; }"
      fi
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

# ---- The daemon for crash.sh, hostile.sh, secrets.sh and storm.sh ------------------
# (daemon.sh keeps its own helpers.) Call cs_use_daemon once: a daemon still running
# at the end is stopped, by its PID, before the test folder goes.
CS_DAEMON_PID=
cs_daemon_stop() {
  if [ -n "$CS_DAEMON_PID" ] && kill -0 "$CS_DAEMON_PID" 2>/dev/null; then
    kill -TERM "$CS_DAEMON_PID"
    wait "$CS_DAEMON_PID" 2>/dev/null || true
  fi
  CS_DAEMON_PID=
}
cs_use_daemon() { trap 'cs_daemon_stop; cleanup' EXIT; }

# cs_watch_config [LINE...]: a drop folder ($T/drop, settle_seconds 0) and the lines
# given, in [watch]
cs_watch_config() {
  local extra="" line
  for line in "$@"; do extra="$extra\\n$line"; done
  sed -i "s|^\[watch\]\$|[watch]\nfolder = drop\nsettle_seconds = 0$extra|" "$T/cs.ini"
  mkdir -p -m 700 "$T/drop"
}

# cs_set SECTION KEY VALUE: sets (or adds) one configuration line
cs_set() {
  local v=${3//|/\\|}
  v=${v//&/\\&}
  if grep -q "^$2 = " "$T/cs.ini"; then
    sed -i "s|^$2 = .*|$2 = $v|" "$T/cs.ini"
  else
    sed -i "s|^\[$1\]\$|[$1]\n$2 = $v|" "$T/cs.ini"
  fi
}

# cs_window_later: a maintenance window that opens at the hour that begins between one and
# two hours from now (local time) and lasts one hour, so that the hour turning while a test
# runs changes nothing: CS_WINDOW ("HH:MM-HH:MM"), CS_WINDOW_OPEN (when it opens) and
# CS_WINDOW_NOW (now), in seconds since 1970
cs_window_later() {
  CS_WINDOW_NOW=$(date +%s)
  CS_WINDOW_OPEN=$(date -d "$(date -d "@$((CS_WINDOW_NOW + 7200))" '+%F %H:00')" +%s)
  CS_WINDOW="$(date -d "@$CS_WINDOW_OPEN" +%H:%M)-$(date -d "@$((CS_WINDOW_OPEN + 3600))" +%H:%M)"
}

# cs_events_count ID: how many events with that id were written
cs_events_count() {
  if [ -f "$T/state/events.jsonl" ]; then jq -r .id "$T/state/events.jsonl" | grep -cx "$1" || true; else echo 0; fi
}

# cs_events_wait ID COUNT SECONDS
cs_events_wait() {
  local i
  for i in $(seq $(($3 * 10))); do
    [ "$(cs_events_count "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  cat "$T/daemon.out" >&2 2>/dev/null || true
  fail "event $1 not seen $2 time(s) within $3 s; events: $(event_ids 2>/dev/null)"
}

# cs_daemon_start [ARGS...]: certsteward run in the background (output in
# $T/daemon.out), once it has said it started
cs_daemon_start() {
  "$CS" run --config "$T/cs.ini" "$@" >"$T/daemon.out" 2>&1 &
  CS_DAEMON_PID=$!
  cs_events_wait 1000 1 10
}

# cs_alive: the daemon still runs
cs_alive() { kill -0 "$CS_DAEMON_PID" 2>/dev/null || { cat "$T/daemon.out" >&2; fail "the daemon stopped"; }; }

# Resident memory (KiB) and open file descriptors of a process, from /proc
cs_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# cs_fd_count PID: the daemon's open descriptors once it is idle (no worker or command
# running, the same count twice 0.2 s apart; at most 10 s): a job at start (recovery,
# the expiry check) holds pipes that are not the daemon's own
cs_fd_count() {
  local i n m=-1
  for i in $(seq 50); do
    n=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l)
    if [ "$n" = "$m" ] && ! pgrep -P "$1" >/dev/null; then break; fi
    m=$n
    sleep 0.2
  done
  echo "$n"
}

# cs_temp_files DIR...: temp files cs_plat_write_atomic leaves when it is stopped
# half-way (".<name>.XXXXXX"), one a line
cs_temp_files() { find "$@" -name '.*.??????' -type f 2>/dev/null || true; }

# cs_key_matches CERT KEY: the key is the certificate's
cs_key_matches() {
  cmp -s <(openssl x509 -in "$1" -noout -pubkey) <(openssl pkey -in "$2" -pubout)
}

# cs_nobody_reads FILE: an ACL entry grants the [connector] account nobody READ
cs_nobody_reads() { getfacl -cp "$1" 2>/dev/null | grep -Eq '^user:nobody:r'; }

# cs_ossl_tp CERT: openssl's SHA-1 thumbprint of a PEM certificate file
cs_ossl_tp() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }

# cs_asan: certsteward is an AddressSanitizer build. Resident memory says little there
# (ASan holds freed memory in quarantine); its leak check at exit stands in for it.
cs_asan() { [ "$(ldd "$CS" 2>/dev/null | grep -c libasan)" != 0 ]; }

# cs_daemon_stop_clean: stops the daemon with SIGTERM; it must exit 0 (in an ASan
# build, after its leak check)
cs_daemon_stop_clean() {
  local st=0
  kill -TERM "$CS_DAEMON_PID"
  wait "$CS_DAEMON_PID" || st=$?
  CS_DAEMON_PID=
  [ "$st" -eq 0 ] || { tail -40 "$T/daemon.out" >&2; fail "the daemon exited $st after SIGTERM"; }
}

# cs_flat WHAT RSS0 RSS1 FDS0 FDS1 BOUND_KIB: resident memory grew by less than the
# bound (not judged in an ASan build) and the descriptor count is back where it was
cs_flat() {
  echo "$1: resident memory $2 -> $3 KiB, descriptors $4 -> $5"
  expect_eq "$5" "$4" "$1: open descriptors"
  if cs_asan; then
    echo "$1: AddressSanitizer build: resident memory not judged (the leak check at exit is)"
  elif [ $(($3 - $2)) -ge "$6" ]; then
    fail "$1: resident memory grew by $(($3 - $2)) KiB (bound $6 KiB)"
  fi
}

# cs_drop FILE [NAME]: into the drop folder as an admin's copy would land, whole
# (written under a dotted name, which the daemon ignores, then renamed)
cs_drop() {
  local name=${2:-$(basename "$1")}
  cp "$1" "$T/drop/.$name.incoming"
  mv "$T/drop/.$name.incoming" "$T/drop/$name"
}

# cs_private_password: the daemon reads no password file others can read: the test
# PKI's copied to $T/pass.txt, mode 0600, and named in [watch] password_file
cs_private_password() {
  install -m 600 "$PKI/pass.txt" "$T/pass.txt"
  cs_set watch password_file "$T/pass.txt"
}

# cs_vouch TP KEYFILE: the state folder's record (common/committed.h) says certsteward put
# TP in service itself, with the key file KEYFILE as it is now (device and inode): as
# after an earlier renewal, so that it keeps the [connector] account's READ on that key
cs_vouch() {
  mkdir -p "$T/state"
  printf 'tp %s\nkey %s\n' "$1" "$(stat -c '%d:%i' "$2")" >"$T/state/committed"
  chmod 600 "$T/state/committed"
}

# ---- The connector as a service: a stand-in for systemctl ----------------------------
# A test build takes CERTSTEWARD_TEST_SYSTEMCTL for /bin/systemctl (common/posix/service.c).
# systemd does not run here, so cs_split_setup makes the connector a service ([connector]
# service set, no restart_command: stopped, rewritten, started) whose unit is setup's
# nginx, stopped (its master process gone) and started by $T/systemctl. Like a connector
# that saves its settings when it stops, the stand-in writes the tls.json it read at its
# last start back when it stops. Each real stop and start is logged in $T/systemctl.log with
# the thumbprint tls.json names at that moment; $T/fail-start-once fails the next start
# (exit 3). The nginx it leaves running is stopped at the end, by the PID in its pid file.
cs_split_setup() {
  {
    echo '#!/bin/bash'
    printf 'T=%q NGINX=%q\n' "$T" "$NGINX"
    cat <<'SH'
set -u
pidf=$T/nginx/nginx.pid
running() { [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }
named() { grep -o '"thumbprint": "[0-9A-Fa-f]*"' "$T/tls.json" | head -n 1 | sed 's/.*: "//; s/"$//' | tr a-f A-F; }
log() { echo "$1 $(named)" >>"$T/systemctl.log"; }
do_stop() {
  local pid
  if running; then
    pid=$(cat "$pidf")
    [ ! -f "$T/connector-settings" ] || cat "$T/connector-settings" >"$T/tls.json"
    kill -QUIT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null || exit 1
    log stop
  fi
}
do_start() {
  if [ -e "$T/fail-start-once" ]; then rm -f "$T/fail-start-once"; log start-failed; exit 3; fi
  if ! running; then
    "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" || exit 1
    # systemd's start of a forking service returns once the PID file is there
    for _ in $(seq 100); do running && break; sleep 0.05; done
    running || exit 1
    cp "$T/tls.json" "$T/connector-settings"
    log start
  fi
}
case $1 in
show) echo loaded ;;
is-active) if running; then echo active; else echo inactive; exit 3; fi ;;
stop) do_stop ;;
start) do_start ;;
restart) do_stop; do_start ;;
*) echo "systemctl stand-in: $1 is not known" >&2; exit 1 ;;
esac
SH
  } >"$T/systemctl"
  chmod 755 "$T/systemctl"
  cp "$T/tls.json" "$T/connector-settings" # what the running connector loaded
  cs_set connector restart_command ""
  cs_set connector service cs-test-connector
  export CERTSTEWARD_TEST_SYSTEMCTL=$T/systemctl
  trap 'cs_daemon_stop; NGINX_PID=$(cat "$T/nginx/nginx.pid" 2>/dev/null || true); cleanup' EXIT
}

# cs_split_log: the stand-in's log on one line ("stop <tp>, start <tp>, ...")
cs_split_log() { sed 's/$/,/' "$T/systemctl.log" 2>/dev/null | tr '\n' ' ' | sed 's/, $//'; }
