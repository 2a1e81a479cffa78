// The validated options of one email instance (see the schema in email_plugin.cpp).
#pragma once

#include <switchboard/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace email {

enum class AfterProcessing { Leave, MarkSeen, Move };

// How to reach one server. Passwords live here only; nothing prints this struct.
struct ServerOptions {
    std::string url;  // imap://, imaps://, smtp://, smtps://  (scheme://host[:port])
    std::string username;
    std::string password;
    std::string caFile;          // PEM bundle trusted instead of the system's; empty: system
    bool allowPlaintext = false; // plain scheme without STARTTLS (a trusted local server only)
    std::chrono::milliseconds timeout{30000};
    // "imap://host:port" without credentials or path: what errors and logs name.
    std::string where() const;
};

struct ImapOptions {
    ServerOptions server;
    std::vector<std::string> mailboxes;
    std::chrono::milliseconds pollInterval{60000};
    bool idle = true;                                  // watch mailboxes with IDLE when offered
    std::chrono::milliseconds idleRenew{25 * 60 * 1000};  // re-issue IDLE after this long
    AfterProcessing after = AfterProcessing::MarkSeen;
    std::string moveTo;
    uint64_t maxMessageBytes = 25u * 1024u * 1024u;
    size_t batchSize = 100;
};

struct SmtpOptions {
    ServerOptions server;
    std::string fromAddress;
    std::string fromName;
};

struct EmailOptions {
    std::string channel = "email";
    bool receives = false;  // imap_url set
    bool sends = false;     // smtp_url set
    ImapOptions imap;
    SmtpOptions smtp;
};

// Throws switchboard::ConfigError naming the option.
EmailOptions readOptions(const switchboard::Config& cfg);

}  // namespace email
