#!/usr/bin/env bash
# Installs what is needed, builds tidewatch with -Werror and AddressSanitizer +
# UndefinedBehaviorSanitizer, and runs every test (unit, integration, short
# fuzz runs). This is what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
build=${TIDEWATCH_TEST_BUILD:-build-test}
# -O1 -g1: under the sanitizers this halves the compile time of the CAF-heavy
# files against -O2 -g (CI has 2 cores), and ASan's reports keep file:line.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DTIDEWATCH_WERROR=ON -DTIDEWATCH_SANITIZE=ON -DTIDEWATCH_FUZZ=ON \
  $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake --build "$build" -j "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan-suppressions.txt:print_suppressions=0}
ctest --test-dir "$build" --output-on-failure -j 2 --timeout 900
