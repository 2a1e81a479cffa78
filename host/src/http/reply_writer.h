// A Reply as HTTP/1.1 response bytes. The server owns framing and connection headers:
// Content-Length, Connection, Date are written here and nowhere else.
#pragma once

#include "http/http_types.h"

#include <string>

namespace switchboard::host::http {

// keepAlive false adds "Connection: close"; http10KeepAlive adds "Connection: keep-alive"
// (an HTTP/1.0 client that asked for it).
std::string serializeReply(const Reply& reply, bool keepAlive, bool http10KeepAlive = false);

// The 100 Continue interim response.
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace switchboard::host::http
