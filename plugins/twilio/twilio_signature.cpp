#include "twilio_signature.h"

#include <switchboard/crypto.hpp>

#include <algorithm>

namespace twilio {

std::string signature(std::string_view authToken, std::string_view url,
                      std::vector<std::pair<std::string, std::string>> params) {
    // Sorted by name; a repeated name keeps its values in order (stable sort).
    std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string data(url);
    for (const auto& [name, value] : params) data += name + value;
    return switchboard::crypto::toBase64(switchboard::crypto::hmacSha1(authToken, data));
}

bool signatureValid(std::string_view authToken, std::string_view url,
                    const std::vector<std::pair<std::string, std::string>>& params, std::string_view header) {
    if (header.empty()) return false;
    return switchboard::crypto::constantTimeEquals(signature(authToken, url, params), header);
}

}  // namespace twilio
