// A real Kannel SMS gateway for tests: bearerbox, smsbox and Kannel's fake SMSC
// (/usr/lib/kannel/test/fakesmsc, package kannel-extras) on free loopback ports, from a
// private config in a temp dir (facts: /work/shared/TEST-SERVERS.md). The fake SMSC plays
// the mobile network: a test injects messages "from a phone" and reads what the gateway
// delivered to phones.
#pragma once

#include "test_support.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {

// One message the fake SMSC received from Kannel, with concatenated parts put back together.
struct SmscMessage {
    std::string from;
    std::string to;
    std::string type;   // "text" (plain), "ucs-2" (UTF-16BE) or "udh" (a part of a concatenated SMS)
    std::string bytes;  // the payload: text as printed, or the decoded bytes (UTF-16BE for UCS-2)
    int parts = 1;      // segments it arrived in
};

// UTF-8 from UTF-16BE bytes: the test's own decoder, independent of the plugins' code.
std::string utf16BeToUtf8(const std::string& bytes);

class KannelServer {
public:
    static constexpr const char* kUser = "switchboard";
    static constexpr const char* kPassword = "kannel-test-secret";

    // Picks the ports; start() runs the boxes (the host under test usually needs sendsmsUrl()
    // in its config before the gateway can know the host's webhook URL).
    KannelServer();
    ~KannelServer();
    KannelServer(const KannelServer&) = delete;
    KannelServer& operator=(const KannelServer&) = delete;

    // getUrl: the sms-service get-url, with Kannel's escape codes (%p, %b, ...). Throws
    // std::runtime_error with the boxes' logs when the gateway does not come up.
    void start(const std::string& getUrl);

    // http://127.0.0.1:PORT/cgi-bin/sendsms
    std::string sendsmsUrl() const;

    // A message from a phone, entered at the fake SMSC: plain text (GSM), or any Unicode text
    // (sent as UCS-2). Returns once the fake SMSC handed it to Kannel.
    void injectText(const std::string& from, const std::string& to, const std::string& text);
    void injectUcs2(const std::string& from, const std::string& to, const std::string& utf8);

    // What the fake SMSC has received so far; concatenated messages only once all parts came.
    std::vector<SmscMessage> received() const;
    // Waits until at least n messages were received (or the timeout passes).
    std::vector<SmscMessage> waitForMessages(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
    // The boxes' logs, for failure messages.
    std::string logs() const;

private:
    void inject(const std::string& line);
    TempDir dir_;
    int adminPort_, boxPort_, smscPort_, sendsmsPort_;
    int fifoFd_ = -1;
    int injected_ = 0;
    std::unique_ptr<Child> bearerbox_, smsbox_, fakesmsc_;
};

}  // namespace switchboard::test
