#!/usr/bin/env bash
# The renewal transaction against a real TLS service: nginx (lib.sh).
# Usage: renewal.sh TEST_NAME (each test_* function below is one CTest test).
# Environment (set by CTest): CS_BIN (certsteward), CS_TEST_DIR (the test PKI).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

test_good_pfx() {
  setup
  local new; new=$(thumbprint "$PKI/good-aes.pfx")
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "apply"; }
  grep -q "committed ($OLD -> $new)" "$T/out" || fail "no committed line: $(cat "$T/out")"
  expect_served "$P1" "$new" "nginx serves the new certificate"
  # both selections rewritten, each in the case it used, CRLF kept
  grep -q "\"thumbprint\": \"$(tr 'A-F' 'a-f' <<<"$new")\"" "$T/tls.json" || fail "lower-case selection not rewritten"
  grep -q "\"thumbprint\": \"$new\"" "$T/tls.json" || fail "upper-case selection not rewritten"
  expect_eq "$(grep -c $'\r$' "$T/tls.json")" 4 "CRLF line ends kept"
  # the key file is readable by the service account, through an ACL entry
  getfacl -p "$T/store/key.pem" 2>/dev/null | grep -q '^user:nobody:r' || fail "no ACL entry for nobody"
  expect_eq "$(stat -c %a "$T/store/key.pem")" "640" "key mode (owner rw, ACL mask r)"
  # the old certificate archived; nothing left over
  [ -s "$T/state/archive/$OLD/cert.pem" ] || fail "old certificate not archived"
  [ ! -e "$T/state/journal" ] && [ ! -e "$T/state/tx" ] || fail "transaction left behind"
  expect_eq "$(event_ids)" "4000 4001 4002 4003 4004 4005 4006 4007" "events in order"
  expect_eq "$(jq -r 'select(.id == 4006) | .old_thumbprint + " " + .thumbprint' "$T/state/events.jsonl")" \
    "$OLD $new" "committed event names both thumbprints"
  grep -q '^result committed' "$T/state/last" || fail "last result not recorded"
}

test_keyless_renewal() {
  setup
  local new; new=$(thumbprint "$PKI/good-leaf.der")
  cp "$T/store/key.pem" "$T/key.orig"
  "$CS" apply --config "$T/cs.ini" "$PKI/good-leaf.der" > "$T/out" 2>&1 || { cat "$T/out"; fail "apply"; }
  expect_served "$P1" "$new" "served after a key-less renewal"
  openssl pkey -in "$T/store/key.pem" -pubout | cmp -s - <(openssl pkey -in "$T/key.orig" -pubout) ||
    fail "the key in service changed"
}

test_bad_file_changes_nothing() {
  setup
  if "$CS" apply --config "$T/cs.ini" "$PKI/bad-eku.pem" > "$T/out" 2>&1; then fail "a bad file was applied"; fi
  grep -q '\[FAILED\] eku' "$T/out" || fail "the failed check is not shown: $(cat "$T/out")"
  grep -q ': rejected' "$T/out" || fail "no rejected verdict"
  unchanged
}

test_dry_run_changes_nothing() {
  setup
  "$CS" apply --config "$T/cs.ini" --dry-run "$PKI/good-aes.pfx" > "$T/out" 2>&1 || { cat "$T/out"; fail "dry run"; }
  grep -q ': valid' "$T/out" || fail "no valid verdict"
  unchanged
}

test_preflight_refused() {
  setup "$PKI/good-ec.pem" # the second endpoint serves another certificate
  write_config "127.0.0.1:$P1, 127.0.0.1:$P2" "$RELOAD"
  if "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1; then fail "applied"; fi
  grep -q "refused at preflight" "$T/out" || fail "not refused: $(cat "$T/out")"
  unchanged
  expect_eq "$(event_ids)" "3004" "pre-flight event"
}

test_endpoint_keeps_old_rolls_back() {
  setup old
  write_config "127.0.0.1:$P1, 127.0.0.1:$P2" "$RELOAD"
  if "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1; then fail "applied"; fi
  grep -q "rolled-back at probe" "$T/out" || fail "not rolled back: $(cat "$T/out")"
  unchanged
  expect_served "$P2" "$OLD" "second endpoint"
  expect_eq "$(event_ids)" "4000 4001 4002 4003 4004 4005 5000 5001" "events"
  grep -q '^result rolled-back' "$T/state/last" || fail "last result not recorded"
}

test_failing_restart_rolls_back() {
  setup
  # the restart fails once (exit 3), then works: the rollback's restart brings the old one back
  write_config "127.0.0.1:$P1" "if [ -e $T/failed-once ]; then $RELOAD; else touch $T/failed-once; exit 3; fi"
  if "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1; then fail "applied"; fi
  grep -q "rolled-back at restart" "$T/out" || fail "not rolled back: $(cat "$T/out")"
  grep -q "exit" "$T/out" || fail "the restart command's exit status is not reported: $(cat "$T/out")"
  unchanged
}

# apply_killed: apply a renewal that the restart command kills (SIGKILL), leaving its journal
apply_killed() {
  set +e
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1
  local st=$?
  set -e
  expect_eq "$st" 137 "killed by SIGKILL"
  [ -e "$T/state/journal" ] || fail "no journal after the kill"
}

test_killed_mid_transaction_rolls_back_at_next_start() {
  setup
  # the restart command (run by /bin/sh -c, a child of certsteward) kills certsteward the first time:
  # the new files are in place, the journal says "running", nothing restarted yet
  write_config "127.0.0.1:$P1" "if [ -e $T/killed-once ]; then $RELOAD; else touch $T/killed-once; kill -KILL \$PPID; sleep 5; fi"
  apply_killed
  cmp -s "$T/tls.json" "$T/tls.json.orig" && fail "the kill came before the bindings were rewritten"
  # the next run recovers first: rolls back, proves the old certificate is served
  "$CS" apply --config "$T/cs.ini" --dry-run "$PKI/good-aes.pfx" > "$T/out2" 2>&1 || { cat "$T/out2"; fail "recovery"; }
  grep -q "unfinished renewal was found and rolled-back" "$T/out2" || fail "no recovery: $(cat "$T/out2")"
  unchanged
  jq -r .id "$T/state/events.jsonl" | grep -qx 5003 || fail "no recovery event"
  jq -r .id "$T/state/events.jsonl" | grep -qx 5001 || fail "no rollback-completed event"
}

# An endpoint that is not configured but a default (on Windows the connector's own or
# the documented 127.0.0.1:8197, 8096; here CERTSTEWARD_TEST_DEFAULT_ENDPOINTS of a test
# build stands in for them) and speaks no TLS: said once, left out, the renewal commits.
test_default_plain_endpoint_skipped() {
  setup plain
  write_config "" "$RELOAD"
  local new; new=$(thumbprint "$PKI/good-aes.pfx")
  CERTSTEWARD_TEST_DEFAULT_ENDPOINTS="127.0.0.1:$P1, 127.0.0.1:$P2" \
    "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1 || { cat "$T/out"; fail "apply"; }
  grep -q "committed ($OLD -> $new)" "$T/out" || fail "not committed: $(cat "$T/out")"
  expect_served "$P1" "$new" "the TLS endpoint serves the new certificate"
  expect_eq "$(event_ids)" "3005 4000 4001 4002 4003 4004 4005 4006 4007" "events: the skip once, then the renewal"
  expect_eq "$(jq -r 'select(.id == 3005) | .message' "$T/state/events.jsonl" | grep -c "127.0.0.1:$P2")" 1 \
    "the skipped endpoint named once"
  event_message 3005 | grep -q "TLS handshake failed" || fail "no reason: $(event_message 3005)"
  expect_eq "$(jq -r 'select(.id == 4005) | .message' "$T/state/events.jsonl" | grep -c "127.0.0.1:$P1")" 1 \
    "the TLS endpoint proved the renewal"
}

# The same plain listener configured explicitly must serve the certificate: refused, as ever.
test_configured_plain_endpoint_refused() {
  setup plain
  write_config "127.0.0.1:$P1, 127.0.0.1:$P2" "$RELOAD"
  if CERTSTEWARD_TEST_DEFAULT_ENDPOINTS="127.0.0.1:$P1" \
    "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1; then fail "applied"; fi
  grep -q "refused at preflight: 127.0.0.1:$P2: TLS handshake failed" "$T/out" || fail "not refused: $(cat "$T/out")"
  unchanged
  expect_eq "$(event_ids)" "3004" "pre-flight event only"
}

# A crash after the restart: the recovery leaves out what the pre-flight left out, so the
# plain default endpoint cannot keep the rollback from completing.
test_skipped_endpoint_stays_out_of_recovery() {
  setup plain
  write_config "" "if [ -e $T/killed-once ]; then $RELOAD; else touch $T/killed-once; $RELOAD; kill -KILL \$PPID; sleep 5; fi"
  export CERTSTEWARD_TEST_DEFAULT_ENDPOINTS="127.0.0.1:$P1, 127.0.0.1:$P2"
  apply_killed
  grep -qx "127.0.0.1:$P2" "$T/state/tx/skipped-endpoints" || fail "the left-out endpoint is not kept for the recovery"
  "$CS" apply --config "$T/cs.ini" --dry-run "$PKI/good-aes.pfx" > "$T/out2" 2>&1 || { cat "$T/out2"; fail "recovery"; }
  grep -q "unfinished renewal was found and rolled-back" "$T/out2" || fail "no recovery: $(cat "$T/out2")"
  unchanged
  jq -r .id "$T/state/events.jsonl" | grep -qx 5001 || fail "no rollback-completed event"
}

# ---- the connector as a service (lib.sh's systemctl stand-in) ----------------------

# Stopped, its files rewritten, started: the rewrite happens while no process of it
# runs, so a connector that saves its settings when it stops cannot write the old
# thumbprint back over it (with a restart after the rewrite, it did).
test_service_stopped_while_bindings_change() {
  setup
  cs_split_setup
  local new; new=$(thumbprint "$PKI/good-aes.pfx")
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" >"$T/out" 2>&1 || { cat "$T/out"; fail "apply"; }
  grep -q "committed ($OLD -> $new)" "$T/out" || fail "not committed: $(cat "$T/out")"
  expect_eq "$(cs_split_log)" "stop $OLD, start $new" "what the connector saw when stopped and started"
  grep -q "\"thumbprint\": \"$(tr 'A-F' 'a-f' <<<"$new")\"" "$T/tls.json" && grep -q "\"thumbprint\": \"$new\"" "$T/tls.json" ||
    fail "tls.json does not name the new certificate: $(cat "$T/tls.json")"
  expect_served "$P1" "$new" "nginx serves the new certificate"
  expect_eq "$(event_ids)" "4000 4001 4002 4003 4004 4005 4006 4007" "events in order"
}

# The start fails: stopped (again), the files back, started, the old one proven.
test_service_failing_start_rolls_back() {
  setup
  cs_split_setup
  touch "$T/fail-start-once"
  if "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" >"$T/out" 2>&1; then fail "applied"; fi
  grep -q "rolled-back at start" "$T/out" || fail "not rolled back at start: $(cat "$T/out")"
  grep -q "systemctl restart cs-test-connector exited 3" "$T/out" || fail "the start's exit status is not reported: $(cat "$T/out")"
  local new; new=$(thumbprint "$PKI/good-aes.pfx")
  expect_eq "$(cs_split_log)" "stop $OLD, start-failed $new, start $OLD" "stops and starts"
  unchanged
}

run_test "$@"
