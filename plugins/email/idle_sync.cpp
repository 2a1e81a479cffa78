#include "idle_sync.h"

namespace email {

IdleSync::IdleSync(const EmailOptions& options, switchboard::Host host)
    : host_(host), options_(options.imap), sync_(options, host) {}

IdleSync::~IdleSync() { stop(); }

void IdleSync::start() {
    if (!options_.idle || !watchers_.empty()) return;
    if (!host_.canRequestPoll()) {
        host_.warn("IMAP IDLE needs a host with plugin SDK 1.3 or newer (request_poll); this host is 1." +
                   std::to_string(host_.abiMinor()) + ", so the mailboxes are only polled (poll_interval)");
        return;
    }
    // One connection per mailbox: IDLE reports changes of the selected mailbox only.
    for (const auto& mailbox : options_.mailboxes) {
        ImapIdle::Settings s{options_.server, mailbox, options_.idleRenew, options_.pollInterval};
        watchers_.push_back(std::make_unique<ImapIdle>(std::move(s), host_, [host = host_] { host.requestPoll(); }));
        watchers_.back()->start();
    }
}

void IdleSync::stop() {
    for (auto& w : watchers_) w->stop();
    watchers_.clear();
}

switchboard::Result IdleSync::poll(std::chrono::milliseconds& nextPoll) { return sync_.poll(nextPoll); }

}  // namespace email
