#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset fuzz) and runs each for a bounded time on
# its seed corpus; a crash or a broken property fails the run and leaves the input in
# build/fuzz/findings/<target>/. FUZZ_SECONDS sets the time per target (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/switchboard-ccache}"
# Paths relative to the checkout, so another clone (CI, a worktree) reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(dirname "$PWD")}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
seconds="${FUZZ_SECONDS:-60}"

# target, seed corpus, longest input
targets=(
  "http_request_fuzz tests/fuzz/corpus/http 8192"
  "webchat_payload_fuzz tests/fuzz/corpus/webchat 65536"
  "vonage_webhook_fuzz tests/fuzz/corpus/vonage 4096"
  "email_mime_fuzz plugins/email/testdata 65536"
)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target $(for t in "${targets[@]}"; do echo "${t%% *}"; done)

failed=0
for entry in "${targets[@]}"; do
  read -r name corpus maxlen <<<"$entry"
  work="build/fuzz/findings/$name"
  rm -rf "$work" && mkdir -p "$work/corpus"
  echo "fuzz: $name for ${seconds}s on $corpus"
  if ! (cd "$work" && "$OLDPWD/build/fuzz/tests/fuzz/$name" -max_len="$maxlen" -max_total_time="$seconds" \
          -print_final_stats=1 corpus "$OLDPWD/$corpus" >log.txt 2>&1); then
    echo "fuzz: $name FAILED; input and log in $work"; tail -30 "$work/log.txt"; failed=1
  else
    grep -E "^stat::number_of_executed_units" "$work/log.txt" | sed "s/^/fuzz: $name /"
  fi
done
exit "$failed"
