// Real mail servers for tests: Dovecot (IMAP and IMAPS, LMTP for delivery, passwd-file
// users, maildirs) and Exim (SMTP with STARTTLS and AUTH PLAIN, delivering to Dovecot over
// LMTP), on free 127.0.0.1 ports with all state in a temp dir and a self-signed certificate
// for 127.0.0.1. See /work/shared/TEST-SERVERS.md for the traps this works around.
#pragma once

#include "test_support.h"

#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {

struct MailUser {
    std::string name;      // IMAP login; the address is name@example.test
    std::string password;
};

class MailServers {
public:
    static constexpr const char* kDomain = "example.test";
    // The SMTP AUTH account Exim accepts.
    static constexpr const char* kSmtpUser = "relay-user";
    static constexpr const char* kSmtpPassword = "relay-Pass-4821";

    // Starts both servers and waits for their greetings; throws with their logs on failure.
    // withSmtp=false starts Dovecot only (faster, for IMAP-only tests).
    explicit MailServers(std::vector<MailUser> users = {{"alice", "alice-Pass-1937"}}, bool withSmtp = true);
    ~MailServers();
    MailServers(const MailServers&) = delete;
    MailServers& operator=(const MailServers&) = delete;

    int imapPort() const { return imapPort_; }    // plain, STARTTLS offered
    int imapsPort() const { return imapsPort_; }  // TLS from the start
    int smtpPort() const { return smtpPort_; }    // plain, STARTTLS offered
    int smtpsPort() const { return smtpsPort_; }  // TLS from the start (RFC 8314)
    std::string imapUrl() const { return "imap://127.0.0.1:" + std::to_string(imapPort_); }
    std::string imapsUrl() const { return "imaps://127.0.0.1:" + std::to_string(imapsPort_); }
    std::string smtpUrl() const { return "smtp://127.0.0.1:" + std::to_string(smtpPort_); }
    std::string smtpsUrl() const { return "smtps://127.0.0.1:" + std::to_string(smtpsPort_); }
    // PEM of the servers' self-signed certificate (subjectAltName IP:127.0.0.1): the CA to trust.
    std::string caFile() const;
    static std::string address(const std::string& user) { return user + "@" + kDomain; }

    // Writes a message file straight into the user's maildir (INBOX, or a folder), as a
    // delivery would, without SMTP: for corpora and big mailboxes.
    void addToMaildir(const std::string& user, const std::string& raw, const std::string& folder = "");
    // Creates a folder (mailbox) for the user.
    void createFolder(const std::string& user, const std::string& folder);
    // Number of message files in the user's mailbox (new + cur), straight from disk.
    size_t maildirCount(const std::string& user, const std::string& folder = "") const;
    // The raw messages in the user's mailbox, straight from disk (any order).
    std::vector<std::string> maildirMessages(const std::string& user, const std::string& folder = "") const;

    // Stops Dovecot (SIGTERM, waits for exit); mail and ports are kept.
    void stopImap();
    // Starts Dovecot again on the same ports and mail.
    void startImap();
    // Restarts Dovecot announcing a capability list without IDLE (RFC 2177), as some servers
    // do; it still has everything else the connector uses.
    void withoutIdle();
    // Drops Dovecot's UID list and indexes while it is stopped: the mailbox comes back with a
    // new UIDVALIDITY and new UIDs (what a server migration or restore does).
    void resetUids(const std::string& user);

    std::string dovecotLog() const;
    std::string eximLog() const;

private:
    void writeConfigs();
    void startDovecot();
    void startExim();
    std::string maildir(const std::string& user, const std::string& folder) const;

    TempDir dir_;
    std::vector<MailUser> users_;
    bool withSmtp_;
    int imapPort_ = 0, imapsPort_ = 0, smtpPort_ = 0, smtpsPort_ = 0;
    std::unique_ptr<Child> dovecot_;
    std::unique_ptr<Child> exim_;
    unsigned fileCounter_ = 0;
    std::string imapCapability_;  // replaces Dovecot's post-login CAPABILITY when set
};

// Waits until a TCP server on 127.0.0.1:port sends a greeting starting with prefix
// ("* OK", "220"). False on timeout.
bool waitForGreeting(int port, const std::string& prefix, std::chrono::milliseconds timeout);

}  // namespace switchboard::test
