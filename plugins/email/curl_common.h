// What the IMAP and SMTP code adds to the SDK's libcurl plumbing (<switchboard/curl.hpp>:
// init, handles, error text): the mail servers' TLS and login options, and failures sorted
// for the host's retry rules.
#pragma once

#include "email_options.h"

#include <switchboard/curl.hpp>

#include <stdexcept>
#include <string>

namespace email {

using CurlHandle = switchboard::http::EasyHandle;
using switchboard::http::newEasyHandle;

// Credentials, TLS policy (RFC 8314: implicit TLS for imaps/smtps; STARTTLS, RFC 3501 6.2.1 /
// RFC 3207, required for imap/smtp unless allow_plaintext), certificate checks, timeouts.
void applyServerOptions(CURL* curl, const ServerOptions& server, const char* protocols);

// A failure talking to a server, classified for the host's retry rules.
class ServerError : public std::runtime_error {
public:
    enum class Kind {
        Transient,  // connection refused/reset, timeout, server unavailable: try again later
        Auth,       // the server refused our credentials
        Tls,        // certificate not trusted, STARTTLS not offered: needs an operator
        Rejected,   // the server answered NO/BAD or 5xx to a command
        Gone,       // the message or mailbox state changed under us (UIDVALIDITY, expunged)
        Mailbox,    // a configured mailbox cannot be opened (it does not exist?)
    };
    ServerError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

ServerError::Kind classify(CURLcode code);
// libcurl's reason for code, with its error buffer's detail; never contains a password.
inline std::string describe(CURLcode code, const char* errorBuffer) {
    return switchboard::http::describeCurlError(code, errorBuffer);
}

}  // namespace email
