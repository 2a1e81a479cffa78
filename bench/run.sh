#!/usr/bin/env bash
# Switchboard benchmarks: one command, everything on loopback. See bench/README.md.
#
#   bench/run.sh                 full run (~16 min on 2 cores): builds the release preset,
#                                installs wrk + nginx (Debian) and Node-RED (npm, into
#                                bench/.cache), runs every figure RUNS times, writes
#                                bench/results/latest.{md,json}
#   bench/run.sh --smoke         seconds-long pass through the whole harness (1 run, tiny sizes,
#                                results in bench/results/smoke/); a harness check, not figures
# Options: --skip-build  --no-install  --out DIR
# Environment: RUNS (3) DURATION (20 s per wrk run) GROWTH_DURATION (10) BULK_RECORDS (1000000)
#              OPENLOOP_DURATION (20) CONNECTIONS (50) THREADS (2) SB_BENCH_TMP (dir on the disk to measure)
#              PREV_SB (an older switchboard binary for the HTTP front sweep, bench/http_front.sh)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD="$ROOT/build/release"
SMOKE=0 BUILD_IT=1 INSTALL=1 OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --skip-build) BUILD_IT=0 ;;
    --no-install) INSTALL=0 ;;
    --out) OUT="$2"; shift ;;
    --build-dir) BUILD="$2"; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $SMOKE == 1 ]]; then
  RUNS=${RUNS:-1} DURATION=${DURATION:-2} GROWTH_DURATION=${GROWTH_DURATION:-1} OPENLOOP_DURATION=${OPENLOOP_DURATION:-2}
  BULK_RECORDS=${BULK_RECORDS:-3000} GROWTH_MARKS=${GROWTH_MARKS:-1000,2000,3000} LOOKUPS=${LOOKUPS:-200}
  MICRO_MIN_TIME=${MICRO_MIN_TIME:-0.01} OUT=${OUT:-$BENCH_DIR/results/smoke}
else
  RUNS=${RUNS:-3} DURATION=${DURATION:-20} GROWTH_DURATION=${GROWTH_DURATION:-10} OPENLOOP_DURATION=${OPENLOOP_DURATION:-20}
  BULK_RECORDS=${BULK_RECORDS:-1000000} GROWTH_MARKS=${GROWTH_MARKS:-10000,100000,1000000} LOOKUPS=${LOOKUPS:-20000}
  MICRO_MIN_TIME=${MICRO_MIN_TIME:-0.5} OUT=${OUT:-$BENCH_DIR/results}
fi
CONNECTIONS=${CONNECTIONS:-50} THREADS=${THREADS:-2}
CACHE="$BENCH_DIR/.cache"
PAYLOAD="$BENCH_DIR/payload/webchat_message.json"
RAW="$OUT/raw"
TMP=$(mktemp -d "${SB_BENCH_TMP:-/tmp}/switchboard-bench.XXXXXX")
mkdir -p "$RAW" "$CACHE"
rm -f "$RAW"/*.json "$RAW"/*.txt
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Runs a command and records it verbatim in raw/commands.txt (for the results table).
run() { printf '%s\n' "$*" >> "$RAW/commands.txt"; "$@"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # port timeout_s
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open" >&2; return 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# --- 0. tools -------------------------------------------------------------------------------
if [[ $INSTALL == 1 ]]; then
  if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    log "installing wrk and nginx-light from Debian"
    # nginx must not start as a system service on install.
    [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
  fi
  if [[ ! -x "$CACHE/node-red/node_modules/.bin/node-red" ]]; then
    log "installing Node-RED from npm into $CACHE/node-red"
    npm install --prefix "$CACHE/node-red" --no-audit --no-fund node-red >/dev/null
  fi
fi

# --- 1. build -------------------------------------------------------------------------------
if [[ $BUILD_IT == 1 ]]; then
  log "building the release preset"
  (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target switchboard switchboard_bundled_plugins switchboard_bench >/dev/null)
fi
SB="$BUILD/switchboard"
BIN="$BUILD/bench"
PLUGIN_DIR="$BUILD/plugins-out"
for f in "$SB" "$BIN/sb_bench_micro" "$BIN/sb_bench_bulk" "$BIN/sb_bench_openloop" "$BIN/switchboard-bench-source.so"; do
  [[ -e "$f" ]] || { echo "missing $f: build the release preset (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
done

# --- machine --------------------------------------------------------------------------------
python3 - "$RAW/machine.json" "$ROOT" "$TMP" <<'PY'
import json, os, platform, subprocess, sys, datetime, shutil
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception: return ""
out, root, tmp = sys.argv[1:4]
model = next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
commit = sh(f"git -C '{root}' rev-parse HEAD") or "unknown"
dirty = sh(f"git -C '{root}' status --porcelain")
json.dump({
  "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
  "host": platform.node(), "cpu": model, "cores": os.cpu_count(), "mem_gib": round(int(mem)/1048576, 1),
  "kernel": platform.release(), "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
  "disk": sh(f"df -T '{tmp}' | tail -1 | awk '{{print $1\" \"$2}}'"),
  "commit": commit, "worktree_dirty": bool(dirty), "dirty_paths": dirty.splitlines()[:20],
  "compiler": sh("c++ --version | head -1"), "sqlite": sh("sqlite3 --version | cut -d' ' -f1"),
  "wrk": sh("wrk -v 2>&1 | head -1"), "nginx": sh("nginx -v 2>&1"),
  "node": sh("node --version"),
  "node_red": sh(f"node -p \"require('{root}/bench/.cache/node-red/node_modules/node-red/package.json').version\""),
  "load_avg_at_start": os.getloadavg(),
}, open(out, "w"), indent=2)
PY
printf '%s\n' "RUNS=$RUNS DURATION=$DURATION GROWTH_DURATION=$GROWTH_DURATION OPENLOOP_DURATION=$OPENLOOP_DURATION BULK_RECORDS=$BULK_RECORDS CONNECTIONS=$CONNECTIONS THREADS=$THREADS SMOKE=$SMOKE" > "$RAW/settings.txt"

# wrk_run NAME URL RUNID -> raw/wrk_NAME.json (one JSON line)
wrk_run() {
  local name=$1 url=$2 id=$3 dur=${4:-$DURATION}
  run wrk -t"$THREADS" -c"$CONNECTIONS" -d"${dur}s" --latency -s "$BENCH_DIR/wrk/ingest.lua" "$url" -- "$PAYLOAD" "$id" \
    > "$TMP/wrk.out" 2>&1 || { cat "$TMP/wrk.out" >&2; return 1; }
  grep '^BENCH_JSON ' "$TMP/wrk.out" | sed 's/^BENCH_JSON //' > "$RAW/wrk_$name.json"
  sed -n '/Requests\/sec/p' "$TMP/wrk.out" >&2
}

# start_switchboard DIR DB -> sets SB_PID SB_PORT
start_switchboard() {
  local dir=$1 db=$2
  SB_PORT=$(free_port)
  cat > "$dir/switchboard.yaml" <<YAML
server:
  listen: 127.0.0.1:$SB_PORT
store:
  sqlite:
    path: $db
log:
  level: warn
connectors:
  - name: site-chat
    plugin: webchat
    options: {}
YAML
  "$SB" run -c "$dir/switchboard.yaml" > "$dir/switchboard.log" 2>&1 &
  SB_PID=$!
  PIDS+=("$SB_PID")
  wait_port "$SB_PORT" 30
  # The connector starts on its own thread: wait until a POST is accepted.
  local i
  for ((i = 0; i < 100; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
      -d '{"id":"warmup-0","from":{"email":"w@example.com"},"text":"warm"}' "http://127.0.0.1:$SB_PORT/webhooks/site-chat" || true)
    [[ $code == 200 ]] && return 0
    sleep 0.1
  done
  echo "switchboard did not accept webhooks" >&2; cat "$dir/switchboard.log" >&2; return 1
}

# --- 2. micro-benchmarks --------------------------------------------------------------------
log "micro-benchmarks"
SB_BENCH_TMP="$TMP" SB_BENCH_PLUGIN_DIR="$PLUGIN_DIR" SB_BENCH_PAYLOAD="$PAYLOAD" \
  run "$BIN/sb_bench_micro" --benchmark_repetitions="$RUNS" --benchmark_min_time="$MICRO_MIN_TIME" \
  --benchmark_out="$RAW/micro.json" --benchmark_out_format=json >/dev/null

# --- 3. durable ingest: wrk closed loop ----------------------------------------------------
for ((r = 1; r <= RUNS; r++)); do
  log "switchboard ingest run $r/$RUNS"
  d="$TMP/sb-$r"; mkdir -p "$d"
  start_switchboard "$d" "$d/sb.db"
  wrk_run "switchboard_$r" "http://127.0.0.1:$SB_PORT/webhooks/site-chat" "wrk$r"
  python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from messages').fetchone()[0])" "$d/sb.db" \
    > "$RAW/stored_switchboard_$r.txt" 2>/dev/null || true
  stop_pid "$SB_PID"
done

# --- 4. p99 at half the measured maximum rate: open loop -----------------------------------
HALF=$(python3 -c "
import json,glob,statistics
r=[json.load(open(f)) for f in sorted(glob.glob('$RAW/wrk_switchboard_*.json'))]
print(max(1, round(statistics.median(x['requests']/(x['duration_us']/1e6) for x in r)/2)))")
echo "$HALF" > "$RAW/half_rate.txt"
for ((r = 1; r <= RUNS; r++)); do
  log "open-loop latency run $r/$RUNS at $HALF req/s"
  d="$TMP/ol-$r"; mkdir -p "$d"
  start_switchboard "$d" "$d/sb.db"
  run "$BIN/sb_bench_openloop" --port "$SB_PORT" --path /webhooks/site-chat --body "$PAYLOAD" --rate "$HALF" \
    --duration "$OPENLOOP_DURATION" --connections "$CONNECTIONS" --id-prefix "ol$r" --json "$RAW/openloop_$r.json" >/dev/null
  stop_pid "$SB_PID"
done

# --- 5. peers: nginx return 200, Node-RED flow ---------------------------------------------
if command -v nginx >/dev/null; then
  d="$TMP/nginx"; mkdir -p "$d/body"; port=$(free_port)
  sed -e "s#@DIR@#$d#g" -e "s#@PORT@#$port#g" "$BENCH_DIR/peers/nginx.conf.in" > "$d/nginx.conf"
  nginx -p "$d" -c "$d/nginx.conf" & npid=$!; PIDS+=("$npid")
  wait_port "$port" 10
  for ((r = 1; r <= RUNS; r++)); do log "nginx run $r/$RUNS"; wrk_run "nginx_$r" "http://127.0.0.1:$port/ingest" "ng$r"; done
  stop_pid "$npid"
else
  log "nginx not installed: skipped (run without --no-install)"
fi
NR="$CACHE/node-red/node_modules/node-red/red.js"
if [[ -f "$NR" ]]; then
  d="$TMP/node-red"; mkdir -p "$d"; port=$(free_port)
  sed -e "s#@DIR@#$d#g" -e "s#@PORT@#$port#g" "$BENCH_DIR/peers/node-red-settings.js.in" > "$d/settings.js"
  sed -e "s#@DIR@#$d#g" "$BENCH_DIR/peers/node-red-flows.json.in" > "$d/flows.json"
  node "$NR" --settings "$d/settings.js" --userDir "$d" > "$d/node-red.log" 2>&1 & nrpid=$!; PIDS+=("$nrpid")
  wait_port "$port" 60
  sleep 2
  curl -sf -H 'content-type: application/json' -d "$(sed 's/__ID__/nr-warmup/' "$PAYLOAD")" "http://127.0.0.1:$port/ingest" >/dev/null \
    || { echo "Node-RED flow did not answer" >&2; cat "$d/node-red.log" >&2; exit 1; }
  for ((r = 1; r <= RUNS; r++)); do log "Node-RED run $r/$RUNS"; wrk_run "nodered_$r" "http://127.0.0.1:$port/ingest" "nr$r"; done
  wc -l < "$d/messages.ndjson" > "$RAW/stored_nodered.txt"
  stop_pid "$nrpid"
else
  log "Node-RED not installed: skipped (run without --no-install)"
fi

# --- 5b. the HTTP front at 1, 50, 500 and 5,000 connections, nginx in the same run ----------
# PREV_SB=path/to/older/switchboard adds that build to the sweep (its plugins-out beside it).
log "HTTP front sweep"
"$BENCH_DIR/http_front.sh" --sb "$SB" --plugins "$PLUGIN_DIR" --out "$RAW/front" \
  ${PREV_SB:+--prev "$PREV_SB"} >/dev/null

# --- 6-7. bulk sync (1 M synthetic contacts through the real pipeline) and growth -----------
# Run 1 stops at every growth mark (10 k / 100 k / 1 M): each segment is one sb_bench_bulk
# invocation continuing the same store (--start), and between segments a real host serves
# wrk on that store. Runs 2.. go straight through. report.py joins run 1's segments.
BULK_MARKS=$(python3 -c "
n=$BULK_RECORDS; print(','.join(str(m) for m in (10000,100000,1000000) if m < n) + (',' if n > 10000 else '') + str(n))")
SEG_MARKS=$(python3 -c "
n=$BULK_RECORDS; ms=sorted({int(m) for m in '$BULK_MARKS,$GROWTH_MARKS'.split(',') if m and int(m) <= n}); print(' '.join(map(str, ms)))")
G="$TMP/growth"; mkdir -p "$G"; prev=0
for mark in $SEG_MARKS; do
  log "bulk sync run 1/$RUNS: records $prev..$mark"
  run "$BIN/sb_bench_bulk" --db "$G/sb.db" --plugin "$BIN/switchboard-bench-source.so" --marks "$mark" --start "$prev" \
    --batch 1000 --lookups "$LOOKUPS" --json "$RAW/bulkseg_1_$mark.json" >/dev/null
  prev=$mark
  [[ ",$GROWTH_MARKS," == *",$mark,"* ]] || continue
  start_switchboard "$G" "$G/sb.db"
  for ((r = 1; r <= RUNS; r++)); do
    log "growth: ingest at $mark records, run $r/$RUNS"
    wrk_run "growth_${mark}_$r" "http://127.0.0.1:$SB_PORT/webhooks/site-chat" "g${mark}r$r" "$GROWTH_DURATION"
  done
  stop_pid "$SB_PID"
done
rm -rf "$G"
for ((r = 2; r <= RUNS; r++)); do
  log "bulk sync run $r/$RUNS ($BULK_RECORDS records)"
  run "$BIN/sb_bench_bulk" --db "$TMP/bulk-$r.db" --plugin "$BIN/switchboard-bench-source.so" --marks "$BULK_MARKS" \
    --batch 1000 --lookups "$LOOKUPS" --json "$RAW/bulk_$r.json" >/dev/null
  rm -f "$TMP/bulk-$r.db"*
done

# --- 8. where the time goes (full run only) -------------------------------------------------
if [[ $SMOKE == 0 ]]; then
  log "profile: strace syscall time and perf CPU profile under wrk load"
  d="$TMP/prof"; mkdir -p "$d"
  start_switchboard "$d" "$d/sb.db"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d12s -s "$BENCH_DIR/wrk/ingest.lua" "http://127.0.0.1:$SB_PORT/webhooks/site-chat" -- "$PAYLOAD" prof \
    > "$d/wrk.out" 2>&1 & wpid=$!
  sleep 2
  if command -v strace >/dev/null; then
    tids=$(ls /proc/$SB_PID/task | sed 's/^/-p /' | tr '\n' ' ')
    printf '%s\n' "timeout 4 strace -f -c -w $tids" >> "$RAW/commands.txt"
    timeout -s INT 4 strace -f -c -w $tids -o "$RAW/strace_summary.txt" 2>/dev/null || true
  fi
  if command -v perf >/dev/null; then
    printf '%s\n' "perf record -F 999 -g -p $SB_PID -- sleep 4; perf report --no-children --stdio" >> "$RAW/commands.txt"
    perf record -q -F 999 -g -o "$d/perf.data" -p "$SB_PID" -- sleep 4 >/dev/null 2>&1 || true
    perf report -i "$d/perf.data" --no-children --stdio --percent-limit 1.5 2>/dev/null | grep -v '^$' | head -120 \
      > "$RAW/perf_report.txt" || true
  fi
  wait "$wpid" || true
  stop_pid "$SB_PID"
fi

# --- 9. the table ---------------------------------------------------------------------------
log "writing $OUT/latest.md and $OUT/latest.json"
python3 "$BENCH_DIR/report.py" --raw "$RAW" --out "$OUT" $([[ $SMOKE == 1 ]] && echo --smoke)
log "done"
