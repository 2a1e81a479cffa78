// Delivers one outbound message over SMTP (RFC 5321) with libcurl. Thread-safe: each send
// uses its own handle.
#pragma once

#include "email_options.h"

#include <switchboard/plugin.hpp>

namespace email {

class SmtpSender {
public:
    explicit SmtpSender(SmtpOptions options) : options_(std::move(options)) {}

    // OK with the Message-ID as provider id; RETRY on 4xx and connection problems;
    // FAIL_DATA on 5xx with the server's reply; FATAL when our login or TLS is refused.
    switchboard::Result send(const switchboard::Message& message, switchboard::SendResult& sent) const;

private:
    SmtpOptions options_;
};

}  // namespace email
