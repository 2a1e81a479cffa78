// Request signatures: HMAC-SHA256 of the raw body, sent as "sha256=<lower-case hex>".
#pragma once

#include <string>
#include <string_view>

namespace webchat {

inline constexpr std::string_view kSignaturePrefix = "sha256=";

// Lower-case hex HMAC-SHA256 of data keyed with key (64 characters).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

// True when header is "sha256=<hex>" and the hex is the HMAC of body with secret. The hex is
// compared case-insensitively and in constant time; surrounding spaces are ignored.
bool verifySignature(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace webchat
