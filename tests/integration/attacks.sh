#!/usr/bin/env bash
# What an account that may write near certsteward's files can make root do. The
# setting many admins have: the connector's account (cs-connector, made by
# accounts.sh) owns the TLS folder
# that holds [store] cert_file and key_file and the folder of its binding file; the
# drop and state folders are root's, 0700. As that account (setpriv), at the exact step
# where it hurts (the test build's fault points with CERTSTEWARD_TEST_FAULT_RUN,
# common/fault.h), the key is swapped for a link or a file that is not the key, a
# folder above a file root writes is swapped for a link to the account's own folder.
# Root must refuse each with a clear event, change nothing outside the paths it was
# given, grant nothing on another file, and say nothing of what another file holds.
# Usage: attacks.sh TEST_NAME. Needs a build with CS_TEST_HOOKS=ON, root, the accounts of accounts.sh,
# nginx on 127.0.0.1 (lib.sh).
. "$(dirname "$0")/lib.sh"
cs_use_daemon

ACCOUNT=cs-connector   # the connector's account
NEIGHBOUR=cs-neighbour # another account whose group may write the TLS folder
[ "$(id -u)" = 0 ] || fail "these tests act as root and as $ACCOUNT: run them as root"
id "$ACCOUNT" >/dev/null 2>&1 && id "$NEIGHBOUR" >/dev/null 2>&1 ||
  fail "no account $ACCOUNT or $NEIGHBOUR: run tests/integration/accounts.sh make first"
AS_ACCOUNT="setpriv --reuid=$ACCOUNT --regid=$ACCOUNT --clear-groups --"

# as_account 'SHELL COMMANDS': run as the account (no group of root's)
as_account() { $AS_ACCOUNT sh -c "cd / && $1"; }
# account_run 'SHELL COMMANDS': the same, as a command line for CERTSTEWARD_TEST_FAULT_RUN
account_run() { echo "$AS_ACCOUNT sh -c 'cd / && $1'"; }

# attack_setup: lib.sh's setup (nginx on P1 serving the certificate in service), with
# the TLS folder moved to $T/srv/tls ($T/srv and $T/srv/tls owned by the account, the
# files in it root's, the key readable by the account through its ACL, as certsteward
# keeps it), [connector] account $ACCOUNT, root's 0700 drop and state folders, a
# good PFX waiting in the drop folder. $T itself is root's, 0755: the account may
# pass through it, write nothing in it.
attack_setup() {
  setup
  chmod 755 "$T"
  mkdir -p "$T/srv"
  mv "$T/store" "$T/srv/tls"
  chown "$ACCOUNT:" "$T/srv" "$T/srv/tls"
  chmod 755 "$T/srv" "$T/srv/tls"
  setfacl -m "u:$ACCOUNT:r" "$T/srv/tls/key.pem"
  TLS=$T/srv/tls
  cp "$TLS/key.pem" "$T/key.pem.orig"
  sed -i "s|$T/store/|$TLS/|g" "$T/nginx/nginx.conf"
  $RELOAD
  expect_served "$P1" "$OLD" "nginx serves the certificate in service from $TLS"
  cs_set connector account "$ACCOUNT"
  cs_set store cert_file "$TLS/cert.pem"
  cs_set store key_file "$TLS/key.pem"
  cs_vouch "$OLD" "$TLS/key.pem" # as after an earlier renewal: its key's READ is kept
  cs_watch_config
  cs_private_password
  chmod 700 "$T/state" "$T/drop"
  # the account's own folder, where it would like root to write
  mkdir -p "$T/elsewhere"
  chown "$ACCOUNT:" "$T/elsewhere"
  NEW=$(thumbprint "$PKI/good-aes.pfx")
  [ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || fail "test PKI: no new thumbprint"
}

# root_secret PATH [SIZE]: a root-only file (0600) outside the TLS folder, of SIZE bytes
# of plain text (not a key, not a certificate)
root_secret() {
  { yes 'root only: not for the connector account' || true; } | head -c "${2:-600}" > "$1"
  chmod 600 "$1"
  cp "$1" "$1.orig"
  getfacl -cp "$1" > "$1.acl"
}

# untouched_secret PATH: its bytes and ACL as made, no entry for the account, and it
# still cannot read it
untouched_secret() {
  cmp -s "$1" "$1.orig" || fail "$1 was changed"
  local acl; acl=$(getfacl -cp "$1")
  ! grep -q "^user:$ACCOUNT:" <<<"$acl" || fail "$1 got an ACL entry for $ACCOUNT: $(tr '\n' ' ' <<<"$acl")"
  expect_eq "$acl" "$(cat "$1.acl")" "the ACL of $1"
  ! as_account "cat $1" >/dev/null 2>&1 || fail "$ACCOUNT can read $1"
}

# run_once [ENV=VALUE...]: one daemon run (--once: recovery, the expiry check with the
# key's permission, the drop folder), its output in $T/run.out
run_once() {
  local st=0
  env "$@" "$CS" run --config "$T/cs.ini" --once >"$T/run.out" 2>&1 || st=$?
  echo "run --once exit status $st"
}

# fault_ran POINT: the account's move at POINT was made (else this test could not tell)
fault_ran() {
  grep -q "test fault point $1 reached" "$T/run.out" || { cat "$T/run.out" >&2; fail "the point $1 was not reached"; }
  ! grep -q "test fault command at $1 did not exit 0" "$T/run.out" || fail "the account's move at $1 failed"
}

# events_with ID...: the messages of those events, one a line
events_with() {
  local id
  for id in "$@"; do event_message "$id"; done
}

# nothing_in_elsewhere [EXCEPT]: the account's folder holds what it put there, no more
nothing_in_elsewhere() {
  local extra
  extra=$(find "$T/elsewhere" -mindepth 1 ! -name "${1:-/}" | sed "s|$T/||")
  [ -z "$extra" ] || fail "root wrote into the account's folder: $extra"
}

# ---- 1. the key's READ grant follows what the account put at key_file --------------

# key_refused WHAT: READ was not "repaired"; an event refuses it (KEY_PERMISSION_NOT_KEPT
# or _FAILED, or another error about the key), naming WHAT
key_refused() {
  expect_eq "$(cs_events_count 4008)" 0 "key permission \"repaired\" (events: $(events_with 4008))"
  local about_key
  about_key=$({ events_with 4009 4010; jq -r 'select(.severity == "error") | .message' "$T/state/events.jsonl"; } |
    grep -i "key" || true)
  grep -qi "$1" <<<"$about_key" ||
    fail "no event refuses the key saying /$1/; events: $(event_ids): $(events_with 4009 4010)"
}

# key_file a symbolic link (made by the account) to a root-only file elsewhere: the
# check at start "repairs" READ on that file for the account.
test_key_grant_does_not_follow_a_link() {
  attack_setup
  root_secret "$T/root-secret"
  as_account "mv $TLS/key.pem $TLS/key.bak && ln -s $T/root-secret $TLS/key.pem"
  run_once
  untouched_secret "$T/root-secret"
  key_refused "link"
}

# key_file a hard link to a root-only file: fs.protected_hardlinks=1 (this machine)
# keeps the account from making one to a file it cannot read, so root makes it, as
# the account can where protected_hardlinks is 0. Two names, one file: not the key.
test_key_grant_refuses_a_hard_linked_key() {
  attack_setup
  root_secret "$T/root-secret"
  as_account "mv $TLS/key.pem $TLS/key.bak"
  ln "$T/root-secret" "$TLS/key.pem"
  run_once
  untouched_secret "$T/root-secret"
  key_refused "link"
}

# key_file another account's file ($NEIGHBOUR's, 0600), moved into the TLS folder by its
# owner (a rename needs write on the folders, not the file): not root's, not the
# connector account's, so not its key to grant.
test_key_grant_refuses_a_key_owned_by_another_user() {
  attack_setup
  mkdir -p "$T/shared"
  chown "$ACCOUNT:" "$T/shared"
  root_secret "$T/shared/other-secret"
  chown "$NEIGHBOUR" "$T/shared/other-secret"
  getfacl -cp "$T/shared/other-secret" > "$T/shared/other-secret.acl"
  as_account "mv $TLS/key.pem $TLS/key.bak && mv $T/shared/other-secret $TLS/key.pem"
  cp "$T/shared/other-secret.orig" "$TLS/key.pem.orig"
  mv "$T/shared/other-secret.acl" "$TLS/key.pem.acl"
  run_once
  untouched_secret "$TLS/key.pem"
  key_refused "not the key file certsteward put in service"
}

# key_file a root-only file that is not a key (0600, one name), moved into the TLS
# folder by the account from a folder it may write (a rename needs write on the
# folders, not the file): owned by root, like the key, so the owner rule lets it
# through; the check at start would "repair" READ on it for the account.
test_key_grant_refuses_a_root_file_moved_in() {
  attack_setup
  mkdir -p "$T/shared"
  chown "$ACCOUNT:" "$T/shared"
  root_secret "$T/shared/root-secret"
  as_account "mv $TLS/key.pem $TLS/key.bak && mv $T/shared/root-secret $TLS/key.pem"
  cp "$T/shared/root-secret.orig" "$TLS/key.pem.orig"
  mv "$T/shared/root-secret.acl" "$TLS/key.pem.acl"
  run_once
  untouched_secret "$TLS/key.pem"
  key_refused "not the key file certsteward put in service"
}

# key_file another private key of root's (0600, one name, a PEM key: what the grant
# once asked of a key), moved from the TLS folder to key_file by its owner: the key of
# another site. The key file certsteward put in service is another file: nothing granted.
test_key_grant_refuses_another_root_key_moved_in() {
  attack_setup
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS/site2.key" 2>/dev/null
  chmod 600 "$TLS/site2.key"
  cp "$TLS/site2.key" "$TLS/site2.key.orig"
  as_account "mv $TLS/key.pem $TLS/key.bak && mv $TLS/site2.key $TLS/key.pem"
  run_once
  ! getfacl -cp "$TLS/key.pem" | grep -q "^user:$ACCOUNT:" || fail "$ACCOUNT got READ on another root key"
  cmp -s "$TLS/key.pem" "$TLS/site2.key.orig" || fail "the other key was changed"
  key_refused "not the key file certsteward put in service"
}

# ---- 2. a folder above a file root writes, swapped for a link ------------------------

# rolled_back_at STEP: the renewal failed at STEP, its error names a link, it was not
# committed; the rollback ran (5001, or 5002 when its undo also meets the link)
rolled_back_at() {
  expect_eq "$(cs_events_count 4006)" 0 "committed"
  [ "$(cs_events_count 5000)" -ge 1 ] || fail "no rollback started; events: $(event_ids)"
  local started; started=$(events_with 5000)
  grep -q "at step $1:" <<<"$started" || fail "the renewal did not fail at $1: $started"
  grep -qi "link" <<<"$started" || fail "the error does not name the link: $started"
  expect_eq "$(($(cs_events_count 5001) + $(cs_events_count 5002)))" 1 "rollback completed or failed"
  echo "events: $(event_ids); the rollback: $(events_with 5001 5002)"
}

# The binding file's folder ($T/app/config, in $T/app which the account owns) becomes
# a link to the account's folder between the read of tls.json and its write: root
# would write tls.json there (in real life: a folder root reads its orders from).
test_binding_folder_swapped_for_a_link() {
  attack_setup
  mkdir -p "$T/app/config"
  mv "$T/tls.json" "$T/app/config/tls.json"
  chown -R "$ACCOUNT:" "$T/app"
  cs_set connector binding_files "$T/app/config/tls.json"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once CERTSTEWARD_TEST_FAULT=bindings_manifest \
    CERTSTEWARD_TEST_FAULT_RUN="$(account_run "mv $T/app/config $T/app/config.real && ln -s $T/elsewhere $T/app/config")"
  fault_ran bindings_manifest
  nothing_in_elsewhere
  cmp -s "$T/app/config.real/tls.json" "$T/tls.json.orig" || fail "the binding file was changed"
  rolled_back_at bindings
}

# The TLS folder becomes a link to the account's folder once cert.pem is installed
# (store_install:cert.pem): root would write the new private key there, into a key.pem
# the account made beforehand, whose owner and mode a replaced file keeps: the
# account would read the new key.
test_store_folder_swapped_for_a_link() {
  attack_setup
  as_account "echo planted > $T/elsewhere/key.pem && chmod 644 $T/elsewhere/key.pem"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once CERTSTEWARD_TEST_FAULT=store_install:cert.pem \
    CERTSTEWARD_TEST_FAULT_RUN="$(account_run "mv $TLS $T/srv/tls.real && ln -s $T/elsewhere $TLS")"
  fault_ran store_install:cert.pem
  local readable; readable=$(as_account "cat $T/elsewhere/*" 2>/dev/null || true)
  ! grep -q "PRIVATE KEY" <<<"$readable" || fail "$ACCOUNT can read the new private key"
  [ "$(cat "$T/elsewhere/key.pem")" = planted ] || fail "root wrote over the account's key.pem"
  nothing_in_elsewhere key.pem
  cmp -s "$T/srv/tls.real/key.pem" "$T/key.pem.orig" || fail "key.pem in the TLS folder is not the old one"
  rolled_back_at install
}

# binding_setup: the binding file $T/app/config/tls.json root's, 0600, holding a line
# the account must not read beside the thumbprints; $T/app/config the account's
binding_setup() {
  attack_setup
  mkdir -p "$T/app/config"
  { cat "$T/tls.json"; echo 'root only: the connector key password'; } > "$T/app/config/tls.json"
  chmod 600 "$T/app/config/tls.json"
  chown -R "$ACCOUNT:" "$T/app"
  chown root: "$T/app/config/tls.json"
  cs_set connector binding_files "$T/app/config/tls.json"
}

# binding_unread: nothing the account can read holds the root-only line
binding_unread() {
  local readable; readable=$(as_account "cat $T/app/config/* $T/app/config/.[!.]* $T/elsewhere/* 2>/dev/null" || true)
  ! grep -q "root only" <<<"$readable" ||
    fail "$ACCOUNT can read what the root-only binding file holds: $(ls -l "$T/app/config" | tr '\n' ' ')"
}

# binding_not_leaked: binding_unread, and the binding file is root's, 0600, as it was
binding_not_leaked() {
  binding_unread
  expect_eq "$(stat -c '%U %a' "$T/app/config/tls.json")" "root 600" "the binding file's owner and mode"
}

# Between root's read of tls.json and its write (bindings_manifest), the account puts a
# world-readable file of its own at the path: the rewritten file (the root-only line
# and the new thumbprint) must not take that file's owner and mode.
test_binding_rewrite_does_not_take_the_account_file() {
  binding_setup
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once CERTSTEWARD_TEST_FAULT=bindings_manifest \
    CERTSTEWARD_TEST_FAULT_RUN="$(account_run "rm $T/app/config/tls.json && echo planted > $T/app/config/tls.json && chmod 666 $T/app/config/tls.json")"
  fault_ran bindings_manifest
  echo "events: $(event_ids)"
  binding_not_leaked
}

# The rollback's side: once tls.json is rewritten (after_bindings) the account puts a
# world-readable file of its own there; the restart fails, and the undo would put the
# old tls.json back into it. The file's owner changed since the backup: the undo leaves
# it as it is and says so (5002); nothing of the old file reaches the account.
test_binding_restore_does_not_take_the_account_file() {
  binding_setup
  cs_set connector restart_command "exit 3"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once CERTSTEWARD_TEST_FAULT=after_bindings \
    CERTSTEWARD_TEST_FAULT_RUN="$(account_run "rm $T/app/config/tls.json && echo planted > $T/app/config/tls.json && chmod 666 $T/app/config/tls.json")"
  fault_ran after_bindings
  echo "events: $(event_ids)"
  [ "$(cs_events_count 5000)" -ge 1 ] || fail "no rollback started; events: $(event_ids)"
  binding_unread
  still_planted "$T/app/config/tls.json"
  grep -q "now owned by uid $(id -u "$ACCOUNT"), not by uid 0 as when it was saved" <<<"$(events_with 5002)" ||
    fail "the failed rollback does not say the binding file's owner changed: $(events_with 5002)"
}

# ---- 3. the certificate or key in service read through the account's link -----------

# says_nothing_of SIZE: no output (events, the daemon's output, quarantine reasons,
# status) tells another file's size or what it holds
says_nothing_of() {
  local all
  all=$(cat "$T/state/events.jsonl" "$T/run.out" "$T/state/quarantine/"*.reason 2>/dev/null
        "$CS" status --config "$T/cs.ini" 2>&1 || true
        "$CS" status --config "$T/cs.ini" --json 2>&1 || true)
  ! grep -q "$1" <<<"$all" || fail "another file's size ($1 bytes) was told: $(grep "$1" <<<"$all" | head -3)"
  ! grep -Eiq "neither PEM nor DER|not a certificate file|holds no private key|is empty|truncated|malformed|[0-9] bytes" \
    <<<"$all" || fail "what another file holds was told: $(grep -Ei "PEM nor DER|certificate file|private key|empty|truncated|malformed|bytes" <<<"$all" | head -3)"
}

# refused_as_link: the renewal was not started, an error event names the link
refused_as_link() {
  expect_eq "$(cs_events_count 4000)" 0 "renewals started"
  local said; said=$(events_with 1005 3002)
  grep -qi "link" <<<"$said" || fail "no event says the file in service is a link: $said"
}

# in_service_link_tells_nothing NAME SIZE: [store] NAME (cert.pem or key.pem) made a
# link by the account to a root-only text file of SIZE bytes; the renewal's worker reads
# it as the certificate or key in service, and today its error tells the size and that
# it is neither PEM nor DER.
in_service_link_tells_nothing() {
  attack_setup
  root_secret "$T/root-notes" "$2"
  as_account "mv $TLS/$1 $TLS/$1.bak && ln -s $T/root-notes $TLS/$1"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once
  [ "$(cs_events_count 3000)" -ge 1 ] || fail "the drop was not taken; events: $(event_ids)"
  says_nothing_of "$2"
  refused_as_link
  cmp -s "$T/root-notes" "$T/root-notes.orig" || fail "the root file was changed"
}
test_key_in_service_link_tells_nothing() { in_service_link_tells_nothing key.pem 4321; }
test_cert_in_service_link_tells_nothing() { in_service_link_tells_nothing cert.pem 5432; }

# in_service_moved_in_tells_nothing NAME SIZE: the same with a root-only text file of
# the TLS folder (root's, 0600, one name) renamed to NAME by the account, as the folder's
# owner may: no link to refuse, so the worker parses it; its error told the size and
# that it is neither PEM nor DER.
in_service_moved_in_tells_nothing() {
  attack_setup
  root_secret "$TLS/notes" "$2"
  as_account "mv $TLS/$1 $TLS/$1.bak && mv $TLS/notes $TLS/$1"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once
  [ "$(cs_events_count 3000)" -ge 1 ] || fail "the drop was not taken; events: $(event_ids)"
  says_nothing_of "$2"
  expect_eq "$(cs_events_count 4000)" 0 "renewals started"
  grep -q "cannot read the .* in service $TLS/$1" <<<"$(events_with 1005 3002)" ||
    fail "no event says the file in service cannot be read: $(events_with 1005 3002)"
  cmp -s "$TLS/$1" "$TLS/notes.orig" || fail "the root file was changed"
  # nor does a file that is no certificate silence the expiry warnings: said, once
  [ "$1" != cert.pem ] || expect_eq "$(cs_events_count 2002)" 1 "certificate in service unreadable, said"
}
test_key_in_service_moved_in_tells_nothing() { in_service_moved_in_tells_nothing key.pem 4322; }
test_cert_in_service_moved_in_tells_nothing() { in_service_moved_in_tells_nothing cert.pem 5433; }

# ---- after a rollback that failed, nothing says the certificate is unchanged ----------

# not_said_unchanged: no event says the certificate in service is unchanged
not_said_unchanged() {
  local all; all=$(jq -r .message "$T/state/events.jsonl")
  ! grep -qi "certificate in service is unchanged" <<<"$all" ||
    fail "an event says the certificate in service is unchanged: $(grep -i unchanged <<<"$all")"
}

# said_may_have_changed: the error event about the dropped file says the certificate in
# service may have changed
said_may_have_changed() {
  local about
  about=$(jq -r 'select((.file // "" | contains("renewed.pfx")) and .severity == "error") | .message' "$T/state/events.jsonl")
  grep -qi "may have changed" <<<"$about" ||
    fail "no event about the file says the certificate in service may have changed: $about"
}

# The restart fails every time (the renewal's and the rollback's): the undo is not
# proven, the certificate in service may be anything. The quarantine's event must not
# say "The certificate in service is unchanged".
test_failed_rollback_does_not_say_unchanged() {
  attack_setup
  cs_set connector restart_command "exit 3"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once
  expect_eq "$(cs_events_count 5002)" 1 "rollback failed"
  not_said_unchanged
  said_may_have_changed
}

# The same after a crash: killed once the connector was restarted on the new
# certificate (after_restart), then the restart breaks; the recovery at the next start
# cannot prove its undo, and the interrupted file's event says so.
test_failed_recovery_does_not_say_unchanged() {
  attack_setup
  cs_set connector restart_command "if [ -e $T/broken ]; then exit 3; fi; $RELOAD"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  local st=0
  CERTSTEWARD_TEST_FAULT=after_restart "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 || st=$?
  [ "$st" -eq 137 ] || { cat "$T/run1.out" >&2; fail "the daemon was not killed after the restart (exit $st)"; }
  touch "$T/broken"
  run_once
  expect_eq "$(cs_events_count 5003) $(cs_events_count 5002)" "1 1" "recovery, rollback failed"
  not_said_unchanged
  said_may_have_changed
  $RELOAD # the old files are back: nginx serves them again before the test ends
}

# ---- 4. the undo of the store, and the recovery's trust in what the state folder holds ---

# killed_at POINT: one daemon run killed at POINT (the test build's fault point), so that
# the next start recovers; its output in $T/run1.out
killed_at() {
  local st=0
  CERTSTEWARD_TEST_FAULT=$1 "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 || st=$?
  [ "$st" -eq 137 ] || { cat "$T/run1.out" >&2; fail "the daemon was not killed at $1 (exit $st)"; }
}

# still_planted PATH: the account's own file at PATH holds what it wrote, no more
still_planted() {
  [ "$(cat "$1")" = planted ] || fail "root wrote into the account's $1: $(head -c 80 "$1" | tr '\n' ' ')"
  expect_eq "$(stat -c %U "$1")" "$ACCOUNT" "the owner of the account's $1"
}

# Attack A, whole: once the worker has read the key in service (after_begin), the
# account makes key.pem a link to a root-only file. The store's backup must not save
# that file's bytes (today it did, through the link, and the install then failed);
# then the account puts a world-readable file of its own at key.pem and the daemon
# starts again: a recovery that "rolls back" must not write root's bytes into it.
test_store_backup_of_a_link_restores_nothing_into_the_account_file() {
  attack_setup
  root_secret "$T/root-secret"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once CERTSTEWARD_TEST_FAULT=after_begin \
    CERTSTEWARD_TEST_FAULT_RUN="$(account_run "mv $TLS/key.pem $TLS/key.bak && ln -s $T/root-secret $TLS/key.pem")"
  fault_ran after_begin
  local saved; saved=$(grep -rl "root only" "$T/state" || true)
  [ -z "$saved" ] || fail "the store's backup holds the root file's bytes: $saved"
  [ "$(cs_events_count 5000)" -ge 1 ] || fail "the install did not fail; events: $(event_ids)"
  grep -qi "link" <<<"$(events_with 5000)" || fail "the failure does not name the link: $(events_with 5000)"
  as_account "rm $TLS/key.pem && echo planted > $TLS/key.pem && chmod 666 $TLS/key.pem"
  run_once
  still_planted "$TLS/key.pem"
  untouched_secret "$T/root-secret"
  ! as_account "cat $TLS/* $T/elsewhere/* 2>/dev/null" | grep -q "root only" || fail "$ACCOUNT can read the root file"
}

# Attack A, the undo's side: killed once the new key is installed, the account replaces
# key.pem by a world-readable file of its own before the next start. The recovery must
# not put the saved key into it (today it did, the file keeping its owner and mode): it
# refuses that file, saying its owner changed, restores the others, and reports 5002.
test_recovery_does_not_restore_into_a_file_the_account_put_there() {
  attack_setup
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  killed_at store_install:key.pem
  as_account "rm $TLS/key.pem && echo planted > $TLS/key.pem && chmod 666 $TLS/key.pem"
  run_once
  echo "events: $(event_ids); the rollback: $(events_with 5002)"
  still_planted "$TLS/key.pem"
  cmp -s "$TLS/cert.pem" "$T/cert.pem.orig" || fail "cert.pem was not put back"
  expect_eq "$(cs_events_count 5003) $(cs_events_count 5002)" "1 1" "recovery, rollback failed"
  grep -q "owned by uid $(id -u "$ACCOUNT")" <<<"$(events_with 5002)" ||
    fail "the failure does not say the owner changed: $(events_with 5002)"
}

# The install side: the account swaps key.pem for a world-readable file of its own once
# the store's manifest is written (store_manifest), before the new key is written. The
# new key gets the owner, mode and ACL recorded for the old one (today it took the
# account's file's: the new private key world-readable).
test_new_key_gets_the_recorded_owner_not_the_account_file() {
  attack_setup
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once CERTSTEWARD_TEST_FAULT=store_manifest \
    CERTSTEWARD_TEST_FAULT_RUN="$(account_run "rm $TLS/key.pem && echo planted > $TLS/key.pem && chmod 666 $TLS/key.pem")"
  fault_ran store_manifest
  expect_eq "$(stat -c '%U %a' "$TLS/key.pem")" "root 640" "the key's owner and mode (rw, and the ACL's mask)"
  ! nobody_reads_key || fail "others can read the key: $(getfacl -cp "$TLS/key.pem" | tr '\n' ' ')"
}
nobody_reads_key() { setpriv --reuid="$NEIGHBOUR" --regid="$NEIGHBOUR" --clear-groups -- cat "$TLS/key.pem" >/dev/null 2>&1; }

# The TLS folder writable by a group ($NEIGHBOUR's) besides the connector's account:
# before a renewal, the neighbour moves the key aside and puts a key of its own at
# key_file (0644, its file). The new key took the owner, mode and ACL of the file it
# replaced, so it was the neighbour's and readable by all. The owner is neither root's
# nor the connector's: nothing is replaced, the failure says whose file it is, and no
# file the neighbour can read holds the new key.
test_key_planted_by_another_account_is_not_handed_the_new_key() {
  attack_setup
  chgrp "$NEIGHBOUR" "$TLS"
  chmod 775 "$TLS"
  setpriv --reuid="$NEIGHBOUR" --regid="$NEIGHBOUR" --clear-groups -- sh -c \
    "cd / && mv $TLS/key.pem $TLS/key.bak && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $TLS/key.pem 2>/dev/null && chmod 644 $TLS/key.pem"
  cp "$TLS/key.pem" "$T/planted.pem"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once
  echo "events: $(event_ids)"
  expect_eq "$(cs_events_count 4006)" 0 "renewals committed"
  cmp -s "$TLS/key.pem" "$T/planted.pem" || fail "the planted key.pem was replaced"
  cmp -s "$TLS/cert.pem" "$T/cert.pem.orig" || fail "cert.pem was replaced"
  grep -q "owned by uid $(id -u "$NEIGHBOUR"), neither root nor the connector's account $ACCOUNT" \
    <<<"$(jq -r 'select(.severity == "error") | .message' "$T/state/events.jsonl")" ||
    fail "no error says whose the key is: $(events_with 5000 3002)"
  local new_key
  new_key=$(openssl pkcs12 -in "$PKI/good-aes.pfx" -passin "file:$PKI/pass.txt" -nocerts -nodes 2>/dev/null |
    openssl pkey 2>/dev/null)
  [ -n "$new_key" ] || fail "test PKI: cannot read the new key"
  ! setpriv --reuid="$NEIGHBOUR" --regid="$NEIGHBOUR" --clear-groups -- sh -c "cat $TLS/* 2>/dev/null" |
    grep -qF "$(sed -n 2p <<<"$new_key")" || fail "$NEIGHBOUR can read the new key"
}

# Attack B: the state folder holds a journal in rolling-back and manifests naming files
# the configuration does not ($T/etc stands for /etc): the store's, in the format
# written before owners were recorded, writes x and deletes y; the bindings' writes z.
# The folder is root's and judged safe: the manifests' check alone must stop it. None
# of x, y, z is written or deleted; the failure says why (5002).
test_recovery_refuses_manifests_naming_other_files() {
  attack_setup
  mkdir -p "$T/etc"
  local f
  for f in x y z; do echo "root's $f" > "$T/etc/$f"; cp "$T/etc/$f" "$T/etc/$f.orig"; done
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  killed_at after_bindings
  [ -f "$T/state/tx/store/manifest" ] && [ -f "$T/state/tx/bindings/manifest" ] || fail "no manifests after the kill"
  sed -i 's/^state running$/state rolling-back/' "$T/state/journal"
  grep -q '^state rolling-back$' "$T/state/journal" || fail "the journal is not rolling back: $(cat "$T/state/journal")"
  printf 'key.pem\t1\t%s\ncert.pem\t0\t%s\n' "$T/etc/x" "$T/etc/y" > "$T/state/tx/store/manifest"
  printf '# certsteward binding backup 1: backup name TAB original path\n0-tls.json\t%s\n' "$T/etc/z" \
    > "$T/state/tx/bindings/manifest"
  chmod 600 "$T/state/tx/store/manifest" "$T/state/tx/bindings/manifest" "$T/state/journal"
  run_once
  echo "events: $(event_ids); the rollback: $(events_with 5002)"
  for f in x y z; do
    [ -f "$T/etc/$f" ] || fail "root deleted $T/etc/$f"
    cmp -s "$T/etc/$f" "$T/etc/$f.orig" || fail "root wrote into $T/etc/$f: $(head -c 80 "$T/etc/$f")"
  done
  expect_eq "$(cs_events_count 5003) $(cs_events_count 5002)" "1 1" "recovery, rollback failed"
  grep -q "not one of \[connector\] binding_files" <<<"$(events_with 5002)" ||
    fail "the failure does not say the manifest names another file: $(events_with 5002)"
}

# ---- restart_command naming a script the account can change ---------------------------

# The admin sets restart_command to a script in a folder the connector's account owns
# ($T/elsewhere): whatever the account writes there would run as root at the next
# renewal. certsteward says so at start (1018) and in doctor (a fail line), and the
# renewal does not run it (the script would leave $T/ran, which the account itself
# cannot make): the restart step fails naming the script, the folder and the account,
# the files are put back, nginx still serves the certificate in service. The rollback's
# restart is refused too, as a restart command that keeps failing is: said (5002), and
# tried again at the next start.
test_restart_command_the_account_can_change_is_not_run() {
  attack_setup
  as_account "printf '#!/bin/sh\ntouch $T/ran\n' > $T/elsewhere/restart.sh && chmod 755 $T/elsewhere/restart.sh"
  [ -x "$T/elsewhere/restart.sh" ] && [ ! -e "$T/ran" ] || fail "the account could not write its script"
  cs_set connector restart_command "$T/elsewhere/restart.sh && $RELOAD"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
  run_once
  echo "events: $(event_ids)"
  [ ! -e "$T/ran" ] || fail "root ran the account's restart script"
  local says="restart_command's path $T/elsewhere/restart.sh runs as root, but $T/elsewhere, its folder or one above it, can be changed by user $ACCOUNT (owner)"
  grep -qF "$says" <<<"$(events_with 1018)" || fail "the start does not say it (1018): $(events_with 1018)"
  expect_eq "$(cs_events_count 4006) $(cs_events_count 4004)" "0 0" "renewals committed, restarts"
  grep -qF "$says" <<<"$(events_with 5000)" || fail "the failed restart does not say why: $(events_with 5000)"
  grep -qF "$says" <<<"$(events_with 5002)" || fail "the rollback does not say why it cannot restart: $(events_with 5002)"
  cmp -s "$TLS/cert.pem" "$T/cert.pem.orig" || fail "cert.pem was not put back"
  cmp -s "$TLS/key.pem" "$T/key.pem.orig" || fail "key.pem was not put back"
  expect_served "$P1" "$OLD" "nginx serves the certificate in service"
  "$CS" doctor --config "$T/cs.ini" >"$T/doctor.out" 2>&1 || true
  grep -E '^fail +connector_commands ' "$T/doctor.out" | grep -qF "$says" ||
    fail "doctor does not fail on it: $(cat "$T/doctor.out")"
  [ ! -e "$T/ran" ] || fail "root ran the account's restart script (doctor)"
}

run_test "$@"
