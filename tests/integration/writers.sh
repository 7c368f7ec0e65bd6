#!/usr/bin/env bash
# Folders other accounts can write, on the way to what certsteward writes or trusts.
# - A folder on the path of a file it writes ([store] files, binding files, [log]
#   files) that another account can change is said (event 1014, naming the folder and
#   who), once until it changes, and said fixed (1015) when it stops; doctor warns.
# - A state folder under a folder others can change is refused (1004): an unfinished
#   renewal's journal is not recovered until it is safe again, then it is; a
#   configuration others can change stops the start itself (1009), journal untouched.
# The account is one the tests make (accounts.sh); they run as root. Usage: writers.sh TEST_NAME.
. "$(dirname "$0")/lib.sh"
cs_use_daemon

ACCOUNT=cs-connector # made by accounts.sh (CTest's fixture "accounts")

# The events file: the state folder's (moved by the recovery tests)
EV=$T/state/events.jsonl
cs_events_count() { if [ -f "$EV" ]; then jq -r .id "$EV" | grep -cx "$1" || true; else echo 0; fi; }
event_ids() { jq -r .id "$EV" | tr '\n' ' ' | sed 's/ $//'; }
event_message() { jq -r --argjson id "$1" 'select(.id == $id) | .message' "$EV"; }

# written_setup: the renewal setup with a drop folder and a private password file
written_setup() {
  id "$ACCOUNT" >/dev/null 2>&1 || fail "no account $ACCOUNT: run tests/integration/accounts.sh make first"
  setup
  cs_watch_config "rescan_interval = 1"
  cs_private_password
}

# The store's folder owned by $ACCOUNT: said for cert.pem and key.pem, naming the folder
# and the account, once (not again before the renewal), then said fixed once.
test_written_folder_of_another_account_is_said_once() {
  written_setup
  chown "$ACCOUNT" "$T/store"
  cs_daemon_start
  cs_events_wait 1014 2 10
  local f
  for f in cert.pem key.pem; do
    expect_eq "$(event_message 1014 | grep -cF "certsteward writes $T/store/$f as root")" 1 "1014 for $f"
  done
  event_message 1014 | grep -F "$T/store/cert.pem" |
    grep -qF "the folder $T/store on its path can be changed by others: user $ACCOUNT (owner)." ||
    fail "1014 does not name the folder and $ACCOUNT: $(event_message 1014)"
  expect_eq "$(jq -r 'select(.id == 1014) | .severity' "$EV" | sort -u)" warning "1014's severity"
  # a renewal: checked again before it, the same finding is not said again
  cs_drop "$PKI/good-aes.pfx"
  cs_events_wait 4006 1 30
  expect_eq "$(cs_events_count 1014)" 2 "said again before the renewal"
  expect_eq "$(cs_events_count 1015)" 0 "said fixed while it is not"
  # fixed: said at the next renewal, once per file
  chown root "$T/store"
  cs_drop "$PKI/bad-cn.pem"
  cs_events_wait 3002 1 30
  expect_eq "$(cs_events_count 1015)" 2 "said fixed (cert.pem and key.pem)"
  event_message 1015 | grep -qF "the path of $T/store/cert.pem now: $T/store is no longer open to others" ||
    fail "1015 does not name the file and the folder: $(event_message 1015)"
  cs_drop "$PKI/bad-wronghost.pem"
  cs_events_wait 3002 2 30
  expect_eq "$(cs_events_count 1015)" 2 "said fixed more than once"
  expect_eq "$(cs_events_count 1014)" 2 "said again once fixed"
  cs_daemon_stop_clean
}

# A folder further up, writable by a group: the folder and the group by name; a binding
# file's folder is judged too. Private folders give nothing.
test_written_folder_above_writable_by_a_group() {
  written_setup
  mkdir -m 700 "$T/conn" "$T/conn/config"
  mv "$T/tls.json" "$T/conn/config/tls.json"
  cs_set connector binding_files conn/config/tls.json
  chgrp "$ACCOUNT" "$T/conn"
  chmod 775 "$T/conn"
  cs_daemon_start
  cs_events_wait 1014 1 10
  sleep 1
  expect_eq "$(cs_events_count 1014)" 1 "only the binding file's path is open"
  event_message 1014 | grep -qF "certsteward writes $T/conn/config/tls.json as root (LocalSystem on Windows), but the folder $T/conn on its path can be changed by others: group $ACCOUNT (mode 775)." ||
    fail "1014 does not say the group: $(event_message 1014)"
  cs_daemon_stop_clean
}

# certsteward doctor shows the same finding as a warning, and none once fixed.
test_doctor_warns_of_written_folder() {
  written_setup
  chown "$ACCOUNT" "$T/store"
  "$CS" doctor --config "$T/cs.ini" >"$T/doctor.out" 2>&1 || true
  grep -E '^warn +written_path ' "$T/doctor.out" | grep -qF "$T/store/cert.pem is written as root, but the folder $T/store on its path can be changed by user $ACCOUNT (owner)" ||
    fail "doctor does not warn: $(cat "$T/doctor.out")"
  chown root "$T/store"
  "$CS" doctor --config "$T/cs.ini" >"$T/doctor.out" 2>&1 || true
  grep -qE '^ok +written_path ' "$T/doctor.out" || fail "doctor still warns: $(cat "$T/doctor.out")"
  ! grep -qE '^warn +written_path ' "$T/doctor.out" || fail "doctor still warns: $(cat "$T/doctor.out")"
}

# ---- recovery waits for a safe state folder and configuration ---------------------

# recovery_setup: the state folder in $T/var/state, and a renewal killed (the test
# build's fault point) after it installed the new certificate: a journal to recover
recovery_setup() {
  written_setup
  mkdir -m 700 "$T/var"
  cs_set store state_dir var/state
  EV=$T/var/state/events.jsonl
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  local st=0
  CERTSTEWARD_TEST_FAULT=after_install "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 || st=$?
  [ "$st" -eq 137 ] || { cat "$T/run1.out" >&2; fail "the renewal was not killed after install (exit $st)"; }
  [ -e "$T/var/state/journal" ] || fail "no journal after the kill"
  ! cmp -s "$T/store/cert.pem" "$T/cert.pem.orig" || fail "the killed renewal installed nothing"
}

# The recovery rolled the renewal back: the old certificate in service, no journal.
recovered() {
  cmp -s "$T/store/cert.pem" "$T/cert.pem.orig" || fail "$1: cert.pem is not the old one"
  cmp -s "$T/tls.json" "$T/tls.json.orig" || fail "$1: tls.json is not the old one"
  [ ! -e "$T/var/state/journal" ] || fail "$1: the journal was left: $(cat "$T/var/state/journal")"
  expect_served "$P1" "$OLD" "$1: served after the recovery"
}

test_recovery_waits_for_safe_state_folder() {
  recovery_setup
  chown "$ACCOUNT" "$T/var" # $ACCOUNT could swap the state folder, journal and manifests
  cs_daemon_start
  cs_events_wait 1004 1 10
  event_message 1004 | grep -qF "The folder $T/var/state is not safe to use: $T/var is owned by user $(id -u "$ACCOUNT")" ||
    fail "1004 does not name the folder above: $(event_message 1004)"
  sleep 2.5 # the check is made again at each rescan (every second)
  cs_alive
  expect_eq "$(cs_events_count 5003)" 0 "recovered from an unsafe state folder"
  expect_eq "$(cs_events_count 1004)" 1 "said more than once"
  [ -e "$T/var/state/journal" ] || fail "the journal was acted on"
  ! cmp -s "$T/store/cert.pem" "$T/cert.pem.orig" || fail "the certificate was put back from an unsafe state folder"
  # safe again: said, then the recovery runs without a restart
  chown root "$T/var"
  cs_events_wait 1008 1 10
  cs_events_wait 5003 1 10
  cs_events_wait 5001 1 30
  recovered "once the state folder was safe"
  expect_eq "$(cs_events_count 5002)" 0 "rollback failed"
  cs_daemon_stop_clean
}

# Under a folder everyone may write (chmod, not an owner) the same; chmod fixes it.
test_recovery_waits_for_state_folder_open_to_all() {
  recovery_setup
  chmod 777 "$T/var"
  cs_daemon_start
  cs_events_wait 1004 1 10
  event_message 1004 | grep -qF "$T/var can be written by all users (mode 777)" ||
    fail "1004 does not say why: $(event_message 1004)"
  sleep 2.5
  expect_eq "$(cs_events_count 5003)" 0 "recovered from an unsafe state folder"
  [ -e "$T/var/state/journal" ] || fail "the journal was acted on"
  chmod 755 "$T/var"
  cs_events_wait 1008 1 10
  cs_events_wait 5001 1 30
  recovered "once chmod made it safe"
  cs_daemon_stop_clean
}

# A command that recovers and renews (apply here; rollback and request begin the same way)
# judges the state folder as the daemon does: open to all, nothing is recovered or
# changed, it says why; made safe again, apply recovers first
test_apply_refuses_an_unsafe_state_folder() {
  recovery_setup
  chmod 777 "$T/var/state"
  local st=0
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" >"$T/apply.out" 2>&1 || st=$?
  [ "$st" -ne 0 ] || fail "apply ran in an unsafe state folder: $(cat "$T/apply.out")"
  grep -qF "the state folder $T/var/state is not safe to use" "$T/apply.out" || fail "not said why: $(cat "$T/apply.out")"
  grep -q "Nothing was changed" "$T/apply.out" || fail "not said that nothing changed: $(cat "$T/apply.out")"
  [ -e "$T/var/state/journal" ] || fail "the journal was acted on"
  ! cmp -s "$T/store/cert.pem" "$T/cert.pem.orig" || fail "the store was changed"
  expect_eq "$(cs_events_count 5003)" 0 "recovered from an unsafe state folder"
  chmod 700 "$T/var/state"
  "$CS" apply --config "$T/cs.ini" --dry-run "$PKI/good-aes.pfx" >"$T/apply2.out" 2>&1 ||
    fail "apply in the safe state folder: $(cat "$T/apply2.out")"
  recovered "apply once the state folder was safe"
}

# What the state folder holds besides the journal and the transaction is trusted too: the
# request in flight (its request is submitted to the CA with this machine's rights, its
# certificate put in service) and the record of the certificate certsteward put in
# service (it keeps READ on that key). Left by another account (planted while the folder
# was open to others, they stay theirs to change): refused, nothing done, said why.
test_planted_request_or_record_in_the_state_folder_is_refused() {
  written_setup
  local f st
  for f in request/record committed; do
    mkdir -p "$T/state/request"
    chmod 700 "$T/state/request"
    echo planted >"$T/state/$f"
    chown "$ACCOUNT" "$T/state/$f"
    st=0
    "$CS" apply --config "$T/cs.ini" --dry-run "$PKI/good-aes.pfx" >"$T/apply.out" 2>&1 || st=$?
    [ "$st" -ne 0 ] || fail "apply ran beside a planted $f: $(cat "$T/apply.out")"
    grep -qF "the state folder $T/state is not safe to use" "$T/apply.out" || fail "not said why: $(cat "$T/apply.out")"
    rm -f "$T/state/$f"
  done
  "$CS" apply --config "$T/cs.ini" --dry-run "$PKI/good-aes.pfx" >"$T/apply.out" 2>&1 ||
    fail "apply once the planted files are gone: $(cat "$T/apply.out")"
}

# A configuration others can change: certsteward does not start, so it recovers
# nothing; made private, the next start recovers.
test_recovery_waits_for_safe_config() {
  recovery_setup
  chmod 666 "$T/cs.ini"
  local st=0
  "$CS" run --config "$T/cs.ini" --once >"$T/run2.out" 2>&1 || st=$?
  expect_eq "$st" 2 "run's exit status with an unsafe configuration"
  grep -qF "$T/cs.ini can be changed by all users (mode 666)" "$T/run2.out" || fail "not said why: $(cat "$T/run2.out")"
  expect_eq "$(cs_events_count 5003)" 0 "recovered under an unsafe configuration"
  [ -e "$T/var/state/journal" ] || fail "the journal was acted on"
  ! cmp -s "$T/store/cert.pem" "$T/cert.pem.orig" || fail "the certificate was put back"
  chmod 600 "$T/cs.ini"
  "$CS" run --config "$T/cs.ini" --once >"$T/run3.out" 2>&1 || { cat "$T/run3.out" >&2; fail "the safe start failed"; }
  expect_eq "$(cs_events_count 5003)" 1 "recovery event"
  expect_eq "$(cs_events_count 5001)" 1 "rolled back"
  recovered "with a safe configuration"
}

run_test "$@"
