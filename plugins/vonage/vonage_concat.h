// Reassembly of concatenated inbound SMS. A long text reaches Vonage's inbound webhook as one
// request per part, each with its own messageId and concat=true, concat-ref (the handset's
// reference, shared by the parts), concat-total and concat-part, in any order
// (https://developer.nexmo.com/tutorials/receiving-concat-sms).
//
// This is the state only (no host): pending parts grouped by (msisdn, to, concat-ref), and the
// messageIds of parts already emitted, remembered for a day so a part Vonage delivers again
// (it retries for 24 hours when it did not see our 200) is not taken for a new message. The
// plugin stores the whole state as one checkpoint: after every new part (before answering
// 200), and with the joined message in the same emit commit.
#pragma once

#include "vonage_inbound.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vonage {

struct PendingPart {
    std::string messageId;
    std::string text;
    int64_t occurredAtMs = 0;
};

struct PendingGroup {
    std::string from, to, ref;
    std::string type;  // "unicode" when any part is, else "text"
    int total = 0;
    int64_t firstSeenMs = 0;  // when the first part arrived here (for the timeout)
    std::map<int, PendingPart> parts;  // by concat-part

    bool complete() const { return static_cast<int>(parts.size()) == total; }
};

class ConcatState {
public:
    // How long emitted parts' messageIds are remembered, and at most how many.
    static constexpr int64_t kRememberMs = 24 * 3600 * 1000;
    static constexpr size_t kMaxRemembered = 2000;

    // An unreadable value throws std::runtime_error (the caller decides what to do).
    static ConcatState fromJson(const std::string& text);
    std::string toJson() const;

    enum class Added { Duplicate, Pending, Complete };
    // Adds one part (sms.concat must be set). Duplicate: that messageId or that part number
    // is already here or was already emitted; nothing changed.
    Added add(const InboundSms& sms, int64_t nowMs, std::string* groupKey);

    // Removes the group and remembers its parts' messageIds as emitted.
    PendingGroup take(const std::string& groupKey, int64_t nowMs);
    // Keys of the groups whose first part arrived more than timeoutMs ago.
    std::vector<std::string> expired(int64_t nowMs, int64_t timeoutMs) const;
    size_t pendingGroups() const { return pending_.size(); }
    size_t pendingParts() const;
    // The earliest time a pending group expires (nullopt: none pending).
    std::optional<int64_t> nextExpiry(int64_t timeoutMs) const;

private:
    void forgetOld(int64_t nowMs);

    std::map<std::string, PendingGroup> pending_;
    std::map<std::string, int64_t> emitted_;  // messageId -> when it was emitted
};

// The message a group becomes: the parts' texts in part order. An incomplete group (timed
// out) carries sms.concat.incomplete=true and the missing part numbers.
struct JoinedText {
    std::string sourceId;  // part 1's messageId (else the lowest part's)
    std::string text;
    int64_t occurredAtMs = 0;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::string rawJson;
};
JoinedText join(const PendingGroup& group);

}  // namespace vonage
