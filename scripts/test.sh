#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test, with warnings as errors
# (CS_WERROR, off by default for people building the project):
#  0. the C files formatted as .clang-format says (scripts/format.sh --check; seconds);
#  1. the native build (RelWithDebInfo) and its tests;
#  2. the same tests once more under AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. the libFuzzer targets (clang): their seed corpora and a fixed, seeded run each;
#  4. the unit tests and the daemon's tests once more under ThreadSanitizer (the loop
#     thread and libuv's thread pool share the event sinks and the daemon's state);
#  5. GCC's static analyzer (-fanalyzer) over the product's code (common/, service/), in
#     the native build and in the Windows cross-build (common/win/ and the Windows service
#     files, which only the latter compiles);
#  6. Release builds with gcc and with clang (built, not run: the optimiser's warnings);
#  7. the Windows executables (mingw-w64, static) and their tests under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

bash scripts/deps.sh

echo "== format (scripts/format.sh --check)"
bash scripts/format.sh --check

run_suite() { # run_suite BUILD_DIR CMAKE_ARGS...
  local dir=$1; shift
  echo "== build $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_TEST_HOOKS=ON -DCS_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
  if [ -f "$dir/CPackConfig.cmake" ]; then # the Debian package tests/integration/deb.sh installs
    echo "== package $dir"
    (cd "$dir" && cpack -G DEB >/dev/null)
  fi
  echo "== test $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --timeout 300
}

run_suite build/native
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build/asan -DCS_SANITIZE=ON
CC=clang run_suite build/fuzz -DCS_FUZZ=ON

# ThreadSanitizer: the unit tests and the daemon's (its thread pool), every report an error.
# Reports also go to files, so that one in a process a test does not watch (a daemon
# started in the background) still fails the run. Not daemon_under_valgrind: valgrind
# cannot run a ThreadSanitizer build. gcc, whose runtime (libtsan2) deps.sh installs.
echo "== build build/tsan (ThreadSanitizer)"
CC=gcc cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_TEST_HOOKS=ON -DCS_WERROR=ON -DCS_TSAN=ON >/dev/null
cmake --build build/tsan -j"$JOBS"
echo "== test build/tsan (unit and daemon tests)"
rm -rf build/tsan/reports && mkdir -p build/tsan/reports
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$PWD/build/tsan/reports/tsan" \
  ctest --test-dir build/tsan --output-on-failure -j"$JOBS" --timeout 300 -R '^(pki|test_[a-z_]+|daemon)\.' \
  -E '^daemon\.daemon_under_valgrind$'
if compgen -G 'build/tsan/reports/tsan*' >/dev/null; then
  cat build/tsan/reports/tsan* >&2
  echo "ThreadSanitizer reported the above" >&2
  exit 1
fi

echo "== build build/analyzer (gcc -fanalyzer on common/ and service/, warnings as errors)"
CC=gcc cmake -S . -B build/analyzer -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_WERROR=ON -DCS_ANALYZER=ON \
  -DCS_BUILD_TESTS=OFF >/dev/null
cmake --build build/analyzer -j"$JOBS" >/dev/null
echo "== build build/win64-analyzer (mingw-w64 gcc -fanalyzer on common/ and service/, warnings as errors)"
bash scripts/win-build.sh --analyze # builds only: the Windows tests run once, below
for cc in gcc clang; do
  echo "== build build/release-$cc (Release, $cc, warnings as errors)"
  CC=$cc cmake -S . -B "build/release-$cc" -DCMAKE_BUILD_TYPE=Release -DCS_WERROR=ON >/dev/null
  cmake --build "build/release-$cc" -j"$JOBS" >/dev/null
done
echo "== build and test build/win64 (x86-64 Windows, mingw-w64; tests under Wine)"
bash scripts/win-build.sh
