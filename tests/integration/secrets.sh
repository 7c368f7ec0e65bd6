#!/usr/bin/env bash
# No secret out: a full renewal from a password-protected PFX, a rejected PFX with the
# same key and password, and one whose password is wrong, through the daemon; then
# every output is searched for the PFX password and the private key, in every form
# the key could leak in (PEM lines, DER raw and in hex, its private numbers raw and in
# hex): the events file, the syslog lines, the daemon's standard error (--foreground),
# status and status --json, the metrics file, the quarantine's reason files, the
# state files, and the CLI's check and apply. Usage: secrets.sh TEST_NAME.
#
# Syslog: the machine may run none (no /dev/log). When the test may make a private
# mount namespace (root, unshare), it lays an overlay on /dev there with a listener on
# /dev/log of its own, so the daemon's real syslog lines are searched too; otherwise it
# says so and relies on --foreground's standard error, which carries the same text.
if [ -z "${CS_SECRETS_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
  exec unshare -m --propagation private env CS_SECRETS_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

LISTENER_PID=""
DEV_MOUNTED=""
stop_listener() {
  if [ -n "$LISTENER_PID" ] && kill -0 "$LISTENER_PID" 2>/dev/null; then kill "$LISTENER_PID"; wait "$LISTENER_PID" 2>/dev/null || true; fi
  LISTENER_PID=
  if [ -n "$DEV_MOUNTED" ]; then umount /dev && DEV_MOUNTED=; fi # this namespace's overlay, before its folders go
}
trap 'cs_daemon_stop; stop_listener; cleanup' EXIT
command -v python3 >/dev/null || fail "python3 is needed (scripts/deps.sh)"

# syslog_listen: a listener on /dev/log in this mount namespace, writing to $T/syslog;
# returns 1 (and says why) when that cannot be done here
syslog_listen() {
  [ "${CS_SECRETS_NS:-}" = 1 ] || { echo "NOTE: no private mount namespace: syslog not captured"; return 1; }
  [ ! -e /dev/log ] || { echo "NOTE: /dev/log exists (a syslog daemon runs): its lines are not searched"; return 1; }
  mkdir -p "$T/dev-upper" "$T/dev-work"
  mount -t overlay overlay -o "lowerdir=/dev,upperdir=$T/dev-upper,workdir=$T/dev-work" /dev 2>/dev/null ||
    { echo "NOTE: cannot lay an overlay on /dev here: syslog not captured"; return 1; }
  DEV_MOUNTED=1
  python3 - "$T/syslog" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
with open(sys.argv[1], "ab", buffering=0) as out:
    out.write(b"ready\n")
    while True:
        out.write(s.recv(65536) + b"\n")
PY
  LISTENER_PID=$!
  for _ in $(seq 50); do grep -q '^ready$' "$T/syslog" 2>/dev/null && return 0; sleep 0.1; done
  fail "the syslog listener did not start"
}

# The needles: the password and the key in every form, one hex-encoded needle a line
# (hex so that binary needles fit in a text file)
make_needles() {
  local key=$1 pass=$2
  openssl pkey -in "$key" -outform DER -out "$T/key.p8.der"
  openssl pkey -in "$key" -traditional -outform DER -out "$T/key.trad.der" 2>/dev/null || cp "$T/key.p8.der" "$T/key.trad.der"
  openssl pkey -in "$key" -out "$T/key.p8.pem"
  openssl pkey -in "$key" -traditional -out "$T/key.trad.pem" 2>/dev/null || cp "$T/key.p8.pem" "$T/key.trad.pem"
  openssl pkey -in "$key" -noout -text > "$T/key.txt"
  python3 - "$T" "$pass" "$key" > "$T/needles" <<'PY'
import base64, binascii, re, sys
t, password, keyfile = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
raw = [password]
for der in ("key.p8.der", "key.trad.der"):
    raw.append(open("%s/%s" % (t, der), "rb").read())
# the private numbers as openssl prints them (privateExponent, prime1, ...; or priv for EC)
text = open(t + "/key.txt").read()
for name, body in re.findall(r"^(\w+):\s*\n((?:\s+[0-9a-f:]+\n)+)", text, re.M):
    if name.lower() in ("modulus", "publicexponent", "pub"):
        continue
    raw.append(binascii.unhexlify(re.sub(r"[\s:]", "", body)).lstrip(b"\0"))
needles = set()
for r in raw:
    needles.update([r, r.hex().encode(), r.hex().upper().encode(), base64.b64encode(r)])
    if len(r) > 16:  # a piece is as bad as the whole: the first 16 bytes of each
        needles.update([r[:16], r[:16].hex().encode(), r[:16].hex().upper().encode()])
for pem in (keyfile, t + "/key.p8.pem", t + "/key.trad.pem"):
    for line in open(pem, "rb").read().split(b"\n"):
        if len(line) >= 16 and not line.startswith(b"-----"):
            needles.add(line.strip())
for n in sorted(needles):
    if len(n) >= 8:
        print(n.hex())
PY
  [ "$(wc -l < "$T/needles")" -ge 20 ] || fail "too few needles: this test could not tell"
}

# holds FILE...: true when a file holds a needle (named on stderr)
holds() {
  python3 - "$T/needles" "$@" <<'PY'

import sys
needles = [bytes.fromhex(l) for l in open(sys.argv[1]).read().split()]
bad = 0
for f in sys.argv[2:]:
    data = open(f, "rb").read()
    for n in needles:
        if n in data:
            print("FOUND in %s: %r" % (f, n[:24]), file=sys.stderr)
            bad = 1
sys.exit(1 - bad)
PY
}

test_no_secret_in_any_output() {
  setup
  cs_watch_config
  cs_private_password
  local pass have_syslog=0 f
  pass=$(head -n1 "$PKI/pass.txt")
  make_needles "$PKI/leaf.key" "$pass"
  # the search finds what it looks for: the key file and the PFX password itself
  printf 'x %s y' "$pass" > "$T/probe.txt"
  holds "$T/probe.txt" 2>/dev/null || fail "the search does not find the password"
  holds "$PKI/leaf.key" 2>/dev/null || fail "the search does not find the key"
  rm "$T/probe.txt"
  syslog_listen && have_syslog=1
  # a PFX with the same key and password that is rejected (clientAuth only), and one
  # whose password is not the configured one
  openssl pkcs12 -export -in "$PKI/bad-eku.pem" -inkey "$PKI/leaf.key" -certfile "$PKI/inter.pem" \
    -passout "file:$PKI/pass.txt" -out "$T/bad-eku.pfx"
  openssl pkcs12 -export -in "$PKI/bad-eku.pem" -inkey "$PKI/leaf.key" -passout pass:another-pass-77 -out "$T/other-pass.pfx"
  cs_key_matches "$PKI/bad-eku.pem" "$PKI/leaf.key" || fail "bad-eku.pem is not for leaf.key: the rejected PFX would hold another key"
  cs_daemon_start --foreground
  cs_drop "$T/bad-eku.pfx"
  cs_drop "$T/other-pass.pfx"
  cs_events_wait 3002 2 30
  cs_drop "$PKI/good-aes.pfx" renewal.pfx
  cs_events_wait 4006 1 30
  expect_eq "$(cs_events_count 3002)" 2 "rejected drops"
  "$CS" status --config "$T/cs.ini" > "$T/status.txt" 2>&1 || fail "status: $(cat "$T/status.txt")"
  "$CS" status --config "$T/cs.ini" --json > "$T/status.json" 2>&1 || fail "status --json"
  "$CS" config --config "$T/cs.ini" > "$T/config.txt" 2>&1 || fail "config: $(cat "$T/config.txt")"
  "$CS" check --config "$T/cs.ini" --host "$HOST" --json "$T/bad-eku.pfx" "$PKI/good-enc.pem" > "$T/check.json" 2>&1 || true
  "$CS" apply --config "$T/cs.ini" --dry-run "$T/other-pass.pfx" > "$T/apply.txt" 2>&1 || true
  cs_daemon_stop
  grep -q 'wrong\|password' "$T/state/quarantine/"*other-pass.pfx.reason || fail "the wrong password is not the reason"
  [ -s "$T/daemon.out" ] && grep -q '4006' "$T/daemon.out" || fail "--foreground wrote no events to stderr"
  local outputs=("$T/state/events.jsonl" "$T/daemon.out" "$T/status.txt" "$T/status.json" "$T/config.txt"
                 "$T/check.json" "$T/apply.txt" "$T/state/certsteward.prom" "$T/state/last" "$T/state/expiry")
  for f in "$T/state/quarantine/"*.reason; do outputs+=("$f"); done
  if [ "$have_syslog" = 1 ]; then
    stop_listener
    grep -q 'certsteward.*\[4006 RENEWAL_COMMITTED\]' "$T/syslog" || fail "no syslog line was captured: $(head -3 "$T/syslog")"
    outputs+=("$T/syslog")
  fi
  for f in "${outputs[@]}"; do [ -s "$f" ] || fail "$f is empty: nothing to search"; done
  ! holds "${outputs[@]}" || fail "a secret is in an output (above)"
  echo "searched $(wc -l < "$T/needles") needles in ${#outputs[@]} outputs (syslog captured: $have_syslog)"
}

run_test "$@"
