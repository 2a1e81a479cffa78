// Builds the JSON body of an outbound reply (agent answer, confirmation) for the website.
// Pure: no host calls, no I/O, so the format can be tested on its own.
#pragma once

#include <switchboard/plugin.hpp>

#include <cstdint>
#include <string>

namespace webchat {

// The message attribute the outbox sets to its idempotency key.
inline constexpr const char* kIdempotencyAttribute = "outbox.idempotency_key";
// Attributes under this prefix are the host's bookkeeping, not the website's business.
inline constexpr const char* kHostAttributePrefix = "outbox.";

// The id the website dedupes on: the outbox's idempotency key, else the message's source id,
// else a fresh random id ("wc-" + 32 hex digits).
std::string replyId(const switchboard::Message& message);

// The reply body: {"id", "conversation_id", "in_reply_to", "to", "subject", "text", "html",
// "attachments", "attributes", "sent_at"} (optional fields omitted when empty). Invalid
// UTF-8 in any field is replaced by U+FFFD instead of failing.
std::string replyBody(const switchboard::Message& message, const std::string& id, int64_t sentAtMs);

// Unix milliseconds as RFC 3339 UTC with milliseconds: "2026-11-23T10:00:00.250Z".
std::string formatRfc3339Ms(int64_t unixMs);

}  // namespace webchat
