# Validation (sourced by bench.sh): `certsteward check` on one PFX of the test PKI
# (cs-testpki's good-aes.pfx: AES-256 export, leaf + intermediate), a whole process
# (certsteward hands over to certsteward-worker), against floor-check, a whole process
# too, that does only OpenSSL's PKCS12_parse and X509_verify_cert on the same file
# with the same trust anchors. Runs alternate in rounds, so that a machine getting
# busier or quieter meets both alike.

# valid_run DIR RUNS: results valid.*
valid_run() {
  local d=$1 runs=$2 pki=$1/pki rounds=5 per
  mkdir -p "$pki"
  "$TESTPKI" "$pki" >/dev/null || die "cs-testpki"
  : > "$d/empty.ini" # built-in defaults, whatever /etc/certsteward holds
  local check=("$CS" check --config "$d/empty.ini" --host board.example.test --ca "$pki/ca-chain.pem"
               --password-file "$pki/pass.txt" "$pki/good-aes.pfx")
  local floor=("$TOOLS/floor-check" "$pki/good-aes.pfx" "$pki/pass.txt" "$pki/ca-chain.pem")
  # both must accept the file, or their times compare nothing
  "${check[@]}" > "$d/check.out" 2>&1 || die "certsteward check does not accept good-aes.pfx: $(cat "$d/check.out")"
  grep -q ': accepted' "$d/check.out" || die "no accepted verdict: $(cat "$d/check.out")"
  "${floor[@]}" || die "floor-check does not verify good-aes.pfx"
  per=$(((runs + rounds - 1) / rounds))
  # the worker's share: the same check without the hand-over from certsteward
  local worker=("$WORKER" "${check[@]:1}")
  : > "$d/check.ms"
  : > "$d/floor.ms"
  : > "$d/worker.ms"
  if ! "$TOOLS/benchtool" spawn 3 0 "${check[@]}" >/dev/null || ! "$TOOLS/benchtool" spawn 3 0 "${floor[@]}" >/dev/null; then
    die "warm-up"
  fi
  for _ in $(seq "$rounds"); do
    "$TOOLS/benchtool" spawn "$per" 0 "${check[@]}" >> "$d/check.ms" || die "certsteward check failed"
    "$TOOLS/benchtool" spawn "$per" 0 "${floor[@]}" >> "$d/floor.ms" || die "floor-check failed"
    "$TOOLS/benchtool" spawn "$per" 0 "${worker[@]}" >> "$d/worker.ms" || die "certsteward-worker check failed"
  done
  read -r n med p95 _ < <(stats "$d/check.ms")
  res valid.n "$n"
  res valid.certsteward "$med"
  res valid.certsteward_p95 "$p95"
  read -r n med p95 _ < <(stats "$d/floor.ms")
  res valid.floor "$med"
  res valid.floor_p95 "$p95"
  res valid.worker_only "$(median "$d/worker.ms")"
  res valid.certsteward_cpu "$(median "$d/check.ms" 2)"
  res valid.floor_cpu "$(median "$d/floor.ms" 2)"
  res valid.worker_only_cpu "$(median "$d/worker.ms" 2)"
}
