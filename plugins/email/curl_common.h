// libcurl plumbing shared by the IMAP and SMTP code: one-time init, TLS options, errors.
#pragma once

#include "email_options.h"

#include <curl/curl.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace email {

// curl_global_init once per process before the first handle (it is not safe to race).
void initCurlOnce();

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
CurlHandle newCurlHandle();

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
// "<what> failed on <where>: <curl's reason>[: <detail>]"; never contains a password.
std::string describe(CURLcode code, const char* errorBuffer);

}  // namespace email
