#!/usr/bin/env bash
# certsteward status and certsteward rollback against a real TLS service (nginx,
# lib.sh), and a certsteward executable that never loads OpenSSL.
# Usage: test_status.sh TEST_NAME (each test_* function below is one CTest test).
# Environment (set by CTest): CS_BIN (certsteward), CS_TEST_DIR (the test PKI).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# status --json into $T/status.json: exit 0 and one JSON object, else the test fails
status_json() {
  "$CS" status --config "$T/cs.ini" --json > "$T/status.json" 2>"$T/status.err" ||
    fail "status --json exited $?: $(cat "$T/status.json" "$T/status.err")"
  expect_eq "$(jq -s 'length' "$T/status.json")" 1 "status --json prints one JSON object"
}
js() { jq -r "$1" "$T/status.json"; }

status_text() {
  "$CS" status --config "$T/cs.ini" > "$T/status.txt" 2>"$T/status.err" ||
    fail "status exited $?: $(cat "$T/status.txt" "$T/status.err")"
}
has() { grep -Eq -- "$1" "$T/status.txt" || fail "status does not say /$1/: $(cat "$T/status.txt")"; }

apply_good() {
  NEW=$(thumbprint "$PKI/good-aes.pfx")
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1 || { cat "$T/out"; fail "apply"; }
  expect_served "$P1" "$NEW" "nginx serves the new certificate"
  # a reloaded nginx's old worker can still take a connection for a moment on a busy
  # machine: settle on five answers in a row before status is asked
  local ok=0
  for _ in $(seq 100); do
    if [ "$(served "$P1")" = "$NEW" ]; then ok=$((ok + 1)); [ $ok -ge 5 ] && break; else ok=0; fi
    sleep 0.05
  done
  [ $ok -ge 5 ] || fail "nginx does not settle on the new certificate"
}

# thumbprint of a PEM certificate file, computed by openssl, not certsteward
pem_tp() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }

test_fresh_setup() {
  setup
  rmdir "$T/state" # nothing has run yet: no state folder
  status_text
  has "^in service +$OLD \(from the binding files\)$"
  has "^  thumbprint +$OLD$"
  has "^  subject +CN=$HOST"
  has "^  not after +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+ days? left\)$"
  has "^binding files +$OLD 2 times in "
  has "^endpoints +127\.0\.0\.1:$P1 serves $OLD \(the certificate in service\)$"
  has "^state folder .*: does not exist yet"
  has "^last renewal +none recorded$"
  has "^transaction +none unfinished$"
  [ ! -e "$T/state" ] || fail "status created the state folder"
  status_json
  expect_eq "$(js .in_service.thumbprint)" "$OLD" "in service"
  expect_eq "$(js .in_service.error)" null "no error"
  expect_eq "$(js .cert_file.thumbprint)" "$OLD" "the store's certificate file"
  expect_eq "$(js '.cert_file.days_left > 0')" true "days left"
  expect_eq "$(js '.bindings.found | map(.thumbprint + " " + (.count | tostring)) | join(",")')" "$OLD 2" "bindings"
  expect_eq "$(js '.endpoints | length')" 1 "endpoints"
  expect_eq "$(js '.endpoints[0] | [.endpoint, .ok, .served, .in_service] | join(" ")')" \
    "127.0.0.1:$P1 true $OLD true" "endpoint"
  expect_eq "$(js .last)" null "no last transaction"
  expect_eq "$(js .unfinished)" null "no unfinished transaction"
  expect_eq "$(js .state_dir.exists)" false "state folder"
}

test_after_committed_apply() {
  setup
  apply_good
  status_text
  has "^in service +$NEW "
  has "^endpoints +127\.0\.0\.1:$P1 serves $NEW \(the certificate in service\)$"
  has "^last renewal +committed at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: $OLD -> $NEW$"
  has "^transaction +none unfinished$"
  status_json
  expect_eq "$(js '.last | [.result, .old, .new, .step] | map(. // "null") | join(" ")')" \
    "committed $OLD $NEW null" "last transaction"
  js .last.time | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' || fail "last time: $(js .last.time)"
  expect_eq "$(js .in_service.thumbprint)" "$NEW" "in service"
  expect_eq "$(js .cert_file.thumbprint)" "$NEW" "the store's certificate file"
  expect_eq "$(js .endpoints[0].served)" "$NEW" "served"
}

test_json_lists_waiting_files_sanitised() {
  setup
  sed -i 's|^\[watch\]$|[watch]\nfolder = drop|' "$T/cs.ini"
  mkdir -p "$T/drop/subfolder" "$T/state/waiting"
  touch "$T/drop/renewed.pfx" "$T/drop/evil"$'\x1b'"[31mname.pem" "$T/drop/.hidden" "$T/drop/copy.part"
  touch "$T/state/waiting/1700000000-0-next.pfx" "$T/state/waiting/1700000000-0-next.pfx.reason"
  status_json
  ! grep -q $'\x1b' "$T/status.json" || fail "an escape byte reached the JSON output"
  expect_eq "$(js '.waiting.drop.files | join(",")')" 'evil\x1B[31mname.pem,renewed.pfx' "drop folder files"
  expect_eq "$(js '.waiting.window.files | join(",")')" "1700000000-0-next.pfx" "files waiting for the window"
  status_text
  ! grep -q $'\x1b' "$T/status.txt" || fail "an escape byte reached the text output"
  has "^drop folder +.*/drop: 2 files waiting$"
  has '^ +evil\\x1B\[31mname\.pem$'
  has "^for the window +.*/waiting: 1 file waiting for the maintenance window$"
}

test_unreachable_endpoint_still_reports() {
  setup
  write_config "127.0.0.1:$P1, 127.0.0.1:1" "$RELOAD"
  status_text
  has "^ +127\.0\.0\.1:1 FAILED: .+"
  has "^endpoints +127\.0\.0\.1:$P1 serves $OLD "
  status_json
  expect_eq "$(js '.endpoints[1] | [.endpoint, (.ok | tostring), (.served | tostring)] | join(" ")')" \
    "127.0.0.1:1 false null" "the unreachable endpoint"
  [ "$(js .endpoints[1].error)" != null ] || fail "no reason for the failed endpoint"
  expect_eq "$(js .endpoints[0].ok)" true "the other endpoint"
}

test_unfinished_transaction_shown() {
  setup
  # killed in its restart step, as in renewal.sh: the journal says "running", step 4
  write_config "127.0.0.1:$P1" "if [ -e $T/killed-once ]; then $RELOAD; else touch $T/killed-once; kill -KILL \$PPID; sleep 5; fi"
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" > "$T/out" 2>&1 && fail "apply was not killed"
  [ -e "$T/state/journal" ] || fail "no journal after the kill"
  cp "$T/state/journal" "$T/journal.before"
  status_text
  has "^transaction +UNFINISHED: running at step 4, "
  status_json
  expect_eq "$(js '.unfinished | [.state, (.step | tostring), .old] | join(" ")')" "running 4 $OLD" "unfinished"
  cmp -s "$T/state/journal" "$T/journal.before" || fail "status changed the journal"
}

test_bad_config_exit_2() {
  printf '[policy]\nmin_rsa_bits = lots\n' > "$T/bad.ini"
  set +e
  "$CS" status --config "$T/bad.ini" > "$T/out" 2>"$T/err"
  local st=$?
  set -e
  expect_eq "$st" 2 "exit status on a bad configuration"
  grep -q "bad.ini:2" "$T/err" || fail "the error does not name the line: $(cat "$T/err")"
}

test_rollback_after_apply() {
  setup
  apply_good
  "$CS" rollback --config "$T/cs.ini" > "$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "rollback"; }
  grep -q "committed ($NEW -> $OLD)" "$T/out" || fail "no committed line: $(cat "$T/out")"
  # the old certificate expires earlier: a rollback is not judged against the one in service
  ! grep -q "expires_later" "$T/out" || fail "a rollback was compared with the certificate in service"
  expect_served "$P1" "$OLD" "nginx serves the old certificate again"
  expect_eq "$(pem_tp "$T/store/cert.pem")" "$OLD" "the store's certificate file"
  openssl pkey -in "$T/store/key.pem" -pubout | cmp -s - <(openssl pkey -in "$PKI/leaf.key" -pubout) ||
    fail "the old key is not back"
  cmp -s "$T/tls.json" "$T/tls.json.orig" || fail "tls.json does not name the old certificate as before"
  [ -s "$T/state/archive/$NEW/cert.pem" ] || fail "the certificate rolled back from is not archived"
  [ -z "$(find "$T/state" -maxdepth 1 -name 'rollback-*')" ] || fail "the temporary bundle was left behind"
  [ ! -e "$T/state/journal" ] && [ ! -e "$T/state/tx" ] || fail "transaction left behind"
  status_json
  expect_eq "$(js '.last | [.result, .old, .new] | join(" ")')" "committed $NEW $OLD" "last transaction"
  expect_eq "$(js .in_service.thumbprint)" "$OLD" "in service"
}

test_rollback_without_archive_changes_nothing() {
  setup
  set +e
  "$CS" rollback --config "$T/cs.ini" > "$T/out" 2>&1
  local st=$?
  set -e
  expect_eq "$st" 2 "exit status with nothing to roll back to"
  grep -q "nothing to roll back to" "$T/out" || fail "no reason: $(cat "$T/out")"
  unchanged
}

# The long-lived certsteward process must never load OpenSSL (the worker does).
test_certsteward_does_not_link_libcrypto() {
  local worker; worker=$(dirname "$CS")/certsteward-worker
  # captured first: with pipefail, grep -q leaving early can fail ldd with SIGPIPE
  local libs; libs=$(ldd "$worker")
  grep -q libcrypto <<<"$libs" || fail "ldd does not show the worker's libcrypto: this test could not tell"
  expect_eq "$(ldd "$CS" | grep -c libcrypto || true)" 0 "libcrypto in ldd certsteward"
  expect_eq "$(nm -D --undefined-only "$CS" | grep -cE ' (OPENSSL|EVP|X509|SSL|PEM)_' || true)" 0 \
    "OpenSSL symbols certsteward needs"
  # and check still works, through the worker
  "$CS" check --host "$HOST" --ca "$PKI/ca-chain.pem" --password-file "$PKI/pass.txt" "$PKI/good-aes.pfx" \
    > "$T/out" 2>&1 || fail "check: $(cat "$T/out")"
  grep -q ": accepted" "$T/out" || fail "check did not judge the file: $(cat "$T/out")"
}

test_monitor_folder_listed() {
  setup
  status_json
  expect_eq "$(js .monitored)" null "no [store] monitor: nothing listed"
  sed -i 's|^\[store\]$|[store]\nmonitor = monitor|' "$T/cs.ini"
  mkdir -p "$T/monitor/subfolder"
  cp "$PKI/current-ok.pem" "$PKI/good-leaf.der" "$T/monitor/"
  cp "$PKI/garbage.bin" "$T/monitor/notes.txt"
  ln -s "$PKI/good-ec.pem" "$T/monitor/link.pem"
  local pem der; pem=$(pem_tp "$PKI/current-ok.pem")
  der=$(openssl x509 -in "$PKI/good-leaf.der" -inform der -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
  status_json
  expect_eq "$(js .monitored.folder)" "$T/monitor" "the monitored folder"
  expect_eq "$(js '.monitored.files | map(.file) | join(",")')" \
    "$T/monitor/current-ok.pem,$T/monitor/good-leaf.der,$T/monitor/notes.txt" "files listed (no link, no folder), by name"
  expect_eq "$(js '.monitored.files | map(.thumbprint) | join(",")')" "$pem,$der," "thumbprints as openssl computes them"
  expect_eq "$(js '.monitored.files[0:2] | map(.days_left > 0 and .error == null) | all')" true "days left, no error"
  js '.monitored.files[1].not_after' | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' ||
    fail "not_after: $(js .monitored.files[1].not_after)"
  expect_eq "$(js '.monitored.files[0].subject')" "$(js .cert_file.subject)" "subject"
  expect_eq "$(js '.monitored.files[2] | [.thumbprint, .days_left] | map(tostring) | join(" ")')" "null null" \
    "the file that is no certificate"
  [ "$(js .monitored.files[2].error)" != null ] || fail "no reason for the file that is no certificate"
  expect_eq "$(js '[.monitored.left_out, .monitored.error] | map(tostring) | join(" ")')" "0 null" "all listed"
  status_text
  has "^monitored +$T/monitor: 3 files$"
  has "^  file +$T/monitor/current-ok\.pem$"
  has "^    thumbprint +$pem$"
  has "^    thumbprint +$der$"
  has "^    not after +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+ days? left\)$"
  has "^  file +$T/monitor/notes\.txt: .+"
  ! grep -q "link.pem" "$T/status.txt" || fail "a link was listed"
}

test_monitor_folder_missing_says_so() {
  setup
  sed -i 's|^\[store\]$|[store]\nmonitor = no-such-folder|' "$T/cs.ini"
  status_json
  expect_eq "$(js '.monitored.files | length')" 0 "nothing listed"
  js .monitored.error | grep -q "cannot list $T/no-such-folder" || fail "no reason: $(js .monitored.error)"
  status_text
  has "^monitored +$T/no-such-folder: cannot list "
}

run_test "$@"
