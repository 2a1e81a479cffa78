// One client connection: reads requests with POCO's HTTP parser, answers each one and
// keeps the connection alive. It replaces Poco::Net::HTTPServerConnection, which closes
// the connection without an answer when Content-Length is not a number and answers other
// malformed requests with an empty, non-JSON 400.
#pragma once

#include "http/router.h"
#include "metrics/metrics.h"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

namespace Poco::Net {
class HTTPServerSession;
class HTTPServerRequestImpl;
class HTTPServerResponseImpl;
}  // namespace Poco::Net

namespace switchboard::host::http {

// Shared by the server and its connections: what a request needs, plus what stop() needs
// to drain and then cut the connections.
class ServerState {
public:
    ServerState(Poco::Net::HTTPServerParams::Ptr params, const Router& router, Metrics& metrics,
                size_t maxBodyBytes);

    Poco::Net::HTTPServerParams::Ptr params;
    const Router& router;
    Metrics& metrics;
    const size_t maxBodyBytes;

    bool stopping() const { return stopping_; }

    // A connection holds a server thread for as long as it lives (POCO's model), so while
    // other connections wait for a thread, each answer closes its connection: the thread
    // goes to the next client instead of one keep-alive client starving the rest.
    void setServer(const Poco::Net::TCPServer* server) { server_ = server; }
    bool othersWaiting() const {
        const Poco::Net::TCPServer* s = server_.load();
        return s != nullptr && s->queuedConnections() > 0;
    }
    void beginStop() { stopping_ = true; }

    // Registers a live connection; false once stopping.
    bool enter(const void* id, const Poco::Net::StreamSocket& socket);
    void leave(const void* id);
    void beginRequest();
    void endRequest();
    // True when no request is in flight before the timeout.
    bool waitIdle(std::chrono::milliseconds timeout);
    // Shuts down every live connection: idle keep-alive ones wake up and end.
    void abortConnections();

private:
    std::atomic<bool> stopping_{false};
    std::atomic<const Poco::Net::TCPServer*> server_{nullptr};
    std::mutex mutex_;
    std::condition_variable idle_;
    int inFlight_ = 0;
    std::map<const void*, Poco::Net::StreamSocket> live_;
};

class HttpConnection : public Poco::Net::TCPServerConnection {
public:
    HttpConnection(const Poco::Net::StreamSocket& socket, std::shared_ptr<ServerState> state);
    void run() override;

private:
    // Answers one request; false when the connection must close.
    bool serveOne(Poco::Net::HTTPServerSession& session);
    Reply process(Poco::Net::HTTPServerRequestImpl& request, Poco::Net::HTTPServerResponseImpl& response,
                  std::string& route);
    void sendEarlyError(Poco::Net::HTTPServerSession& session, const std::string& reason);
    void count(const std::string& route, int status);

    std::shared_ptr<ServerState> state_;
};

class HttpConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
public:
    explicit HttpConnectionFactory(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        return new HttpConnection(socket, state_);
    }

private:
    std::shared_ptr<ServerState> state_;
};

}  // namespace switchboard::host::http
