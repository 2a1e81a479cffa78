#include "twilio_signature.h"

#include <sbcommon/form.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <stdexcept>

namespace twilio {

std::string signature(std::string_view authToken, std::string_view url,
                      std::vector<std::pair<std::string, std::string>> params) {
    // Sorted by name; a repeated name keeps its values in order (stable sort).
    std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string data(url);
    for (const auto& [name, value] : params) data += name + value;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLength = 0;
    if (HMAC(EVP_sha1(), authToken.data(), static_cast<int>(authToken.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digestLength) == nullptr)
        throw std::runtime_error("HMAC-SHA1 failed");
    std::string out(4 * ((digestLength + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(digestLength));
    out.resize(static_cast<size_t>(n));
    return out;
}

bool signatureValid(std::string_view authToken, std::string_view url,
                    const std::vector<std::pair<std::string, std::string>>& params, std::string_view header) {
    if (header.empty()) return false;
    return sbcommon::form::constantTimeEquals(signature(authToken, url, params), header);
}

}  // namespace twilio
