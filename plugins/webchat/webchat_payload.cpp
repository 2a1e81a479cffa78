#include "webchat_payload.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <utility>

namespace webchat {
namespace {

using nlohmann::json;

// Internal only: unwinds from a deep field check to parsePayload, which turns it into text.
struct FieldError {
    std::string message;
};

[[noreturn]] void fail(const std::string& field, std::string_view what) {
    throw FieldError{"field '" + field + "': " + std::string(what)};
}

// Client-chosen keys end up in error text, logs and responses: keep them short and printable.
std::string displayKey(const std::string& key) {
    constexpr size_t kMax = 64;
    std::string out = key;
    if (out.size() > kMax) {
        size_t cut = kMax;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
        out = out.substr(0, cut) + "...";
    }
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == '\'') c = '?';
    return out;
}

// A member that is absent or null counts as absent.
const json* member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<std::string> optionalString(const json& object, const char* key, const std::string& path) {
    const json* v = member(object, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(path, "expected a string");
    return v->get<std::string>();
}

std::optional<uint64_t> optionalSize(const json& object, const char* key, const std::string& path) {
    const json* v = member(object, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    fail(path, "expected a non-negative integer");
}

// nlohmann's parser is iterative, but a deep document still costs memory for nothing: the
// message is at most three levels deep, so refuse absurd nesting before building a tree.
bool nestingWithin(std::string_view body, int limit) {
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (char c : body) {
        if (inString) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

int64_t parseTimestamp(const json& v) {
    constexpr const char* kExpected =
        "expected an RFC 3339 string (2026-11-23T10:00:00Z) or integer Unix milliseconds";
    if (v.is_string()) {
        auto ms = parseRfc3339Ms(v.get_ref<const std::string&>());
        if (!ms) fail("timestamp", kExpected);
        if (*ms < 0) fail("timestamp", "must not be before 1970");
        return *ms;
    }
    if (v.is_number_unsigned()) {
        const auto ms = v.get<uint64_t>();
        if (ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("timestamp", "out of range");
        return static_cast<int64_t>(ms);
    }
    if (v.is_number_integer()) fail("timestamp", "must not be negative");
    fail("timestamp", kExpected);
}

void parseFrom(const json& root, const PayloadOptions& options, switchboard::Message& m) {
    const json* from = member(root, "from");
    if (from == nullptr) fail("from", "required");
    if (!from->is_object()) fail("from", "expected an object");

    m.senderName = optionalString(*from, "name", "from.name").value_or("");
    // An empty string counts as absent: widgets post unfilled form fields as "".
    if (auto email = optionalString(*from, "email", "from.email"); email && !email->empty())
        m.sender.push_back({"email", *email, ""});
    if (auto phone = optionalString(*from, "phone", "from.phone"); phone && !phone->empty())
        m.sender.push_back({"phone", *phone, ""});
    if (const json* ids = member(*from, "external_ids")) {
        if (!ids->is_object()) fail("from.external_ids", "expected an object");
        for (const auto& [system, id] : ids->items()) {
            // The identity value is "system:id", so the system part cannot hold the separator.
            if (system.empty() || system.find(':') != std::string::npos)
                fail("from.external_ids", "system names must be non-empty and must not contain ':'");
            const std::string path = "from.external_ids." + displayKey(system);
            if (!id.is_string()) fail(path, "expected a string");
            const auto& value = id.get_ref<const std::string&>();
            if (!value.empty()) m.sender.push_back({"external", system + ":" + value, options.scope});
        }
    }
    if (m.sender.empty()) fail("from", "needs at least one of 'email', 'phone' or 'external_ids'");
}

void parseAttachments(const json& root, const PayloadOptions& options, switchboard::Message& m) {
    const json* list = member(root, "attachments");
    if (list == nullptr) return;
    if (!list->is_array()) fail("attachments", "expected an array");
    if (static_cast<int64_t>(list->size()) > options.maxAttachments)
        fail("attachments", "more than " + std::to_string(options.maxAttachments) + " attachments");
    for (size_t i = 0; i < list->size(); ++i) {
        const json& a = (*list)[i];
        const std::string path = "attachments[" + std::to_string(i) + "]";
        if (!a.is_object()) fail(path, "expected an object");
        switchboard::Attachment att;
        att.name = optionalString(a, "name", path + ".name").value_or("");
        att.contentType = optionalString(a, "content_type", path + ".content_type").value_or("");
        att.sizeBytes = optionalSize(a, "size", path + ".size").value_or(0);
        // The content is only ever referenced, so an attachment without a url carries nothing.
        att.reference = optionalString(a, "url", path + ".url").value_or("");
        if (att.reference.empty()) fail(path + ".url", "required");
        m.attachments.push_back(std::move(att));
    }
}

void parseAttributes(const json& root, switchboard::Message& m) {
    const json* attrs = member(root, "attributes");
    if (attrs == nullptr) return;
    if (!attrs->is_object()) fail("attributes", "expected an object");
    for (const auto& [key, value] : attrs->items()) {
        if (key.empty()) fail("attributes", "keys must not be empty");
        if (!value.is_string()) fail("attributes." + displayKey(key), "expected a string");
        m.attributes.emplace_back(key, value.get<std::string>());
    }
}

switchboard::Message build(const json& root, std::string_view body, const PayloadOptions& options) {
    switchboard::Message m;
    m.channel = options.channel;
    m.direction = SB_DIRECTION_INBOUND;

    const json* id = member(root, "id");
    if (id == nullptr) fail("id", "required");
    if (!id->is_string()) fail("id", "expected a string");
    m.sourceId = id->get<std::string>();
    if (m.sourceId.empty()) fail("id", "must not be empty");
    if (m.sourceId.size() > kMaxIdBytes) fail("id", "longer than " + std::to_string(kMaxIdBytes) + " bytes");

    m.conversationId = optionalString(root, "conversation", "conversation").value_or("");
    if (const json* ts = member(root, "timestamp")) m.occurredAtMs = parseTimestamp(*ts);
    parseFrom(root, options, m);
    m.subject = optionalString(root, "subject", "subject").value_or("");
    parseAttachments(root, options, m);

    auto text = optionalString(root, "text", "text");
    if (!text) fail("text", "required");
    if (text->empty() && m.attachments.empty()) fail("text", "must not be empty when there are no attachments");
    m.text = std::move(*text);

    parseAttributes(root, m);
    m.rawContentType = "application/json";
    m.raw = std::string(body);
    return m;
}

bool digits(std::string_view s, size_t& i, int count, int& out) {
    if (i + static_cast<size_t>(count) > s.size()) return false;
    out = 0;
    for (int k = 0; k < count; ++k, ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

bool literal(std::string_view s, size_t& i, char lower, char upper) {
    if (i >= s.size() || (s[i] != lower && s[i] != upper)) return false;
    ++i;
    return true;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<int64_t> parseRfc3339Ms(std::string_view s) {
    size_t i = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(s, i, 4, year) || !literal(s, i, '-', '-') || !digits(s, i, 2, month) ||
        !literal(s, i, '-', '-') || !digits(s, i, 2, day) || !literal(s, i, 't', 'T') ||
        !digits(s, i, 2, hour) || !literal(s, i, ':', ':') || !digits(s, i, 2, minute) ||
        !literal(s, i, ':', ':') || !digits(s, i, 2, second))
        return std::nullopt;
    int millis = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int count = 0;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++count)
            if (count < 3) millis = millis * 10 + (s[i] - '0');
        if (count == 0) return std::nullopt;
        for (; count < 3; ++count) millis *= 10;
    }
    int offsetMinutes = 0;
    if (literal(s, i, 'z', 'Z')) {
        // UTC
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        const int sign = s[i++] == '-' ? -1 : 1;
        int oh = 0, om = 0;
        if (!digits(s, i, 2, oh) || !literal(s, i, ':', ':') || !digits(s, i, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offsetMinutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    // second == 60 is an RFC 3339 leap second; it simply lands on the next minute's :00.
    if (i != s.size() || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 ||
        minute > 59 || second > 60)
        return std::nullopt;
    const int64_t seconds = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second -
                            int64_t{offsetMinutes} * 60;
    return seconds * 1000 + millis;
}

ParseResult parsePayload(std::string_view body, const PayloadOptions& options) {
    ParseResult out;
    if (body.empty()) {
        out.error = "body is empty; expected a JSON object";
        return out;
    }
    if (!nestingWithin(body, kMaxNesting)) {
        out.error = "body is nested deeper than " + std::to_string(kMaxNesting) + " levels";
        return out;
    }
    json root;
    try {
        root = json::parse(body.begin(), body.end());
    } catch (const json::parse_error& e) {
        // Our own wording: the library's message quotes input bytes, which must not reach logs.
        const bool utf8 = std::string_view(e.what()).find("UTF-8") != std::string_view::npos;
        out.error = std::string(utf8 ? "body is not valid UTF-8" : "body is not valid JSON") + " (at byte " +
                    std::to_string(e.byte) + ")";
        return out;
    } catch (const json::exception&) {
        // e.g. out_of_range 406 for a number like 1e999999
        out.error = "body is not valid JSON (a number is out of range)";
        return out;
    }
    if (!root.is_object()) {
        out.error = "body: expected a JSON object";
        return out;
    }
    try {
        out.message = build(root, body, options);
    } catch (const FieldError& e) {
        out.error = e.message;
    }
    return out;
}

}  // namespace webchat
