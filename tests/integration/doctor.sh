#!/usr/bin/env bash
# certsteward doctor against a real TLS service (nginx on loopback, lib.sh): a good
# setup passes every check; each thing that is wrong is found, with its reason, and
# exit status 1; --json says what the text says; and doctor changes nothing.
# Usage: doctor.sh TEST_NAME (each test_* function below is one CTest test).
# Environment (set by CTest): CS_BIN (certsteward), CS_TEST_DIR (the test PKI).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A setup doctor passes: lib.sh's, plus a drop folder, a status command for the
# service, and READ on the key for the account (nobody), who can reach it.
good_setup() {
  setup "$@"
  chmod 711 "$T" "$T/store"
  setfacl -m u:nobody:r "$T/store/key.pem"
  cs_watch_config
  cs_set connector status_command "kill -0 $NGINX_PID"
}

# doctor [ARGS...]: its output in $T/doctor.out, its exit status in $DOCTOR_RC
doctor() {
  DOCTOR_RC=0
  "$CS" doctor --config "$T/cs.ini" "$@" > "$T/doctor.out" 2>"$T/doctor.err" || DOCTOR_RC=$?
}

# check_line ID OUTCOME REGEX: the line of check ID has that outcome and says REGEX
check_line() {
  grep -Eq "^$2 +$1 +.*$3" "$T/doctor.out" ||
    fail "doctor does not say '$2 $1 ... $3': $(cat "$T/doctor.out" "$T/doctor.err")"
}

# expect_fails ID REGEX: exit 1, the check failed with that reason, the verdict says so
expect_fails() {
  doctor
  expect_eq "$DOCTOR_RC" 1 "exit status with a failed check ($(cat "$T/doctor.out"))"
  check_line "$1" fail "$2"
  grep -q "^doctor: NOT READY" "$T/doctor.out" || fail "no NOT READY verdict: $(cat "$T/doctor.out")"
}

# A fingerprint of everything doctor must leave alone: the state folder (names,
# sizes, modes, times), the binding file, the store's files and their ACLs.
snapshot() {
  {
    find "$T/state" "$T/drop" -printf '%p %s %m %T@\n' | sort
    sha256sum "$T/tls.json" "$T/store/cert.pem" "$T/store/key.pem"
    getfacl -cp "$T/store/key.pem"
    stat -c '%n %a %Y' "$T/tls.json" "$T/store/cert.pem" "$T/store/key.pem"
  } 2>&1
}

test_good_setup_passes() {
  good_setup
  local before
  before=$(snapshot)
  doctor
  expect_eq "$DOCTOR_RC" 0 "exit status on a good setup ($(cat "$T/doctor.out" "$T/doctor.err"))"
  grep -Ev '^ok ' "$T/doctor.out" | grep -qv '^doctor: ready$' && fail "a check is not ok: $(cat "$T/doctor.out")"
  check_line connector_service ok "status_command exits 0"
  check_line certificate ok "store/cert.pem holds $OLD .*CN=$HOST.* its private key"
  check_line key_access ok "nobody .* opened .*key.pem for reading"
  check_line bindings ok "$OLD 2 times in .*tls.json"
  check_line endpoint ok "127\.0\.0\.1:$P1 \(configured in \[connector\] endpoints\) serves $OLD"
  check_line chain ok "trust: .*ca-chain.pem"
  check_line drop_folder ok "drop"
  check_line state_folder ok "state"
  check_line config_file ok "cs.ini"
  check_line password_file ok "pass.txt"
  check_line program_folder ok "$(dirname "$CS"), the folders above it, certsteward and certsteward-worker can be changed by root only"
  grep -q "^doctor: ready$" "$T/doctor.out" || fail "verdict: $(cat "$T/doctor.out")"
  expect_eq "$(snapshot)" "$before" "doctor changed nothing"
  unchanged
}

test_json_matches_text() {
  good_setup
  rm -rf "$T/drop" # one failed check, so that both outcomes are compared
  doctor
  cp "$T/doctor.out" "$T/doctor.txt"
  local text_rc=$DOCTOR_RC
  doctor --json
  expect_eq "$DOCTOR_RC" "$text_rc" "the same exit status"
  expect_eq "$(jq -s length "$T/doctor.out")" 1 "one JSON object"
  expect_eq "$(jq -r .verdict "$T/doctor.out")" fail "verdict"
  expect_eq "$(jq -r .in_service "$T/doctor.out")" "$OLD" "in service"
  expect_eq "$(jq -r '.checks[] | select(.id == "drop_folder") | .outcome' "$T/doctor.out")" fail "drop folder"
  # each text line is a JSON check: outcome, id, detail
  jq -r '.checks[] | "\(.outcome) \(.id) \(.detail)"' "$T/doctor.out" > "$T/from-json"
  grep -v '^doctor: ' "$T/doctor.txt" | sed -E 's/^([a-z]+) +([a-z_]+) +/\1 \2 /' > "$T/from-text"
  cmp -s "$T/from-json" "$T/from-text" || fail "text and JSON differ: $(diff "$T/from-text" "$T/from-json")"
  expect_eq "$(wc -l < "$T/from-json")" "$(jq '.checks | length' "$T/doctor.out")" "one line per check"
}

test_binding_names_another_thumbprint() {
  good_setup
  local other
  other=$(cs_ossl_tp "$PKI/good-ec.pem")
  sed -i "s/$OLD/$other/gI" "$T/tls.json"
  expect_fails bindings "they name $other 2 times in .*tls.json, not $OLD, the certificate in \[store\] cert_file"
}

test_endpoint_serves_another_certificate() {
  good_setup "$PKI/current-later.pem"
  cs_set connector endpoints "127.0.0.1:$P1, 127.0.0.1:$P2"
  local other
  other=$(cs_ossl_tp "$PKI/current-later.pem")
  expect_fails endpoint "127\.0\.0\.1:$P2 \(configured in \[connector\] endpoints\) serves $other, not the certificate in service $OLD"
  check_line endpoint ok "127\.0\.0\.1:$P1 .* serves $OLD"
}

test_key_not_readable_by_account() {
  good_setup
  setfacl -x u:nobody "$T/store/key.pem"
  expect_fails key_access "nobody \(uid [0-9]+\) cannot open .*key.pem: Permission denied"
}

test_unsafe_drop_folder() {
  good_setup
  chmod 777 "$T/drop"
  expect_fails drop_folder "the drop folder .*drop is not safe: .*777"
}

# The program's folder (certsteward runs as root): a copy of certsteward and its worker
# in a folder others can write, then in a safe folder with a worker others can change.
test_unsafe_program_folder() {
  good_setup
  mkdir -m 755 "$T/bin"
  cp "$CS" "$(dirname "$CS")/certsteward-worker" "$T/bin/"
  CS=$T/bin/certsteward
  doctor
  check_line program_folder ok "$T/bin, the folders above it, certsteward and certsteward-worker can be changed by root only"
  chmod 777 "$T/bin"
  expect_fails program_folder "$T/bin, the folder of certsteward or one above it, can be changed by .*777.*: whoever can change it runs code as root"
  chmod 755 "$T/bin"
  chmod 666 "$T/bin/certsteward-worker"
  expect_fails program_folder "$T/bin/certsteward-worker .*: whoever can change it runs code as root"
}

test_untrusted_chain() {
  good_setup
  cs_set policy ca_file "$PKI/other-root.pem"
  expect_fails chain "trust: .*other-root.pem"
}

test_stopped_service_and_bad_usage() {
  good_setup
  cs_set connector status_command "false"
  expect_fails connector_service "status_command failed"
  DOCTOR_RC=0
  "$CS" doctor --config "$T/cs.ini" extra > /dev/null 2>&1 || DOCTOR_RC=$?
  expect_eq "$DOCTOR_RC" 2 "exit status with an unexpected argument"
  DOCTOR_RC=0
  "$CS" doctor --config "$T/missing.ini" > /dev/null 2>&1 || DOCTOR_RC=$?
  expect_eq "$DOCTOR_RC" 2 "exit status without a readable configuration"
  "$CS" doctor --help | grep -q "^usage: certsteward doctor" || fail "doctor --help"
}

run_test "$@"
