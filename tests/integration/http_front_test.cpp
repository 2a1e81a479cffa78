// The HTTP front against hostile and slow clients (issue 13), tested from outside over raw
// sockets against a real `switchboard run`: request smuggling and malformed framing refused
// with one 400 and a closed connection (RFC 9112), slowloris / idle / slow-body clients dropped
// by their deadlines while normal webhooks keep their latency, per-client and global connection
// limits, a stuck plugin that cannot slow another instance, and memory bounded by the bodies in
// flight. Written from the documented behaviour (config/README.md `server:`, docs/api.md) and
// RFC 9112, not from the implementation.
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace switchboard::test;
using namespace std::chrono_literals;
using namespace std::string_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Sanitizer builds (the asan preset) run the host several times slower: the functional
// assertions stay, latency bounds and time slack are relaxed (see kLatencyBoundMs).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Extra time allowed past a deadline before the test calls it missed.
constexpr std::chrono::milliseconds kSlack = kSanitized ? 6000ms : 2500ms;
constexpr double kSlackMs = static_cast<double>(kSlack.count());

double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Bytes as a C-like literal for failure messages: what was sent and what came back.
std::string printable(std::string_view s, size_t max = 600) {
    std::string out;
    for (size_t i = 0; i < s.size() && i < max; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c < 0x20 || c >= 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
    return "\"" + out + "\"";
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// ---------------------------------------------------------------------------------------------
// Raw sockets

void raiseFdLimit(rlim_t want) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t target = std::min(want, rl.rlim_max);
    if (rl.rlim_cur < target) {
        rl.rlim_cur = target;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

rlim_t fdLimit() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

// A non-blocking TCP socket bound to source address src (any 127.0.0.0/8 address is local on
// Linux, so a test can be "many clients"), with connect to 127.0.0.1:port started.
// Returns -1 when the socket cannot even be created or bound.
int startConnect(int port, const std::string& src) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, src.c_str(), &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        ::close(fd);
        return -1;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// A connected non-blocking socket, or -1.
int connectTo(int port, const std::string& src = "127.0.0.1", std::chrono::milliseconds timeout = 5000ms) {
    int fd = startConnect(port, src);
    if (fd < 0) return -1;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
        ::close(fd);
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct RawResponse {
    int status = 0;
    std::string statusLine;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    bool has(const std::string& name) const { return headers.count(name) != 0; }
};

// Decodes a chunked body starting at pos; returns the end offset or npos while incomplete.
size_t decodeChunked(const std::string& data, size_t pos, std::string& body) {
    while (true) {
        size_t lineEnd = data.find("\r\n", pos);
        if (lineEnd == std::string::npos) return std::string::npos;
        size_t size = std::strtoul(data.substr(pos, lineEnd - pos).c_str(), nullptr, 16);
        pos = lineEnd + 2;
        if (size == 0) {
            size_t end = data.find("\r\n\r\n", pos - 2);
            return end == std::string::npos ? std::string::npos : end + 4;
        }
        if (data.size() < pos + size + 2) return std::string::npos;
        body.append(data, pos, size);
        pos += size + 2;
    }
}

// The complete responses at the start of data; *used gets how many bytes they span. With
// atEof a response without a length ends where the data ends.
std::vector<RawResponse> parseResponses(const std::string& data, bool atEof, size_t* used = nullptr) {
    std::vector<RawResponse> out;
    size_t pos = 0;
    while (pos < data.size()) {
        size_t headEnd = data.find("\r\n\r\n", pos);
        if (headEnd == std::string::npos) break;
        RawResponse r;
        std::string head = data.substr(pos, headEnd - pos);
        std::istringstream lines(head);
        std::getline(lines, r.statusLine);
        if (!r.statusLine.empty() && r.statusLine.back() == '\r') r.statusLine.pop_back();
        if (r.statusLine.rfind("HTTP/1.", 0) != 0 || r.statusLine.size() < 12) break;  // not a response
        r.status = std::atoi(r.statusLine.c_str() + 9);
        std::string line;
        while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            value.erase(value.find_last_not_of(" \t") + 1);
            r.headers[lower(line.substr(0, colon))] = value;
        }
        size_t bodyStart = headEnd + 4, end = 0;
        if (r.status / 100 == 1 || r.status == 204 || r.status == 304) {
            end = bodyStart;
        } else if (r.has("transfer-encoding") && lower(r.headers["transfer-encoding"]).find("chunked") != std::string::npos) {
            end = decodeChunked(data, bodyStart, r.body);
            if (end == std::string::npos) break;
        } else if (r.has("content-length")) {
            size_t length = std::strtoul(r.headers["content-length"].c_str(), nullptr, 10);
            if (data.size() < bodyStart + length) break;
            r.body = data.substr(bodyStart, length);
            end = bodyStart + length;
        } else {
            if (!atEof) break;
            r.body = data.substr(bodyStart);
            end = data.size();
        }
        out.push_back(std::move(r));
        pos = end;
    }
    if (used) *used = pos;
    return out;
}

std::string describe(const std::vector<RawResponse>& responses) {
    std::string s;
    for (const auto& r : responses) s += (s.empty() ? "" : ", ") + std::to_string(r.status) + " " + printable(r.body, 200);
    return s.empty() ? "no response" : s;
}

// What came back on one connection.
struct Exchange {
    bool connected = false;
    std::string received;
    std::vector<RawResponse> responses;
    std::string unparsed;     // bytes after the last complete response
    bool closed = false;      // EOF or reset by the server
    bool reset = false;       // ECONNRESET
    bool timedOut = false;    // still open when the read deadline passed
    size_t sent = 0;          // request bytes the kernel took before the server closed
    double closedAfterMs = 0; // since the request started going out
    std::string summary() const {
        std::string s = connected ? describe(responses) : "connect failed";
        if (!unparsed.empty()) s += "; then " + printable(unparsed, 200);
        s += closed ? (reset ? "; reset" : "; closed") : (timedOut ? "; still open" : "");
        return s;
    }
};

struct ExchangeOptions {
    std::string src = "127.0.0.1";
    std::chrono::milliseconds timeout = kSanitized ? 8000ms : 4000ms;
    // 0: read until the server closes (or the timeout). N: return once N responses are
    // complete and `linger` passed without more bytes (to catch one response too many).
    size_t responses = 0;
    std::chrono::milliseconds linger = 300ms;
};

// Sends request on the connected socket fd (writing as the server takes it, reading at the
// same time so a server that answers early and closes is seen) and reads per options.
Exchange exchangeOn(int fd, const std::string& request, const ExchangeOptions& o) {
    Exchange ex;
    ex.connected = true;
    const auto start = Clock::now();
    const auto deadline = start + o.timeout;
    bool writing = !request.empty();
    Clock::time_point lastData = start;
    char buf[65536];
    while (true) {
        const auto now = Clock::now();
        if (o.responses > 0 && ex.responses.size() >= o.responses && now - lastData >= o.linger) break;
        if (now >= deadline) {
            ex.timedOut = true;
            break;
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        if (o.responses > 0 && ex.responses.size() >= o.responses)
            wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(o.linger - (now - lastData)));
        pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
        int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, wait.count())));
        if (n <= 0) continue;
        if (writing && (p.revents & POLLOUT)) {
            ssize_t w = ::send(fd, request.data() + ex.sent, request.size() - ex.sent, MSG_NOSIGNAL);
            if (w > 0) ex.sent += static_cast<size_t>(w);
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) writing = false;  // the server closed
            if (ex.sent == request.size()) writing = false;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = ::recv(fd, buf, sizeof buf, 0);
            if (r > 0) {
                ex.received.append(buf, static_cast<size_t>(r));
                lastData = Clock::now();
                size_t used = 0;
                ex.responses = parseResponses(ex.received, false, &used);
            } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                ex.closed = true;
                ex.reset = r < 0 && errno == ECONNRESET;
                ex.closedAfterMs = msSince(start);
                break;
            }
        }
    }
    size_t used = 0;
    ex.responses = parseResponses(ex.received, ex.closed, &used);
    ex.unparsed = ex.received.substr(used);
    return ex;
}

Exchange exchange(int port, const std::string& request, const ExchangeOptions& o = {}) {
    int fd = connectTo(port, o.src);
    if (fd < 0) return {};
    Exchange ex = exchangeOn(fd, request, o);
    ::close(fd);
    return ex;
}

// One keep-alive client connection for step-by-step tests.
class Connection {
public:
    explicit Connection(int port, const std::string& src = "127.0.0.1") : fd_(connectTo(port, src)) {}
    ~Connection() { close(); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    bool ok() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    // Sends request and waits for one complete response (nullopt-like status 0 when none).
    RawResponse request(const std::string& request, std::chrono::milliseconds timeout = 5000ms) {
        if (fd_ < 0) return {};
        ExchangeOptions o;
        o.responses = 1;
        o.linger = 0ms;
        o.timeout = timeout;
        last_ = exchangeOn(fd_, request, o);
        return last_.responses.empty() ? RawResponse{} : last_.responses.front();
    }
    bool send(std::string_view bytes) {
        size_t sent = 0;
        while (sent < bytes.size()) {
            pollfd p{fd_, POLLOUT, 0};
            if (::poll(&p, 1, 2000) != 1) return false;
            ssize_t w = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) return false;
            if (w > 0) sent += static_cast<size_t>(w);
        }
        return true;
    }
    // Reads until the server closes or timeout passes: what came back, and when it closed.
    Exchange waitClosed(std::chrono::milliseconds timeout) {
        ExchangeOptions o;
        o.timeout = timeout;
        last_ = exchangeOn(fd_, {}, o);
        return last_;
    }
    // Goes on reading what an earlier exchange on this connection began until the server
    // closes: a response and the close may arrive in different reads.
    Exchange finishClosing(Exchange sofar, std::chrono::milliseconds timeout) {
        if (sofar.closed) return sofar;
        Exchange rest = waitClosed(timeout);
        sofar.received += rest.received;
        sofar.closed = rest.closed;
        sofar.reset = rest.reset;
        sofar.timedOut = rest.timedOut;
        size_t used = 0;
        sofar.responses = parseResponses(sofar.received, sofar.closed, &used);
        sofar.unparsed = sofar.received.substr(used);
        return last_ = sofar;
    }
    const Exchange& last() const { return last_; }

private:
    int fd_;
    Exchange last_;
};

// ---------------------------------------------------------------------------------------------
// The host

const std::string kChat = "  - name: chat\n    plugin: webchat\n";
std::string slowFixtureDir() { return std::string(SWITCHBOARD_FIXTURE_DIR) + "/slow_webhook"; }

// Under AddressSanitizer freed memory waits in a 256 MiB quarantine, which would count as
// growth in the memory tests: keep it small (other builds ignore the variable).
std::string asanOptions() {
    const char* inherited = std::getenv("ASAN_OPTIONS");
    return std::string(inherited ? inherited : "") + (inherited && *inherited ? ":" : "") + "quarantine_size_mb=4";
}

// A host on its own config, since these tests set `server:` keys HostProcess does not write.
// server: extra lines under `server:` ("  key: value\n"); connectors: the connectors block.
class FrontHost {
public:
    explicit FrontHost(const std::string& server, const std::string& connectors = kChat,
                       const std::vector<std::string>& extraPluginDirs = {}) {
        std::string dirs = buildPluginDir();
        for (const auto& d : extraPluginDirs) dirs += ", " + d;
        for (int attempt = 0; attempt < 2; ++attempt) {
            port_ = freePort();
            dir_.write("switchboard.yaml", "server:\n  listen: 127.0.0.1:" + std::to_string(port_) +
                                               "\n  api_token: " + HostProcess::kToken + "\n" + server +
                                               "store:\n  sqlite: { path: " + dir_.file("sb.db") + " }\n"
                                               "plugins:\n  paths: [ " + dirs + " ]\n"
                                               "connectors:\n" + connectors);
            child_ = std::make_unique<Child>(
                std::vector<std::string>{switchboardBin(), "run", "-c", dir_.file("switchboard.yaml")},
                std::map<std::string, std::string>{{"ASAN_OPTIONS", asanOptions()}});
            if (waitHealthy(port_, 30s)) return;
            if (child_->output().find("in use") == std::string::npos) break;
        }
        throw std::runtime_error("switchboard did not become healthy:\n" + child_->output());
    }
    int port() const { return port_; }
    int pid() const { return child_->pid(); }
    std::string output() const { return child_->output(); }
    const TempDir& dir() const { return dir_; }
    bool alive() { return child_->alive(); }
    // counters.stored of one connector instance (GET /api/v1/connectors/{name}), -1 on error.
    int64_t stored(const std::string& instance) const {
        auto r = http("GET", port_, "/api/v1/connectors/" + instance, {},
                      {{"Authorization", std::string("Bearer ") + HostProcess::kToken}});
        if (r.status != 200) return -1;
        try {
            return json::parse(r.body).at("counters").at("stored").get<int64_t>();
        } catch (const std::exception&) {
            return -1;
        }
    }

private:
    TempDir dir_;
    int port_ = 0;
    std::unique_ptr<Child> child_;
};

// The last `max` bytes of a host's log, for failure messages.
std::string tail(const std::string& log, size_t max = 3000) {
    return log.size() <= max ? log : "..." + log.substr(log.size() - max);
}

std::string chatMessage(const std::string& id, size_t textBytes = 5) {
    return json{{"id", id}, {"from", {{"email", "front@example.com"}}}, {"text", std::string(textBytes, 'x')}}.dump();
}

std::string postChat(const std::string& body, const std::string& instance = "chat", const std::string& extra = {}) {
    return "POST /webhooks/" + instance + " HTTP/1.1\r\nHost: sb\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: sb\r\n\r\n";

std::string hex(size_t n) {
    char b[32];
    std::snprintf(b, sizeof b, "%zx", n);
    return b;
}
std::string chunk(const std::string& data) { return hex(data.size()) + "\r\n" + data + "\r\n"; }
std::string chunked(const std::string& data) { return chunk(data) + "0\r\n\r\n"; }

// The "error" string of a JSON error body, or "" when the body is not one.
std::string errorOf(const RawResponse& r) {
    try {
        auto j = json::parse(r.body);
        return j.at("error").get<std::string>();
    } catch (const std::exception&) {
        return {};
    }
}

struct Percentiles {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v) {
    Percentiles p;
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
    p.p50 = at(0.50);
    p.p90 = at(0.90);
    p.p99 = at(0.99);
    p.max = v.back();
    return p;
}
std::string str(const Percentiles& p) {
    char b[160];
    std::snprintf(b, sizeof b, "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", p.p50, p.p90, p.p99, p.max);
    return b;
}

// ---------------------------------------------------------------------------------------------
// (a) The smuggling corpus

struct Case {
    std::string name;
    std::string request;
    std::set<int> expect;  // the one acceptable status (400, or 413/431 where that is right)
};

// A complete request hidden where a lenient or desynchronized parser would read it as the next
// request on the connection: if it is ever answered, a second response comes back.
const std::string kSmuggled = "GET /healthz HTTP/1.1\r\nHost: sb\r\n\r\n";
const std::string kPost = "POST /webhooks/chat HTTP/1.1\r\nHost: sb\r\nContent-Type: application/json\r\n";
const std::string kGet = "GET /healthz HTTP/1.1\r\nHost: sb\r\n";

std::vector<Case> smugglingCorpus() {
    const std::string E = kSmuggled;
    const std::string N = std::to_string(E.size());
    std::vector<Case> c;
    auto add = [&](std::string name, std::string request, std::set<int> expect = {400}) {
        c.push_back({std::move(name), std::move(request), std::move(expect)});
    };
    // Transfer-Encoding and Content-Length together, and TE.TE variants.
    add("TE.CL: chunked body, Content-Length 4",
        kPost + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("CL.TE: Content-Length spans a zero chunk and a request",
        kPost + "Content-Length: " + std::to_string(5 + E.size()) + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + E);
    add("TE 'identity, chunked' with Content-Length 4 (issue 13)",
        kPost + "Transfer-Encoding: identity, chunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("TE 'identity, chunked' alone", kPost + "Transfer-Encoding: identity, chunked\r\n\r\n" + chunked("{}") + E);
    add("two TE fields chunked + identity, with Content-Length",
        kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("two TE fields chunked + identity", kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + chunked(E));
    add("two TE fields chunked + chunked", kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("{}") + E);
    add("two TE fields, second lower-case name", kPost + "Transfer-Encoding: chunked\r\ntransfer-encoding: cow\r\n\r\n" + chunked(E));
    add("TE 'chunked, identity' (chunked not last)", kPost + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunked(E));
    add("TE 'chunked, chunked' (chunked applied twice)", kPost + "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked("{}") + E);
    add("TE 'gzip, chunked' (a coding other than chunked)", kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked("{}") + E);
    add("TE 'xchunked' with Content-Length", kPost + "Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("TE 'xchunked' alone", kPost + "Transfer-Encoding: xchunked\r\n\r\n" + E);
    add("TE 'identity' alone", kPost + "Transfer-Encoding: identity\r\n\r\n" + E);
    add("'Transfer-Encoding : chunked' (space before colon) with Content-Length",
        kPost + "Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("TE field folded into the previous line (obs-fold) with Content-Length",
        kPost + "X-Padding: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("TE value continued by obs-fold", kPost + "Transfer-Encoding: identity\r\n chunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("TE value with a vertical tab", kPost + "Transfer-Encoding:\x0b" "chunked\r\nContent-Length: 4\r\n\r\n" + chunked(E));
    add("empty TE with Content-Length", kPost + "Transfer-Encoding: \r\nContent-Length: 4\r\n\r\nabcd" + E);
    // Content-Length.
    add("differing Content-Length fields (0, then the smuggled size)",
        kPost + "Content-Length: 0\r\nContent-Length: " + N + "\r\n\r\n" + E);
    add("differing Content-Length fields (the smuggled size, then 0)",
        kPost + "Content-Length: " + N + "\r\nContent-Length: 0\r\n\r\n" + E);
    add("differing Content-Length list in one field", kPost + "Content-Length: 0, " + N + "\r\n\r\n" + E);
    add("Content-Length +4", kPost + "Content-Length: +4\r\n\r\nabcd" + E);
    add("Content-Length -1", kPost + "Content-Length: -1\r\n\r\n" + E);
    add("Content-Length 4a", kPost + "Content-Length: 4a\r\n\r\nabcd" + E);
    add("Content-Length 0x4", kPost + "Content-Length: 0x4\r\n\r\nabcd" + E);
    add("Content-Length 4.0", kPost + "Content-Length: 4.0\r\n\r\nabcd" + E);
    add("Content-Length '4 4'", kPost + "Content-Length: 4 4\r\n\r\nabcd" + E);
    add("empty Content-Length", kPost + "Content-Length: \r\n\r\n" + E);
    add("Content-Length 2^64+4 (wraps to 4)", kPost + "Content-Length: 18446744073709551620\r\n\r\nabcd" + E);
    add("Content-Length of 30 digits", kPost + "Content-Length: 999999999999999999999999999999\r\n\r\n" + E);
    add("'Content-Length : 4' (space before colon)", kPost + "Content-Length : 4\r\n\r\nabcd" + E);
    // Field syntax.
    add("obs-fold with SP", kGet + "X-Folded: a\r\n b\r\n\r\n" + E);
    add("obs-fold with HTAB", kGet + "X-Folded: a\r\n\tb\r\n\r\n" + E);
    add("whitespace before the first header field", "GET /healthz HTTP/1.1\r\n Host: sb\r\n\r\n" + E);
    add("header line without a colon", kGet + "X-No-Colon\r\n\r\n" + E);
    add("space between field name and colon", kGet + "X-Space : b\r\n\r\n" + E);
    add("tab between field name and colon", kGet + "X-Tab\t: b\r\n\r\n" + E);
    add("'Host : sb' (space before colon)", "GET /healthz HTTP/1.1\r\nHost : sb\r\n\r\n" + E);
    add("empty field name", kGet + ": b\r\n\r\n" + E);
    add("space inside a field name", kGet + "X Space: b\r\n\r\n" + E);
    // Control characters.
    add("NUL in a field value", kGet + "X-A: a\0b\r\n\r\n"s + E);
    add("NUL in a field name", kGet + "X-\0A: b\r\n\r\n"s + E);
    add("NUL in the request target", "GET /heal\0thz HTTP/1.1\r\nHost: sb\r\n\r\n"s + E);
    add("bare CR in a field value", kGet + "X-A: a\rb\r\n\r\n" + E);
    add("bare CR ending a header line", "GET /healthz HTTP/1.1\r\nHost: sb\rX-A: b\r\n\r\n" + E);
    add("bare CR ending the request line", "GET /healthz HTTP/1.1\rHost: sb\r\n\r\n" + E);
    add("bare LF ending the request line", "GET /healthz HTTP/1.1\nHost: sb\r\n\r\n" + E);
    add("bare LF ending a header line (hides a Content-Length)",
        "GET /healthz HTTP/1.1\r\nHost: sb\nContent-Length: " + N + "\r\n\r\n" + E);
    add("bare LF inside a field value", kGet + "X-A: a\nb: c\r\n\r\n" + E);
    add("bare LF as every line end", "GET /healthz HTTP/1.1\nHost: sb\n\n" + E);
    add("CTL 0x01 in a field value", kGet + "X-A: a\x01" "b\r\n\r\n" + E);
    add("ESC in a field value", kGet + "X-A: a\x1b" "b\r\n\r\n" + E);
    add("DEL in a field value", kGet + "X-A: a\x7f" "b\r\n\r\n" + E);
    add("form feed in a field value", kGet + "X-A: a\x0c" "b\r\n\r\n" + E);
    add("CTL 0x01 in a field name", kGet + "X-\x01" "A: b\r\n\r\n" + E);
    add("CTL 0x01 in the request target", "GET /heal\x01thz HTTP/1.1\r\nHost: sb\r\n\r\n" + E);
    add("space inside the request target", "GET /heal thz HTTP/1.1\r\nHost: sb\r\n\r\n" + E);
    // Versions other than HTTP/1.0 and HTTP/1.1.
    for (const char* v : {"HTTP/0.9", "HTTP/1", "HTTP/1.2", "HTTP/2.0", "HTTP/9.9", "http/1.1", "HTTP/1.01", "HTTP/11"})
        add(std::string("version ") + v, "GET /healthz " + std::string(v) + "\r\nHost: sb\r\n\r\n" + E);
    add("no version (HTTP/0.9 simple request)", "GET /healthz\r\nHost: sb\r\n\r\n" + E);
    add("HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + E);
    // Host on HTTP/1.1.
    add("HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\n\r\n" + E);
    add("two different Host fields", "GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n" + E);
    add("two equal Host fields", "GET /healthz HTTP/1.1\r\nHost: sb\r\nHost: sb\r\n\r\n" + E);
    // Chunk framing.
    const std::string te = kPost + "Transfer-Encoding: chunked\r\n\r\n";
    add("chunk size not hex", te + "zz\r\n{}\r\n0\r\n\r\n" + E);
    add("negative chunk size", te + "-2\r\n{}\r\n0\r\n\r\n" + E);
    add("chunk size with 0x prefix", te + "0x2\r\n{}\r\n0\r\n\r\n" + E);
    add("empty chunk size", te + "\r\n{}\r\n0\r\n\r\n" + E);
    add("chunk size overflowing 64 bits (wraps to 2)", te + "10000000000000002\r\n{}\r\n0\r\n\r\n" + E);
    add("chunk data longer than its size", te + "1\r\n{}\r\n0\r\n\r\n" + E);
    add("no CRLF after chunk data", te + "2\r\n{}0\r\n\r\n" + E);
    add("chunk lines ended by bare LF", te + "2\n{}\n0\n\n" + E);
    add("last chunk without the final CRLF (request read as a trailer)", te + "2\r\n{}\r\n0\r\n" + E);
    add("trailer line without a colon", te + "2\r\n{}\r\n0\r\nX-Trailer\r\n\r\n" + E);
    // Sizes: the head past max_header_bytes (16KiB) and bodies past max_body_bytes (1MiB).
    add("header field past max_header_bytes", kGet + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n" + E, {431});
    {
        std::string many;
        for (int i = 0; many.size() < 24000; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
        add("many small header fields past max_header_bytes", kGet + many + "\r\n" + E, {431});
    }
    add("request target past max_header_bytes", "GET /healthz?q=" + std::string(20000, 'q') + " HTTP/1.1\r\nHost: sb\r\n\r\n",
        {431, 414});
    add("Content-Length past max_body_bytes", kPost + "Content-Length: 1048577\r\n\r\n", {413});
    add("Content-Length of 1 TiB", kPost + "Content-Length: 1099511627776\r\n\r\n", {413});
    {
        std::string body;
        for (int i = 0; i < 17; ++i) body += chunk(std::string(65536, 'x'));
        add("chunked body past max_body_bytes", te + body + "0\r\n\r\n" + E, {413});
    }
    return c;
}

class HttpFrontParsing : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            host_ = new FrontHost("  max_body_bytes: 1MiB\n  max_header_bytes: 16KiB\n");
        } catch (const std::exception& e) {
            startError_ = e.what();
        }
    }
    void SetUp() override { ASSERT_NE(host_, nullptr) << startError_; }
    static void TearDownTestSuite() {
        delete host_;
        host_ = nullptr;
    }
    static FrontHost* host_;
    static std::string startError_;
};
FrontHost* HttpFrontParsing::host_ = nullptr;
std::string HttpFrontParsing::startError_;

TEST_F(HttpFrontParsing, SmugglingCorpusIsRefusedOnceAndTheConnectionClosed) {
    const auto corpus = smugglingCorpus();
    std::vector<Exchange> results(corpus.size());
    // Eight at a time: quick, yet far below any per-client limit.
    for (size_t batch = 0; batch < corpus.size(); batch += 8) {
        std::vector<std::thread> threads;
        for (size_t i = batch; i < std::min(corpus.size(), batch + 8); ++i)
            threads.emplace_back([&, i] { results[i] = exchange(host_->port(), corpus[i].request); });
        for (auto& t : threads) t.join();
    }
    int failed = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
        const Case& c = corpus[i];
        const Exchange& ex = results[i];
        std::string why;
        if (!ex.connected) why = "could not connect";
        else if (ex.responses.empty()) why = "no complete response";
        else if (ex.responses.size() > 1) why = "answered " + std::to_string(ex.responses.size()) + " times (desync: the hidden request was answered)";
        else if (!c.expect.count(ex.responses[0].status)) why = "wrong status";
        else if (!ex.unparsed.empty()) why = "bytes after the response";
        else if (!ex.closed) why = "connection left open after the refusal";
        else if (ex.responses[0].status == 400 && errorOf(ex.responses[0]).rfind("malformed request", 0) != 0)
            why = "400 without a JSON {\"error\":\"malformed request: ...\"} body";
        else if (ex.responses[0].status != 400 && errorOf(ex.responses[0]).empty()) why = "refusal without a JSON error body";
        if (why.empty()) continue;
        ++failed;
        std::string want;
        for (int s : c.expect) want += (want.empty() ? "" : "/") + std::to_string(s);
        ADD_FAILURE() << c.name << ": " << why << "\n  sent:     " << printable(c.request, 400) << "\n  expected: one " << want
                      << " and the connection closed\n  got:      " << ex.summary();
    }
    std::cout << "[ smuggling ] " << corpus.size() - static_cast<size_t>(failed) << " of " << corpus.size()
              << " cases refused correctly\n";
    // The refusals left the host serving, and none of them stored anything.
    EXPECT_EQ(http("GET", host_->port(), "/healthz").status, 200);
    EXPECT_EQ(host_->stored("chat"), 0) << tail(host_->output());
}

TEST_F(HttpFrontParsing, ValidEdgeCasesStillWork) {
    const int port = host_->port();
    const int64_t storedBefore = host_->stored("chat");
    int expectStored = 0;
    ExchangeOptions two;
    two.responses = 2;
    {
        SCOPED_TRACE("chunked body with upper-case hex sizes and a chunk extension, then a request on the same connection");
        const std::string body = chatMessage("edge-chunked-1");
        std::string chunks;
        for (size_t at = 0; at < body.size(); at += 26) {
            std::string part = body.substr(at, 26);
            std::string size = hex(part.size());
            for (auto& ch : size) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            chunks += size + (at == 0 ? ";ext=1" : "") + "\r\n" + part + "\r\n";
        }
        auto ex = exchange(port, kPost + "Transfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n" + kHealthz, two);
        ASSERT_EQ(ex.responses.size(), 2u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
        EXPECT_NE(ex.responses[0].body.find("\"stored\""), std::string::npos) << ex.summary();
        EXPECT_EQ(ex.responses[1].status, 200) << ex.summary();
        EXPECT_TRUE(ex.unparsed.empty()) << ex.summary();
        ++expectStored;
    }
    {
        SCOPED_TRACE("'Transfer-Encoding: Chunked' (codings are case-insensitive) with a trailer field");
        auto ex = exchange(port, kPost + "Transfer-Encoding: Chunked\r\n\r\n" + chunk(chatMessage("edge-chunked-2")) +
                                     "0\r\nX-Trailer: done\r\n\r\n" + kHealthz,
                           two);
        ASSERT_EQ(ex.responses.size(), 2u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
        EXPECT_EQ(ex.responses[1].status, 200) << ex.summary();
        ++expectStored;
    }
    {
        SCOPED_TRACE("GET /healthz with Content-Length: 4 and a 4-byte body, then another request");
        auto ex = exchange(port, kGet + "Content-Length: 4\r\n\r\nabcd" + kHealthz, two);
        ASSERT_EQ(ex.responses.size(), 2u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
        EXPECT_EQ(ex.responses[1].status, 200) << ex.summary();
        EXPECT_TRUE(ex.unparsed.empty()) << ex.summary();
        EXPECT_FALSE(ex.closed) << ex.summary();
    }
    {
        SCOPED_TRACE("Content-Length with tab and trailing space (OWS), lower-case field name");
        auto ex = exchange(port, "GET /healthz HTTP/1.1\r\nhost: sb\r\ncontent-length:\t4 \r\n\r\nabcd" + kHealthz, two);
        ASSERT_EQ(ex.responses.size(), 2u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
        EXPECT_EQ(ex.responses[1].status, 200) << ex.summary();
    }
    {
        SCOPED_TRACE("HTAB and obs-text (0xE9) inside a field value");
        ExchangeOptions one;
        one.responses = 1;
        auto ex = exchange(port, kGet + "X-Name: caf\xe9\tau lait\r\n\r\n", one);
        ASSERT_EQ(ex.responses.size(), 1u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
    }
    {
        SCOPED_TRACE("HTTP/1.0 without Host: answered, then closed (1.0 does not keep alive by default)");
        auto ex = exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
        ASSERT_EQ(ex.responses.size(), 1u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
        EXPECT_EQ(json::parse(ex.responses[0].body, nullptr, false), json({{"status", "ok"}})) << ex.summary();
        EXPECT_TRUE(ex.closed) << ex.summary();
    }
    {
        SCOPED_TRACE("three pipelined requests in one write: answered in order, then closed as the last asked");
        const std::string pipelined = kHealthz + postChat(chatMessage("edge-pipelined")) +
                                      "GET /readyz HTTP/1.1\r\nHost: sb\r\nConnection: close\r\n\r\n";
        auto ex = exchange(port, pipelined);
        ASSERT_EQ(ex.responses.size(), 3u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200);
        EXPECT_EQ(json::parse(ex.responses[0].body, nullptr, false), json({{"status", "ok"}})) << ex.summary();
        EXPECT_EQ(ex.responses[1].status, 200);
        EXPECT_EQ(json::parse(ex.responses[1].body, nullptr, false), json({{"id", "edge-pipelined"}, {"status", "stored"}}))
            << ex.summary();
        EXPECT_EQ(ex.responses[2].status, 200);
        EXPECT_NE(ex.responses[2].body.find("ready"), std::string::npos) << ex.summary();
        EXPECT_TRUE(ex.closed) << ex.summary();
        EXPECT_TRUE(ex.unparsed.empty()) << ex.summary();
        ++expectStored;
    }
    {
        SCOPED_TRACE("a request arriving in pieces (split inside the request line, a field and the body)");
        const std::string req = postChat(chatMessage("edge-pieces"));
        Connection conn(port);
        ASSERT_TRUE(conn.ok());
        ASSERT_TRUE(conn.send(req.substr(0, 7)));
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(conn.send(req.substr(7, 40)));
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(conn.send(req.substr(47, req.size() - 47 - 10)));
        std::this_thread::sleep_for(100ms);
        auto r = conn.request(req.substr(req.size() - 10));
        EXPECT_EQ(r.status, 200) << conn.last().summary();
        ++expectStored;
    }
    {
        SCOPED_TRACE("a body of exactly max_body_bytes (1 MiB) is taken");
        std::string body = chatMessage("edge-max-body", 0);
        body = chatMessage("edge-max-body", 1048576 - body.size());
        ASSERT_EQ(body.size(), 1048576u);
        ExchangeOptions one;
        one.responses = 1;
        one.timeout = 15s;
        auto ex = exchange(port, postChat(body), one);
        ASSERT_EQ(ex.responses.size(), 1u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 200) << ex.summary();
        ++expectStored;
    }
    EXPECT_EQ(host_->stored("chat") - storedBefore, expectStored);
}

// ---------------------------------------------------------------------------------------------
// (b) Slowloris at scale

// Many client connections driven from one thread with epoll: idle keep-alive clients (one
// answered request, then silence), slowloris clients (a partial head, one more byte every
// second) and a slow-body client.
class Crowd {
public:
    enum class Kind : uint8_t { Idle, Slow, SlowBody };
    struct Conn {
        Kind kind = Kind::Idle;
        int fd = -1;
        bool connected = false, closed = false, failed = false, reset = false;
        Clock::time_point started, connectedAt, closedAt, nextSend;
        std::string pending;
        std::string in;
        size_t bodySent = 0;
    };

    explicit Crowd(int port) : port_(port), ep_(::epoll_create1(EPOLL_CLOEXEC)) {}
    ~Crowd() {
        for (auto& c : conns_)
            if (c.fd >= 0) ::close(c.fd);
        ::close(ep_);
    }

    // Starts a connection from 127.0.0.<2 + n % 249>; false when the socket could not be made.
    bool open(Kind kind, const std::string& src) {
        int fd = startConnect(port_, src);
        if (fd < 0) {
            ++socketErrors;
            return false;
        }
        Conn c;
        c.kind = kind;
        c.fd = fd;
        c.started = Clock::now();
        conns_.push_back(std::move(c));
        const uint32_t index = static_cast<uint32_t>(conns_.size() - 1);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u32 = index;
        ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
        ++connecting_[static_cast<int>(kind)];
        if (kind == Kind::Slow) slowList_.push_back(index);
        if (kind == Kind::Idle) idleConnecting_.push_back(index);
        if (kind == Kind::SlowBody) slowBody_ = index;
        return true;
    }

    // One round: events for up to `wait`, then the slow clients' next bytes.
    void step(std::chrono::milliseconds wait) {
        epoll_event events[512];
        int n = ::epoll_wait(ep_, events, 512, static_cast<int>(wait.count()));
        for (int i = 0; i < n; ++i) onEvent(events[i].data.u32, events[i].events);
        const auto now = Clock::now();
        // The timers below have 1 s and 500 ms periods: scanning every 50 ms is precise enough
        // and keeps this client from eating the CPU the host needs.
        if (now - lastScan_ < 50ms) return;
        lastScan_ = now;
        size_t keep = 0;
        for (size_t i = 0; i < slowList_.size(); ++i) {
            Conn& c = conns_[slowList_[i]];
            if (c.closed || c.failed) continue;
            slowList_[keep++] = slowList_[i];
            if (!c.connected && now - c.started > 10s) {
                fail(slowList_[i]);
                continue;
            }
            if (c.connected && now >= c.nextSend) {
                c.pending += 'a';  // one more byte of the never-ending X-Slowloris value
                c.nextSend = now + 1s;
                flush(slowList_[i]);
            }
        }
        slowList_.resize(keep);
        if (slowBody_ != kNone) {
            Conn& c = conns_[slowBody_];
            if (c.connected && !c.closed && now >= c.nextSend && c.bodySent < kSlowBodyLength) {
                std::string piece = std::string(std::min<size_t>(8, kSlowBodyLength - c.bodySent), ' ');
                c.bodySent += piece.size();
                c.pending += piece;
                c.nextSend = now + 500ms;
                flush(slowBody_);
            }
        }
        size_t kept = 0;
        for (size_t i = 0; i < idleConnecting_.size(); ++i) {
            Conn& c = conns_[idleConnecting_[i]];
            if (c.connected || c.closed || c.failed) continue;
            if (now - c.started > 10s) fail(idleConnecting_[i]);
            else idleConnecting_[kept++] = idleConnecting_[i];
        }
        idleConnecting_.resize(kept);
    }

    int connecting(Kind k) const { return connecting_[static_cast<int>(k)]; }
    int openCount(Kind k) const { return open_[static_cast<int>(k)]; }
    std::vector<Conn>& conns() { return conns_; }
    const Conn* slowBody() const { return slowBody_ == kNone ? nullptr : &conns_[slowBody_]; }

    static constexpr size_t kSlowBodyLength = 4096;
    static const std::string& slowHead() {
        static const std::string head = "GET /healthz HTTP/1.1\r\nHost: sb\r\nUser-Agent: slowloris\r\nX-Slowloris: ";
        return head;
    }
    static const std::string& slowBodyHead() {
        static const std::string head = "POST /webhooks/chat HTTP/1.1\r\nHost: sb\r\nContent-Type: application/json\r\n"
                                        "Content-Length: " + std::to_string(kSlowBodyLength) + "\r\n\r\n";
        return head;
    }
    int socketErrors = 0;

private:
    static constexpr uint32_t kNone = 0xffffffffu;

    void onEvent(uint32_t index, uint32_t events) {
        Conn& c = conns_[index];
        if (c.closed || c.failed) return;
        if (!c.connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                fail(index);
                return;
            }
            c.connected = true;
            c.connectedAt = Clock::now();
            --connecting_[static_cast<int>(c.kind)];
            ++open_[static_cast<int>(c.kind)];
            if (c.kind == Kind::Idle) c.pending = kHealthz;
            else if (c.kind == Kind::Slow) c.pending = slowHead();
            else c.pending = slowBodyHead();
            c.nextSend = c.connectedAt + (c.kind == Kind::Slow ? 1s : 500ms);
            flush(index);
        }
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            char buf[4096];
            while (true) {
                ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
                if (r > 0) {
                    c.in.append(buf, static_cast<size_t>(r));
                    continue;
                }
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                c.reset = r < 0 && errno == ECONNRESET;
                closeConn(index);
                return;
            }
        }
        if ((events & EPOLLOUT) && !c.pending.empty()) flush(index);
    }

    void flush(uint32_t index) {
        Conn& c = conns_[index];
        while (!c.pending.empty()) {
            ssize_t w = ::send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
            if (w > 0) {
                c.pending.erase(0, static_cast<size_t>(w));
                continue;
            }
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            // The server closed: what it sent (if anything) is read on the next EPOLLIN.
            c.pending.clear();
            break;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (c.pending.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
        ev.data.u32 = index;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void closeConn(uint32_t index) {
        Conn& c = conns_[index];
        ::close(c.fd);
        c.fd = -1;
        c.closed = true;
        c.closedAt = Clock::now();
        --open_[static_cast<int>(c.kind)];
    }

    void fail(uint32_t index) {
        Conn& c = conns_[index];
        if (c.fd >= 0) ::close(c.fd);
        c.fd = -1;
        c.failed = true;
        if (!c.connected) --connecting_[static_cast<int>(c.kind)];
        else --open_[static_cast<int>(c.kind)];
    }

    int port_;
    int ep_;
    std::vector<Conn> conns_;
    std::vector<uint32_t> slowList_;
    std::vector<uint32_t> idleConnecting_;  // to time out connects that never complete
    uint32_t slowBody_ = kNone;
    Clock::time_point lastScan_{};
    int connecting_[3] = {0, 0, 0};
    int open_[3] = {0, 0, 0};
};

std::string clientAddress(size_t n) { return "127.0.0." + std::to_string(2 + n % 249); }

struct NormalResult {
    bool webhook = false;
    int status = 0;
    bool stored = false;
    double ms = 0;
    int slowOpen = 0;  // slowloris connections open when it started
};

// One request on a fresh connection from 127.0.0.1, timed from connect to the full response.
NormalResult timedRequest(int port, const std::string& request, bool webhook, std::chrono::milliseconds timeout) {
    NormalResult r;
    r.webhook = webhook;
    const auto start = Clock::now();
    ExchangeOptions o;
    o.responses = 1;
    o.linger = 0ms;
    o.timeout = timeout;
    auto ex = exchange(port, request, o);
    r.ms = msSince(start);
    if (!ex.responses.empty()) {
        r.status = ex.responses[0].status;
        r.stored = ex.responses[0].body.find("\"stored\"") != std::string::npos;
    }
    return r;
}

TEST(HttpFrontSlowClients, SlowlorisIdleAndSlowBodyClientsDoNotDelayNormalWebhooks) {
    constexpr int kIdle = 2000, kSlow = 5000, kNormalWebhooks = 300, kBaseline = 50;
    constexpr auto kHeaderTimeout = 3s;
    // The bound the issue sets for normal requests while the attack runs. Sanitizer builds are
    // several times slower at everything: there the bound is relaxed, the rest is asserted as is.
    constexpr double kLatencyBoundMs = kSanitized ? 250 : 50;
    raiseFdLimit(20000);
    ASSERT_GE(fdLimit(), static_cast<rlim_t>(kIdle + kSlow + 1000)) << "RLIMIT_NOFILE too low for this test";

    FrontHost host("  header_timeout: 3s\n  keepalive_timeout: 120s\n  body_timeout: 2s\n  min_body_rate: 1KiB\n");
    const int port = host.port();
    Crowd crowd(port);

    // Baseline: the normal client alone.
    std::vector<double> baseline;
    for (int i = 0; i < kBaseline; ++i) {
        auto w = timedRequest(port, postChat(chatMessage("base-" + std::to_string(i))), true, 5s);
        ASSERT_EQ(w.status, 200) << host.output();
        baseline.push_back(w.ms);
        baseline.push_back(timedRequest(port, kHealthz, false, 5s).ms);
    }
    std::cout << "[ slowloris ] baseline (no attack): " << str(percentiles(baseline)) << "\n";

    // 2,000 idle keep-alive connections: one answered request each, then silence.
    const auto idleStart = Clock::now();
    size_t opened = 0;
    while (Clock::now() - idleStart < 30s) {
        while (opened < static_cast<size_t>(kIdle) && crowd.connecting(Crowd::Kind::Idle) < 256) {
            crowd.open(Crowd::Kind::Idle, clientAddress(opened));
            ++opened;
        }
        crowd.step(10ms);
        if (opened < static_cast<size_t>(kIdle)) continue;
        size_t answered = 0;
        for (const auto& c : crowd.conns())
            if (c.kind == Crowd::Kind::Idle && c.in.find("\r\n\r\n") != std::string::npos) ++answered;
        if (opened == static_cast<size_t>(kIdle) && answered + static_cast<size_t>(crowd.socketErrors) >= static_cast<size_t>(kIdle))
            break;
        bool pending = crowd.connecting(Crowd::Kind::Idle) > 0;
        if (opened == static_cast<size_t>(kIdle) && !pending && Clock::now() - idleStart > 20s) break;
    }
    int idleAnswered = 0;
    for (const auto& c : crowd.conns())
        if (c.kind == Crowd::Kind::Idle) {
            auto rs = parseResponses(c.in, false);
            if (rs.size() == 1 && rs[0].status == 200) ++idleAnswered;
        }
    EXPECT_EQ(idleAnswered, kIdle) << "idle clients whose first request was answered (in "
                                   << static_cast<int>(msSince(idleStart)) << " ms)";
    std::cout << "[ slowloris ] " << idleAnswered << " idle keep-alive connections answered and open after "
              << static_cast<int>(msSince(idleStart)) << " ms\n";

    // The attack: 5,000 slowloris connections kept up (each one the server drops is replaced)
    // from 249 addresses, plus one slow-body client, while the normal client runs.
    std::atomic<int> slowOpen{0};
    std::atomic<bool> normalStarted{false}, normalDone{false};
    std::vector<NormalResult> normal;
    std::thread normalClient([&] {
        while (!normalStarted) std::this_thread::sleep_for(5ms);
        const auto start = Clock::now();
        // At least 300 webhooks, and for at least 2.5 x header_timeout, so the normal traffic
        // also meets a wave of slowloris connections being dropped and replaced.
        for (int i = 0; (i < kNormalWebhooks || Clock::now() - start < kHeaderTimeout * 5 / 2) &&
                        Clock::now() - start < 40s;
             ++i) {
            int open = slowOpen;
            auto w = timedRequest(port, postChat(chatMessage("normal-" + std::to_string(i))), true, 5s);
            w.slowOpen = open;
            normal.push_back(w);
            open = slowOpen;
            auto h = timedRequest(port, kHealthz, false, 5s);
            h.slowOpen = open;
            normal.push_back(h);
        }
        normalDone = true;
    });
    const auto attackStart = Clock::now();
    crowd.open(Crowd::Kind::SlowBody, "127.0.0.251");
    size_t slowMade = 0;
    int peakSlow = 0;
    while (!normalDone) {
        while (crowd.openCount(Crowd::Kind::Slow) + crowd.connecting(Crowd::Kind::Slow) < kSlow &&
               crowd.connecting(Crowd::Kind::Slow) < 512) {
            crowd.open(Crowd::Kind::Slow, clientAddress(slowMade++));
        }
        crowd.step(5ms);
        slowOpen = crowd.openCount(Crowd::Kind::Slow);
        peakSlow = std::max(peakSlow, slowOpen.load());
        if (!normalStarted && (slowOpen >= kSlow * 9 / 10 || Clock::now() - attackStart > 20s)) {
            std::cout << "[ slowloris ] " << slowOpen << " slowloris connections open after "
                      << static_cast<int>(msSince(attackStart)) << " ms: normal client starts\n";
            normalStarted = true;
        }
    }
    normalClient.join();
    // How late a drop may come here: 5,000 connections opened within a second expire within a
    // second, and the host closes them all in that wave (measured: up to ~2 s late on 2 cores,
    // Debug build). The precise timing is HttpFrontTimeouts.HeaderTimeoutDropsSilentAndTricklingClients;
    // this bound only has to show that none of them is kept.
    constexpr auto kDropBound = kHeaderTimeout + std::max<std::chrono::milliseconds>(kSlack, kHeaderTimeout);
    // No new slowloris connections: every one left must be dropped within kDropBound.
    const auto drainStart = Clock::now();
    while (Clock::now() - drainStart < kDropBound + 1s) {
        crowd.step(10ms);
        const auto* sb = crowd.slowBody();
        if (crowd.openCount(Crowd::Kind::Slow) + crowd.connecting(Crowd::Kind::Slow) == 0 && (!sb || sb->closed || sb->failed))
            break;
    }

    // Normal requests: all answered, within the latency bound.
    std::vector<double> lat;
    std::vector<int> during;
    int webhooks = 0, acknowledged = 0, healthy = 0;
    std::map<int, int> statuses;
    for (const auto& r : normal) {
        lat.push_back(r.ms);
        during.push_back(r.slowOpen);
        statuses[r.status]++;
        if (r.webhook) {
            ++webhooks;
            if (r.status == 200 && r.stored) ++acknowledged;
        } else if (r.status == 200) {
            ++healthy;
        }
    }
    std::sort(during.begin(), during.end());
    const int medianDuring = during.empty() ? 0 : during[during.size() / 2];
    const auto p = percentiles(lat);
    const auto over = std::count_if(lat.begin(), lat.end(), [&](double ms) { return ms >= kLatencyBoundMs; });
    std::string seen;
    for (const auto& [s, n] : statuses) seen += std::to_string(s) + "x" + std::to_string(n) + " ";
    std::cout << "[ slowloris ] under attack: " << normal.size() << " normal requests (" << seen << "), " << str(p)
              << "; slowloris connections open during them: median " << medianDuring << ", peak " << peakSlow
              << ", made " << slowMade << "; " << over << " at or over " << kLatencyBoundMs << " ms\n";
    EXPECT_GE(webhooks, kNormalWebhooks) << "the normal client ran out of time";
    EXPECT_EQ(acknowledged, webhooks) << seen;
    EXPECT_EQ(healthy, static_cast<int>(normal.size()) - webhooks) << seen;
    EXPECT_LT(p.p99, kLatencyBoundMs) << str(p);
    EXPECT_GE(medianDuring, kSlow * 4 / 5) << "the normal requests did not run against the full attack";

    // Nothing lost: every acknowledged webhook is stored, once.
    EXPECT_EQ(host.stored("chat"), kBaseline + acknowledged) << tail(host.output());

    // Slowloris connections: each dropped by the server, with 408 or nothing, header_timeout
    // after it connected (not before: a slow but honest client gets the configured time).
    const double ht = std::chrono::duration<double, std::milli>(kHeaderTimeout).count();
    int slowConnected = 0, slowFailed = 0, slow408 = 0, slowSilent = 0, stillOpen = 0, wrongAnswer = 0, early = 0, late = 0;
    std::vector<double> lifetimes;
    std::string example;
    for (const auto& c : crowd.conns()) {
        if (c.kind != Crowd::Kind::Slow) continue;
        if (c.failed || !c.connected) {
            ++slowFailed;
            continue;
        }
        ++slowConnected;
        if (!c.closed) {
            ++stillOpen;
            continue;
        }
        const double life = std::chrono::duration<double, std::milli>(c.closedAt - c.connectedAt).count();
        lifetimes.push_back(life);
        if (c.in.empty()) ++slowSilent;
        else if (c.in.rfind("HTTP/1.1 408", 0) == 0 || c.in.rfind("HTTP/1.0 408", 0) == 0) ++slow408;
        else {
            ++wrongAnswer;
            if (example.empty()) example = printable(c.in, 300);
        }
        // Early is measured from the connect() call, which is before the host's accept whatever
        // this busy client loop's own delays: only a drop that is surely early counts.
        if (std::chrono::duration<double, std::milli>(c.closedAt - c.started).count() < ht - 300) ++early;
        if (life > std::chrono::duration<double, std::milli>(kDropBound).count()) ++late;
    }
    std::cout << "[ slowloris ] slowloris connections: " << slowConnected << " connected (" << slowFailed
              << " could not connect), dropped with 408: " << slow408 << ", silently: " << slowSilent
              << ", still open: " << stillOpen << "; lifetimes " << str(percentiles(lifetimes)) << "\n";
    EXPECT_GE(slowConnected, kSlow);
    EXPECT_EQ(slowFailed, 0) << "slowloris connections that could not connect within 10 s";
    EXPECT_EQ(stillOpen, 0) << "slowloris connections the server never dropped";
    EXPECT_EQ(wrongAnswer, 0) << "a slowloris connection got something other than 408, e.g. " << example;
    EXPECT_EQ(early, 0) << "dropped before header_timeout (3 s)";
    EXPECT_EQ(late, 0) << "dropped later than " << kDropBound.count() << " ms (header_timeout 3 s)";

    // The slow-body client: body_timeout 2s + 4096 B / 1 KiB/s = 6 s, then 408 and closed.
    const auto* sb = crowd.slowBody();
    ASSERT_NE(sb, nullptr);
    EXPECT_TRUE(sb->connected);
    EXPECT_TRUE(sb->closed) << "the slow-body client is still connected after " << static_cast<int>(msSince(attackStart))
                            << " ms; received " << printable(sb->in);
    if (sb->closed) {
        const double life = std::chrono::duration<double, std::milli>(sb->closedAt - sb->connectedAt).count();
        EXPECT_EQ(sb->in.rfind("HTTP/1.1 408", 0), 0u) << printable(sb->in);
        EXPECT_LT(life, 6000 + kSlackMs);
        std::cout << "[ slowloris ] slow-body client dropped after " << static_cast<int>(life) << " ms\n";
    }

    // Idle keep-alive connections: idle far less than keepalive_timeout (120 s), so still
    // open, sent nothing unasked, and usable.
    int idleOpen = 0, idleExtra = 0;
    std::vector<int> idleFds;
    for (auto& c : crowd.conns()) {
        if (c.kind != Crowd::Kind::Idle || !c.connected) continue;
        size_t used = 0;
        auto rs = parseResponses(c.in, c.closed, &used);
        if (rs.size() > 1 || used != c.in.size()) ++idleExtra;
        if (!c.closed && !c.failed) {
            ++idleOpen;
            if (idleFds.size() < 20) idleFds.push_back(c.fd);
        }
    }
    EXPECT_EQ(idleOpen, kIdle) << "idle keep-alive connections closed before keepalive_timeout";
    EXPECT_EQ(idleExtra, 0) << "idle connections that received bytes nobody asked for";
    int reused = 0;
    for (int fd : idleFds) {
        ExchangeOptions o;
        o.responses = 1;
        o.linger = 0ms;
        auto ex = exchangeOn(fd, kHealthz, o);
        if (ex.responses.size() == 1 && ex.responses[0].status == 200) ++reused;
    }
    EXPECT_EQ(reused, static_cast<int>(idleFds.size())) << "idle keep-alive connections that no longer answer";
    EXPECT_TRUE(host.alive()) << tail(host.output());
}

// ---------------------------------------------------------------------------------------------
// (c) Connection limits and timeouts

// A refused connection: 503 with Retry-After and a JSON error, then closed. The refusal may
// come at once or after a request is sent; both are accepted.
void expectRefusedConnection(int port, const std::string& src) {
    int fd = connectTo(port, src);
    ASSERT_GE(fd, 0) << "from " << src << ": the connection was refused at the TCP level, not with a 503";
    ExchangeOptions o;
    o.timeout = 1000ms;
    auto ex = exchangeOn(fd, {}, o);
    if (ex.responses.empty() && !ex.closed) {
        o.timeout = kSanitized ? 8000ms : 4000ms;
        ex = exchangeOn(fd, kHealthz, o);
    }
    ::close(fd);
    ASSERT_EQ(ex.responses.size(), 1u) << "from " << src << ": " << ex.summary();
    EXPECT_EQ(ex.responses[0].status, 503) << ex.summary();
    EXPECT_TRUE(ex.responses[0].has("retry-after")) << ex.summary();
    EXPECT_FALSE(errorOf(ex.responses[0]).empty()) << "503 without a JSON error body: " << ex.summary();
    EXPECT_TRUE(ex.closed) << ex.summary();
}

TEST(HttpFrontLimits, PerClientAddressLimit) {
    FrontHost host("  max_connections_per_client: 3\n");
    const int port = host.port();
    // The host may still be closing the start-up probe connections (from 127.0.0.1 too): wait
    // until three connections of ours are all answered.
    std::vector<std::unique_ptr<Connection>> mine;
    ASSERT_TRUE(waitFor([&] {
        mine.clear();
        for (int i = 0; i < 3; ++i) {
            mine.push_back(std::make_unique<Connection>(port, "127.0.0.1"));
            if (!mine.back()->ok() || mine.back()->request(kHealthz, 2000ms).status != 200) return false;
        }
        return true;
    }, 10s)) << "three connections from 127.0.0.1 are within max_connections_per_client: 3";
    {
        SCOPED_TRACE("the 4th connection from 127.0.0.1");
        expectRefusedConnection(port, "127.0.0.1");
    }
    // Another address is not affected: three connections from 127.0.0.2 all work.
    std::vector<std::unique_ptr<Connection>> theirs;
    for (int i = 0; i < 3; ++i) {
        theirs.push_back(std::make_unique<Connection>(port, "127.0.0.2"));
        ASSERT_TRUE(theirs.back()->ok());
        EXPECT_EQ(theirs.back()->request(kHealthz).status, 200) << theirs.back()->last().summary();
    }
    // The three from 127.0.0.1 still work.
    for (auto& c : mine) EXPECT_EQ(c->request(kHealthz).status, 200) << c->last().summary();
    // One of them goes away: a new one from 127.0.0.1 is taken again.
    mine.back()->close();
    EXPECT_TRUE(waitFor([&] {
        Connection c(port, "127.0.0.1");
        return c.ok() && c.request(kHealthz, 2000ms).status == 200;
    }, 5s)) << "a slot freed by a closed connection was not given back";
}

TEST(HttpFrontLimits, GlobalConnectionLimit) {
    FrontHost host("  max_connections: 4\n  max_connections_per_client: 0\n");
    const int port = host.port();
    // The host may still be closing the probe connections of the start-up: wait until four
    // connections of ours are all answered.
    std::vector<std::unique_ptr<Connection>> open;
    ASSERT_TRUE(waitFor([&] {
        open.clear();
        for (int i = 0; i < 4; ++i) {
            open.push_back(std::make_unique<Connection>(port, "127.0.0." + std::to_string(10 + i)));
            if (!open.back()->ok() || open.back()->request(kHealthz, 2000ms).status != 200) return false;
        }
        return true;
    }, 10s));
    {
        SCOPED_TRACE("a 5th connection from yet another address");
        expectRefusedConnection(port, "127.0.0.20");
    }
    open.front()->close();
    EXPECT_TRUE(waitFor([&] {
        Connection c(port, "127.0.0.21");
        return c.ok() && c.request(kHealthz, 2000ms).status == 200;
    }, 5s));
}

// The client address a plugin is given (remote_addr), as the slow_webhook fixture reports it,
// without a ":port" suffix if the host adds one.
std::string remoteAddrSeen(int port, const std::string& src, const std::string& forwardedFor) {
    ExchangeOptions o;
    o.src = src;
    o.responses = 1;
    o.linger = 0ms;
    const std::string extra = forwardedFor.empty() ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n";
    auto ex = exchange(port, postChat("{}", "echo", extra), o);
    if (ex.responses.empty() || ex.responses[0].status != 200) return "(no answer: " + ex.summary() + ")";
    auto j = json::parse(ex.responses[0].body, nullptr, false);
    std::string addr = j.is_object() ? j.value("remote_addr", "(none)") : "(not JSON)";
    if (std::count(addr.begin(), addr.end(), ':') == 1) addr = addr.substr(0, addr.find(':'));
    return addr;
}

TEST(HttpFrontLimits, ForwardedForIsBelievedOnlyFromTrustedProxies) {
    FrontHost host("  trusted_proxies: [127.0.0.5, 127.0.1.0/24]\n",
                   "  - name: echo\n    plugin: slow_webhook\n", {slowFixtureDir()});
    const int port = host.port();
    EXPECT_EQ(remoteAddrSeen(port, "127.0.0.6", "203.0.113.7"), "127.0.0.6") << "an untrusted peer's header is ignored";
    EXPECT_EQ(remoteAddrSeen(port, "127.0.0.5", ""), "127.0.0.5") << "a trusted peer without the header";
    EXPECT_EQ(remoteAddrSeen(port, "127.0.0.5", "203.0.113.7"), "203.0.113.7") << "a trusted proxy";
    EXPECT_EQ(remoteAddrSeen(port, "127.0.1.3", "203.0.113.8"), "203.0.113.8") << "a proxy trusted by CIDR";
    EXPECT_EQ(remoteAddrSeen(port, "127.0.0.5", "198.51.100.1, 127.0.1.9"), "198.51.100.1")
        << "trusted hops in the chain are skipped";
    EXPECT_EQ(remoteAddrSeen(port, "127.0.0.5", "6.6.6.6, 203.0.113.9"), "203.0.113.9")
        << "the nearest untrusted address counts, not the left-most one a client can forge";
}

TEST(HttpFrontTimeouts, IdleKeepAliveConnectionIsClosedAfterKeepaliveTimeout) {
    FrontHost host("  keepalive_timeout: 1s\n");
    const int port = host.port();
    Connection idle(port);
    ASSERT_TRUE(idle.ok());
    ASSERT_EQ(idle.request(kHealthz).status, 200);
    auto ex = idle.waitClosed(5000ms);
    EXPECT_TRUE(ex.closed) << "an idle keep-alive connection was still open 5 s later (keepalive_timeout: 1s)";
    EXPECT_TRUE(ex.received.empty()) << "closing an idle connection must not send a response: " << printable(ex.received);
    EXPECT_GT(ex.closedAfterMs, 700);
    EXPECT_LT(ex.closedAfterMs, 1000 + kSlackMs);

    // A busy connection is not idle: a request every 400 ms for 3 s keeps it open.
    Connection busy(port);
    ASSERT_TRUE(busy.ok());
    for (int i = 0; i < 8; ++i) {
        EXPECT_EQ(busy.request(kHealthz).status, 200) << "request " << i << ": " << busy.last().summary();
        std::this_thread::sleep_for(400ms);
    }
}

TEST(HttpFrontTimeouts, HeaderTimeoutDropsSilentAndTricklingClients) {
    FrontHost host("  header_timeout: 1s\n  keepalive_timeout: 30s\n");
    const int port = host.port();
    const double upper = 1000 + kSlackMs;
    {
        SCOPED_TRACE("connected, sends nothing");
        Connection c(port);
        ASSERT_TRUE(c.ok());
        auto ex = c.waitClosed(5000ms);
        EXPECT_TRUE(ex.closed) << ex.summary();
        EXPECT_TRUE(ex.received.empty() || ex.received.rfind("HTTP/1.1 408", 0) == 0) << ex.summary();
        EXPECT_GT(ex.closedAfterMs, 700);
        EXPECT_LT(ex.closedAfterMs, upper);
    }
    {
        SCOPED_TRACE("a head trickled one byte every 200 ms");
        Connection c(port);
        ASSERT_TRUE(c.ok());
        const auto start = Clock::now();
        const std::string head = kGet + "X-Trickle: " + std::string(100, 'a');
        Exchange ex;
        for (char ch : head) {
            if (!c.send(std::string(1, ch))) break;
            ExchangeOptions o;
            o.timeout = 200ms;
            ex = exchangeOn(c.fd(), {}, o);
            if (ex.closed || !ex.received.empty()) break;
            if (Clock::now() - start > 6s) break;
        }
        const double elapsed = msSince(start);
        ex = c.finishClosing(ex, 3000ms);
        ASSERT_EQ(ex.responses.size(), 1u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 408) << ex.summary();
        EXPECT_TRUE(ex.closed) << ex.summary();
        EXPECT_LT(elapsed, upper + 500);
        EXPECT_GT(elapsed, 700);
    }
    {
        SCOPED_TRACE("a keep-alive connection with part of a second head, then silence");
        Connection c(port);
        ASSERT_TRUE(c.ok());
        ASSERT_EQ(c.request(kHealthz).status, 200);
        std::this_thread::sleep_for(300ms);
        ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHo"));
        auto ex = c.waitClosed(5000ms);
        EXPECT_TRUE(ex.closed) << ex.summary();
        ASSERT_EQ(ex.responses.size(), 1u) << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 408) << ex.summary();
        EXPECT_LT(ex.closedAfterMs, upper);
    }
    {
        SCOPED_TRACE("a head sent in three pieces within 600 ms is answered");
        Connection c(port);
        ASSERT_TRUE(c.ok());
        ASSERT_TRUE(c.send("GET /hea"));
        std::this_thread::sleep_for(300ms);
        ASSERT_TRUE(c.send("lthz HTTP/1.1\r\nHo"));
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(c.request("st: sb\r\n\r\n").status, 200) << c.last().summary();
    }
}

TEST(HttpFrontTimeouts, SlowBodyIsDroppedButAClientAboveTheMinimumRateIsServed) {
    FrontHost host("  body_timeout: 1s\n  min_body_rate: 1KiB\n");
    const int port = host.port();
    {
        SCOPED_TRACE("1 KiB body at 64 B/s: deadline 1 s + 1 KiB / (1 KiB/s) = 2 s");
        const std::string body = chatMessage("slow-body", 1024 - chatMessage("slow-body", 0).size());
        ASSERT_EQ(body.size(), 1024u);
        const std::string req = postChat(body);
        const size_t headSize = req.size() - body.size();
        Connection c(port);
        ASSERT_TRUE(c.ok());
        ASSERT_TRUE(c.send(req.substr(0, headSize)));
        const auto start = Clock::now();
        Exchange ex;
        for (size_t at = 0; at < body.size(); at += 16) {
            if (!c.send(body.substr(at, 16))) break;
            ExchangeOptions o;
            o.timeout = 250ms;
            ex = exchangeOn(c.fd(), {}, o);
            if (ex.closed || !ex.received.empty()) break;
        }
        const double elapsed = msSince(start);
        ex = c.finishClosing(ex, 3000ms);
        ASSERT_EQ(ex.responses.size(), 1u) << "after " << elapsed << " ms: " << ex.summary();
        EXPECT_EQ(ex.responses[0].status, 408) << ex.summary();
        EXPECT_TRUE(ex.closed) << ex.summary();
        EXPECT_GT(elapsed, 900);
        EXPECT_LT(elapsed, 2000 + kSlackMs);
    }
    {
        SCOPED_TRACE("4 KiB body at 2 KiB/s (twice the minimum rate): 2 s of a 5 s deadline");
        const std::string body = chatMessage("fair-body", 4096 - chatMessage("fair-body", 0).size());
        ASSERT_EQ(body.size(), 4096u);
        const std::string req = postChat(body);
        const size_t headSize = req.size() - body.size();
        Connection c(port);
        ASSERT_TRUE(c.ok());
        ASSERT_TRUE(c.send(req.substr(0, headSize)));
        for (size_t at = 0; at + 256 < body.size(); at += 256) {
            ASSERT_TRUE(c.send(body.substr(at, 256)));
            std::this_thread::sleep_for(125ms);
        }
        auto r = c.request(body.substr(body.size() - 256));
        EXPECT_EQ(r.status, 200) << c.last().summary();
    }
    EXPECT_EQ(host.stored("chat"), 1);
}

// ---------------------------------------------------------------------------------------------
// (d) A stuck plugin does not slow another instance

struct Timed {
    Exchange ex;
    double answeredMs = -1;  // since the burst started; -1 when unanswered
    bool closedAfter = false;
};

// n concurrent requests (one connection each, all connected first, then sent together); each
// is read until its answer, then up to `closeWait` for the server to close.
std::vector<Timed> burst(int port, const std::string& request, int n, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds closeWait = 1500ms) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) fds.push_back(connectTo(port));
    std::vector<Timed> out(static_cast<size_t>(n));
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            Timed& t = out[static_cast<size_t>(i)];
            if (fds[static_cast<size_t>(i)] < 0) return;
            ExchangeOptions o;
            o.responses = 1;
            o.linger = 0ms;
            o.timeout = timeout;
            t.ex = exchangeOn(fds[static_cast<size_t>(i)], request, o);
            if (!t.ex.responses.empty()) {
                t.answeredMs = msSince(start);
                ExchangeOptions c;
                c.timeout = closeWait;
                t.closedAfter = t.ex.closed || exchangeOn(fds[static_cast<size_t>(i)], {}, c).closed;
            }
            ::close(fds[static_cast<size_t>(i)]);
        });
    }
    for (auto& t : threads) t.join();
    return out;
}

TEST(HttpFrontIsolation, AStuckPluginDoesNotSlowAnotherInstance) {
    TempDir scratch;
    const std::string release = scratch.file("release");
    FrontHost host("",
                   "  - name: slow\n    plugin: slow_webhook\n    options: { delay_ms: 20000, release_file: " + release +
                       " }\n    webhooks: { concurrency: 2, queue: 2, timeout: 3s }\n" + kChat,
                   {slowFixtureDir()});
    const int port = host.port();
    const double promptMs = kSanitized ? 1000 : 200;

    std::vector<Timed> slow;
    std::thread burster([&] { slow = burst(port, postChat("{}", "slow"), 10, 15s); });
    std::this_thread::sleep_for(200ms);

    // While `slow` is stuck: chat webhooks and the probes answer promptly.
    const auto probeStart = Clock::now();
    int chatSent = 0, chatOk = 0;
    std::vector<double> chatMs, probeMs;
    std::string slowProbe;
    while (Clock::now() - probeStart < 2500ms) {
        auto t0 = Clock::now();
        auto r = http("POST", port, "/webhooks/chat", chatMessage("iso-" + std::to_string(chatSent++)));
        chatMs.push_back(msSince(t0));
        if (r.status == 200) ++chatOk;
        for (const char* uri : {"/healthz", "/readyz", "/metrics"}) {
            t0 = Clock::now();
            auto p = http("GET", port, uri);
            const double ms = msSince(t0);
            probeMs.push_back(ms);
            if (p.status != 200 || ms > promptMs)
                slowProbe += std::string(uri) + " " + std::to_string(p.status) + " in " + std::to_string(ms) + " ms; ";
        }
    }
    // Give the in-plugin requests time to pass their 3 s deadline, then let the plugin go.
    std::this_thread::sleep_until(probeStart + 4500ms);
    std::ofstream(release) << "go";
    burster.join();

    const auto chatP = percentiles(chatMs);
    std::cout << "[ isolation ] chat while slow is stuck: " << chatOk << "/" << chatSent << " ok, " << str(chatP)
              << "; probes " << str(percentiles(probeMs)) << "\n";
    EXPECT_EQ(chatOk, chatSent);
    EXPECT_LT(chatP.max, promptMs) << "a chat webhook waited behind the stuck instance";
    EXPECT_TRUE(slowProbe.empty()) << slowProbe;
    EXPECT_EQ(host.stored("chat"), chatSent);

    // `slow`: 2 run, 2 wait, the other 6 are refused at once with 503 + Retry-After.
    int atOnce = 0, atOnceWithRetryAfter = 0, deadline503 = 0, deadline503Closed = 0, laterOk = 0, earlyOther = 0;
    std::string table;
    for (const auto& t : slow) {
        const int status = t.ex.responses.empty() ? 0 : t.ex.responses[0].status;
        table += std::to_string(status) + "@" + std::to_string(static_cast<int>(t.answeredMs)) + "ms" +
                 (t.closedAfter ? "(closed) " : " ");
        if (status == 503 && t.answeredMs >= 0 && t.answeredMs < (kSanitized ? 2000 : 1000)) {
            ++atOnce;
            if (t.ex.responses[0].has("retry-after")) ++atOnceWithRetryAfter;
        } else if (status == 503 && t.answeredMs >= 2500) {
            ++deadline503;
            if (t.closedAfter) ++deadline503Closed;
        } else if (status == 200 && t.answeredMs >= 2500) {
            ++laterOk;  // a queued request that ran once the plugin was released
        } else {
            ++earlyOther;
        }
    }
    std::cout << "[ isolation ] slow: " << table << "\n";
    EXPECT_EQ(atOnce, 6) << table;
    EXPECT_EQ(atOnceWithRetryAfter, atOnce) << table;
    EXPECT_EQ(earlyOther, 0) << "answered neither at once with 503 nor after the deadline: " << table;
    EXPECT_GE(deadline503, 2) << "the two requests inside the plugin must get 503 at their 3 s deadline: " << table;
    EXPECT_EQ(deadline503Closed, deadline503) << "a handler past its deadline closes the connection: " << table;
    EXPECT_EQ(deadline503 + laterOk, 4) << table;
    int deadlineInTime = 0;
    for (const auto& t : slow)
        if (!t.ex.responses.empty() && t.ex.responses[0].status == 503 && t.answeredMs >= 2500 &&
            t.answeredMs < 3000 + kSlackMs)
            ++deadlineInTime;
    EXPECT_GE(deadlineInTime, 2) << "503 at the deadline (3 s), not when the plugin returned: " << table;

    // Released, the instance serves again; the plugin never ran more than `concurrency` calls.
    HttpResponse again;
    EXPECT_TRUE(waitFor([&] {
        again = http("POST", port, "/webhooks/slow?delay_ms=0", "{}");
        return again.status == 200;
    }, 15s)) << again.status << " " << again.body;
    if (again.status == 200) {
        auto j = json::parse(again.body, nullptr, false);
        EXPECT_LE(j.value("max_concurrent", 99), 2) << again.body;
    }
}

// ---------------------------------------------------------------------------------------------
// (e) Memory

struct Upload {
    int status = 0;
    bool retryAfter = false;
    bool closed = false;
    std::string body;
};

// n concurrent uploads of the same request bytes from one thread (epoll, non-blocking), each
// read until its answer and until the server closes or `closeWait` passes after it.
std::vector<Upload> uploadConcurrently(int port, const std::string& request, int n, std::chrono::seconds timeout,
                                       std::chrono::milliseconds closeWait = 1000ms) {
    struct State {
        int fd = -1;
        size_t sent = 0;
        std::string in;
        bool answered = false, closed = false;
        Clock::time_point answeredAt;
    };
    std::vector<State> st(static_cast<size_t>(n));
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < n; ++i) {
        st[static_cast<size_t>(i)].fd = connectTo(port);
        if (st[static_cast<size_t>(i)].fd < 0) continue;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        ev.data.u32 = static_cast<uint32_t>(i);
        ::epoll_ctl(ep, EPOLL_CTL_ADD, st[static_cast<size_t>(i)].fd, &ev);
    }
    const auto deadline = Clock::now() + timeout;
    auto finished = [&](const State& s) {
        return s.fd < 0 || s.closed || (s.answered && Clock::now() - s.answeredAt > closeWait);
    };
    while (Clock::now() < deadline) {
        if (std::all_of(st.begin(), st.end(), finished)) break;
        epoll_event events[256];
        int k = ::epoll_wait(ep, events, 256, 20);
        for (int e = 0; e < k; ++e) {
            State& s = st[events[e].data.u32];
            if (s.fd < 0 || s.closed) continue;
            if ((events[e].events & EPOLLOUT) && s.sent < request.size()) {
                ssize_t w = ::send(s.fd, request.data() + s.sent, request.size() - s.sent, MSG_NOSIGNAL);
                if (w > 0) s.sent += static_cast<size_t>(w);
                else if (w < 0 && errno != EAGAIN) s.sent = request.size();  // the server closed: read its answer
                if (s.sent == request.size()) {
                    epoll_event ev{};
                    ev.events = EPOLLIN | EPOLLRDHUP;
                    ev.data.u32 = events[e].data.u32;
                    ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
                }
            }
            if (events[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                char buf[4096];
                while (true) {
                    ssize_t r = ::recv(s.fd, buf, sizeof buf, 0);
                    if (r > 0) {
                        s.in.append(buf, static_cast<size_t>(r));
                        if (!s.answered && !parseResponses(s.in, false).empty()) {
                            s.answered = true;
                            s.answeredAt = Clock::now();
                        }
                        continue;
                    }
                    if (r < 0 && errno == EAGAIN) break;
                    s.closed = true;
                    ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
                    break;
                }
            }
        }
    }
    ::close(ep);
    std::vector<Upload> out;
    for (auto& s : st) {
        Upload u;
        auto rs = parseResponses(s.in, s.closed);
        if (!rs.empty()) {
            u.status = rs[0].status;
            u.retryAfter = rs[0].has("retry-after");
            u.body = rs[0].body;
        }
        u.closed = s.closed;
        if (s.fd >= 0) ::close(s.fd);
        out.push_back(u);
    }
    return out;
}

TEST(HttpFrontMemory, TwoHundredInFlightOneMiBBodiesStayUnderTwoCopiesEach) {
    constexpr int kUploads = 200;
    constexpr int64_t kBodyMiB = 1;
    // The bound: at most 2 copies of each in-flight body (the issue measured ~15 per request
    // with the old server) + 64 MiB for threads, buffers and allocator slack. Sanitizer builds
    // add shadow memory and redzones: 3 copies there.
    constexpr int64_t kCopies = kSanitized ? 3 : 2;
    raiseFdLimit(4096);
    FrontHost host("  max_body_bytes: 1MiB\n",
                   "  - name: big\n    plugin: slow_webhook\n    options: { delay_ms: 3000 }\n"
                   "    webhooks: { concurrency: 256, queue: 256, timeout: 20s }\n",
                   {slowFixtureDir()});
    const std::string body(1048576, 'x');
    const std::string request = "POST /webhooks/big HTTP/1.1\r\nHost: sb\r\nContent-Type: application/octet-stream\r\n"
                                "Content-Length: 1048576\r\n\r\n" + body;
    // Warm-up: one full-size request, so pools and the first buffers count in the baseline.
    auto warm = uploadConcurrently(host.port(), "POST /webhooks/big?delay_ms=0 HTTP/1.1\r\nHost: sb\r\n"
                                                "Content-Length: 1048576\r\n\r\n" + body, 1, 10s, 0ms);
    ASSERT_EQ(warm[0].status, 200) << warm[0].body << host.output();
    const int64_t baseline = rssKiB(host.pid());
    ASSERT_GT(baseline, 0);

    std::atomic<bool> done{false};
    std::atomic<int64_t> peak{baseline};
    std::thread sampler([&] {
        while (!done) {
            peak = std::max(peak.load(), rssKiB(host.pid()));
            std::this_thread::sleep_for(10ms);
        }
    });
    auto results = uploadConcurrently(host.port(), request, kUploads, 60s, 0ms);
    done = true;
    sampler.join();

    int ok = 0;
    int64_t maxConcurrent = 0;
    std::map<int, int> statuses;
    for (const auto& u : results) {
        statuses[u.status]++;
        if (u.status != 200) continue;
        auto j = json::parse(u.body, nullptr, false);
        if (j.is_object() && j.value("bytes", 0) == 1048576) ++ok;
        if (j.is_object()) maxConcurrent = std::max<int64_t>(maxConcurrent, j.value("max_concurrent", int64_t{0}));
    }
    std::string seen;
    for (const auto& [s, n] : statuses) seen += std::to_string(s) + "x" + std::to_string(n) + " ";
    const int64_t grownMiB = (peak - baseline) / 1024;
    const int64_t boundMiB = kCopies * kUploads * kBodyMiB + 64;
    std::cout << "[ memory ] " << kUploads << " x 1 MiB in flight (" << seen << ", plugin saw up to " << maxConcurrent
              << " at once): RSS " << baseline / 1024 << " MiB -> peak " << peak / 1024 << " MiB (+" << grownMiB
              << " MiB, bound +" << boundMiB << " MiB)\n";
    EXPECT_EQ(ok, kUploads) << seen << tail(host.output());
    // Without this the bound would prove nothing: the bodies must really have been in flight together.
    EXPECT_GE(maxConcurrent, kUploads * 3 / 4) << "the uploads did not run concurrently (webhooks.concurrency: 256)";
    EXPECT_LT(grownMiB, boundMiB);
}

TEST(HttpFrontMemory, MaxBufferedBodyBytesRefusesRatherThanGrows) {
    constexpr int kUploads = 20;
    FrontHost host("  max_body_bytes: 1MiB\n  max_buffered_body_bytes: 8MiB\n",
                   "  - name: big\n    plugin: slow_webhook\n    options: { delay_ms: 2000 }\n"
                   "    webhooks: { concurrency: 32, queue: 32, timeout: 20s }\n",
                   {slowFixtureDir()});
    const std::string body(1048576, 'x');
    const std::string request = "POST /webhooks/big HTTP/1.1\r\nHost: sb\r\nContent-Length: 1048576\r\n\r\n" + body;
    const int64_t baseline = rssKiB(host.pid());
    std::atomic<bool> done{false};
    std::atomic<int64_t> peak{baseline};
    std::thread sampler([&] {
        while (!done) {
            peak = std::max(peak.load(), rssKiB(host.pid()));
            std::this_thread::sleep_for(10ms);
        }
    });
    auto results = uploadConcurrently(host.port(), request, kUploads, 30s);
    done = true;
    sampler.join();
    int ok = 0, refused = 0, refusedWithRetryAfter = 0, refusedClosed = 0, other = 0;
    std::string seen, refusal;
    for (const auto& u : results) {
        seen += std::to_string(u.status) + " ";
        if (u.status == 200) ++ok;
        else if (u.status == 503) {
            if (refusal.empty()) refusal = "; a refusal: " + printable(u.body, 300);
            ++refused;
            if (u.retryAfter) ++refusedWithRetryAfter;
            if (u.closed) ++refusedClosed;
        } else ++other;
    }
    const int64_t grownMiB = (peak - baseline) / 1024;
    std::cout << "[ memory ] " << kUploads << " x 1 MiB with max_buffered_body_bytes 8MiB: " << seen << "; RSS +"
              << grownMiB << " MiB" << refusal << "\n";
    // 8 MiB of bodies held at once: at most 8 of the 20 (all in flight for 2 s) are taken...
    EXPECT_LE(ok, 8) << seen;
    // ...and the budget is used: the bodies that fit are taken, not refused with the rest
    // (refusing all would turn 9 concurrent uploaders into a denial of service).
    EXPECT_GE(ok, 4) << seen << refusal;
    EXPECT_GE(refused, kUploads - 8) << seen;
    EXPECT_EQ(other, 0) << "every upload answered 200 or 503: " << seen;
    EXPECT_EQ(refusedWithRetryAfter, refused);
    EXPECT_EQ(refusedClosed, refused) << "a 503 for buffered bytes closes the connection";
    EXPECT_LT(grownMiB, 40) << "less than 2 copies of all 20 bodies";
    // The budget is given back: one upload alone is taken afterwards.
    auto after = uploadConcurrently(host.port(), request, 1, 15s, 0ms);
    EXPECT_EQ(after[0].status, 200) << after[0].body;
}

}  // namespace
