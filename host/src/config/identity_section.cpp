// identity: how messages are linked to customers — default phone region, which identity
// types match, auto-merge or match-only, and blocked and shared values per type.
#include "config/parse_context.h"
#include "config/suggest.h"
#include "config/value_parsing.h"

#include <algorithm>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kIdentityKeys = {"default_region", "match_types",     "mode",
                                                "fold_gmail",     "blocked",         "shared",
                                                "source_priority", "limits",         "limit_window",
                                                "cardinality"};
const std::vector<std::string> kIdentityTypes = {"email", "phone", "external"};
const std::vector<std::string> kModes = {"auto_merge", "match_only"};

// A scalar or a list of scalars, each checked as a string.
std::vector<std::string> stringList(ParseContext& ctx, const YAML::Node& node, const std::string& path) {
    std::vector<std::string> out;
    if (node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i) {
            const std::string p = path + "[" + std::to_string(i) + "]";
            if (auto v = ctx.scalar(node[i], ctx.locate(node[i]), p, "a string")) out.push_back(v->text);
        }
    } else if (!node.IsNull()) {
        if (auto v = ctx.scalar(node, ctx.locate(node), path, "a string")) out.push_back(v->text);
    }
    return out;
}

bool checkType(ParseContext& ctx, const YAML::Node& node, const std::string& path, const std::string& type) {
    if (std::find(kIdentityTypes.begin(), kIdentityTypes.end(), type) != kIdentityTypes.end()) return true;
    ctx.error(ctx.locate(node), path, unknownNameMessage("identity type", type, kIdentityTypes, "known"));
    return false;
}

void valuesPerType(ParseContext& ctx, const MapEntry& entry, std::map<std::string, std::vector<std::string>>& out) {
    for (const MapEntry& perType : ctx.mapEntries(entry.value, entry.path, kIdentityTypes))
        out[perType.key] = stringList(ctx, perType.value, perType.path);
}

// type → positive integer (limits, cardinality).
void countsPerType(ParseContext& ctx, const MapEntry& entry, std::map<std::string, int64_t>& out) {
    for (const MapEntry& perType : ctx.mapEntries(entry.value, entry.path, kIdentityTypes)) {
        auto v = ctx.scalar(perType, "a positive integer");
        if (!v) continue;
        auto n = parseInt64(v->text);
        if (!n || *n < 1)
            ctx.error(v->where, perType.path, "expects a positive integer, got " + showValue(v->text, v->fromReference));
        else out[perType.key] = *n;
    }
}

}  // namespace

void parseIdentity(ParseContext& ctx, const MapEntry& section, IdentityConfig& identity) {
    for (const MapEntry& entry : ctx.mapEntries(section.value, section.path, kIdentityKeys)) {
        if (entry.key == "default_region") {
            auto v = ctx.scalar(entry, "a region code such as PT");
            if (!v) continue;
            identity.defaultRegion = v->text;
            identity.defaultRegionWhere = v->where;
        } else if (entry.key == "match_types") {
            identity.matchTypes.clear();
            std::vector<std::string> types = stringList(ctx, entry.value, entry.path);
            for (size_t i = 0; i < types.size(); ++i)
                if (checkType(ctx, entry.value, entry.path + "[" + std::to_string(i) + "]", types[i]))
                    identity.matchTypes.push_back(types[i]);
        } else if (entry.key == "mode") {
            auto v = ctx.scalar(entry);
            if (!v) continue;
            if (std::find(kModes.begin(), kModes.end(), v->text) == kModes.end())
                ctx.error(v->where, entry.path, unknownNameMessage("mode", v->text, kModes, "known"));
            else identity.mode = v->text;
        } else if (entry.key == "fold_gmail") {
            auto v = ctx.scalar(entry, "true or false");
            if (!v) continue;
            auto b = parseBool(v->text);
            if (!b) ctx.error(v->where, entry.path, "expects true or false, got " + showValue(v->text, v->fromReference));
            else identity.foldGmail = *b;
        } else if (entry.key == "limits") {
            countsPerType(ctx, entry, identity.limits);
        } else if (entry.key == "cardinality") {
            countsPerType(ctx, entry, identity.cardinality);
        } else if (entry.key == "limit_window") {
            auto v = ctx.scalar(entry, "a duration such as 8760h");
            if (!v) continue;
            auto ms = parseDurationMs(v->text);
            if (!ms || *ms <= 0)
                ctx.error(v->where, entry.path, "expects a duration such as 8760h (a year), got " +
                                                    showValue(v->text, v->fromReference));
            else identity.limitWindowMs = *ms;
        } else if (entry.key == "source_priority") {
            identity.sourcePriority = stringList(ctx, entry.value, entry.path);
        } else if (entry.key == "blocked") {
            valuesPerType(ctx, entry, identity.blocked);
        } else {
            valuesPerType(ctx, entry, identity.shared);
        }
    }
}

}  // namespace switchboard::host::config
