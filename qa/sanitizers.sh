#!/usr/bin/env bash
# The sanitizer stage of the test command (qa/run-tests.sh runs it; it also
# runs alone, as root, after scripts/install-deps.sh): builds the tests with
# AddressSanitizer and UndefinedBehaviorSanitizer (-DXO_SANITIZE=ON) into
# their own tree, build-asan/ (or $XO_ASAN_BUILD_DIR), and runs all of ctest
# there: the unit and BPF tests and the handoff test bed, whose daemons are
# sanitized too (testbed.sh fails on any report in their logs). Only the
# target xo_ctest is built, i.e. what ctest runs, not the daemons, tools or
# benchmarks. Any sanitizer report fails the test that triggered it: ASan
# stops at the first error, UBSan is built not to recover, LeakSanitizer
# checks at every exit. Exit status: ctest's (non-zero if any test failed),
# 1 if the build failed.
# Usage: qa/sanitizers.sh [ctest args...]   e.g. -R tcp_state
set -uo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=${XO_ASAN_BUILD_DIR:-$repo/build-asan}

cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXO_SANITIZE=ON > /dev/null || exit 1
cmake --build "$build" -j"$(nproc)" --target xo_ctest || exit 1

# Leak checking is ASan's default on x86-64, said here so it is not lost;
# UBSan's report carries a stack trace, as ASan's does.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# The packaging test checks the release packages of build/, not sanitized code.
ctest --test-dir "$build" --output-on-failure -j2 -LE packaging "$@"
