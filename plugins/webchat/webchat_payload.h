// Parses a webchat request body into a normalized message. Pure: no host calls, no I/O, so
// it can be tested and fuzzed on its own.
#pragma once

#include <switchboard/plugin.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webchat {

// The instance options the parser needs.
struct PayloadOptions {
    std::string channel = "webchat";
    std::string scope;           // given to external identities only
    int64_t maxAttachments = 20;
};

// Either a message or the reason the body was refused (naming the field).
struct ParseResult {
    std::optional<switchboard::Message> message;
    std::string error;
    bool ok() const { return message.has_value(); }
};

inline constexpr size_t kMaxIdBytes = 256;
inline constexpr int kMaxNesting = 32;

ParseResult parsePayload(std::string_view body, const PayloadOptions& options);

// RFC 3339 date-time ("2026-11-23T10:00:00Z", "...T10:00:00.250+01:00") to Unix milliseconds.
// Fractional digits beyond milliseconds are truncated. nullopt when malformed.
std::optional<int64_t> parseRfc3339Ms(std::string_view text);

}  // namespace webchat
