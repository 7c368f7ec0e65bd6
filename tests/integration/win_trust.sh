#!/usr/bin/env bash
# The machine's trust on Windows ([policy] ca_file empty, no --ca): a renewed certificate
# is trusted exactly when Windows' chain engine for the machine chains it to a root in
# LocalMachine\Root, with intermediates from the file or LocalMachine\CA, and never
# through a certificate in LocalMachine\Disallowed; OpenSSL's environment variables and
# default paths play no part. Wine's chain engine and stores are real enough for this
# (its LocalMachine\Root holds the host's roots, never the test root, until a test adds
# it); group policy, enterprise roots and the automatic root update only real Windows
# proves (common/win/trust.c).
#
# Run by CTest in the Windows build (scripts/win-build.sh): what it gives is said in
# win_lib.sh. Usage: win_trust.sh TEST_NAME.
. "$(dirname "$0")/win_lib.sh" trust

cleanup() {
  set +e
  cleanup_stores
  rm -rf "$T"
}
trap cleanup EXIT
# Other Windows tests import PFX files, whose intermediates go into LocalMachine\CA: each
# test starts from stores without the test PKI (and runs alone: tests/CMakeLists.txt).
cleanup_stores() {
  win "$CERTTOOL" del Root "$(wpath "$PKI/root.pem")" >/dev/null || true
  win "$CERTTOOL" del CA "$(wpath "$PKI/inter.pem")" >/dev/null || true
  win "$CERTTOOL" del Disallowed "$(wpath "$PKI/inter.pem")" >/dev/null || true
}
cleanup_stores

store() { win "$CERTTOOL" "$1" "$2" "$(wpath "$PKI/$3")" || fail "cs-certtool $1 $2 $3"; }

# The chain line of `check --json` for a file of the test PKI, without --ca, under an
# empty configuration (no ca_file): {"id":"chain","ok":...,"detail":...}.
chain_line() {
  printf '[connector]\nhost = %s\n' "$HOST" >"$T/empty.ini"
  win "$CS" check --json --config "$(wpath "$T/empty.ini")" --password-file "$(wpath "$PKI/pass.txt")" \
    "$(wpath "$PKI/$1")" | tr -d '\r' | jq -c '.checks[] | select(.id == "chain")' || true
}
expect_chain() { # FILE true|false [TEXT]: the chain check's outcome, and a text its detail holds
  local line
  line=$(chain_line "$1")
  [ -n "$line" ] || fail "$1: no chain check in the report"
  [ "$(jq -r .ok <<<"$line")" = "$2" ] || fail "$1: chain ok should be $2: $line"
  [ -z "${3:-}" ] || grep -qF -- "$3" <<<"$(jq -r .detail <<<"$line")" || fail "$1: detail lacks '$3': $line"
  echo "  $1: $line"
}

# A root in LocalMachine\Root makes the chain trusted, and only while it is there.
test_machine_root() {
  expect_chain good-bundle.pem false "not trusted by this machine"
  store add Root root.pem
  expect_chain good-bundle.pem true "root from LocalMachine\\Root"
  expect_chain good-bundle.pem true "CN=certsteward Test Root"
  store del Root root.pem
  expect_chain good-bundle.pem false "not trusted by this machine"
}

# OpenSSL's variables and default paths are not the machine's trust: with the test root
# offered through SSL_CERT_FILE / SSL_CERT_DIR / OPENSSL_CONF, and not in Root, the chain
# is still untrusted (cmd's set reaches the Windows process, as a server's environment).
test_openssl_environment_ignored() {
  local line
  printf '[connector]\nhost = %s\n' "$HOST" >"$T/empty.ini"
  line=$(win cmd /c "set SSL_CERT_FILE=$(wpath "$PKI/ca-chain.pem")&& set SSL_CERT_DIR=$(wpath "$PKI")&& set OPENSSL_CONF=$(wpath "$T/empty.ini")&& $(wpath "$CS") check --json --config $(wpath "$T/empty.ini") --password-file $(wpath "$PKI/pass.txt") $(wpath "$PKI/good-bundle.pem")" |
    tr -d '\r' | jq -c '.checks[] | select(.id == "chain")' || true)
  [ -n "$line" ] || fail "no chain check in the report"
  [ "$(jq -r .ok <<<"$line")" = false ] || fail "OpenSSL's environment was trusted: $line"
  echo "  $line"
}

# A certificate of the chain in LocalMachine\Disallowed: never trusted, even with its root
# in Root; trusted again once it is taken out.
test_disallowed() {
  store add Root root.pem
  expect_chain good-bundle.pem true
  store add Disallowed inter.pem
  expect_chain good-bundle.pem false "distrusted by this machine"
  store del Disallowed inter.pem
  expect_chain good-bundle.pem true
}

# Intermediates come from the file or from LocalMachine\CA: a file with the leaf alone
# chains once the machine holds the intermediate.
test_machine_intermediates() {
  store add Root root.pem
  expect_chain good-leaf.der false "not trusted by this machine"
  store add CA inter.pem
  expect_chain good-leaf.der true "CN=certsteward Test Intermediate"
}

name=${1:?test name}
declare -F "test_$name" >/dev/null || fail "no test named $name"
"test_$name"
echo "ok: $name"
