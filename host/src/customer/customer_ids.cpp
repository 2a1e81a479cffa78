#include "customer/customer_ids.h"

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <vector>

namespace switchboard::host::customer {

// OpenSSL's CSPRNG, not a Mersenne Twister: the same source makes the erasure hash key,
// which must not be predictable from the customer ids anyone can see.
std::string randomHex(size_t n) {
    static const char* hex = "0123456789abcdef";
    std::vector<unsigned char> bytes((n + 1) / 2);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("the system random number generator failed");
    std::string out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out += hex[(bytes[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    return out;
}

std::string newId(const char* prefix) {
    char second[9];
    std::snprintf(second, sizeof second, "%08llx", static_cast<unsigned long long>(std::time(nullptr)) & 0xffffffffULL);
    return prefix + std::string(second) + randomHex(12);
}

}  // namespace switchboard::host::customer
