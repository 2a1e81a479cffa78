#include "webchat_signature.h"

#include <switchboard/crypto.hpp>

namespace webchat {

namespace crypto = switchboard::crypto;

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
    return crypto::toHex(crypto::hmacSha256(key, data));
}

bool verifySignature(std::string_view secret, std::string_view body, std::string_view header) {
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
    if (header.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) return false;
    std::string given(header.substr(kSignaturePrefix.size()));
    for (char& c : given)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return crypto::constantTimeEquals(hmacSha256Hex(secret, body), given);
}

}  // namespace webchat
