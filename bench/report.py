#!/usr/bin/env python3
"""Aggregates bench/run.sh raw outputs into latest.md and latest.json: the median of the
runs of each figure, with its spread (min..max), and the targets of issue 7."""
import argparse, glob, json, os, statistics

ap = argparse.ArgumentParser()
ap.add_argument("--raw", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--smoke", action="store_true")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
R = a.raw


def load(pattern):
    out = []
    for f in sorted(glob.glob(os.path.join(R, pattern))):
        try:
            out.append(json.load(open(f)))
        except Exception:
            pass
    return out


def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values),
            "values": values}


def fmt(s, unit="", digits=0, scale=1.0):
    if s is None:
        return "not measured"
    f = lambda v: f"{v * scale:,.{digits}f}"
    spread = f" ({f(s['min'])}–{f(s['max'])})" if s["runs"] > 1 else ""
    return f"{f(s['median'])}{unit}{spread}, n={s['runs']}"


machine = json.load(open(os.path.join(R, "machine.json")))
commands = open(os.path.join(R, "commands.txt")).read().splitlines() if os.path.exists(os.path.join(R, "commands.txt")) else []
settings = open(os.path.join(R, "settings.txt")).read().strip() if os.path.exists(os.path.join(R, "settings.txt")) else ""


def wrk(name):
    runs = load(f"wrk_{name}_[0-9]*.json")
    if not runs:
        return None
    rps = [x["requests"] / (x["duration_us"] / 1e6) for x in runs]
    errs = [sum(x["errors"].values()) for x in runs]
    return {"rps": stat(rps), "p50_ms": stat([x["latency_us"]["p50"] / 1000 for x in runs]),
            "p99_ms": stat([x["latency_us"]["p99"] / 1000 for x in runs]),
            "p999_ms": stat([x["latency_us"]["p999"] / 1000 for x in runs]),
            "errors": stat(errs), "requests": stat([x["requests"] for x in runs])}


res = {"machine": machine, "settings": settings, "commands": commands, "smoke": a.smoke}
sb, ng, nr = wrk("switchboard"), wrk("nginx"), wrk("nodered")
res["ingest"] = {"switchboard": sb, "nginx": ng, "node_red": nr}
ratios = {}
if sb and ng:
    ratios["switchboard_over_nginx"] = sb["rps"]["median"] / ng["rps"]["median"]
if sb and nr:
    ratios["switchboard_over_node_red"] = sb["rps"]["median"] / nr["rps"]["median"]
res["ratios"] = ratios

ol = load("openloop_*.json")
half = open(os.path.join(R, "half_rate.txt")).read().strip() if os.path.exists(os.path.join(R, "half_rate.txt")) else None
res["half_rate"] = {"target_rate": float(half) if half else None,
                    "achieved_rate": stat([x["achieved_rate"] for x in ol]),
                    "p50_ms": stat([x["p50_ms"] for x in ol]), "p99_ms": stat([x["p99_ms"] for x in ol]),
                    "p999_ms": stat([x["p999_ms"] for x in ol]), "max_ms": stat([x["max_ms"] for x in ol]),
                    "errors": stat([x["non2xx"] + x["socket_errors"] + x["unanswered"] for x in ol]),
                    "reconnects": stat([x.get("reconnects") for x in ol])} if ol else None

# micro: aggregates from Google Benchmark's repetitions (per-repetition rows).
micro = {}
mj = load("micro.json")
if mj:
    rows = [b for b in mj[0]["benchmarks"] if b.get("run_type") == "iteration"]
    by = {}
    for b in rows:
        by.setdefault(b["run_name"], []).append(b)
    for name, bs in by.items():
        if any(b.get("error_occurred") for b in bs):
            micro[name] = {"error": bs[0].get("error_message", "error")}
            continue
        if "ns_per_msg" in bs[0]:
            # An inverted rate counter is written in seconds per item.
            micro[name] = {"ns_per_msg": stat([b["ns_per_msg"] * 1e9 for b in bs])}
        else:
            micro[name] = {"ns_per_op": stat([b["real_time"] if b["time_unit"] == "ns" else b["real_time"] * {"us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]] for b in bs]),
                           "items_per_sec": stat([b.get("items_per_second") for b in bs])}
    res["micro_context"] = mj[0].get("context", {})
res["micro"] = micro

def joined_segments(segs):
    """Run 1 of the bulk sync, made of one sb_bench_bulk invocation per growth mark: one run."""
    segs = sorted(segs, key=lambda x: x["marks"][-1]["records"])
    records = sum(x["records"] for x in segs)
    seconds = sum(x["seconds"] for x in segs)
    return {"records": records, "seconds": seconds, "records_per_sec": records / seconds if seconds else 0,
            "peak_rss_kib": max(x["peak_rss_kib"] for x in segs), "customers": segs[-1].get("customers"),
            "marks": [m for x in segs for m in x["marks"]], "segmented": True}


bulk_clean = load("bulk_*.json")  # straight-through runs: their store holds only the contacts
segs = load("bulkseg_1_*.json")
bulk = ([joined_segments(segs)] if segs else []) + bulk_clean
if bulk:
    # Bytes are taken from the straight-through runs only: run 1's store also holds the
    # growth section's webchat messages.
    sized = bulk_clean or bulk
    res["bulk"] = {"records": max(b["records"] for b in bulk),
                   "records_per_sec": stat([b["records_per_sec"] for b in bulk]),
                   "peak_rss_mib": stat([b["peak_rss_kib"] / 1024 for b in bulk]),
                   "db_bytes_per_record": stat([b.get("db_bytes_per_record") for b in sized]),
                   "payload_bytes_per_record": stat([b.get("payload_bytes_per_record") for b in sized]),
                   "overhead_bytes_per_record": stat([b.get("overhead_bytes_per_record") for b in sized]),
                   "customers": sized[0].get("customers"),
                   "overhead_bytes_per_customer": stat([b.get("overhead_bytes_per_customer") for b in sized]),
                   "marks": {}}
    # Per mark, every figure across the runs: the flat ones and the timed operations
    # (customer lookup, resolution of a known and of a new contact) as "<op>.<p50_us|p99_us|per_sec>".
    timed = ("customer_lookup", "resolve_matched", "resolve_new")
    for b in bulk:
        for m in b["marks"]:
            k = res["bulk"]["marks"].setdefault(str(m["records"]), {})
            flat = {"segment_ingest_per_sec": m["ingest_per_sec"], "lookup_p50_us": m["lookup_p50_us"],
                    "lookup_p99_us": m["lookup_p99_us"], "lookups_per_sec": m["lookups_per_sec"],
                    "customers": m.get("customers")}
            for op in timed:
                for f, v in m.get(op, {}).items():
                    flat[f"{op}.{f}"] = v
            for f, v in flat.items():
                k.setdefault(f, []).append(v)
    res["bulk"]["marks"] = {n: {f: stat(v) for f, v in fields.items()} for n, fields in res["bulk"]["marks"].items()}
growth = {}
for f in sorted(glob.glob(os.path.join(R, "wrk_growth_*_1.json"))):
    mark = os.path.basename(f).split("_")[2]
    growth[mark] = wrk(f"growth_{mark}")
res["growth"] = dict(sorted(growth.items(), key=lambda kv: int(kv[0])))

# --- targets --------------------------------------------------------------------------------
T = []
def target(name, measured, goal, ok, note=""):
    T.append({"target": name, "measured": measured, "goal": goal, "met": ok, "note": note})

if sb and ng:
    r = ratios["switchboard_over_nginx"]
    target("durable ingest vs nginx return 200", f"{r:.3f}×", "≥ 0.3×", r >= 0.3,
           "" if r >= 0.3 else f"missed by {0.3 / r:.1f}× (needs {0.3 * ng['rps']['median']:,.0f} req/s)")
if sb and nr:
    r = ratios["switchboard_over_node_red"]
    target("durable ingest vs Node-RED", f"{r:.2f}×", "≥ 10×", r >= 10,
           "" if r >= 10 else f"missed by {10 / r:.1f}× (needs {10 * nr['rps']['median']:,.0f} req/s)")
if res.get("half_rate"):
    p = res["half_rate"]["p99_ms"]["median"]
    target("p99 ack latency at half max rate", f"{p:.2f} ms", "≤ 5 ms", p <= 5, "" if p <= 5 else f"missed by {p / 5:.1f}×")
b256 = micro.get("BM_Boundary/256", {}).get("ns_per_msg")
if b256:
    target("plugin boundary, batch 256", f"{b256['median']:.0f} ns/msg", "≤ 100 ns/msg", b256["median"] <= 100,
           "" if b256["median"] <= 100 else f"missed by {b256['median'] / 100:.1f}×")
if bulk and res["bulk"]["marks"]:
    top = max(res["bulk"]["marks"], key=int)
    rm = res["bulk"]["marks"][top].get("resolve_matched.per_sec")
    if rm:
        v = rm["median"]
        target(f"identity resolve with {int(top):,} customers (known contact)", f"{v:,.0f} resolves/s", "≥ 100 k/s",
               v >= 100000, "" if v >= 100000 else f"missed by {100000 / v:.1f}×")
if bulk:
    v = res["bulk"]["records_per_sec"]["median"]
    target(f"bulk sync ({res['bulk']['records']:,} records)", f"{v:,.0f} records/s", "≥ 50 k records/s", v >= 50000,
           "" if v >= 50000 else f"missed by {50000 / v:.1f}×")
    oc = res["bulk"]["overhead_bytes_per_customer"]
    if oc:
        o = oc["median"]
        target("store per customer beyond payload", f"{o:,.0f} B", "≤ 1 KiB", o <= 1024,
               "the customer's contact record, its customer, identities, attributes and match decision"
               + ("" if o <= 1024 else f"; missed by {o / 1024:.1f}×"))
res["targets"] = T
json.dump(res, open(os.path.join(a.out, "latest.json"), "w"), indent=2, default=str)

# --- markdown -------------------------------------------------------------------------------
L = []
w = L.append
m = machine
w("# Switchboard benchmark results" + (" (SMOKE: harness check, not figures)" if a.smoke else ""))
w("")
w(f"- date (UTC): {m['date_utc']}")
w(f"- commit: `{m['commit']}`" + (" (work tree has uncommitted changes)" if m.get("worktree_dirty") else ""))
w(f"- machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, {m['os']}, kernel {m['kernel']}, store disk {m['disk']}")
w(f"- tools: {m['compiler']}; SQLite {m['sqlite']}; {m['wrk']}; {m['nginx']}; Node-RED {m['node_red']} on node {m['node']}")
w(f"- settings: {settings}")
w(f"- every figure: median of n runs from this one run of `bench/run.sh`, (min–max) in brackets")
w("")
w("## 1–2. Durable webhook ingest and peers (wrk, same payload and settings)")
w("")
w("| server | req/s | p50 ms | p99 ms | p99.9 ms | errors | what a 200 means |")
w("|---|---|---|---|---|---|---|")
for label, x, mean in (("Switchboard webchat", sb, "committed to SQLite, fsync (WAL, synchronous=FULL) before the 200"),
                        ("nginx `return 200`", ng, "nothing (the HTTP ceiling)"),
                        ("Node-RED http in → function → file → http response", nr, "appended to a file, no fsync")):
    if x:
        w(f"| {label} | {fmt(x['rps'])} | {fmt(x['p50_ms'], digits=2)} | {fmt(x['p99_ms'], digits=2)} | "
          f"{fmt(x['p999_ms'], digits=2)} | {fmt(x['errors'])} | {mean} |")
    else:
        w(f"| {label} | not measured | | | | | {mean} |")
w("")
if ratios:
    w("Ratios (medians): " + "; ".join(f"{k.replace('_', ' ')} = {v:.3f}×" for k, v in ratios.items()))
    w("")
h = res.get("half_rate")
if h:
    w(f"Open-loop latency at half the measured maximum ({h['target_rate']:,.0f} req/s scheduled, latency from the "
      f"scheduled send time): achieved {fmt(h['achieved_rate'])} req/s; p50 {fmt(h['p50_ms'], ' ms', 2)}; "
      f"p99 {fmt(h['p99_ms'], ' ms', 2)}; p99.9 {fmt(h['p999_ms'], ' ms', 2)}; max {fmt(h['max_ms'], ' ms', 1)}; "
      f"errors {fmt(h['errors'])}; connections the server closed (Connection: close) and the generator "
      f"reopened: {fmt(h['reconnects'])}.")
    w("")
w("## 3. Micro-benchmarks (Google Benchmark, repetitions = runs)")
w("")
w("| benchmark | figure |")
w("|---|---|")
for name, v in micro.items():
    if "error" in v:
        w(f"| {name} | error: {v['error']} |")
    elif "ns_per_msg" in v:
        w(f"| {name} | {fmt(v['ns_per_msg'], ' ns/message', 1)} |")
    else:
        w(f"| {name} | {fmt(v['ns_per_op'], ' µs/op', 2, 1e-3)}; {fmt(v['items_per_sec'], ' items/s')} |")
w("")
if bulk:
    bb = res["bulk"]
    w(f"## 4. Bulk sync: {bb['records']:,} synthetic contacts, bench-source plugin → SDK emit → host → SQLite, batches of 1000")
    w("")
    w(f"- records/s: {fmt(bb['records_per_sec'])}")
    w(f"- peak RSS: {fmt(bb['peak_rss_mib'], ' MiB', 1)}")
    w(f"- database bytes per record: {fmt(bb['db_bytes_per_record'])}, of which payload (raw record) "
      f"{fmt(bb['payload_bytes_per_record'])}, overhead beyond payload {fmt(bb['overhead_bytes_per_record'])}")
    w(f"- customers created (one per contact, by the host's identity resolver in the commit): {bb['customers'] or 0:,}; "
      f"store bytes per customer beyond the raw payloads: {fmt(bb['overhead_bytes_per_customer'])}")
    w("")
w("## 5. Growth")
w("")
w("| store size (records) | customers | HTTP ingest req/s | HTTP p99 ms | bulk ingest rec/s (segment ending here) "
  "| message by source id p50 / p99 µs | customer by email p50 / p99 µs, lookups/s "
  "| resolve known contact p50 / p99 µs, resolves/s | resolve new contact p50 / p99 µs, resolves/s |")
w("|---|---|---|---|---|---|---|---|---|")


def timed_cell(bm, op):
    if not bm or f"{op}.p50_us" not in bm:
        return "—"
    return (f"{fmt(bm[op + '.p50_us'], digits=1)} / {fmt(bm[op + '.p99_us'], digits=1)}, "
            f"{fmt(bm[op + '.per_sec'])}/s")


sizes = sorted(set(list(res["growth"].keys()) + (list(res["bulk"]["marks"].keys()) if bulk else [])), key=int)
for n in sizes:
    g = res["growth"].get(n)
    bm = res["bulk"]["marks"].get(n) if bulk else None
    cust = bm.get("customers") if bm else None
    w(f"| {int(n):,} | {fmt(cust) if cust else '—'} | {fmt(g['rps']) if g else '—'} | "
      f"{fmt(g['p99_ms'], digits=2) if g else '—'} | "
      f"{fmt(bm['segment_ingest_per_sec']) if bm else '—'} | "
      f"{(fmt(bm['lookup_p50_us'], digits=1) + ' / ' + fmt(bm['lookup_p99_us'], digits=1)) if bm else '—'} | "
      f"{timed_cell(bm, 'customer_lookup')} | {timed_cell(bm, 'resolve_matched')} | {timed_cell(bm, 'resolve_new')} |")
w("")
w("## Targets")
w("")
w("| target | goal | measured | met | note |")
w("|---|---|---|---|---|")
for t in T:
    met = "—" if t["met"] is None else ("yes" if t["met"] else "**no**")
    w(f"| {t['target']} | {t['goal']} | {t['measured']} | {met} | {t['note']} |")
w("")
w("## Commands")
w("")
w("```")
L.extend(commands)
w("```")
open(os.path.join(a.out, "latest.md"), "w").write("\n".join(L) + "\n")
print(os.path.join(a.out, "latest.md"))
