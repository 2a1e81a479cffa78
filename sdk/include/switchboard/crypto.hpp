// Signatures for webhooks and signed API calls: HMAC (SHA-256, SHA-1, ...) of some bytes with
// a secret key, its hex or base64 text, and a compare that does not leak where two values
// differ. Header-only on OpenSSL's libcrypto: link Switchboard::crypto
// (find_package(SwitchboardSDK 1 REQUIRED COMPONENTS crypto)). Not part of the C ABI.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace switchboard::crypto {

enum class Digest { Md5, Sha1, Sha256, Sha512 };

namespace detail {
inline const EVP_MD* evp(Digest d) {
    switch (d) {
        case Digest::Md5: return EVP_md5();
        case Digest::Sha1: return EVP_sha1();
        case Digest::Sha256: return EVP_sha256();
        case Digest::Sha512: return EVP_sha512();
    }
    throw std::invalid_argument("unknown digest");
}
// OpenSSL wants non-null pointers even for empty input.
inline const unsigned char* bytes(std::string_view s) {
    static const unsigned char kEmpty = 0;
    return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}
}  // namespace detail

// The raw MAC (32 bytes for SHA-256, 20 for SHA-1). Throws std::runtime_error when OpenSSL fails.
inline std::string hmac(Digest digest, std::string_view key, std::string_view data) {
    if (key.size() > static_cast<size_t>(INT_MAX)) throw std::length_error("HMAC key too long");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(detail::evp(digest), detail::bytes(key), static_cast<int>(key.size()), detail::bytes(data), data.size(),
             mac, &length) == nullptr)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<const char*>(mac), length);
}
inline std::string hmacSha256(std::string_view key, std::string_view data) { return hmac(Digest::Sha256, key, data); }
inline std::string hmacSha1(std::string_view key, std::string_view data) { return hmac(Digest::Sha1, key, data); }

// A plain message digest (no key), raw bytes: what some providers sign with (Vonage's md5hash).
inline std::string digest(Digest digest, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(detail::bytes(data), data.size(), out, &length, detail::evp(digest), nullptr) != 1)
        throw std::runtime_error("digest failed");
    return std::string(reinterpret_cast<const char*>(out), length);
}

enum class HexCase { Lower, Upper };
inline std::string toHex(std::string_view bytes, HexCase letters = HexCase::Lower) {
    const char* digits = letters == HexCase::Upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Standard base64 (RFC 4648 §4) with padding, on one line.
inline std::string toBase64(std::string_view bytes) {
    if (bytes.size() > static_cast<size_t>(INT_MAX) / 4 * 3) throw std::length_error("too long for base64");
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + the NUL EVP_EncodeBlock writes
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), detail::bytes(bytes),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

// Equal, in time that depends on the lengths only, never on where the contents differ: compare
// a received signature or token with the expected one this way. (The length of a hex or
// base64 MAC is public.)
inline bool constantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace switchboard::crypto
