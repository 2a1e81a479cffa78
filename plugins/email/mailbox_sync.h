// Incremental fetch of the configured mailboxes into the host, one poll at a time.
//
// Per mailbox the checkpoint "imap:<mailbox>" holds "<UIDVALIDITY>:<last UID stored>" and is
// committed by the host in the same transaction as the messages it covers, so a crash or a
// lost connection never loses a message nor stores one twice. UIDs only grow within one
// UIDVALIDITY (RFC 3501 2.3.1.1); when UIDVALIDITY changes the mailbox is read again from
// the start and the host's dedupe on source id (the Message-ID) drops what it already has.
#pragma once

#include "email_options.h"
#include "imap_client.h"

#include <switchboard/plugin.hpp>

#include <chrono>
#include <string>

namespace email {

class MailboxSync {
public:
    MailboxSync(const EmailOptions& options, switchboard::Host host);

    // Fetches what is new in every mailbox (at most a bounded amount per call) and says when
    // to poll next. FATAL on refused credentials or TLS trust problems, RETRY when a server
    // is unreachable (with a growing delay), OK otherwise.
    switchboard::Result poll(std::chrono::milliseconds& nextPoll);

private:
    struct Cursor {
        uint64_t uidValidity = 0;
        uint64_t lastUid = 0;
    };
    // Returns true when the mailbox has more to fetch than one poll takes.
    bool syncMailbox(const std::string& mailbox, size_t& budget);
    Cursor readCursor(const std::string& mailbox) const;
    switchboard::Message toMessage(const std::string& mailbox, uint64_t uidValidity, const MessageInfo& info);
    void commit(const std::string& mailbox, std::vector<switchboard::Message>& batch, const Cursor& cursor);
    void afterCommit(const std::string& mailbox, const std::vector<MessageInfo>& infos);

    const ImapOptions options_;
    const std::string channel_;
    switchboard::Host host_;
    ImapClient client_;
    std::chrono::milliseconds backoff_{0};
};

}  // namespace email
