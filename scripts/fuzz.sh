#!/usr/bin/env bash
# Fuzz one target for as long as you like (the test run does a fixed, short run).
#   bash scripts/fuzz.sh TARGET [SECONDS]     TARGET: load config reply bindings text
# New inputs go to build/fuzz/found-TARGET; a crash leaves crash-* in the current
# folder: add it to tests/fuzz/corpus/TARGET/ (it then runs in every test run) and fix.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?target: load config reply bindings text}
seconds=${2:-600}
bash scripts/deps.sh
command -v clang >/dev/null || apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_FUZZ=ON >/dev/null
cmake --build build/fuzz -j"$(nproc)" --target "fuzz_$target"
mkdir -p "build/fuzz/tests/fuzz/found-$target"
exec "build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=20 \
  "build/fuzz/tests/fuzz/found-$target" "tests/fuzz/corpus/$target"
