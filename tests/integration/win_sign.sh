#!/usr/bin/env bash
# The Windows files' signatures and version resources: scripts/win-msi.sh with a code-signing
# certificate (a throwaway CA and leaf made here with openssl, extendedKeyUsage codeSigning)
# signs the executables it packs and the MSI after its last edit, from a PFX or from a key on a
# PKCS#11 token (SoftHSM), and `osslsigncode verify` accepts them against that CA; without a certificate it says "unsigned" and still builds the
# MSI; an incomplete configuration or a signing failure stops it with no MSI; the password is
# read from its file, never on a command line or in the log; a time stamp URL reaches
# osslsigncode (no network here: a closed port on loopback, which must fail the build); both
# executables carry VERSIONINFO with the project's name and version.
#
# Run by CTest in the Windows build (Linux tools only, no Wine), with CS_BUILD_DIR (the build
# folder, its executables built) and CS_SOURCE_DIR, Linux paths. Usage: win_sign.sh TEST_NAME.
#
# What only Windows proves: that WinVerifyTrust, SmartScreen, AppLocker and the UAC prompt
# accept the signature chained to a trusted root (here osslsigncode checks the same
# Authenticode structure and digest against the CA).
set -euo pipefail

BUILD=${CS_BUILD_DIR:?}
SRC=${CS_SOURCE_DIR:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-sign.XXXXXX")
trap 'rm -rf "$T"' EXIT
PASSWORD="pw-$RANDOM$RANDOM-secret"

fail() { echo "FAILED: $*" >&2; exit 1; }
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" | head -n 1; }
VERSION=$(cache CMAKE_PROJECT_VERSION)
# every CS_SIGN_* of the caller's environment out: each test sets its own
unset_sign() { local v; for v in $(compgen -e | grep '^CS_SIGN_' || true); do unset "$v"; done; }
unset_sign

# A CA and a code-signing leaf it issued, the leaf with its key in a PFX under PASSWORD
# (and a second CA that issued nothing, for the negative check).
make_pki() {
  cd "$T"
  local ca
  for ca in ca other; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=certsteward test $ca" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  done
  openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=certsteward test signer" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >leaf.ext
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext -out leaf.pem 2>/dev/null
  printf '%s\n' "$PASSWORD" >pass
  chmod 600 pass
  openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile ca.pem -passout file:pass -out sign.pfx
  cd - >/dev/null
}

# osslsigncode as the scripts find it on PATH: the real one, then one byte in the middle of
# each file it signed changed (what a faulty disk or tool would do): the digest no longer matches
corrupting_osslsigncode() {
  CS_TEST_REAL_OSSLSIGNCODE=$(command -v osslsigncode) || fail "osslsigncode is not installed (scripts/deps.sh msi)"
  export CS_TEST_REAL_OSSLSIGNCODE
  mkdir -p "$T/bin"
  cat >"$T/bin/osslsigncode" <<'EOF'
#!/usr/bin/env bash
"$CS_TEST_REAL_OSSLSIGNCODE" "$@" || exit
[ "$1" = sign ] || exit 0
out=
while [ $# -gt 0 ]; do
  [ "$1" != -out ] || out=$2
  shift
done
at=$(($(stat -c %s "$out") / 2))
b=$(od -An -tu1 -j "$at" -N 1 "$out" | tr -d ' ')
printf "\\x$(printf %02x $(((b + 1) % 256)))" | dd of="$out" bs=1 seek="$at" conv=notrunc status=none
EOF
  chmod 755 "$T/bin/osslsigncode"
  PATH=$T/bin:$PATH
}

# osslsigncode as the scripts find it on PATH, its arguments recorded, then the real one
wrap_osslsigncode() {
  local real
  real=$(command -v osslsigncode) || fail "osslsigncode is not installed (scripts/deps.sh msi)"
  mkdir -p "$T/bin"
  printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec "%s" "$@"\n' "$T/argv" "$real" >"$T/bin/osslsigncode"
  chmod 755 "$T/bin/osslsigncode"
  PATH=$T/bin:$PATH
}

# win-msi.sh (of SOURCE, default the project's) on the build's executables into OUT; its
# standard error in $T/err
msi() { # OUT [SOURCE]
  CS_WIN_BUILD_DIR=$BUILD CS_MSI_BUILD=0 CS_MSI_OUT=$1 bash "${2:-$SRC}/scripts/win-msi.sh" >"$T/out" 2>"$T/err"
}
verify() { osslsigncode verify -CAfile "$2" -in "$1" >"$T/verify.log" 2>&1; }

# The resources of EXE (its VERSIONINFO among them), as windres decompiles them
version_info_of() { x86_64-w64-mingw32-windres -i "$1" -O rc 2>/dev/null | tr -d '\r' || true; }
check_version_info() { # EXE NAME
  local rc
  rc=$(version_info_of "$1")
  grep -q VERSIONINFO <<<"$rc" || fail "$2 has no VERSIONINFO"
  local maj min pat
  IFS=. read -r maj min pat <<<"$VERSION"
  grep -Eq "FILEVERSION +$maj, *$min, *$pat, *0" <<<"$rc" || fail "$2: FILEVERSION is not $VERSION.0"
  grep -Eq "PRODUCTVERSION +$maj, *$min, *$pat, *0" <<<"$rc" || fail "$2: PRODUCTVERSION is not $VERSION.0"
  local kv
  for kv in "ProductName|certsteward" "ProductVersion|$VERSION" "FileVersion|$VERSION.0" "OriginalFilename|$2" \
    "InternalName|${2%.exe}" "CompanyName|certsteward"; do
    grep -Eq "VALUE \"${kv%%|*}\", \"${kv#*|}\"" <<<"$rc" || fail "$2: no ${kv%%|*} \"${kv#*|}\" in its VERSIONINFO"
  done
  grep -Eq 'VALUE "FileDescription", "certsteward [a-z ]+"' <<<"$rc" || fail "$2: no FileDescription"
  grep -Eq 'VALUE "LegalCopyright", ".+"' <<<"$rc" || fail "$2: no LegalCopyright"
  # a build with test hooks says so, as its MSI's name does
  if [ "$(cache CS_TEST_HOOKS)" = ON ]; then
    grep -q 'VALUE "SpecialBuild", "TEST BUILD' <<<"$rc" || fail "$2: a test build without SpecialBuild"
  else
    ! grep -q SpecialBuild <<<"$rc" || fail "$2: a release build marked SpecialBuild"
  fi
}

# The executables as built carry the project's name and version.
test_built_executables_carry_version_info() {
  check_version_info "$BUILD/service/certsteward.exe" certsteward.exe
  check_version_info "$BUILD/service/certsteward-worker.exe" certsteward-worker.exe
  check_version_info "$BUILD/service/certsteward-msi.exe" certsteward-msi.exe
  # the event message table is still there beside it (two resource files in one executable)
  grep -q RT_MESSAGETABLE <<<"$(version_info_of "$BUILD/service/certsteward.exe")" ||
    fail "certsteward.exe lost its message table"
}

# Signed: the MSI and the executables in it verify against the CA, the MSI carries its last
# edits (the secure properties, the File table's versions), the executables their version
# resource; another CA is refused, and
# an edit after signing breaks the MSI's signature (what "sign after every edit" prevents).
test_signed_msi_and_executables_verify() {
  make_pki
  wrap_osslsigncode
  export CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/pass
  msi "$T/signed.msi" || { cat "$T/err" >&2; fail "win-msi.sh failed with a certificate"; }
  grep -q "signing with $T/sign.pfx" "$T/err" || fail "win-msi.sh did not say what signs: $(cat "$T/err")"
  ! grep -q unsigned "$T/err" || fail "win-msi.sh said unsigned with a certificate"
  for f in "$T/err" "$T/out" "$T/argv"; do
    ! grep -qF -- "$PASSWORD" "$f" || fail "the password appears in $(basename "$f")"
  done
  grep -q -- "-readpass $T/pass" "$T/argv" || fail "osslsigncode was not given the password file"
  [ "$(grep -c '^sign ' "$T/argv")" = 4 ] || fail "expected 4 signatures (3 executables, the MSI): $(cat "$T/argv")"

  verify "$T/signed.msi" "$T/ca.pem" || { cat "$T/verify.log" >&2; fail "the MSI's signature does not verify"; }
  ! verify "$T/signed.msi" "$T/other.pem" || fail "the MSI verifies against a CA that did not issue its signer"
  msiinfo export "$T/signed.msi" Property | tr -d '\r' | grep -Eq "^SecureCustomProperties"$'\t'"(.*;)?HOST(;|\$)" ||
    fail "the signed MSI lacks win-msi.sh's last edit (HOST secure)"

  mkdir "$T/x"
  (cd "$T/x" && msiextract "$T/signed.msi" >/dev/null) || fail "msiextract failed"
  local name exe
  for name in certsteward.exe certsteward-worker.exe certsteward-msi.exe; do
    exe=$(find "$T/x" -name "$name" -type f | head -n 1)
    [ -n "$exe" ] || fail "$name is not in the MSI"
    verify "$exe" "$T/ca.pem" || { cat "$T/verify.log" >&2; fail "$name in the MSI does not verify"; }
    check_version_info "$exe" "$name"
    # and the File table says that version, or an upgrade would take them for unversioned
    msiinfo export "$T/signed.msi" File | tr -d '\r' |
      awk -F'\t' -v n="$name" -v v="$VERSION.0" '$3 == n && $5 == v { ok = 1 } END { exit !ok }' ||
      fail "the File table does not give $name the version $VERSION.0"
  done

  # an edit after signing: the signature no longer matches
  cp "$T/signed.msi" "$T/edited.msi"
  msibuild "$T/edited.msi" -q "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('CSEDIT', 'x')" ||
    fail "cannot edit the copy"
  ! verify "$T/edited.msi" "$T/ca.pem" || fail "an MSI edited after signing still verifies"
}

# A key on a token (SoftHSM's PKCS#11 module, the PIN from the password file, read by
# osslsigncode: not on its command line), the certificate and its chain in a file: the MSI
# verifies; a wrong PIN writes no MSI. A PIN in the URI (pin-value=) is refused before
# osslsigncode runs: it would be in osslsigncode's command line, which any local user reads.
test_a_key_on_a_pkcs11_token_signs() {
  make_pki
  wrap_osslsigncode
  local module=/usr/lib/softhsm/libsofthsm2.so
  [ -f "$module" ] || fail "$module is missing (scripts/deps.sh wine installs softhsm2)"
  mkdir "$T/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/tokens" >"$T/softhsm2.conf"
  export SOFTHSM2_CONF=$T/softhsm2.conf
  softhsm2-util --init-token --free --label cs-test --pin 4711 --so-pin 1174 >/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$T/leaf.key" -out "$T/leaf.p8"
  softhsm2-util --import "$T/leaf.p8" --token cs-test --label signer --id 01 --pin 4711 >/dev/null
  cat "$T/leaf.pem" "$T/ca.pem" >"$T/chain.pem"
  printf '4711\n' >"$T/pin"
  export CS_SIGN_PKCS11_MODULE=$module CS_SIGN_PKCS11_KEY='pkcs11:token=cs-test;object=signer;type=private'
  export CS_SIGN_CERT=$T/chain.pem CS_SIGN_PASSWORD_FILE=$T/pin
  msi "$T/token.msi" || { cat "$T/err" >&2; fail "win-msi.sh failed with a PKCS#11 key"; }
  grep -q "signing with the PKCS#11 key" "$T/err" || fail "win-msi.sh did not say what signs: $(cat "$T/err")"
  verify "$T/token.msi" "$T/ca.pem" || { cat "$T/verify.log" >&2; fail "the token-signed MSI does not verify"; }
  grep -q -- "-readpass $T/pin" "$T/argv" || fail "osslsigncode was not given the PIN file: $(cat "$T/argv")"
  ! grep -q 4711 "$T/argv" || fail "the PIN is on osslsigncode's command line"
  printf '1111\n' >"$T/pin"
  msi "$T/badpin.msi" && fail "a wrong PIN signed"
  [ ! -e "$T/badpin.msi" ] || fail "an MSI was written with a wrong PIN"
  # the PIN in the URI instead (alone, or beside a PIN file): refused, nothing run nor built
  printf '4711\n' >"$T/pin"
  : >"$T/argv"
  local pinfile
  for pinfile in "" "$T/pin"; do
    CS_SIGN_PASSWORD_FILE=$pinfile CS_SIGN_PKCS11_KEY="$CS_SIGN_PKCS11_KEY;pin-value=4711" msi "$T/uri.msi" &&
      fail "a PIN in the URI was accepted${pinfile:+ beside a PIN file}"
    grep -q "pin-value=.*CS_SIGN_PASSWORD_FILE" "$T/err" || fail "no reason for refusing the URI's PIN: $(cat "$T/err")"
    ! grep -q 4711 "$T/err" || fail "the URI's PIN appears in the log"
    [ ! -s "$T/argv" ] || fail "osslsigncode ran with a PIN in the URI: $(cat "$T/argv")"
    [ ! -e "$T/uri.msi" ] || fail "an MSI was written with a PIN in the URI"
  done
}

# No certificate: one line says unsigned, the MSI is built, and it carries no signature.
test_without_certificate_the_msi_is_unsigned_and_says_so() {
  make_pki
  msi "$T/unsigned.msi" || { cat "$T/err" >&2; fail "win-msi.sh failed without a certificate"; }
  [ "$(grep -c 'unsigned: set CS_SIGN_PFX' "$T/err")" = 1 ] || fail "not one 'unsigned' line: $(cat "$T/err")"
  [ -s "$T/unsigned.msi" ] || fail "no MSI without a certificate"
  ! verify "$T/unsigned.msi" "$T/ca.pem" || fail "an unsigned MSI verifies"
  # and a release build that requires a signature stops
  CS_SIGN_REQUIRE=1 msi "$T/required.msi" && fail "CS_SIGN_REQUIRE=1 built without a certificate"
  grep -q "CS_SIGN_REQUIRE" "$T/err" || fail "CS_SIGN_REQUIRE: no reason given: $(cat "$T/err")"
  [ ! -e "$T/required.msi" ] || fail "an MSI was written although a signature is required"
}

# What cannot sign stops the build before anything is written: a PFX without its password
# file, a wrong password (not shown), a time stamp server that cannot be reached (the URL is
# given to osslsigncode as an RFC 3161 server: a closed loopback port, no network).
test_a_configuration_that_cannot_sign_writes_no_msi() {
  make_pki
  wrap_osslsigncode
  CS_SIGN_PFX=$T/sign.pfx msi "$T/a.msi" && fail "a PFX without a password file was accepted"
  grep -q "CS_SIGN_PASSWORD_FILE" "$T/err" || fail "no reason for the missing password file: $(cat "$T/err")"
  [ ! -e "$T/a.msi" ] || fail "an MSI was written without a usable certificate"
  [ ! -s "$T/argv" ] || fail "osslsigncode ran on an incomplete configuration"

  printf 'wrong-%s\n' "$PASSWORD" >"$T/wrong"
  CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/wrong msi "$T/b.msi" && fail "a wrong password signed"
  grep -q "cannot sign certsteward.exe" "$T/err" || fail "no reason for the wrong password: $(cat "$T/err")"
  ! grep -qF -- "$PASSWORD" "$T/err" || fail "the password file's content appears in the log"
  [ ! -e "$T/b.msi" ] || fail "an MSI was written with a wrong password"

  : >"$T/argv"
  CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/pass CS_SIGN_TIMESTAMP_URL=http://127.0.0.1:9/ msi "$T/c.msi" &&
    fail "signing succeeded although the time stamp server cannot be reached"
  grep -q -- "-ts http://127.0.0.1:9/" "$T/argv" || fail "the time stamp URL was not given to osslsigncode: $(cat "$T/argv")"
  [ ! -e "$T/c.msi" ] || fail "an MSI was written without its time stamp"

  CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/pass CS_SIGN_TIMESTAMP_URL="ftp://x" msi "$T/d.msi" &&
    fail "a time stamp URL that is not http(s) was accepted"
  CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PKCS11_MODULE=/nonexistent CS_SIGN_PKCS11_KEY=k msi "$T/e.msi" &&
    fail "a PFX and a PKCS#11 key together were accepted"
  [ ! -e "$T/d.msi" ] && [ ! -e "$T/e.msi" ] || fail "an MSI was written from a bad configuration"
}

# A release build (CS_SIGN_REQUIRE=1) without a time stamp server stops before anything is
# signed: its signatures would end with the certificate; CS_SIGN_NO_TIMESTAMP=1 says that is
# intended (and then cannot be combined with a URL). Each signed file is verified: three
# signatures, three checks.
test_a_release_build_requires_time_stamps() {
  make_pki
  wrap_osslsigncode
  export CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/pass CS_SIGN_REQUIRE=1
  msi "$T/a.msi" && fail "CS_SIGN_REQUIRE=1 signed without a time stamp server"
  grep -q "CS_SIGN_REQUIRE=1 without CS_SIGN_TIMESTAMP_URL" "$T/err" || fail "no reason given: $(cat "$T/err")"
  grep -q "CS_SIGN_NO_TIMESTAMP=1" "$T/err" || fail "the way out is not named: $(cat "$T/err")"
  [ ! -s "$T/argv" ] || fail "osslsigncode ran although the configuration is refused: $(cat "$T/argv")"
  [ ! -e "$T/a.msi" ] || fail "an MSI was written without time stamps in a release build"

  CS_SIGN_NO_TIMESTAMP=1 CS_SIGN_TIMESTAMP_URL=http://127.0.0.1:9/ msi "$T/b.msi" &&
    fail "CS_SIGN_NO_TIMESTAMP=1 and CS_SIGN_TIMESTAMP_URL together were accepted"
  [ ! -e "$T/b.msi" ] && [ ! -s "$T/argv" ] || fail "a contradictory configuration signed"
  CS_SIGN_REQUIRE=yes msi "$T/b.msi" && fail "CS_SIGN_REQUIRE=yes was accepted (1 or nothing)"
  unset CS_SIGN_PFX CS_SIGN_PASSWORD_FILE CS_SIGN_REQUIRE
  CS_SIGN_NO_TIMESTAMP=1 msi "$T/b.msi" && fail "CS_SIGN_NO_TIMESTAMP=1 without a certificate was accepted"
  export CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/pass CS_SIGN_REQUIRE=1

  CS_SIGN_NO_TIMESTAMP=1 msi "$T/c.msi" || { cat "$T/err" >&2; fail "CS_SIGN_NO_TIMESTAMP=1 did not sign"; }
  grep -q "no CS_SIGN_TIMESTAMP_URL (CS_SIGN_NO_TIMESTAMP=1)" "$T/err" || fail "the missing time stamps are not said: $(cat "$T/err")"
  verify "$T/c.msi" "$T/ca.pem" || { cat "$T/verify.log" >&2; fail "the MSI does not verify"; }
  [ "$(grep -c '^sign ' "$T/argv")" = 4 ] || fail "expected 4 signatures: $(cat "$T/argv")"
  [ "$(grep -c '^verify .*\.signing$' "$T/argv")" = 4 ] || fail "expected each of 4 signed files verified: $(cat "$T/argv")"
}

# A signature that osslsigncode reports made but that does not verify (the file changed after
# it was signed) stops the build: the error names the file, no MSI is written.
test_a_signature_that_does_not_verify_writes_no_msi() {
  make_pki
  corrupting_osslsigncode
  CS_SIGN_PFX=$T/sign.pfx CS_SIGN_PASSWORD_FILE=$T/pass msi "$T/bad.msi" && fail "a signature that does not verify was accepted"
  grep -q "signature osslsigncode made on certsteward.exe does not verify" "$T/err" || fail "no reason given: $(cat "$T/err")"
  [ ! -e "$T/bad.msi" ] || fail "an MSI was written with a signature that does not verify"
}

# The File table's version of each executable is read back: an MSI whose File row is not
# named as win-msi.sh's UPDATE expects (msibuild changes no row and succeeds) is not written.
# A copy of the scripts and of certsteward.wxs, the worker's file renamed in it.
test_a_file_table_row_without_its_version_writes_no_msi() {
  mkdir -p "$T/src/scripts" "$T/src/installer/windows" "$T/src/conf/ca-helpers"
  cp "$SRC/scripts/win-msi.sh" "$SRC/scripts/win-sign.sh" "$SRC/scripts/deps.sh" "$T/src/scripts/"
  cp "$SRC/README.md" "$T/src/" # what the MSI installs besides the programs
  cp "$SRC/conf/ca-helpers/adcs-certreq.ps1" "$T/src/conf/ca-helpers/"
  sed 's/Name="certsteward-worker.exe"/Name="cs-worker.exe"/' "$SRC/installer/windows/certsteward.wxs" \
    >"$T/src/installer/windows/certsteward.wxs"
  grep -q 'Name="cs-worker.exe"' "$T/src/installer/windows/certsteward.wxs" || fail "the worker's File element was not found"
  msi "$T/renamed.msi" "$T/src" && fail "an MSI was written with no version in a File row"
  grep -q "the File table does not give certsteward-worker.exe the version" "$T/err" || fail "no reason given: $(cat "$T/err")"
  [ ! -e "$T/renamed.msi" ] || fail "an MSI was written with no version in a File row"
  # the same copy unchanged builds (what fails above is the renamed row)
  cp "$SRC/installer/windows/certsteward.wxs" "$T/src/installer/windows/"
  msi "$T/copy.msi" "$T/src" || { cat "$T/err" >&2; fail "the unchanged copy does not build"; }
}

[ $# -eq 1 ] && declare -F "test_$1" >/dev/null || { echo "usage: $0 TEST_NAME" >&2; exit 2; }
"test_$1"
