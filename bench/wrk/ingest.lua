-- POST the bench webchat message (bench/payload/webchat_message.json) with a unique id per
-- request: "<run>-<thread>-<counter>". Used for Switchboard, nginx and Node-RED alike.
--   wrk -t2 -c50 -d20s -s bench/wrk/ingest.lua URL -- PAYLOAD_FILE RUN_ID
-- Prints one line "BENCH_JSON {...}" with requests, errors and latency percentiles (us).
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  local t = f:read("*a")
  f:close()
  t = t:gsub("[\r\n]+$", "")
  local a, b = t:find("__ID__", 1, true)
  pre = t:sub(1, a - 1)
  post = t:sub(b + 1)
  run = args[2] or "r"
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, pre .. run .. "-" .. tostring(tid) .. "-" .. counter .. post)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
