#include "vonage_concat.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace vonage {

using nlohmann::json;

ConcatState ConcatState::fromJson(const std::string& text) {
    ConcatState s;
    if (text.empty()) return s;
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object() || j.value("v", 0) != 1) throw std::runtime_error("not a version 1 concat state");
    try {
        for (const auto& g : j.at("pending")) {
            PendingGroup group;
            group.from = g.at("from").get<std::string>();
            group.to = g.at("to").get<std::string>();
            group.ref = g.at("ref").get<std::string>();
            group.type = g.at("type").get<std::string>();
            group.total = g.at("total").get<int>();
            group.firstSeenMs = g.at("first_seen_ms").get<int64_t>();
            for (const auto& p : g.at("parts"))
                group.parts[p.at("part").get<int>()] = {p.at("id").get<std::string>(), p.at("text").get<std::string>(),
                                                        p.at("at").get<int64_t>()};
            s.pending_[group.from + " " + group.to + " " + group.ref] = std::move(group);
        }
        for (const auto& d : j.at("emitted")) s.emitted_[d.at("id").get<std::string>()] = d.at("at").get<int64_t>();
    } catch (const json::exception& e) {
        throw std::runtime_error(std::string("malformed concat state: ") + e.what());
    }
    return s;
}

std::string ConcatState::toJson() const {
    json pending = json::array();
    for (const auto& [key, g] : pending_) {
        json parts = json::array();
        for (const auto& [n, p] : g.parts) parts.push_back({{"part", n}, {"id", p.messageId}, {"text", p.text}, {"at", p.occurredAtMs}});
        pending.push_back({{"from", g.from}, {"to", g.to}, {"ref", g.ref}, {"type", g.type}, {"total", g.total},
                           {"first_seen_ms", g.firstSeenMs}, {"parts", parts}});
    }
    json emitted = json::array();
    for (const auto& [id, at] : emitted_) emitted.push_back({{"id", id}, {"at", at}});
    return json{{"v", 1}, {"pending", pending}, {"emitted", emitted}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

ConcatState::Added ConcatState::add(const InboundSms& sms, int64_t nowMs, std::string* groupKey) {
    const ConcatInfo& c = *sms.concat;
    const std::string key = sms.from + " " + sms.to + " " + c.ref;
    *groupKey = key;
    forgetOld(nowMs);
    if (emitted_.count(sms.messageId)) return Added::Duplicate;
    auto it = pending_.find(key);
    if (it == pending_.end()) {
        PendingGroup g;
        g.from = sms.from;
        g.to = sms.to;
        g.ref = c.ref;
        g.total = c.total;
        g.type = sms.type;
        g.firstSeenMs = nowMs;
        it = pending_.emplace(key, std::move(g)).first;
    }
    PendingGroup& g = it->second;
    if (g.parts.count(c.part)) return Added::Duplicate;
    for (const auto& [n, p] : g.parts)
        if (p.messageId == sms.messageId) return Added::Duplicate;
    // A part that disagrees on the total belongs to a new message that reused the reference;
    // keep the first one's view (the parts beyond it are kept out by the part number check).
    if (c.part > g.total) return Added::Duplicate;
    g.parts[c.part] = {sms.messageId, sms.text, sms.occurredAtMs};
    if (sms.type == "unicode") g.type = "unicode";
    return g.complete() ? Added::Complete : Added::Pending;
}

PendingGroup ConcatState::take(const std::string& key, int64_t nowMs) {
    auto it = pending_.find(key);
    if (it == pending_.end()) throw std::logic_error("no pending concat group " + key);
    PendingGroup g = std::move(it->second);
    pending_.erase(it);
    for (const auto& [n, p] : g.parts) emitted_[p.messageId] = nowMs;
    forgetOld(nowMs);
    return g;
}

std::vector<std::string> ConcatState::expired(int64_t nowMs, int64_t timeoutMs) const {
    std::vector<std::string> keys;
    for (const auto& [key, g] : pending_)
        if (nowMs - g.firstSeenMs >= timeoutMs) keys.push_back(key);
    return keys;
}

size_t ConcatState::pendingParts() const {
    size_t n = 0;
    for (const auto& [key, g] : pending_) n += g.parts.size();
    return n;
}

std::optional<int64_t> ConcatState::nextExpiry(int64_t timeoutMs) const {
    std::optional<int64_t> next;
    for (const auto& [key, g] : pending_)
        if (!next || g.firstSeenMs + timeoutMs < *next) next = g.firstSeenMs + timeoutMs;
    return next;
}

void ConcatState::forgetOld(int64_t nowMs) {
    for (auto it = emitted_.begin(); it != emitted_.end();)
        it = nowMs - it->second > kRememberMs ? emitted_.erase(it) : std::next(it);
    while (emitted_.size() > kMaxRemembered) {
        auto oldest = emitted_.begin();
        for (auto it = emitted_.begin(); it != emitted_.end(); ++it)
            if (it->second < oldest->second) oldest = it;
        emitted_.erase(oldest);
    }
}

JoinedText join(const PendingGroup& g) {
    JoinedText out;
    const PendingPart& first = g.parts.begin()->second;
    out.sourceId = first.messageId;
    out.occurredAtMs = first.occurredAtMs;
    json parts = json::array();
    std::string missing;
    for (int n = 1; n <= g.total; ++n) {
        const auto it = g.parts.find(n);
        if (it == g.parts.end()) {
            missing += (missing.empty() ? "" : ",") + std::to_string(n);
            continue;
        }
        out.text += it->second.text;
        parts.push_back({{"concat-part", n}, {"messageId", it->second.messageId}, {"text", it->second.text}});
    }
    out.attributes.emplace_back("sms.concat.parts", std::to_string(g.total));
    if (!missing.empty()) {
        out.attributes.emplace_back("sms.concat.incomplete", "true");
        out.attributes.emplace_back("sms.concat.missing", missing);
    }
    out.rawJson = json{{"msisdn", g.from}, {"to", g.to}, {"concat-ref", g.ref}, {"concat-total", g.total},
                       {"type", g.type}, {"parts", parts}}
                      .dump(-1, ' ', false, json::error_handler_t::replace);
    return out;
}

}  // namespace vonage
