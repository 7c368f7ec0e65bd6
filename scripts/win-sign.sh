#!/usr/bin/env bash
# Authenticode signatures on certsteward's Windows files, with osslsigncode and a code-signing
# certificate of the user's. scripts/win-msi.sh signs the stripped executables before wixl
# packs them and the MSI after its last edit (an edit after signing breaks the signature).
#
# The certificate, by environment variable:
#   CS_SIGN_PFX=codesign.pfx CS_SIGN_PASSWORD_FILE=codesign.pass
#       a PKCS#12 file (key, certificate and its chain) and a file whose first line is its
#       password (read by osslsigncode itself: the password is never on a command line)
#   CS_SIGN_PKCS11_MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
#   CS_SIGN_PKCS11_KEY='pkcs11:token=...;object=...' CS_SIGN_CERT=codesign-chain.pem
#       a key on a smart card, token or HSM through its PKCS#11 module, with the certificate
#       and its chain in a file; the PIN from CS_SIGN_PASSWORD_FILE. A URI holding the PIN
#       (pin-value=) is refused: it would be on osslsigncode's command line, which every local
#       user can read (ps, /proc) while signing runs. CS_SIGN_PKCS11_ENGINE names OpenSSL's
#       pkcs11 engine when it is not where OpenSSL looks (Debian package libengine-pkcs11-openssl)
#   CS_SIGN_TIMESTAMP_URL=http://timestamp.example/   an RFC 3161 time stamp server: the
#       signatures stay valid after the certificate expires (without one they do not);
#       when the server cannot be reached, signing fails
#   CS_SIGN_REQUIRE=1   a release build: no certificate is an error, and so is no
#       CS_SIGN_TIMESTAMP_URL unless CS_SIGN_NO_TIMESTAMP=1 says so
#   CS_SIGN_NO_TIMESTAMP=1   signatures without time stamps are intended (they end with the
#       certificate); only with a certificate and without CS_SIGN_TIMESTAMP_URL
# Each signed file is checked with `osslsigncode verify` before it replaces the unsigned one
# (see verify_signed).
#
#   bash scripts/win-sign.sh --check            say what signs (or "unsigned: ..."); stop on an
#                                               incomplete configuration
#   bash scripts/win-sign.sh [-n DESC] FILE...  sign each file in place (nothing without a
#                                               certificate); DESC is what Windows shows as
#                                               the signed program's name (the MSI's UAC prompt)
set -euo pipefail

log() { printf '[win-sign] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The configuration, checked: MODE is pfx, pkcs11 or none; ARGS the signing options.
MODE=none
ARGS=()
configure() {
  local pfx=${CS_SIGN_PFX:-} module=${CS_SIGN_PKCS11_MODULE:-} key=${CS_SIGN_PKCS11_KEY:-}
  local cert=${CS_SIGN_CERT:-} pass=${CS_SIGN_PASSWORD_FILE:-} url=${CS_SIGN_TIMESTAMP_URL:-}
  local engine=${CS_SIGN_PKCS11_ENGINE:-} nots=${CS_SIGN_NO_TIMESTAMP:-0}
  [[ $nots =~ ^[01]?$ ]] || die "CS_SIGN_NO_TIMESTAMP is '$nots': 1 or nothing"
  [[ ${CS_SIGN_REQUIRE:-0} =~ ^[01]?$ ]] || die "CS_SIGN_REQUIRE is '$CS_SIGN_REQUIRE': 1 or nothing"
  if [ -n "$pfx" ] && [ -n "$module$key" ]; then
    die "CS_SIGN_PFX and CS_SIGN_PKCS11_* are both set: choose one certificate"
  fi
  if [ -n "$pfx" ]; then
    [ -f "$pfx" ] && [ -r "$pfx" ] || die "CS_SIGN_PFX: $pfx is not a readable file"
    [ -n "$pass" ] || die "CS_SIGN_PFX needs CS_SIGN_PASSWORD_FILE, a file holding the PFX's password"
    MODE=pfx
    ARGS=(-pkcs12 "$pfx")
  elif [ -n "$module$key" ]; then
    [ -n "$module" ] && [ -n "$key" ] && [ -n "$cert" ] ||
      die "a PKCS#11 key needs CS_SIGN_PKCS11_MODULE, CS_SIGN_PKCS11_KEY and CS_SIGN_CERT"
    [ -f "$module" ] || die "CS_SIGN_PKCS11_MODULE: $module is not a file"
    [ -f "$cert" ] && [ -r "$cert" ] || die "CS_SIGN_CERT: $cert is not a readable file"
    # the URI goes to osslsigncode's command line: no PIN in it (the URI itself is not shown)
    ! grep -qi 'pin-value=' <<<"$key" ||
      die "CS_SIGN_PKCS11_KEY holds the PIN (pin-value=), which would be on osslsigncode's command line where every local user can read it: remove it from the URI and put the PIN in a file named by CS_SIGN_PASSWORD_FILE (mode 0600)"
    MODE=pkcs11
    ARGS=(-pkcs11module "$module" -certs "$cert" -key "$key")
    [ -z "$engine" ] || ARGS=(-pkcs11engine "$engine" "${ARGS[@]}")
  else
    [ -z "$cert$pass$url$engine" ] && [ "$nots" != 1 ] ||
      die "CS_SIGN_CERT, CS_SIGN_PASSWORD_FILE, CS_SIGN_TIMESTAMP_URL, CS_SIGN_NO_TIMESTAMP or CS_SIGN_PKCS11_ENGINE without a certificate: set CS_SIGN_PFX or CS_SIGN_PKCS11_MODULE and CS_SIGN_PKCS11_KEY"
    [ "${CS_SIGN_REQUIRE:-0}" = 0 ] || die "CS_SIGN_REQUIRE is set and no certificate is: set CS_SIGN_PFX or CS_SIGN_PKCS11_*"
    return 0
  fi
  if [ -n "$pass" ]; then
    [ -f "$pass" ] && [ -r "$pass" ] || die "CS_SIGN_PASSWORD_FILE: $pass is not a readable file"
    # what others can read is no secret: said, not refused (a build user's own choice)
    [ "$CHECK" = 0 ] || [ -z "$(find "$pass" -perm /044 2>/dev/null)" ] || log "warning: $pass can be read by other users"
    ARGS+=(-readpass "$pass")
  fi
  [ -z "$url" ] || [ "$nots" != 1 ] || die "CS_SIGN_TIMESTAMP_URL and CS_SIGN_NO_TIMESTAMP=1 together: choose one"
  # a release's signatures must outlive the certificate, or say explicitly that they need not
  [ -n "$url" ] || [ "$nots" = 1 ] || [ "${CS_SIGN_REQUIRE:-0}" != 1 ] ||
    die "CS_SIGN_REQUIRE=1 without CS_SIGN_TIMESTAMP_URL: the signatures would stop validating when the certificate expires; set CS_SIGN_TIMESTAMP_URL (an RFC 3161 server), or CS_SIGN_NO_TIMESTAMP=1 to sign without time stamps on purpose"
  if [ -n "$url" ]; then
    [[ $url =~ ^https?://[^[:space:]]+$ ]] || die "CS_SIGN_TIMESTAMP_URL: '$url' is not an http:// or https:// URL"
    ARGS+=(-ts "$url")
  fi
  command -v osslsigncode >/dev/null || die "osslsigncode is missing (bash scripts/deps.sh msi)"
}

CHECK=0
[ "${1:-}" != --check ] || CHECK=1
configure
if [ "$CHECK" = 1 ]; then
  case $MODE in
  none) log "unsigned: set CS_SIGN_PFX and CS_SIGN_PASSWORD_FILE (or CS_SIGN_PKCS11_MODULE, CS_SIGN_PKCS11_KEY and CS_SIGN_CERT) to sign" ;;
  pfx) log "signing with $CS_SIGN_PFX${CS_SIGN_TIMESTAMP_URL:+, time stamps from $CS_SIGN_TIMESTAMP_URL}" ;;
  pkcs11) log "signing with the PKCS#11 key $CS_SIGN_PKCS11_KEY${CS_SIGN_TIMESTAMP_URL:+, time stamps from $CS_SIGN_TIMESTAMP_URL}" ;;
  esac
  [ "$MODE" = none ] || [ -n "${CS_SIGN_TIMESTAMP_URL:-}" ] ||
    log "no CS_SIGN_TIMESTAMP_URL$([ "${CS_SIGN_NO_TIMESTAMP:-0}" != 1 ] || echo ' (CS_SIGN_NO_TIMESTAMP=1)'): the signatures are valid only until the certificate expires"
  exit 0
fi
DESC=
if [ "${1:-}" = -n ]; then DESC=${2:?-n needs a description}; shift 2; fi
[ $# -gt 0 ] || die "usage: win-sign.sh --check | win-sign.sh [-n DESC] FILE..."
[ "$MODE" != none ] || exit 0
[ -z "$DESC" ] || ARGS+=(-n "$DESC")

# A signed file checked before it is used: a signature is there, covers the file as it is
# (osslsigncode recomputes the digest) and is the signer's, and the signer's chain builds.
# The trust anchors are the certificates the signature carries plus the system's CA bundle:
# this is a check that the signing worked, not a decision of trust, which is the Windows
# machine's (its root store; WinVerifyTrust). A chain that ends at neither (a private CA's
# root neither in the PFX or CS_SIGN_CERT nor in the system's store) fails the check. The time
# stamp's own chain and revocation (CRL distribution points, network) are not checked here.
VERIFY_OPTS=()
verify_opts() {
  local help opt
  help=$(osslsigncode verify --help 2>&1 || true)
  for opt in -ignore-timestamp -ignore-cdp; do
    ! grep -q -- "^$opt " <<<"$help" || VERIFY_OPTS+=("$opt")
  done
}
verify_signed() { # FILE LOG
  local d anchors system
  d=$(mktemp -d "${TMPDIR:-/tmp}/cs-sign.XXXXXX")
  anchors=$d/anchors.pem
  osslsigncode extract-signature -in "$1" -out "$d/sig.der" >"$2" 2>&1 &&
    openssl pkcs7 -inform DER -in "$d/sig.der" -print_certs -out "$anchors" >>"$2" 2>&1 || {
    rm -rf "$d"
    return 1
  }
  system=$(osslsigncode --version 2>&1 | sed -n 's/^Default -CAfile location: //p' | head -n 1)
  [ -z "$system" ] || [ ! -r "$system" ] || cat "$system" >>"$anchors"
  osslsigncode verify "${VERIFY_OPTS[@]}" -CAfile "$anchors" -in "$1" >>"$2" 2>&1 || {
    rm -rf "$d"
    return 1
  }
  rm -rf "$d"
}

verify_opts
for f in "$@"; do
  [ -f "$f" ] || die "$f is not a file"
  tmp="$f.signing"
  rm -f "$tmp"
  # osslsigncode's output names files and the signer, never the password; shown on failure
  if ! osslsigncode sign "${ARGS[@]}" -h sha256 -in "$f" -out "$tmp" >"$tmp.log" 2>&1; then
    sed 's/^/  /' <"$tmp.log" >&2
    rm -f "$tmp" "$tmp.log"
    die "cannot sign $(basename "$f")"
  fi
  if ! verify_signed "$tmp" "$tmp.log"; then
    sed 's/^/  /' <"$tmp.log" >&2
    rm -f "$tmp" "$tmp.log"
    die "the signature osslsigncode made on $(basename "$f") does not verify"
  fi
  rm -f "$tmp.log"
  mv "$tmp" "$f"
  log "signed $(basename "$f")"
done
