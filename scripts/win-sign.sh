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
#       and its chain in a file; the PIN from CS_SIGN_PASSWORD_FILE when set, else from the
#       URI's pin-value (never shown); CS_SIGN_PKCS11_ENGINE names OpenSSL's pkcs11 engine when
#       it is not where OpenSSL looks (Debian package libengine-pkcs11-openssl)
#   CS_SIGN_TIMESTAMP_URL=http://timestamp.example/   an RFC 3161 time stamp server: the
#       signatures stay valid after the certificate expires (without one they do not);
#       when the server cannot be reached, signing fails
#   CS_SIGN_REQUIRE=1   no certificate is an error (a release build)
#
#   bash scripts/win-sign.sh --check            say what signs (or "unsigned: ..."); stop on an
#                                               incomplete configuration
#   bash scripts/win-sign.sh [-n DESC] FILE...  sign each file in place (nothing without a
#                                               certificate); DESC is what Windows shows as
#                                               the signed program's name (the MSI's UAC prompt)
set -euo pipefail

log() { printf '[win-sign] %s\n' "$*" >&2; }
# a PKCS#11 URI may carry the PIN (pin-value=): never shown
hide_pin() { sed -E 's/(pin-value=)[^;?&[:space:]]*/\1(hidden)/g'; }
die() { log "error: $*"; exit 1; }

# The configuration, checked: MODE is pfx, pkcs11 or none; ARGS the signing options.
MODE=none
ARGS=()
configure() {
  local pfx=${CS_SIGN_PFX:-} module=${CS_SIGN_PKCS11_MODULE:-} key=${CS_SIGN_PKCS11_KEY:-}
  local cert=${CS_SIGN_CERT:-} pass=${CS_SIGN_PASSWORD_FILE:-} url=${CS_SIGN_TIMESTAMP_URL:-}
  local engine=${CS_SIGN_PKCS11_ENGINE:-}
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
    MODE=pkcs11
    ARGS=(-pkcs11module "$module" -certs "$cert" -key "$key")
    [ -z "$engine" ] || ARGS=(-pkcs11engine "$engine" "${ARGS[@]}")
  else
    [ -z "$cert$pass$url$engine" ] ||
      die "CS_SIGN_CERT, CS_SIGN_PASSWORD_FILE, CS_SIGN_TIMESTAMP_URL or CS_SIGN_PKCS11_ENGINE without a certificate: set CS_SIGN_PFX or CS_SIGN_PKCS11_MODULE and CS_SIGN_PKCS11_KEY"
    [ "${CS_SIGN_REQUIRE:-0}" = 0 ] || die "CS_SIGN_REQUIRE is set and no certificate is: set CS_SIGN_PFX or CS_SIGN_PKCS11_*"
    return 0
  fi
  if [ -n "$pass" ]; then
    [ -f "$pass" ] && [ -r "$pass" ] || die "CS_SIGN_PASSWORD_FILE: $pass is not a readable file"
    # what others can read is no secret: said, not refused (a build user's own choice)
    [ "$CHECK" = 0 ] || [ -z "$(find "$pass" -perm /044 2>/dev/null)" ] || log "warning: $pass can be read by other users"
    ARGS+=(-readpass "$pass")
  fi
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
  pkcs11) log "signing with the PKCS#11 key $(hide_pin <<<"$CS_SIGN_PKCS11_KEY")${CS_SIGN_TIMESTAMP_URL:+, time stamps from $CS_SIGN_TIMESTAMP_URL}" ;;
  esac
  [ "$MODE" = none ] || [ -n "${CS_SIGN_TIMESTAMP_URL:-}" ] ||
    log "no CS_SIGN_TIMESTAMP_URL: the signatures are valid only until the certificate expires"
  exit 0
fi
DESC=
if [ "${1:-}" = -n ]; then DESC=${2:?-n needs a description}; shift 2; fi
[ $# -gt 0 ] || die "usage: win-sign.sh --check | win-sign.sh [-n DESC] FILE..."
[ "$MODE" != none ] || exit 0
[ -z "$DESC" ] || ARGS+=(-n "$DESC")

for f in "$@"; do
  [ -f "$f" ] || die "$f is not a file"
  tmp="$f.signing"
  rm -f "$tmp"
  # osslsigncode's output names files and the signer, never the password; shown on failure
  if ! osslsigncode sign "${ARGS[@]}" -h sha256 -in "$f" -out "$tmp" >"$tmp.log" 2>&1; then
    hide_pin <"$tmp.log" | sed 's/^/  /' >&2
    rm -f "$tmp" "$tmp.log"
    die "cannot sign $(basename "$f")"
  fi
  rm -f "$tmp.log"
  mv "$tmp" "$f"
  log "signed $(basename "$f")"
done
