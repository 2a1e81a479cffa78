#include "config/address_range.h"

#include <arpa/inet.h>

#include <cstring>

namespace switchboard::host::config {

namespace {

struct Address {
    std::array<uint8_t, 16> bytes{};
    bool v6 = false;
};

std::optional<Address> parseAddress(const std::string& text) {
    Address a;
    if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) return a;
    if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
        a.v6 = true;
        static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {  // ::ffff:a.b.c.d is IPv4
            std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
            std::memset(a.bytes.data() + 4, 0, 12);
            a.v6 = false;
        }
        return a;
    }
    return std::nullopt;
}

}  // namespace

bool AddressRange::contains(std::string_view address) const {
    auto a = parseAddress(std::string(address));
    if (!a || a->v6 != v6) return false;
    unsigned full = prefix / 8;
    if (std::memcmp(a->bytes.data(), bytes.data(), full) != 0) return false;
    unsigned rest = prefix % 8;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (bytes[full] & mask);
}

std::optional<AddressRange> parseAddressRange(std::string_view text, std::string* why) {
    auto fail = [&](const std::string& reason) -> std::optional<AddressRange> {
        if (why) *why = reason;
        return std::nullopt;
    };
    std::string addressText(text);
    std::optional<unsigned> prefix;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        addressText = std::string(text.substr(0, slash));
        std::string_view bits = text.substr(slash + 1);
        if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string_view::npos)
            return fail("the prefix length after '/' must be a number");
        prefix = static_cast<unsigned>(std::stoul(std::string(bits)));
    }
    // A bracketed or mapped form is not what people write here: keep the parse plain.
    auto address = parseAddress(addressText);
    if (!address || addressText.find("::ffff:") == 0) return fail("not an IPv4 or IPv6 address");
    unsigned maxBits = address->v6 ? 128 : 32;
    if (prefix && *prefix > maxBits)
        return fail("the prefix length must be at most " + std::to_string(maxBits));
    AddressRange r;
    r.bytes = address->bytes;
    r.v6 = address->v6;
    r.prefix = prefix.value_or(maxBits);
    r.text = std::string(text);
    return r;
}

}  // namespace switchboard::host::config
