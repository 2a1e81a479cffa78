// Signed webhooks of the Vonage SMS API, as Vonage documents them ("Signing Messages",
// https://developer.vonage.com/en/getting-started/concepts/signing-messages): every parameter
// of the request except `sig`, sorted by name, each written as "&name=value" with any '&' or
// '=' inside the value replaced by '_'. Then, by the account's signature method:
//   md5hash: lower-case hex MD5 of that string followed by the signature secret (the default);
//   md5, sha1, sha256, sha512: upper-case hex HMAC of that string keyed by the secret.
// Vonage's client libraries compare the hex case-insensitively; so do we.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vonage {

enum class SignatureMethod { Md5Hash, Md5Hmac, Sha1Hmac, Sha256Hmac, Sha512Hmac };

// "md5hash", "md5", "sha1", "sha256", "sha512" (as the Vonage dashboard calls them, also
// "md5hmac"/"sha256hmac"...); nullopt for anything else.
std::optional<SignatureMethod> signatureMethodNamed(std::string_view name);

// The string that is hashed (without the secret): "&a=1&b=2".
std::string signedString(const std::map<std::string, std::string>& params);

std::string signature(const std::map<std::string, std::string>& params, std::string_view secret,
                      SignatureMethod method);

// True when params["sig"] is the signature of the other params (constant-time, hex case ignored).
bool signatureValid(const std::map<std::string, std::string>& params, std::string_view secret,
                    SignatureMethod method);

}  // namespace vonage
