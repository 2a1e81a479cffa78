// The IMAP commands the source needs (RFC 3501), over one libcurl handle that keeps its
// connection (and selected mailbox) between calls. Not thread-safe: one poller owns it.
#pragma once

#include "curl_common.h"
#include "email_options.h"

#include <cstdint>
#include <string>
#include <vector>

namespace email {

struct MailboxStatus {
    uint64_t uidValidity = 0;
    uint64_t uidNext = 0;  // 0 when the server did not say
};

struct MessageInfo {
    uint64_t uid = 0;
    bool seen = false;
    uint64_t size = 0;
};

class ImapClient {
public:
    explicit ImapClient(ServerOptions server);

    // STATUS (RFC 3501 6.3.10): the mailbox's UIDVALIDITY and UIDNEXT without selecting it.
    MailboxStatus status(const std::string& mailbox);
    // Selects the mailbox (when it is not already) and lets the server report what arrived
    // since: Dovecot answers STATUS of the selected mailbox from the session's view, which
    // only a command on the mailbox brings up to date.
    void refresh(const std::string& mailbox);
    // UID, flags and size of the messages with firstUid <= UID <= lastUid (0: no upper
    // bound), ascending.
    std::vector<MessageInfo> list(const std::string& mailbox, uint64_t uidValidity, uint64_t firstUid,
                                  uint64_t lastUid);
    // The whole message (BODY[]), or only its header (BODY[HEADER]). Fails with Kind::Gone
    // when UIDVALIDITY changed or the message was expunged meanwhile.
    std::string fetch(const std::string& mailbox, uint64_t uidValidity, uint64_t uid, bool headerOnly = false);
    void setSeen(const std::string& mailbox, const std::vector<uint64_t>& uids, bool seen);
    // MOVE (RFC 6851), or COPY + \Deleted + EXPUNGE on servers without it.
    void move(const std::string& mailbox, const std::vector<uint64_t>& uids, const std::string& target);

    // RFC 5092 URL of a message, without credentials: where an attachment can be fetched.
    std::string messageUrl(const std::string& mailbox, uint64_t uidValidity, uint64_t uid) const;
    const ServerOptions& server() const { return server_; }

private:
    // Runs a command on url (a mailbox URL selects it first); returns the untagged lines.
    std::string command(const std::string& url, const std::string& request, const std::string& what);
    std::string transfer(const std::string& url, const std::string& what);
    std::string mailboxUrl(const std::string& mailbox) const;

    ServerOptions server_;
    CurlHandle curl_;
};

// Parses "* 12 FETCH (UID 40 FLAGS (\Seen) RFC822.SIZE 3120)" lines (RFC 3501 7.4.2).
std::vector<MessageInfo> parseFetchLines(const std::string& response);
// Parses "* STATUS INBOX (UIDVALIDITY 7 UIDNEXT 41)" (RFC 3501 7.2.4).
MailboxStatus parseStatus(const std::string& response);

}  // namespace email
