#include "email_options.h"

#include "imap_utf7.h"

#include <switchboard/curl.hpp>

#include <utility>

namespace email {
namespace {

using switchboard::ConfigError;

// The URL's parts (libcurl's parser, through the SDK); the error never repeats the URL, which
// may hold a password.
switchboard::http::UrlParts parseUrl(const std::string& option, const std::string& text) {
    auto u = switchboard::http::parseUrl(text);
    if (!u) throw ConfigError("option '" + option + "': not a valid URL");
    if (u->hasCredentials)
        throw ConfigError("option '" + option + "': must not contain credentials; use the username/password options");
    return std::move(*u);
}

// A mailbox name the plugin can put in a command: UTF-8 (sent in modified UTF-7), without the
// characters a quoted string would need escaped.
void checkMailboxName(const std::string& option, const std::string& name) {
    for (char c : name)
        if (c == '"' || c == '\\' || c == '\r' || c == '\n')
            throw ConfigError("option '" + option + "': '" + name + "' contains a quote, backslash or line break");
    try {
        encodeMailboxName(name);
    } catch (const std::invalid_argument&) {
        throw ConfigError("option '" + option + "': a mailbox name is not valid UTF-8");
    }
}

ServerOptions readServer(const switchboard::Config& cfg, const std::string& prefix, const std::string& plain,
                         const std::string& tls) {
    ServerOptions s;
    const std::string urlOption = prefix + "_url";
    s.url = cfg.getString(urlOption);
    const switchboard::http::UrlParts u = parseUrl(urlOption, s.url);
    if (u.scheme != plain && u.scheme != tls)
        throw ConfigError("option '" + urlOption + "': scheme must be " + plain + " (STARTTLS) or " + tls +
                          " (TLS from the start), got '" + u.scheme + "'");
    if (u.host.empty()) throw ConfigError("option '" + urlOption + "': has no host");
    if (!u.path.empty() && u.path != "/")
        throw ConfigError("option '" + urlOption + "': must not have a path (mailboxes go in 'mailboxes')");
    s.url = u.scheme + "://" + u.host + (u.port.empty() ? "" : ":" + u.port);
    s.username = cfg.getString(prefix + "_username");
    s.password = cfg.getString(prefix + "_password");
    if (s.password.empty() != s.username.empty() && prefix == "imap")
        throw ConfigError("option '" + prefix + "_password': IMAP needs both a username and a password");
    if (!s.username.empty() && s.password.empty())
        throw ConfigError("option '" + prefix + "_password': is empty but '" + prefix +
                          "_username' is set (an unset ${env:} variable?)");
    s.caFile = cfg.getString("ca_file");
    s.allowPlaintext = cfg.getBool("allow_plaintext", false);
    s.timeout = cfg.getDuration("timeout", std::chrono::seconds(30));
    if (s.timeout.count() <= 0) throw ConfigError("option 'timeout': must be positive");
    return s;
}

}  // namespace

std::string ServerOptions::where() const { return url; }

EmailOptions readOptions(const switchboard::Config& cfg) {
    EmailOptions o;
    o.channel = cfg.getString("channel", "email");
    if (o.channel.empty()) throw ConfigError("option 'channel': must not be empty");
    o.receives = !cfg.getString("imap_url").empty();
    o.sends = !cfg.getString("smtp_url").empty();
    if (!o.receives && !o.sends)
        throw ConfigError("set 'imap_url' to receive, 'smtp_url' to send, or both; neither is set");

    if (o.receives) {
        ImapOptions& i = o.imap;
        i.server = readServer(cfg, "imap", "imap", "imaps");
        if (i.server.username.empty()) throw ConfigError("option 'imap_username': required with 'imap_url'");
        i.mailboxes = cfg.getList("mailboxes");
        if (i.mailboxes.empty()) i.mailboxes.push_back("INBOX");
        for (const auto& m : i.mailboxes) {
            if (m.empty()) throw ConfigError("option 'mailboxes': a mailbox name is empty");
            checkMailboxName("mailboxes", m);
        }
        i.pollInterval = cfg.getDuration("poll_interval", std::chrono::seconds(60));
        if (i.pollInterval.count() < 100) throw ConfigError("option 'poll_interval': must be at least 100ms");
        i.idle = cfg.getBool("idle", true);
        i.idleRenew = cfg.getDuration("idle_renew", std::chrono::minutes(25));
        // Servers may log out a client idle for 30 minutes (RFC 2177 3); leave a margin.
        if (i.idleRenew < std::chrono::seconds(1) || i.idleRenew > std::chrono::minutes(29))
            throw ConfigError("option 'idle_renew': must be between 1s and 29m (servers may drop an IDLE of 30 minutes)");
        const std::string after = cfg.getString("after_processing", "seen");
        if (after == "leave") i.after = AfterProcessing::Leave;
        else if (after == "seen") i.after = AfterProcessing::MarkSeen;
        else if (after == "move") i.after = AfterProcessing::Move;
        else throw ConfigError("option 'after_processing': expected leave, seen or move, got '" + after + "'");
        i.moveTo = cfg.getString("move_to");
        if (i.after == AfterProcessing::Move && i.moveTo.empty())
            throw ConfigError("option 'move_to': required when after_processing is 'move'");
        checkMailboxName("move_to", i.moveTo);
        const int64_t maxBytes = cfg.getInt("max_message_size", 25 * 1024 * 1024);
        if (maxBytes < 1024) throw ConfigError("option 'max_message_size': must be at least 1024 bytes");
        i.maxMessageBytes = static_cast<uint64_t>(maxBytes);
        const int64_t batch = cfg.getInt("batch_size", 100);
        if (batch < 1 || batch > 10000) throw ConfigError("option 'batch_size': must be 1..10000");
        i.batchSize = static_cast<size_t>(batch);
    }
    if (o.sends) {
        SmtpOptions& s = o.smtp;
        s.server = readServer(cfg, "smtp", "smtp", "smtps");
        s.fromAddress = cfg.getString("from_address");
        if (s.fromAddress.empty() || s.fromAddress.find('@') == std::string::npos)
            throw ConfigError("option 'from_address': required with 'smtp_url' (an address like support@example.com)");
        for (char c : s.fromAddress)
            if (c == '<' || c == '>' || c == ' ' || c == '\r' || c == '\n')
                throw ConfigError("option 'from_address': must be a bare address like support@example.com");
        s.fromName = cfg.getString("from_name");
    }
    return o;
}

}  // namespace email
