#include "customer/customer_ids.h"

#include <cstdio>
#include <mutex>
#include <random>

namespace switchboard::host::customer {

std::string newCustomerId() {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32)};
    uint64_t a, b;
    {
        std::lock_guard lock(mutex);
        a = rng();
        b = rng();
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "cus_%016llx%04llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b & 0xffff));
    return buf;
}

}  // namespace switchboard::host::customer
