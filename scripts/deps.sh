#!/usr/bin/env bash
# Installs the Debian 12 packages certsteward needs to build and test, when missing.
# Run as root (or with sudo available). Idempotent; does nothing when all are there.
set -euo pipefail

PKGS=(gcc make cmake pkgconf libssl-dev libuv1-dev libinih-dev libcjson-dev openssl)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "[deps] installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -qq -o DPkg::Lock::Timeout=600 update
$SUDO apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" >/dev/null
