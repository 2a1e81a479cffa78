#include "store/commit_queue.h"

#include "log/log.h"

#include <algorithm>
#include <cstdio>

namespace switchboard::host {

namespace {

// What a queued message holds on to, roughly: its strings (the raw body dominates).
size_t approximateBytes(const MessageRecord& m) {
    size_t bytes = sizeof(MessageRecord) + m.connector.size() + m.channel.size() + m.direction.size() +
                   m.sourceId.size() + m.conversationId.size() + m.subject.size() + m.text.size() +
                   m.normalizedJson.size() + m.rawContentType.size() + m.raw.size() + m.senderName.size() +
                   m.inReplyTo.size();
    for (const auto& i : m.sender) bytes += sizeof i + i.type.size() + i.value.size() + i.scope.size();
    for (const auto& r : m.references) bytes += sizeof r + r.size();
    for (const auto& [k, v] : m.customerAttributes) bytes += 2 * sizeof k + k.size() + v.size();
    return bytes;
}

const Labels kNoLabels;

// While failing, how often the idle writer checks whether the store can commit again.
constexpr std::chrono::seconds kHeartbeatInterval{1};

// "0.4s", "12s": a duration for a reason text.
std::string secondsText(std::chrono::steady_clock::duration d) {
    const double s = std::max(0.0, std::chrono::duration<double>(d).count());
    char out[32];
    std::snprintf(out, sizeof out, s < 10 ? "%.1fs" : "%.0fs", s);
    return out;
}

// What readiness names as the reason an attempt failed.
std::string causeOf(const std::exception& e) {
    const auto* fault = dynamic_cast<const StoreFault*>(&e);
    return fault && !fault->cause().empty() ? fault->cause() : e.what();
}

}  // namespace

CommitQueue::CommitQueue(Limits limits, GroupCommitter committer, Heartbeat heartbeat)
    : limits_(limits), committer_(std::move(committer)), heartbeat_(std::move(heartbeat)) {
    writer_ = std::thread([this] { writeLoop(); });
}

CommitQueue::~CommitQueue() { stop(); }

void CommitQueue::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_.notify_all();
    if (writer_.joinable()) writer_.join();
}

void CommitQueue::setMetrics(Metrics& metrics) {
    metrics.describeHistogram("switchboard_commit_seconds", "Duration of one group commit (one transaction)",
                              secondsBuckets());
    metrics.describeHistogram("switchboard_commit_group_size", "Messages committed in one transaction",
                              {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
    metrics.describe("switchboard_commit_queue_depth", "gauge", "Messages queued for commit or being committed");
    metrics.describeHistogram("switchboard_ingest_seconds",
                              "From emit (a connector hands messages to the host) to their durable commit",
                              secondsBuckets());
    metrics.describe("switchboard_webhook_backpressure_total", "counter",
                     "Webhooks answered 503 because the store is behind");
    metrics.describe("switchboard_store_healthy", "gauge",
                     "1 when the store can take commits (not failing, stalled or behind), else 0");
    metrics.describe("switchboard_store_commit_failures_total", "counter",
                     "Commit attempts (transactions and heartbeats) that failed because of the store");
    metrics.add("switchboard_store_commit_failures_total", kNoLabels, 0);
    {
        std::lock_guard lock(mutex_);
        metrics_ = &metrics;
        publishDepthLocked();
    }
    health();
}

bool CommitQueue::stalledLocked(Clock::time_point now) const {
    return committing_ && now - groupStarted_ >= std::chrono::milliseconds(limits_.ackTimeoutMs);
}

bool CommitQueue::behind() const {
    std::lock_guard lock(mutex_);
    return stalledLocked(Clock::now()) || pendingMessages_ >= limits_.maxPending ||
           pendingBytes_ >= limits_.maxPendingBytes;
}

size_t CommitQueue::pendingMessages() const {
    std::lock_guard lock(mutex_);
    return pendingMessages_;
}

size_t CommitQueue::queuedBatches() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

uint64_t CommitQueue::heartbeats() const {
    std::lock_guard lock(mutex_);
    return heartbeats_;
}

StoreHealth CommitQueue::health() const {
    StoreHealth h;
    Metrics* metrics = nullptr;
    {
        std::lock_guard lock(mutex_);
        metrics = metrics_;
        const auto now = Clock::now();
        if (!failure_.empty()) {
            h.reason = "store cannot commit: " + failure_ + " (since " + secondsText(now - failingSince_) + ")";
        } else if (stalledLocked(now)) {
            h.reason = "store is stalled: a commit has been running for " + secondsText(now - groupStarted_) +
                       " (store.commit.ack_timeout is " + secondsText(std::chrono::milliseconds(limits_.ackTimeoutMs)) +
                       "); " + std::to_string(pendingMessages_) + " messages pending";
        } else if (pendingMessages_ >= limits_.maxPending) {
            h.reason = "store is behind: " + std::to_string(pendingMessages_) +
                       " messages pending (store.commit.max_pending is " + std::to_string(limits_.maxPending) + ")";
        } else if (pendingBytes_ >= limits_.maxPendingBytes) {
            h.reason = "store is behind: " + std::to_string(pendingBytes_) +
                       " bytes pending (store.commit.max_pending_bytes is " +
                       std::to_string(limits_.maxPendingBytes) + ")";
        }
        h.healthy = h.reason.empty();
    }
    if (metrics) metrics->set("switchboard_store_healthy", kNoLabels, h.healthy ? 1 : 0);
    return h;
}

void CommitQueue::attemptEndedLocked(Clock::time_point started, Clock::time_point finished,
                                     const std::string& failure) {
    lastAttempt_ = finished;
    if (failure.empty()) {
        if (!failure_.empty())
            logInfo("the store can commit again", {{"failed_for", secondsText(finished - failingSince_)}});
        failure_.clear();
        return;
    }
    if (failure_.empty()) {
        failingSince_ = started;
        logWarn("the store cannot commit; /readyz reports not ready until it can", {{"error", failure}});
    }
    failure_ = failure;
    if (metrics_) metrics_->add("switchboard_store_commit_failures_total", kNoLabels);
}

void CommitQueue::runHeartbeat(std::unique_lock<std::mutex>& lock) {
    // A stuck heartbeat is a stalled commit like any other (behind() refuses new batches).
    committing_ = true;
    groupStarted_ = Clock::now();
    const auto started = groupStarted_;
    ++heartbeats_;
    lock.unlock();
    std::string failure;
    try {
        heartbeat_();
    } catch (const std::exception& e) {
        failure = causeOf(e);
        if (failure.empty()) failure = "unknown error in the heartbeat";
    } catch (...) {
        failure = "unknown error in the heartbeat";
    }
    const auto finished = Clock::now();
    lock.lock();
    committing_ = false;
    attemptEndedLocked(started, finished, failure);
}

void CommitQueue::releaseLocked(const Pending& p) {
    pendingMessages_ -= p.batch.messages.size();
    pendingBytes_ -= p.bytes;
}

void CommitQueue::publishDepthLocked() {
    if (metrics_) metrics_->set("switchboard_commit_queue_depth", kNoLabels, static_cast<double>(pendingMessages_));
}

std::vector<CommitOutcome> CommitQueue::commit(CommitBatch batch) {
    auto pending = std::make_shared<Pending>();
    const size_t count = batch.messages.size();
    for (const auto& m : batch.messages) pending->bytes += approximateBytes(m);
    pending->batch = std::move(batch);

    std::unique_lock lock(mutex_);
    if (stopping_) throw CommitFailed("the store is closing");
    const auto now = Clock::now();
    if (stalledLocked(now)) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - groupStarted_).count();
        throw StoreBehind("store is behind (a commit has been running for " + std::to_string(ms) + " ms; " +
                          std::to_string(pendingMessages_) + " messages pending)");
    }
    // One batch larger than the limits still goes through alone, so it can never be stuck.
    if (pendingMessages_ > 0 && (pendingMessages_ + count > limits_.maxPending ||
                                 pendingBytes_ + pending->bytes > limits_.maxPendingBytes))
        throw StoreBehind("store is behind (" + std::to_string(pendingMessages_) + " messages pending)");
    queue_.push_back(pending);
    pendingMessages_ += count;
    pendingBytes_ += pending->bytes;
    publishDepthLocked();
    work_.notify_one();

    const auto timeout = std::chrono::milliseconds(limits_.ackTimeoutMs);
    if (!pending->done.wait_for(lock, timeout, [&] { return pending->state == State::Done; })) {
        if (pending->state == State::Queued) {
            // Not started: take it back, so it is neither stored later nor holding memory.
            queue_.erase(std::find(queue_.begin(), queue_.end(), pending));
            releaseLocked(*pending);
            publishDepthLocked();
            throw CommitFailed("the store did not get to this batch within " + std::to_string(timeout.count()) +
                               " ms; nothing was stored: send it again");
        }
        // In the transaction: it may still commit, and a resend is then a duplicate.
        throw CommitFailed("the store did not confirm this batch within " + std::to_string(timeout.count()) +
                           " ms; send it again (if it was stored, the resend is a duplicate)");
    }
    if (!pending->result.error.empty()) throw CommitFailed(pending->result.error);
    return std::move(pending->result.outcomes);
}

void CommitQueue::writeLoop() {
    std::unique_lock lock(mutex_);
    const auto hasWork = [&] { return stopping_ || !queue_.empty(); };
    while (true) {
        if (heartbeat_ && !failure_.empty()) {
            // Failing and idle: find out by itself when the store can commit again, so readiness
            // recovers without traffic (a load balancer sends none while we are not ready).
            if (!work_.wait_until(lock, lastAttempt_ + kHeartbeatInterval, hasWork)) {
                runHeartbeat(lock);
                continue;
            }
        } else {
            work_.wait(lock, hasWork);
        }
        if (queue_.empty()) break;  // stopping, and everything queued is done

        // Everything queued, in order, up to max_group messages (always at least one batch).
        std::vector<std::shared_ptr<Pending>> group;
        size_t messages = 0;
        while (!queue_.empty()) {
            const size_t n = queue_.front()->batch.messages.size();
            if (!group.empty() && messages + n > limits_.maxGroup) break;
            messages += n;
            queue_.front()->state = State::Committing;
            group.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        committing_ = true;
        groupStarted_ = Clock::now();
        lock.unlock();

        std::vector<const CommitBatch*> batches;
        batches.reserve(group.size());
        for (const auto& p : group) batches.push_back(&p->batch);
        std::vector<BatchResult> results;
        std::string failure, cause;  // cause: for readiness
        try {
            results = committer_(batches);
            if (results.size() != group.size()) failure = "internal error: the group commit lost track of a batch";
        } catch (const std::exception& e) {
            failure = e.what();
            cause = causeOf(e);
        } catch (...) {
            failure = "unknown error in the group commit";
        }
        const auto finished = Clock::now();
        if (cause.empty()) cause = failure;
        // A batch the store could not take (disk full inside its savepoint) fails the attempt too.
        for (size_t i = 0; cause.empty() && i < results.size(); ++i) cause = results[i].storeFault;

        lock.lock();
        committing_ = false;
        attemptEndedLocked(groupStarted_, finished, cause);
        for (size_t i = 0; i < group.size(); ++i) {
            Pending& p = *group[i];
            p.result = failure.empty() ? std::move(results[i]) : BatchResult{{}, failure, cause};
            p.state = State::Done;
            releaseLocked(p);
            p.done.notify_one();
        }
        if (metrics_) {
            metrics_->observe("switchboard_commit_seconds", kNoLabels,
                              std::chrono::duration<double>(finished - groupStarted_).count());
            if (messages > 0)  // a checkpoint alone is not a group of messages
                metrics_->observe("switchboard_commit_group_size", kNoLabels, static_cast<double>(messages));
            publishDepthLocked();
        }
    }
}

}  // namespace switchboard::host
