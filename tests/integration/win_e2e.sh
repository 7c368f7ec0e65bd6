#!/usr/bin/env bash
# certsteward.exe end to end as a Windows service, under Wine's real service manager:
# `certsteward install` registers it, the SCM starts it (`certsteward.exe service`),
# a PFX dropped into C:\ProgramData\certsteward\drop is imported into LocalMachine\My,
# the connector's tls.json is rewritten to the new thumbprint, the connector (a
# small test service, cs-testsvc.exe) is restarted through the SCM, and the events
# say so; a bad file is quarantined; the SCM stops it; `uninstall` removes the
# service and keeps the configuration and the state. `certsteward rollback` puts the
# old certificate back in service (and refuses, changing nothing, when its key is out
# of reach or the service runs). A .cer whose key waits in LocalMachine\REQUEST (the
# request made on the server) is joined to that key as certreq -accept does.
#
# Run by CTest in the Windows build (scripts/win-build.sh): what it gives is said in
# win_lib.sh, and CS_TESTSVC (cs-testsvc.exe). Usage: win_e2e.sh TEST_NAME.
#
# What Wine cannot hold faithfully, this configuration leaves out, as an admin may:
#  - [connector] account is empty: Wine keeps no machine keys nor key ACLs (every PFX
#    import goes into one key container, key security descriptors are faked), so the
#    key-permission step is proven by the pure tests of common/win/keyacl.c and on
#    real Windows only;
#  - [connector] endpoints is empty: the test connector serves no TLS (the probe is
#    proven by the Linux integration tests and the worker's own tests).
# The daemon's permission checks (drop and state folders, the password file) read the
# DACL Wine makes up: administrators only under C:\ProgramData, Everyone's on the Z:
# drive; so the password file is written by set-password under C:\ProgramData, as an
# admin would, and the checks themselves are proven by the pure tests of acl.h.
# Adoption asks whether the key is kept to the administrators: Wine reports the one
# descriptor it makes for every machine key (owner Administrators, their full control,
# Users' read inherit-only) and keeps none that is set, so a key others can read is
# proven by the pure tests of cs__win_key_private (test_win_keyacl) only.
# Event Log contents are not stored by Wine: the events are read from the
# JSON-lines copy in the state folder, which Windows writes too.
. "$(dirname "$0")/win_lib.sh" e2e
TESTSVC=${CS_TESTSVC:?}
CONNECTOR=cs-e2e-connector
PD=$WINEPREFIX/drive_c/ProgramData/certsteward

cleanup() {
  set +e
  win sc stop certsteward >/dev/null
  win "$CS" uninstall >/dev/null
  win sc stop "$CONNECTOR" >/dev/null
  win sc delete "$CONNECTOR" >/dev/null
  remove_test_certificates
  for tp in ${REQUESTS:-}; do win "$CERTTOOL" remove "$tp" REQUEST >/dev/null; done
  rm -rf "$T" "$WINEPREFIX/drive_c/Zertifikate" "$WINEPREFIX/drive_c/cs-doctor-bin" ${EXTRA_DIRS:-}
}
trap cleanup EXIT

# The state of a service as sc reports it (RUNNING, STOPPED, ...), "" when it does not exist
svc_state() { win sc query "$1" | tr -d '\r' | awk '$1 == "STATE" { print $4 }'; }

# wait_state SERVICE STATE SECONDS
wait_state() {
  local i
  for i in $(seq $(($3 * 10))); do
    [ "$(svc_state "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "service $1 is '$(svc_state "$1")', not $2, after $3 s"
}

# setup [CERT KEY]: the certificate in service (current-ok.pem with leaf.key when not
# given): in LocalMachine\My with its key (imported by the tests' own crypt32 tool),
# named by the test connector's tls.json; the connector registered with the SCM and
# running.
setup() {
  local cert=${1:-$PKI/current-ok.pem} key=${2:-$PKI/leaf.key}
  rm -rf "$PD" # an earlier test's configuration, events and archive (uninstall keeps them)
  mkdir -p "$T/connector"
  in_service "$cert" "$key" "$T/connector/tls.json"
  # the test connector keeps tls.json open while it runs, shared for reading only (no
  # one may replace it meanwhile), and writes what it read back when it stops
  wpath "$T/connector/tls.json" >"$T/connector/settings"
  win sc create "$CONNECTOR" binPath= "\"$(wpath "$TESTSVC")\" $CONNECTOR $(wpath "$T/connector")" >/dev/null ||
    fail "cannot register the test connector"
  win sc start "$CONNECTOR" >/dev/null || fail "cannot start the test connector"
  wait_state "$CONNECTOR" RUNNING 10

  win "$CS" install >"$T/install.out" || { cat "$T/install.out" >&2; fail "certsteward install failed"; }
  [ -d "$PD/drop" ] || fail "install made no drop folder"
  expect_eq "$(svc_state certsteward)" STOPPED "the service after install"
  cat >"$PD/certsteward.ini" <<EOF
[connector]
host = $HOST
service = $CONNECTOR
$(connector_lines "$T/connector/tls.json")

[watch]
password_file = C:\ProgramData\certsteward\pfx.pass
settle_seconds = 1

[policy]
ca_file = $(wpath "$PKI/ca-chain.pem")
EOF
  win "$CS" config >"$T/config.out" || { cat "$T/config.out" >&2; fail "the configuration is not valid"; }
  # the PFX password, sealed with DPAPI by set-password (piped in, as a script would)
  "$W" "$CS" set-password <"$PKI/pass.txt" >"$T/setpw.out" 2>>"$T/wine.err" ||
    { cat "$T/setpw.out" >&2; fail "set-password failed"; }
  [ -s "$PD/pfx.pass" ] || fail "set-password wrote no password file"
  if grep -qF "$(head -n 1 "$PKI/pass.txt")" "$PD/pfx.pass" "$T/setpw.out"; then
    fail "the password is in clear in the password file or in set-password's output"
  fi
}

# renew [FILE]: the service started by the SCM renews OLD with FILE of the test PKI
# (NEW; good-aes.pfx when not given) dropped into the drop folder, commits, and
# archives OLD (4007 comes after the commit, 4006).
renew() {
  local file=${1:-good-aes.pfx}
  case $file in
  *.pfx) NEW=$(pfx_thumbprint "$PKI/$file") ;;
  *) NEW=$(pem_thumbprint "$PKI/$file") ;;
  esac
  [ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || fail "test PKI: no new thumbprint"

  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 1000 1 20

  cp "$PKI/$file" "$PD/drop/renewed.${file##*.}"
  wait_event 4006 1 60
  wait_event 4007 1 20
}

# install_log TAG: the Linux path of the log file certsteward install named on the
# standard output of the cs_run TAG, checked to hold what it said on standard error
install_log() {
  local log unix
  log=$(sed -n 's/^what certsteward install said is also in //p' "$T/$1.out")
  [ -n "$log" ] || fail "install named no log file: $(cat "$T/$1.out" "$T/$1.err")"
  case $log in *'\certsteward-install-'*'Z-'*.log) ;; *) fail "log file name: $log" ;; esac
  unix=$(win winepath -u "$log" | tr -d '\r')
  [ -f "$unix" ] || fail "the log file $log ($unix) is not there"
  while IFS= read -r line; do
    [ -z "$line" ] || grep -qF -- "$line" "$unix" || fail "'$line' (standard error) is not in the log: $(cat "$unix")"
  done <"$T/$1.err"
  printf '%s' "$unix"
}

# What install says reaches a log file of its own in the temporary folder, made new
# each time (an MSI shows neither standard output nor error): a failure with its
# reason and exit code; --set values kept out of an existing configuration, said as a
# warning, the install still done. The Event Log copies of these lines (1016, 1017)
# are proven on real Windows only (Wine's ReportEvent stores nothing).
test_install_says_what_it_did_in_a_log() {
  local first second tpl
  tpl=$(wpath "$(dirname "$CS")/../certsteward-windows.ini")
  rm -rf "$PD"
  cs_run i1 install --config-template "$tpl" --set nosuchkey=1
  [ "$ST" != 0 ] || fail "install with an unknown key succeeded"
  first=$(install_log i1)
  grep -q 'no "nosuchkey =" line' "$first" || fail "the reason is not in the log: $(cat "$first")"
  grep -q "exit code $ST (failed)" "$first" || fail "the exit code is not in the log: $(cat "$first")"
  cs_run i2 install --config-template "$tpl"
  [ "$ST" = 0 ] || fail "install failed: $(cat "$T/i2.err")"
  cs_run i3 install --set host=other.example.test
  [ "$ST" = 0 ] || fail "install with an existing configuration failed: $(cat "$T/i3.err")"
  grep -q "warning: .* exists and is kept as it is: --set host=other.example.test not applied" "$T/i3.err" ||
    fail "the kept --set value is not said as a warning: $(cat "$T/i3.err")"
  second=$(install_log i3)
  [ "$first" != "$second" ] || fail "two installs wrote one log file"
  grep -q "exit code 0 (done)" "$second" || fail "the exit code is not in the log: $(cat "$second")"
  tr -d '\r' <"$PD/certsteward.ini" | grep -q "^host = *$" || fail "the kept configuration changed: $(grep host "$PD/certsteward.ini")"
}

# An apply killed after it rewrote tls.json leaves its journal; uninstall (as the MSI's
# removal runs it) rolls that renewal back before it removes the service: tls.json as
# it was, the new certificate out of My, no journal; said on standard error and in the
# log. The service is gone after.
test_uninstall_rolls_back_an_unfinished_renewal() {
  setup
  cp "$T/connector/tls.json" "$T/tls.json.orig"
  NEW=$(pfx_thumbprint "$PKI/good-aes.pfx")
  CERTSTEWARD_TEST_FAULT=after_bindings cs_run ap apply "$(wpath "$PKI/good-aes.pfx")"
  [ "$ST" != 0 ] || fail "apply was not stopped at after_bindings"
  [ -e "$PD/journal" ] || fail "the killed apply left no journal"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "tls.json after the killed apply"
  cs_run un uninstall
  [ "$ST" = 0 ] || fail "uninstall failed (exit status $ST): $(cat "$T/un.err")"
  grep -q "an unfinished renewal was found and rolled-back" "$T/un.err" ||
    fail "uninstall does not say it rolled the renewal back: $(cat "$T/un.out" "$T/un.err")"
  cmp -s "$T/connector/tls.json" "$T/tls.json.orig" || fail "tls.json was not put back"
  if win "$CERTTOOL" has "$NEW"; then fail "the certificate of the unfinished renewal is still in My"; fi
  [ ! -e "$PD/journal" ] || fail "the journal is still there"
  expect_eq "$(svc_state certsteward)" "" "the service after uninstall"
}

# safe_copy: CS becomes a copy of certsteward.exe and its worker in C:\cs-doctor-ok (mode
# 755: Wine's made-up DACL lets only administrators change it), so that doctor's
# program_folder check does not judge the folder the build happens to be in (a clone
# under /tmp is in a folder everyone can change); removed at the end
safe_copy() {
  local d=$WINEPREFIX/drive_c/cs-doctor-ok
  mkdir -p "$d"
  cp "$CS" "$(dirname "$CS")/certsteward-worker.exe" "$d/"
  chmod 755 "$d" "$d/certsteward.exe" "$d/certsteward-worker.exe"
  CS=$d/certsteward.exe
  EXTRA_DIRS="${EXTRA_DIRS:-} $d"
}

starts() { grep -c '^start' "$T/connector/starts.log"; }

test_service_renewal() {
  local new starts
  setup
  renew
  for id in 3000 3001 4000 4001 4003 4004; do
    [ "$(count_event $id)" = 1 ] || fail "event $id written $(count_event $id) times, expected once"
  done
  [ "$(count_event 5000)" = 0 ] || fail "a rollback started"
  # the connector's settings name the new certificate, both places, nothing else changed
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json"
  grep -q "$OLD" "$T/connector/tls.json" && fail "tls.json still names the old certificate"
  # the connector was restarted through the SCM: two starts, running again
  starts=$(grep -c '^start' "$T/connector/starts.log")
  expect_eq "$starts" 2 "connector starts"
  expect_eq "$(svc_state "$CONNECTOR")" RUNNING "the connector after the renewal"
  # the new certificate is in LocalMachine\My (crypt32 itself, and status); the old one
  # is kept there ([store] old_certificates = keep) and archived
  win "$CERTTOOL" has "$NEW" || fail "LocalMachine\\My does not hold the new certificate"
  win "$CERTTOOL" has "$OLD" || fail "the old certificate was removed (old_certificates = keep)"
  ls "$PD"/archive/* >/dev/null 2>&1 || fail "nothing archived under $PD/archive"
  win "$CS" status --json >"$T/status.json" || fail "status failed"
  jq -e --arg tp "$NEW" '.monitored.files | map(select(.thumbprint == $tp)) | length == 1' "$T/status.json" \
    >/dev/null || { jq .monitored "$T/status.json" >&2; fail "LocalMachine\\My does not list $NEW"; }
  [ ! -e "$PD/drop/renewed.pfx" ] || fail "the dropped file was left in the drop folder"

  # a bad file, written by a Windows program this time (the watcher sees both):
  # quarantined with its reason, nothing changed, the service still runs
  win cmd /c copy "$(wpath "$PKI/bad-wronghost.pem")" 'C:\ProgramData\certsteward\drop\wrong.pem' >/dev/null ||
    fail "cmd /c copy into the drop folder failed"
  wait_event 3002 1 30
  ls "$PD"/quarantine/*wrong.pem* >/dev/null 2>&1 || fail "the bad file is not in the quarantine"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "tls.json after a rejected drop"
  expect_eq "$(svc_state certsteward)" RUNNING "certsteward after a rejected drop"

  # the SCM stops it; uninstall removes the service, keeps configuration and state
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
  wait_event 1001 1 10
  win "$CS" uninstall >"$T/uninstall.out" || { cat "$T/uninstall.out" >&2; fail "uninstall failed"; }
  expect_eq "$(svc_state certsteward)" "" "the service after uninstall"
  [ -f "$PD/certsteward.ini" ] || fail "uninstall removed the configuration"
  [ -f "$PD/events.jsonl" ] || fail "uninstall removed the state"
}

# certsteward rollback, run as a command: refused while the service holds the state
# folder (it says so); with the service stopped, the old certificate back in service
# through the same transaction: validated without "expires later", bound to its own
# key still in LocalMachine\My, tls.json rewritten back, the connector restarted, the
# events; the certificate it replaced archived in turn, so a second rollback goes
# forward again. (The key itself: real Windows only, see common/win/store.c.)
# The renewal drops good-later-san.pem, a certificate test_win_store never puts in
# LocalMachine\My (CTest may run both at once in the one Wine prefix).
test_rollback_command() {
  setup
  cp "$T/connector/tls.json" "$T/tls.json.orig"
  renew good-later-san.pem
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json after the renewal"

  cs_run rb0 rollback
  [ "$ST" != 0 ] || fail "rollback ran beside the running service"
  grep -q "the certsteward service is running" "$T/rb0.err" || { cat "$T/rb0.out" "$T/rb0.err" >&2; fail "the refusal does not say the service runs"; }
  grep -q "sc stop certsteward" "$T/rb0.err" || fail "the refusal does not say what to do: $(cat "$T/rb0.err")"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "tls.json after the refused rollback"
  expect_eq "$(starts)" 2 "connector starts after the refused rollback"

  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
  cs_run rb1 rollback
  [ "$ST" = 0 ] || { cat "$T/rb1.out" "$T/rb1.err" >&2; fail "rollback failed (exit status $ST)"; }
  grep -q "^rolling back to $OLD " "$T/rb1.out" || fail "rollback does not name $OLD: $(cat "$T/rb1.out")"
  grep -q "committed ($NEW -> $OLD)" "$T/rb1.out" || fail "no committed line: $(cat "$T/rb1.out")"
  grep -q "expires_later" "$T/rb1.out" && fail "a rollback was compared with the certificate in service"
  grep -q "own private key" "$T/rb1.out" ||
    fail "the verdict does not say the certificate keeps its own key: $(cat "$T/rb1.out")"
  # tls.json as it was before the renewal, the connector restarted once more
  cmp -s "$T/connector/tls.json" "$T/tls.json.orig" || fail "tls.json does not name the old certificate as before"
  expect_eq "$(starts)" 3 "connector starts after the rollback"
  expect_eq "$(svc_state "$CONNECTOR")" RUNNING "the connector after the rollback"
  # the events: a second transaction, committed, from NEW back to OLD, no undo
  for id in 4000 4001 4003 4004 4006 4007; do
    expect_eq "$(count_event $id)" 2 "event $id after the renewal and the rollback"
  done
  expect_eq "$(count_event 5000)" 0 "rollback-started events (an undo)"
  expect_eq "$(events | jq -r 'select(.id == 4006) | [.old_thumbprint, .thumbprint] | join(" ")' | tail -n 1)" \
    "$NEW $OLD" "the committed rollback's thumbprints"
  events | jq -r 'select(.id == 4000) | .message' | tail -n 1 | grep -q "archive" ||
    fail "the rollback's start event does not name the archived file"
  # both certificates still in My (keep); the one replaced archived in turn; nothing left
  win "$CERTTOOL" has "$OLD" || fail "LocalMachine\\My lost $OLD"
  win "$CERTTOOL" has "$NEW" || fail "LocalMachine\\My lost $NEW (old_certificates = keep)"
  [ -s "$PD/archive/$NEW/cert.cer" ] || fail "the certificate rolled back from is not archived"
  [ ! -e "$PD/journal" ] && [ ! -e "$PD/tx" ] || fail "transaction left behind"

  # a second rollback goes forward again
  cs_run rb2 rollback
  [ "$ST" = 0 ] || { cat "$T/rb2.out" "$T/rb2.err" >&2; fail "the second rollback failed (exit status $ST)"; }
  grep -q "committed ($OLD -> $NEW)" "$T/rb2.out" || fail "no committed line: $(cat "$T/rb2.out")"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json after the second rollback"
  expect_eq "$(starts)" 4 "connector starts after the second rollback"
}

# [store] old_certificates = delete: the renewal removes the old certificate from
# LocalMachine\My, so its key is out of reach; rollback refuses, says why and what to
# do, and changes nothing.
test_rollback_refused_after_delete() {
  local lines
  setup
  printf '\r\n[store]\r\nold_certificates = delete\r\n' >>"$PD/certsteward.ini"
  win "$CS" config >"$T/config.out" || { cat "$T/config.out" >&2; fail "the configuration is not valid"; }
  renew good-later-san.pem
  win "$CERTTOOL" has "$OLD" && fail "the old certificate is still in LocalMachine\\My (old_certificates = delete)"
  [ -s "$PD/archive/$OLD/cert.cer" ] || fail "the old certificate is not archived"
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
  wait_event 1001 1 10
  cp "$T/connector/tls.json" "$T/tls.json.renewed"
  lines=$(events | wc -l)

  cs_run rb rollback
  expect_eq "$ST" 2 "exit status of the refused rollback"
  grep -q "refused, nothing was changed" "$T/rb.err" || { cat "$T/rb.out" "$T/rb.err" >&2; fail "no refusal"; }
  grep -q "$OLD is no longer in LocalMachine\\\\My" "$T/rb.err" || fail "the refusal does not say why: $(cat "$T/rb.err")"
  grep -q "old_certificates = delete" "$T/rb.err" || fail "the refusal does not name the setting: $(cat "$T/rb.err")"
  grep -q "drop its PFX file (certificate and private key) into the drop folder" "$T/rb.err" ||
    fail "the refusal does not say what to do: $(cat "$T/rb.err")"
  # nothing changed: settings, connector, store, state, events
  cmp -s "$T/connector/tls.json" "$T/tls.json.renewed" || fail "tls.json changed"
  expect_eq "$(starts)" 2 "connector starts"
  win "$CERTTOOL" has "$NEW" || fail "LocalMachine\\My lost $NEW"
  win "$CERTTOOL" has "$OLD" && fail "the refused rollback put $OLD in LocalMachine\\My"
  [ ! -e "$PD/journal" ] && [ ! -e "$PD/tx" ] || fail "transaction left behind"
  expect_eq "$(events | wc -l)" "$lines" "event lines after the refused rollback"
}

# Without the connector installed, the service runs, watches and says so (1003).
test_no_connector() {
  setup
  sed -i "s/^service = .*/service = cs-e2e-not-installed/" "$PD/certsteward.ini"
  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 1003 1 20
  events | jq -r 'select(.id == 1003) | .message' | grep -q "cs-e2e-not-installed" ||
    fail "CONNECTOR_MISSING does not name the service"
  sleep 2
  expect_eq "$(svc_state certsteward)" RUNNING "certsteward without the connector"
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
}

# The Windows worker probes a TLS server on 127.0.0.1 (OpenSSL's s_server on the Linux
# side) and reads the certificate it serves, with SNI.
test_probe_from_windows() {
  local port pid="" out want i
  want=$(pem_thumbprint "$PKI/current-ok.pem")
  for i in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 12000))
    openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$PKI/current-ok.pem" -key "$PKI/leaf.key" \
      </dev/null >"$T/s_server.out" 2>&1 &
    pid=$!
    sleep 0.5
    kill -0 "$pid" 2>/dev/null && break
    pid=""
  done
  [ -n "$pid" ] || fail "openssl s_server did not start"
  out=$(win "$(dirname "$CS")/certsteward-worker.exe" probe --timeout 10000 --sni "$HOST" "127.0.0.1:$port" |
    tr -d '\r') || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$out" | grep -qx "served $want CN=$HOST.*" || { echo "$out" >&2; fail "the probe did not read $want"; }
}

# check --json: the Windows build gives the same verdict and the same checks (id and
# outcome) as the Linux build for every file of the test PKI.
test_check_same_verdicts() {
  local native=${CS_NATIVE_BIN:?the native certsteward, built by scripts/win-build.sh} f n=0 a b
  for f in "$PKI"/*.pem "$PKI"/*.pfx "$PKI"/*.der "$PKI"/*.p7b "$PKI"/*.bin; do
    [ -f "$f" ] || continue
    a=$("$native" check --json --host "$HOST" --ca "$PKI/ca-chain.pem" --password-file "$PKI/pass.txt" "$f" |
      jq -c '{verdict, thumbprint, checks: [.checks[]? | {id, ok}]}') || true
    b=$(win "$CS" check --json --host "$HOST" --ca "$(wpath "$PKI/ca-chain.pem")" \
      --password-file "$(wpath "$PKI/pass.txt")" "$(wpath "$f")" | tr -d '\r' |
      jq -c '{verdict, thumbprint, checks: [.checks[]? | {id, ok}]}') || true
    [ -n "$a" ] || fail "$(basename "$f"): no verdict from the Linux build"
    expect_eq "$b" "$a" "$(basename "$f"): Windows verdict"
    n=$((n + 1))
  done
  [ "$n" -ge 30 ] || fail "only $n files compared"
}

# Paths that no single ANSI code page holds (main's argv turns them into "?" or into
# bytes that are not UTF-8): certsteward check reads and judges
# C:\Zertifikate\Übergang\neu.pfx with its password file and trust anchors beside it,
# through the worker it hands the command line over to.
test_check_non_ascii_path() {
  local dir="$WINEPREFIX/drive_c/Zertifikate/Übergang" w='C:\Zertifikate\Übergang'
  mkdir -p "$dir"
  cp "$PKI/good-aes.pfx" "$dir/neu.pfx"
  cp "$PKI/pass.txt" "$dir/Kennwort ключ.txt"
  cp "$PKI/ca-chain.pem" "$dir/Vertrauen 証明書.pem"
  cs_run chk check --host "$HOST" --ca "$w\Vertrauen 証明書.pem" --password-file "$w\Kennwort ключ.txt" "$w\neu.pfx"
  [ "$ST" = 0 ] || { cat "$T/chk.out" "$T/chk.err" >&2; fail "check of $w\\neu.pfx: exit status $ST"; }
  grep -qxF "$w\neu.pfx: accepted" "$T/chk.out" || fail "no verdict naming the file whole: $(head -n 1 "$T/chk.out")"
  grep -q "key_match .*belongs" "$T/chk.out" || fail "the key in the file was not read with its password"
  # the same in JSON, through the worker started by certsteward
  cs_run chkj check --json --host "$HOST" --ca "$w\Vertrauen 証明書.pem" --password-file "$w\Kennwort ключ.txt" \
    "$w\neu.pfx"
  expect_eq "$(jq -r '.file + " " + .verdict' "$T/chkj.out")" "$w\neu.pfx accepted" "check --json"
  # a name that is not there is said to be missing, by its name
  cs_run chkm check --host "$HOST" --ca "$w\Vertrauen 証明書.pem" "$w\fehlt 証明書.pfx"
  [ "$ST" != 0 ] || fail "a missing file was accepted"
  grep -qF "$w\fehlt 証明書.pfx" "$T/chkm.out" "$T/chkm.err" || fail "the missing file is not named whole"
}

# The worker runs with a restricted token: started by certsteward (as the daemon
# starts it), it holds no enabled privilege but SeChangeNotifyPrivilege; started
# plainly from here, the same program holds more. (Under Wine the explicit list of
# privileges removes them; on Windows DISABLE_MAX_PRIVILEGE: certsteward version
# shows it there.)
test_worker_runs_restricted() {
  local plain
  cs_run ver version
  [ "$ST" = 0 ] || { cat "$T/ver.out" "$T/ver.err" >&2; fail "version failed"; }
  grep -qxF "certsteward-worker privileges enabled: SeChangeNotifyPrivilege" "$T/ver.out" ||
    fail "the worker started by certsteward holds more: $(cat "$T/ver.out")"
  plain=$(win "$(dirname "$CS")/certsteward-worker.exe" version | tr -d '\r' | sed -n 's/^privileges //p')
  [ -n "$plain" ] && [ "$plain" != SeChangeNotifyPrivilege ] ||
    fail "started plainly, the worker shows '$plain': the test would not see a difference"
}

# The service takes a dropped file whose name no ANSI code page holds, the worker it
# starts (a wide command line, the restricted token) reads it, and the renewal commits.
test_service_takes_a_non_ascii_drop() {
  local name="Übergang 証明書.pfx"
  setup
  NEW=$(pfx_thumbprint "$PKI/good-aes.pfx")
  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 1000 1 20
  cp "$PKI/good-aes.pfx" "$PD/drop/$name"
  wait_event 4006 1 60
  events | jq -r 'select(.id == 3000) | .message' | grep -qF "$name" ||
    fail "the drop event does not name $name whole: $(events | jq -r 'select(.id == 3000) | .message')"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json"
  [ ! -e "$PD/drop/$name" ] || fail "the dropped file was left in the drop folder"
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
}

# A PEM certificate and its key as two files whose base names differ only in case
# (one name on Windows): one drop, named as the pair, both files gone from the drop folder.
test_service_pairs_certificate_and_key_files() {
  setup
  openssl x509 -inform DER -in "$PKI/good-leaf.der" -out "$T/Board.CRT" || fail "test PKI: cannot convert"
  NEW=$(pem_thumbprint "$T/Board.CRT")
  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 1000 1 20
  cp "$PKI/leaf.key" "$PD/drop/board.key"
  cp "$T/Board.CRT" "$PD/drop/Board.CRT"
  wait_event 4006 1 60
  events | jq -r 'select(.id == 3001) | .message' | grep -qF "Board.CRT + board.key" ||
    fail "the accepted drop is not the pair: $(events | jq -r 'select(.id == 3001) | .message')"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json"
  [ -z "$(ls -A "$PD/drop")" ] || fail "left in the drop folder: $(ls -A "$PD/drop")"
  # the joined file is deleted once the job ends, just after the commit's events
  for _ in $(seq 100); do [ -z "$(ls -A "$PD/incoming" 2>/dev/null)" ] && break; sleep 0.1; done
  [ -z "$(ls -A "$PD/incoming" 2>/dev/null)" ] || fail "left in incoming: $(ls -A "$PD/incoming")"
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
}

# setup_pending: a .cer ($T/renewed.cer, current-later.pem's certificate: NEW) whose
# private key waits in LocalMachine\REQUEST. The request was made on this machine
# (certreq -new; cs-certtool plants its entry as certreq leaves it, a self-signed
# placeholder with the request's public key, leaf.key's, linked to that key in the
# machine key set: REQ). The certificate in service has another key (bad-rsa1024.pem's),
# so the .cer is no renewal that kept its key. What Wine does not show: certreq's own
# entries and CNG keys, the key's ACL (see common/win/store_pending.c).
setup_pending() {
  setup "$PKI/bad-rsa1024.pem" "$PKI/bad-rsa1024.pem"
  openssl req -x509 -new -key "$PKI/leaf.key" -subj "/CN=$HOST" -days 30 -out "$T/placeholder.pem" 2>/dev/null ||
    fail "cannot make the request's placeholder"
  REQ=$(win "$CERTTOOL" pending "$(wpath "$T/placeholder.pem")" "$(wpath "$PKI/good-aes.pfx")" \
    "$(wpath "$PKI/pass.txt")" | tr -d '\r')
  expect_eq "$REQ" "$(pem_thumbprint "$T/placeholder.pem")" "the request planted in LocalMachine\\REQUEST"
  REQUESTS=$REQ
  openssl x509 -in "$PKI/current-later.pem" -outform DER -out "$T/renewed.cer" || fail "test PKI: cannot convert"
  NEW=$(pem_thumbprint "$PKI/current-later.pem")
}

# requested TP: LocalMachine\REQUEST holds TP with its key link
requested() { win "$CERTTOOL" list REQUEST | tr -d '\r' | grep -qx "$1 key"; }

# The running service joins the dropped .cer to its request's key as certreq -accept
# does and puts it in service: tls.json rewritten, 3105 said after 4001, the entry gone
# from REQUEST, the certificate in My with a key.
test_service_pairs_a_cer_with_its_pending_key() {
  setup_pending
  requested "$REQ" || fail "the planted request has no key link"
  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 1000 1 20
  cp "$T/renewed.cer" "$PD/drop/renewed.cer"
  wait_event 4006 1 60
  expect_eq "$(count_event 3105) $(count_event 5000)" "1 0" "events 3105 and 5000"
  events | jq -r 'select(.id == 3105) | .message' | grep -q 'LocalMachine\\REQUEST, as certreq -accept does' ||
    fail "3105 does not say where the key was: $(events | jq -r 'select(.id == 3105) | .message')"
  expect_eq "$(events | jq -r 'select(.id == 3105) | .thumbprint')" "$NEW" "3105's certificate"
  events | jq -r .id | tr '\n' ' ' | grep -Eq '4001 3105 .*4006' || fail "event order: $(events | jq -r .id | tr '\n' ' ')"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json"
  win "$CERTTOOL" list | tr -d '\r' | grep -qx "$NEW key" || fail "LocalMachine\\My does not hold $NEW with a key"
  if win "$CERTTOOL" has "$REQ" REQUEST; then fail "the request's entry is still in LocalMachine\\REQUEST"; fi
  [ ! -e "$PD/drop/renewed.cer" ] || fail "the dropped file was left in the drop folder"
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
}

# certsteward apply of that .cer while the rewrite of tls.json fails (the test build's
# fault point, in fail mode): the renewal is rolled back and the pairing with it, the
# certificate out of My, the request's entry back in REQUEST with its key link, tls.json
# as it was; so the admin can try again: apply without the fault pairs and commits.
test_rollback_puts_the_pending_request_back() {
  setup_pending
  cp "$T/connector/tls.json" "$T/tls.json.orig"
  CERTSTEWARD_TEST_FAULT=step_bindings CERTSTEWARD_TEST_FAULT_MODE=fail cs_run ap1 apply "$(wpath "$T/renewed.cer")"
  [ "$ST" != 0 ] || { cat "$T/ap1.out" "$T/ap1.err" >&2; fail "apply did not fail at the bindings step"; }
  expect_eq "$(count_event 3105) $(count_event 5001) $(count_event 4006)" "1 1 0" "events 3105, 5001 and 4006"
  if win "$CERTTOOL" has "$NEW"; then fail "the rolled back certificate is still in LocalMachine\\My"; fi
  requested "$REQ" || fail "the request's entry is not back in LocalMachine\\REQUEST with its key link"
  cmp -s "$T/connector/tls.json" "$T/tls.json.orig" || fail "tls.json changed"
  cs_run ap2 apply "$(wpath "$T/renewed.cer")"
  [ "$ST" = 0 ] || { cat "$T/ap2.out" "$T/ap2.err" >&2; fail "the second apply failed (exit status $ST)"; }
  expect_eq "$(count_event 3105) $(count_event 4006)" "2 1" "events 3105 and 4006 after the second apply"
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json"
  if win "$CERTTOOL" has "$REQ" REQUEST; then fail "the request's entry is still in LocalMachine\\REQUEST"; fi
}

# import_pem NAME PEM [KEY]: PEM (with KEY, else its own key) as a PFX imported into
# LocalMachine\My, as the MMC's import wizard does; its thumbprint in IMPORTED (removed
# at the end)
import_pem() {
  openssl pkcs12 -export -in "$2" -inkey "${3:-$2}" -passout "file:$PKI/pass.txt" -out "$T/$1.pfx" ||
    fail "test PKI: cannot make $1.pfx"
  IMPORTED=$(win "$CERTTOOL" import "$(wpath "$T/$1.pfx")" "$(wpath "$PKI/pass.txt")" | tr -d '\r')
  expect_eq "$IMPORTED" "$(pem_thumbprint "$2")" "$1 imported"
  EXTRA="${EXTRA:-} $IMPORTED"
}

# judged_as TP VERDICT: until the service's record of adoption ($PD/adopted) says so (30 s)
judged_as() {
  local i
  for i in $(seq 300); do
    tr -d '\r' <"$PD/adopted" 2>/dev/null | awk -F'\t' -v k="$1" -v v="$2" '$1 == k && $2 == v { f = 1 } END { exit !f }' &&
      return 0
    sleep 0.1
  done
  fail "$1 is not recorded as $2: $(cat "$PD/adopted" 2>/dev/null)"
}

# A certificate imported into LocalMachine\My while the service runs (as the MMC does,
# through crypt32) is adopted through the store's change notification: tls.json names
# it, the connector restarted, 3100 and 3101 said. One for another host and one that
# expires before the certificate in service are not: the first is recorded as for
# another host without a word, the second is no candidate at all. status lists them
# with the reason.
test_service_adopts_a_certificate_imported_into_my() {
  local other short
  setup
  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 1000 1 20
  import_pem other "$PKI/bad-wronghost.pem"
  other=$IMPORTED
  import_pem short "$PKI/bad-shortlived.pem"
  short=$IMPORTED
  judged_as "$other" other-host
  expect_eq "$(count_event 3100) $(count_event 3102) $(count_event 4000)" "0 0 0" "events for no candidate"
  # status says why each is no candidate (against the certificate in service now)
  win "$CS" status --json >"$T/status.json" || fail "status failed"
  tr -d '\r' <"$T/status.json" | jq -e --arg s "$short" --arg o "$other" '.adoption.certificates |
    (map(select(.thumbprint == $s and (.why | test("expires before")))) | length == 1) and
    (map(select(.thumbprint == $o and (.why | test("not for this host")))) | length == 1)' >/dev/null ||
    fail "status: $(tr -d '\r' <"$T/status.json" | jq -c .adoption)"
  NEW=$(pfx_thumbprint "$PKI/good-aes.pfx")
  win "$CERTTOOL" import "$(wpath "$PKI/good-aes.pfx")" "$(wpath "$PKI/pass.txt")" >/dev/null || fail "import"
  wait_event 3101 1 60
  expect_eq "$(grep -c "$NEW" "$T/connector/tls.json")" 2 "new thumbprint in tls.json"
  expect_eq "$(starts)" 2 "connector starts"
  expect_eq "$(count_event 3100) $(count_event 5000)" "1 0" "found once, no rollback"
  events | jq -r .id | tr '\n' ' ' | grep -Eq '3100 .*4000 .*4006 .*3101' || fail "event order: $(events | jq -r .id | tr '\n' ' ')"
  win "$CERTTOOL" has "$NEW" || fail "the adopted certificate left LocalMachine\\My"
  judged_as "$NEW" adopted
  judged_as "$OLD" replaced
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
}

# Two candidates: the one the renewal link of the certificate in service names is
# adopted (as autoenrollment links them), the other is said in 3103. A certificate issued
# with the one in service that expires later still (a longer lifetime, not a renewal) is
# no candidate at all, and status says why.
test_service_follows_the_renewal_link() {
  local linked other older
  setup
  import_pem older "$PKI/current-later.pem" "$PKI/leaf.key"
  older=$IMPORTED
  import_pem other "$PKI/good-trad-rsa.pem"
  other=$IMPORTED
  import_pem linked "$PKI/good-later-san.pem"
  linked=$IMPORTED
  win "$CERTTOOL" link "$OLD" "$linked" || fail "cs-certtool link failed"
  win "$CS" status --json >"$T/status.json" || fail "status failed"
  tr -d '\r' <"$T/status.json" | jq -e --arg o "$older" --arg l "$linked" '.adoption.certificates |
    (map(select(.thumbprint == $o and (.why | test("issued before")))) | length == 1) and
    (map(select(.thumbprint == $l and .candidate and (.why | test("renewal link")))) | length == 1)' >/dev/null ||
    fail "status: $(tr -d '\r' <"$T/status.json" | jq -c .adoption)"
  win sc start certsteward >/dev/null || fail "the SCM cannot start certsteward"
  wait_state certsteward RUNNING 20
  wait_event 3101 1 60
  expect_eq "$(grep -c "$linked" "$T/connector/tls.json")" 2 "the linked certificate in tls.json"
  events | jq -r 'select(.id == 3103) | .message' | grep -qF "$other" ||
    fail "3103 does not name the other candidate: $(events | jq -c 'select(.id == 3103)')"
  events | jq -r 'select(.id == 3103) | .message' | grep -qF "$older" && fail "3103 names the older certificate"
  events | jq -r 'select(.id == 3100) | .message' | grep -qF "renewal link" ||
    fail "3100 does not say the renewal link chose it: $(events | jq -r 'select(.id == 3100) | .message')"
  win sc stop certsteward >/dev/null
  wait_state certsteward STOPPED 30
}

# What doctor must leave alone: the program data folder (configuration, state, drop:
# names, sizes, times), the connector's binding file, and LocalMachine\My.
doctor_snapshot() {
  find "$PD" -printf '%p %s %T@\n' | sort
  sha256sum "$T/connector/tls.json"
  win "$CERTTOOL" list | tr -d '\r' | sort
}

# certsteward doctor on an installed certsteward: the connector's service (its state and
# account from the SCM), the certificate in LocalMachine\My with its key, the binding
# file, the endpoints taken from the connector's settings, the event source's message
# file rendering event 1000; --json says the same; nothing changes. Under Wine the
# default endpoints do not listen (warnings), the delayed start and failure actions
# cannot be read (a warning), and the test root is not in Wine's Root store (the
# chain engine's refusal is the failed check).
test_doctor() {
  local before
  safe_copy
  setup
  sed -i '/^ca_file = /d' "$PD/certsteward.ini" # the machine's chain engine decides
  before=$(doctor_snapshot)
  cs_run doctor doctor
  expect_eq "$ST" 1 "doctor's exit status with a check failed ($(cat "$T/doctor.out" "$T/doctor.err"))"
  has_line() { grep -Eq -- "$1" "$T/doctor.out" || fail "doctor does not say /$1/: $(cat "$T/doctor.out")"; }
  has_line "^ok +connector_service +$CONNECTOR is running, as LocalSystem$"
  has_line "^ok +certificate +$OLD is in LocalMachine\\\\My with its private key \(CN=$HOST.*, not after [0-9-]{10}T"
  has_line "^ok +key_access +the connector runs as LocalSystem"
  has_line "^ok +bindings +$OLD 2 times in Z:.*tls\.json$"
  has_line "^warn +endpoint +127\.0\.0\.1:8197 \(taken from the connector's settings, not configured\): "
  has_line "^fail +chain +this machine does not trust $OLD: "
  has_line "^ok +(drop|state)_folder +the (drop|state) folder C:.ProgramData.certsteward"
  has_line "^ok +event_source +registered; its message file .*certsteward\.exe renders event 1000: \"The certsteward service started"
  has_line "^warn +own_service +the service certsteward starts automatically; this system does not tell"
  has_line "^ok +program_folder +C:.cs-doctor-ok, the folders above it, certsteward\\.exe and certsteward-worker\\.exe can be changed by Administrators and SYSTEM only$"
  has_line "^doctor: NOT READY: 1 check failed$"
  cs_run doctor_json doctor --json
  expect_eq "$ST" 1 "doctor --json's exit status"
  expect_eq "$(jq -r .verdict "$T/doctor_json.out")" fail "verdict"
  expect_eq "$(jq -r .in_service "$T/doctor_json.out")" "$OLD" "in service"
  expect_eq "$(jq -r '.checks | map(.outcome + " " + .id) | join(",")' "$T/doctor_json.out")" \
    "$(grep -v '^doctor: ' "$T/doctor.out" | awk '{ print $1 " " $2 }' | paste -sd,)" "the JSON's checks are the text's"
  expect_eq "$(doctor_snapshot)" "$before" "doctor changed nothing"
  # a connector that is not there, and one that is stopped
  win sc stop "$CONNECTOR" >/dev/null
  wait_state "$CONNECTOR" STOPPED 10
  cs_run doctor doctor
  has_line "^fail +connector_service +$CONNECTOR is stopped, as LocalSystem: it must run"
  sed -i "s/^service = .*/service = cs-e2e-not-installed/" "$PD/certsteward.ini"
  cs_run doctor doctor
  has_line "^fail +connector_service +there is no service named cs-e2e-not-installed"
  # certsteward run from a folder others can change (C:\cs-doctor-bin; Wine's made-up
  # DACL gives Everyone what the folder's mode gives all users), then from a safe folder
  # with a worker others can change; the DACL decision itself: test_win_writers
  local cs=$CS bin=$WINEPREFIX/drive_c/cs-doctor-bin
  mkdir -m 755 "$bin"
  cp "$CS" "$(dirname "$CS")/certsteward-worker.exe" "$bin/"
  CS=$bin/certsteward.exe
  chmod 777 "$bin"
  cs_run doctor doctor
  has_line "^fail +program_folder +C:.cs-doctor-bin, the folder of certsteward\\.exe or one above it, can be changed by .*S-1-1-0.*: whoever can change it runs code as LocalSystem$"
  chmod 755 "$bin"
  chmod 666 "$bin/certsteward-worker.exe"
  cs_run doctor doctor
  has_line "^fail +program_folder +C:.cs-doctor-bin.certsteward-worker\\.exe can be changed by .*S-1-1-0.*: whoever can change it runs code as LocalSystem$"
  CS=$cs
  rm -rf "$bin"
}

# doctor judges the program the service certsteward runs (its ImagePath's program and
# the worker beside it), not only the one doctor runs as: the service pointing at a copy
# in a folder others can change (C:\cs-doctor-svc, mode 777: Wine's made-up DACL gives
# Everyone write) fails, naming that copy, while the running program is still judged;
# the worker beside that copy is judged; the service pointing at the build's own
# certsteward.exe gives the one line it gave; no service: the running program, said so.
test_doctor_judges_the_service_program() {
  local svcbin=$WINEPREFIX/drive_c/cs-doctor-svc
  trap 'rm -rf "$WINEPREFIX/drive_c/cs-doctor-svc"; cleanup' EXIT
  safe_copy
  pf() { grep -E '^[a-z]+ +program_folder ' "$T/doctor.out" || true; }
  has_pf() { pf | grep -Eq -- "$1" || fail "doctor does not say /$1/: $(pf)"; }
  rm -rf "$PD"
  win "$CS" install >"$T/install.out" || { cat "$T/install.out" >&2; fail "certsteward install failed"; }
  cs_run doctor doctor
  expect_eq "$(pf | wc -l)" 1 "program_folder lines with the service running this program ($(pf))"
  has_pf "^ok +program_folder +C:.cs-doctor-ok, the folders above it, certsteward\\.exe and certsteward-worker\\.exe can be changed by Administrators and SYSTEM only$"

  mkdir -m 755 "$svcbin"
  cp "$CS" "$(dirname "$CS")/certsteward-worker.exe" "$svcbin/"
  chmod 777 "$svcbin"
  win sc delete certsteward >/dev/null || fail "cannot delete the service"
  win sc create certsteward binPath= "\"C:\\cs-doctor-svc\\certsteward.exe\" service" >/dev/null ||
    fail "cannot register the service with the copy"
  cs_run doctor doctor
  expect_eq "$ST" 1 "doctor's exit status with the service's program in a folder others can change"
  has_pf "^fail +program_folder +the service certsteward runs C:.cs-doctor-svc.certsteward\\.exe, not this program: C:.cs-doctor-svc, the folder of certsteward\\.exe or one above it, can be changed by .*S-1-1-0.*: whoever can change it runs code as LocalSystem$"
  has_pf "^ok +program_folder +C:.cs-doctor-ok, the folders above it, certsteward\\.exe and certsteward-worker\\.exe can be changed by Administrators and SYSTEM only$"
  chmod 755 "$svcbin"
  chmod 666 "$svcbin/certsteward-worker.exe"
  cs_run doctor doctor
  has_pf "^fail +program_folder +the service certsteward runs C:.cs-doctor-svc.certsteward\\.exe, not this program: C:.cs-doctor-svc.certsteward-worker\\.exe can be changed by .*S-1-1-0.*: whoever can change it runs code as LocalSystem$"

  win sc delete certsteward >/dev/null || fail "cannot delete the service"
  win sc create certsteward binPath= "\"C:\\cs-doctor-ok\\certsteward.exe\" service" >/dev/null ||
    fail "cannot register the service with the program doctor runs as"
  cs_run doctor doctor
  expect_eq "$(pf | wc -l)" 1 "program_folder lines with the service running the build's program ($(pf))"
  has_pf "^ok +program_folder +C:.cs-doctor-ok, the folders above it, certsteward\\.exe and certsteward-worker\\.exe can be changed by Administrators and SYSTEM only$"

  win sc delete certsteward >/dev/null || fail "cannot delete the service"
  cs_run doctor doctor
  expect_eq "$(pf | wc -l)" 1 "program_folder lines without the service ($(pf))"
  has_pf "^ok +program_folder +C:.cs-doctor-ok, the folders above it, .* only; the service certsteward is not installed: this program was judged$"
  rm -rf "$svcbin"
}

# A certificate request made by the Windows build, with a CA helper (a batch file in a
# folder only administrators can change, Wine's DACL from the mode) that answers "wait"
# with AD CS's kind of request id: the helper gets certmonger's environment through
# cmd.exe, the request (made with an RSA key of Wine's ncrypt) verifies with openssl on
# this side and carries the host, the key's placeholder is in LocalMachine\REQUEST, the
# record is pending with the CA's request id. What Wine cannot do: keep the CNG key past
# the process that made it (common/win/reqkey.c), so the issued certificate's join with
# the key is real Windows' to prove (test_csr and test_reqkey test the parts).
test_request_made_and_pending() {
  local d=$WINEPREFIX/drive_c/cs-helpers csr name tp
  setup
  mkdir -p "$d"
  {
    printf '@echo off\r\n'
    printf 'echo CERTMONGER_OPERATION=%%CERTMONGER_OPERATION%%>"C:\\cs-helpers\\env.txt"\r\n'
    printf 'echo CERTMONGER_CA_PROFILE=%%CERTMONGER_CA_PROFILE%%>>"C:\\cs-helpers\\env.txt"\r\n'
    printf 'echo CERTMONGER_REQ_HOSTNAME=%%CERTMONGER_REQ_HOSTNAME%%>>"C:\\cs-helpers\\env.txt"\r\n'
    printf 'echo 4711\r\nexit /b 1\r\n'
  } >"$d/helper.cmd"
  chmod 755 "$d"
  chmod 644 "$d/helper.cmd"
  EXTRA_DIRS="${EXTRA_DIRS:-} $d"
  printf '\n[request]\nrenew_days = 60\nroute = command\nsubmit_command = C:\\cs-helpers\\helper.cmd\ntemplate = WebServer\n' \
    >>"$PD/certsteward.ini"
  cs_run request request
  expect_eq "$ST" 0 "certsteward request ($(cat "$T/request.out" "$T/request.err"))"
  [ -f "$d/env.txt" ] || fail "the helper did not run: $(cat "$T/request.out" "$T/request.err")"
  tr -d '\r' <"$d/env.txt" >"$T/env.txt"
  grep -qx "CERTMONGER_OPERATION=SUBMIT" "$T/env.txt" || fail "the helper's operation: $(cat "$T/env.txt")"
  grep -qx "CERTMONGER_CA_PROFILE=WebServer" "$T/env.txt" || fail "the helper's profile: $(cat "$T/env.txt")"
  grep -qix "CERTMONGER_REQ_HOSTNAME=$HOST" "$T/env.txt" || fail "the helper's host: $(cat "$T/env.txt")"
  csr=$(find "$PD/request" -name '*.csr' | head -n 1)
  [ -n "$csr" ] || fail "no request file"
  openssl req -in "$csr" -verify -noout 2>&1 | grep -q "verify OK" || fail "the request made on Windows does not verify"
  openssl req -in "$csr" -noout -text | grep -q "DNS:$HOST" || fail "the request lacks the host"
  name=$(basename "$csr" .csr)
  for tp in $(win "$CERTTOOL" list REQUEST | tr -d '\r' | awk '$2 == "key" { print $1 }'); do REQUESTS="${REQUESTS:-} $tp"; done
  [ -n "${REQUESTS:-}" ] || fail "no placeholder with a key link in LocalMachine\\REQUEST"
  cs_run status status --json
  expect_eq "$(jq -r '.request.in_flight.state + " " + .request.in_flight.ca_request + " " + .request.in_flight.name' "$T/status.out")" \
    "pending 4711 $name" "status: the request in flight"
  expect_eq "$(count_event 3202)" 1 "pending said"
}

# The request resumed by another process, as after a restart: `certsteward request`
# submits (the helper says wait, request id 4711) and ends; a test CA on the Linux side
# signs the request file; `certsteward request --poll`, a new process that has only the
# record in the state folder, polls through the Windows process runner and gets the
# certificate, which the worker checks against the request's key (3209 when it is
# another's). Putting it in service joins it to its key through the REQUEST
# placeholder, as certreq -accept does: Wine keeps a CNG key in the process that made
# it only (another process's open fails, 0x8009200B), so here the join is refused
# saying so and the certificate is held with its key (3210), the record kept and said
# in status; that the join, the renewal and the end of the request follow is proven
# on real Windows only (the same join of a CAPI key Wine keeps is proven by
# test_service_pairs_a_cer_with_its_pending_key, the request's end by request.sh).
test_request_resumed_by_another_process_is_polled_and_checked() {
  local d=$WINEPREFIX/drive_c/cs-helpers csr name
  setup
  mkdir -p "$d" "$T/ca"
  {
    printf '@echo off\r\n'
    printf 'echo %%CERTMONGER_OPERATION%% cookie=%%CERTMONGER_CA_COOKIE%%>>"C:\\cs-helpers\\calls.txt"\r\n'
    printf 'if "%%CERTMONGER_OPERATION%%"=="POLL" if exist "C:\\cs-helpers\\issued.pem" (\r\n'
    printf '  type "C:\\cs-helpers\\issued.pem"\r\n  exit /b 0\r\n)\r\n'
    printf 'echo 4711\r\nexit /b 1\r\n'
  } >"$d/helper.cmd"
  chmod 755 "$d"
  chmod 644 "$d/helper.cmd"
  EXTRA_DIRS="${EXTRA_DIRS:-} $d"
  # the test CA, trusted beside the test PKI's
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca/root.key" \
    -out "$T/ca/root.pem" -subj "/CN=certsteward e2e request CA" -days 30 2>/dev/null
  cat "$PKI/ca-chain.pem" "$T/ca/root.pem" >"$T/ca/trust.pem"
  sed -i "s|^ca_file = .*|ca_file = $(wpath "$T/ca/trust.pem" | sed 's/\\/\\\\/g')|" "$PD/certsteward.ini"
  printf '\n[request]\nrenew_days = 60\nroute = command\nsubmit_command = C:\\cs-helpers\\helper.cmd\n' \
    >>"$PD/certsteward.ini"
  cs_run request request
  expect_eq "$ST" 0 "certsteward request ($(cat "$T/request.out" "$T/request.err"))"
  csr=$(find "$PD/request" -name '*.csr' | head -n 1)
  [ -n "$csr" ] || fail "no request file"
  name=$(basename "$csr" .csr)
  for tp in $(win "$CERTTOOL" list REQUEST | tr -d '\r' | awk '$2 == "key" { print $1 }'); do REQUESTS="${REQUESTS:-} $tp"; done
  cs_run status status --json
  expect_eq "$(jq -r '.request.in_flight.state + " " + .request.in_flight.ca_request' "$T/status.out")" \
    "pending 4711" "status: the request in flight"
  openssl x509 -req -in "$csr" -CA "$T/ca/root.pem" -CAkey "$T/ca/root.key" -days 90 -copy_extensions copy \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -out "$T/issued.pem" 2>/dev/null ||
    fail "the test CA cannot sign the request"
  cat "$T/issued.pem" "$T/ca/root.pem" >"$d/issued.pem"
  NEW=$(pem_thumbprint "$T/issued.pem")
  cs_run poll request --poll
  tr -d '\r' <"$d/calls.txt" >"$T/calls.txt"
  expect_eq "$(tr '\n' ' ' <"$T/calls.txt")" "SUBMIT cookie= POLL cookie=4711 " "the helper's calls"
  expect_eq "$(count_event 3203) $(count_event 3209)" "1 0" "events issued, not the request's key"
  events | jq -r 'select(.id == 3203) | .message' | grep -q "CA request 4711" ||
    fail "3203 does not name the CA's request id: $(events | jq -r 'select(.id == 3203) | .message')"
  # Wine's key store, and nothing else, stops the join
  grep -q "key_match .*LocalMachine\\\\REQUEST holds the request made on this machine .*cannot be opened: Windows error 0x8009200B" \
    "$T/poll.out" || fail "the join did not stop at Wine's key store: $(cat "$T/poll.out" "$T/poll.err")"
  expect_eq "$(count_event 3210) $(count_event 4006)" "1 0" "events held, committed"
  [ -f "$PD/request/$name.pem" ] || fail "the issued certificate is not kept for apply"
  expect_eq "$(pem_thumbprint "$PD/request/$name.pem")" "$NEW" "the certificate kept"
  cs_run status2 status --json
  expect_eq "$(jq -r '.request.in_flight.state + " " + .request.in_flight.name' "$T/status2.out")" "held $name" \
    "status: the request held"
  expect_eq "$(grep -c "$OLD" "$T/connector/tls.json")" 2 "the certificate in service, unchanged"
}

name=${1:?test name}
declare -F "test_$name" >/dev/null || fail "no test named $name"
"test_$name"
echo "ok: $name"
