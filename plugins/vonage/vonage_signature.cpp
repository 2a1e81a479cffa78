#include "vonage_signature.h"

#include <switchboard/crypto.hpp>

#include <cctype>

namespace vonage {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

namespace crypto = switchboard::crypto;

crypto::Digest digestOf(SignatureMethod m) {
    switch (m) {
        case SignatureMethod::Md5Hash:
        case SignatureMethod::Md5Hmac: return crypto::Digest::Md5;
        case SignatureMethod::Sha1Hmac: return crypto::Digest::Sha1;
        case SignatureMethod::Sha256Hmac: return crypto::Digest::Sha256;
        case SignatureMethod::Sha512Hmac: return crypto::Digest::Sha512;
    }
    return crypto::Digest::Md5;
}

}  // namespace

std::optional<SignatureMethod> signatureMethodNamed(std::string_view name) {
    const std::string n = lower(name);
    if (n == "md5hash") return SignatureMethod::Md5Hash;
    if (n == "md5" || n == "md5hmac") return SignatureMethod::Md5Hmac;
    if (n == "sha1" || n == "sha1hmac") return SignatureMethod::Sha1Hmac;
    if (n == "sha256" || n == "sha256hmac") return SignatureMethod::Sha256Hmac;
    if (n == "sha512" || n == "sha512hmac") return SignatureMethod::Sha512Hmac;
    return std::nullopt;
}

std::string signedString(const std::map<std::string, std::string>& params) {
    std::string out;
    for (const auto& [name, value] : params) {  // std::map: sorted by name (byte order)
        if (name == "sig") continue;
        out += '&';
        out += name;
        out += '=';
        for (char c : value) out += (c == '&' || c == '=') ? '_' : c;
    }
    return out;
}

std::string signature(const std::map<std::string, std::string>& params, std::string_view secret,
                      SignatureMethod method) {
    const std::string data = signedString(params);
    if (method == SignatureMethod::Md5Hash)
        return crypto::toHex(crypto::digest(crypto::Digest::Md5, data + std::string(secret)));
    return crypto::toHex(crypto::hmac(digestOf(method), secret, data), crypto::HexCase::Upper);
}

bool signatureValid(const std::map<std::string, std::string>& params, std::string_view secret,
                    SignatureMethod method) {
    const auto sig = params.find("sig");
    if (sig == params.end() || sig->second.empty()) return false;
    return crypto::constantTimeEquals(lower(signature(params, secret, method)), lower(sig->second));
}

}  // namespace vonage
