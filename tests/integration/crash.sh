#!/usr/bin/env bash
# The crash matrix: the daemon killed (SIGKILL, by the test build's fault points,
# common/fault.h) at every step boundary of the renewal transaction and inside its
# multi-file writes, then started again. Before COMMIT the renewal must come out
# rolled back, after it complete: certificate, key, chain, both binding files, the
# key's ACL and what nginx serves all agree, never a mix; no temp file is left; the
# events say which. Also: a connector restart that hangs past restart_timeout, and a
# worker process killed at each of its stages. Usage: crash.sh TEST_NAME.
# Needs a build with CS_TEST_HOOKS=ON (the fault points); nginx on 127.0.0.1 (lib.sh).
. "$(dirname "$0")/lib.sh"
cs_use_daemon

# What a failure prints besides its message: both runs' output, the connector's
# stand-in log, nginx's errors and the events, so that a failure explains itself
cs_on_fail() {
  local f
  for f in run1.out run2.out systemctl.log nginx/logs/error.log; do
    [ -e "$T/$f" ] && { echo "---- $f"; tail -n 40 "$T/$f"; }
  done
  [ -e "$T/state/events.jsonl" ] && { echo "---- events"; jq -c '[.id, .message]' "$T/state/events.jsonl" | tail -n 40; }
}

# The renewal setup (lib.sh) made multi-file: a chain file in the store, a second
# binding file; the key in service readable by nobody, as the daemon keeps it; a
# good PFX waiting in the drop folder.
crash_setup() {
  setup
  cp "$PKI/inter.pem" "$T/store/chain.pem"
  setfacl -m u:nobody:r "$T/store/key.pem"
  cp "$T/tls.json" "$T/tls2.json"
  local f
  for f in store/cert.pem store/key.pem store/chain.pem tls.json tls2.json; do cp "$T/$f" "$T/$(basename "$f").before"; done
  cs_set connector binding_files "tls.json, tls2.json"
  cs_set store chain_file store/chain.pem
  cs_watch_config
  cs_private_password
  NEW=$(thumbprint "$PKI/good-aes.pfx")
  [ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || fail "test PKI: no new thumbprint"
  cp "$PKI/good-aes.pfx" "$T/drop/renewed.pfx"
}

# run_killed_at POINT: one daemon run (--once) that kills itself at POINT
run_killed_at() {
  local st=0
  CERTSTEWARD_TEST_FAULT=$1 "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 || st=$?
  [ "$st" -eq 137 ] || { cat "$T/run1.out" >&2; fail "$1: the daemon was not killed at the point (exit $st)"; }
  grep -q "test fault point $1 reached" "$T/run1.out" || fail "$1: killed, but not by the fault point"
}

# restart_daemon: the next start, which recovers; it must exit 0
restart_daemon() {
  "$CS" run --config "$T/cs.ini" --once >"$T/run2.out" 2>&1 || { cat "$T/run2.out" >&2; fail "the restart failed"; }
}

no_leftovers() {
  [ ! -e "$T/state/journal" ] || fail "$1: the journal was left behind: $(cat "$T/state/journal")"
  [ ! -e "$T/state/tx" ] || fail "$1: the transaction folder was left behind"
  local tmp
  tmp=$(cs_temp_files "$T/store" "$T/state"; find "$T" -maxdepth 1 -name '.*.??????' -type f)
  [ -z "$tmp" ] || fail "$1: temp files left: $tmp"
  [ -z "$(ls -A "$T/state/incoming" 2>/dev/null)" ] || fail "$1: a file was left in incoming"
}

# The old certificate fully in service, nothing of the new one anywhere.
old_in_service() {
  local f
  for f in store/cert.pem store/key.pem store/chain.pem tls.json tls2.json; do
    cmp -s "$T/$f" "$T/$(basename "$f").before" || fail "$1: $f is not the old one"
  done
  cs_nobody_reads "$T/store/key.pem" || fail "$1: nobody lost READ on the key: $(getfacl -cp "$T/store/key.pem")"
  expect_served "$P1" "$OLD" "$1: served after recovery"
  no_leftovers "$1"
}

# The new certificate fully in service: each file says the same, the old one archived.
new_in_service() {
  local f
  expect_eq "$(cs_ossl_tp "$T/store/cert.pem")" "$NEW" "$1: cert.pem"
  cs_key_matches "$T/store/cert.pem" "$T/store/key.pem" || fail "$1: key.pem is not cert.pem's key"
  expect_eq "$(cs_ossl_tp "$T/store/chain.pem")" "$(cs_ossl_tp "$PKI/inter.pem")" "$1: chain.pem"
  for f in tls.json tls2.json; do # the lower-case selection and the upper-case one
    grep -q "\"thumbprint\": \"$(tr 'A-F' 'a-f' <<<"$NEW")\"" "$T/$f" && grep -q "\"thumbprint\": \"$NEW\"" "$T/$f" ||
      fail "$1: $f does not name the new certificate in both selections: $(cat "$T/$f")"
  done
  cs_nobody_reads "$T/store/key.pem" || fail "$1: nobody cannot read the new key: $(getfacl -cp "$T/store/key.pem")"
  expect_served "$P1" "$NEW" "$1: served after recovery"
  for f in cert.pem key.pem chain.pem; do
    cmp -s "$T/state/archive/$OLD/$f" "$T/$f.before" || fail "$1: $f not archived whole"
  done
  no_leftovers "$1"
}

# The message of the recovery event (5003), which names the journal's state
recovery_state() { jq -r 'select(.id == 5003) | .message' "$T/state/events.jsonl" | sed -n 's/.*(state \([a-z-]*\)).*/\1/p'; }
last_result() { "$CS" status --config "$T/cs.ini" --json | jq -r '.last.result + " " + (.unfinished == null | tostring)'; }

# The connector as a service, stopped while its files change (lib.sh's systemctl stand-in)
split_setup() {
  crash_setup
  cs_split_setup
}

# crash_before_commit POINT [SETUP]: killed at POINT, the next start rolls back
crash_before_commit() {
  ${2:-crash_setup}
  run_killed_at "$1"
  [ -e "$T/state/journal" ] || fail "$1: no journal after the kill"
  restart_daemon
  old_in_service "$1"
  expect_eq "$(cs_events_count 5003)" 1 "$1: recovery event"
  expect_eq "$(recovery_state)" running "$1: the recovery names the state"
  expect_eq "$(cs_events_count 5001)" 1 "$1: rollback completed"
  expect_eq "$(cs_events_count 5002)" 0 "$1: rollback failed"
  expect_eq "$(cs_events_count 4006)" 0 "$1: committed"
  expect_eq "$(cs_events_count 4008)" 0 "$1: the key's permission needed a repair"
  grep -q '^reason interrupted' "$T/state/quarantine/"*renewed.pfx.reason || fail "$1: the file is not quarantined as interrupted"
  expect_eq "$(last_result)" "rolled-back true" "$1: status"
}

# crash_after_commit POINT [SETUP]: killed at POINT, the next start completes the renewal
crash_after_commit() {
  ${2:-crash_setup}
  run_killed_at "$1"
  restart_daemon
  new_in_service "$1"
  expect_eq "$(cs_events_count 5003)" 1 "$1: recovery event"
  expect_eq "$(recovery_state)" committed "$1: the recovery names the state"
  expect_eq "$(cs_events_count 5000)" 0 "$1: a rollback started"
  expect_eq "$(cs_events_count 1006)" 0 "$1: state errors: $(jq -r 'select(.id == 1006) | .message' "$T/state/events.jsonl")"
  # the file is in service: it must not be reported as rejected with "the certificate in service is unchanged"
  expect_eq "$(cs_events_count 3002)" 0 "$1: the committed file reported as rejected: $(cat "$T/state/quarantine/"*.reason 2>/dev/null)"
  expect_eq "$(cs_events_count 4008)" 0 "$1: the key's permission needed a repair"
  # the file it came from is done with (it holds a private key): not left in the state folder
  expect_eq "$(find "$T/state" -name '*renewed.pfx*' | head -3)" "" "$1: the committed drop left behind"
  expect_eq "$(last_result)" "committed true" "$1: status"
}

# crash_in_rollback POINT [split]: the restart (the service's start) fails once (exit
# 3), the rollback is killed at POINT, and the next start finishes the rollback
crash_in_rollback() {
  if [ "${2:-}" = split ]; then
    split_setup
    touch "$T/fail-start-once"
  else
    crash_setup
    cs_set connector restart_command "if [ -e $T/failed-once ]; then $RELOAD; else touch $T/failed-once; exit 3; fi"
  fi
  run_killed_at "$1"
  grep -q '^state rolling-back' "$T/state/journal" || fail "$1: not killed in the rollback: $(cat "$T/state/journal")"
  restart_daemon
  old_in_service "$1"
  expect_eq "$(recovery_state)" rolling-back "$1: the recovery names the state"
  expect_eq "$(cs_events_count 5001)" 1 "$1: rollback completed"
  expect_eq "$(cs_events_count 5002)" 0 "$1: rollback failed"
  expect_eq "$(last_result)" "rolled-back true" "$1: status"
}

# ---- before COMMIT: rolled back ----------------------------------------------------
test_kill_after_begin() { crash_before_commit after_begin; }
test_kill_store_backup_cert() { crash_before_commit store_backup:cert.pem; }
test_kill_store_backup_chain() { crash_before_commit store_backup:chain.pem; }
test_kill_store_manifest() { crash_before_commit store_manifest; }
test_kill_store_install_cert() { crash_before_commit store_install:cert.pem; }
test_kill_store_install_key() { crash_before_commit store_install:key.pem; }
test_kill_after_install() { crash_before_commit after_install; }
test_kill_after_grant() { crash_before_commit after_grant; }
test_kill_bindings_backup_first() { crash_before_commit bindings_backup:0; }
test_kill_bindings_manifest() { crash_before_commit bindings_manifest; }
test_kill_bindings_write_first() { crash_before_commit bindings_write:0; }
test_kill_after_bindings() { crash_before_commit after_bindings; }
test_kill_after_restart() { crash_before_commit after_restart; }
test_kill_after_probe() { crash_before_commit after_probe; }

# ---- after COMMIT: completed -------------------------------------------------------
test_kill_after_commit() { crash_after_commit after_commit; }
test_kill_store_archive_cert() { crash_after_commit store_archive:cert.pem; }
test_kill_after_archive() { crash_after_commit after_archive; }

# ---- inside the rollback: the undo is finished at the next start ---------------------
test_kill_rollback_bindings_restore_first() { crash_in_rollback bindings_restore:0; }
test_kill_rollback_after_undo_bindings() { crash_in_rollback rollback_undo_bindings; }
test_kill_rollback_store_undo_cert() { crash_in_rollback store_undo:cert.pem; }
test_kill_rollback_before_restart() { crash_in_rollback rollback_undo_install; }
test_kill_rollback_after_restart() { crash_in_rollback rollback_restarted; }

# ---- the connector as a service: stopped, files rewritten, started ------------------
# Before the stop nothing of the connector is touched; from the stop on, the rollback
# stops it (again) before the files go back, so that it cannot save the new thumbprint
# over them, and starts it after; a stop cut short is followed by a start only.
test_split_kill_after_grant() { crash_before_commit after_grant split_setup; }
test_split_kill_after_stop() { crash_before_commit after_stop split_setup; }
test_split_kill_bindings_write_first() { crash_before_commit bindings_write:0 split_setup; }
test_split_kill_after_bindings() { crash_before_commit after_bindings split_setup; }
test_split_kill_after_start() { crash_before_commit after_start split_setup; }
test_split_kill_after_probe() { crash_before_commit after_probe split_setup; }
test_split_kill_after_commit() { crash_after_commit after_commit split_setup; }
test_split_kill_rollback_after_stop() { crash_in_rollback rollback_stopped split; }
test_split_kill_rollback_after_undo_bindings() { crash_in_rollback rollback_undo_bindings split; }
test_split_kill_rollback_after_start() { crash_in_rollback rollback_restarted split; }

# The connector was started on the new files and saves its settings when it stops:
# the recovery stops it before it puts the old files back (the other order would let
# it write the new thumbprint over them), then starts it on them.
test_split_recovery_stops_before_undo() {
  split_setup
  run_killed_at after_start
  local new; new=$NEW
  restart_daemon
  old_in_service after_start
  expect_eq "$(cs_split_log)" "stop $OLD, start $new, stop $new, start $OLD" "stops and starts"
}

# ---- a journal the previous certsteward wrote (version 1: no plan; its steps were
# install grant bindings restart probe) ------------------------------------------------

# journal_v1: the journal made as the previous version wrote it
journal_v1() {
  sed -i -e '1s/^certsteward-journal 2$/certsteward-journal 1/' -e '/^plan /d' -e '/^dependents /d' "$T/state/journal"
  grep -q '^certsteward-journal 1$' "$T/state/journal" || fail "not a version 1 journal: $(cat "$T/state/journal")"
}

# crash_v1 POINT [split]: killed at POINT with a restart command, the journal made version
# 1; the next start (configured the same, or with the service stand-in: split) rolls back
crash_v1() {
  crash_setup
  run_killed_at "$1"
  journal_v1
  [ "${2:-}" != split ] || cs_split_setup
  restart_daemon
  old_in_service "$1 (version 1 journal)"
  expect_eq "$(cs_events_count 5001)" 1 "$1: rollback completed"
}
test_version1_journal_after_grant() { crash_v1 after_grant; }
test_version1_journal_after_bindings() { crash_v1 after_bindings; }
test_version1_journal_after_restart() { crash_v1 after_restart; }
test_version1_journal_after_probe() { crash_v1 after_probe; }
test_version1_journal_now_a_service() {
  crash_v1 after_bindings split
  # step 3 of version 1 was the rewrite while the connector ran: undone, no restart
  expect_eq "$(cs_split_log)" "" "the connector was stopped or started"
}

# A journal whose plan names a step this version does not know: nothing is undone (the
# wrong undo does harm), the journal is kept, and the error says so.
test_unknown_journal_step_refused() {
  crash_setup
  run_killed_at after_bindings
  sed -i 's/^plan .*/plan install grant reload bindings probe/' "$T/state/journal"
  cp "$T/tls.json" "$T/tls.json.killed"
  local st=0
  "$CS" run --config "$T/cs.ini" --once >"$T/run2.out" 2>&1 || st=$?
  cmp -s "$T/tls.json" "$T/tls.json.killed" || fail "a binding file was changed"
  grep -q '^plan install grant reload' "$T/state/journal" || fail "the journal was not kept"
  jq -r 'select(.id == 1006) | .message' "$T/state/events.jsonl" | grep -q 'does not know: "reload"' ||
    fail "no state error naming the step: $(cat "$T/run2.out")"
  expect_eq "$(cs_events_count 5000)" 0 "a rollback started"
  echo "run --once exit status with a refused journal: $st"
}

# ---- inside one file's atomic write: the temp file written, not yet renamed ----------
# A preloaded renameat() kills the daemon as it is about to rename its temp file over
# PATH for the WHEN-th time: what a crash in the middle of cs_plat_write_atomic leaves.
# (strace's fault injection cannot do it: its -P matches rename's first path only.)

killrename_so() {
  cat > "$T/killrename.c" <<'SRC'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* the product renames inside a folder descriptor (renameat): the target is the
 * folder's path (from /proc) joined with the name */
int renameat(int fromdir, const char *from, int todir, const char *to) {
  static int seen;
  const char *want = getenv("CS_KILL_RENAME_TO"), *when = getenv("CS_KILL_RENAME_WHEN");
  int (*real)(int, const char *, int, const char *);
  char link[64], dir[4096], full[8192];
  ssize_t n;
  snprintf(link, sizeof link, "/proc/self/fd/%d", todir);
  n = readlink(link, dir, sizeof dir - 1);
  dir[n > 0 ? n : 0] = '\0';
  snprintf(full, sizeof full, "%s/%s", dir, to);
  if (want != NULL && strcmp(full, want) == 0 && ++seen == (when ? atoi(when) : 1)) {
    fprintf(stderr, "killrename: killed before renaming %s over %s\n", from, want);
    raise(SIGKILL);
  }
  *(void **)&real = dlsym(RTLD_NEXT, "renameat");
  return real(fromdir, from, todir, to);
}
SRC
  cc -shared -fPIC -o "$T/killrename.so" "$T/killrename.c" -ldl || fail "cannot build the renameat() shim"
}

# kill_in_write PATH WHEN: one daemon run killed there
kill_in_write() {
  local st=0
  killrename_so
  # an ASan build checks that its runtime comes first; the shim only wraps renameat()
  LD_PRELOAD=$T/killrename.so CS_KILL_RENAME_TO=$1 CS_KILL_RENAME_WHEN=$2 \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 || st=$?
  [ "$st" -eq 137 ] || { cat "$T/run1.out" >&2; fail "$1: the daemon was not killed in the write (exit $st)"; }
  grep -q "killrename: killed before renaming" "$T/run1.out" || fail "$1: killed, but not by the shim"
  [ -n "$(cs_temp_files "$(dirname "$1")")" ] || fail "$1: no temp file after the kill: this test could not tell"
}

crash_in_write() {
  crash_setup
  kill_in_write "$T/$1" "$2"
  restart_daemon
  old_in_service "$1 (write $2)"
  grep -q '^reason interrupted' "$T/state/quarantine/"*renewed.pfx.reason || fail "the file is not quarantined as interrupted"
}

test_kill_in_write_of_cert() { crash_in_write store/cert.pem 1; }
test_kill_in_write_of_binding() { crash_in_write tls.json 1; }
test_kill_in_write_of_first_journal() { crash_in_write state/journal 1; }
test_kill_in_write_of_journal_step() { crash_in_write state/journal 2; }

# ---- a connector restart that hangs past restart_timeout ----------------------------

# The restart command: hangs (a sleep whose PID is kept) the first time, or always
hanging_restart() {
  local hang="sleep 60 & echo \$! > $T/sleep.pid; wait"
  if [ "$1" = once ]; then
    cs_set connector restart_command "if [ -e $T/hung-once ]; then $RELOAD; else touch $T/hung-once; $hang; fi"
  else
    cs_set connector restart_command "$hang"
  fi
  cs_set connector restart_timeout 3
}

# the hung command was stopped, with what it started
hung_command_stopped() {
  local pid; pid=$(cat "$T/sleep.pid")
  for _ in $(seq 20); do # SIGKILL takes a moment; a zombie is stopped (its reaper may be slow)
    kill -0 "$pid" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 0
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" # ours (started by the restart command of this test): not left to run on
    fail "the hung restart command's child (sleep, pid $pid) was left running"
  fi
}

test_restart_hanging_past_timeout_rolls_back() {
  crash_setup
  hanging_restart once
  restart_daemon
  old_in_service "hung restart"
  expect_eq "$(cs_events_count 5000) $(cs_events_count 5001)" "1 1" "rollback started, completed"
  grep -q 'did not finish within' "$T/state/quarantine/"*renewed.pfx.reason || fail "the reason does not say the restart hung"
  hung_command_stopped
  expect_eq "$(last_result)" "rolled-back true" "status"
}

test_restart_hanging_every_time_is_recovered_later() {
  crash_setup
  hanging_restart always
  restart_daemon
  # the rollback's restart hung too: not proven, said so, the journal kept for the next start
  expect_eq "$(cs_events_count 5002)" 1 "rollback failed"
  grep -q '^state rolling-back' "$T/state/journal" || fail "the journal is not kept for the next start"
  hung_command_stopped
  cs_set connector restart_command "$RELOAD" # the connector is fixed
  restart_daemon
  old_in_service "recovered later"
  expect_eq "$(cs_events_count 5001)" 1 "rollback completed at the next start"
  expect_eq "$(last_result)" "rolled-back true" "status"
}

# ---- the worker killed at each of its stages: nothing changes ------------------------

# crash_worker POINT: the worker dies at POINT while it examines the dropped file
crash_worker() {
  crash_setup
  CERTSTEWARD_TEST_FAULT=$1 "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 ||
    { cat "$T/run1.out" >&2; fail "$1: the daemon did not survive its worker"; }
  grep -q "test fault point $1 reached" "$T/run1.out" || fail "$1: the point was not reached"
  old_in_service "$1"
  expect_eq "$(cs_events_count 4000)" 0 "$1: a renewal started"
  expect_eq "$(cs_events_count 1005)" 1 "$1: worker-failed event"
  grep -q 'crashed (signal 9)' "$T/state/quarantine/"*renewed.pfx.reason ||
    fail "$1: the reason does not say the worker crashed: $(cat "$T/state/quarantine/"*.reason)"
}

test_kill_worker_at_start() { crash_worker worker_validate; }
test_kill_worker_after_validation() { crash_worker worker_validated; }
test_kill_worker_staging_key() { crash_worker worker_stage:key.pem; }
test_kill_worker_staging_last() { crash_worker worker_stage:leaf.der; }
test_kill_worker_before_answer() { crash_worker worker_answer; }

# The worker that reads the expiry of the certificate in service dies every time: the
# daemon carries on, and the renewal (which does not need it) still goes through.
test_kill_worker_scanning_expiry() {
  crash_setup
  CERTSTEWARD_TEST_FAULT=worker_scan "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 ||
    { cat "$T/run1.out" >&2; fail "the daemon did not survive its worker"; }
  grep -q "test fault point worker_scan reached" "$T/run1.out" || fail "the point was not reached"
  expect_eq "$(cs_events_count 4006)" 1 "committed"
  new_in_service "expiry worker killed"
}

test_kill_worker_probing_preflight() {
  crash_setup
  cs_set connector restart_timeout 2
  CERTSTEWARD_TEST_FAULT=worker_probe "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 ||
    { cat "$T/run1.out" >&2; fail "the daemon did not survive its worker"; }
  old_in_service "probe worker killed"
  expect_eq "$(event_ids | tr ' ' '\n' | grep -cx 3004 || true)" 1 "pre-flight refused"
  expect_eq "$(cs_events_count 4000)" 0 "a renewal started"
  grep -q 'pre-flight refused' "$T/state/quarantine/"*renewed.pfx.reason || fail "not quarantined as refused"
}

test_kill_worker_probing_new_certificate() {
  crash_setup
  cs_set connector restart_timeout 2
  # from the connector's restart on (the restart command arms the point), every probe
  # dies: the new certificate cannot be proven, nor the old one after the undo
  cs_set connector restart_command "touch $T/armed; $RELOAD"
  local st=0
  CERTSTEWARD_TEST_FAULT=worker_probe CERTSTEWARD_TEST_FAULT_IF=$T/armed \
    "$CS" run --config "$T/cs.ini" --once >"$T/run1.out" 2>&1 || st=$?
  expect_eq "$st" 0 "the daemon's exit status"
  grep -q "test fault point worker_probe reached" "$T/run1.out" || fail "no probe worker was killed"
  expect_eq "$(cs_events_count 4004)" 1 "the connector was restarted with the new certificate"
  expect_eq "$(cs_events_count 5002)" 1 "rollback not proven"
  # files already back; the journal stays, and the next start proves the old one
  restart_daemon
  old_in_service "probe worker killed after the restart"
  expect_eq "$(cs_events_count 5001)" 1 "rollback completed at the next start"
}

run_test "$@"
