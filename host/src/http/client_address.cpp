#include "http/client_address.h"

#include <string_view>

namespace switchboard::host::http {

namespace {

bool trusted(std::string_view address, const std::vector<config::AddressRange>& proxies) {
    for (const auto& range : proxies)
        if (range.contains(address)) return true;
    return false;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

}  // namespace

std::string clientAddress(const std::string& peer, const HeaderList& headers,
                          const std::vector<config::AddressRange>& trustedProxies) {
    if (trustedProxies.empty() || !trusted(peer, trustedProxies)) return peer;
    // Every X-Forwarded-For field, in order, is one list (RFC 9110 5.3); each proxy appends
    // the address it saw, so walk from the right and stop at the first untrusted hop.
    std::string list;
    for (const auto& [name, value] : headers) {
        if (name != "x-forwarded-for") continue;
        if (!list.empty()) list += ',';
        list += value;
    }
    std::string client = peer;
    std::string_view rest = list;
    while (!rest.empty()) {
        size_t comma = rest.rfind(',');
        std::string_view hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
        if (hop.empty()) continue;
        // Garbage (or a block, not an address): keep the last hop that could be verified.
        if (hop.find('/') != std::string_view::npos || !config::parseAddressRange(hop)) break;
        client = std::string(hop);
        if (!trusted(hop, trustedProxies)) break;
    }
    return client;
}

}  // namespace switchboard::host::http
