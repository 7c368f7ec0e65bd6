#!/usr/bin/env bash
# Every Debian 12 package certsteward's scripts and tests need, in one place, by purpose:
#
#   bash scripts/deps.sh [GROUP...]       install what is missing (default: build); idempotent
#   bash scripts/deps.sh --packages GROUP print the group's packages, one a line
#   bash scripts/deps.sh --tools GROUP    print "COMMAND PACKAGE" for every program outside
#                                         Debian's essential and required set that the group's
#                                         scripts and tests run
#
# Groups (the scripts that install each):
#   build  build, native tests, demo, fuzzing      scripts/test.sh, demo.sh, fuzz.sh, bench.sh, format.sh
#   mingw  the Windows cross-toolchain             scripts/win-deps.sh
#   wine   the Windows tests under Wine            scripts/win-build.sh
#   msi    the MSI and its signatures              scripts/win-msi.sh, win-sign.sh
#   bench  the benchmark's comparison and tracing  scripts/bench.sh
# tests/integration/deps.sh checks that every command these scripts run is on this list (or
# part of every Debian system) and on PATH once installed, and that the README lists them.
# Run as root (or with sudo available).
set -euo pipefail

# build: compilers (clang with libFuzzer for the fuzz targets), CMake, OpenSSL 3, libuv, inih,
# libacl; tests: cJSON (reads --json back), nginx (the TLS service of the renewal tests),
# openssl, jq, prometheus (promtool checks the metrics file), acl (getfacl / setfacl check key
# permissions), procps (pgrep, ps), python3 (hostile.sh, secrets.sh: inotify, a syslog
# listener), shfmt (parses the scripts for the check of this list), git; the package:
# dpkg-dev and file (CPack's dependency computation), systemd (systemd-analyze verify);
# valgrind runs the daemon's renewal test once; libtsan2 is gcc's ThreadSanitizer runtime
# (the TSan build; gcc pulls it in today, named so that it stays); clang-format
# (scripts/format.sh).
PKGS_build="gcc clang libclang-rt-14-dev make cmake pkgconf binutils libssl-dev libuv1-dev libinih-dev libacl1-dev
  libcjson-dev openssl acl nginx jq prometheus procps python3 shfmt git dpkg-dev file systemd valgrind libtsan2
  clang-format"
PKGS_mingw="gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64 cmake make perl pkgconf patch xz-utils"
# wine: and gcc with libssl-dev for the native programs the Windows tests compare with;
# softhsm2 and OpenSSL's pkcs11 engine: the token that signs in tests/integration/win_sign.sh
PKGS_wine="wine wine64 gcc libssl-dev pkgconf libuv1-dev libinih-dev libacl1-dev jq openssl softhsm2
  libengine-pkcs11-openssl"
PKGS_msi="wixl msitools osslsigncode"
PKGS_bench="certmonger strace"

# The programs run by name (or through a variable, as $NGINX, wine) and their packages.
TOOLS_build="cc:gcc gcc:gcc clang:clang make:make cmake:cmake ctest:cmake cpack:cmake pkg-config:pkgconf
  nm:binutils openssl:openssl getfacl:acl setfacl:acl nginx:nginx jq:jq promtool:prometheus pgrep:procps
  ps:procps top:procps python3:python3 shfmt:shfmt git:git dpkg-shlibdeps:dpkg-dev file:file
  systemd-analyze:systemd systemd-detect-virt:systemd systemctl:systemd valgrind:valgrind
  clang-format:clang-format"
TOOLS_mingw="x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64-win32 x86_64-w64-mingw32-ar:binutils-mingw-w64-x86-64
  x86_64-w64-mingw32-objdump:binutils-mingw-w64-x86-64 x86_64-w64-mingw32-strip:binutils-mingw-w64-x86-64
  x86_64-w64-mingw32-windres:binutils-mingw-w64-x86-64 x86_64-w64-mingw32-windmc:binutils-mingw-w64-x86-64
  cmake:cmake ctest:cmake make:make patch:patch xz:xz-utils pkg-config:pkgconf"
TOOLS_wine="wine:wine wineserver:wine gcc:gcc cc:gcc jq:jq openssl:openssl softhsm2-util:softhsm2"
TOOLS_msi="wixl:wixl msibuild:msitools msiinfo:msitools msiextract:msitools osslsigncode:osslsigncode"
TOOLS_bench="getcert:certmonger certmonger:certmonger strace:strace"

GROUPS_ALL="build mingw wine msi bench"

group_ok() { [[ " $GROUPS_ALL " == *" $1 "* ]] || { echo "deps.sh: no group '$1' (groups: $GROUPS_ALL)" >&2; exit 2; }; }

case "${1:-}" in
--packages)
  group_ok "${2:-}"; v="PKGS_$2"; tr -s ' \n' '\n' <<<"${!v}" | sed '/^$/d'; exit 0 ;;
--tools)
  group_ok "${2:-}"; v="TOOLS_$2"; tr -s ' \n' '\n' <<<"${!v}" | sed '/^$/d' | tr ':' ' '; exit 0 ;;
-h|--help)
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

[ $# -gt 0 ] || set -- build
want=()
for g in "$@"; do
  group_ok "$g"
  v="PKGS_$g"
  read -r -a pk <<<"$(tr -s ' \n' ' ' <<<"${!v}")"
  want+=("${pk[@]}")
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "[deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Installing nginx, prometheus or certmonger must not start a server: the tests and the
# benchmark start their own on 127.0.0.1. A policy-rc.d that says "no" does that; one
# already there is kept.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  made_policy=1
fi
cleanup() { [ -z "$made_policy" ] || $SUDO rm -f "$policy"; }
trap cleanup EXIT
$SUDO apt-get -qq -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 update
$SUDO apt-get -qq -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 install -y --no-install-recommends \
  "${missing[@]}" >/dev/null
