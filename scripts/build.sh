#!/usr/bin/env bash
# Configures and builds into build/ (or $XO_BUILD_DIR): everything, or only
# the targets named (the demo builds just the two daemons, a few minutes on a
# fresh machine instead of the whole test build).
#   scripts/build.sh [target...]
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=${XO_BUILD_DIR:-$repo/build}
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE="${XO_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
