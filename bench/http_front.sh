#!/usr/bin/env bash
# The HTTP front under many connections: wrk at 1, 50, 500 and 5,000 connections against the
# durable webhook ingest of this build, nginx `return 200` (the ceiling) and, optionally, a
# previous switchboard build, all in the same run. See bench/README.md, "HTTP front".
#
#   bench/http_front.sh [--sb BIN --plugins DIR] [--prev BIN --prev-plugins DIR] [--out DIR]
#
# Defaults: build/release/switchboard and its plugins-out. Environment: DURATION (10 s per
# point), CONNS ("1 50 500 5000"), THREADS (2). Writes OUT/front_<target>_<conns>.json (wrk's
# BENCH_JSON line) and OUT/front.md (the table).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SB="$ROOT/build/release/switchboard" PLUGINS="$ROOT/build/release/plugins-out"
PREV="" PREV_PLUGINS="" OUT="$BENCH_DIR/results/front"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sb) SB="$2"; shift ;;
    --plugins) PLUGINS="$2"; shift ;;
    --prev) PREV="$2"; shift ;;
    --prev-plugins) PREV_PLUGINS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
DURATION=${DURATION:-10} CONNS=${CONNS:-"1 50 500 5000"} THREADS=${THREADS:-2}
PAYLOAD="$BENCH_DIR/payload/webchat_message.json"
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx (bench/run.sh installs them)" >&2; exit 1; }
ulimit -n 20000  # 5,000 client sockets here and 5,000 server sockets there
mkdir -p "$OUT"
rm -f "$OUT"/front_*.json
TMP=$(mktemp -d /tmp/switchboard-front.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
log() { printf '[front %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ok() {  # url: until a POST is stored (200)
  for ((i = 0; i < 300; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
         -d '{"id":"warmup-0","from":{"email":"w@example.com"},"text":"warm"}' "$1" || true) == 200 ]] && return 0
    sleep 0.1
  done
  echo "no 200 from $1" >&2; return 1
}
sweep() {  # name url
  for c in $CONNS; do
    local t=$THREADS; ((c < t)) && t=$c
    log "$1: $c connections, ${DURATION}s"
    printf '%s\n' "wrk -t$t -c$c -d${DURATION}s --latency -s bench/wrk/ingest.lua $2 -- PAYLOAD $1-$c" >> "$OUT/commands.txt"
    wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/wrk/ingest.lua" "$2" -- "$PAYLOAD" "$1-$c" \
      > "$TMP/wrk.out" 2>&1 || { cat "$TMP/wrk.out" >&2; return 1; }
    grep '^BENCH_JSON ' "$TMP/wrk.out" | sed 's/^BENCH_JSON //' > "$OUT/front_${1}_$c.json"
    sed -n '/Requests\/sec/p' "$TMP/wrk.out" >&2
  done
}
# host NAME BIN PLUGINS EXTRA_SERVER_YAML
host() {
  local d="$TMP/$1" port; mkdir -p "$d"; port=$(free_port)
  cat > "$d/switchboard.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
$4
store:
  sqlite: { path: $d/sb.db }
plugins:
  paths: [ $3 ]
log:
  level: warn
connectors:
  - name: site-chat
    plugin: webchat
YAML
  "$2" run -c "$d/switchboard.yaml" > "$d/switchboard.log" 2>&1 & local pid=$!; PIDS+=("$pid")
  wait_ok "http://127.0.0.1:$port/webhooks/site-chat"
  sweep "$1" "http://127.0.0.1:$port/webhooks/site-chat"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

: > "$OUT/commands.txt"
# Every wrk connection comes from 127.0.0.1: lift the per-client limit (the previous front has none).
host switchboard "$SB" "$PLUGINS" "  max_connections_per_client: 0"
[[ -n "$PREV" ]] && host previous "$PREV" "${PREV_PLUGINS:-$(dirname "$PREV")/plugins-out}" ""

d="$TMP/nginx"; mkdir -p "$d/body"; port=$(free_port)
cat > "$d/nginx.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile 20000;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $d/body;
    server { listen 127.0.0.1:$port backlog=4096; location / { return 200 "ok\n"; } }
}
CONF
nginx -p "$d" -c "$d/nginx.conf" & npid=$!; PIDS+=("$npid")
for ((i = 0; i < 50; i++)); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
sweep nginx "http://127.0.0.1:$port/ingest"
kill "$npid"; wait "$npid" 2>/dev/null || true

python3 - "$OUT" "$CONNS" <<'PY'
import json, os, sys
out, conns = sys.argv[1], sys.argv[2].split()
def load(name, c):
    p = os.path.join(out, f"front_{name}_{c}.json")
    return json.load(open(p)) if os.path.exists(p) else None
rows = ["| target | connections | req/s | p50 ms | p99 ms | errors (connect/read/write/status/timeout) | vs nginx |",
        "|---|---|---|---|---|---|---|"]
for name in ("switchboard", "previous", "nginx"):
    for c in conns:
        r = load(name, c)
        if not r: continue
        rate = r["requests"] / (r["duration_us"] / 1e6)
        n = load("nginx", c)
        ratio = f'{rate / (n["requests"] / (n["duration_us"] / 1e6)):.3f}x' if n and name != "nginx" else ""
        e = r["errors"]
        rows.append(f'| {name} | {c} | {rate:,.0f} | {r["latency_us"]["p50"]/1000:.2f} | {r["latency_us"]["p99"]/1000:.2f} | '
                    f'{e["connect"]}/{e["read"]}/{e["write"]}/{e["status"]}/{e["timeout"]} | {ratio} |')
open(os.path.join(out, "front.md"), "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
