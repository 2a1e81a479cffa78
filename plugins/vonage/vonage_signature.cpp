#include "vonage_signature.h"

#include <sbcommon/form.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <stdexcept>

namespace vonage {

namespace {

std::string hex(const unsigned char* bytes, unsigned int n, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (unsigned int i = 0; i < n; ++i) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const EVP_MD* digestOf(SignatureMethod m) {
    switch (m) {
        case SignatureMethod::Md5Hash:
        case SignatureMethod::Md5Hmac: return EVP_md5();
        case SignatureMethod::Sha1Hmac: return EVP_sha1();
        case SignatureMethod::Sha256Hmac: return EVP_sha256();
        case SignatureMethod::Sha512Hmac: return EVP_sha512();
    }
    return EVP_md5();
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
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (method == SignatureMethod::Md5Hash) {
        const std::string salted = data + std::string(secret);
        if (EVP_Digest(salted.data(), salted.size(), digest, &length, EVP_md5(), nullptr) != 1)
            throw std::runtime_error("MD5 failed");
        return hex(digest, length, false);
    }
    if (HMAC(digestOf(method), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length) == nullptr)
        throw std::runtime_error("HMAC failed");
    return hex(digest, length, true);
}

bool signatureValid(const std::map<std::string, std::string>& params, std::string_view secret,
                    SignatureMethod method) {
    const auto sig = params.find("sig");
    if (sig == params.end() || sig->second.empty()) return false;
    return sbcommon::form::constantTimeEquals(lower(signature(params, secret, method)), lower(sig->second));
}

}  // namespace vonage
