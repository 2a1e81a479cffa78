// Watches one mailbox with IMAP IDLE (RFC 2177) on a connection of its own and says when the
// server reports new mail ("* N EXISTS"). It never fetches anything: it only calls onNewMail,
// and the mailbox sync does the fetching. libcurl connects, secures (TLS or STARTTLS) and
// logs in (CURLOPT_CONNECT_ONLY); the few commands IDLE needs are spoken here.
#pragma once

#include "email_options.h"

#include <switchboard/plugin.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace email {

class ImapIdle {
public:
    struct Settings {
        ServerOptions server;
        std::string mailbox;
        std::chrono::milliseconds renew{25 * 60 * 1000};  // DONE + IDLE again after this long
        std::chrono::milliseconds maxBackoff{60000};      // longest wait between reconnects
    };
    // onNewMail is called from the watcher's thread: when the server reports new mail, and
    // each time IDLE starts on a new connection (mail may have come while there was none).
    ImapIdle(Settings settings, switchboard::Host host, std::function<void()> onNewMail);
    ~ImapIdle();
    ImapIdle(const ImapIdle&) = delete;
    ImapIdle& operator=(const ImapIdle&) = delete;

    void start();
    // Returns within about a quarter of a second, whatever the connection is doing.
    void stop();

private:
    enum class SessionEnd { Stopped, NoIdle };
    void run();
    // One connection from login to its end; throws ServerError when it fails.
    SessionEnd session();
    bool sleepUnlessStopped(std::chrono::milliseconds delay);

    const Settings settings_;
    switchboard::Host host_;
    const std::function<void()> onNewMail_;
    std::atomic<bool> stopping_{false};
    bool reachedIdle_ = false;  // the current session got as far as IDLE (watcher thread only)
    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread thread_;
};

// The length of the first complete IMAP response at the start of buffer: its line and the
// literals ("{N}\r\n" + N bytes, RFC 3501 4.3) it carries; 0 while it is incomplete.
size_t completeResponseLength(std::string_view buffer);

}  // namespace email
