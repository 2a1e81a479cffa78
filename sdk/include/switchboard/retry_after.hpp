// A server's Retry-After header (RFC 9110 §10.2.3) as a duration from now: delta-seconds
// ("120") or an HTTP-date in any of its three forms (RFC 9110 §5.6.7: IMF-fixdate, the
// obsolete RFC 850 and asctime forms), read by libcurl's date parser. Header-only: link
// Switchboard::http (find_package(SwitchboardSDK 1 REQUIRED COMPONENTS http)).
// Put the result in Result::retry(why, afterMs) and the host waits at least that long.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::http {

// Honoured up to a day; a longer wait is a server bug or hostile, and the host's retry delay
// is 32-bit milliseconds.
inline constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};

// nullopt when empty or neither form; a date at or before now is 0; capped at kMaxRetryAfter.
// A two-digit RFC 850 year is read as libcurl does (70-99: 19xx, else 20xx).
inline std::optional<std::chrono::seconds> parseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    const char first = value.front();
    if (first >= '0' && first <= '9') {  // delta-seconds = 1*DIGIT
        uint64_t seconds = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc::result_out_of_range && end == value.data() + value.size()) return kMaxRetryAfter;
        if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
        return std::chrono::seconds(std::min<uint64_t>(seconds, static_cast<uint64_t>(kMaxRetryAfter.count())));
    }
    // Every HTTP-date form starts with the day name; anything else ("-5", "soon") is no date.
    if (!((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z'))) return std::nullopt;
    const time_t at = curl_getdate(std::string(value).c_str(), nullptr);
    if (at == -1) return std::nullopt;
    // Rounded up: a date one second away is never "now".
    const auto wait = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::from_time_t(at) - now);
    return std::clamp(wait, std::chrono::seconds(0), kMaxRetryAfter);
}

}  // namespace switchboard::http
