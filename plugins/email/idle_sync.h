// The receiving side of one instance: the mailbox sync, run at the host's polls, and with
// IDLE one watcher per mailbox (imap_idle.h) that asks the host for an early poll
// (request_poll, SDK 1.3) as soon as new mail is there. The host runs polls one at a time,
// so MailboxSync stays the only code that fetches and needs no lock of its own.
#pragma once

#include "imap_idle.h"
#include "mailbox_sync.h"

#include <memory>
#include <vector>

namespace email {

class IdleSync {
public:
    IdleSync(const EmailOptions& options, switchboard::Host host);
    ~IdleSync();
    IdleSync(const IdleSync&) = delete;
    IdleSync& operator=(const IdleSync&) = delete;

    // Starts one IDLE watcher per mailbox when idle is on and the host takes poll requests;
    // on an older host it warns once and the mailboxes are only polled.
    void start();
    // Stops and joins the watchers.
    void stop();
    // The host's poll.
    switchboard::Result poll(std::chrono::milliseconds& nextPoll);

private:
    switchboard::Host host_;
    const ImapOptions options_;
    MailboxSync sync_;
    std::vector<std::unique_ptr<ImapIdle>> watchers_;
};

}  // namespace email
