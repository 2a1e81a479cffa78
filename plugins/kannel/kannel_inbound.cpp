#include "kannel_inbound.h"

#include <switchboard/crypto.hpp>

#include <charconv>
#include <cstdint>

namespace kannel {

namespace {

bool validUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

std::string latin1ToUtf8(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
        if (x != y) return false;
    }
    return true;
}

std::string param(const std::map<std::string, std::string>& p, const std::string& name) {
    auto it = p.find(name);
    return it == p.end() ? std::string() : it->second;
}

}  // namespace

std::optional<std::string> decodeText(const std::string& bytes, std::string_view coding, std::string_view charset) {
    // "UTF16-BE" is how older guides spell it.
    if (coding == "2" || equalsIgnoreCase(charset, "UTF-16BE") || equalsIgnoreCase(charset, "UTF16-BE"))
        return sbcommon::sms::fromUtf16Be(bytes);
    if (coding == "1" || equalsIgnoreCase(charset, "binary")) return std::nullopt;
    if (validUtf8(bytes)) return bytes;
    return latin1ToUtf8(bytes);  // Kannel's historical default charset
}

std::optional<std::string> parseMo(const std::map<std::string, std::string>& params, std::string_view rawQuery,
                                   const std::string& channel, MoMessage& out) {
    const std::string from = param(params, "from"), id = param(params, "id");
    if (from.empty()) return std::string("parameter 'from' is missing (get-url needs from=%p)");
    if (id.empty()) return std::string("parameter 'id' is missing (get-url needs id=%I)");
    switchboard::Message& m = out.message;
    m.channel = channel;
    m.direction = SB_DIRECTION_INBOUND;
    m.sourceId = id;  // Kannel's message UUID: the same on a get-url retry, so the host dedupes
    m.sender.push_back({"phone", from, ""});
    if (const std::string to = param(params, "to"); !to.empty()) m.recipients.push_back({"phone", to, ""});
    const std::string coding = param(params, "coding"), charset = param(params, "charset");
    if (auto text = decodeText(param(params, "text"), coding, charset)) {
        m.text = *text;
        out.keyword = sbcommon::sms::classifyKeyword(m.text);
        if (out.keyword != sbcommon::sms::Keyword::None)
            m.attributes.emplace_back("sms.keyword", sbcommon::sms::keywordName(out.keyword));
    } else {
        m.attributes.emplace_back("sms.binary_hex", switchboard::crypto::toHex(param(params, "text")));
    }
    const std::string time = param(params, "time");
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(time.data(), time.data() + time.size(), seconds);
    if (!time.empty() && ec == std::errc() && end == time.data() + time.size() && seconds > 0)
        m.occurredAtMs = seconds * 1000;
    if (const std::string smsc = param(params, "smsc"); !smsc.empty()) m.attributes.emplace_back("sms.smsc_id", smsc);
    if (!coding.empty()) m.attributes.emplace_back("sms.coding", coding);
    m.rawContentType = "application/x-www-form-urlencoded";
    m.raw = std::string(rawQuery);
    return std::nullopt;
}

std::optional<sb_delivery_status> dlrStatus(std::string_view type) {
    if (type == "1") return SB_DELIVERY_DELIVERED;
    if (type == "2") return SB_DELIVERY_UNDELIVERED;
    if (type == "4") return SB_DELIVERY_QUEUED;
    if (type == "8") return SB_DELIVERY_SENT;
    if (type == "16") return SB_DELIVERY_FAILED;
    return std::nullopt;
}

}  // namespace kannel
