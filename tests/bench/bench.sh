#!/usr/bin/env bash
# certsteward's benchmark: idle footprint (beside certmonger, with the drop folder and a
# certbot-style [store] adopt_from watched), reaction (drop -> COMMIT, then certbot's
# link flip -> COMMIT),
# expiry scan and validation, on this machine in one run; prints the results as
# Markdown (also written to --out). Not part of the pass/fail tests. Run it through
# scripts/bench.sh, which installs what is missing and builds; directly:
#   bash tests/bench/bench.sh --build build/bench [--quick] [options]
# Network: 127.0.0.1 only. Every process it starts is ended by PID when it exits.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

usage() {
  cat <<'EOF'
usage: bench.sh --build DIR [options]
  --build DIR       the build folder (certsteward, certsteward-worker, cs-testpki built there)
  --quick           short run while developing: --window 10 --renewals 5 --adoptions 3 --sizes 1000
                    --runs 20 --scan-runs 3 (options after it still apply)
  --window S        each idle window, seconds (default 60; two windows are measured)
  --renewals N      drop -> COMMIT renewals (default 30)
  --adoptions N     [store] adopt_from -> COMMIT renewals after them (default 10)
  --sizes "A B"     monitored folder sizes (default "1000 10000")
  --runs N          validation runs of each program (default 100)
  --scan-runs N     runs of each scan (default 5; certsteward's own scan runs half as often)
  --only LIST       comma-separated parts: idle,reaction,scan,validation (default all;
                    idle and reaction share one daemon: idle needs reaction's set-up)
  --out FILE        Markdown results (default DIR/results.md)
  --keep            keep the work folder (temporary files, logs, every timing)
EOF
}

B='' WINDOW=60 RENEWALS=30 ADOPTIONS=10 SIZES="1000 10000" RUNS=100 SCAN_RUNS=5 ONLY=idle,reaction,scan,validation OUT='' KEEP=''
BENCH_ARGS='' # the options as given, less --build: the command the report names
while [ $# -gt 0 ]; do
  case $1 in
    --build) B=${2:?--build needs a value}; shift 2; continue ;;
    --quick) WINDOW=10 RENEWALS=5 ADOPTIONS=3 SIZES=1000 RUNS=20 SCAN_RUNS=3 ;;
    --window) WINDOW=${2:?--window needs a value} ;;
    --renewals) RENEWALS=${2:?--renewals needs a value} ;;
    --adoptions) ADOPTIONS=${2:?--adoptions needs a value} ;;
    --sizes) SIZES=${2:?--sizes needs a value} ;;
    --runs) RUNS=${2:?--runs needs a value} ;;
    --scan-runs) SCAN_RUNS=${2:?--scan-runs needs a value} ;;
    --only) ONLY=${2:?--only needs a value} ;;
    --out) OUT=${2:?--out needs a value} ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  case $1 in
    --quick|--keep) BENCH_ARGS="$BENCH_ARGS $1"; shift ;;
    *) BENCH_ARGS="$BENCH_ARGS $1 '$2'"; shift 2 ;;
  esac
done
[ -n "$B" ] || { usage >&2; exit 2; }
B=$(cd "$B" && pwd)
OUT=${OUT:-$B/results.md}
CS=$B/service/certsteward
WORKER=$B/service/certsteward-worker
TESTPKI=$B/tests/cs-testpki
for f in "$CS" "$WORKER" "$TESTPKI"; do [ -x "$f" ] || { echo "missing $f: build it first (scripts/bench.sh does)" >&2; exit 2; }; done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

source "$HERE/lib.sh"
source "$HERE/idle.sh"
source "$HERE/reaction.sh"
source "$HERE/scan.sh"
source "$HERE/validation.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/cs-bench.XXXXXX")
finish() {
  local rc=$?
  stop_all
  if [ -n "$KEEP" ] || [ "$rc" != 0 ]; then log "work folder kept: $W"; else rm -rf "$W"; fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM
: > "$W/results"
T_START=$(date +%s)

# ---- the benchmark's own programs, outside the product's build -------------------------
TOOLS=$B/bench-tools
mkdir -p "$TOOLS"
CFLAGS_BENCH=(-std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
              -Wmissing-prototypes -Wwrite-strings -Wcast-qual -Wvla -Werror)
build_tool() { # build_tool NAME SOURCE PKG-CONFIG-MODULES...
  local name=$1 src=$HERE/$2
  shift 2
  # shellcheck disable=SC2046
  cc "${CFLAGS_BENCH[@]}" -o "$TOOLS/$name" "$src" $( [ $# -eq 0 ] || pkg-config --cflags --libs "$@") ||
    die "cannot build $name"
}
build_tool benchtool benchtool.c
build_tool floor-scan floor_scan.c libcrypto
build_tool floor-check floor_check.c libcrypto
build_tool gencerts gencerts.c libcrypto
build_tool uv-idle uv_idle.c libuv

# ---- the machine -----------------------------------------------------------------------
machine() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
  printf '%s, %s cores, %s, Linux %s, %s%s' "$cpu" "$(nproc)" "$mem" "$(uname -r)" \
    "$(. /etc/os-release && echo "$PRETTY_NAME")" \
    "$(command -v systemd-detect-virt >/dev/null && v=$(systemd-detect-virt 2>/dev/null) && echo ", systemd-detect-virt: $v")"
}
# busy: the other processes using more than 10% of a core now (top's second sample)
busy() {
  top -b -n 2 -d 1 -w 200 2>/dev/null | awk '/^ *PID/ {n++; next} n == 2 && $9 + 0 > 10 {printf "%s%s %s%%", sep, $12, $9; sep = ", "}'
}
res machine "$(machine)"
res load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
res busy_start "$(busy)"
res version "$("$CS" version 2>/dev/null | sed -n 1p) ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no git'))"
log "machine: ${R[machine]}; load ${R[load_start]}; busy: ${R[busy_start]:-nothing else}"

# ---- idle footprint and reaction: one daemon, one nginx ---------------------------------
if wants idle || wants reaction; then
  log "reaction set-up: $((RENEWALS)) renewals, nginx on 127.0.0.1"
  react_setup "$W/react" "$RENEWALS" "$ADOPTIONS"
  react_start "$W/react"
  T_DAEMON=$(date +%s)
  log "daemon running (pid $DAEMON_PID), nginx on 127.0.0.1:$NGINX_PORT"
  if wants idle; then
    cm_state() { find /var/lib/certmonger -type f 2>/dev/null | sort; }
    cm_before=$(cm_state)
    start_certmonger "$W/cm" "$W/react/pki/current.pem" "$W/react/pki/key.pem"
    [ "$(cm_state)" = "$cm_before" ] || die "certmonger wrote into /var/lib/certmonger: $(cm_state)"
    "$TOOLS/uv-idle" 2>/dev/null &
    UV_PID=$!
    started "$UV_PID"
    sleep 3 # every start-up done
    T_IDLE=$(date +%s)
    res idle.window "$WINDOW"
    idle_measure "$WINDOW" certsteward="$DAEMON_PID" certmonger="$CM_PID" uvloop="$UV_PID"
    T_IDLE_END=$(date +%s)
    res idle.bus.rss "$(status_kib "$CM_BUS_PID" VmRSS)"
    # timers due in the windows: the rescan, every rescan_interval (300 s, reaction.sh) since the start
    res idle.due $(( (T_IDLE_END - T_DAEMON) / 300 - (T_IDLE - T_DAEMON) / 300 ))
    stop_pid "$UV_PID"
    stop_pid "$CM_PID"
    stop_pid "$CM_BUS_PID"
  fi
  if wants reaction; then
    log "reaction: $RENEWALS renewals"
    react_run "$W/react" "$RENEWALS"
    react_analyse "$W/react"
    if [ "$ADOPTIONS" -gt 0 ]; then
      log "adoption: $ADOPTIONS renewals by a certbot-style folder"
      adopt_run "$W/react" "$RENEWALS" "$ADOPTIONS"
      adopt_analyse "$W/react" "$RENEWALS"
    fi
    sleep 2
    res idle.certsteward.rss_after "$(status_kib "$DAEMON_PID" VmRSS)"
  fi
  stop_all
fi

# ---- scan --------------------------------------------------------------------------------
if wants scan; then
  # shellcheck disable=SC2086
  scan_setup "$W/scan" $SIZES
  scan_overhead "$W/scan" "$SCAN_RUNS"
  for s in $SIZES; do scan_run "$W/scan" "$SCAN_RUNS" "$s"; done
  s=${SIZES%% *}
  log "the daemon's RSS with [store] monitor of $s files"
  scan_daemon_rss "$W/scan" "$s"
fi

# ---- validation --------------------------------------------------------------------------
if wants validation; then
  log "validation: $RUNS runs each"
  valid_run "$W/valid" "$RUNS"
fi

res load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
res busy_end "$(busy)"
res duration $(($(date +%s) - T_START))
source "$HERE/report.sh"
report > "$OUT"
cat "$OUT"
log "written to $OUT (took $(( R[duration] / 60 )) min $(( R[duration] % 60 )) s)"
