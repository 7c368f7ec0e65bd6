#!/usr/bin/env bash
# A hostile drop folder: links to files outside it, FIFOs, a folder named like a
# certificate, a file owned by another user, entries swapped while the daemon looks,
# 10,000 entries at once, a file that keeps changing, names with line breaks, terminal
# escapes and invalid UTF-8. Each is quarantined with a reason (or, a file still being
# written, left until it settles); nothing outside the drop folder is opened (inotify
# watches the files the links point to: an open or a read of one fails the test); the
# store and the bindings do not change; the daemon keeps running with flat memory and
# descriptors. (daemon.sh has the unsafe folder, a slowly written file, a bad file.)
# Usage: hostile.sh TEST_NAME.
. "$(dirname "$0")/lib.sh"
cs_use_daemon

WATCHER_PID=
stop_watcher() {
  if [ -n "$WATCHER_PID" ] && kill -0 "$WATCHER_PID" 2>/dev/null; then kill "$WATCHER_PID"; wait "$WATCHER_PID" 2>/dev/null || true; fi
  WATCHER_PID=
}
trap 'stop_watcher; cs_daemon_stop; cleanup' EXIT
command -v python3 >/dev/null || fail "python3 is needed (scripts/deps.sh)"

# watch_opens PATH...: from now on, every open or read of one of the paths (files
# followed across renames, or anything in a folder) is written to $T/opened
watch_opens() {
  python3 - "$T/opened" "$@" <<'PY' &
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
IN_ACCESS, IN_OPEN, IN_DONT_FOLLOW = 0x1, 0x20, 0x02000000
fd = libc.inotify_init1(0)
if fd < 0:
    sys.exit("inotify_init1 failed")
names = {}
for p in sys.argv[2:]:
    wd = libc.inotify_add_watch(fd, p.encode(), IN_ACCESS | IN_OPEN | IN_DONT_FOLLOW)
    if wd < 0:
        sys.exit("cannot watch " + p)
    names[wd] = p
log = open(sys.argv[1], "a", buffering=1)
log.write("ready\n")
while True:
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        wd, mask, cookie, n = struct.unpack_from("iIII", buf, i)
        log.write("%s %r mask=%#x\n" % (names.get(wd, "?"), buf[i + 16:i + 16 + n].rstrip(b"\0"), mask))
        i += 16 + n
PY
  WATCHER_PID=$!
  for _ in $(seq 50); do grep -q '^ready$' "$T/opened" 2>/dev/null && return 0; sleep 0.1; done
  fail "the inotify watcher did not start"
}
never_opened() {
  [ "$(grep -vc '^ready$' "$T/opened")" -eq 0 ] || fail "$1 was opened: $(grep -v '^ready$' "$T/opened" | head -5)"
}

# Outside the drop folder: a file standing for /etc/shadow, and a FIFO that would
# hold a blocking reader. The watcher is on both and on their folder.
outside() {
  mkdir -p "$T/outside"
  printf 'root:$6$marker:19000:0:99999:7:::\n' > "$T/outside/shadow"
  mkfifo "$T/outside/pipe"
  watch_opens "$T/outside" "$T/outside/shadow" "$T/outside/pipe"
}

hostile_setup() {
  setup
  cs_watch_config
  cs_private_password
  cp "$T/store/key.pem" "$T/key.pem.orig"
}

# nothing changed: the certificate, key and bindings in service (lib.sh: unchanged)
untouched() {
  unchanged
  cmp -s "$T/store/key.pem" "$T/key.pem.orig" || fail "key.pem changed"
  expect_eq "$(cs_events_count 4000)" 0 "renewals started"
  cs_alive
}

# quarantined NAME-PATTERN REASON-PATTERN: one quarantine entry for that (stored) name, with that reason
quarantined() {
  local reason
  reason=$(find "$T/state/quarantine" -name "*$1.reason" | head -1)
  [ -n "$reason" ] || fail "$1 is not in quarantine: $(ls "$T/state/quarantine" 2>/dev/null | head)"
  grep -q "$2" "$reason" || fail "$1: the reason does not say /$2/: $(cat "$reason")"
}

# move_all FROM TO: every entry of FROM renamed into TO, at once (mv may trip over
# the daemon taking an entry it has just moved)
move_all() {
  python3 -c 'import os, sys
for n in os.listdir(sys.argv[1]): os.rename(os.path.join(sys.argv[1], n), os.path.join(sys.argv[2], n))' "$1" "$2"
}

# wait_quiet: waits until the drop folder is empty and every taken entry has its verdict
wait_quiet() {
  local i
  for i in $(seq $((${1:-30} * 10))); do
    if [ -z "$(ls -A "$T/drop")" ] && [ -z "$(ls -A "$T/state/incoming" 2>/dev/null)" ]; then return 0; fi
    sleep 0.1
  done
  fail "the drop folder was not emptied: $(ls -A "$T/drop" | head -5)"
}

test_links_to_files_outside_are_never_followed() {
  hostile_setup
  outside
  cs_daemon_start
  ln -s ../outside/shadow "$T/drop/shadow.pem"
  ln -s "$T/outside/pipe" "$T/drop/pipe.pfx"
  ln -s "$T/outside" "$T/drop/folder.pem" # a link to a folder
  cs_events_wait 3002 3 20
  quarantined shadow.pem "not a regular file"
  quarantined pipe.pfx "not a regular file"
  quarantined folder.pem "not a regular file"
  [ -L "$(find "$T/state/quarantine" -name '*shadow.pem' ! -name '*.reason')" ] || fail "the link itself was not quarantined"
  never_opened "a file outside the drop folder"
  untouched
}

test_fifo_is_never_opened() {
  hostile_setup
  mkfifo "$T/drop/renewal.pfx"
  watch_opens "$T/drop/renewal.pfx" # the watch follows the FIFO into quarantine
  cs_daemon_start
  cs_events_wait 3002 1 20
  quarantined renewal.pfx "not a regular file"
  never_opened "the FIFO"
  untouched
}

# A folder in the drop folder is not a certificate: an event says why it is not taken,
# and what it holds is never read.
test_folder_named_like_a_certificate() {
  hostile_setup
  mkdir "$T/drop/x.pfx"
  cp "$PKI/good-aes.pfx" "$T/drop/x.pfx/inner.pfx"
  watch_opens "$T/drop/x.pfx/inner.pfx"
  cs_daemon_start
  cs_drop "$PKI/bad-eku.pem" after.pem # a scan after the folder was seen
  cs_events_wait 3002 1 20
  sleep 1
  never_opened "the file inside the folder"
  untouched
  # skipped with a reason: an event names it (a silent skip leaves an admin guessing)
  jq -r 'select(.id >= 3000 and .id < 4000) | .file' "$T/state/events.jsonl" | grep -qx 'x.pfx' ||
    fail "nothing says why x.pfx was not taken: $(event_ids)"
}

# A file owned by another user: its content is that user's to change; not installed.
test_file_owned_by_another_user_is_not_installed() {
  hostile_setup
  cp "$PKI/good-aes.pfx" "$T/drop/renewal.pfx"
  chown nobody "$T/drop/renewal.pfx"
  cs_daemon_start
  cs_events_wait 3000 1 20
  local i
  for i in $(seq 100); do [ "$(cs_events_count 3002)" -ge 1 ] || [ "$(cs_events_count 4006)" -ge 1 ] && break; sleep 0.1; done
  untouched
  quarantined renewal.pfx "owner\|owned"
}

# An entry swapped between a link to outside and a rejected file, as fast as the shell
# can, while the daemon looks at it: whatever it takes, it never follows the link.
test_entry_swapped_while_looked_at() {
  hostile_setup
  outside
  cs_daemon_start
  local end=$((SECONDS + 4)) n=0
  while [ $SECONDS -lt $end ]; do
    ln -sfn ../outside/shadow "$T/drop/.link" && mv -fT "$T/drop/.link" "$T/drop/swap.pem"
    ln -sfn "$T/outside/pipe" "$T/drop/.link" && mv -fT "$T/drop/.link" "$T/drop/swap.pem"
    cp "$PKI/bad-eku.pem" "$T/drop/.file" && mv -fT "$T/drop/.file" "$T/drop/swap.pem"
    n=$((n + 1))
  done
  rm -f "$T/drop/swap.pem"
  wait_quiet 30
  [ "$(cs_events_count 3000)" -ge 2 ] || fail "the daemon took fewer than two of $n swaps: this test could not tell"
  never_opened "a file outside the drop folder"
  untouched
  expect_eq "$(cs_events_count 3000)" "$(cs_events_count 3002)" "every entry taken was quarantined"
}

# A file rewritten through a descriptor its writer kept open, after the daemon took
# it and while the worker reads it: good and garbage bytes in turn, for 3 s. Whatever
# the worker happened to read, what is in service is one whole certificate: the
# validated one or the old one, cert, key, bindings and endpoint agreeing.
test_file_rewritten_while_being_read() {
  hostile_setup
  cs_set watch settle_seconds 1
  cs_daemon_start
  python3 - "$PKI/good-aes.pfx" "$T/drop/late.pfx" <<'PY'
import os, sys, time
good = open(sys.argv[1], "rb").read()
junk = os.urandom(len(good))
f = open(sys.argv[2], "wb", buffering=0)
f.write(good)
end = time.time() + 10
while os.path.exists(sys.argv[2]) and time.time() < end:  # until the daemon takes it
    time.sleep(0.001)
end = time.time() + 3
while time.time() < end:
    for data in (junk, good):
        f.seek(0)
        f.write(data)
f.close()
PY
  local i
  for i in $(seq 300); do [ "$(cs_events_count 3002)" -ge 1 ] || [ "$(cs_events_count 4006)" -ge 1 ] && break; sleep 0.1; done
  [ "$(cs_events_count 3000)" -ge 1 ] || fail "the file was not taken"
  local tp; tp=$(cs_ossl_tp "$T/store/cert.pem")
  cs_key_matches "$T/store/cert.pem" "$T/store/key.pem" || fail "cert.pem and key.pem do not match"
  grep -q "\"thumbprint\": \"$tp\"" "$T/tls.json" || fail "the bindings do not name cert.pem's certificate $tp"
  expect_served "$P1" "$tp" "served"
  if [ "$tp" = "$OLD" ]; then unchanged; else expect_eq "$tp" "$(thumbprint "$PKI/good-aes.pfx")" "installed"; fi
  echo "outcome: $( [ "$tp" = "$OLD" ] && echo rejected || echo committed)"
  cs_alive
}

# 10,000 entries at once. Most are links (quarantined without a worker: the
# daemon's own bookkeeping at scale); 100 are rejected files (each is a worker run,
# so that part stays small). Flat: resident memory grows by less than 2 MiB from
# after the first 100 to after all 10,000, and the descriptor count is back (in an
# ASan build: no leak at exit instead of the memory bound).
test_ten_thousand_entries_at_once() {
  hostile_setup
  outside
  mkdir -p "$T/prep"
  local i rss0 fd0 rss1 fd1 start
  cs_daemon_start
  for i in $(seq 50); do cp "$PKI/bad-eku.pem" "$T/prep/r$i.pem"; ln -s ../outside/shadow "$T/prep/l$i.pem"; done
  move_all "$T/prep" "$T/drop"
  cs_events_wait 3002 100 60
  wait_quiet 60
  rss0=$(cs_rss_kib "$CS_DAEMON_PID"); fd0=$(cs_fd_count "$CS_DAEMON_PID")
  for i in $(seq 51 100); do cp "$PKI/bad-eku.pem" "$T/prep/r$i.pem"; done
  python3 -c 'import os, sys
for i in range(51, 9901): os.symlink("../outside/shadow", "%s/l%d.pem" % (sys.argv[1], i))' "$T/prep"
  start=$SECONDS
  move_all "$T/prep" "$T/drop"
  cs_events_wait 3002 10000 100
  wait_quiet 30
  echo "10,000 entries handled in $((SECONDS - start)) s"
  rss1=$(cs_rss_kib "$CS_DAEMON_PID"); fd1=$(cs_fd_count "$CS_DAEMON_PID")
  cs_flat "from 100 to 10,000 entries" "$rss0" "$rss1" "$fd0" "$fd1" 2048
  expect_eq "$(cs_events_count 3000)" 10000 "entries taken"
  expect_eq "$(find "$T/state/quarantine" -name '*.reason' | wc -l)" 10000 "quarantine entries"
  never_opened "a file outside the drop folder"
  untouched
  cs_daemon_stop_clean
}

# A file that never stops changing is not read half-way: it waits, however long,
# and is taken whole once it has been still for settle_seconds.
test_file_that_keeps_changing_waits() {
  hostile_setup
  cs_set watch settle_seconds 1
  cs_daemon_start
  local rss0 fd0 i
  rss0=$(cs_rss_kib "$CS_DAEMON_PID"); fd0=$(cs_fd_count "$CS_DAEMON_PID")
  for i in $(seq 25); do # 5 s, a change every 0.2 s
    head -c 100 /dev/urandom >> "$T/drop/growing.pem"
    sleep 0.2
  done
  expect_eq "$(cs_events_count 3000)" 0 "taken while it changed"
  [ -f "$T/drop/growing.pem" ] || fail "the file left the drop folder while it changed"
  local size; size=$(stat -c %s "$T/drop/growing.pem")
  cs_events_wait 3002 1 20
  quarantined growing.pem "."
  expect_eq "$(stat -c %s "$(find "$T/state/quarantine" -name '*growing.pem')")" "$size" "the quarantined size"
  cs_flat "while the file changed" "$rss0" "$(cs_rss_kib "$CS_DAEMON_PID")" "$fd0" "$(cs_fd_count "$CS_DAEMON_PID")" 1024
  untouched
  cs_daemon_stop_clean
}

# Names with a line break, terminal escapes, invalid UTF-8: every output carries them
# escaped (\xNN), the stored names are plain, the events file stays one JSON object a line.
test_hostile_names_are_escaped_everywhere() {
  hostile_setup
  local names=($'new\nline.pem' $'esc\e]0;owned\a\e[31mred.pem' $'bad\xff\xfeutf8.pem' $'tab\there\r.pfx')
  local n
  for n in "${names[@]}"; do cp "$PKI/bad-eku.pem" "$T/drop/$n"; done
  ln -s ../outside/x "$T/drop/"$'link\e[2J.pem'
  cs_daemon_start --foreground
  cs_events_wait 3002 5 30
  wait_quiet 10
  cs_daemon_stop
  # one JSON object per line, and no raw control byte or invalid UTF-8 in any output
  jq -c . "$T/state/events.jsonl" >/dev/null || fail "the events file is not JSON lines"
  expect_eq "$(jq -c . "$T/state/events.jsonl" | wc -l)" "$(wc -l < "$T/state/events.jsonl")" "one object a line"
  local f
  for f in "$T/state/events.jsonl" "$T/daemon.out" "$T/state/certsteward.prom" "$T/state/quarantine/"*.reason; do
    iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 || fail "$f is not valid UTF-8"
    ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$f" || fail "a control byte reached $f"
  done
  ! jq -r '.message, .file // empty' "$T/state/events.jsonl" | LC_ALL=C grep -q $'[\x01-\x1f\x7f]' ||
    fail "a control character is in an event's text (JSON-escaped, but still raw once decoded)"
  jq -r 'select(.id == 3002) | .file' "$T/state/events.jsonl" | grep -qF 'esc\x1B]0;owned\x07\x1B[31mred.pem' ||
    fail "the escape sequence is not shown escaped: $(jq -r 'select(.id == 3002) | .file' "$T/state/events.jsonl")"
  # the stored names are [A-Za-z0-9._-] only
  expect_eq "$(find "$T/state/quarantine" -mindepth 1 | sed 's|.*/||' | LC_ALL=C grep -vc '^[A-Za-z0-9._-]*$' || true)" 0 \
    "stored names with other characters"
  expect_eq "$(find "$T/state/quarantine" -name '*.reason' | wc -l)" 5 "quarantine entries"
  "$CS" status --config "$T/cs.ini" > "$T/status.txt" 2>&1 || true
  ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$T/status.txt" || fail "a control byte reached status"
  unchanged
}

run_test "$@"
