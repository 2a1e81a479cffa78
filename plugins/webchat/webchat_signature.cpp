#include "webchat_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>

namespace webchat {

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
    if (key.size() > static_cast<size_t>(INT_MAX)) throw std::length_error("HMAC key too long");
    // OpenSSL wants a non-null key pointer even for an empty key.
    static const unsigned char kEmpty = 0;
    const void* keyPtr = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
    const auto* dataPtr = data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macLen = 0;
    if (HMAC(EVP_sha256(), keyPtr, static_cast<int>(key.size()), dataPtr, data.size(), mac, &macLen) == nullptr)
        throw std::runtime_error("HMAC-SHA256 failed");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(macLen * 2);
    for (unsigned int i = 0; i < macLen; ++i) {
        hex.push_back(kHex[mac[i] >> 4]);
        hex.push_back(kHex[mac[i] & 0x0F]);
    }
    return hex;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
    // The length is public (a SHA-256 hex is always 64 characters); the content is not.
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool verifySignature(std::string_view secret, std::string_view body, std::string_view header) {
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
    if (header.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) return false;
    std::string given(header.substr(kSignaturePrefix.size()));
    for (char& c : given)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return constantTimeEquals(hmacSha256Hex(secret, body), given);
}

}  // namespace webchat
