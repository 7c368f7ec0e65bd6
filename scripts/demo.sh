#!/usr/bin/env bash
# Builds certsteward and runs it on the bundled demo configuration (conf/demo.ini):
# a demo CA and a set of renewed certificates for board.example.test are generated,
# then `certsteward check` judges them as it would judge files dropped by an admin.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build/native -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/native -j"$(nproc)" --target certsteward cs-testpki >/dev/null

PKI=build/demo/pki
mkdir -p "$PKI"
build/native/tests/cs-testpki "$PKI" >/dev/null
CS=build/native/service/certsteward

echo "== certsteward config --config conf/demo.ini"
"$CS" config --config conf/demo.ini
echo
echo "== renewed certificates that are fit for service (exit status 0 expected)"
"$CS" check --config conf/demo.ini "$PKI/good-aes.pfx" "$PKI/good-legacy.pfx" "$PKI/good-bundle.pem"
echo
echo "== renewed certificates an admin got wrong (exit status 1 expected)"
set +e
"$CS" check --config conf/demo.ini "$PKI/bad-wronghost.pem" "$PKI/bad-expired.pem" "$PKI/bad-eku.pem" \
  "$PKI/good-leaf.der" "$PKI/truncated.pfx"
st=$?
set -e
[ "$st" -eq 1 ] || { echo "demo: expected exit status 1, got $st" >&2; exit 1; }
echo
echo "demo: every verdict as expected"
