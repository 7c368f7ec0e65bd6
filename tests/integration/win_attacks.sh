#!/usr/bin/env bash
# What an account that may write the connector's folder can make certsteward.exe
# (LocalSystem) do on Windows, under Wine: the analogues of attacks.sh's races on a
# folder swapped for a link. On Windows the certificate and its key live in
# LocalMachine\My, so the files at stake are the connector's binding file
# (config\servers\tls.json in a folder the connector's account may write) and the
# state folder's backups. At the exact step where it hurts (the test build's fault
# points with CERTSTEWARD_TEST_FAULT_RUN, common/fault.h), a folder on the way to a
# file certsteward writes or reads back is swapped for a link to the account's own
# folder. certsteward must refuse it with the link named, write nothing through it,
# and roll the renewal back (or say the rollback failed, the journal kept). Last,
# attacks.sh's planted manifest: the recovery writes no file the configuration does
# not name.
#
# How the swap is made from inside the Windows process (system(), that is cmd.exe /c,
# under Wine 8; measured): Wine makes no reparse point (cmd's `mklink /d` exits 0 and
# makes nothing, `mklink /j` fails), and cmd's `move` of a Unix symbolic link moves the
# folder it points to, so the link is made by the Unix commands mv and ln, run by
# `start /unix /bin/sh SCRIPT`. Wine's start cannot wait for a Unix program (/wait
# returns at once, and its exit status is lost), so a batch file starts it and waits
# (bounded) for the file the script writes when the move is done. Wine's open follows a
# Unix link to a folder but lists it with FILE_ATTRIBUTE_REPARSE_POINT: that is how the
# walk (common/win/walk.c) tells it under Wine, so these tests prove the refusal end to
# end. What they cannot: a junction or an NTFS symbolic link, a link to a file (Wine
# lists it as a plain file), and owners and ACLs (Wine makes them up from the Unix mode
# and keeps none: a file of another owner put at the path is a test of real Windows and
# of attacks.sh on Linux); here every process runs as one user, so "the account" is a
# role, not a token.
#
# `certsteward apply` in the foreground, no service: [connector] service is empty and
# restart_command stands in for the connector's restart (it fails while the file
# restart-fails is in the state folder). Run by CTest in the Windows build
# (scripts/win-build.sh): what it gives is said in win_lib.sh. Usage: win_attacks.sh
# TEST_NAME.
. "$(dirname "$0")/win_lib.sh" winattacks
PD=$WINEPREFIX/drive_c/ProgramData/cs-winattacks # the state folder: administrators' only under Wine
WPD='C:\ProgramData\cs-winattacks'
CONFIG="$WPD\\certsteward.ini"
APP=$T/app # the connector's install folder, which its account may write

cleanup() {
  set +e
  remove_test_certificates
  rm -rf "$T" "$PD"
}
trap cleanup EXIT

# attack_setup: current-ok.pem in service, named by $APP/config/servers/tls.json
# (BINDING, its bytes in $T/tls.json.orig); the state and drop folders under
# C:\ProgramData; the account's own folder $T/elsewhere, empty; NEW the certificate of
# good-later-san.pem (certificate and key in one PEM file: no password needed).
attack_setup() {
  rm -rf "$PD"
  mkdir -p "$PD/drop" "$APP/config/servers" "$T/elsewhere"
  chmod 755 "$PD" "$PD/drop"
  BINDING=$APP/config/servers/tls.json
  in_service "$PKI/current-ok.pem" "$PKI/leaf.key" "$BINDING"
  cp "$BINDING" "$T/tls.json.orig"
  NEW=$(pem_thumbprint "$PKI/good-later-san.pem")
  [ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || fail "test PKI: no new thumbprint"
  cat >"$PD/certsteward.ini" <<EOF
[connector]
host = $HOST
service =
restart_command = if exist $WPD\\restart-fails exit 3
$(connector_lines "$BINDING")

[store]
state_dir = $WPD

[watch]
folder = $WPD\\drop

[policy]
ca_file = $(wpath "$PKI/ca-chain.pem")
EOF
  cs_run config config --config "$CONFIG"
  [ "$ST" = 0 ] || fail "the configuration is not valid: $(cat "$T/config.out" "$T/config.err")"
}

# as_account NAME 'SHELL COMMANDS': the command line for CERTSTEWARD_TEST_FAULT_RUN that
# makes the account's move: a batch file that runs the commands with /bin/sh and waits
# (10 s at most) until they are done; it exits 1 when they failed, 2 when they did not
# end in time.
as_account() {
  local d=$T/move-$1 w
  w=$(wpath "$d")
  printf 'if { %s; }; then : >%s.ok; else : >%s.failed; fi\n' "$2" "$d" "$d" >"$d.sh"
  printf '@echo off\r\nstart /unix /bin/sh %s.sh\r\nset n=0\r\n:wait\r\nif exist %s.ok exit /b 0\r\nif exist %s.failed exit /b 1\r\nset /a n=n+1\r\nif %%n%% geq 20000 exit /b 2\r\ngoto wait\r\n' \
    "$d" "$w" "$w" >"$d.cmd"
  wpath "$d.cmd"
}

# apply_with_move POINT NAME 'SHELL COMMANDS': certsteward apply of good-later-san.pem,
# the account's move made at POINT; its output in $T/ap.out and $T/ap.err; the move
# made, and the link (the last word of the commands) is there
apply_with_move() {
  CERTSTEWARD_TEST_FAULT=$1 CERTSTEWARD_TEST_FAULT_RUN=$(as_account "$2" "$3") \
    cs_run ap apply --config "$CONFIG" "$(wpath "$PKI/good-later-san.pem")"
  grep -q "test fault point $1 reached" "$T/ap.err" ||
    fail "the point $1 was not reached: $(cat "$T/ap.out" "$T/ap.err")"
  ! grep -q "test fault command at $1 did not exit 0" "$T/ap.err" || fail "the account's move at $1 failed"
  [ -f "$T/move-$2.ok" ] && [ -L "${3##* }" ] || fail "the account's move at $1 made no link"
  [ "$ST" != 0 ] || fail "apply succeeded through the link: $(cat "$T/ap.out")"
}

# events_with ID...: the messages of those events, one a line
events_with() {
  local id
  for id in "$@"; do events | jq -r --argjson id "$id" 'select(.id == $id) | .message'; done
}

# nothing_in_elsewhere: the account's folder holds what it put there, no more
nothing_in_elsewhere() {
  local extra
  extra=$(cd "$T/elsewhere" && find . -mindepth 1 ! -path ./servers ! -path ./servers/tls.json)
  [ -z "$extra" ] || fail "certsteward wrote into the account's folder: $extra"
  if [ -e "$T/elsewhere/servers/tls.json" ]; then
    expect_eq "$(cat "$T/elsewhere/servers/tls.json")" planted "the account's servers/tls.json"
  fi
}

# failed_at STEP LINK: the renewal failed at STEP, the error names the link LINK (its
# Windows path), and it was not committed
failed_at() {
  local started
  expect_eq "$(count_event 4006)" 0 "renewals committed"
  started=$(events_with 5000)
  grep -qF "at step $1:" <<<"$started" || fail "the renewal did not fail at $1: $started"
  grep -qF "$(wpath "$2") is a junction, symbolic link or mount point" <<<"$started" ||
    fail "the error does not name the link $(wpath "$2"): $started"
}

in_my() { win "$CERTTOOL" has "$1"; }

# The binding file's folder (servers) becomes a link to the account's folder between
# the read of tls.json and its write (bindings_manifest): certsteward would write
# tls.json there. Refused with the link named: nothing in the account's folder, the
# binding file as it was, the renewal rolled back (the new certificate out of My).
test_binding_folder_swapped_for_a_link() {
  local servers=$APP/config/servers
  attack_setup
  apply_with_move bindings_manifest swap "mv $servers $servers.real && ln -s $T/elsewhere $servers"
  nothing_in_elsewhere
  cmp -s "$servers.real/tls.json" "$T/tls.json.orig" || fail "the binding file was changed"
  failed_at bindings "$servers"
  expect_eq "$(count_event 5001) $(count_event 5002)" "1 0" "rollbacks completed and failed"
  grep -q "rolled-back at bindings" "$T/ap.out" || fail "apply does not say it rolled back: $(cat "$T/ap.out")"
  if in_my "$NEW"; then fail "the rolled back certificate is still in LocalMachine\\My"; fi
  in_my "$OLD" || fail "LocalMachine\\My lost the certificate in service"
  [ ! -e "$PD/journal" ] || fail "the journal is still there"
}

# The undo's side: once tls.json names the new certificate (after_bindings), a folder
# above it (config) becomes a link to the account's folder, which holds a
# servers\tls.json of its own; the restart fails, and the undo would put the old
# tls.json back through the link, over the account's file. Refused with the link named:
# the account's file as it was, nothing else there, the real tls.json as the renewal
# left it, the rollback said to have failed (5002) and its journal kept. Once the
# folder is back and the restart works, the next command's recovery finishes the undo.
test_binding_restore_meets_a_link() {
  local config=$APP/config
  attack_setup
  mkdir -p "$T/elsewhere/servers"
  echo planted >"$T/elsewhere/servers/tls.json"
  : >"$PD/restart-fails"
  apply_with_move after_bindings swap "mv $config $config.real && ln -s $T/elsewhere $config"
  nothing_in_elsewhere
  expect_eq "$(grep -c "$NEW" "$config.real/servers/tls.json")" 2 "the new thumbprint in the real tls.json"
  expect_eq "$(count_event 5001) $(count_event 5002)" "0 1" "rollbacks completed and failed"
  grep -qF "cannot put $(wpath "$BINDING") back" <<<"$(events_with 5002)" ||
    fail "the failed rollback does not name the binding file: $(events_with 5002)"
  grep -qF "$(wpath "$config") is a junction, symbolic link or mount point" <<<"$(events_with 5002)" ||
    fail "the failed rollback does not name the link: $(events_with 5002)"
  [ -e "$PD/journal" ] || fail "no journal kept for the next start"

  # the admin puts the folder back and mends the restart: the undo is finished
  rm "$config"
  mv "$config.real" "$config"
  rm "$PD/restart-fails"
  cs_run again apply --config "$CONFIG" --dry-run "$(wpath "$PKI/good-later-san.pem")"
  grep -q "an unfinished renewal was found and rolled-back" "$T/again.err" ||
    fail "the recovery did not roll back: $(cat "$T/again.out" "$T/again.err")"
  cmp -s "$BINDING" "$T/tls.json.orig" || fail "tls.json was not put back: $(cat "$BINDING")"
  if in_my "$NEW"; then fail "the rolled back certificate is still in LocalMachine\\My"; fi
  [ ! -e "$PD/journal" ] || fail "the journal is still there"
}

# The state folder's backup of the binding files (tx\bindings) becomes a link to the
# account's folder, which holds a "backup" of its own under the same name and a copy of
# the manifest, once tls.json is rewritten (after_bindings); the restart fails, and the
# undo would read that manifest and copy and write it into tls.json (its thumbprint put
# in service). The state folder is the
# administrators' (a non-administrator cannot do this on a server that passes the
# state folder's check): what is proven is that the undo reads its backups through no
# link either. tls.json as the renewal left it, the account's files as they were, the
# rollback said to have failed, naming the link.
test_backup_folder_swapped_for_a_link() {
  local backup=$PD/tx/bindings
  attack_setup
  sed "s/$OLD/$(printf 'A%.0s' $(seq 40))/g" "$T/tls.json.orig" >"$T/elsewhere/0-tls.json"
  cp "$T/elsewhere/0-tls.json" "$T/planted.orig"
  : >"$PD/restart-fails"
  apply_with_move after_bindings swap \
    "mv $backup $backup.real && cp $backup.real/manifest $T/elsewhere/ && ln -s $T/elsewhere $backup"
  expect_eq "$(grep -c "$NEW" "$BINDING")" 2 "the new thumbprint in tls.json"
  ! grep -q AAAAAAAAAA "$BINDING" || fail "the account's copy was written into tls.json"
  cmp -s "$T/elsewhere/0-tls.json" "$T/planted.orig" || fail "the account's copy was changed"
  expect_eq "$(cd "$T/elsewhere" && find . -mindepth 1 | sort | tr '\n' ' ')" "./0-tls.json ./manifest " \
    "what the account's folder holds"
  expect_eq "$(count_event 5001) $(count_event 5002)" "0 1" "rollbacks completed and failed"
  grep -qF "$WPD\\tx\\bindings is a junction, symbolic link or mount point" <<<"$(events_with 5002)" ||
    fail "the failed rollback does not name the link: $(events_with 5002)"
}

# attacks.sh's Attack B: the state folder holds an unfinished renewal (killed once
# tls.json was rewritten) whose binding manifest now names another file ($T/etc/z,
# standing for a file of the system's) for the backup's bytes. The recovery the next
# command runs must not write it: the manifest names no file of [connector]
# binding_files, so nothing is restored from it and the failure says why (5002).
test_recovery_refuses_a_manifest_naming_another_file() {
  attack_setup
  mkdir -p "$T/etc"
  echo "the system's z" >"$T/etc/z"
  cp "$T/etc/z" "$T/z.orig"
  CERTSTEWARD_TEST_FAULT=after_bindings cs_run ap apply --config "$CONFIG" "$(wpath "$PKI/good-later-san.pem")"
  grep -q "test fault point after_bindings reached (time 1): killing this process" "$T/ap.err" ||
    fail "apply was not killed at after_bindings: $(cat "$T/ap.out" "$T/ap.err")"
  [ -f "$PD/tx/bindings/manifest" ] && [ -e "$PD/journal" ] || fail "no journal or binding manifest after the kill"
  # the same line, what the file was saved with kept (so that the owner check, which
  # Wine's made-up owners would fail here, is no reason), another file named
  Z=$(wpath "$T/etc/z") awk -F'\t' -v OFS='\t' '/^#/ { print; next } { $3 = ENVIRON["Z"]; print }' \
    "$PD/tx/bindings/manifest" >"$T/manifest"
  grep -qF "$(wpath "$T/etc/z")" "$T/manifest" || fail "the manifest was not changed: $(cat "$T/manifest")"
  cp "$T/manifest" "$PD/tx/bindings/manifest"
  cs_run again apply --config "$CONFIG" --dry-run "$(wpath "$PKI/good-later-san.pem")"
  cmp -s "$T/etc/z" "$T/z.orig" || fail "the recovery wrote into $T/etc/z: $(head -c 80 "$T/etc/z")"
  expect_eq "$(grep -c "$NEW" "$BINDING")" 2 "the new thumbprint in tls.json (nothing restored)"
  expect_eq "$(count_event 5003) $(count_event 5002)" "1 1" "recoveries, rollbacks failed"
  grep -qF "names $(wpath "$T/etc/z"), which is not one of [connector] binding_files" <<<"$(events_with 5002)" ||
    fail "the failure does not say the manifest names another file: $(events_with 5002)"
}

name=${1:?test name}
declare -F "test_$name" >/dev/null || fail "no test named $name"
"test_$name"
echo "ok: $name"
