// Worker threads with a bounded queue: where handlers that may block (a plugin, the store)
// run, so the event loop never waits for them. Threads start on demand up to the limit.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::host::http {

class WorkQueue {
public:
    WorkQueue(std::string name, unsigned maxThreads, size_t maxQueued);
    ~WorkQueue();  // stop()
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    // False, and job not taken, when maxThreads jobs run and maxQueued wait, or once stopped.
    bool trySubmit(std::function<void()> job);
    // New limits apply to later submissions (running threads are kept).
    void setLimits(unsigned maxThreads, size_t maxQueued);
    size_t running() const;
    size_t waiting() const;
    unsigned maxThreads() const;
    size_t maxQueued() const;

    // Drops what still waits and joins the threads once their current job returns.
    void stop();

private:
    void work();

    const std::string name_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    unsigned maxThreads_;
    size_t maxQueued_;
    size_t idle_ = 0;
    size_t running_ = 0;
    bool stopping_ = false;
};

}  // namespace switchboard::host::http
