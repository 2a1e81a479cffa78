// The small host-level sections: store, plugins and log.
#include "config/parse_context.h"
#include "config/suggest.h"
#include "config/value_parsing.h"

#include <algorithm>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kStoreKinds = {"sqlite", "postgresql"};
// Keys beside the one store kind.
const std::vector<std::string> kStoreSettings = {"commit"};
const std::vector<std::string> kCommitKeys = {"max_pending", "max_pending_bytes", "max_group", "ack_timeout"};
const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};
const std::vector<std::string> kLogFormats = {"text", "json"};

// A value that must be one of a fixed set of words.
void parseChoice(ParseContext& ctx, const MapEntry& entry, const std::vector<std::string>& choices,
                 std::string& out) {
    auto value = ctx.scalar(entry);
    if (!value) return;
    if (std::find(choices.begin(), choices.end(), value->text) == choices.end()) {
        std::string message = "expects one of " + joinNames(choices) + ", got " +
                              showValue(value->text, value->fromReference);
        if (auto nearest = suggestNearest(value->text, choices); nearest && !value->fromReference) {
            message += " (did you mean '" + *nearest + "'?)";
        }
        ctx.error(value->where, entry.path, message);
        return;
    }
    out = value->text;
}

void parseSqlite(ParseContext& ctx, const MapEntry& kind, StoreConfig& store) {
    for (const MapEntry& entry : ctx.mapEntries(kind.value, kind.path, {"path"})) {
        auto value = ctx.scalar(entry, "a file path");
        if (!value) continue;
        if (value->text.empty()) {
            ctx.error(value->where, entry.path, "is empty");
        } else if (value->text == ":memory:") {
            store.sqlitePath = value->text;  // SQLite's in-memory database, not a file name
        } else {
            store.sqlitePath = ctx.resolvePath(value->text);
        }
    }
}

// store: postgresql: { url: "host=... port=... dbname=... user=... password=${env:PG_PASSWORD}" }
// The url is a libpq conninfo (or a postgresql:// URI) and may hold the password: errors never
// show it.
void parsePostgres(ParseContext& ctx, const MapEntry& kind, StoreConfig& store) {
    bool haveUrl = false;
    for (const MapEntry& entry : ctx.mapEntries(kind.value, kind.path, {"url"})) {
        auto value = ctx.scalar(entry, "a libpq connection string");
        if (!value) continue;
        haveUrl = true;
        if (value->text.find_first_not_of(" \t") == std::string::npos) ctx.error(value->where, entry.path, "is empty");
        else store.postgresqlUrl = value->text;
    }
    if (!haveUrl && kind.value.IsMap())
        ctx.error(ctx.locate(kind.keyNode), kind.path,
                  "needs url (a libpq connection string, e.g. \"host=db.internal port=5432 dbname=switchboard "
                  "user=switchboard password=${env:PG_PASSWORD}\")");
}

// store: commit: { max_pending: 10000, max_pending_bytes: 64MiB, max_group: 512, ack_timeout: 10s }
void parseCommit(ParseContext& ctx, const MapEntry& section, StoreConfig::Commit& commit) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, kCommitKeys)) {
        auto value = ctx.scalar(entry);
        if (!value) continue;
        const std::string shown = showValue(value->text, value->fromReference);
        if (entry.key == "max_pending" || entry.key == "max_group") {
            auto n = parseInt64(value->text);
            if (!n || *n < 1 || *n > 10'000'000) {
                ctx.error(value->where, entry.path,
                          "expects a whole number of messages from 1 to 10000000, got " + shown);
                continue;
            }
            (entry.key == "max_pending" ? commit.maxPending : commit.maxGroup) = static_cast<size_t>(*n);
        } else if (entry.key == "max_pending_bytes") {
            auto bytes = parseByteSize(value->text);
            if (!bytes) {
                ctx.error(value->where, entry.path,
                          "expects a positive byte count such as 67108864, 512MiB or 1GiB, got " + shown);
                continue;
            }
            commit.maxPendingBytes = *bytes;
        } else if (entry.key == "ack_timeout") {
            DurationError why = DurationError::None;
            auto ms = parseDurationMs(value->text, &why);
            if (!ms || *ms < 1) {
                ctx.error(value->where, entry.path,
                          "expects a duration such as 500ms, 10s or 1m, got " + shown +
                              (why == DurationError::MissingUnit ? " (the unit is missing)" : ""));
                continue;
            }
            commit.ackTimeoutMs = *ms;
        }
    }
}

}  // namespace

void parseStore(ParseContext& ctx, const MapEntry& section, StoreConfig& store) {
    std::vector<MapEntry> kinds;
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, {})) {
        if (entry.key == "commit") {
            parseCommit(ctx, entry, store.commit);
            continue;
        }
        if (std::find(kStoreKinds.begin(), kStoreKinds.end(), entry.key) == kStoreKinds.end()) {
            ctx.error(ctx.locate(entry.keyNode), entry.path,
                      unknownNameMessage("store kind", entry.key, kStoreKinds, "known") +
                          "; beside the kind: " + joinNames(kStoreSettings));
            continue;
        }
        kinds.push_back(entry);
    }
    if (kinds.size() > 1) {
        ctx.error(ctx.locate(kinds[1].keyNode), kinds[1].path,
                  "only one store may be configured (" + kinds[0].key + " is set at line " +
                      std::to_string(ctx.locate(kinds[0].keyNode).line) + ")");
        return;
    }
    if (kinds.empty()) return;
    store.kind = kinds[0].key;
    if (kinds[0].key == "sqlite") parseSqlite(ctx, kinds[0], store);
    else parsePostgres(ctx, kinds[0], store);
}

void parsePlugins(ParseContext& ctx, const MapEntry& section, std::vector<std::string>& pluginPaths) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, {"paths"})) {
        for (const auto& [node, path] : ctx.listItems(entry)) {
            auto value = ctx.scalar(node, ctx.locate(node), path, "a directory path");
            if (!value) continue;
            if (value->text.empty()) ctx.error(value->where, path, "is empty");
            else pluginPaths.push_back(ctx.resolvePath(value->text));
        }
    }
}

void parseLog(ParseContext& ctx, const MapEntry& section, LogConfig& log) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, {"level", "format"})) {
        if (entry.key == "level") parseChoice(ctx, entry, kLogLevels, log.level);
        else parseChoice(ctx, entry, kLogFormats, log.format);
    }
}

}  // namespace switchboard::host::config
