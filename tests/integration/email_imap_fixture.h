// What the IMAP tests of the email connector share: alice's password, a small message, and
// options that point an instance at the test Dovecot. Not a test itself.
#pragma once

#include "email_fake_host.h"
#include "mail_servers.h"

#include <string>

namespace email_test {

inline const std::string kPassword = "alice-Pass-1937";

inline std::string simpleMail(const std::string& id, const std::string& subject, const std::string& body = "hello") {
    return "From: Customer <customer@example.com>\r\nTo: alice@example.test\r\nSubject: " + subject +
           "\r\nMessage-ID: <" + id + ">\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n" + body + "\r\n";
}

// base with the options of extra replacing (or adding to) its own.
inline Options with(Options base, const Options& extra) {
    for (const auto& [k, v] : extra) base.erase(k);
    for (const auto& [k, v] : extra) base.emplace(k, v);
    return base;
}

// alice's INBOX over STARTTLS, polled every minute; extra replaces or adds options.
inline Options imapOptions(const switchboard::test::MailServers& servers, const Options& extra = {}) {
    return with({{"imap_url", servers.imapUrl()},
                 {"imap_username", "alice"},
                 {"imap_password", kPassword},
                 {"ca_file", servers.caFile()},
                 {"poll_interval", "60000"}},
                extra);
}

}  // namespace email_test
