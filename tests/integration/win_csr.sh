#!/usr/bin/env bash
# The certificate request as the openssl command reads it: cs-csrtool (tests/support/
# csrtool.c) makes a request key and a request with cs_csr_build, and `openssl req
# -verify -noout -text` checks its signature and shows its names and extensions. In the
# Windows build the request is made by the Windows program under Wine (its key made and
# its signature made by ncrypt), and read here on the Linux side; in the native build by
# the native program.
#
# Run by CTest: CS_CSRTOOL (the program, a Linux path), CS_WINE (the Wine runner; empty
# for the native build). Usage: win_csr.sh TEST_NAME.
set -euo pipefail

TOOL=${CS_CSRTOOL:?}
W=${CS_WINE:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/cs-csr.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() { echo "FAILED: $*" >&2; exit 1; }
# A Linux path as the program takes it (Wine's Z: drive for the Windows one)
p() { if [ -n "$W" ]; then printf 'Z:%s' "$1" | tr / '\\'; else printf '%s' "$1"; fi; }
tool() { if [ -n "$W" ]; then "$W" "$TOOL" "$@" </dev/null; else "$TOOL" "$@" </dev/null; fi; }
under_wine() { [ -n "$W" ]; }

# request KIND NAME: a request for board.example.test with more names and a template,
# verified and read back
request() {
  local kind=$1 name=$2 out=$T/$2.csr text
  tool "$(p "$T/state")" "$name" "$kind" board.example.test WebServer "$(p "$out")" \
    www.example.test BOARD.example.test '*.apps.example.test' >"$T/$name.where" 2>"$T/$name.err" ||
    fail "cs-csrtool $kind: $(cat "$T/$name.err")"
  openssl req -in "$out" -verify -noout 2>&1 | grep -q 'verify OK' || fail "$kind: the signature does not verify"
  # the public key in the request is the one the key has
  cmp -s <(openssl req -in "$out" -noout -pubkey) <(openssl pkey -pubin -in "$out.pub") ||
    fail "$kind: the request's public key is not the key's"
  text=$(openssl req -in "$out" -noout -text)
  grep -q 'Subject: CN *= *board.example.test$' <<<"$text" || fail "$kind: subject: $text"
  grep -q 'DNS:board.example.test, DNS:www.example.test, DNS:\*.apps.example.test$' <<<"$text" ||
    fail "$kind: SANs: $text"
  grep -A1 'X509v3 Extended Key Usage' <<<"$text" | grep -q 'TLS Web Server Authentication' || fail "$kind: EKU: $text"
  grep -q 'X509v3 Key Usage: critical' <<<"$text" || fail "$kind: key usage not critical: $text"
  grep -q '1.3.6.1.4.1.311.20.2' <<<"$text" || fail "$kind: no template extension: $text"
  # the template's name, a BMPString: "WebServer" in UTF-16BE after its tag and length
  openssl req -in "$out" -outform DER | od -An -tx1 | tr -d ' \n' |
    grep -q '1e12005700650062005300650072007600650072' || fail "$kind: the template name is not WebServer"
  grep -q 'sha256With\|ecdsa-with-SHA256' <<<"$text" || fail "$kind: not SHA-256: $text"
  if under_wine; then
    grep -q "^certsteward-$name" "$T/$name.where" || fail "$kind: key not named in the store: $(cat "$T/$name.where")"
  else
    grep -q "/request/$name.key" "$T/$name.where" || fail "$kind: key path: $(cat "$T/$name.where")"
    [ ! -e "$T/state/request/$name.key" ] || fail "$kind: the key was not deleted"
  fi
}

test_rsa2048_request_verifies_with_openssl() { request rsa2048 r2048; }
test_rsa3072_request_verifies_with_openssl() { request rsa3072 r3072; }

test_ec_p256_request_verifies_with_openssl() {
  if under_wine; then
    # Wine's ncrypt makes no ECDSA key: the program says so and writes nothing (a real
    # Windows server makes it; the conversions it needs are test_csr's pure tests)
    if tool "$(p "$T/state")" ec1 ec-p256 board.example.test "" "$(p "$T/ec1.csr")" 2>"$T/ec1.err"; then
      fail "Wine made an ECDSA key: measure again and test the request here"
    fi
    grep -q 'certsteward-ec1' "$T/ec1.err" || fail "the refusal does not name the key: $(cat "$T/ec1.err")"
    [ ! -e "$T/ec1.csr" ] || fail "a request was written without a key"
  else
    request ec-p256 ec1
  fi
}

test_bad_name_makes_no_request() {
  if tool "$(p "$T/state")" bad rsa2048 'board..example.test' "" "$(p "$T/bad.csr")" 2>"$T/bad.err"; then
    fail "a request was made for a bad host name"
  fi
  grep -q 'no DNS name' "$T/bad.err" || fail "$(cat "$T/bad.err")"
  [ ! -e "$T/bad.csr" ] || fail "a request was written"
}

"test_$1"
