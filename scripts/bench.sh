#!/usr/bin/env bash
# The performance benchmark in one command (README, "Performance"): installs what is
# missing, builds certsteward for release (RelWithDebInfo) into build/bench, and runs
# tests/bench/bench.sh, which measures idle footprint (beside certmonger), reaction
# (drop -> COMMIT against nginx on 127.0.0.1), expiry scan and validation, and prints
# the table in Markdown (also written to build/bench/results.md).
#
#   bash scripts/bench.sh            # the full run (about 10 minutes on 2 cores)
#   bash scripts/bench.sh --quick    # a short one while developing (about 2 minutes)
#   CS_BENCH_BUILD_DIR=build/b2 bash scripts/bench.sh   # another build folder
#   bash scripts/bench.sh --help     # every option of tests/bench/bench.sh
#
# Not part of the pass/fail test run (scripts/test.sh). Debian 12, as root or with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${CS_BENCH_BUILD_DIR:-build/bench}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

log() { printf '[bench] %s\n' "$*" >&2; }

for a in "$@"; do
  case $a in -h|--help) exec bash tests/bench/bench.sh --help ;; esac
done

# ---- packages ---------------------------------------------------------------------------
# The build and nginx / jq / openssl come with the project's own list; the benchmark adds
# certmonger (the comparison; it pulls in dbus) and strace (the idle window's system calls).
bash scripts/deps.sh build
had_certmonger=$(dpkg-query -W -f='${Status}' certmonger 2>/dev/null | grep -c "install ok installed" || true)
# Neither certmonger nor the dbus it pulls in may start a daemon (deps.sh's policy-rc.d says
# no): the benchmark starts its own, private ones.
daemons() { { pgrep -x certmonger; pgrep -x dbus-daemon; } | sort || true; }
before=$(daemons)
bash scripts/deps.sh bench
# The package enables certmonger at boot: installed for this comparison only, it is disabled
# again (update-rc.d handles both the systemd unit and the init script).
if [ "$had_certmonger" = 0 ]; then
  $SUDO update-rc.d certmonger disable >/dev/null 2>&1 || log "could not disable certmonger at boot"
fi
# Whatever the installation started anyway (no policy-rc.d honoured, say) is ended, by PID.
for pid in $(comm -13 <(echo "$before") <(daemons)); do
  log "the installation started $(ps -o comm= -p "$pid" 2>/dev/null || echo '?') (pid $pid): ending it"
  $SUDO kill "$pid" 2>/dev/null || true
done

# ---- build ------------------------------------------------------------------------------
log "building into $B (RelWithDebInfo)"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_TEST_HOOKS=OFF -DCS_SANITIZE=OFF -DCS_FUZZ=OFF \
  -DCS_BUILD_TESTS=ON >/dev/null
cmake --build "$B" -j"$(nproc)" --target certsteward certsteward-worker cs-testpki >/dev/null

exec bash tests/bench/bench.sh --build "$B" "$@"
