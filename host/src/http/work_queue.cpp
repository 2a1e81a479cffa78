#include "http/work_queue.h"

#include "log/log.h"

#include <algorithm>

namespace switchboard::host::http {

WorkQueue::WorkQueue(std::string name, unsigned maxThreads, size_t maxQueued)
    : name_(std::move(name)), maxThreads_(std::max(1u, maxThreads)), maxQueued_(maxQueued) {}

WorkQueue::~WorkQueue() { stop(); }

bool WorkQueue::trySubmit(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    bool threadFree = idle_ > jobs_.size();  // an idle thread is there for this job
    bool canGrow = !threadFree && threads_.size() < maxThreads_;
    size_t waiting = jobs_.size() - std::min(idle_, jobs_.size());
    if (!threadFree && !canGrow && waiting >= maxQueued_) return false;
    jobs_.push_back(std::move(job));
    if (canGrow) {
        threads_.emplace_back([this] { work(); });
        ++idle_;  // counted idle until it takes the job
    }
    ready_.notify_one();
    return true;
}

void WorkQueue::setLimits(unsigned maxThreads, size_t maxQueued) {
    std::lock_guard lock(mutex_);
    maxThreads_ = std::max(1u, maxThreads);
    maxQueued_ = maxQueued;
}

size_t WorkQueue::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

size_t WorkQueue::waiting() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
}

unsigned WorkQueue::maxThreads() const {
    std::lock_guard lock(mutex_);
    return maxThreads_;
}

size_t WorkQueue::maxQueued() const {
    std::lock_guard lock(mutex_);
    return maxQueued_;
}

void WorkQueue::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        --idle_;
        ++running_;
        lock.unlock();
        try {
            job();
        } catch (const std::exception& e) {
            logError("http worker: a job threw", {{"queue", name_}, {"error", e.what()}});
        } catch (...) {
            logError("http worker: a job threw", {{"queue", name_}, {"error", "unknown exception"}});
        }
        job = nullptr;  // release what it holds before counting the thread idle
        lock.lock();
        --running_;
        ++idle_;
    }
}

void WorkQueue::stop() {
    std::vector<std::thread> threads;
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        dropped.swap(jobs_);
        threads.swap(threads_);
    }
    ready_.notify_all();
    dropped.clear();  // outside the lock: a job's captures may take other locks when destroyed
    for (auto& t : threads)
        if (t.joinable()) t.join();
}

}  // namespace switchboard::host::http
