#include "vonage_inbound.h"

#include <sbcommon/utf8.h>

#include <charconv>
#include <ctime>

namespace vonage {

namespace {

bool allDigits(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

std::optional<int> number(const std::string& s) {
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// message-timestamp, else the Unix `timestamp` of signed requests, else 0.
int64_t occurredAt(const Params& p) {
    if (auto ms = parseMessageTimestamp(param(p, "message-timestamp"))) return *ms;
    int64_t seconds = 0;
    const std::string ts = param(p, "timestamp");
    const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), seconds);
    return (ec == std::errc() && end == ts.data() + ts.size() && seconds > 0) ? seconds * 1000 : 0;
}

// Vonage sends UTF-8; a stray invalid byte becomes U+FFFD instead of failing the whole message.
std::string validUtf8(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const auto& cp : sbcommon::utf8::decodeUtf8(text)) sbcommon::utf8::appendUtf8(out, cp.value);
    return out;
}

}  // namespace

std::string e164(const std::string& number) { return allDigits(number) ? "+" + number : number; }

std::optional<int64_t> parseMessageTimestamp(const std::string& text) {
    std::tm tm{};
    if (text.size() != 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    const auto field = [&](size_t at, size_t len) { return number(text.substr(at, len)); };
    const auto y = field(0, 4), mo = field(5, 2), d = field(8, 2), h = field(11, 2), mi = field(14, 2), s = field(17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *s > 60)
        return std::nullopt;
    tm.tm_year = *y - 1900;
    tm.tm_mon = *mo - 1;
    tm.tm_mday = *d;
    tm.tm_hour = *h;
    tm.tm_min = *mi;
    tm.tm_sec = *s;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::optional<InboundSms> readInboundSms(const Params& p, std::string* why) {
    InboundSms sms;
    sms.messageId = param(p, "messageId");
    sms.from = e164(param(p, "msisdn"));
    sms.to = e164(param(p, "to"));
    sms.type = param(p, "type");
    if (sms.type.empty()) sms.type = "text";
    if (sms.messageId.empty() || sms.from.empty()) {
        *why = "messageId and msisdn are required";
        return std::nullopt;
    }
    if (sms.type != "text" && sms.type != "unicode" && sms.type != "binary") {
        *why = "type '" + sms.type + "' is not text, unicode or binary";
        return std::nullopt;
    }
    if (sms.type != "binary") sms.text = validUtf8(param(p, "text"));
    sms.occurredAtMs = occurredAt(p);
    if (param(p, "concat") == "true") {
        ConcatInfo c;
        c.ref = param(p, "concat-ref");
        const auto total = number(param(p, "concat-total")), part = number(param(p, "concat-part"));
        // A handset's concatenation header holds at most 255 parts.
        if (c.ref.empty() || !total || !part || *total < 1 || *total > 255 || *part < 1 || *part > *total) {
            *why = "concat=true needs concat-ref, and concat-part between 1 and concat-total (at most 255)";
            return std::nullopt;
        }
        c.total = *total;
        c.part = *part;
        if (c.total > 1) sms.concat = c;
    }
    return sms;
}

std::optional<DeliveryReceipt> readDeliveryReceipt(const Params& p, std::string* why) {
    DeliveryReceipt r;
    r.messageId = param(p, "messageId");
    r.status = param(p, "status");
    r.errCode = param(p, "err-code");
    r.scts = param(p, "scts");
    r.to = e164(param(p, "msisdn"));  // in a DLR, msisdn is the number we sent to
    r.occurredAtMs = occurredAt(p);
    if (r.messageId.empty() || r.status.empty()) {
        *why = "messageId and status are required";
        return std::nullopt;
    }
    return r;
}

// https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts ("DLR status messages").
std::optional<sb_delivery_status> deliveryStatusOf(const std::string& s) {
    if (s == "delivered") return SB_DELIVERY_DELIVERED;
    if (s == "accepted" || s == "buffered") return SB_DELIVERY_SENT;  // at the carrier, not yet on the handset
    if (s == "expired" || s == "failed") return SB_DELIVERY_UNDELIVERED;  // the carrier could not deliver it
    if (s == "rejected") return SB_DELIVERY_FAILED;  // refused by Vonage or the carrier
    return std::nullopt;  // "unknown": nothing to record
}

}  // namespace vonage
