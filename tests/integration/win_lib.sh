# Shared by the tests of certsteward.exe under Wine (win_e2e.sh, win_attacks.sh,
# win_trust.sh): sourced as `. win_lib.sh NAME` (NAME names the test folder $T). CTest
# (scripts/win-build.sh) exports the private WINEPREFIX and gives CS_WINE (the Wine
# runner), CS_BIN (certsteward.exe), CS_CERTTOOL (cs-certtool.exe) and CS_TEST_DIR (the
# test PKI, "Z:/..."), all as Linux paths apart from CS_TEST_DIR's drive prefix. The
# state folder whose events are read is $PD, set by the script.
set -euo pipefail

W=${CS_WINE:?}
CS=${CS_BIN:?}
CERTTOOL=${CS_CERTTOOL:?}
PKI=${CS_TEST_DIR:?}
PKI=${PKI#Z:}
: "${WINEPREFIX:?run by scripts/win-build.sh, which makes a private Wine prefix}"
HOST=board.example.test
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-${1:?the test folder name}.XXXXXX")

fail() { echo "FAILED: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# win PROGRAM ARGS...: a Windows program, its output kept away from our pipes
win() { "$W" "$@" </dev/null 2>>"$T/wine.err"; }
# The Windows path of a Linux path (Wine's Z: drive)
wpath() { printf 'Z:%s' "$1" | tr / '\\'; }

# SHA-1 thumbprint of the leaf of a PFX (OpenSSL on the Linux side)
pfx_thumbprint() {
  openssl pkcs12 -in "$1" -passin "file:$PKI/pass.txt" -nokeys -clcerts 2>/dev/null |
    openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'
}
pem_thumbprint() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }

events() { [ -f "$PD/events.jsonl" ] && tr -d '\r' <"$PD/events.jsonl" || true; }
count_event() { events | jq -r .id | grep -cx "$1" || true; }
# wait_event ID COUNT SECONDS
wait_event() {
  local i
  for i in $(seq $(($3 * 10))); do
    [ "$(count_event "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  echo "events so far:" >&2
  events | jq -c '{id, message}' >&2 || true
  fail "event $1 not written $2 time(s) in $3 s"
}

# certsteward.exe ARGS... with its own standard output and error in $T/NAME.out and
# $T/NAME.err (CRs removed); its exit status in ST.
cs_run() {
  local name=$1
  shift
  set +e
  "$W" "$CS" "$@" </dev/null >"$T/$name.raw" 2>"$T/$name.rawerr"
  ST=$?
  set -e
  tr -d '\r' <"$T/$name.raw" >"$T/$name.out"
  tr -d '\r' <"$T/$name.rawerr" >"$T/$name.err"
}

# in_service CERT KEY BINDING: CERT with KEY in LocalMachine\My as the certificate in
# service (OLD), imported by the tests' own crypt32 tool, named twice (Web Server and
# Configuration Server) by the connector's settings file BINDING, written anew. My is
# emptied first, as on a new server: what other tests left there (a PFX's chain
# certificates among them, which Wine links to its key) is no candidate for adoption.
in_service() {
  local tp
  for tp in $(win "$CERTTOOL" list | tr -d '\r' | cut -d' ' -f1); do win "$CERTTOOL" remove "$tp" >/dev/null || true; done
  openssl pkcs12 -export -in "$1" -inkey "$2" -passout "file:$PKI/pass.txt" -out "$T/current.pfx"
  OLD=$(win "$CERTTOOL" import "$(wpath "$T/current.pfx")" "$(wpath "$PKI/pass.txt")" | tr -d '\r')
  expect_eq "$OLD" "$(pem_thumbprint "$1")" "the certificate in service, imported"
  printf '{\r\n  "webServer": { "port": 8197, "thumbprint": "%s" },\r\n  "configurationServer": { "port": 8096, "thumbprint": "%s" }\r\n}\r\n' \
    "$OLD" "$OLD" >"$3"
}

# connector_lines BINDING: the [connector] lines of every configuration of these tests
# besides host and how the connector restarts
connector_lines() {
  cat <<EOF
; no key-permission step and no probe under Wine (see tests/integration/win_e2e.sh)
account =
endpoints =
binding_files = $(wpath "$1")
restart_timeout = 20
EOF
}

# remove_test_certificates: OLD, NEW and those in EXTRA out of LocalMachine\My (at exit)
remove_test_certificates() {
  local tp
  for tp in ${OLD:-} ${NEW:-} ${EXTRA:-}; do win "$CERTTOOL" remove "$tp" >/dev/null; done
}
