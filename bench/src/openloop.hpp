// An open-loop HTTP/1.1 load generator (what wrk2 does, which Debian does not ship): requests
// are scheduled at a constant rate, t_i = t0 + i/rate, independent of how fast answers come.
// Each request's latency is measured from its SCHEDULED send time, so a slow answer that
// delays the next sends is charged to every request it delayed (no coordinated omission).
// Keep-alive connections, one request in flight per connection (no pipelining); a request
// whose time has come while every connection is busy waits in a queue and its wait counts.
// Header-only: the CI smoke test runs it for a second against a real host.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

namespace sbbench {

struct OpenLoopOptions {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/";
    std::string bodyTemplate;       // contains "__ID__" once: replaced by a unique id per request
    std::string idPrefix = "ol";
    double rate = 100;              // requests per second
    double durationS = 10;
    int connections = 50;
    double drainS = 5;              // how long to wait for answers after the last send
};

struct OpenLoopResult {
    double rate = 0, durationS = 0;
    uint64_t scheduled = 0, completed = 0, non2xx = 0, socketErrors = 0, unanswered = 0;
    uint64_t reconnects = 0;  // connections the server ended with "Connection: close", reopened
    double achievedRate = 0;
    double p50Ms = 0, p90Ms = 0, p99Ms = 0, p999Ms = 0, maxMs = 0;

    nlohmann::json toJson() const {
        return {{"target_rate", rate},      {"duration_s", durationS},     {"scheduled", scheduled},
                {"completed", completed},   {"non2xx", non2xx},           {"socket_errors", socketErrors},
                {"unanswered", unanswered}, {"achieved_rate", achievedRate}, {"p50_ms", p50Ms},
                {"p90_ms", p90Ms},          {"p99_ms", p99Ms},             {"p999_ms", p999Ms},
                {"max_ms", maxMs},          {"reconnects", reconnects}};
    }
};

namespace detail {

using Clock = std::chrono::steady_clock;

struct Conn {
    int fd = -1;
    bool busy = false;
    Clock::time_point scheduled;
    std::string out;
    size_t outOff = 0;
    std::string in;
};

inline int connectTo(const std::string& host, int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket: " + std::string(strerror(errno)));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + host);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error("connect " + host + ":" + std::to_string(port) + ": " + strerror(e));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Non-blocking after connect: sends and reads are driven by epoll.
    int flags = 1;
    ::ioctl(fd, FIONBIO, &flags);
    return fd;
}

// Returns the length of one complete response at the start of buf (0 when incomplete), its
// status code, and whether the server said it closes the connection after it
// ("Connection: close": a request sent on it afterwards would be lost, so it is not reused).
inline size_t completeResponse(const std::string& buf, int& status, bool& serverCloses) {
    size_t end = buf.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    if (buf.size() < 12) return 0;
    status = std::atoi(buf.c_str() + 9);
    size_t len = 0;
    std::string head = buf.substr(0, end);
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) len = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    serverCloses = head.find("\r\nconnection: close") != std::string::npos;
    if (buf.size() < end + 4 + len) return 0;
    return end + 4 + len;
}

}  // namespace detail

inline OpenLoopResult runOpenLoop(const OpenLoopOptions& o) {
    using namespace detail;
    const size_t at = o.bodyTemplate.find("__ID__");
    if (at == std::string::npos) throw std::runtime_error("body template has no __ID__");
    const std::string before = o.bodyTemplate.substr(0, at), after = o.bodyTemplate.substr(at + 6);

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> conns(static_cast<size_t>(o.connections));
    std::vector<size_t> idle;
    auto open = [&](size_t i) {
        conns[i] = Conn{};
        conns[i].fd = connectTo(o.host, o.port);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    };
    for (size_t i = 0; i < conns.size(); ++i) {
        open(i);
        idle.push_back(i);
    }

    OpenLoopResult r;
    r.rate = o.rate;
    r.durationS = o.durationS;
    std::vector<float> latMs;
    latMs.reserve(static_cast<size_t>(o.rate * o.durationS) + 16);
    std::deque<Clock::time_point> queue;  // scheduled, not yet sent
    const auto period = std::chrono::duration<double>(1.0 / o.rate);
    const auto t0 = Clock::now() + std::chrono::milliseconds(20);
    const uint64_t total = static_cast<uint64_t>(o.rate * o.durationS);
    const auto sendEnd = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.durationS));
    const auto hardEnd = sendEnd + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.drainS));
    uint64_t next = 0, inflight = 0;
    auto when = [&](uint64_t i) { return t0 + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i)); };

    // Drops a connection and opens a fresh one; a request in flight on it is counted as lost.
    auto fail = [&](size_t i) {
        Conn& c = conns[i];
        if (c.busy) {
            ++r.socketErrors;
            --inflight;
        }
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        try {
            open(i);
            idle.push_back(i);
        } catch (const std::exception&) {
            conns[i].fd = -1;
        }
    };
    auto trySend = [&](size_t i) {
        Conn& c = conns[i];
        while (c.outOff < c.out.size()) {
            ssize_t n = ::send(c.fd, c.out.data() + c.outOff, c.out.size() - c.outOff, MSG_NOSIGNAL);
            if (n > 0) {
                c.outOff += static_cast<size_t>(n);
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
                ev.data.u64 = i;
                ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                return true;
            } else {
                return false;
            }
        }
        return true;
    };

    std::vector<epoll_event> events(conns.size());
    while (true) {
        auto now = Clock::now();
        while (next < total && when(next) <= now) queue.push_back(when(next++));
        while (!queue.empty() && !idle.empty()) {
            size_t i = idle.back();
            idle.pop_back();
            Conn& c = conns[i];
            const std::string id = o.idPrefix + "-" + std::to_string(r.scheduled);
            const std::string body = before + id + after;
            c.out = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
            c.outOff = 0;
            c.in.clear();
            c.busy = true;
            c.scheduled = queue.front();
            queue.pop_front();
            ++r.scheduled;
            ++inflight;
            if (!trySend(i)) fail(i);
        }
        if (next >= total && queue.empty() && inflight == 0) break;
        if (now >= hardEnd) break;
        // Sleep until the next scheduled send or an answer (nanosecond timeout).
        timespec ts{0, 0};
        if (next < total && queue.empty()) {
            auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(when(next) - now).count();
            if (d < 0) d = 0;
            ts.tv_sec = d / 1000000000;
            ts.tv_nsec = d % 1000000000;
        } else {
            ts.tv_nsec = 1000000;  // waiting on answers only (or queue blocked on busy connections)
        }
        int n = ::epoll_pwait2(ep, events.data(), static_cast<int>(events.size()), &ts, nullptr);
        for (int k = 0; k < n; ++k) {
            size_t i = events[k].data.u64;
            Conn& c = conns[i];
            if (events[k].events & EPOLLOUT) {
                if (!trySend(i)) {
                    fail(i);
                    continue;
                }
                if (c.outOff >= c.out.size()) {
                    epoll_event ev{};
                    ev.events = EPOLLIN | EPOLLRDHUP;
                    ev.data.u64 = i;
                    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                }
            }
            if (events[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
                char buf[16384];
                bool closed = false;
                while (true) {
                    ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
                    if (got > 0) {
                        c.in.append(buf, static_cast<size_t>(got));
                        continue;
                    }
                    if (got == 0) closed = true;
                    else if (errno != EAGAIN && errno != EWOULDBLOCK) closed = true;
                    break;
                }
                int status = 0;
                bool serverCloses = false;
                size_t len = c.busy ? completeResponse(c.in, status, serverCloses) : 0;
                if (len > 0) {
                    const auto done = Clock::now();
                    latMs.push_back(std::chrono::duration<float, std::milli>(done - c.scheduled).count());
                    ++r.completed;
                    if (status < 200 || status > 299) ++r.non2xx;
                    c.busy = false;
                    --inflight;
                    c.in.erase(0, len);
                    if (serverCloses && !closed) ++r.reconnects;
                    if (!closed && !serverCloses) idle.push_back(i);
                }
                if (closed || serverCloses) {
                    const bool wasIdle = !c.busy;
                    if (wasIdle) idle.erase(std::remove(idle.begin(), idle.end(), i), idle.end());
                    fail(i);
                }
            }
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    r.unanswered = (total - r.completed) > r.socketErrors ? total - r.completed - r.socketErrors : 0;
    r.achievedRate = elapsed > 0 ? static_cast<double>(r.completed) / std::min(elapsed, o.durationS + o.drainS) : 0;
    for (auto& c : conns)
        if (c.fd >= 0) ::close(c.fd);
    ::close(ep);
    std::sort(latMs.begin(), latMs.end());
    auto pct = [&](double p) -> double {
        if (latMs.empty()) return 0;
        size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(latMs.size() - 1) + 0.5);
        return latMs[std::min(i, latMs.size() - 1)];
    };
    r.p50Ms = pct(50);
    r.p90Ms = pct(90);
    r.p99Ms = pct(99);
    r.p999Ms = pct(99.9);
    r.maxMs = latMs.empty() ? 0 : latMs.back();
    return r;
}

}  // namespace sbbench
