#!/usr/bin/env bash
# The unprivileged accounts the attack tests act as, made by the tests themselves (not
# accounts the system already has, whose groups and files no test controls):
#   cs-connector  the connector's account ([connector] account): it owns the TLS folder
#                 and the folder of the binding file, as many admins set them up
#   cs-neighbour  another account, whose group may write the TLS folder too
# Each is a system account with a group of its own, no home, no shell, no password.
# Usage: accounts.sh make | remove. make is idempotent and safe to run in parallel (a
# lock around useradd); an account of that name not made here is refused, never
# reused or removed. CTest runs make before the tests that need them (fixture
# "accounts") and remove after the last. Several test runs may use them at once (the
# native and the sanitizer builds' suites, a run by hand): each make counts one user
# more, each remove one less, and the accounts go with the last.
set -euo pipefail

NAMES="cs-connector cs-neighbour"
MARK="certsteward test account"
LOCK=/run/lock/certsteward-test-accounts.lock
USERS=/run/lock/certsteward-test-accounts.users

[ "$(id -u)" = 0 ] || { echo "accounts.sh: run as root" >&2; exit 1; }

# ours NAME: 0 when NAME exists and was made here, 1 when absent; refuses another's
ours() {
  local entry
  entry=$(getent passwd "$1") || return 1
  [ "$(cut -d: -f5 <<<"$entry")" = "$MARK" ] ||
    { echo "accounts.sh: an account $1 exists that these tests did not make; not used" >&2; exit 1; }
}

make_accounts() {
  local n
  for n in $NAMES; do
    ours "$n" && continue
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      --comment "$MARK" "$n"
  done
}

remove_accounts() {
  local n
  for n in $NAMES; do
    ours "$n" || continue
    userdel "$n"
    ! getent group "$n" >/dev/null || groupdel "$n"
  done
}

exec 9>"$LOCK"
flock -w 60 9
users=$(cat "$USERS" 2>/dev/null || echo 0)
case $users in '' | *[!0-9]*) users=0 ;; esac
case "${1:-}" in
  make)
    make_accounts
    echo $((users + 1)) >"$USERS"
    ;;
  remove)
    if [ "$users" -le 1 ]; then
      remove_accounts
      rm -f "$USERS"
    else
      echo $((users - 1)) >"$USERS"
    fi
    ;;
  *) echo "usage: accounts.sh make | remove" >&2; exit 2 ;;
esac
