#!/usr/bin/env bash
# Runs the whole test suite: the dev build (warnings are errors) with every test, then the
# ASan/UBSan build with every test but the slow SDK package build, then every libFuzzer
# target for a bounded time (scripts/fuzz.sh). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/switchboard-ccache}"
# Paths relative to the checkout, so another clone (CI, a worktree) reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(dirname "$PWD")}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev

cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -E 'SdkPackage'

./scripts/fuzz.sh
