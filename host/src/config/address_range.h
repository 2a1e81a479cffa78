// An IP address or CIDR block from the config (server.trusted_proxies), and the test
// whether a peer address falls inside it. IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match
// IPv4 blocks, since a dual-stack listener reports IPv4 clients that way.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::host::config {

struct AddressRange {
    std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
    bool v6 = false;
    unsigned prefix = 0;  // leading bits that must match
    std::string text;     // as written, for messages

    bool contains(std::string_view address) const;
    bool operator==(const AddressRange&) const = default;
};

// "10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"; nullopt when malformed (why says what).
std::optional<AddressRange> parseAddressRange(std::string_view text, std::string* why = nullptr);

}  // namespace switchboard::host::config
