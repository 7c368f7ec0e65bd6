#!/usr/bin/env bash
# The Windows build: x86-64 executables with mingw-w64 into build/win64, linked statically
# against OpenSSL 3, libuv and inih as scripts/win-deps.sh cross-builds them (cached), then
# checked to import nothing but Windows system DLLs, then the tests that can run under
# Wine run there through CTest.
#
#   bash scripts/win-build.sh              # build, check imports, test under Wine
#   CS_WIN_TESTS=0 bash scripts/win-build.sh   # build and check only (no Wine needed)
#   CS_WIN_BUILD_DIR=build/w2 bash scripts/win-build.sh   # another build folder (default build/win64)
#   bash scripts/win-build.sh -R store        # extra arguments go to ctest (here: tests matching "store")
#   bash scripts/win-build.sh --analyze       # only GCC's static analyzer (-fanalyzer) over the
#                                             # product's code, into build/win64-analyzer: no tests
#   CS_SIGN_PFX=codesign.pfx CS_SIGN_PASSWORD_FILE=codesign.pass bash scripts/win-build.sh
#       # the executables and the MSI signed (scripts/win-sign.sh: the variables); without a
#       # certificate they are built unsigned and the build says so
#
# Debian 12, as root or with sudo; installs what is missing (mingw-w64, Wine, and gcc with
# libssl-dev for the native cs-testpki that writes the test PKI).
#
# Built: certsteward.exe, certsteward-worker.exe, the test programs (unit tests,
# cs-testpki.exe, cs-testsvc.exe, cs-certtool.exe); natively, certsteward for the tests
# that compare both builds' answers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${CS_WIN_BUILD_DIR:-build/win64}
JOBS=$(nproc 2>/dev/null || echo 2)
TESTS=${CS_WIN_TESTS:-1}
ANALYZE=0
if [ "${1:-}" = --analyze ]; then ANALYZE=1; shift; fi
export DEBIAN_FRONTEND=noninteractive
# OpenSSL's variables of this machine reach every Wine process; a Windows server has none, so
# the tests run without them (they would hide a trust or configuration read from the wrong
# place). win_trust.sh sets them on purpose, inside Windows, to prove they are ignored.
OSSL_ENV="SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF OPENSSL_MODULES OPENSSL_ENGINES OPENSSL_CONF_INCLUDE"
# shellcheck disable=SC2086
unset $OSSL_ENV

log() { printf '[win-build] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- packages --------------------------------------------------------------------------
# (scripts/deps.sh: "wine", Wine and the native pieces the tests compare with; win-deps.sh
# installs the cross-toolchain, win-msi.sh wixl)
[ "$TESTS" = 0 ] || [ "$ANALYZE" = 1 ] || bash scripts/deps.sh wine

# ---- dependencies and toolchain (cached) ---------------------------------------------------
PREFIX=$(bash scripts/win-deps.sh)
TC=$PREFIX/toolchain-mingw64.cmake
[ -f "$TC" ] || die "scripts/win-deps.sh gave no toolchain file ($TC)"

# ---- the analyzer build: -fanalyzer on common/ and service/ (common/win/ and the Windows
# service files included, which the native build/analyzer never compiles), its findings
# errors; the product's targets only, nothing run, no tests, no Wine ------------------------
if [ "$ANALYZE" = 1 ]; then
  B=${CS_WIN_BUILD_DIR:-build/win64-analyzer}
  [ ! -f "$B/CMakeCache.txt" ] || grep -qxF "CMAKE_TOOLCHAIN_FILE:FILEPATH=$TC" "$B/CMakeCache.txt" ||
    grep -qxF "CMAKE_TOOLCHAIN_FILE:UNINITIALIZED=$TC" "$B/CMakeCache.txt" || rm -rf "$B/CMakeCache.txt" "$B/CMakeFiles"
  t0=$SECONDS
  cmake -S . -B "$B" -DCMAKE_TOOLCHAIN_FILE="$TC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_WERROR=ON \
    -DCS_ANALYZER=ON -DCS_BUILD_TESTS=OFF >/dev/null
  cmake --build "$B" -j"$JOBS" >/dev/null
  log "analyzer build in $((SECONDS - t0)) s"
  exit 0
fi

# ---- the Wine runner CTest uses for every Windows executable --------------------------
# Debian's wine64 comes without Wine's preloader: with the address space randomised, a
# Wine process now and then cannot start ("failed to map the shared user data: c0000018",
# exit status 1, no output; measured: 2 suites in 6 on 2 busy cores). setarch -R turns the
# randomisation off for Wine and what it starts (0 in 10 suites on the same load).
mkdir -p "$B"
WINEPREFIX_DIR=$ROOT/$B/wineprefix
NORAND=
if setarch "$(uname -m)" -R true 2>/dev/null; then NORAND="setarch $(uname -m) -R"; fi
cat >"$B/wine-run.new" <<EOF
#!/bin/sh
# Runs a Windows program under Wine in certsteward's private prefix (scripts/win-build.sh).
export WINEPREFIX="$WINEPREFIX_DIR" WINEARCH=win64 WINEDEBUG=-all WINELOADER=/usr/lib/wine/wine64
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY $OSSL_ENV
exec $NORAND /usr/lib/wine/wine64 "\$@"
EOF
chmod 755 "$B/wine-run.new"
mv "$B/wine-run.new" "$B/wine-run"

# ---- configure: a new deps prefix means a new toolchain, which needs a new cache -------
if [ -f "$B/CMakeCache.txt" ] && ! grep -qxF "CMAKE_TOOLCHAIN_FILE:FILEPATH=$TC" "$B/CMakeCache.txt" &&
   ! grep -qxF "CMAKE_TOOLCHAIN_FILE:UNINITIALIZED=$TC" "$B/CMakeCache.txt"; then
  log "dependencies changed: configuring $B from scratch"
  rm -rf "$B/CMakeCache.txt" "$B/CMakeFiles"
fi
t0=$SECONDS
cmake -S . -B "$B" -DCMAKE_TOOLCHAIN_FILE="$TC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_TEST_HOOKS=ON -DCS_WERROR=ON \
  -DCMAKE_CROSSCOMPILING_EMULATOR="$ROOT/$B/wine-run" -DCS_WIN_TEST_PKI_DIR="Z:$ROOT/$B/pki" \
  -DCS_WIN_NATIVE_BIN="$ROOT/$B/native-build/service/certsteward" >/dev/null
cmake --build "$B" -j"$JOBS"
log "built in $((SECONDS - t0)) s"

# ---- only Windows system DLLs ---------------------------------------------------------------
# What any Windows 10 / Server 2016 has in System32; no libcrypto, libuv, libgcc or
# libwinpthread DLL may appear (they would have to be shipped and could be planted).
SYSTEM_DLLS=" advapi32.dll authz.dll bcrypt.dll crypt32.dll dbghelp.dll gdi32.dll iphlpapi.dll kernel32.dll msvcrt.dll"
SYSTEM_DLLS+=" ncrypt.dll ntdll.dll ole32.dll oleaut32.dll psapi.dll secur32.dll shell32.dll user32.dll userenv.dll ws2_32.dll "
bad=0
for exe in $(find "$B" -name '*.exe' -not -path "$B/wineprefix/*" -not -path '*/CMakeFiles/*' | sort); do
  dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name:/ { print tolower($3) }' | sort -u | tr '\n' ' ')
  printf '  %-40s %s\n' "${exe#"$B"/}" "$dlls" >&2
  for d in $dlls; do
    case $SYSTEM_DLLS in *" $d "*) ;; *) log "$exe imports $d, which is not a Windows system DLL"; bad=1 ;; esac
  done
done
[ "$bad" = 0 ] || die "an executable needs a DLL Windows does not have"

# ---- no path of this machine in what is shipped ----------------------------------------------
# A path baked into an executable is a place it may read from on a server (OpenSSL's
# OPENSSLDIR was one); scripts/win-deps.sh and cmake/warnings.cmake keep them out. Checked
# on the executables as the MSI ships them (stripped: the debug information of a build
# names its folders, and is not shipped).
for exe in certsteward certsteward-worker; do
  x86_64-w64-mingw32-strip -o "$B/$exe.shipped.exe" "$B/service/$exe.exe"
  for p in "$ROOT" "$PREFIX" "$HOME"; do
    [ "${#p}" -gt 1 ] || continue
    if grep -qaF "$p" "$B/$exe.shipped.exe"; then die "$exe.exe holds this machine's path $p"; fi
  done
  rm -f "$B/$exe.shipped.exe"
done
CS_WIN_BUILD_DIR="$B" CS_MSI_BUILD=0 bash scripts/win-msi.sh >/dev/null # the MSI, before tests/integration/win_msi.sh

[ "$TESTS" != 0 ] || exit 0

# ---- the test PKI, written by a native cs-testpki ----------------------------------------
mkdir -p "$B/native"
if [ ! -x "$B/native/cs-testpki" ] || [ tests/support/testpki.c -nt "$B/native/cs-testpki" ]; then
  # shellcheck disable=SC2046
  gcc -std=c11 -O2 -o "$B/native/cs-testpki" tests/support/testpki.c $(pkg-config --cflags --libs libcrypto)
fi
rm -rf "$B/pki"
"$B/native/cs-testpki" "$B/pki" >/dev/null

# ---- the native certsteward, for the tests that compare both builds' answers -------------
cmake -S . -B "$B/native-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_BUILD_TESTS=OFF >/dev/null
cmake --build "$B/native-build" -j"$JOBS" --target certsteward certsteward-worker >/dev/null

# ---- Wine: a fresh private prefix (quicker to make than to keep), headless --------------
export WINEPREFIX=$WINEPREFIX_DIR WINEARCH=win64 WINEDEBUG=-all WINELOADER=/usr/lib/wine/wine64
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
stop_wine() { # our prefix's wineserver only; the prefix (700 MB) is made anew each run
  wineserver -k >/dev/null 2>&1 || true
  wineserver -w >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX"
}
trap stop_wine EXIT
t0=$SECONDS
rm -rf "$WINEPREFIX"
# Wine's background processes keep the output they were started with: never a pipe of ours.
{
  $NORAND /usr/lib/wine/wine64 wineboot -i
  wineserver -w
  wineserver -p60   # stays up between test processes (Debian's wrapper would pass -p0)
  $NORAND /usr/lib/wine/wine64 wineboot
} >"$B/wine.log" 2>&1 || { tail -n 20 "$B/wine.log" >&2; die "cannot make a Wine prefix"; }
log "Wine prefix ready in $((SECONDS - t0)) s"

t0=$SECONDS
ctest --test-dir "$B" --output-on-failure -j"$JOBS" --timeout 300 "$@"
log "tests under Wine: $((SECONDS - t0)) s"
