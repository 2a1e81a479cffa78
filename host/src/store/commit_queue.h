// Group commit with backpressure. Every emit (and Store::commit) queues its batch here and
// waits; one writer thread takes everything queued, up to max_group messages, and commits it
// in ONE transaction (Store::commitGroup), each batch inside its own savepoint. A durable
// commit costs one fsync per group instead of one per request, so durability does not cost
// throughput. Queue order is commit order: per-customer order is kept.
//
// Bounded: when max_pending messages (or max_pending_bytes) are queued or committing, a new
// batch is refused at once with StoreBehind instead of growing memory; a waiter whose batch
// is not committed within ack_timeout gets CommitFailed (its batch may still commit later if
// it was already in the transaction: a resend is then a duplicate, stored once).
//
// Health (for /readyz): the store is unhealthy while a commit is stalled, the queue is over
// its high-water mark, or the last commit attempt failed because of the store (disk full,
// I/O error, lock, lost connection) and none has succeeded since. While failing, the writer
// runs a heartbeat (a small durable write) about once a second when idle, so recovery is
// seen without traffic; when healthy nothing extra is written.
#pragma once

#include "config/config.h"
#include "metrics/metrics.h"
#include "store/store.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::host {

// One emit: its messages and the source checkpoint that commits with them (atomic together).
struct CommitBatch {
    std::vector<MessageRecord> messages;
    std::optional<Checkpoint> checkpoint;
    std::string connector;
};

// What the group commit did with one batch: outcomes when committed, else why not.
struct BatchResult {
    std::vector<CommitOutcome> outcomes;
    std::string error;  // empty when committed
    // Set when the store (disk full, I/O, lock, connection), not the batch's data, failed
    // it: the short cause, and the store is unhealthy as after a failed transaction.
    std::string storeFault;
};

// Commits batches in one transaction; a batch that fails gets its error (the others commit);
// throws when the whole transaction fails (every batch then gets that error).
using GroupCommitter = std::function<std::vector<BatchResult>(const std::vector<const CommitBatch*>&)>;
// One small durable write transaction through the same writer; throws when it cannot commit.
using Heartbeat = std::function<void()>;

// Whether the store can take commits now, and if not why (never a secret).
struct StoreHealth {
    bool healthy = true;
    std::string reason;  // e.g. "store cannot commit: database is locked (since 12s)"
};

// What a committer or heartbeat throws when the store cannot commit: what() is the message
// waiters get, cause() the short one readiness reports ("database is locked"). Any other
// exception from them counts the same, with what() as the cause.
class StoreFault : public std::runtime_error {
public:
    StoreFault(const std::string& what, std::string cause) : std::runtime_error(what), cause_(std::move(cause)) {}
    const std::string& cause() const { return cause_; }

private:
    std::string cause_;
};

// The queue is full or the store is stalled: retry later (webhooks answer 503 + Retry-After).
class StoreBehind : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The batch was not committed: the transaction failed, the batch's own data failed, the
// ack_timeout passed, or the store is closing. Transient from the caller's side.
class CommitFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CommitQueue {
public:
    using Limits = config::StoreConfig::Commit;

    // Starts the writer thread. Without a heartbeat, only a commit clears a failure.
    CommitQueue(Limits limits, GroupCommitter committer, Heartbeat heartbeat = {});
    ~CommitQueue();  // stop()
    CommitQueue(const CommitQueue&) = delete;
    CommitQueue& operator=(const CommitQueue&) = delete;

    // Queues batch and waits until it is committed; returns one outcome per message.
    // Throws StoreBehind at once when over the limits, CommitFailed when not committed.
    std::vector<CommitOutcome> commit(CommitBatch batch);

    // Over the high-water mark (max_pending, max_pending_bytes), or stalled: a commit has
    // been running longer than ack_timeout. Webhooks answer 503 without calling the plugin.
    bool behind() const;
    // Messages queued or in the transaction being committed.
    size_t pendingMessages() const;
    // Batches waiting for the writer (not yet in a transaction).
    size_t queuedBatches() const;
    // Unhealthy when the last attempt failed (first, with the latest error and how long it has
    // failed), stalled, or behind. Cheap (no I/O); sets switchboard_store_healthy.
    StoreHealth health() const;
    // Heartbeats run so far (tests: recovery is found without traffic, none while healthy).
    uint64_t heartbeats() const;

    // Exports switchboard_commit_seconds, switchboard_commit_group_size,
    // switchboard_commit_queue_depth, switchboard_store_healthy and
    // switchboard_store_commit_failures_total. metrics must outlive this queue.
    void setMetrics(Metrics& metrics);

    // Finishes the group in flight, fails what is still queued, ends the writer. Idempotent.
    void stop();

    const Limits& limits() const { return limits_; }

private:
    enum class State { Queued, Committing, Done };
    struct Pending {
        CommitBatch batch;
        size_t bytes = 0;
        State state = State::Queued;
        BatchResult result;
        std::condition_variable done;  // its waiter: state became Done
    };
    using Clock = std::chrono::steady_clock;

    void writeLoop();
    void runHeartbeat(std::unique_lock<std::mutex>& lock);
    // Records how one attempt (group or heartbeat) ended: failure empty means it committed.
    void attemptEndedLocked(Clock::time_point started, Clock::time_point finished, const std::string& failure);
    bool stalledLocked(Clock::time_point now) const;
    void releaseLocked(const Pending& p);
    void publishDepthLocked();

    const Limits limits_;
    const GroupCommitter committer_;
    const Heartbeat heartbeat_;
    mutable std::mutex mutex_;
    std::condition_variable work_;  // the writer: something queued, or stop
    std::condition_variable done_;  // the waiters: a group finished
    std::deque<std::shared_ptr<Pending>> queue_;
    size_t pendingMessages_ = 0;
    uint64_t pendingBytes_ = 0;
    bool committing_ = false;
    Clock::time_point groupStarted_{};
    bool stopping_ = false;
    std::string failure_;               // the last attempt's store error; empty when it committed
    Clock::time_point failingSince_{};  // the first failed attempt since the last success
    Clock::time_point lastAttempt_{};   // when the last commit or heartbeat ended
    uint64_t heartbeats_ = 0;
    Metrics* metrics_ = nullptr;
    std::thread writer_;
};

}  // namespace switchboard::host
