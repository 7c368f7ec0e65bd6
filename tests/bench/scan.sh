# Expiry scan (sourced by bench.sh): a folder of S PEM certificates listed with
# their expiry by certsteward ([store] monitor, through `certsteward status --json`,
# which scans as the daemon's expiry check does: up to 500 files per worker process),
# against the floor (floor-scan: OpenSSL parses each file and reads notAfter, one
# process for the folder) and against the admin's shell loop (openssl x509 -checkend
# per file). Also measured: the worker's batched mode alone (certsteward-worker
# scan FILE..., as find -exec {} + groups them). Every figure is a whole run, page cache warm (one run first).

# scan_setup DIR SIZES...: DIR/all with the largest size, DIR/mS with the first S of it
scan_setup() {
  local d=$1 max=0 s
  shift
  for s in "$@"; do [ "$s" -gt "$max" ] && max=$s; done
  mkdir -p "$d/all" "$d/empty" "$d/state"
  log "making $max certificates"
  "$TOOLS/gencerts" monitor "$d/all" "$max" || die "gencerts monitor"
  for s in "$@"; do
    mkdir -p "$d/m$s"
    (cd "$d/all" && ls | sort | awk -v n="$s" 'NR <= n' | xargs ln -t "$d/m$s") # hard links: regular files
    [ "$(ls "$d/m$s" | wc -l)" -eq "$s" ] || die "the folder of $s certificates"
  done
}

# scan_config DIR FOLDER: a configuration that monitors FOLDER, and nothing else to do
scan_config() {
  printf '[store]\nstate_dir = %s/state\nmonitor = %s\n' "$1" "$2" > "$1/scan-$(basename "$2").ini"
  echo "$1/scan-$(basename "$2").ini"
}

# timed RUNS FILE STATUS CMD...: one warm-up, then RUNS runs; FILE gets their times (ms)
timed() {
  local runs=$1 file=$2 st=$3
  shift 3
  "$TOOLS/benchtool" spawn 1 "$st" "$@" >/dev/null || die "warm-up run failed: $*"
  "$TOOLS/benchtool" spawn "$runs" "$st" "$@" > "$file" || die "run failed: $*"
}

# scan_run DIR RUNS SIZE: results scan.SIZE.*
scan_run() {
  local d=$1 runs=$2 s=$3 dir cfg listed left expect_listed
  dir=$d/m$s
  cfg=$(scan_config "$d" "$dir")
  # what certsteward lists must be right, or its time means nothing
  "$CS" status --json --config "$cfg" > "$d/status-$s.json" || die "certsteward status ($s files)"
  listed=$(jq '[.monitored.files[] | select(.not_after != null and .error == null)] | length' "$d/status-$s.json")
  left=$(jq '.monitored.left_out' "$d/status-$s.json")
  expect_listed=$((s < 10000 ? s : 10000))
  [ "$listed" -eq "$expect_listed" ] || die "certsteward status described $listed of $s files, expected $expect_listed"
  res "scan.$s.listed" "$listed"
  res "scan.$s.left_out" "$left"
  log "scan of $s: floor"
  timed "$runs" "$d/floor-$s.ms" 0 "$TOOLS/floor-scan" "$dir" 30
  res "scan.$s.floor" "$(median "$d/floor-$s.ms")"
  res "scan.$s.floor_cpu" "$(median "$d/floor-$s.ms" 2)"
  "$TOOLS/floor-scan" "$dir" 30 | grep -q "^parsed $s failed 0 " || die "floor-scan did not parse every file"
  log "scan of $s: certsteward status"
  timed "$(((runs + 1) / 2))" "$d/cs-$s.ms" 0 "$CS" status --json --config "$cfg"
  res "scan.$s.certsteward" "$(median "$d/cs-$s.ms")"
  res "scan.$s.certsteward_cpu" "$(median "$d/cs-$s.ms" 2)"
  log "scan of $s: certsteward-worker scan, batched by find"
  timed "$runs" "$d/batch-$s.ms" 0 /usr/bin/find "$dir" -type f -exec "$WORKER" scan {} +
  res "scan.$s.batched" "$(median "$d/batch-$s.ms")"
  res "scan.$s.batched_cpu" "$(median "$d/batch-$s.ms" 2)"
  [ "$(find "$dir" -type f -exec "$WORKER" scan {} + | grep -c '^not_after_epoch ')" -eq "$s" ] ||
    die "the batched worker did not describe every file"
  log "scan of $s: openssl x509 -checkend shell loop"
  # the loop an admin writes: one openssl process per file; run once (it is the slow one)
  # shellcheck disable=SC2016 # $1 and $f are the inner shell's
  "$TOOLS/benchtool" spawn 1 0 /bin/bash -c \
    'for f in "$1"/*; do openssl x509 -in "$f" -noout -checkend 2592000 >/dev/null || echo "$f"; done' \
    loop "$dir" > "$d/shell-$s.ms" || die "the shell loop failed"
  res "scan.$s.shell" "$(median "$d/shell-$s.ms")"
  res "scan.$s.shell_cpu" "$(median "$d/shell-$s.ms" 2)"
}

# scan_overhead DIR RUNS: certsteward status with an empty monitored folder (its fixed cost)
scan_overhead() {
  local cfg; cfg=$(scan_config "$1" "$1/empty")
  timed "$2" "$1/cs-empty.ms" 0 "$CS" status --json --config "$cfg"
  res scan.status_empty "$(median "$1/cs-empty.ms")"
}

# scan_daemon_rss DIR SIZE: the daemon's idle RSS once it lists a monitored folder of
# SIZE files (it keeps the list in <state_dir>/monitored for the metrics): result scan.SIZE.daemon_rss
scan_daemon_rss() {
  local d=$1 s=$2 n=0 pid
  mkdir -p "$d/daemon-$s/state"
  mkdir -m 700 "$d/daemon-$s/drop"
  printf '[store]\nstate_dir = state\nmonitor = %s\n\n[watch]\nfolder = drop\n' "$d/m$s" > "$d/daemon-$s/cs.ini"
  "$CS" run --config "$d/daemon-$s/cs.ini" >"$d/daemon-$s/out" 2>&1 &
  pid=$!
  started "$pid"
  for _ in $(seq 1200); do # the first scan, 120 s at most
    n=$(grep -c "^certsteward_certificate_not_after_seconds{.*source=\"$d/m$s/" "$d/daemon-$s/state/certsteward.prom" 2>/dev/null || true)
    [ "${n:-0}" -ge "$(r "scan.$s.listed")" ] && break
    kill -0 "$pid" 2>/dev/null || die "the daemon exited: $(cat "$d/daemon-$s/out")"
    sleep 0.1
  done
  [ "${n:-0}" -ge "$(r "scan.$s.listed")" ] || die "the daemon did not list the $s files within 120 s"
  sleep 2
  res "scan.$s.daemon_rss" "$(status_kib "$pid" VmRSS)"
  stop_pid "$pid"
}
