// X-Twilio-Signature, as Twilio documents it ("Secure webhooks",
// https://www.twilio.com/docs/usage/webhooks/webhooks-security): take the full URL Twilio
// requested (as configured, query included), append each POST parameter sorted by name as
// name followed by value (no separators), HMAC-SHA1 the result with the account's auth token,
// and base64 the digest.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twilio {

std::string signature(std::string_view authToken, std::string_view url,
                      std::vector<std::pair<std::string, std::string>> params);

// Compares in constant time; false for an empty header.
bool signatureValid(std::string_view authToken, std::string_view url,
                    const std::vector<std::pair<std::string, std::string>>& params, std::string_view header);

}  // namespace twilio
