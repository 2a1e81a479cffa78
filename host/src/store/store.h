// The durable store of everything connectors emit. Embedded default: one SQLite file in
// WAL mode with synchronous=FULL (through POCO Data), so a committed batch survives kill -9
// and power loss. A batch's messages and its source checkpoint commit in one transaction;
// a message already stored under the same (instance, source id) is reported as a duplicate
// and not stored again.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace Poco::Data {
class Session;
}

namespace switchboard::host {

// One inbound or outbound message as the host keeps it, before identity resolution.
struct MessageRecord {
    std::string connector;  // instance name
    std::string channel;
    std::string direction;  // "inbound" | "outbound"
    std::string sourceId;
    std::string conversationId;
    int64_t occurredAtMs = 0;
    int64_t receivedAtMs = 0;
    std::string subject;
    std::string text;
    std::string normalizedJson;  // the whole normalized message (identities, attachments, ...)
    std::string rawContentType;
    std::string raw;
};

enum class CommitOutcome { Stored, Duplicate };

struct Checkpoint {
    std::string key;
    std::string value;
};

class Store {
public:
    // Opens (creating when absent) and migrates the file to the current schema. Throws
    // std::runtime_error naming the path on failure.
    explicit Store(const std::string& sqlitePath);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // One transaction: every message (dedupe on connector+sourceId) plus the checkpoint.
    std::vector<CommitOutcome> commit(const std::vector<MessageRecord>& messages,
                                      const std::optional<Checkpoint>& checkpoint, const std::string& connector);

    std::optional<std::string> checkpoint(const std::string& connector, const std::string& key);
    void putCheckpoint(const std::string& connector, const std::string& key, const std::string& value);

    int64_t messageCount();
    std::optional<MessageRecord> findMessage(const std::string& connector, const std::string& sourceId);
    int schemaVersion();
    const std::string& path() const { return path_; }

private:
    void migrate();
    std::string path_;
    std::mutex mutex_;  // one writer: SQLite serializes writers anyway
    std::unique_ptr<Poco::Data::Session> session_;
};

}  // namespace switchboard::host
