// A real HTTP server on 127.0.0.1 (an OS-chosen port) that plays a third party's endpoint:
// it records every request and answers what the test scripted. Used where Switchboard is
// the client (a webchat site's reply endpoint, a provider's API).
#pragma once

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace switchboard::test {

struct ReceivedRequest {
    std::string method;
    std::string uri;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

struct ScriptedAnswer {
    int status = 200;
    std::string body = R"({"status":"ok"})";
    std::map<std::string, std::string> headers;
    bool hang = false;  // do not answer until the server shuts down
};

class HttpEndpoint {
public:
    HttpEndpoint();
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    std::string url(const std::string& pathAndQuery = "/chat/replies") const;
    // What every later request gets (JSON content type unless headers say otherwise).
    void answer(ScriptedAnswer a);
    std::vector<ReceivedRequest> received();
    // The single request received; throws when there were none or several.
    ReceivedRequest only();

private:
    class Handler;
    class Factory;
    Poco::Net::ServerSocket socket_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::mutex mutex_;
    std::condition_variable released_;
    bool shuttingDown_ = false;
    ScriptedAnswer answer_;
    std::vector<ReceivedRequest> received_;
};

}  // namespace switchboard::test
