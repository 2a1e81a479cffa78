// The client's address as the handlers see it: the TCP peer, or, when the peer is a
// trusted proxy (server.trusted_proxies), the nearest address in X-Forwarded-For that is
// not one. Addresses an untrusted peer writes into the header are never believed.
#pragma once

#include "config/address_range.h"
#include "http/http_types.h"

#include <string>
#include <vector>

namespace switchboard::host::http {

std::string clientAddress(const std::string& peer, const HeaderList& headers,
                          const std::vector<config::AddressRange>& trustedProxies);

}  // namespace switchboard::host::http
