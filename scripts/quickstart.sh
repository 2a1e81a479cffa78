#!/usr/bin/env bash
# Builds Switchboard and runs it with the quick-start config (config/switchboard.yaml):
# the embedded SQLite store, the webchat connector at /webhooks/site-chat, on 127.0.0.1:8080.
# Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target switchboard_installed  # all `cmake --install` needs

mkdir -p .switchboard
# The API token: yours if set, else one generated once and kept in .switchboard/api-token.
if [ -z "${SWITCHBOARD_API_TOKEN:-}" ]; then
  [ -s .switchboard/api-token ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > .switchboard/api-token)
  SWITCHBOARD_API_TOKEN=$(cat .switchboard/api-token)
  echo "API token: in .switchboard/api-token (export SWITCHBOARD_API_TOKEN to choose your own)" >&2
fi
export SWITCHBOARD_API_TOKEN
cd .switchboard
exec ../build/release/switchboard run -c ../config/switchboard.yaml
