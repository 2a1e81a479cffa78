// Turns a borrowed sb_message from a plugin into the host's owned MessageRecord, checking
// what the host relies on (source id, channel, UTF-8, identity types) and saying exactly
// which field is wrong when it cannot be used.
#pragma once

#include "store/store.h"

#include <switchboard/plugin.h>

#include <string>

namespace switchboard::host {

// Returns "" and fills out, or returns the reason the message is unusable, naming the
// field ("messages[2].sender[0].type: ...").
std::string decodeMessage(const sb_message& message, const std::string& connector, int64_t receivedAtMs,
                          MessageRecord& out);

bool isValidUtf8(std::string_view s);

}  // namespace switchboard::host
