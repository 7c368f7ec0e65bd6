#!/usr/bin/env bash
# The daemon (certsteward run) as an admin meets it: files dropped into the watched
# folder, nginx on 127.0.0.1 as the connector, events, quarantine, metrics, the
# maintenance window, expiry warnings (with the test build's movable clock) and a
# kill in the middle of a renewal. Usage: daemon.sh TEST_NAME.
. "$(dirname "$0")/lib.sh"

DAEMON_PID=
stop_daemon() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID"
    wait "$DAEMON_PID" || true
  fi
  DAEMON_PID=
}
trap 'stop_daemon; cleanup' EXIT

# daemon_config [EXTRA_WATCH_LINES...]: the renewal setup's configuration plus a drop folder
daemon_config() {
  local extra=""
  for line in "$@"; do extra="$extra\\n$line"; done
  sed -i "s|^\[watch\]\$|[watch]\nfolder = drop\nsettle_seconds = 1$extra|" "$T/cs.ini"
  mkdir -p -m 700 "$T/drop"
}

start_daemon() {
  "$CS" run --config "$T/cs.ini" "$@" >"$T/daemon.out" 2>&1 &
  DAEMON_PID=$!
  cs_events_wait 1000 1 10
}

# drop FILE: as an admin's copy would: written under a temporary name, then renamed
drop() {
  cp "$1" "$T/drop/.incoming.tmp"
  mv "$T/drop/.incoming.tmp" "$T/drop/$(basename "$1")"
}

test_good_drop_is_put_in_service() {
  setup
  daemon_config
  start_daemon
  local new; new=$(thumbprint "$PKI/good-aes.pfx")
  drop "$PKI/good-aes.pfx"
  cs_events_wait 4006 1 30
  expect_served "$P1" "$new" "nginx serves the dropped certificate"
  [ -z "$(ls -A "$T/drop")" ] || fail "the drop folder is not empty: $(ls -A "$T/drop")"
  [ ! -e "$T/state/processed" ] || [ -z "$(ls -A "$T/state/processed")" ] || fail "a processed copy was kept"
  [ -z "$(ls -A "$T/state/incoming" 2>/dev/null)" ] || fail "the taken file was left in incoming"
  grep -q "$new" "$T/tls.json" || fail "bindings not rewritten"
  # events in order: detected, accepted, the renewal, committed, archived (1000 started,
  # 2000 expiring, the certificate in service has 30 days left, and 4010, certsteward did
  # not put it in service, so it does not keep [connector] account nobody's READ on its
  # key, come first)
  expect_eq "$(event_ids)" "1000 2000 4010 3000 3001 4000 4001 4002 4003 4004 4005 4006 4007" "events"
  grep -q '^certsteward_drops_accepted_total 1$' "$T/state/certsteward.prom" || fail "metrics: $(cat "$T/state/certsteward.prom")"
  grep -q 'certsteward_last_renewal_result{result="committed"} 1' "$T/state/certsteward.prom" || fail "metrics result"
  promtool check metrics < "$T/state/certsteward.prom" || fail "promtool rejects the metrics file"
  stop_daemon
  cs_events_wait 1001 1 5
}

test_keyless_drop_uses_key_in_service() {
  setup
  daemon_config
  start_daemon
  local new; new=$(thumbprint "$PKI/good-leaf.der")
  drop "$PKI/good-leaf.der"
  cs_events_wait 4006 1 30
  expect_served "$P1" "$new" "key-less renewal served"
}

test_bad_drop_is_quarantined() {
  setup
  daemon_config
  start_daemon
  drop "$PKI/bad-eku.pem"
  cs_events_wait 3002 1 30
  unchanged
  [ -z "$(ls -A "$T/drop")" ] || fail "the drop folder is not empty"
  local reason; reason=$(ls "$T/state/quarantine/"*.reason)
  grep -q '^check eku failed' "$reason" || fail "reason file: $(cat "$reason")"
  [ -f "${reason%.reason}" ] || fail "the quarantined file is missing"
  jq -r 'select(.id == 3002) | .message' "$T/state/events.jsonl" | grep -q 'eku' || fail "the event does not name the check"
  grep -q '^certsteward_drops_rejected_total 1$' "$T/state/certsteward.prom" || fail "metrics"
  kill -0 "$DAEMON_PID" || fail "the daemon stopped"
}

test_slowly_written_file_waits_until_complete() {
  setup
  daemon_config
  start_daemon
  local new size half; new=$(thumbprint "$PKI/good-aes.pfx")
  size=$(stat -c %s "$PKI/good-aes.pfx"); half=$((size / 2))
  # written in place, in two halves 0.6 s apart (less than settle_seconds = 1)
  head -c "$half" "$PKI/good-aes.pfx" > "$T/drop/slow.pfx"
  sleep 0.6
  tail -c +"$((half + 1))" "$PKI/good-aes.pfx" >> "$T/drop/slow.pfx"
  cs_events_wait 4006 1 30
  expect_eq "$(cs_events_count 3002)" 0 "a half-written file was taken"
  expect_served "$P1" "$new" "served"
}

test_maintenance_window_waits() {
  setup
  # a window an hour or two from now; the later run is put a minute past its start
  cs_window_later
  sed -i "s|^restart_timeout = 5\$|restart_timeout = 5\nmaintenance_window = $CS_WINDOW|" "$T/cs.ini"
  daemon_config
  start_daemon
  drop "$PKI/good-aes.pfx"
  cs_events_wait 3003 1 30
  unchanged
  [ -n "$(ls -A "$T/state/waiting")" ] || fail "nothing parked in waiting"
  stop_daemon
  # a minute after the window opens (the test clock) the next run installs it
  local new; new=$(thumbprint "$PKI/good-aes.pfx")
  CERTSTEWARD_TEST_CLOCK_OFFSET=$((CS_WINDOW_OPEN + 60 - CS_WINDOW_NOW)) "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 ||
    { cat "$T/once.out"; fail "run --once"; }
  cs_events_wait 4006 1 5
  expect_served "$P1" "$new" "installed in the window"
  [ -z "$(ls -A "$T/state/waiting")" ] || fail "still waiting"
}

test_expiry_thresholds_fire_once() {
  setup
  daemon_config
  # the certificate in service expires 30 days from now; thresholds 30, 14, 7, 3, 1
  run_once() { CERTSTEWARD_TEST_CLOCK_OFFSET=$1 "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 ||
    { cat "$T/once.out"; fail "run --once"; }; }
  thresholds() { jq -r 'select(.id == 2000) | .message' "$T/state/events.jsonl" | sed 's/.*threshold \([0-9]*\) days.*/\1/' |
    tr '\n' ' ' | sed 's/ $//'; }
  run_once 0
  expect_eq "$(thresholds)" "30" "first start, 29 days left"
  run_once 0
  expect_eq "$(thresholds)" "30" "a restart says nothing new"
  run_once $((17 * 86400))
  expect_eq "$(thresholds)" "30 14" "12 days left"
  run_once $((27 * 86400))
  expect_eq "$(thresholds)" "30 14 3" "2 days left: only the most urgent"
  run_once $((27 * 86400))
  expect_eq "$(thresholds)" "30 14 3" "again: nothing"
  expect_eq "$(cs_events_count 2001)" 0 "not expired yet"
  run_once $((31 * 86400))
  expect_eq "$(cs_events_count 2001)" 1 "expired"
  run_once $((32 * 86400))
  expect_eq "$(cs_events_count 2001)" 1 "expired only once"
}

test_killed_daemon_rolls_back_at_next_start() {
  setup
  # the restart command kills the daemon (its parent) the first time
  sed -i "s|^restart_command = .*|restart_command = if [ -e $T/killed ]; then $RELOAD; else touch $T/killed; kill -KILL \$PPID; sleep 5; fi|" "$T/cs.ini"
  daemon_config
  "$CS" run --config "$T/cs.ini" >"$T/daemon.out" 2>&1 &
  DAEMON_PID=$!
  drop "$PKI/good-aes.pfx"
  set +e
  wait "$DAEMON_PID"
  local st=$?
  set -e
  DAEMON_PID=
  expect_eq "$st" 137 "the daemon was killed"
  [ -e "$T/state/journal" ] || fail "no journal after the kill"
  # the next start rolls back before anything else, and quarantines the interrupted file
  "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || { cat "$T/once.out"; fail "run --once"; }
  expect_eq "$(cs_events_count 5003)" 1 "recovery event"
  expect_eq "$(cs_events_count 5001)" 1 "rolled back"
  unchanged
  grep -q interrupted "$T/state/quarantine/"*.reason || fail "the interrupted file is not quarantined"
}

test_missing_binding_file_is_reported_and_daemon_keeps_running() {
  setup
  rm "$T/tls.json"
  daemon_config
  start_daemon
  cs_events_wait 1003 1 10
  sleep 0.5
  kill -0 "$DAEMON_PID" || fail "the daemon exited"
}

test_unsafe_drop_folder_is_not_watched() {
  setup
  daemon_config "rescan_interval = 1"
  chmod 777 "$T/drop"
  start_daemon
  cs_events_wait 1004 1 10
  event_message 1004 | grep -qF "$T/drop can be written by all users (mode 777)" ||
    fail "the event does not say why: $(event_message 1004)"
  drop "$PKI/good-aes.pfx"
  sleep 2
  expect_eq "$(cs_events_count 3000)" 0 "a file in an unsafe folder was taken"
  [ -f "$T/drop/good-aes.pfx" ] || fail "the file was moved"
  expect_eq "$(cs_events_count 1004)" 1 "the unsafe folder was said more than once"
  # made safe, it is said and used, without a restart
  chmod 700 "$T/drop"
  cs_events_wait 1008 1 10
  cs_events_wait 4006 1 30
}

# The check runs before every scan, not once: a folder opened to everyone while the
# daemon runs is said once and not used; closed again, it is used again.
test_drop_folder_made_unsafe_while_running() {
  setup
  daemon_config "rescan_interval = 1"
  start_daemon
  cs_events_wait 2000 1 10
  chmod 777 "$T/drop"
  cs_events_wait 1004 1 10
  drop "$PKI/good-aes.pfx"
  sleep 2.5
  expect_eq "$(cs_events_count 3000)" 0 "a file was taken from a folder everyone can write"
  expect_eq "$(cs_events_count 1004)" 1 "said once, not at every scan"
  chmod 700 "$T/drop"
  cs_events_wait 1008 1 10
  cs_events_wait 4006 1 30
  expect_served "$P1" "$(thumbprint "$PKI/good-aes.pfx")" "the file was put in service once safe again"
}

# Fail closed: a folder that cannot be checked (here: gone) counts as unsafe, with the
# reason; one made again, private, is used.
test_drop_folder_that_cannot_be_checked_is_unsafe() {
  setup
  daemon_config "rescan_interval = 1"
  start_daemon
  cs_events_wait 2000 1 10
  rmdir "$T/drop"
  cs_events_wait 1004 1 10
  event_message 1004 | grep -qF "cannot look at $T/drop: No such file or directory" ||
    fail "the event does not say why: $(event_message 1004)"
  mkdir -m 700 "$T/drop"
  cs_events_wait 1008 1 10
  drop "$PKI/good-aes.pfx"
  cs_events_wait 4006 1 30
}

# Whoever can write a folder above the drop folder can swap the drop folder.
test_drop_folder_under_open_parent_is_unsafe() {
  setup
  mkdir -m 777 "$T/open"
  daemon_config
  sed -i "s|^folder = drop\$|folder = open/drop|" "$T/cs.ini"
  mkdir -m 700 "$T/open/drop"
  start_daemon
  cs_events_wait 1004 1 10
  event_message 1004 | grep -qF "$T/open can be written by all users" ||
    fail "the event does not name the folder above: $(event_message 1004)"
  cp "$PKI/good-aes.pfx" "$T/open/drop/"
  sleep 2
  expect_eq "$(cs_events_count 3000)" 0 "a file was taken"
}

test_unsafe_state_folder_is_not_used() {
  setup
  daemon_config
  chmod 777 "$T/state"
  start_daemon
  cs_events_wait 1004 1 10
  jq -r 'select(.id == 1004) | .message' "$T/state/events.jsonl" | grep -c "$T/state" >/dev/null ||
    fail "the event does not name the state folder"
  drop "$PKI/good-aes.pfx"
  sleep 2
  expect_eq "$(cs_events_count 3000)" 0 "a file was taken with an unsafe state folder"
  [ -f "$T/drop/good-aes.pfx" ] || fail "the file was moved"
}

# The password file must be readable by root only: a readable one is said and not used.
test_exposed_password_file_is_not_used() {
  setup
  daemon_config
  install -m 644 "$PKI/pass.txt" "$T/pfx.pass"
  sed -i "s|^password_file = .*|password_file = $T/pfx.pass|" "$T/cs.ini"
  start_daemon
  cs_events_wait 1007 1 10
  jq -r 'select(.id == 1007) | .message' "$T/state/events.jsonl" | grep -c "all users (mode 644)" >/dev/null ||
    fail "the event does not say who can read it"
  drop "$PKI/good-aes.pfx"
  sleep 2
  expect_eq "$(cs_events_count 3000)" 0 "a file was taken with an exposed password file"
  stop_daemon
  # made private, the same configuration works
  chmod 600 "$T/pfx.pass"
  start_daemon
  cs_events_wait 4006 1 30
  expect_eq "$(cs_events_count 1007)" 1 "the password file said exposed again"
}

# A password file that is not there cannot be checked: unsafe, said with the reason.
test_missing_password_file_is_said() {
  setup
  daemon_config "rescan_interval = 1"
  sed -i "s|^password_file = .*|password_file = $T/pfx.pass|" "$T/cs.ini"
  start_daemon
  cs_events_wait 1007 1 10
  event_message 1007 | grep -qF "cannot look at $T/pfx.pass: No such file or directory" ||
    fail "the event does not say why: $(event_message 1007)"
  drop "$PKI/good-aes.pfx"
  sleep 2
  expect_eq "$(cs_events_count 3000)" 0 "a file was taken without the password file"
  install -m 600 "$PKI/pass.txt" "$T/pfx.pass"
  cs_events_wait 1008 1 10
  cs_events_wait 4006 1 30
}

# The configuration names commands that run as root: one others can change is refused
# at start (exit status 2, event 1009), by config and apply too.
test_unsafe_config_file_is_refused() {
  setup
  daemon_config
  chmod 666 "$T/cs.ini"
  local rc=0
  "$CS" run --config "$T/cs.ini" >"$T/daemon.out" 2>&1 || rc=$?
  expect_eq "$rc" 2 "run's exit status"
  grep -qF "the configuration file $T/cs.ini is not safe to use: $T/cs.ini can be changed by all users (mode 666)" \
    "$T/daemon.out" || fail "run does not say why: $(cat "$T/daemon.out")"
  # said to the system log only: nothing is created or written where that file says
  [ ! -e "$T/state/events.jsonl" ] || fail "events written as that configuration says: $(event_ids)"
  [ ! -e "$T/state/lock" ] || fail "the lock was taken as that configuration says"
  rc=0
  "$CS" config --config "$T/cs.ini" >"$T/config.out" 2>&1 || rc=$?
  expect_eq "$rc" 2 "config's exit status"
  grep -qF "is not safe to use" "$T/config.out" || fail "config does not say it: $(cat "$T/config.out")"
  rc=0
  "$CS" apply --config "$T/cs.ini" "$PKI/good-aes.pfx" >"$T/apply.out" 2>&1 || rc=$?
  expect_eq "$rc" 2 "apply's exit status"
  unchanged
  # the folder that holds it, writable by others, is refused too
  chmod 644 "$T/cs.ini"
  chmod 777 "$T"
  rc=0
  "$CS" config --config "$T/cs.ini" >"$T/config.out" 2>&1 || rc=$?
  chmod 700 "$T"
  expect_eq "$rc" 2 "config's exit status with an open folder"
  grep -qF "$T can be written by all users" "$T/config.out" || fail "config does not say why: $(cat "$T/config.out")"
  "$CS" config --config "$T/cs.ini" >/dev/null 2>&1 || fail "a safe configuration is refused"
}

# run --once with a folder it may not use ends (exit status 2) instead of waiting forever.
test_once_with_unsafe_folder_ends() {
  setup
  daemon_config
  chmod 777 "$T/drop"
  cp "$PKI/good-aes.pfx" "$T/drop/"
  local rc=0
  timeout 20 "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || rc=$?
  expect_eq "$rc" 2 "run --once's exit status"
  grep -q "not everything due could be done" "$T/once.out" || fail "run --once does not say it: $(cat "$T/once.out")"
  [ -f "$T/drop/good-aes.pfx" ] || fail "the file was taken"
}

# A dropped file others may write is not read: they could change it after the checks.
test_drop_writable_by_others_is_quarantined() {
  setup
  daemon_config
  start_daemon
  install -m 666 "$PKI/good-aes.pfx" "$T/drop/.x.tmp"
  mv "$T/drop/.x.tmp" "$T/drop/good-aes.pfx"
  cs_events_wait 3002 1 15
  event_message 3002 | grep -q "mode 666: others can change it" || fail "the reason: $(event_message 3002)"
  unchanged
}

# The events file is never written through a link someone put in its place.
test_events_file_link_is_not_followed() {
  setup
  daemon_config
  echo "precious" >"$T/victim"
  ln -s "$T/victim" "$T/state/events.jsonl"
  "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || true
  expect_eq "$(cat "$T/victim")" "precious" "the file the link points to"
  grep -q "cannot create the event file" "$T/once.out" || fail "the refusal is not said: $(cat "$T/once.out")"
}

# Made unsafe while the daemon runs (the worker reads it for every file), renewals wait.
test_config_made_unsafe_while_running() {
  setup
  daemon_config "rescan_interval = 1"
  start_daemon
  cs_events_wait 2000 1 10
  chmod 666 "$T/cs.ini"
  drop "$PKI/good-aes.pfx"
  cs_events_wait 1009 1 10
  sleep 2
  expect_eq "$(cs_events_count 4000)" 0 "a renewal started with a configuration others can change"
  chmod 644 "$T/cs.ini"
  cs_events_wait 1008 1 10
  cs_events_wait 4006 1 30
}

# ---- the private key's permission, the monitored folder ----------------------------

# once: certsteward run --once, which must succeed
once() {
  "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || { cat "$T/once.out"; fail "run --once"; }
}
# nobody_reads: the key in service has an ACL entry granting nobody READ
nobody_reads() { getfacl -cp "$T/store/key.pem" 2>/dev/null | grep -Eq '^user:nobody:r'; }
# openssl's SHA-1 thumbprint of a certificate file (PEM, or DER with "der")
ossl_tp() { openssl x509 -in "$1" -inform "${2:-pem}" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }
# "SOURCE THUMBPRINT" per certificate in the metrics file, sorted
metric_certs() {
  grep '^certsteward_certificate_not_after_seconds{' "$T/state/certsteward.prom" |
    sed -E 's/.*thumbprint="([^"]*)".*source="([^"]*)".*/\2 \1/' | LC_ALL=C sort
}

test_key_permission_drift_is_repaired() {
  setup
  daemon_config
  local new subject; new=$(thumbprint "$PKI/good-aes.pfx")
  subject=$({ "$CS" check --json --host "$HOST" --ca "$PKI/ca-chain.pem" --password-file "$PKI/pass.txt" \
    "$PKI/good-aes.pfx" || true; } | jq -r .subject)
  drop "$PKI/good-aes.pfx"
  once
  expect_eq "$(cs_events_count 4006)" 1 "the drop was committed"
  nobody_reads || fail "the renewal did not grant nobody READ: $(getfacl -cp "$T/store/key.pem")"
  local before; before=$(cs_events_count 4008)
  # the entry is removed behind certsteward's back: the next check puts it back, with one event
  setfacl -x u:nobody "$T/store/key.pem"
  ! nobody_reads || fail "setfacl -x did not remove the entry: this test could not tell"
  once
  expect_eq "$(cs_events_count 4008)" $((before + 1)) "one KEY_PERMISSION_REPAIRED"
  nobody_reads || fail "the entry is not back: $(getfacl -cp "$T/store/key.pem")"
  expect_eq "$(jq -r 'select(.id == 4008) | [.thumbprint, .subject, .severity] | join(" ")' "$T/state/events.jsonl" | tail -1)" \
    "$new $subject warning" "the event names the certificate in service"
  jq -r 'select(.id == 4008) | .message' "$T/state/events.jsonl" | tail -1 | grep -q "The account nobody could not read" ||
    fail "the event does not name the account"
  # nothing gone: nothing said
  once
  expect_eq "$(cs_events_count 4008)" $((before + 1)) "a second check says nothing"
  # the whole ACL removed (setfacl -b): repaired again
  setfacl -b "$T/store/key.pem"
  ! nobody_reads || fail "setfacl -b did not remove the entry"
  once
  expect_eq "$(cs_events_count 4008)" $((before + 2)) "repaired after setfacl -b"
  nobody_reads || fail "the entry is not back after setfacl -b"
  expect_eq "$(cs_events_count 4009)" 0 "no failure reported"
}

test_key_permission_for_unknown_account_is_reported() {
  setup
  sed -i 's|^account = nobody$|account = no-such-user-cs|' "$T/cs.ini"
  daemon_config
  cs_vouch "$OLD" "$T/store/key.pem"
  once
  expect_eq "$(cs_events_count 4008)" 0 "nothing repaired"
  jq -r 'select(.id == 4009) | .message' "$T/state/events.jsonl" | grep -q "The account no-such-user-cs (key .*) cannot read" ||
    fail "the failed grant is not reported: $(event_ids)"
}

# The certificate in service was not put there by certsteward (no record, as on a new
# install), or its key file is not the one certsteward wrote with it: its READ is not
# kept, said (4010, once a start and then when the reason changes), nothing granted;
# once vouched for, it is kept
test_key_permission_kept_only_for_what_certsteward_put_in_service() {
  setup
  daemon_config
  setfacl -b "$T/store/key.pem"
  once
  expect_eq "$(cs_events_count 4010) $(cs_events_count 4008)" "1 0" "not kept said, nothing granted"
  jq -r 'select(.id == 4010) | .message' "$T/state/events.jsonl" | grep -q "is not one certsteward put in service" ||
    fail "4010 does not say why: $(jq -r 'select(.id == 4010) | .message' "$T/state/events.jsonl")"
  ! nobody_reads || fail "READ was granted on a key certsteward does not vouch for"
  cs_vouch "$OLD" "$T/store/key.pem"
  once
  expect_eq "$(cs_events_count 4008)" 1 "kept once vouched for"
  nobody_reads || fail "READ not granted on the key certsteward vouches for"
  # another file at key_file (a copy: another inode), root's, a private key: not that key
  setfacl -b "$T/store/key.pem"
  cp -p "$T/store/key.pem" "$T/store/key.copy" && mv "$T/store/key.copy" "$T/store/key.pem"
  once
  expect_eq "$(cs_events_count 4010) $(cs_events_count 4008)" "2 1" "another key file: said, nothing granted"
  ! nobody_reads || fail "READ was granted on another key file"
}

test_monitor_folder_in_metrics() {
  setup
  sed -i 's|^\[store\]$|[store]\nmonitor = monitor|' "$T/cs.ini"
  daemon_config
  mkdir -p "$T/monitor/subfolder"
  cp "$PKI/current-ok.pem" "$PKI/good-leaf.der" "$PKI/bad-expired.pem" "$T/monitor/"
  cp "$PKI/garbage.bin" "$T/monitor/notes.txt"
  ln -s "$PKI/good-ec.pem" "$T/monitor/link.pem"
  once
  local m="$T/monitor" want
  want=$(printf '%s\n' "$m/bad-expired.pem $(ossl_tp "$PKI/bad-expired.pem")" "$m/current-ok.pem $OLD" \
    "$m/good-leaf.der $(ossl_tp "$PKI/good-leaf.der" der)" "service $OLD" | LC_ALL=C sort)
  expect_eq "$(ossl_tp "$PKI/current-ok.pem")" "$OLD" "openssl and certsteward agree on the certificate in service"
  expect_eq "$(metric_certs)" "$want" "certificates in the metrics (no link, folder or unreadable file)"
  promtool check metrics < "$T/state/certsteward.prom" || fail "promtool rejects the metrics file"
  grep -Eq "^certsteward_certificate_expiry_seconds\{[^}]*source=\"$m/bad-expired.pem\"\} -[0-9]+$" \
    "$T/state/certsteward.prom" || fail "the expired monitored file has no negative expiry: $(cat "$T/state/certsteward.prom")"
  # expiry events are for the certificate in service only (30 days left: one warning)
  expect_eq "$(cs_events_count 2001)" 0 "an expired monitored file announced as expired"
  expect_eq "$(cs_events_count 2000)" 1 "expiry warnings"
}

test_monitor_sources_stay_unique() {
  setup
  sed -i 's|^\[store\]$|[store]\nmonitor = monitor|' "$T/cs.ini"
  daemon_config
  mkdir -p "$T/monitor"
  # two names shown alike once sanitised: an escape byte, and the text that stands for it
  cp "$PKI/current-ok.pem" "$T/monitor/a"$'\x1b'".pem"
  cp "$PKI/current-ok.pem" "$T/monitor/a\\x1B.pem"
  once
  expect_eq "$(grep -c '^certsteward_certificate_not_after_seconds{' "$T/state/certsteward.prom")" 2 \
    "the service and one of the two files"
  ! grep -q $'\x1b' "$T/state/certsteward.prom" || fail "an escape byte reached the metrics file"
  promtool check metrics < "$T/state/certsteward.prom" || fail "promtool rejects the metrics file"
}

# A dropped file is validated once (the maintenance-window decision comes between the
# pre-flight and BEGIN, not after a dry run), and the validating worker probes for the
# pre-flight. Needs a build with CS_TEST_HOOKS=ON (the fault points count the workers).
test_dropped_file_is_validated_once() {
  setup
  daemon_config
  cp "$PKI/good-aes.pfx" "$T/drop/"
  CERTSTEWARD_TEST_FAULT='worker_validated@1000000' CERTSTEWARD_TEST_FAULT_COUNTER=$T/validations \
    "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || { cat "$T/once.out"; fail "run --once"; }
  expect_eq "$(cs_events_count 4006)" 1 "the renewal committed"
  expect_eq "$(stat -c %s "$T/validations")" 1 "validations of the dropped file"
  expect_eq "$(cs_events_count 3001) $(cs_events_count 4000)" "1 1" "accepted once, started once"
}

# An endpoint that kills the validating worker during its pre-flight probe is not
# blamed on the file: validated again without the probe, the pre-flight probed in a
# worker of its own, the renewal goes through. Needs CS_TEST_HOOKS=ON.
test_probe_that_kills_the_validating_worker_is_not_the_files_fault() {
  setup
  daemon_config
  cp "$PKI/good-aes.pfx" "$T/drop/"
  CERTSTEWARD_TEST_FAULT='worker_probe@1' CERTSTEWARD_TEST_FAULT_COUNTER=$T/probes \
    "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || { cat "$T/once.out"; fail "run --once"; }
  grep -q "test fault point worker_probe reached (time 1)" "$T/once.out" || fail "the first probe did not kill its worker"
  expect_eq "$(cs_events_count 1005) $(cs_events_count 3002) $(cs_events_count 3004)" "0 0 0" "worker failed, rejected, refused"
  expect_eq "$(cs_events_count 4006)" 1 "the renewal committed"
  expect_served "$P1" "$(thumbprint "$PKI/good-aes.pfx")" "served"
}

# [store] monitor goes to the worker many files at a time. A file that kills its
# worker (the test build's fault point worker_scan:<name>, as a hostile file would)
# costs only itself: the files that shared its worker are asked again, one process
# each, and described. Needs a build with CS_TEST_HOOKS=ON.
test_monitor_file_that_kills_its_worker_hides_no_other() {
  setup
  sed -i 's|^\[store\]$|[store]\nmonitor = monitor|' "$T/cs.ini"
  daemon_config
  mkdir -p "$T/monitor"
  local i m="$T/monitor" der st=0
  for i in $(seq -w 1 30); do cp "$PKI/current-ok.pem" "$m/a$i.pem"; done
  cp "$PKI/bad-expired.pem" "$m/m-kills.pem"
  cp "$PKI/good-leaf.der" "$m/z.der"
  der=$(ossl_tp "$PKI/good-leaf.der" der)
  # unharmed: few worker processes for 32 files (one per process would be 32 and more)
  CERTSTEWARD_TEST_FAULT='worker_answer@1000000' CERTSTEWARD_TEST_FAULT_COUNTER=$T/workers \
    "$CS" status --json --config "$T/cs.ini" >"$T/status.json" || fail "status"
  expect_eq "$(jq '[.monitored.files[] | select(.thumbprint != null)] | length' "$T/status.json")" 32 "files described"
  [ "$(stat -c %s "$T/workers")" -le 5 ] || fail "$(stat -c %s "$T/workers") worker processes for 32 files"
  # the worker dies on m-kills.pem: the others are described all the same
  CERTSTEWARD_TEST_FAULT=worker_scan:m-kills.pem "$CS" run --config "$T/cs.ini" --once >"$T/once.out" 2>&1 || st=$?
  [ "$st" -eq 0 ] || { cat "$T/once.out"; fail "run --once: exit status $st"; }
  grep -q "test fault point worker_scan:m-kills.pem reached" "$T/once.out" || fail "the fault point was not reached"
  expect_eq "$(metric_certs | grep -c "^$m/a[0-9]*\.pem $OLD\$")" 30 "the files before it, in the metrics"
  metric_certs | grep -qx "$m/z.der $der" || fail "the file after it is not in the metrics: $(metric_certs)"
  ! metric_certs | grep -q "m-kills" || fail "the file that killed its worker is in the metrics"
  promtool check metrics < "$T/state/certsteward.prom" || fail "promtool rejects the metrics file"
  # certsteward status says which file and why
  CERTSTEWARD_TEST_FAULT=worker_scan:m-kills.pem "$CS" status --json --config "$T/cs.ini" >"$T/status.json" 2>/dev/null ||
    fail "status"
  expect_eq "$(jq -r --arg f "$m/m-kills.pem" '.monitored.files[] | select(.file == $f) | .error' "$T/status.json")" \
    "the worker crashed (signal 9)" "the reason for the file that killed its worker"
  expect_eq "$(jq '[.monitored.files[] | select(.thumbprint != null)] | length' "$T/status.json")" 31 "the others"
}

test_keep_processed_keeps_a_root_only_copy() {
  setup
  daemon_config "keep_processed = yes"
  start_daemon
  drop "$PKI/good-aes.pfx"
  cs_events_wait 4006 1 30
  # the drop is moved once the job has ended, a moment after the commit's event
  local kept="" i
  for i in $(seq 50); do
    kept=$(ls "$T/state/processed/"*good-aes.pfx 2>/dev/null || true)
    [ -n "$kept" ] && break
    sleep 0.1
  done
  [ -n "$kept" ] || fail "no kept copy under state/processed"
  cmp -s "$kept" "$PKI/good-aes.pfx" || fail "the kept copy differs"
  expect_eq "$(stat -c %a "$T/state/processed")" 700 "processed folder mode"
  [ -z "$(ls -A "$T/drop")" ] || fail "the drop folder is not empty"
}

test_old_quarantine_entries_are_removed() {
  setup
  daemon_config "quarantine_days = 30"
  mkdir -p -m 700 "$T/state/quarantine"
  touch -d '40 days ago' "$T/state/quarantine/old.pem" "$T/state/quarantine/old.pem.reason"
  touch -d '20 days ago' "$T/state/quarantine/recent.pem" "$T/state/quarantine/recent.pem.reason"
  once
  [ ! -e "$T/state/quarantine/old.pem" ] && [ ! -e "$T/state/quarantine/old.pem.reason" ] ||
    fail "an entry older than quarantine_days was kept"
  [ -e "$T/state/quarantine/recent.pem" ] && [ -e "$T/state/quarantine/recent.pem.reason" ] ||
    fail "a recent entry was removed"
}

# The daemon under valgrind for a whole renewal: no invalid read or write, no
# definite leak (its workers are other processes, with their own tests under ASan).
# Valgrind cannot run a sanitizer build: there the same test runs under ASan instead.
test_daemon_under_valgrind() {
  setup
  daemon_config
  cp "$PKI/good-aes.pfx" "$T/drop/"
  local runner=() st=0
  if [ "$(ldd "$CS" | grep -c libasan)" = 0 ]; then
    runner=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
            --show-leak-kinds=definite --track-fds=no)
  fi
  "${runner[@]}" "$CS" run --config "$T/cs.ini" --once >"$T/vg.out" 2>&1 || st=$?
  [ "$st" -eq 0 ] || { cat "$T/vg.out"; fail "exit status $st (99: valgrind found errors)"; }
  expect_eq "$(cs_events_count 4006)" 1 "the renewal committed"
  ! grep -q "Invalid \|definitely lost" "$T/vg.out" || { cat "$T/vg.out"; fail "memory errors"; }
}

# drop_as FILE NAME: drop FILE under another name
drop_as() {
  cp "$1" "$T/drop/.incoming.tmp"
  mv "$T/drop/.incoming.tmp" "$T/drop/$2"
}

# the drop folder and incoming are empty: nothing taken was left behind (a key among it)
nothing_left() {
  [ -z "$(ls -A "$T/drop")" ] || fail "the drop folder is not empty: $(ls -A "$T/drop")"
  [ -z "$(ls -A "$T/state/incoming" 2>/dev/null)" ] || fail "left in incoming: $(ls -A "$T/state/incoming")"
}

# seconds since the epoch, with fractions
now_s() { date +%s.%N; }
# elapsed_at_least START SECONDS WHAT
elapsed_at_least() {
  awk -v a="$1" -v b="$(now_s)" -v m="$2" 'BEGIN { exit !(b - a >= m) }' || fail "$3: sooner than $2 s"
}

test_cert_and_key_files_are_one_drop() {
  setup
  daemon_config
  start_daemon
  local new; new=$(cs_ossl_tp "$PKI/pair-ec.crt")
  # the key first; its certificate 1.5 s later, after the key has settled (settle_seconds = 1):
  # the key waits for it instead of being rejected alone
  drop "$PKI/pair-ec.key"
  sleep 1.5
  drop "$PKI/pair-ec.crt"
  cs_events_wait 4006 1 30
  expect_served "$P1" "$new" "nginx serves the paired certificate"
  expect_eq "$(cs_events_count 3002)" 0 "a member of the pair was rejected"
  expect_eq "$(cs_events_count 3001)" 1 "accepted drops"
  event_message 3001 | grep -qF "pair-ec.crt + pair-ec.key" || fail "the event does not name the pair: $(event_message 3001)"
  nothing_left
  [ -z "$(ls -A "$T/state/quarantine" 2>/dev/null)" ] || fail "quarantined: $(ls -A "$T/state/quarantine")"
}

test_lone_cert_file_waits_then_is_keyless() {
  setup
  daemon_config
  start_daemon
  local new start; new=$(thumbprint "$PKI/good-leaf.der")
  start=$(now_s)
  drop_as "$PKI/good-leaf.der" board.crt
  cs_events_wait 3000 1 30
  # settle_seconds (1) plus the 2 s grace for its key
  elapsed_at_least "$start" 2.9 "a certificate without its key was taken"
  cs_events_wait 4006 1 30
  expect_served "$P1" "$new" "key-less renewal served"
  nothing_left
}

test_lone_key_file_waits_then_is_rejected() {
  setup
  daemon_config
  start_daemon
  local start; start=$(now_s)
  drop "$PKI/pair-ec.key"
  cs_events_wait 3002 1 30
  elapsed_at_least "$start" 2.9 "a key without its certificate was taken"
  unchanged
  nothing_left
  expect_eq "$(cs_events_count 4006)" 0 "renewals"
  [ -n "$(ls "$T/state/quarantine/"*.reason 2>/dev/null)" ] || fail "no reason file in the quarantine"
}

test_der_cert_with_key_file_is_refused() {
  setup
  daemon_config
  start_daemon
  drop_as "$PKI/good-leaf.der" board.crt
  drop_as "$PKI/leaf.key" board.key
  cs_events_wait 3002 2 30
  unchanged
  nothing_left
  expect_eq "$(cs_events_count 4006)" 0 "renewals"
  event_message 3002 | grep -q "board.crt is not PEM text" || fail "the reason: $(event_message 3002)"
  expect_eq "$(ls "$T/state/quarantine/"*.reason | wc -l)" 2 "both files quarantined"
}

# A pair with long names (150 bytes before the extension): the pair's name is twice that,
# but every stored name is cut to fit a file name, so both land in the quarantine under
# their own names with their reasons, and nothing is lost.
test_long_named_pair_is_quarantined_not_lost() {
  setup
  daemon_config
  start_daemon
  local base; base=$(printf 'board-%.0s0123456789' $(seq 9))$(printf 'x%.0s' $(seq 6))
  expect_eq "${#base}" 150 "base name length"
  drop_as "$PKI/good-leaf.der" "$base.crt"
  drop_as "$PKI/leaf.key" "$base.key"
  cs_events_wait 3002 2 30
  unchanged
  nothing_left
  expect_eq "$(ls "$T/state/quarantine/"*.reason | wc -l)" 2 "both reasons written"
  expect_eq "$(find "$T/state/quarantine" -name '*.key' | wc -l)" 1 "the key file under its own name"
  expect_eq "$(find "$T/state/quarantine" -name '*.crt' | wc -l)" 1 "the certificate under its own name"
  grep -l "dropped as a pair" "$T/state/quarantine/"*.reason >/dev/null || fail "the reasons name the pair"
}

run_test "$@"
