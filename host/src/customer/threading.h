// Conversation threading: puts each stored interaction into a conversation (a thread that
// can span channels), right after identity resolution, in the same transaction.
//   - email: a message whose In-Reply-To or References name a stored message joins that
//     message's conversation; the subject alone never threads;
//   - chats: the connector's conversation id (per connector instance) is the thread key;
//   - continuation: a message with no thread of its own that arrives within the
//     continuation window of the customer's latest conversation joins it, on any channel;
//   - otherwise a new conversation is opened.
// Conversations belong to customers like interactions do (customer_id is the live
// customer, original_customer_id the first), so merges and unmerges move them exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::host {
class Sql;  // store/sql.h
}

namespace switchboard::host::customer {

struct ThreadingInput {
    int64_t messageId = 0;
    std::string customerId;
    std::string connector;
    std::string channel;
    std::string sourceId;        // for email: the Message-ID
    std::string conversationId;  // the provider's thread/session id, "" when none
    std::string inReplyTo;
    std::vector<std::string> references;
    int64_t atMs = 0;  // when it happened (or was received)
};

class ConversationThreader {
public:
    explicit ConversationThreader(std::chrono::milliseconds continuationWindow);
    // Assigns messages.thread_id for input.messageId and returns the conversation id.
    std::string assign(Sql& session, const ThreadingInput& input);

private:
    std::chrono::milliseconds window_;
};

}  // namespace switchboard::host::customer
