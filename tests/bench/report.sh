# The results as Markdown (sourced by bench.sh): `report` prints the table of figures,
# then the details behind each, the machine and the command. Reads R (lib.sh).

# ms VALUE: a duration in ms, one decimal below 100
ms() { calc "$1" "$(awk -v v="$1" 'BEGIN { print (v < 100 ? "%.1f" : "%.0f") }') ms"; }
# yes_no CONDITION (awk): "yes" or "**no**"
yes_no() { awk "BEGIN { print (($1) ? \"yes\" : \"**no**\") }"; }
nf() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"$1"; } # 10000 -> 10,000

report_table() {
  echo "| Measurement | certsteward | Compared with | Ratio | Target | Met |"
  echo "|---|---|---|---|---|---|"
  if have idle.certsteward.rss; then
    local cs cm
    cs=$(r "idle.certsteward.rss") cm=$(r "idle.certmonger.rss")
    echo "| Idle RSS (daemon, nothing to do) | $(mib "$cs") MiB | certmonger tracking one file: $(mib "$cm") MiB; bare libuv loop: $(mib "$(r "idle.uvloop.rss")") MiB | $(calc "$cs / $cm" "%.2f")× certmonger | ≤ 3 MiB and ≤ ⅓ of certmonger | $(yes_no "$cs <= 3072 && 3 * $cs <= $cm") |"
    echo "| Idle wakeups, $(r "idle.window") s (context switches) / next $(r "idle.window") s (system calls) | $(r "idle.certsteward.switches") / $(r "idle.certsteward.syscalls") | certmonger: $(r "idle.certmonger.switches") / $(r "idle.certmonger.syscalls"); libuv loop: $(r "idle.uvloop.switches") / $(r "idle.uvloop.syscalls") | — | none between due timers ($(r "idle.due") due in the windows) | $(yes_no "$(r "idle.due") > 0 || ($(r "idle.certsteward.switches") == 0 && $(r "idle.certsteward.syscalls") == 0)") |"
  fi
  if have react.reaction.median; then
    echo "| Drop → COMMIT, median of $(r "react.n") renewals (without settle window and connector restart) | $(ms "$(r "react.reaction.median")") | — | — | ≤ 50 ms | $(yes_no "$(r "react.reaction.median") <= 50") |"
    echo "| Drop → COMMIT, p95 | $(ms "$(r "react.reaction.p95")") | — | — | — | — |"
  fi
  if have adopt.reaction.median; then
    echo "| certbot renewal in \`[store] adopt_from\` → COMMIT, median of $(r "adopt.n") (links flipped; without the connector restart; settle_seconds 0) | $(ms "$(r "adopt.reaction.median")") | — | — | — | — |"
    echo "| … of which flip → found (3100: notification, two looks that find it unchanged) | $(ms "$(r "adopt.found.median")") (p95 $(ms "$(r "adopt.found.p95")")) | — | — | — | — |"
  fi
  local s cs fl sh proj note
  for s in ${SIZES}; do
    have "scan.$s.floor" || continue
    cs=$(r "scan.$s.certsteward") fl=$(r "scan.$s.floor") sh=$(r "scan.$s.shell") note=
    if [ "$(r "scan.$s.left_out")" -gt 0 ]; then
      # certsteward lists the first 1,000 files only: the rest projected at the same cost per file
      proj=$(calc "($cs - $(r "scan.status_empty")) * $s / $(r "scan.$s.listed") + $(r "scan.status_empty")" "%.0f")
      note="lists $(nf "$(r "scan.$s.listed")") of them in $(ms "$cs"); all $(nf "$s") projected: "
      cs=$proj
    fi
    echo "| Expiry scan of $(nf "$s") certificate files | ${note}$(ms "$cs") | floor (OpenSSL parse + notAfter): $(ms "$fl"); \`openssl x509 -checkend\` loop: $(ms "$sh") | $(calc "$cs / $fl" "%.1f")× floor; the loop takes $(calc "$sh / $cs" "%.2f")× as long | ≤ 2× floor, ≥ 50× faster than the loop$([ "$s" = 10000 ] || echo " (set for 10,000)") | $(yes_no "$cs <= 2 * $fl && $sh >= 50 * $cs") |"
  done
  if have valid.certsteward; then
    echo "| Validation of one PFX, whole process (\`certsteward check\`) | $(ms "$(r "valid.certsteward")") | floor (PKCS12_parse + X509_verify_cert): $(ms "$(r "valid.floor")") | $(calc "$(r "valid.certsteward") / $(r "valid.floor")" "%.2f")× floor | ≤ 1.5× floor | $(yes_no "$(r "valid.certsteward") <= 1.5 * $(r "valid.floor")") |"
  fi
}

report_idle() {
  local p
  if have idle.certsteward.rss; then
    echo "Idle footprint: the daemon (\`certsteward run\`, watching its drop folder, certificate in service with 60 days left), certmonger $(r cm_version) (\`certmonger -s -n -B\` on a private session bus — its D-Bus daemon, $(mib "$(r "idle.bus.rss")") MiB, not counted — \`getcert start-tracking -f cert.pem -k key.pem -R\`) and \`uv-idle\` (a libuv loop with one timer), measured side by side in the same windows:"
    echo
    echo "| Process | RSS | PSS | peak RSS | threads | context switches, $(r "idle.window") s | CPU, $(r "idle.window") s | system calls, next $(r "idle.window") s |"
    echo "|---|---|---|---|---|---|---|---|"
    for p in certsteward certmonger uvloop; do
      echo "| $p | $(mib "$(r "idle.$p.rss")") MiB | $(mib "$(r "idle.$p.pss")") MiB | $(mib "$(r "idle.$p.hwm")") MiB | $(r "idle.$p.threads") | $(r "idle.$p.switches") | $(r "idle.$p.cpu_ms") ms | $(r "idle.$p.syscalls")$(have idle.$p.calls && [ -n "$(r "idle.$p.calls")" ] && echo " ($(r "idle.$p.calls"))") |"
    done
  fi
  if have idle.certsteward.rss_after; then
    echo
    echo "The daemon's RSS after the $(r "react.n") renewals, idle again: $(mib "$(r "idle.certsteward.rss_after")") MiB."
  fi
  local s
  for s in ${SIZES}; do
    have "scan.$s.daemon_rss" || continue
    echo
    echo "The daemon's idle RSS once it has listed a \`[store] monitor\` folder of $(nf "$s") files ($(nf "$(r "scan.$s.listed")") listed; it keeps the list in a file under its state folder, for the metrics): $(mib "$(r "scan.$s.daemon_rss")") MiB."
  done
}

report_reaction() {
  local c
  echo "Drop → COMMIT, each phase from the daemon's event lines (ms; median / p95 of $(r "react.n") renewals):"
  echo
  echo "| Phase (events) | median | p95 |"
  echo "|---|---|---|"
  while IFS='|' read -r c label; do
    echo "| $label | $(calc "$(r "react.$c.median")" "%.1f") | $(calc "$(r "react.$c.p95")" "%.1f") |"
  done <<'EOF'
detect|drop → DROP_DETECTED 3000 (notification, settle 0, move to incoming)
validate|3000 → DROP_ACCEPTED 3001 (one validation worker, which also probes the endpoint for the pre-flight)
validate_again|3001 → RENEWAL_STARTED 4000 (the maintenance-window decision, journal BEGIN)
install|4000 → CERT_INSTALLED 4001
grant|4001 → KEY_PERMISSION_GRANTED 4002
bindings|4002 → BINDINGS_REWRITTEN 4003
restart_other|4003 → SERVICE_RESTARTED 4004, less the restart command (journal, sh)
restart_cmd|the restart command: nginx reload until it serves the new certificate (excluded)
probe|4004 → NEW_CERT_SERVED 4005 (journal, a probe worker: two handshakes that agree)
commit|4005 → RENEWAL_COMMITTED 4006 (journal COMMIT)
reaction|drop → COMMIT, less the restart command
EOF
}

report_scan() {
  local s
  echo "Expiry scan, whole runs: median wall time, and CPU time (user + system, children included: less sensitive to other load) in brackets; page cache warm; \`certsteward status --json\` with \`[store] monitor\` set and nothing else to do (its fixed cost, with an empty folder: $(ms "$(r "scan.status_empty")")):"
  echo
  echo "| Files | certsteward (up to 500 files per worker) | per file | worker batched (\`certsteward-worker scan FILE...\`) | floor | shell loop |"
  echo "|---|---|---|---|---|---|"
  for s in ${SIZES}; do
    have "scan.$s.floor" || continue
    echo "| $(nf "$s") | $(ms "$(r "scan.$s.certsteward")") ($(ms "$(r "scan.$s.certsteward_cpu")"))$([ "$(r "scan.$s.left_out")" -gt 0 ] && echo ", first $(nf "$(r "scan.$s.listed")") listed, $(nf "$(r "scan.$s.left_out")") left out") | $(calc "($(r "scan.$s.certsteward") - $(r "scan.status_empty")) / $(r "scan.$s.listed")" "%.2f") ms | $(ms "$(r "scan.$s.batched")") ($(ms "$(r "scan.$s.batched_cpu")")): $(calc "$(r "scan.$s.batched") / $(r "scan.$s.floor")" "%.2f")× floor | $(ms "$(r "scan.$s.floor")") ($(ms "$(r "scan.$s.floor_cpu")")) | $(ms "$(r "scan.$s.shell")") ($(ms "$(r "scan.$s.shell_cpu")")) |"
  done
}

report_validation() {
  echo "Validation of cs-testpki's \`good-aes.pfx\` (AES-256 PFX, leaf + intermediate), $(r "valid.n") runs of each, alternating:"
  echo
  echo "| Program | wall, median | p95 | CPU, median |"
  echo "|---|---|---|---|"
  echo "| \`certsteward check\` (hands over to \`certsteward-worker check\`) | $(ms "$(r "valid.certsteward")") | $(ms "$(r "valid.certsteward_p95")") | $(ms "$(r "valid.certsteward_cpu")") |"
  echo "| \`certsteward-worker check\` alone (the same, without the hand-over) | $(ms "$(r "valid.worker_only")") | — | $(ms "$(r "valid.worker_only_cpu")") |"
  echo "| floor-check (PKCS12_parse + X509_verify_cert) | $(ms "$(r "valid.floor")") | $(ms "$(r "valid.floor_p95")") | $(ms "$(r "valid.floor_cpu")") |"
}

report() {
  echo "## Results"
  echo
  echo "Machine: $(r machine). Load average at the start $(r load_start), at the end $(r load_end); other processes over 10% of a core at the start: ${R[busy_start]:-none}, at the end: ${R[busy_end]:-none}. Version: $(r version). Run: \`bash scripts/bench.sh${BENCH_ARGS}\`, $(( $(r duration) / 60 )) min $(( $(r duration) % 60 )) s."
  echo
  report_table
  if have idle.certsteward.rss || have "scan.${SIZES%% *}.daemon_rss"; then echo; report_idle; fi
  if have react.reaction.median; then echo; report_reaction; fi
  if have scan.status_empty; then echo; report_scan; fi
  if have valid.certsteward; then echo; report_validation; fi
}
