// Bulk sync through the real pipeline: the bench-source plugin (loaded with the host's own
// loader, run by a real ConnectorInstance) emits synthetic contact records through the SDK
// wrapper and the C ABI into the host's emit path and a real SQLite Store. Header-only so the
// CI smoke test (tests/integration/bench_smoke_test.cpp) runs the same code for a few
// thousand records.
#pragma once

#include "config/config.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "plugin/plugin_loader.h"
#include "runtime/connector_instance.h"
#include "store/store.h"

#include <Poco/Data/Session.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sbbench {

struct BulkOptions {
    std::string dbPath;
    std::string pluginPath;                  // switchboard-bench-source.so
    std::string connector = "bulk-source";   // instance name the records are stored under
    std::vector<int64_t> marks{10000, 100000, 1000000};  // store sizes at which to stop and measure
    int64_t start = 0;                       // records already in the store under `connector`
    int64_t batch = 1000;
    size_t lookups = 20000;                  // lookups measured at each mark
};

struct MarkResult {
    int64_t records = 0;         // records in the store (this connector) at the mark
    int64_t segmentRecords = 0;  // emitted since the previous mark
    double segmentSeconds = 0;
    double ingestPerSec = 0;     // of the segment that ended at this mark
    double lookupP50Us = 0, lookupP99Us = 0, lookupsPerSec = 0;
};

struct BulkResult {
    int64_t records = 0;
    double seconds = 0;
    double recordsPerSec = 0;
    long peakRssKiB = 0;
    int64_t dbBytes = 0;           // page_count * page_size after the WAL is checkpointed
    int64_t rows = 0;              // rows in messages (all connectors)
    double dbBytesPerRecord = 0;
    double payloadBytesPerRecord = 0;   // the original record (raw column)
    double overheadBytesPerRecord = 0;  // everything else: columns, normalized JSON, indexes
    std::vector<MarkResult> marks;

    nlohmann::json toJson() const {
        nlohmann::json m = nlohmann::json::array();
        for (const auto& k : marks)
            m.push_back({{"records", k.records},
                         {"segment_records", k.segmentRecords},
                         {"segment_seconds", k.segmentSeconds},
                         {"ingest_per_sec", k.ingestPerSec},
                         {"lookup_p50_us", k.lookupP50Us},
                         {"lookup_p99_us", k.lookupP99Us},
                         {"lookups_per_sec", k.lookupsPerSec}});
        return {{"records", records},
                {"seconds", seconds},
                {"records_per_sec", recordsPerSec},
                {"peak_rss_kib", peakRssKiB},
                {"db_bytes", dbBytes},
                {"rows", rows},
                {"db_bytes_per_record", dbBytesPerRecord},
                {"payload_bytes_per_record", payloadBytesPerRecord},
                {"overhead_bytes_per_record", overheadBytesPerRecord},
                {"marks", m}};
    }
};

inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

// Emits [from, to) through one ConnectorInstance of bench-source; returns the seconds it took
// from launch until every record was committed.
inline double emitSegment(const BulkOptions& o, const std::shared_ptr<const switchboard::host::LoadedPlugin>& plugin,
                          switchboard::host::Store& store, switchboard::host::Metrics& metrics, int64_t from,
                          int64_t to) {
    namespace sh = switchboard::host;
    sh::config::ConnectorConfig cc;
    cc.name = o.connector;
    cc.plugin = plugin->name();
    cc.path = "connectors[0]";
    sh::config::ResolvedOptions opts;
    opts.entries = {{"records", std::to_string(to - from)},
                    {"batch", std::to_string(o.batch)},
                    {"start_index", std::to_string(from)}};
    sh::ConnectorInstance inst(sh::InstanceSpec{cc, plugin, opts}, store, metrics);
    const auto t0 = std::chrono::steady_clock::now();
    inst.launch();
    const uint64_t want = static_cast<uint64_t>(to - from);
    while (true) {
        auto& c = inst.counters();
        if (c.stored.load() + c.duplicates.load() >= want) break;
        auto st = inst.state();
        if (st == sh::InstanceState::Failed || st == sh::InstanceState::Backoff)
            throw std::runtime_error("bench-source failed: " + inst.status().lastError);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    inst.shutdown();
    return secs;
}

inline BulkResult runBulk(const BulkOptions& o) {
    namespace sh = switchboard::host;
    auto loaded = sh::loadPlugin(o.pluginPath);
    if (!loaded.plugin) throw std::runtime_error("cannot load " + o.pluginPath + ": " + loaded.error);
    BulkResult r;
    {
        sh::Store store(o.dbPath);
        sh::Metrics metrics;
        int64_t done = o.start;
        std::mt19937_64 rng(42);
        for (int64_t mark : o.marks) {
            if (mark <= done) continue;
            MarkResult k;
            k.segmentRecords = mark - done;
            k.segmentSeconds = emitSegment(o, loaded.plugin, store, metrics, done, mark);
            k.ingestPerSec = static_cast<double>(k.segmentRecords) / k.segmentSeconds;
            r.records += k.segmentRecords;
            r.seconds += k.segmentSeconds;
            done = mark;
            k.records = done;
            // Lookup of a stored record by its source id (the only lookup that exists until
            // the customer model lands).
            std::uniform_int_distribution<int64_t> pick(0, done - 1);
            std::vector<double> us;
            us.reserve(o.lookups);
            const auto l0 = std::chrono::steady_clock::now();
            for (size_t i = 0; i < o.lookups; ++i) {
                const std::string id = "contact-" + std::to_string(pick(rng));
                const auto t = std::chrono::steady_clock::now();
                auto found = store.findMessage(o.connector, id);
                us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
                if (!found) throw std::runtime_error("lookup missed " + id);
            }
            const double ls = std::chrono::duration<double>(std::chrono::steady_clock::now() - l0).count();
            k.lookupP50Us = percentile(us, 50);
            k.lookupP99Us = percentile(us, 99);
            k.lookupsPerSec = ls > 0 ? static_cast<double>(o.lookups) / ls : 0;
            r.marks.push_back(k);
        }
    }  // the last connection closes: SQLite checkpoints the WAL into the main file
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    r.peakRssKiB = ru.ru_maxrss;
    r.recordsPerSec = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
    {
        using namespace Poco::Data::Keywords;
        Poco::Data::Session s("SQLite", o.dbPath);
        int64_t pages = 0, pageSize = 0, rawBytes = 0, rows = 0;
        std::string conn = o.connector;
        s << "PRAGMA page_count", into(pages), now;
        s << "PRAGMA page_size", into(pageSize), now;
        s << "SELECT COUNT(*), COALESCE(SUM(LENGTH(raw)),0) FROM messages WHERE connector = ?", use(conn), into(rows),
            into(rawBytes), now;
        r.dbBytes = pages * pageSize;
        int64_t all = 0;
        s << "SELECT COUNT(*) FROM messages", into(all), now;
        r.rows = all;
        if (rows > 0) {
            r.dbBytesPerRecord = static_cast<double>(r.dbBytes) / static_cast<double>(all);
            r.payloadBytesPerRecord = static_cast<double>(rawBytes) / static_cast<double>(rows);
            r.overheadBytesPerRecord = r.dbBytesPerRecord - r.payloadBytesPerRecord;
        }
    }
    return r;
}

}  // namespace sbbench
