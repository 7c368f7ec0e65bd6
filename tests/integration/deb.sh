#!/usr/bin/env bash
# The Debian package as an admin meets it: installed with plain `dpkg -i` into this very
# system, its files, modes, conffile and systemd unit, the installed programs at work,
# then removed and purged, with nothing left behind. Usage: deb.sh TEST_NAME.
#
# The package is the one `cpack -G DEB` wrote into the build folder that holds CS_BIN
# (build/native/certsteward_<version>_<arch>.deb, the build folder being the parent of
# service/), or CS_DEB when set. scripts/test.sh makes it before the tests run.
#
# It installs into the real system, so it is careful: it runs as root only; it refuses
# to run while a certsteward package it did not install is there, or while
# /etc/certsteward, /usr/bin/certsteward or a non-empty /var/lib/certsteward exist
# (a purge would delete them); it always purges what it installed (trap), and a run
# killed before that is cleaned up by the next one (the mark file below says the
# package is the test's). The tests of this file take a lock, as they share the system.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
MARK=/run/certsteward-deb-test.installed
LOCK=/run/lock/certsteward-deb-test.lock
UNIT=/lib/systemd/system/certsteward.service

find_deb() {
  if [ -n "${CS_DEB:-}" ]; then
    DEB=$CS_DEB
  else
    local build
    build=$(cd "$(dirname "$CS")/.." && pwd)
    DEB=$(ls -t "$build"/certsteward_*.deb 2>/dev/null | head -1 || true)
    [ -n "$DEB" ] || fail "no certsteward_*.deb in $build: make it with (cd $build && cpack -G DEB), as scripts/test.sh does"
  fi
  [ -f "$DEB" ] || fail "no package $DEB"
}

pkg_status() { dpkg-query -W -f='${Status}' certsteward 2>/dev/null || true; }
# dpkg forgets a purged package, or keeps it as "not-installed"
not_installed() { case "$(pkg_status)" in "" | *" not-installed") return 0 ;; *) return 1 ;; esac; }

INSTALLED= # set once this run has installed the package; only then does the trap purge
purge() {
  dpkg --purge certsteward >"$T/purge.out" 2>&1 || { cat "$T/purge.out" >&2; return 1; }
  rm -f "$MARK"
  INSTALLED=
}
trap '[ -z "$INSTALLED" ] || purge || echo "FAILED: dpkg --purge certsteward; $MARK left for the next run" >&2; cleanup' EXIT

# prepare: root, the lock, the package file, a system without certsteward (after
# purging what a killed earlier run of this test left)
prepare() {
  [ "$(id -u)" = 0 ] || fail "deb.sh installs a package: it must run as root"
  command -v dpkg >/dev/null || fail "dpkg is not here"
  find_deb
  exec 9>"$LOCK"
  flock -w 100 9 || fail "another deb.sh test held $LOCK for 100 s"
  [ ! -e "$MARK" ] || purge || fail "cannot purge the package an earlier run of this test left"
  not_installed || fail "a certsteward package this test did not install is here ($(pkg_status)): not touching it; dpkg --purge certsteward first"
  [ ! -e /etc/certsteward ] || fail "/etc/certsteward exists without the package: a purge would delete it; move it away first"
  [ ! -e /usr/bin/certsteward ] || fail "/usr/bin/certsteward exists without the package (installed by hand?); remove it first"
  [ ! -e /etc/systemd/system/certsteward.service.d ] || fail "/etc/systemd/system/certsteward.service.d exists: a purge would delete it"
  if [ -e /var/lib/certsteward ] && [ -n "$(find /var/lib/certsteward ! -type d | head -1)" ]; then
    fail "/var/lib/certsteward holds files without the package: a purge would delete them; move it away first"
  fi
}

install_pkg() {
  prepare
  touch "$MARK"
  INSTALLED=1
  dpkg -i "$DEB" </dev/null >"$T/install.out" 2>&1 || { cat "$T/install.out" >&2; fail "dpkg -i $DEB"; }
  expect_eq "$(pkg_status)" "install ok installed" "package state after dpkg -i"
}

# expect_file PATH MODE: exists, owned by root:root, with that mode
expect_file() {
  [ -e "$1" ] || fail "$1 is missing"
  expect_eq "$(stat -c '%U:%G %a' "$1")" "root:root $2" "owner and mode of $1"
}

# every trace of the package on the system: its folders, dpkg's own records, systemd's links
leftovers() {
  { ls -d /etc/certsteward /var/lib/certsteward 2>/dev/null
    find /usr/bin /usr/share/doc /usr/share/certsteward /lib/systemd /usr/lib/systemd /etc/systemd /var/lib/systemd /var/lib/dpkg/info \
      -name '*certsteward*' 2>/dev/null; } | LC_ALL=C sort || true
}

test_installs_files_modes_and_unit() {
  install_pkg
  # Depends, computed by dpkg-shlibdeps; dpkg -i succeeding above means they are met
  local deps; deps=$(dpkg-query -W -f='${Depends}' certsteward)
  for lib in libc6 libssl3 libuv1 libinih1 libacl1; do
    grep -Eq "(^|, )$lib( |,|$)" <<<"$deps" || fail "Depends lacks $lib: $deps"
  done
  # the files, and nothing else
  expect_eq "$(dpkg -L certsteward | while read -r f; do [ -d "$f" ] || echo "$f"; done | LC_ALL=C sort | tr '\n' ' ')" \
    "/etc/certsteward/certsteward.ini /lib/systemd/system/certsteward.service /usr/bin/certsteward /usr/bin/certsteward-worker /usr/share/certsteward/ca-helpers/step-ca /usr/share/doc/certsteward/README.md /usr/share/doc/certsteward/events.md " \
    "files of the package"
  expect_file /usr/share/certsteward/ca-helpers/step-ca 755
  expect_file /usr/bin/certsteward 755
  expect_file /usr/bin/certsteward-worker 755
  /usr/bin/certsteward version >"$T/v.out" 2>&1 || { cat "$T/v.out"; fail "certsteward version"; }
  /usr/bin/certsteward-worker version >"$T/wv.out" 2>&1 || { cat "$T/wv.out"; fail "certsteward-worker version"; }
  local version; version=$(dpkg-query -W -f='${Version}' certsteward)
  grep -q "${version%%~*}" "$T/v.out" || fail "certsteward version says '$(cat "$T/v.out")', the package is $version"
  # the configuration: the shipped file, a conffile
  expect_file /etc/certsteward 755
  expect_file /etc/certsteward/certsteward.ini 644
  cmp -s /etc/certsteward/certsteward.ini "$SRC/conf/certsteward.ini" || fail "the installed configuration is not conf/certsteward.ini"
  dpkg-query -W -f='${Conffiles}' certsteward | grep -Eq '^ /etc/certsteward/certsteward.ini [0-9a-f]{32}$' ||
    fail "not a conffile: $(dpkg-query -W -f='${Conffiles}' certsteward)"
  # the state and drop folders, root-only (postinst)
  expect_file /var/lib/certsteward 700
  expect_file /var/lib/certsteward/drop 700
  # the unit: as in installer/, valid, hardened
  expect_file "$UNIT" 644
  cmp -s "$UNIT" "$SRC/installer/certsteward.service" || fail "the installed unit is not installer/certsteward.service"
  systemd-analyze verify "$UNIT" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "systemd-analyze verify"; }
  [ ! -s "$T/verify.out" ] || { cat "$T/verify.out"; fail "systemd-analyze verify has something to say"; }
  grep -qx 'ExecStart=/usr/bin/certsteward run' "$UNIT" || fail "ExecStart"
  grep -qx 'CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE' "$UNIT" || fail "CapabilityBoundingSet"
  # exposure 2.4 (of 10) when written; --threshold is on a 0-100 scale: fail above 3.0
  systemd-analyze security --offline=yes --threshold=30 "$UNIT" >"$T/security.out" 2>&1 ||
    { tail -3 "$T/security.out"; fail "systemd-analyze security: exposure above 3.0"; }
  # neither enabled nor started on a first install
  [ -z "$(find /etc/systemd/system -name 'certsteward.service*')" ] || fail "the unit was enabled (or masked) on install"
}

test_installed_programs_read_shipped_config() {
  install_pkg
  # config: reads /etc/certsteward/certsteward.ini by default; the shipped one is valid
  (cd / && /usr/bin/certsteward config) >"$T/config.out" 2>"$T/config.err" ||
    { cat "$T/config.err"; fail "certsteward config"; }
  grep -q "configuration /etc/certsteward/certsteward.ini is valid" "$T/config.err" || fail "config read: $(cat "$T/config.err")"
  grep -qx 'state_dir = /var/lib/certsteward' "$T/config.out" || fail "state_dir: $(cat "$T/config.out")"
  # check: certsteward hands over to the certsteward-worker next to it, /usr/bin
  /usr/bin/certsteward check --host "$HOST" --ca "$PKI/ca-chain.pem" --password-file "$PKI/pass.txt" \
    "$PKI/good-aes.pfx" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "certsteward check of a good PFX"; }
  grep -q "good-aes.pfx: accepted" "$T/check.out" || fail "check: $(cat "$T/check.out")"
  local st=0
  /usr/bin/certsteward check --host "$HOST" --ca "$PKI/ca-chain.pem" "$PKI/bad-eku.pem" >"$T/bad.out" 2>&1 || st=$?
  expect_eq "$st" 1 "check of a certificate without serverAuth"
  grep -q '\[FAILED\] eku' "$T/bad.out" || fail "check: $(cat "$T/bad.out")"
  # the daemon, once, on the shipped configuration: the folders postinst made are
  # fine (no 1004 unsafe drop folder), nothing in service is reported, it exits 0
  timeout 30 /usr/bin/certsteward run --once >"$T/once.out" 2>&1 || { cat "$T/once.out"; fail "certsteward run --once"; }
  local ids; ids=$(jq -r .id /var/lib/certsteward/events.jsonl | tr '\n' ' ')
  grep -qw 1000 <<<"$ids" || fail "no service-started event: $ids"
  ! grep -qw 1004 <<<"$ids" || fail "the drop folder made by postinst is reported unsafe: $ids"
  expect_file /var/lib/certsteward/events.jsonl 600
}

test_reinstall_keeps_edited_config() {
  install_pkg
  echo "; edited by the admin" >>/etc/certsteward/certsteward.ini
  chmod 640 /etc/certsteward/certsteward.ini
  dpkg -i "$DEB" </dev/null >"$T/again.out" 2>&1 || { cat "$T/again.out"; fail "dpkg -i over itself"; }
  grep -q '^; edited by the admin$' /etc/certsteward/certsteward.ini || fail "the admin's edit was lost"
  expect_file /etc/certsteward/certsteward.ini 640
  ! grep -q 'dpkg-dist\|dpkg-new' <(ls /etc/certsteward) || fail "dpkg left a new copy: $(ls /etc/certsteward)"
}

test_remove_keeps_config_and_state_purge_removes_all() {
  install_pkg
  # what an admin adds: a password file, a drop-in, the unit enabled; what the daemon keeps
  install -m 600 "$PKI/pass.txt" /etc/certsteward/pfx.pass
  echo "; edited" >>/etc/certsteward/certsteward.ini
  mkdir -p /etc/systemd/system/certsteward.service.d
  printf '[Service]\nReadWritePaths=/etc/ssl/board\n' >/etc/systemd/system/certsteward.service.d/override.conf
  systemctl enable certsteward.service >"$T/enable.out" 2>&1 || { cat "$T/enable.out"; fail "systemctl enable"; }
  [ -L /etc/systemd/system/multi-user.target.wants/certsteward.service ] || fail "systemctl enable made no link"
  mkdir -m 700 /var/lib/certsteward/archive
  cp "$PKI/current-ok.pem" /var/lib/certsteward/archive/
  # remove: the programs and the unit go, configuration and state stay
  dpkg -r certsteward </dev/null >"$T/remove.out" 2>&1 || { cat "$T/remove.out"; fail "dpkg -r"; }
  expect_eq "$(pkg_status)" "deinstall ok config-files" "package state after dpkg -r"
  [ ! -e /usr/bin/certsteward ] && [ ! -e /usr/bin/certsteward-worker ] && [ ! -e "$UNIT" ] ||
    fail "dpkg -r left programs or the unit"
  grep -q '^; edited$' /etc/certsteward/certsteward.ini || fail "dpkg -r lost the configuration"
  [ -f /etc/certsteward/pfx.pass ] && [ -f /var/lib/certsteward/archive/current-ok.pem ] &&
    [ -f /etc/systemd/system/certsteward.service.d/override.conf ] || fail "dpkg -r removed configuration or state"
  # purge: nothing left, dpkg's own records and systemd's links included
  purge || fail "dpkg --purge"
  not_installed || fail "package state after dpkg --purge: $(pkg_status)"
  expect_eq "$(leftovers | tr '\n' ' ')" "" "left after the purge"
  [ ! -e /etc/certsteward ] && [ ! -e /var/lib/certsteward ] || fail "purge left /etc/certsteward or /var/lib/certsteward"
}

run_test "$@"
