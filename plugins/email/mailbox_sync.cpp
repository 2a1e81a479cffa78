#include "mailbox_sync.h"

#include "mime_parser.h"

#include <algorithm>
#include <charconv>

namespace email {
namespace {

using switchboard::Result;

constexpr std::chrono::milliseconds kFirstRetryDelay{1000};
// Batches one poll commits before handing control back to the host (so stop and config
// reloads are not held up by a first sync of a huge mailbox).
constexpr size_t kBatchesPerPoll = 10;
// UIDs listed per command. libcurl 7.88 counts every answer line of a custom command
// against its 300 KB response-header limit, and counts the rest of its read buffer each time,
// so a 1,000-line answer fails ("Too large response headers"); 50 lines stay far below.
constexpr uint64_t kListWindow = 50;

std::string checkpointKey(const std::string& mailbox) { return "imap:" + mailbox; }

class StoreRefused : public std::runtime_error {
public:
    StoreRefused(sb_status status, const std::string& what) : std::runtime_error(what), status_(status) {}
    sb_status status() const { return status_; }

private:
    sb_status status_;
};

}  // namespace

MailboxSync::MailboxSync(const EmailOptions& options, switchboard::Host host)
    : options_(options.imap), channel_(options.channel), host_(host), client_(options.imap.server) {}

MailboxSync::Cursor MailboxSync::readCursor(const std::string& mailbox) const {
    Cursor c;
    const auto value = host_.checkpoint(checkpointKey(mailbox));
    if (!value) return c;
    const size_t colon = value->find(':');
    uint64_t validity = 0, last = 0;
    if (colon == std::string::npos ||
        std::from_chars(value->data(), value->data() + colon, validity).ec != std::errc() ||
        std::from_chars(value->data() + colon + 1, value->data() + value->size(), last).ec != std::errc()) {
        host_.warn("checkpoint of mailbox '" + mailbox + "' is unreadable ('" + *value +
                   "'); reading the mailbox from the start (duplicates are dropped by Message-ID)");
        return c;
    }
    c.uidValidity = validity;
    c.lastUid = last;
    return c;
}

Result MailboxSync::poll(std::chrono::milliseconds& nextPoll) {
    size_t budget = options_.batchSize * kBatchesPerPoll;
    bool more = false;
    try {
        for (const auto& mailbox : options_.mailboxes) more = syncMailbox(mailbox, budget) || more;
    } catch (const ServerError& e) {
        switch (e.kind()) {
            case ServerError::Kind::Auth:
            case ServerError::Kind::Tls:
            case ServerError::Kind::Mailbox:
                host_.error(e.what());
                return Result::fatal(e.what());
            default:
                // The server went away or refused a command: try again soon, then less often.
                backoff_ = backoff_.count() == 0 ? kFirstRetryDelay : std::min(backoff_ * 2, options_.pollInterval);
                nextPoll = std::min(backoff_, options_.pollInterval);
                host_.warn(std::string(e.what()) + "; retrying in " + std::to_string(nextPoll.count()) + " ms");
                host_.count("imap_errors");
                return Result::retry(e.what(), static_cast<uint32_t>(nextPoll.count()));
        }
    } catch (const StoreRefused& e) {
        nextPoll = kFirstRetryDelay;
        return Result(e.status(), e.what());
    }
    backoff_ = std::chrono::milliseconds(0);
    nextPoll = more ? std::chrono::milliseconds(1) : options_.pollInterval;
    return Result::ok();
}

bool MailboxSync::syncMailbox(const std::string& mailbox, size_t& budget) {
    Cursor cursor = readCursor(mailbox);
    client_.refresh(mailbox);
    const MailboxStatus status = client_.status(mailbox);
    if (cursor.uidValidity != status.uidValidity) {
        if (cursor.uidValidity != 0)
            host_.warn("mailbox '" + mailbox + "' UIDVALIDITY changed from " + std::to_string(cursor.uidValidity) +
                       " to " + std::to_string(status.uidValidity) +
                       "; reading it again from the start (messages already stored are skipped by Message-ID)");
        cursor = Cursor{status.uidValidity, 0};
        // Recorded at once: an empty mailbox must not log the change again every poll.
        const Result put = host_.putCheckpoint(checkpointKey(mailbox), std::to_string(status.uidValidity) + ":0");
        if (!put.isOk()) throw StoreRefused(put.status(), "storing the checkpoint of '" + mailbox + "': " + put.message());
    }
    if (status.uidNext != 0 && status.uidNext <= cursor.lastUid + 1) return false;  // nothing new

    // Listed in UID windows: the untagged answer lines of one command count against
    // libcurl's response size limit, so a mailbox of 100,000 messages is not listed at once.
    if (budget == 0) return true;  // this poll's share is used up; the next poll continues
    std::vector<MessageInfo> infos;
    bool beyondWindow = false;
    if (status.uidNext == 0) {  // STATUS without UIDNEXT: RFC 3501 requires it, but be safe
        infos = client_.list(mailbox, cursor.uidValidity, cursor.lastUid + 1, 0);
    } else {
        for (uint64_t from = cursor.lastUid + 1; infos.size() < budget && from < status.uidNext; from += kListWindow) {
            const uint64_t to = std::min(from + kListWindow - 1, status.uidNext - 1);
            auto window = client_.list(mailbox, cursor.uidValidity, from, to);
            infos.insert(infos.end(), window.begin(), window.end());
            beyondWindow = to < status.uidNext - 1;
        }
    }
    if (infos.empty()) return false;
    const bool more = infos.size() > budget || beyondWindow;
    if (more) infos.resize(budget);
    budget -= infos.size();

    for (size_t start = 0; start < infos.size(); start += options_.batchSize) {
        const size_t end = std::min(infos.size(), start + options_.batchSize);
        std::vector<MessageInfo> chunk(infos.begin() + static_cast<std::ptrdiff_t>(start),
                                       infos.begin() + static_cast<std::ptrdiff_t>(end));
        std::vector<switchboard::Message> batch;
        batch.reserve(chunk.size());
        std::vector<uint64_t> wereUnseen;
        for (const auto& info : chunk) {
            try {
                batch.push_back(toMessage(mailbox, cursor.uidValidity, info));
                if (!info.seen) wereUnseen.push_back(info.uid);
            } catch (const ServerError& e) {
                // Expunged by another client between listing and fetching: nothing to keep.
                if (e.kind() != ServerError::Kind::Gone) throw;
                host_.info(std::string(e.what()) + "; skipped (it is no longer in the mailbox)");
            }
        }
        // BODY[] marks messages \Seen (RFC 3501 6.4.5); "leave" puts the flag back at once.
        if (options_.after == AfterProcessing::Leave) {
            try {
                client_.setSeen(mailbox, wereUnseen, false);
            } catch (const ServerError& e) {
                host_.warn(std::string(e.what()) + "; those messages stay marked as read");
            }
        }
        Cursor after{cursor.uidValidity, chunk.back().uid};
        commit(mailbox, batch, after);
        cursor = after;
        afterCommit(mailbox, chunk);
    }
    return more;
}

switchboard::Message MailboxSync::toMessage(const std::string& mailbox, uint64_t uidValidity,
                                            const MessageInfo& info) {
    const bool tooLarge = info.size > options_.maxMessageBytes;
    const std::string raw = client_.fetch(mailbox, uidValidity, info.uid, tooLarge);
    ParseOptions po;
    po.channel = channel_;
    po.partReferenceBase = client_.messageUrl(mailbox, uidValidity, info.uid);
    ParsedMail parsed = parseMail(raw, po);
    switchboard::Message m = std::move(parsed.message);
    if (tooLarge) {
        m.text = "(This message is " + std::to_string(info.size) + " bytes, more than max_message_size = " +
                 std::to_string(options_.maxMessageBytes) + "; only its header was fetched. It is in mailbox '" +
                 mailbox + "' at " + po.partReferenceBase + ".)";
        m.attributes.emplace_back("email.truncated", "true");
    }
    if (!parsed.warnings.empty()) {
        host_.warn("message UID " + std::to_string(info.uid) + " of '" + mailbox + "' (" + m.sourceId +
                   ") has MIME problems, kept anyway: " + parsed.warnings.front());
        host_.count("parse_warnings");
    }
    m.attributes.emplace_back("email.mailbox", mailbox);
    return m;
}

void MailboxSync::commit(const std::string& mailbox, std::vector<switchboard::Message>& batch, const Cursor& cursor) {
    const std::string key = checkpointKey(mailbox);
    const std::string value = std::to_string(cursor.uidValidity) + ":" + std::to_string(cursor.lastUid);
    std::vector<sb_emit_outcome> outcomes;
    // Every message of the chunk vanished before it could be fetched: only move the cursor.
    Result r = batch.empty() ? host_.putCheckpoint(key, value) : host_.emit(batch, key, value, &outcomes);
    if (r.status() == SB_FAIL_DATA) {
        // One bad message must not block the mailbox: store the others one by one and log
        // the refused ones loudly (the host says which field), then move the cursor past them.
        host_.warn("the host refused a batch from '" + mailbox + "' (" + r.message() + "); storing one by one");
        for (const auto& m : batch) {
            sb_emit_outcome outcome = SB_EMIT_STORED;
            Result one = host_.emit(m, &outcome);
            if (one.status() == SB_FAIL_DATA) {
                host_.error("message " + m.sourceId + " of '" + mailbox + "' refused by the host: " + one.message());
                host_.count("messages_refused");
            } else if (!one.isOk()) {
                throw StoreRefused(one.status(), "storing messages of '" + mailbox + "': " + one.message());
            }
        }
        r = host_.putCheckpoint(key, value);
    }
    if (!r.isOk()) throw StoreRefused(r.status(), "storing messages of '" + mailbox + "': " + r.message());
    size_t stored = 0;
    for (auto o : outcomes) stored += o == SB_EMIT_STORED ? 1 : 0;
    host_.count("messages_fetched", static_cast<double>(batch.size()));
    if (host_.logEnabled(SB_LOG_DEBUG))
        host_.debug("mailbox '" + mailbox + "': " + std::to_string(batch.size()) + " message(s) up to UID " +
                    std::to_string(cursor.lastUid) + ", " + std::to_string(stored) + " new");
}

void MailboxSync::afterCommit(const std::string& mailbox, const std::vector<MessageInfo>& infos) {
    // Stored and the cursor is past them: a failure here never refetches, it only leaves the
    // messages where they are.
    try {
        if (options_.after == AfterProcessing::MarkSeen) {
            // The fetch already set \Seen on most servers; say it explicitly for the others.
            std::vector<uint64_t> uids;
            for (const auto& info : infos)
                if (!info.seen) uids.push_back(info.uid);
            client_.setSeen(mailbox, uids, true);
        }
    } catch (const ServerError& e) {
        host_.warn(std::string(e.what()) + "; the messages are stored but not marked as read");
    }
    if (options_.after != AfterProcessing::Move) return;
    std::vector<uint64_t> uids;
    for (const auto& info : infos) uids.push_back(info.uid);
    try {
        client_.move(mailbox, uids, options_.moveTo);
    } catch (const ServerError& e) {
        host_.warn(std::string(e.what()) + "; the messages are stored but were left where they are");
    }
}

}  // namespace email
