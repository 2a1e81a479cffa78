#include "store/commit_queue.h"

#include <algorithm>

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

}  // namespace

CommitQueue::CommitQueue(Limits limits, GroupCommitter committer)
    : limits_(limits), committer_(std::move(committer)) {
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
    std::lock_guard lock(mutex_);
    metrics_ = &metrics;
    publishDepthLocked();
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
    while (true) {
        work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
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
        std::string failure;
        try {
            results = committer_(batches);
            if (results.size() != group.size()) failure = "internal error: the group commit lost track of a batch";
        } catch (const std::exception& e) {
            failure = e.what();
        } catch (...) {
            failure = "unknown error in the group commit";
        }
        const auto finished = Clock::now();

        lock.lock();
        committing_ = false;
        for (size_t i = 0; i < group.size(); ++i) {
            Pending& p = *group[i];
            p.result = failure.empty() ? std::move(results[i]) : BatchResult{{}, failure};
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
