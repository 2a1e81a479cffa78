// Bulk sync through the real pipeline: the bench-source plugin (loaded with the host's own
// loader, run by a real ConnectorInstance) emits synthetic contact records through the SDK
// wrapper and the C ABI into the host's emit path and a real SQLite Store. Header-only so the
// CI smoke test (tests/integration/bench_smoke_test.cpp) runs the same code for a few
// thousand records.
#pragma once

#include "config/config.h"
#include "contact_identity.hpp"
#include "customer/customer_directory.h"
#include "customer/resolver.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "plugin/plugin_loader.h"
#include "runtime/connector_instance.h"
#include "store/sql.h"
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
    size_t lookups = 20000;                  // lookups (and resolves) measured at each mark
    std::string defaultRegion = "PT";        // identity.default_region: the contacts' phones are Portuguese
};

// Latency percentiles and throughput of one measured operation, repeated.
struct Timing {
    double p50Us = 0, p99Us = 0, perSec = 0;
    nlohmann::json toJson() const { return {{"p50_us", p50Us}, {"p99_us", p99Us}, {"per_sec", perSec}}; }
};

struct MarkResult {
    int64_t records = 0;         // records in the store (this connector) at the mark
    int64_t segmentRecords = 0;  // emitted since the previous mark
    double segmentSeconds = 0;
    double ingestPerSec = 0;     // of the segment that ended at this mark
    double lookupP50Us = 0, lookupP99Us = 0, lookupsPerSec = 0;  // a stored message by (connector, source id)
    int64_t customers = 0;    // live customers in the store at the mark
    Timing customerLookup;    // GET /api/v1/customers?identity=email:... (CustomerDirectory::findByIdentity)
    Timing resolveMatched;    // identity resolution of a message from a known contact (3 identities)
    Timing resolveNew;        // identity resolution of a first contact (creates the customer)
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
    int64_t customers = 0;              // live customers the records were resolved to
    // (db bytes - raw payload bytes) / customers: messages' columns and indexes, customers,
    // identities, attributes and match decisions, per customer.
    double overheadBytesPerCustomer = 0;
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
                         {"lookups_per_sec", k.lookupsPerSec},
                         {"customers", k.customers},
                         {"customer_lookup", k.customerLookup.toJson()},
                         {"resolve_matched", k.resolveMatched.toJson()},
                         {"resolve_new", k.resolveNew.toJson()}});
        return {{"records", records},
                {"seconds", seconds},
                {"records_per_sec", recordsPerSec},
                {"peak_rss_kib", peakRssKiB},
                {"db_bytes", dbBytes},
                {"rows", rows},
                {"db_bytes_per_record", dbBytesPerRecord},
                {"payload_bytes_per_record", payloadBytesPerRecord},
                {"overhead_bytes_per_record", overheadBytesPerRecord},
                {"customers", customers},
                {"overhead_bytes_per_customer", overheadBytesPerCustomer},
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

// Runs op(i) n times; per-call latency percentiles and the overall rate.
template <class Op>
Timing timeEach(size_t n, Op&& op) {
    std::vector<double> us;
    us.reserve(n);
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
        const auto t = std::chrono::steady_clock::now();
        op(i);
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {percentile(us, 50), percentile(us, 99), secs > 0 ? static_cast<double>(n) / secs : 0};
}

inline switchboard::host::customer::ResolutionInput contactMessage(int64_t n, int64_t messageId,
                                                                     const std::string& connector) {
    switchboard::host::customer::ResolutionInput in;
    in.messageId = messageId;
    in.connector = connector;
    in.senderName = "Customer Number " + std::to_string(n);
    in.sender = {{"email", contactEmail(n), ""},
                 {"phone", contactPhone(n), ""},
                 {"external", contactExternal(n), contactExternalScope()}};
    in.atMs = 1795424400000 + n;
    in.sourceId = "resolve-" + std::to_string(n);
    return in;
}

inline int64_t liveCustomers(switchboard::host::Store& store) {
    using namespace Poco::Data::Keywords;
    int64_t n = 0;
    store.withSession([&](switchboard::host::Sql& s) {
        s << "SELECT COUNT(*) FROM customers WHERE status = 'active'", into(n), now;
    });
    return n;
}

// At a mark: lookups of stored messages and customers, and identity resolution of messages
// from known and from new contacts. Resolution runs in one transaction that is rolled back
// (Store::dryRun): the store does not grow, and the figure is the resolver's work without
// the commit's fsync (BM_StoreCommit measures that).
inline void measureMark(const BulkOptions& o, switchboard::host::Store& store,
                        const std::shared_ptr<switchboard::host::customer::IdentityResolver>& resolver,
                        std::mt19937_64& rng, MarkResult& k) {
    namespace sh = switchboard::host;
    std::uniform_int_distribution<int64_t> pick(0, k.records - 1);
    k.customers = liveCustomers(store);
    const Timing byId = timeEach(o.lookups, [&](size_t) {
        const std::string id = "contact-" + std::to_string(pick(rng));
        if (!store.findMessage(o.connector, id)) throw std::runtime_error("lookup missed " + id);
    });
    k.lookupP50Us = byId.p50Us;
    k.lookupP99Us = byId.p99Us;
    k.lookupsPerSec = byId.perSec;
    sh::customer::CustomerDirectory directory(store, resolver);
    k.customerLookup = timeEach(o.lookups, [&](size_t) {
        const std::string identity = "email:" + contactEmail(pick(rng));
        auto reply = directory.findByIdentity(identity);
        if (reply.status != 200) throw std::runtime_error("customer lookup of " + identity + " answered " +
                                                          std::to_string(reply.status));
    });
    store.dryRun([&](sh::Sql& s) {
        k.resolveMatched = timeEach(o.lookups, [&](size_t) {
            const int64_t n = pick(rng);
            auto r = resolver->resolve(s, contactMessage(n, 0, o.connector));
            if (r.decision != "matched") throw std::runtime_error("contact " + std::to_string(n) + " resolved as " + r.decision);
        });
        k.resolveNew = timeEach(o.lookups, [&](size_t i) {
            const int64_t n = 100000000 + static_cast<int64_t>(i);  // beyond any stored contact
            auto r = resolver->resolve(s, contactMessage(n, 0, o.connector));
            if (r.decision != "new_customer") throw std::runtime_error("new contact resolved as " + r.decision);
        });
    });
}

inline BulkResult runBulk(const BulkOptions& o) {
    namespace sh = switchboard::host;
    auto loaded = sh::loadPlugin(o.pluginPath);
    if (!loaded.plugin) throw std::runtime_error("cannot load " + o.pluginPath + ": " + loaded.error);
    sh::config::IdentityConfig identity;
    identity.defaultRegion = o.defaultRegion;
    // The host's own resolver with the default rules, as `switchboard run` builds it: every
    // record is linked to a customer in the transaction that stores it.
    auto resolver = std::make_shared<sh::customer::IdentityResolver>(identity);
    BulkResult r;
    {
        sh::Store store(o.dbPath, resolver);
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
            measureMark(o, store, resolver, rng, k);
            r.marks.push_back(k);
        }
        r.customers = liveCustomers(store);
    }  // the last connection closes: SQLite checkpoints the WAL into the main file
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    r.peakRssKiB = ru.ru_maxrss;
    r.recordsPerSec = r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
    {
        using namespace Poco::Data::Keywords;
        Poco::Data::Session s("SQLite", o.dbPath);
        int64_t pages = 0, pageSize = 0, rawBytes = 0, rows = 0, allRaw = 0;
        std::string conn = o.connector;
        s << "PRAGMA page_count", into(pages), now;
        s << "PRAGMA page_size", into(pageSize), now;
        s << "SELECT COUNT(*), COALESCE(SUM(LENGTH(raw)),0) FROM messages WHERE connector = ?", use(conn), into(rows),
            into(rawBytes), now;
        r.dbBytes = pages * pageSize;
        int64_t all = 0;
        s << "SELECT COUNT(*), COALESCE(SUM(LENGTH(raw)),0) FROM messages", into(all), into(allRaw), now;
        r.rows = all;
        if (rows > 0) {
            r.dbBytesPerRecord = static_cast<double>(r.dbBytes) / static_cast<double>(all);
            r.payloadBytesPerRecord = static_cast<double>(rawBytes) / static_cast<double>(rows);
            r.overheadBytesPerRecord = r.dbBytesPerRecord - r.payloadBytesPerRecord;
        }
        if (r.customers > 0)
            r.overheadBytesPerCustomer = static_cast<double>(r.dbBytes - allRaw) / static_cast<double>(r.customers);
    }
    return r;
}

}  // namespace sbbench
