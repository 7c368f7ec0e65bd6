#!/usr/bin/env bash
# Installs the Debian 12 packages certsteward needs to build and test, when missing.
# Run as root (or with sudo available). Idempotent; does nothing when all are there.
set -euo pipefail

# build: compilers (clang with libFuzzer for the fuzz targets), CMake, OpenSSL 3, libuv, inih, libacl
# tests: cJSON (reads --json back), nginx (the TLS service in the renewal tests), openssl, jq,
#        prometheus (its promtool checks the metrics file)
# package: dpkg-dev and file (CPack's dependency computation), systemd (systemd-analyze verify);
# valgrind runs the daemon's renewal test once; python3 (hostile.sh, secrets.sh: inotify, a syslog listener)
PKGS=(gcc clang libclang-rt-14-dev make cmake pkgconf libssl-dev libuv1-dev libinih-dev libacl1-dev libcjson-dev openssl
      nginx jq prometheus dpkg-dev file systemd valgrind python3)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "[deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Installing nginx or prometheus must not start a server: the tests start their own
# on 127.0.0.1. A policy-rc.d that says "no" does that; one already there is kept.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  made_policy=1
fi
cleanup() { [ -z "$made_policy" ] || $SUDO rm -f "$policy"; }
trap cleanup EXIT
$SUDO apt-get -qq -o DPkg::Lock::Timeout=600 update
$SUDO apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >/dev/null
