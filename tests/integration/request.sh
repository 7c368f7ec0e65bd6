#!/usr/bin/env bash
# The renewal with no person ([request]) end to end, nginx on 127.0.0.1 as the
# connector: a CA helper with certmonger's contract, backed by a test CA this script
# makes with openssl, signs (or not) the request certsteward makes; the issued
# certificate with its new key must end up served, or nothing change.
# Usage: request.sh TEST_NAME.
. "$(dirname "$0")/lib.sh"

cs_use_daemon

SRC=$(cd "$(dirname "$0")/../.." && pwd) # the source tree: the shipped CA helpers

# What a failure prints besides its message: the runs' output, the helper's log, the events
cs_on_fail() {
  local f
  for f in run.out run2.out daemon.out ca/helper.log; do
    [ -e "$T/$f" ] && { echo "---- $f"; tail -n 30 "$T/$f"; }
  done
  [ -e "$T/state/events.jsonl" ] && { echo "---- events"; jq -c '[.id, .message]' "$T/state/events.jsonl" | tail -n 30; }
}

# ca_setup: a test root CA (key and certificate) in $T/ca, trusted by [policy] ca_file
# besides the test PKI's
ca_setup() {
  mkdir -p -m 700 "$T/ca"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca/root.key" -out "$T/ca/root.pem" \
    -days 3650 -subj "/CN=certsteward request test root" 2>/dev/null || fail "no test CA"
  cat "$PKI/ca-chain.pem" "$T/ca/root.pem" >"$T/ca/trust.pem"
  cs_set policy ca_file "$T/ca/trust.pem"
}

# helper BODY: the CA helper (a shell script) whose body is BODY; it logs each call, and
# sign (a function in it) issues the request in CERTMONGER_CSR with the test CA on
# standard output
helper() {
  {
    echo '#!/bin/bash'
    printf 'CA=%q\n' "$T/ca"
    cat <<'SH'
echo "$CERTMONGER_OPERATION cookie=${CERTMONGER_CA_COOKIE-} profile=${CERTMONGER_CA_PROFILE-} host=$CERTMONGER_REQ_HOSTNAME" >>"$CA/helper.log"
printf '%s\n' "$CERTMONGER_CSR" >"$CA/last.csr"
sign() {
  openssl x509 -req -in "$CA/last.csr" -CA "$CA/root.pem" -CAkey "$CA/root.key" -days 400 -copy_extensions copy \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" 2>>"$CA/helper.log"
}
SH
    echo "$1"
  } >"$T/ca/helper"
  chmod 755 "$T/ca/helper"
}

# request_setup BODY [ROUTE]: the renewal setup, the test CA, the helper, and [request]
# due now (the certificate in service expires within 60 days)
request_setup() {
  setup
  ca_setup
  helper "$1"
  cat >>"$T/cs.ini" <<EOF2

[request]
renew_days = 60
route = ${2-command}
submit_command = $T/ca/helper
template = WebServer
EOF2
}

run_once() { "$CS" run --config "$T/cs.ini" --once >"$T/run.out" 2>&1 || true; }
status_json() { "$CS" status --config "$T/cs.ini" --json | jq -c ".request$1"; }
# new_served WHAT: the store holds a new certificate, and nginx serves it (a reloaded nginx
# lets its old worker finish: expect_served polls); its thumbprint in NOW
new_served() {
  NOW=$(cs_ossl_tp "$T/store/cert.pem")
  [ -n "$NOW" ] && [ "$NOW" != "$OLD" ] || fail "$1: the store still holds the old certificate"
  expect_served "$P1" "$NOW" "$1"
}

# A key file the request made, anywhere under the state folder
key_files() { find "$T/state/request" -name '*.key' 2>/dev/null; }

# The CA issues at once: the new certificate, with a new key made on this machine, is
# served; the request carried the host as CN, the names of the certificate in service,
# serverAuth and the template; nothing of the request is left
test_issued_at_once_is_served() {
  request_setup 'sign; exit 0'
  run_once
  new_served "the issued certificate is served"
  openssl req -in "$T/ca/last.csr" -verify -noout 2>&1 | grep -q "verify OK" || fail "the request's signature does not verify"
  openssl req -in "$T/ca/last.csr" -noout -text >"$T/csr.txt"
  grep -q "CN *= *$HOST" "$T/csr.txt" || fail "the request's CN is not the host"
  grep -q "DNS:$HOST" "$T/csr.txt" || fail "the request lacks the host as a SAN"
  grep -q "TLS Web Server Authentication" "$T/csr.txt" || fail "the request lacks serverAuth"
  grep -q "1.3.6.1.4.1.311.20.2" "$T/csr.txt" || fail "the request lacks the template"
  grep -q "^SUBMIT cookie= profile=WebServer host=$HOST\$" "$T/ca/helper.log" || fail "the helper was not called as certmonger calls it"
  # the key in service is a new one, the issued certificate's
  ! cmp -s "$T/store/key.pem" "$PKI/leaf.key" || fail "the key in service is the old one"
  cs_key_matches "$T/store/cert.pem" "$T/store/key.pem" || fail "the key in service is not the new certificate's"
  expect_eq "$(stat -c %a "$T/store/key.pem" | cut -c3)" 0 "others' access to the key in service"
  cs_nobody_reads "$T/store/key.pem" || fail "the account cannot read the new key: $(getfacl -cp "$T/store/key.pem")"
  for id in 3200 3201 3203 4006; do expect_eq "$(cs_events_count $id)" 1 "event $id"; done
  [ ! -e "$T/state/request/record" ] || fail "the record was left behind"
  [ -z "$(key_files)" ] || fail "the request's key file was left behind: $(key_files)"
  expect_eq "$(status_json .in_flight)" null "status: no request in flight"
  grep -q "\"thumbprint\": \"$NOW\"" "$T/tls.json" || fail "the binding file does not name the new certificate"
}

# The CA says wait (a cookie), later issues on the poll: pending is said once, status shows it,
# the poll carries the cookie
test_wait_then_issue() {
  request_setup 'if [ "$CERTMONGER_OPERATION" = POLL ] && [ "$CERTMONGER_CA_COOKIE" = "id=42" ]; then sign; exit 0; fi
echo "id=42"; exit 1'
  run_once
  expect_served "$P1" "$OLD" "pending: still the old certificate"
  expect_eq "$(status_json .in_flight.state)" '"pending"' "status: pending"
  expect_eq "$(cs_events_count 3202)" 1 "pending said"
  grep -qx "certsteward_request_pending 1" "$T/state/certsteward.prom" || fail "the metrics do not say a request is pending"
  grep -q "^certsteward_request_age_seconds [0-9]" "$T/state/certsteward.prom" || fail "the metrics lack the request's age"
  expect_eq "$(key_files | wc -l)" 1 "the pending request's key"
  expect_eq "$(stat -c %a "$(key_files)")" 600 "the key file's mode"
  CERTSTEWARD_TEST_CLOCK_OFFSET=30 run_once # not due yet: no call
  expect_eq "$(grep -c '^POLL' "$T/ca/helper.log" || true)" 0 "polled before its time"
  CERTSTEWARD_TEST_CLOCK_OFFSET=3600 run_once
  grep -q "^POLL cookie=id=42 " "$T/ca/helper.log" || fail "the poll did not carry the cookie"
  new_served "the certificate issued on the poll"
  expect_eq "$(cs_events_count 3202)" 1 "pending said once"
  grep -qx "certsteward_request_pending 0" "$T/state/certsteward.prom" || fail "the metrics still say a request is pending"
  [ ! -e "$T/state/request/record" ] || fail "the record was left behind"
}

# The request carries the names of the certificate in service only when that one chains to
# a trusted root and certsteward vouches for it (it put it in service itself: its record
# in the state folder; or [connector] thumbprint names it): a file the connector's account
# could have written must not choose the names this machine asks the CA for
more_names_setup() {
  request_setup 'echo "id=1"; exit 1'
  cat "$PKI/current-more-names.pem" "$PKI/inter.pem" >"$T/store/cert.pem"
  "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -s reload
  OLD=$(cs_ossl_tp "$PKI/current-more-names.pem")
  sed -i "s/$(cs_ossl_tp "$PKI/current-ok.pem" | tr 'A-F' 'a-f')/$(tr 'A-F' 'a-f' <<<"$OLD")/; s/$(cs_ossl_tp "$PKI/current-ok.pem")/$OLD/" "$T/tls.json"
}

# vouched_for TP: the state folder's record says certsteward put TP in service itself
vouched_for() { printf 'tp %s\nkey \n' "$1" >"$T/state/committed"; }

test_names_of_a_trusted_certificate_are_kept() {
  more_names_setup
  vouched_for "$OLD"
  run_once
  openssl req -in "$T/ca/last.csr" -noout -text | grep -q "DNS:extra.example.test" ||
    fail "the trusted certificate's other name is not in the request"
}

test_names_of_an_untrusted_certificate_are_not_copied() {
  more_names_setup
  cs_set policy ca_file "$T/ca/root.pem" # the certificate in service's root is not among these
  run_once
  openssl req -in "$T/ca/last.csr" -noout -text >"$T/csr.txt"
  grep -q "DNS:$HOST" "$T/csr.txt" || fail "the request lacks the host"
  ! grep -q "extra.example.test" "$T/csr.txt" || fail "an untrusted certificate chose the request's names"
  event_message 3200 | grep -q "alone (the other names of the certificate in service are copied only when" ||
    fail "the request does not say why it carries the host alone: $(event_message 3200)"
}

# A certificate a trusted CA issued for other names, put at cert_file by whoever can write
# its folder (a public CA's certificate for a name of theirs chains to a trusted root as
# well): certsteward did not put it in service, so its names are not asked for
test_names_of_a_trusted_certificate_not_put_in_service_are_not_copied() {
  more_names_setup
  run_once
  openssl req -in "$T/ca/last.csr" -noout -text >"$T/csr.txt"
  grep -q "DNS:$HOST" "$T/csr.txt" || fail "the request lacks the host"
  ! grep -q "extra.example.test" "$T/csr.txt" || fail "a certificate certsteward did not put in service chose the names"
  event_message 3200 | grep -q "one certsteward put in service itself" ||
    fail "the request does not say why it carries the host alone: $(event_message 3200)"
}

# A cookie that is a CA's request id (AD CS numbers them) is said in the events and status;
# any other cookie is the helper's own and never shown
test_request_id_is_said() {
  request_setup 'echo "4711"; exit 1'
  run_once
  event_message 3202 | grep -q "CA request 4711" || fail "the CA's request id is not said: $(event_message 3202)"
  expect_eq "$(status_json .in_flight.ca_request)" '"4711"' "status: the CA's request id"
}

# An issued certificate whose renewal could not run (the pre-flight found the endpoint
# down) is not held: it is tried again after the back-off and put in service
test_renewal_that_could_not_run_is_tried_again() {
  request_setup 'sign; exit 0'
  cs_set connector endpoints "127.0.0.1:$P2" # nothing listens there
  run_once
  expect_eq "$(status_json .in_flight.state)" '"issued"' "issued, waiting to be tried again"
  expect_eq "$(cs_events_count 3210)" 0 "held"
  expect_served "$P1" "$OLD" "still the old certificate"
  cs_set connector endpoints "127.0.0.1:$P1"
  CERTSTEWARD_TEST_CLOCK_OFFSET=600 run_once
  new_served "the issued certificate, tried again"
  expect_eq "$(grep -c '^SUBMIT' "$T/ca/helper.log")" 1 "the CA asked again"
}

# Exit 5: wait the seconds the CA asks, then poll with the cookie
test_wait_seconds() {
  request_setup 'printf "120\nticket-7\n"; exit 5'
  run_once
  local made next
  made=$(status_json .in_flight.submitted)
  next=$(status_json .in_flight.next)
  expect_eq "$((next - made))" 120 "the next poll as the CA asked"
  CERTSTEWARD_TEST_CLOCK_OFFSET=200 run_once
  grep -q "^POLL cookie=ticket-7 " "$T/ca/helper.log" || fail "the poll did not carry the cookie"
}

# Rejected: said with the CA's reason, the key deleted, nothing changed, nothing in flight
test_rejected_deletes_the_key() {
  request_setup 'echo "Denied by Policy Module: template not allowed"; exit 2'
  run_once
  expect_eq "$(cs_events_count 3204)" 1 "rejected said"
  event_message 3204 | grep -q "Denied by Policy Module" || fail "the CA's reason is not said: $(event_message 3204)"
  [ -z "$(key_files)" ] || fail "the rejected request's key is still there"
  [ ! -e "$T/state/request/record" ] || fail "the rejected request is still in flight"
  unchanged
}

# Unreachable: said once, retried with the request and key kept
test_unreachable_is_said_once_and_retried() {
  request_setup 'echo "connection refused"; exit 3'
  run_once
  CERTSTEWARD_TEST_CLOCK_OFFSET=7200 run_once
  expect_eq "$(grep -c '^SUBMIT' "$T/ca/helper.log")" 2 "tried again"
  expect_eq "$(cs_events_count 3205)" 1 "unreachable said once"
  expect_eq "$(key_files | wc -l)" 1 "the key is kept"
  expect_eq "$(status_json .in_flight.state)" '"made"' "still to be submitted"
  unchanged
}

# Misconfigured (exit 4) and an exit code out of the contract: said as misconfigured
test_misconfigured_is_said() {
  request_setup 'echo "no CA configured"; exit 4'
  run_once
  expect_eq "$(cs_events_count 3208)" 1 "misconfigured said"
  event_message 3208 | grep -q "no CA configured" || fail "the helper's words are not said"
  expect_eq "$(key_files | wc -l)" 1 "the key is kept"
  unchanged
}

# Past give_up_days: given up, its key deleted
test_given_up_after_its_days() {
  request_setup 'echo "id=1"; exit 1'
  cs_set request give_up_days 2
  run_once
  CERTSTEWARD_TEST_CLOCK_OFFSET=$((3 * 86400)) run_once
  expect_eq "$(cs_events_count 3206)" 1 "given up said"
  [ -z "$(key_files)" ] || fail "the given-up request's key is still there"
  [ ! -e "$T/state/request/record" ] || fail "the given-up request is still in flight"
}

# A certificate for another key: refused (said), nothing changed, the request stays pending
test_certificate_for_another_key_is_refused() {
  request_setup 'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CA/other.key" -subj "/CN=x" -out "$CA/last.csr" 2>/dev/null; sign; exit 0'
  run_once
  expect_eq "$(cs_events_count 3209)" 1 "the other key's certificate refused"
  expect_eq "$(status_json .in_flight.state)" '"pending"' "the request stays pending"
  unchanged
}

# The daemon killed while a request is pending: the next start polls it with its cookie
test_killed_while_pending_resumes() {
  request_setup 'if [ "$CERTMONGER_OPERATION" = POLL ]; then sign; exit 0; fi; echo "id=9"; exit 1'
  cs_daemon_start
  cs_events_wait 3202 1 20
  kill -KILL "$CS_DAEMON_PID"
  wait "$CS_DAEMON_PID" 2>/dev/null || true
  CS_DAEMON_PID=
  CERTSTEWARD_TEST_CLOCK_OFFSET=3600 run_once
  grep -q "^POLL cookie=id=9 " "$T/ca/helper.log" || fail "the request was not resumed"
  new_served "the resumed request's certificate"
}

# The certificate in service renewed another way while a request waits (a PFX dropped):
# the request is over, said, its key and record gone; nothing is submitted again
test_renewed_otherwise_ends_the_request() {
  request_setup 'echo "id=5"; exit 1'
  run_once
  expect_eq "$(status_json .in_flight.state)" '"pending"' "pending"
  cs_watch_config
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once
  expect_eq "$(cs_events_count 4006)" 1 "the dropped certificate committed"
  expect_eq "$(cs_events_count 3211)" 1 "the request said over"
  event_message 3211 | grep -q "no longer $OLD" || fail "the end does not say why: $(event_message 3211)"
  [ -z "$(key_files)" ] || fail "the ended request's key is still there"
  [ ! -e "$T/state/request/record" ] || fail "the ended request is still in flight"
  expect_eq "$(grep -c '^SUBMIT\|^POLL' "$T/ca/helper.log")" 1 "the CA asked again"
}

# Manual route: the request is written to the outbox, said; nothing is submitted
test_manual_route_writes_the_outbox() {
  request_setup 'exit 9' ''
  run_once
  local csr
  csr=$(find "$T/state/outbox" -name '*.csr')
  [ -n "$csr" ] || fail "no request in the outbox"
  openssl req -in "$csr" -verify -noout 2>&1 | grep -q "verify OK" || fail "the outbox's request does not verify"
  expect_eq "$(cs_events_count 3207)" 1 "the outbox said"
  [ ! -e "$T/ca/helper.log" ] || fail "the helper was run"
  expect_eq "$(status_json .in_flight.state)" '"outbox"' "status: outbox"
}

# Manual route, the certificate back: the admin submits the outbox's request and drops the
# certificate the CA returned, alone: it is joined with the waiting key and put in
# service; the request is over
test_manual_route_dropped_certificate_is_paired() {
  request_setup 'exit 9' ''
  cs_watch_config
  run_once
  local csr
  csr=$(find "$T/state/outbox" -name '*.csr')
  [ -n "$csr" ] || fail "no request in the outbox"
  openssl x509 -req -in "$csr" -CA "$T/ca/root.pem" -CAkey "$T/ca/root.key" -days 400 -copy_extensions copy \
    -out "$T/drop/board.crt" 2>/dev/null || fail "the test CA did not sign the outbox's request"
  run_once
  new_served "the returned certificate, paired with the waiting key"
  cs_key_matches "$T/store/cert.pem" "$T/store/key.pem" || fail "the key in service is not the returned certificate's"
  expect_eq "$(cs_events_count 3211)" 1 "the request said over"
  [ -z "$(key_files)" ] || fail "the request's key file was left behind"
  [ ! -e "$T/state/request/record" ] || fail "the record was left behind"
}

# Not due (the certificate in service expires later than renew_days): nothing is made;
# certsteward request makes one all the same
test_not_due_until_asked() {
  request_setup 'sign; exit 0'
  cs_set request renew_days 5
  run_once
  [ ! -e "$T/ca/helper.log" ] || fail "a request was made before it was due"
  "$CS" request --config "$T/cs.ini" >"$T/run2.out" 2>&1 || fail "certsteward request failed"
  new_served "certsteward request's certificate"
}

# certsteward doctor judges the route without submitting: the helper answers IDENTIFY;
# one that says its CA is down fails the check; a helper others can change fails it;
# nothing is ever submitted
test_doctor_judges_the_route() {
  request_setup 'if [ "$CERTMONGER_OPERATION" = IDENTIFY ]; then [ -e "$CA/down" ] && { echo "no route to host"; exit 3; }; echo "test CA helper"; exit 0; fi; exit 9'
  doctor_line() { "$CS" doctor --config "$T/cs.ini" 2>&1 | grep -E "^[a-z]+ +request " || true; }
  doctor_line | grep -Eq "^ok +request .*helper runs and answers" || fail "doctor: $(doctor_line)"
  touch "$T/ca/down"
  doctor_line | grep -Eq "^fail +request .*cannot reach its CA: no route to host" || fail "doctor, CA down: $(doctor_line)"
  rm "$T/ca/down"
  chmod 777 "$T/ca"
  doctor_line | grep -Eq "^fail +request .*can be changed by" || fail "doctor, helper others can change: $(doctor_line)"
  chmod 700 "$T/ca"
  cs_set request submit_command "ca-helper --x"
  doctor_line | grep -Eq "^fail +request .*ca-helper is not named by its full path" || fail "doctor, relative program: $(doctor_line)"
  # a file the helper is handed that others can change fails the check, named
  echo secret >"$T/ca/step.pass"
  chmod 666 "$T/ca/step.pass"
  cs_set request submit_command "$T/ca/helper --password-file $T/ca/step.pass"
  doctor_line | grep -Eq "^fail +request .*$T/ca/step.pass .*all users \(mode 666\)" || fail "doctor, a file others can change: $(doctor_line)"
  grep -q "SUBMIT\|POLL" "$T/ca/helper.log" && fail "doctor submitted a request"
  [ ! -e "$T/state/request/record" ] || fail "doctor made a request"
}

# A helper others can change is never run: the run refuses it (event 3208, said once,
# naming the folder and who can change it) and tries again later, still refusing; once
# the folder is closed, the same request goes on
test_helper_others_can_change_is_refused() {
  request_setup 'sign; exit 0'
  chmod 777 "$T/ca"
  run_once
  CERTSTEWARD_TEST_CLOCK_OFFSET=7200 run_once
  [ ! -e "$T/ca/helper.log" ] || fail "the helper ran: $(cat "$T/ca/helper.log")"
  expect_eq "$(cs_events_count 3208)" 1 "the refusal said once"
  event_message 3208 | grep -q "$T/ca, its folder or one above it, can be changed by all users (mode 777)" ||
    fail "the refusal does not say what and who: $(event_message 3208)"
  unchanged
  chmod 700 "$T/ca"
  CERTSTEWARD_TEST_CLOCK_OFFSET=$((3 * 7200)) run_once
  new_served "the certificate issued once the helper's folder is closed"
}

# CERTMONGER_ variables on the command line are refused, said (the shell would put the
# CA's cookie into the line it runs)
test_certmonger_variables_on_the_line_are_refused() {
  request_setup 'sign; exit 0'
  cs_set request submit_command "$T/ca/helper \"\$CERTMONGER_CA_COOKIE\""
  run_once
  [ ! -e "$T/ca/helper.log" ] || fail "the helper ran"
  event_message 3208 | grep -q "names CERTMONGER_CA_COOKIE" || fail "the refusal is not said: $(event_message 3208)"
}

# The shipped step-ca helper (conf/ca-helpers/step-ca) end to end. The step command is not
# packaged for Debian: a stand-in takes its place, with step ca sign's arguments and
# files (CSR in, certificate and chain out), signing with the test CA, or failing as step
# does when the CA is down. What is tested is the helper's side of the contract.
step_standin() {
  {
    echo '#!/bin/bash'
    printf 'CA=%q\n' "$T/ca"
    cat <<'SH'
echo "step $*" >>"$CA/step.log"
[ "$1 $2" = "ca sign" ] || { echo "unknown command"; exit 1; }
shift 2
while [ "${1#--}" != "$1" ]; do shift 2; done
if [ -e "$CA/down" ]; then echo "client POST https://ca:9000/1.0/sign failed: dial tcp: connection refused"; exit 1; fi
openssl x509 -req -in "$1" -CA "$CA/root.pem" -CAkey "$CA/root.key" -days 400 -copy_extensions copy -out "$2" 2>/dev/null
SH
  } >"$T/ca/step"
  chmod 755 "$T/ca/step"
}

test_step_ca_helper_issues() {
  request_setup 'exit 9'
  step_standin
  cs_set request submit_command "$SRC/conf/ca-helpers/step-ca --step $T/ca/step --ca-url https://ca.example.test:9000 --root $T/ca/root.pem --provisioner certsteward"
  run_once
  grep -q "^step ca sign --ca-url https://ca.example.test:9000 --root $T/ca/root.pem --provisioner certsteward " "$T/ca/step.log" ||
    fail "step was not called with the helper's options: $(cat "$T/ca/step.log")"
  # its files in the work folder certsteward made for the run (CERTSTEWARD_WORK_DIR), gone after
  grep -q " $T/state/request/work-[^/ ]*/request.csr " "$T/ca/step.log" ||
    fail "the helper did not work in its work folder: $(cat "$T/ca/step.log")"
  [ -z "$(find "$T/state/request" -name 'work-*')" ] || fail "a work folder was left behind"
  new_served "the certificate step-ca issued"
}

test_step_ca_helper_says_unreachable() {
  request_setup 'exit 9'
  step_standin
  touch "$T/ca/down"
  cs_set request submit_command "$SRC/conf/ca-helpers/step-ca --step $T/ca/step --ca-url https://ca.example.test:9000"
  run_once
  expect_eq "$(cs_events_count 3205)" 1 "unreachable said"
  event_message 3205 | grep -q "connection refused" || fail "step's words are not said: $(event_message 3205)"
  # and a helper given an option it does not know says it is not set up
  cs_set request submit_command "$SRC/conf/ca-helpers/step-ca --colour blue"
  CERTSTEWARD_TEST_CLOCK_OFFSET=7200 run_once
  event_message 3208 | grep -q "unknown argument --colour" || fail "the helper's misconfiguration is not said: $(event_message 3208)"
  unchanged
}

run_test "$@"
