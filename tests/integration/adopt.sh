#!/usr/bin/env bash
# Adoption from [store] adopt_from as an admin meets it: a certbot-style folder
# (live/site/*.pem links into archive/site/*N.pem, owned by root) that certbot renews by
# flipping its links one by one, nginx on 127.0.0.1 as the connector. A new version is
# put in service; a bad one is refused and nothing changes; certsteward never writes
# into the folder and follows no link another account could have planted.
# Usage: adopt.sh TEST_NAME.
. "$(dirname "$0")/lib.sh"

cs_use_daemon

LE=
# le_setup: the renewal setup, a certbot folder whose version 1 is the certificate in
# service, and a configuration adopting from it (settle_seconds 1)
le_setup() {
  setup
  LE=$T/le
  mkdir -p -m 700 "$LE" "$LE/live" "$LE/archive" "$LE/live/site" "$LE/archive/site"
  le_version 1 "$PKI/current-ok.pem" "$PKI/leaf.key"
  le_point 1
  sed -i "s|^\[watch\]\$|[watch]\nfolder = drop\nsettle_seconds = 1|; s|^\[store\]\$|[store]\nadopt_from = le/live/site|" "$T/cs.ini"
  mkdir -p -m 700 "$T/drop"
}

# le_running [LINE...]: le_setup, the lines given in [watch] (rescan_interval = 1 ...), the
# daemon started and its first look done (version 1 recorded as the one in service)
le_running() {
  local line
  le_setup
  for line in "$@"; do sed -i "s|^\[watch\]\$|[watch]\n$line|" "$T/cs.ini"; done
  cs_daemon_start
  adopted_wait in-service 1
}

# le_version N CERT_PEM KEY_PEM: archive/site/{cert,chain,fullchain,privkey}N.pem as certbot writes them
le_version() {
  local a=$LE/archive/site
  openssl x509 -in "$2" -out "$a/cert$1.pem"
  cp "$PKI/inter.pem" "$a/chain$1.pem"
  cat "$a/cert$1.pem" "$a/chain$1.pem" >"$a/fullchain$1.pem"
  (umask 077 && openssl pkey -in "$3" -out "$a/privkey$1.pem")
}

# le_point N: the live links flipped to version N one at a time, as certbot does (a new
# link renamed over the old one)
le_point() {
  local f
  for f in cert chain fullchain privkey; do
    ln -s "../../archive/site/$f$1.pem" "$LE/live/site/.$f.new"
    mv -T "$LE/live/site/.$f.new" "$LE/live/site/$f.pem"
  done
}

# le_snapshot: every entry of the certbot folder with its kind, owner, mode, time and content
le_snapshot() {
  (cd "$LE" && find . -printf '%p %y %u %m %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

# adopted_wait VERDICT N: until <state>/adopted holds N lines with VERDICT (30 s at most)
adopted_wait() {
  local i
  for i in $(seq 300); do
    [ "$(awk -F'\t' -v v="$1" '$2 == v' "$T/state/adopted" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
    cs_alive
    sleep 0.1
  done
  fail "no $2 '$1' entries in the adoption record: $(cat "$T/state/adopted" 2>/dev/null); events: $(event_ids)"
}

# A renewal by certbot (the links flipped to a new version) is checked and put in
# service: installed into cert_file and key_file, the binding file rewritten, nginx
# reloaded and serving it, said in 3100 and 3101; the version certbot had before
# certsteward started (the one in service) is recorded without a word; the certbot
# folder is left exactly as certbot made it.
test_certbot_renewal_is_adopted() {
  le_running
  expect_eq "$(cs_events_count 3100) $(cs_events_count 3102)" "0 0" "the version in service announced"
  local before new
  new=$(cs_ossl_tp "$PKI/good-bundle.pem")
  le_version 2 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  le_point 2
  before=$(le_snapshot)
  cs_events_wait 3101 1 30
  expect_served "$P1" "$new" "nginx serves the adopted certificate"
  expect_eq "$(cs_ossl_tp "$T/store/cert.pem")" "$new" "cert_file"
  cs_key_matches "$T/store/cert.pem" "$T/store/key.pem" || fail "key_file does not match cert_file"
  grep -q "$new" "$T/tls.json" || fail "bindings not rewritten"
  expect_eq "$(event_ids | grep -o '3100.*')" "3100 4000 4001 4002 4003 4004 4005 4006 4007 3101" "events"
  event_message 3101 | grep -qF "$LE/live/site" || fail "3101 does not name the folder: $(event_message 3101)"
  expect_eq "$(le_snapshot)" "$before" "the certbot folder after the adoption"
  grep -q '^certsteward_adopted_total 1$' "$T/state/certsteward.prom" || fail "metrics: $(grep adopted "$T/state/certsteward.prom")"
  [ ! -e "$T/state/adopting" ] || fail "the joined copy (it holds the key) was left in the state folder"
  # status says where it adopts from and what was judged
  "$CS" status --config "$T/cs.ini" --json >"$T/status.json" || fail "status failed"
  jq -e --arg tp "$new" '.adoption.source != null and
    (.adoption.judged | map(select(.verdict == "adopted" and .thumbprint == $tp)) | length == 1)' \
    "$T/status.json" >/dev/null || fail "status: $(jq -c .adoption "$T/status.json")"
  "$CS" status --config "$T/cs.ini" | grep -E "^adoption +from $LE/live/site" >/dev/null ||
    fail "status text: $("$CS" status --config "$T/cs.ini" | grep -A2 adoption)"
  "$CS" status --config "$T/cs.ini" | grep -F "last version: adopted $new" >/dev/null || fail "status: the last version"
}

# A bad new version (a certificate for another host) is refused with the failed check,
# said once, and nothing changes; the same version is not tried again at the next
# rescan; a good version after it is adopted.
test_bad_version_is_refused_once() {
  le_running "rescan_interval = 1"
  le_version 2 "$PKI/bad-wronghost.pem" "$PKI/bad-wronghost.pem"
  le_point 2
  cs_events_wait 3102 1 30
  event_message 3102 | grep -q "san_host" || fail "3102 does not give the failed check: $(event_message 3102)"
  sleep 3 # three rescans
  expect_eq "$(cs_events_count 3102) $(cs_events_count 3100) $(cs_events_count 4000)" "1 1 0" "said once, no renewal"
  unchanged
  le_version 3 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  le_point 3
  cs_events_wait 3101 1 30
  expect_served "$P1" "$(cs_ossl_tp "$PKI/good-bundle.pem")" "the good version after the bad one"
}

# A link another account could have planted is not followed: privkey.pem pointing into a
# folder owned by nobody is refused as not trusted, said once, and nothing changes.
test_link_into_a_folder_of_another_account_is_refused() {
  le_running
  local theirs=$T/theirs
  mkdir -p "$theirs"
  le_version 2 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  cp "$LE/archive/site/privkey2.pem" "$theirs/privkey2.pem"
  chown -R nobody "$theirs"
  le_point 2
  ln -sfn "$theirs/privkey2.pem" "$LE/live/site/privkey.pem"
  cs_events_wait 3102 1 30
  event_message 3102 | grep -q "not trusted" || fail "3102 does not say why: $(event_message 3102)"
  expect_eq "$(cs_events_count 4000)" 0 "a renewal started"
  unchanged
}

# What is judged is the content: a rejected version whose files only change their
# metadata (a chmod, a touch, as a restore or a relabel does) is not run again; certbot
# writing the same bytes anew is not either.
test_metadata_change_runs_nothing_again() {
  le_running "rescan_interval = 1"
  le_version 2 "$PKI/bad-wronghost.pem" "$PKI/bad-wronghost.pem"
  le_point 2
  cs_events_wait 3102 1 30
  touch "$LE/archive/site/"*2.pem
  chmod 600 "$LE/archive/site/cert2.pem"
  cp -p "$LE/archive/site/fullchain2.pem" "$T/f" && mv "$T/f" "$LE/archive/site/fullchain2.pem"
  sleep 4 # settle, and three rescans
  expect_eq "$(cs_events_count 3100) $(cs_events_count 3102) $(cs_events_count 4000)" "1 1 0" "the same content run again"
  unchanged
}

# A fit version outside the maintenance window waits: said once (3003), not checked and
# announced again at every rescan.
test_waiting_version_is_said_once() {
  le_setup
  cs_window_later
  sed -i "s|^restart_timeout = 5\$|restart_timeout = 5\nmaintenance_window = $CS_WINDOW|" "$T/cs.ini"
  sed -i "s|^\[watch\]\$|[watch]\nrescan_interval = 1|" "$T/cs.ini"
  cs_daemon_start
  adopted_wait in-service 1
  le_version 2 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  le_point 2
  cs_events_wait 3003 1 30
  sleep 4
  expect_eq "$(cs_events_count 3100) $(cs_events_count 3003) $(cs_events_count 4000)" "1 1 0" "announced again"
  unchanged
}

# A failure that is this machine's, not the version's (the joined copy cannot be written
# into the state folder: a folder stands in its way), is said (3106), not recorded, and
# tried again: once the way is clear the version is adopted. A copy a crash left there
# (it may hold a key) is removed at start.
test_failure_of_the_machine_is_tried_again() {
  le_setup
  sed -i "s|^\[watch\]\$|[watch]\nrescan_interval = 1|" "$T/cs.ini"
  (umask 077 && echo "left by a crash: PRIVATE KEY" >"$T/state/adopting" && echo x >"$T/state/.adopting.AbC123")
  cs_daemon_start
  adopted_wait in-service 1
  [ ! -e "$T/state/adopting" ] && [ ! -e "$T/state/.adopting.AbC123" ] || fail "what a crash left was kept"
  mkdir "$T/state/adopting"
  le_version 2 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  le_point 2
  cs_events_wait 3106 1 30
  sleep 3
  expect_eq "$(cs_events_count 3106) $(cs_events_count 3102) $(cs_events_count 3100)" "1 0 0" "said once, not rejected"
  grep -q rejected "$T/state/adopted" && fail "recorded as rejected: $(cat "$T/state/adopted")"
  rmdir "$T/state/adopting"
  cs_events_wait 3101 1 30
  expect_served "$P1" "$(cs_ossl_tp "$PKI/good-bundle.pem")" "adopted once the way was clear"
}

# The configuration's adopt = no: the folder is not looked at.
test_adopt_no_turns_it_off() {
  le_setup
  sed -i "s|^\[store\]\$|[store]\nadopt = no|" "$T/cs.ini"
  cs_daemon_start
  le_version 2 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  le_point 2
  sleep 3
  expect_eq "$(cs_events_count 3100) $(cs_events_count 4000)" "0 0" "adopted with adopt = no"
  [ ! -e "$T/state/adopted" ] || fail "an adoption record was written"
  unchanged
}

# An adoption whose renewal fails and whose undo fails too: the event says the certificate
# in service may have changed (3107), never that it is unchanged (3102)
test_failed_rollback_does_not_say_unchanged() {
  le_setup
  cs_set connector restart_command "exit 3"
  cs_daemon_start
  adopted_wait in-service 1
  le_version 2 "$PKI/good-bundle.pem" "$PKI/good-bundle.pem"
  le_point 2
  cs_events_wait 5002 1 30
  cs_events_wait 3107 1 10
  expect_eq "$(cs_events_count 3102)" 0 "said unchanged"
  event_message 3107 | grep -q "may have changed" || fail "3107: $(event_message 3107)"
}

run_test "$@"
