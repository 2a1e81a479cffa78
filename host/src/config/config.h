// switchboard.yaml: the host's configuration, parsed with yaml-cpp, with ${env:NAME} and
// ${file:PATH} references resolved, and every error reported at once with file, line and
// option path. The reference of every key is config/README.md.
#pragma once

#include "config/address_range.h"
#include "config/outbox_config.h"
#include "config/routing_config.h"
#include "plugin/option_schema.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::host::config {

struct SourceLocation {
    std::string file;
    int line = 0;    // 1-based; 0 when unknown
    int column = 0;  // 1-based; 0 when unknown
};

// One problem in the config: "FILE:LINE:COL: PATH: MESSAGE".
struct ConfigError {
    SourceLocation where;
    std::string path;  // e.g. "connectors[0].options.port" or "server.listen"
    std::string message;
    std::string format() const;
};

// An option value as written under connectors[i].options, before schema validation.
// A YAML sequence gives several values; a scalar gives one.
struct RawOption {
    std::vector<std::string> values;
    bool isList = false;
    bool fromReference = false;  // came from ${env:..} or ${file:..}: never echo it in errors
    SourceLocation where;
};

// How many webhook requests of one connector instance run in its plugin at once, how many
// wait for a free slot, and how long one may take before the caller gets 503
// (config/README.md, server.webhook_*; connectors[].webhooks overrides them per instance).
struct WebhookLimits {
    unsigned concurrency = 16;
    unsigned queue = 64;
    int64_t timeoutMs = 30000;
    bool operator==(const WebhookLimits&) const = default;
};

// connectors[].webhooks: what an instance sets differently from server.webhook_*.
struct WebhookOverrides {
    std::optional<unsigned> concurrency;
    std::optional<unsigned> queue;
    std::optional<int64_t> timeoutMs;
    bool operator==(const WebhookOverrides&) const = default;
    WebhookLimits applyTo(WebhookLimits limits) const {
        if (concurrency) limits.concurrency = *concurrency;
        if (queue) limits.queue = *queue;
        if (timeoutMs) limits.timeoutMs = *timeoutMs;
        return limits;
    }
};

struct ConnectorConfig {
    std::string name;    // instance name, [a-z0-9][a-z0-9_-]*
    std::string plugin;  // registry name of the plugin
    bool enabled = true;
    WebhookOverrides webhooks;
    std::map<std::string, RawOption> options;
    SourceLocation where;  // of the connectors[i] entry
    std::string path;      // "connectors[i]"
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    std::optional<std::string> apiToken;  // resolved secret; never logged
    std::string publicUrl;                // e.g. https://hooks.example.com (for signature checks)
    size_t maxBodyBytes = 1024 * 1024;
    unsigned threads = 4;     // workers for the admin API, /metrics and /readyz
    unsigned ioThreads = 2;   // event loop threads: accept, read, parse, write
    // Limits against slow and hostile clients (config/README.md, "server").
    size_t maxConnections = 10000;
    size_t maxConnectionsPerClient = 256;  // per peer address; 0: no limit
    int64_t headerTimeoutMs = 10000;       // first byte of a request to the end of its head
    int64_t keepAliveTimeoutMs = 30000;    // idle between requests
    int64_t bodyTimeoutMs = 10000;         // grace before min_body_rate applies
    uint64_t minBodyRate = 1024;           // bytes per second, bodies and responses
    size_t maxHeaderBytes = 16 * 1024;
    uint64_t maxBufferedBodyBytes = 256ull * 1024 * 1024;  // all bodies held at once
    std::vector<AddressRange> trustedProxies;  // their X-Forwarded-For is believed
    WebhookLimits webhooks;
    bool operator==(const ServerConfig&) const = default;
};

struct StoreConfig {
    std::string kind = "sqlite";                // sqlite | postgresql (store: has exactly one)
    std::string sqlitePath = "switchboard.db";  // relative paths are relative to the config file
    // libpq conninfo ("host=... port=... dbname=... user=... password=...") or postgresql:// URI.
    // May carry the password: never log it (store/sql_dialect.h describeConninfo for logs).
    std::string postgresqlUrl;
    // store.commit: group commit and backpressure (config/README.md, "store"). Emits queue
    // their batches; one writer commits many batches per transaction.
    struct Commit {
        size_t maxPending = 10000;                   // messages queued or committing; more → RETRY/503
        uint64_t maxPendingBytes = 64 * 1024 * 1024;  // their raw + text bytes
        size_t maxGroup = 512;                       // most messages in one transaction
        int64_t ackTimeoutMs = 10000;                // longest an emit waits for its commit
    } commit{};
};

struct LogConfig {
    std::string format = "text";  // text | json
    std::string level = "info";   // trace | debug | info | warn | error
};

// identity: how messages are linked to customers (config/README.md, "identity").
struct IdentityConfig {
    std::string defaultRegion = "US";  // region for national phone numbers, e.g. PT
    SourceLocation defaultRegionWhere;
    // Identity types that link messages to a customer.
    std::vector<std::string> matchTypes = {"email", "phone", "external"};
    // auto_merge: a message that links two customers merges them; match_only: the merge is
    // recorded as a decision and nothing is merged.
    std::string mode = "auto_merge";
    bool foldGmail = false;
    // Per identity type, raw values never used to match (placeholders, our own addresses)
    // and values shared by several people (a family phone, support@).
    std::map<std::string, std::vector<std::string>> blocked;
    std::map<std::string, std::vector<std::string>> shared;
    // Attribute survivorship: values entered by hand win, then the first connector instance
    // of this list that has a value, then the most recent value. Empty values never win.
    std::vector<std::string> sourcePriority;
    // Most distinct values of a type one customer may gain within limitWindowMs; more are
    // attached as "over_limit" and never used to link (e.g. email: 5 a year).
    std::map<std::string, int64_t> limits;
    int64_t limitWindowMs = 365LL * 24 * 3600 * 1000;
    // Cardinality threshold per identity type: a value presented together with more than
    // this many distinct values of other types (a family phone with five people's emails, a
    // front desk's address) is generic: from then on it is "over_cardinality" and never links.
    std::map<std::string, int64_t> cardinality;
};

// threading: how messages are grouped into conversations (config/README.md, "threading").
struct ThreadingConfig {
    // A message with no thread of its own joins the customer's latest conversation when it
    // arrives within this long of its last message; 0 turns continuation off.
    std::chrono::milliseconds continuationWindow{std::chrono::minutes(30)};
};

struct HostConfig {
    std::string file;  // the file it was read from
    ServerConfig server;
    StoreConfig store;
    LogConfig log;
    IdentityConfig identity;
    ThreadingConfig threading;
    RoutingConfig routing;
    OutboxConfig outbox;
    std::vector<std::string> pluginPaths;  // relative paths resolved against the config file
    std::vector<ConnectorConfig> connectors;
};

struct LoadResult {
    std::optional<HostConfig> config;  // set when there is no error
    std::vector<ConfigError> errors;
};

// Reads and checks the file's structure (not plugin options: see validateOptions).
LoadResult loadFile(const std::string& path);
// Same, from text (file is used in error locations only).
LoadResult loadText(const std::string& text, const std::string& file);

// Validated options ready for the plugin: one (name, value) per value, declared order,
// defaults filled, durations in milliseconds, booleans as "true"/"false".
struct ResolvedOptions {
    std::vector<std::pair<std::string, std::string>> entries;
};

// Checks a connector's options against its plugin's schema: unknown key (listing the
// allowed ones and suggesting the nearest), wrong type, missing required, a list where a
// scalar is expected. Appends every error; fills out when there is none.
void validateOptions(const ConnectorConfig& connector, const OptionSchema& schema,
                     ResolvedOptions& out, std::vector<ConfigError>& errors);

// The nearest candidate by edit distance, when close enough to be a likely typo.
std::optional<std::string> suggestNearest(const std::string& name,
                                          const std::vector<std::string>& candidates);

}  // namespace switchboard::host::config
