#!/usr/bin/env bash
# The Windows build's dependencies: OpenSSL 3.0, libuv and inih (and cJSON, which only the
# tests use), cross-built as static libraries for x86_64-w64-mingw32 from Debian 12's own
# source packages. Prints the prefix they are installed in; its toolchain file is
# <prefix>/toolchain-mingw64.cmake (give it to CMake as CMAKE_TOOLCHAIN_FILE).
#
#   bash scripts/win-deps.sh            # -> ~/.cache/certsteward/win64-deps-<key>
#
# Cached under ${XDG_CACHE_HOME:-$HOME/.cache}/certsteward, keyed by the upstream tarballs
# (name and SHA-256, as the signed Debian Sources index lists them), the build options, the
# compiler and CMake versions and this script itself; a key without a complete prefix is
# built again. The tarballs are kept there too (src/), so a cached run downloads nothing.
# Installs what it needs with apt (mingw-w64 win32 toolchain, cmake, perl, pkgconf, patch) and adds
# deb-src entries for the mirror this machine already uses. Debian 12 (bookworm), as root or
# with sudo. Debian's patch series is applied where it carries security fixes (PATCHED
# below); VERSIONS in the prefix says what was built.
set -euo pipefail

log() { printf '[win-deps] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/certsteward
JOBS=$(nproc 2>/dev/null || echo 2)
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
APT=(apt-get -qq -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
SRC_FILE=/etc/apt/sources.list.d/certsteward-deb-src.sources
export DEBIAN_FRONTEND=noninteractive

# ---- what is built, and how (all of it goes into the cache key) ------------------------
# Source packages, tried in order: a suite rather than an exact version, since exact
# versions leave the archive at point releases. bookworm's libinih tarball is not served by
# every mirror; trixie's builds the same way.
# (read through ${!specs}, which shellcheck does not follow)
# shellcheck disable=SC2034
SPECS_openssl="openssl/bookworm-security openssl/bookworm"
# shellcheck disable=SC2034
SPECS_libuv="libuv1/bookworm-security libuv1/bookworm"
# shellcheck disable=SC2034
SPECS_inih="libinih/bookworm libinih/trixie"
# shellcheck disable=SC2034
SPECS_cjson="cjson/bookworm-security cjson/bookworm"
DEPS=(openssl libuv inih cjson)
# Whose Debian patch series is applied (and so must be served with the tarball):
#  - libuv1 and cjson: Debian's security fixes are patches (libuv1 CVE-2024-24806, cjson's
#    NULL checks and CVE-2025-57052);
#  - not openssl: its security fixes are upstream releases, Debian's patches are packaging;
#  - not libinih: Debian's patches turn inih's compile-time options into run-time globals,
#    which upstream inih (vcpkg's, MSVC builds) does not have. The Windows build keeps to
#    upstream, so that it tests common/config.c's compile-time path (Linux tests the other).
PATCHED="libuv cjson"
# OpenSSL: static, no DLL loading at all (no-dso, no-module: the legacy provider, which
# old RC2-40 / 3DES PFX files need, is compiled into libcrypto), no engines, no
# compression, and no configuration file read behind the program's back.
OSSL_OPTS="no-shared no-tests no-module no-dso no-engine no-comp no-autoload-config no-makedepend"
# The folders OpenSSL names in the library (OPENSSLDIR for openssl.cnf and the default trust
# paths, ENGINESDIR, MODULESDIR): certsteward reads none of them on Windows (no configuration
# is loaded, the machine's chain engine decides trust, nothing is loaded dynamically), and
# they name the product's own folder under Program Files, not this machine's build prefix:
# a build path such as ~/.cache/certsteward/... would be a folder under C:\ on a server, which any
# user may create. The headers and libraries are copied into the prefix by hand (below).
# (--openssldir relative to --prefix: Configure on Linux does not see "C:/" as absolute.)
OSSL_DIRS=(--prefix="C:/Program Files/certsteward/openssl" --openssldir=ssl)
# inih: a heap line buffer of exactly 8192 bytes of content (+ CR, LF, NUL), never grown, so
# common/config.c's 8,192-byte line limit holds as with Debian's run-time-configured inih
# (config.c reads lines itself and refuses longer ones; see its comments).
INIH_DEFS="-DINI_MAX_LINE=8195 -DINI_USE_STACK=0 -DINI_INITIAL_ALLOC=8195 -DINI_ALLOW_REALLOC=0"
CJSON_DEFS="-DCJSON_HIDE_SYMBOLS"   # static: no dllexport in the executables
CFLAGS_DEPS="-O2 -g0"

# One run per machine at a time (apt, the cache); a second caller waits, then finds the cache.
mkdir -p "$CACHE/src"
exec 9>"$CACHE/.lock"
flock 9

# ---- 1. the toolchain ---------------------------------------------------------------------
bash "$(dirname "$0")/deps.sh" mingw # the mingw-w64 win32 toolchain, cmake, perl, patch, xz
CC=x86_64-w64-mingw32-gcc-win32
command -v "$CC" >/dev/null || CC=x86_64-w64-mingw32-gcc
command -v "$CC" >/dev/null || die "no x86_64-w64-mingw32 C compiler after installing it"

# ---- 2. deb-src entries for the mirror apt already uses -----------------------------------
# uri_of SUITE: the URI of this machine's binary entry for SUITE (deb822 files, then the
# one-line format).
uri_of() {
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    case $f in
      *.sources)
        awk -v s="$suite" '
          /^[ \t]*$/ { if (ok && deb && uri != "") { print uri; exit } ok = deb = 0; uri = "" ; next }
          tolower($1) == "types:"  { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
          tolower($1) == "uris:"   { uri = $2 }
          tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
          tolower($1) == "enabled:" && tolower($2) == "no" { deb = 0 }
          END { if (ok && deb && uri != "") print uri }' "$f" ;;
      *)
        sed -E 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2 }' ;;
    esac
  done | head -n1
}
if [ ! -f "$SRC_FILE" ]; then
  main_uri=$(uri_of bookworm); sec_uri=$(uri_of bookworm-security)
  [ -n "$main_uri" ] || die "this machine's apt has no entry for bookworm (Debian 12) to take sources from"
  log "adding deb-src entries ($main_uri${sec_uri:+, $sec_uri}) in $SRC_FILE"
  {
    echo "# Added by certsteward's scripts/win-deps.sh: Debian source packages to cross-build from."
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates trixie\nComponents: main\n' "$main_uri"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [ -n "$sec_uri" ]; then
      printf '\nTypes: deb-src\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$sec_uri"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } | $SUDO tee "$SRC_FILE.new" >/dev/null
  $SUDO mv "$SRC_FILE.new" "$SRC_FILE"
  $SUDO "${APT[@]}" update
elif [ -z "$(apt-cache showsrc openssl 2>/dev/null | head -n1)" ]; then
  $SUDO "${APT[@]}" update   # entries there, but the index files are gone
fi

# ---- 3. the upstream tarballs, verified against the signed Sources index ------------------
find "$CACHE/src" -name '*.unavailable' -mmin +1440 -delete   # asked again after a day

WORK=$(mktemp -d); chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# files_of SPEC -> "NAME SHA256" per file of SPEC's source package, from apt's signed index
# (no download)
files_of() {
  apt-get source --print-uris -qq "$1" 2>/dev/null |
    awk '{ for (i = 4; i <= NF; i++) if ($i ~ /^SHA256:/) print $2, substr($i, 8) }'
}
# have "NAME SHA256": the file is in the cache and is that file
have() {
  local n=${1%% *} s=${1##* }
  [ -f "$CACHE/src/$n" ] && [ "$(sha256sum <"$CACHE/src/$n" | cut -c1-64)" = "$s" ]
}
# fetch DEP: sets ORIG_<dep> ("name sha256" of the upstream tarball) and DEBIAN_<dep> (of
# the Debian part, for a dep in PATCHED; else empty) from the first of the dep's specs whose
# files are in the cache or download now. A spec the mirror did not fully serve is
# remembered for a day (src/<spec>.<dsc>.unavailable), so a cached run asks the network
# nothing.
fetch() {
  local dep=$1 specs spec files orig deb mark d f
  specs=SPECS_$dep
  for spec in ${!specs}; do
    files=$(files_of "$spec")
    orig=$(awk '$1 ~ /\.orig\.tar\.[a-z0-9]+$/ { print; exit }' <<<"$files")
    deb=
    case " $PATCHED " in *" $dep "*) deb=$(awk '$1 ~ /\.debian\.tar\.[a-z0-9]+$/ { print; exit }' <<<"$files") ;; esac
    [ -n "$orig" ] || continue
    case " $PATCHED " in *" $dep "*) [ -n "$deb" ] || continue ;; esac
    mark=$CACHE/src/${spec//\//_}.$(awk '$1 ~ /\.dsc$/ { print $1; exit }' <<<"$files").unavailable
    if ! have "$orig" || { [ -n "$deb" ] && ! have "$deb"; }; then
      [ ! -f "$mark" ] || continue
      log "downloading $spec"
      d=$(mktemp -d "$WORK/dl.XXXXXX"); chmod 777 "$d"   # apt's _apt user writes here
      # A 404 for the .dsc need not matter: what is used is checked against the index.
      (cd "$d" && apt-get source --download-only -qq "$spec" >"$d.log" 2>&1) || true
      for f in "$orig" "$deb"; do
        [ -n "$f" ] && [ -f "$d/${f%% *}" ] && mv "$d/${f%% *}" "$CACHE/src/" && { have "$f" || rm -f "$CACHE/src/${f%% *}"; }
      done
      if ! have "$orig" || { [ -n "$deb" ] && ! have "$deb"; }; then
        log "$spec: not served: $(grep -m1 '^E:' "$d.log" || echo 'checksum mismatch')"
        : >"$mark"
        continue
      fi
    fi
    printf -v "ORIG_$dep" '%s' "$orig"
    printf -v "DEBIAN_$dep" '%s' "$deb"
    return 0
  done
  log "no complete source package for $dep (tried: ${!specs})"
  return 1
}
fetch_all() {
  local dep
  for dep in "${DEPS[@]}"; do fetch "$dep" || return 1; done
}
if ! fetch_all; then
  # apt's index may name versions the mirror no longer has: once more with a fresh one
  log "updating apt's index and trying again"
  $SUDO "${APT[@]}" update
  fetch_all || die "the Debian source packages cannot be had from this machine's mirror"
fi

# ---- 4. the cache key, and a cache hit -----------------------------------------------------
KEY_TEXT=$(
  for dep in "${DEPS[@]}"; do o=ORIG_$dep; p=DEBIAN_$dep; echo "$dep ${!o} ${!p:-unpatched}"; done
  echo "openssl: $OSSL_OPTS"; echo "inih: $INIH_DEFS"; echo "cjson: $CJSON_DEFS"; echo "cflags: $CFLAGS_DEPS"
  "$CC" --version | head -n1; cmake --version | head -n1
  sha256sum <"$0" | cut -c1-64)
KEY=$(printf '%s\n' "$KEY_TEXT" | sha256sum | cut -c1-16)
PREFIX=$CACHE/win64-deps-$KEY
TC=$PREFIX/toolchain-mingw64.cmake
if [ -f "$PREFIX/.complete" ]; then
  log "cached: $PREFIX"
  echo "$PREFIX"
  exit 0
fi
log "building into $PREFIX"
# Source file names (assert, OpenSSL's error records) relative to the unpacked sources, so
# that no path of this machine ends up in the executables (not part of the key: $WORK varies).
CFLAGS_BUILD="$CFLAGS_DEPS -ffile-prefix-map=$WORK/="
rm -rf "$PREFIX"
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
printf '%s\n' "$KEY_TEXT" >"$PREFIX/KEY.txt"

# ---- 5. the toolchain file (also what builds libuv here) ------------------------------------
# Everything is found in the prefix and the mingw-w64 sysroot only, never on the build
# machine; pkg-config looks only at the prefix. -static: no libgcc / libwinpthread DLLs.
cat >"$TC" <<EOF
# Written by certsteward's scripts/win-deps.sh: x86-64 Windows with mingw-w64, dependencies in
# $PREFIX (static).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER $CC)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH "$PREFIX" /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(OPENSSL_ROOT_DIR "$PREFIX")
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(ENV{PKG_CONFIG_LIBDIR} "$PREFIX/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
EOF

# unpack DEP: the upstream tarball, then Debian's patch series over it when there is one
unpack() {
  local dep=$1 o=ORIG_$1 p=DEBIAN_$1 dir=$WORK/$1 name opt
  mkdir -p "$dir"
  tar -xf "$CACHE/src/${!o%% *}" -C "$dir" --strip-components=1
  [ -n "${!p}" ] || return 0
  tar -xf "$CACHE/src/${!p%% *}" -C "$dir"
  [ -f "$dir/debian/patches/series" ] || return 0
  while read -r name opt; do
    case $name in ''|'#'*) continue ;; esac
    patch -d "$dir" ${opt:--p1} -s -f --no-backup-if-mismatch <"$dir/debian/patches/$name" ||
      die "$dep: Debian's patch $name does not apply"
  done <"$dir/debian/patches/series"
}
for dep in "${DEPS[@]}"; do unpack "$dep"; done
ver() { local v=ORIG_$1; v=${!v%% *}; v=${v#*_}; echo "${v%.orig.tar.*}"; }

# ---- 6. OpenSSL (the long one: 1.5 to 4 minutes on 2 cores) ---------------------------------
t0=$SECONDS
log "OpenSSL $(ver openssl)"
# Built in its source folder: the compiler then sees relative file names (OpenSSL records
# them in its errors, and its compiler flags in OpenSSL_version), so no path of this machine
# ends up in the library.
(cd "$WORK/openssl" &&
  CFLAGS="$CFLAGS_DEPS" perl ./Configure mingw64 $OSSL_OPTS \
    --cross-compile-prefix=x86_64-w64-mingw32- "${OSSL_DIRS[@]}" --libdir=lib &&
  make -j"$JOBS" build_libs) >"$WORK/openssl.log" 2>&1 ||
  { tail -n 40 "$WORK/openssl.log" >&2; die "OpenSSL build failed"; }
# install_dev would copy into the Windows prefix above: the headers (source and generated)
# and the static libraries are what the build needs.
mkdir -p "$PREFIX/include/openssl" "$PREFIX/lib"
install -m644 "$WORK/openssl/include/openssl/"*.h "$PREFIX/include/openssl/"
install -m644 "$WORK/openssl/libcrypto.a" "$WORK/openssl/libssl.a" "$PREFIX/lib/"
for p in "$PREFIX" "$WORK" "$HOME"; do
  [ "${#p}" -gt 1 ] || continue
  if grep -qaF "$p" "$PREFIX/lib/libcrypto.a" "$PREFIX/lib/libssl.a"; then die "OpenSSL's libraries name $p"; fi
done
log "OpenSSL: $((SECONDS - t0)) s"

# ---- 7. libuv: its CMake build, then only the static library and the headers --------------
t0=$SECONDS
log "libuv $(ver libuv)"
(cmake -S "$WORK/libuv" -B "$WORK/b-uv" -DCMAKE_TOOLCHAIN_FILE="$TC" -DCMAKE_BUILD_TYPE=Release \
   -DCMAKE_C_FLAGS_RELEASE="$CFLAGS_BUILD -DNDEBUG" -DBUILD_TESTING=OFF -DLIBUV_BUILD_TESTS=OFF \
   -DLIBUV_BUILD_BENCH=OFF &&
 cmake --build "$WORK/b-uv" -j"$JOBS" --target uv_a) >"$WORK/uv.log" 2>&1 ||
  { tail -n 40 "$WORK/uv.log" >&2; die "libuv build failed"; }
uv_lib=$(find "$WORK/b-uv" -maxdepth 1 -name 'lib*.a' ! -name '*.dll.a' | head -n1)
[ -n "$uv_lib" ] || die "libuv: no static library built"
# Installed as libuv.a with no import library beside it, so "-luv" can only mean static.
install -m644 "$uv_lib" "$PREFIX/lib/libuv.a"
cp -R "$WORK/libuv/include/." "$PREFIX/include/"
# The Windows libraries libuv's own CMakeLists links (uv_libraries), as a static user needs them.
uv_syslibs=$(awk '/^if\(WIN32\)/ { w = 1 } w && /^else\(\)/ { exit }
  w && /list\(APPEND uv_libraries/ { c = 1; sub(/.*uv_libraries/, "") }
  c { s = $0; e = sub(/\).*/, "", s); printf "%s ", s; if (e) c = 0 }' "$WORK/libuv/CMakeLists.txt" | xargs)
[ -n "$uv_syslibs" ] || die "libuv: cannot read its Windows libraries from its CMakeLists.txt"
cat >"$PREFIX/lib/pkgconfig/libuv.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: libuv
Description: multi-platform support library with a focus on asynchronous I/O (static)
Version: $(ver libuv)
Libs: -L\${libdir} -luv $(printf -- '-l%s ' $uv_syslibs)
Cflags: -I\${includedir}
EOF
log "libuv: $((SECONDS - t0)) s"

# ---- 8. inih and cJSON: one C file each -------------------------------------------------
log "inih $(ver inih), cJSON $(ver cjson)"
"$CC" $CFLAGS_BUILD -Wall $INIH_DEFS -c "$WORK/inih/ini.c" -o "$WORK/ini.o"
x86_64-w64-mingw32-ar rcs "$PREFIX/lib/libinih.a" "$WORK/ini.o"
install -m644 "$WORK/inih/ini.h" "$PREFIX/include/ini.h"
cat >"$PREFIX/lib/pkgconfig/inih.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: inih
Description: simple .INI file parser (static; built with $INIH_DEFS)
Version: $(ver inih)
Libs: -L\${libdir} -linih
Cflags: -I\${includedir}
EOF
"$CC" $CFLAGS_BUILD -std=c89 $CJSON_DEFS -c "$WORK/cjson/cJSON.c" -o "$WORK/cJSON.o"
x86_64-w64-mingw32-ar rcs "$PREFIX/lib/libcjson.a" "$WORK/cJSON.o"
install -D -m644 "$WORK/cjson/cJSON.h" "$PREFIX/include/cjson/cJSON.h"
cat >"$PREFIX/lib/pkgconfig/libcjson.pc" <<EOF
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: libcjson
Description: ultralightweight JSON parser in ANSI C (static)
Version: $(ver cjson)
Libs: -L\${libdir} -lcjson
Cflags: -I\${includedir} $CJSON_DEFS
EOF

for dep in "${DEPS[@]}"; do o=ORIG_$dep; p=DEBIAN_$dep; echo "${!o%% *} ${!p:-(no Debian patches)}"; done |
  sed -E 's/ ([^ ]+) [0-9a-f]{64}$/ + \1/' >"$PREFIX/VERSIONS"
touch "$PREFIX/.complete"
# Older prefixes (another key) beyond the three newest go.
ls -1dt "$CACHE"/win64-deps-* 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
log "done: $PREFIX"
echo "$PREFIX"
