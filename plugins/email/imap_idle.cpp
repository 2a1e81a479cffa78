#include "imap_idle.h"

#include "curl_common.h"
#include "imap_utf7.h"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace email {
namespace {

using Clock = std::chrono::steady_clock;

// How often a wait on the socket looks at the stop flag.
constexpr std::chrono::milliseconds kStopCheck{200};
constexpr std::chrono::milliseconds kFirstRetryDelay{1000};
// A response larger than this (a huge literal in an unsolicited FETCH) is not worth holding.
constexpr size_t kMaxResponse = 16u * 1024u * 1024u;

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(s[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

bool containsWordNoCase(std::string_view line, std::string_view word) {
    size_t start = 0;
    while (start < line.size()) {
        size_t end = line.find(' ', start);
        if (end == std::string_view::npos) end = line.size();
        std::string_view token = line.substr(start, end - start);
        if (token.size() == word.size() && startsWithNoCase(token, word)) return true;
        start = end + 1;
    }
    return false;
}

// "* 12 EXISTS": the mailbox now has 12 messages, so something arrived (RFC 3501 7.3.1).
// EXPUNGE and FETCH (flag changes, often our own after-processing) bring nothing to fetch.
bool reportsNewMail(std::string_view response) {
    if (!startsWithNoCase(response, "* ")) return false;
    std::string_view rest = response.substr(2);
    size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    return digits > 0 && startsWithNoCase(rest.substr(digits), " EXISTS");
}

// "<tag> OK ...": the command succeeded (RFC 3501 7.1).
bool isOk(std::string_view tagged) {
    const size_t space = tagged.find(' ');
    if (space == std::string_view::npos) return false;
    const std::string_view rest = tagged.substr(space + 1);
    return startsWithNoCase(rest, "OK") && (rest.size() == 2 || rest[2] == ' ');
}

std::string firstLine(std::string_view response) {
    return std::string(response.substr(0, std::min(response.find("\r\n"), size_t{200})));
}

// One IMAP connection that libcurl opened and logged in, then handed over (CONNECT_ONLY).
class IdleConnection {
public:
    IdleConnection(const ServerOptions& server, const std::atomic<bool>& stopping)
        : server_(server), stopping_(stopping), curl_(newEasyHandle()) {}

    void connect() {
        CURL* c = curl_.get();
        applyServerOptions(c, server_, "imap,imaps");
        // libcurl reads the greeting, upgrades with STARTTLS or starts TLS, and logs in during
        // the connect phase; CONNECT_ONLY stops it before it would send a command of its own.
        curl_easy_setopt(c, CURLOPT_URL, (server_.url + "/").c_str());
        curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &abortWhenStopping);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
        char errorBuffer[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
        const CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
        if (rc == CURLE_ABORTED_BY_CALLBACK && stopping_) return;
        if (rc != CURLE_OK) {
            const ServerError::Kind kind = classify(rc);
            throw ServerError(kind, "connecting on " + server_.where() + ": " +
                                        (kind == ServerError::Kind::Auth
                                             ? "login as '" + server_.username + "' was refused"
                                             : describe(rc, errorBuffer)));
        }
        curl_socket_t socket = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK || socket == CURL_SOCKET_BAD)
            throw ServerError(ServerError::Kind::Transient, "connecting on " + server_.where() + ": no socket");
        socket_ = socket;
    }

    std::string nextTag() { return "sbi" + std::to_string(++tagCounter_); }

    void send(const std::string& line) {
        size_t sent = 0;
        const auto deadline = Clock::now() + server_.timeout;
        while (sent < line.size()) {
            size_t n = 0;
            const CURLcode rc = curl_easy_send(curl_.get(), line.data() + sent, line.size() - sent, &n);
            if (rc == CURLE_AGAIN) {
                if (Clock::now() >= deadline) fail("sending timed out");
                waitFor(POLLOUT, kStopCheck);
                continue;
            }
            if (rc != CURLE_OK) fail(std::string("sending failed: ") + curl_easy_strerror(rc));
            sent += n;
        }
    }

    // The next whole response, or nothing when `until` passed or a stop was asked for first.
    std::optional<std::string> next(Clock::time_point until) {
        while (true) {
            if (const size_t length = completeResponseLength(buffer_)) {
                std::string response = buffer_.substr(0, length);
                buffer_.erase(0, length);
                return response;
            }
            if (buffer_.size() > kMaxResponse) fail("a response of over 16 MiB");
            if (stopping_ || Clock::now() >= until) return std::nullopt;
            char chunk[16384];
            size_t n = 0;
            const CURLcode rc = curl_easy_recv(curl_.get(), chunk, sizeof chunk, &n);
            if (rc == CURLE_OK && n == 0) fail("the server closed the connection");
            if (rc == CURLE_OK) {
                buffer_.append(chunk, n);
            } else if (rc == CURLE_AGAIN) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
                waitFor(POLLIN, std::clamp(left, std::chrono::milliseconds(1), kStopCheck));
            } else {
                fail(std::string("receiving failed: ") + curl_easy_strerror(rc));
            }
        }
    }

    // Sends "<tag> <command>" and reads up to its tagged answer; untagged responses on the
    // way go to onUntagged. Returns the tagged line ("<tag> OK ..."), or nothing on stop.
    template <typename OnUntagged>
    std::optional<std::string> command(const std::string& command, OnUntagged onUntagged) {
        const std::string tag = nextTag();
        send(tag + " " + command + "\r\n");
        return awaitTagged(tag, command, onUntagged);
    }

    template <typename OnUntagged>
    std::optional<std::string> awaitTagged(const std::string& tag, const std::string& what, OnUntagged onUntagged) {
        const auto deadline = Clock::now() + server_.timeout;
        while (true) {
            auto response = next(deadline);
            if (!response) {
                if (stopping_) return std::nullopt;
                fail("no answer to " + what + " in time");
            }
            if (response->compare(0, tag.size() + 1, tag + " ") == 0) return firstLine(*response);
            onUntagged(*response);
        }
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw ServerError(ServerError::Kind::Transient, "IDLE connection to " + server_.where() + ": " + why);
    }

private:
    static int abortWhenStopping(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
        return static_cast<IdleConnection*>(self)->stopping_ ? 1 : 0;
    }

    void waitFor(short events, std::chrono::milliseconds timeout) {
        pollfd p{socket_, events, 0};
        ::poll(&p, 1, static_cast<int>(timeout.count()));
    }

    const ServerOptions& server_;
    const std::atomic<bool>& stopping_;
    CurlHandle curl_;
    int socket_ = -1;
    std::string buffer_;
    unsigned tagCounter_ = 0;
};

}  // namespace

size_t completeResponseLength(std::string_view buffer) {
    size_t pos = 0;
    while (true) {
        const size_t eol = buffer.find("\r\n", pos);
        if (eol == std::string_view::npos) return 0;
        std::string_view line = buffer.substr(pos, eol - pos);
        // A line ending in {N} (or {N+}, RFC 7888) is followed by N bytes, then the line goes on.
        const size_t open = line.rfind('{');
        if (!line.empty() && line.back() == '}' && open != std::string_view::npos) {
            std::string_view digits = line.substr(open + 1, line.size() - open - 2);
            if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
            uint64_t n = 0;
            auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
            if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) {
                if (n > buffer.size()) return 0;
                pos = eol + 2 + n;
                if (pos > buffer.size()) return 0;
                continue;
            }
        }
        return eol + 2;
    }
}

ImapIdle::ImapIdle(Settings settings, switchboard::Host host, std::function<void()> onNewMail)
    : settings_(std::move(settings)), host_(host), onNewMail_(std::move(onNewMail)) {}

ImapIdle::~ImapIdle() { stop(); }

void ImapIdle::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void ImapIdle::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool ImapIdle::sleepUnlessStopped(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, delay, [&] { return stopping_.load(); });
}

void ImapIdle::run() {
    const std::string what = "IMAP IDLE on '" + settings_.mailbox + "'";
    std::chrono::milliseconds backoff{0};
    while (!stopping_) {
        reachedIdle_ = false;
        try {
            session();  // returns when stopped, or when the server has no IDLE (polling only)
            return;
        } catch (const ServerError& e) {
            if (reachedIdle_) backoff = std::chrono::milliseconds(0);  // it worked until now: retry soon
            backoff = backoff.count() == 0 ? kFirstRetryDelay : std::min(backoff * 2, settings_.maxBackoff);
            if (stopping_) return;
            host_.warn(what + ": " + e.what() + "; reconnecting in " + std::to_string(backoff.count()) +
                       " ms (mail is still fetched every poll_interval meanwhile)");
        } catch (const std::exception& e) {
            backoff = settings_.maxBackoff;
            host_.error(what + " failed: " + e.what() + "; reconnecting in " + std::to_string(backoff.count()) + " ms");
        }
        if (!sleepUnlessStopped(backoff)) return;
    }
}

namespace {
// Leaving politely; the answer is not awaited, the connection closes anyway.
void sendLogout(IdleConnection& conn) {
    try {
        conn.send(conn.nextTag() + " LOGOUT\r\n");
    } catch (const ServerError&) {
    }
}
}  // namespace

ImapIdle::SessionEnd ImapIdle::session() {
    IdleConnection conn(settings_.server, stopping_);
    conn.connect();
    if (stopping_) return SessionEnd::Stopped;
    bool offersIdle = false;
    auto tagged = conn.command("CAPABILITY", [&](const std::string& r) {
        if (startsWithNoCase(r, "* CAPABILITY ")) offersIdle = offersIdle || containsWordNoCase(firstLine(r), "IDLE");
    });
    if (!tagged) return SessionEnd::Stopped;
    if (!offersIdle) {
        host_.info(settings_.server.where() + " does not offer IMAP IDLE (RFC 2177); mailbox '" + settings_.mailbox +
                   "' is polled every poll_interval");
        return SessionEnd::NoIdle;
    }
    // EXAMINE: read-only, so watching changes nothing (no \Recent taken, RFC 3501 6.3.2).
    tagged = conn.command("EXAMINE \"" + encodeMailboxName(settings_.mailbox) + "\"", [](const std::string&) {});
    if (!tagged) return SessionEnd::Stopped;
    if (!isOk(*tagged))
        throw ServerError(ServerError::Kind::Mailbox,
                          "EXAMINE '" + settings_.mailbox + "' on " + settings_.server.where() + ": " + *tagged);

    auto leave = [&] {
        sendLogout(conn);
        return SessionEnd::Stopped;
    };
    bool firstIdle = true;
    auto onUntagged = [&](const std::string& r) {
        if (startsWithNoCase(r, "* BYE")) conn.fail("the server said " + firstLine(r));
        if (reportsNewMail(r)) onNewMail_();
    };
    while (!stopping_) {
        const std::string tag = conn.nextTag();
        conn.send(tag + " IDLE\r\n");
        // The server answers "+ idling"; anything untagged may come first.
        const auto deadline = Clock::now() + settings_.server.timeout;
        while (true) {
            auto r = conn.next(deadline);
            if (!r) {
                if (stopping_) break;
                conn.fail("no answer to IDLE in time");
            }
            if (startsWithNoCase(*r, "+")) break;
            if (r->compare(0, tag.size() + 1, tag + " ") == 0) {
                host_.warn(settings_.server.where() + " refused IDLE on '" + settings_.mailbox + "' (" + firstLine(*r) +
                           "); the mailbox is polled every poll_interval");
                return SessionEnd::NoIdle;
            }
            onUntagged(*r);
        }
        if (stopping_) {
            conn.send("DONE\r\n");
            return leave();
        }
        if (firstIdle) {
            // Mail that came while this connection was being set up (or was down) is fetched now.
            firstIdle = false;
            reachedIdle_ = true;
            host_.debug("IMAP IDLE on '" + settings_.mailbox + "' at " + settings_.server.where());
            onNewMail_();
        }
        const auto renewAt = Clock::now() + settings_.renew;
        while (auto r = conn.next(renewAt)) onUntagged(*r);
        // Renewal or stop: DONE ends IDLE (RFC 2177 3) and the server answers the IDLE tag.
        conn.send("DONE\r\n");
        if (stopping_) return leave();
        auto done = conn.awaitTagged(tag, "DONE", onUntagged);
        if (!done) break;
        if (!isOk(*done)) conn.fail("IDLE ended with " + *done);
        if (!stopping_) host_.debug("IMAP IDLE on '" + settings_.mailbox + "' renewed");
    }
    return leave();
}

}  // namespace email
