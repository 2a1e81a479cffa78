#include "http/http_connection.h"

#include "http/request_reader.h"
#include "log/log.h"

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timestamp.h>

namespace switchboard::host::http {

namespace {

constexpr const char* kRequestsMetric = "switchboard_http_requests_total";

void writeReply(Poco::Net::HTTPServerResponse& response, const Reply& reply) {
    response.setStatus(std::to_string(reply.status));
    response.setReason(Poco::Net::HTTPResponse::getReasonForStatus(
        static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status)));
    for (const auto& [name, value] : reply.headers) response.add(name, value);
    if (!reply.contentType.empty()) response.setContentType(reply.contentType);
    if (reply.close) response.setKeepAlive(false);
    bool bodyless = reply.status == 204 || reply.status == 304;
    if (!bodyless) response.setContentLength64(static_cast<Poco::Int64>(reply.body.size()));
    std::ostream& out = response.send();
    if (!bodyless) out.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size()));
    out.flush();
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the
// answer before the client reads it. Read (and drop) what the client still sends, briefly.
void lingeringClose(Poco::Net::StreamSocket& socket) {
    try {
        socket.shutdownSend();
        socket.setReceiveTimeout(Poco::Timespan(0, 250 * 1000));
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        size_t drained = 0;
        char buf[16384];
        while (std::chrono::steady_clock::now() < deadline && drained < 64 * 1024 * 1024) {
            int n = socket.receiveBytes(buf, sizeof buf);
            if (n <= 0) break;
            drained += static_cast<size_t>(n);
        }
    } catch (...) {
        // Timeout or reset: the client got what it is going to get.
    }
}

}  // namespace

ServerState::ServerState(Poco::Net::HTTPServerParams::Ptr p, const Router& r, Metrics& m, size_t maxBody)
    : params(std::move(p)), router(r), metrics(m), maxBodyBytes(maxBody) {}

bool ServerState::enter(const void* id, const Poco::Net::StreamSocket& socket) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    live_.emplace(id, socket);
    return true;
}

void ServerState::leave(const void* id) {
    std::lock_guard lock(mutex_);
    live_.erase(id);
}

void ServerState::beginRequest() {
    std::lock_guard lock(mutex_);
    ++inFlight_;
}

void ServerState::endRequest() {
    {
        std::lock_guard lock(mutex_);
        --inFlight_;
    }
    idle_.notify_all();
}

bool ServerState::waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return inFlight_ == 0; });
}

void ServerState::abortConnections() {
    std::lock_guard lock(mutex_);
    for (auto& [id, socket] : live_) {
        try {
            socket.shutdown();
        } catch (...) {
            // Already closed by the peer.
        }
    }
}

HttpConnection::HttpConnection(const Poco::Net::StreamSocket& socket, std::shared_ptr<ServerState> state)
    : Poco::Net::TCPServerConnection(socket), state_(std::move(state)) {}

void HttpConnection::run() {
    if (!state_->enter(this, socket())) return;
    try {
        Poco::Net::HTTPServerSession session(socket(), state_->params);
        // Checked again after the wait: a request that arrives while stopping is not started.
        while (!state_->stopping() && session.hasMoreRequests() && !state_->stopping()) {
            if (!serveOne(session)) break;
        }
    } catch (const Poco::Exception& e) {
        // Peer reset, timeout: nothing left to answer.
        logDebug("http connection ended", {{"reason", e.displayText()}});
    } catch (const std::exception& e) {
        logDebug("http connection ended", {{"reason", e.what()}});
    } catch (...) {
        logDebug("http connection ended", {{"reason", "unknown exception"}});
    }
    state_->leave(this);
}

bool HttpConnection::serveOne(Poco::Net::HTTPServerSession& session) {
    Poco::Net::HTTPServerResponseImpl response(session);
    std::unique_ptr<Poco::Net::HTTPServerRequestImpl> request;
    try {
        request = std::make_unique<Poco::Net::HTTPServerRequestImpl>(response, session, state_->params.get());
    } catch (const Poco::Net::NoMessageException&) {
        return false;  // the client closed an idle connection
    } catch (const Poco::Net::MessageException& e) {
        sendEarlyError(session, "malformed request: " + e.message());
        return false;
    } catch (const Poco::SyntaxException&) {
        // The request constructor parses Content-Length: the only syntax check it makes.
        sendEarlyError(session, "malformed request: Content-Length is not a number");
        return false;
    }

    state_->beginRequest();
    struct Done {
        ServerState& s;
        ~Done() { s.endRequest(); }
    } done{*state_};

    response.setDate(Poco::Timestamp());
    response.setVersion(request->getVersion());
    response.setKeepAlive(state_->params->getKeepAlive() && request->getKeepAlive() && session.canKeepAlive() &&
                          !state_->othersWaiting());

    auto started = std::chrono::steady_clock::now();
    std::string route = "other";
    Reply reply = process(*request, response, route);
    if (state_->stopping()) reply.close = true;
    count(route, reply.status);
    writeReply(response, reply);
    logDebug("http request",
             {{"method", request->getMethod()},
              {"route", route},
              {"status", std::to_string(reply.status)},
              {"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count())}});
    bool keepAlive = response.getKeepAlive();
    session.setKeepAlive(keepAlive);
    if (!keepAlive && reply.close) lingeringClose(socket());
    return keepAlive;
}

Reply HttpConnection::process(Poco::Net::HTTPServerRequestImpl& request,
                              Poco::Net::HTTPServerResponseImpl& response, std::string& route) {
    bool bodyRead = false;
    try {
        RequestContext ctx = readHead(request);
        RouteMatch match = matchRoute(ctx.path);
        route = match.label;
        ctx.body = readBody(request, response, state_->maxBodyBytes);
        bodyRead = true;
        return state_->router.handle(ctx, match);
    } catch (const HttpError& e) {
        Reply r = errorReply(e.status(), e.what());
        r.close = e.close() || !bodyRead;
        return r;
    } catch (const Poco::Exception& e) {
        logError("http handler failed",
                 {{"method", request.getMethod()}, {"route", route}, {"error", e.displayText()}});
    } catch (const std::exception& e) {
        logError("http handler failed", {{"method", request.getMethod()}, {"route", route}, {"error", e.what()}});
    } catch (...) {
        logError("http handler failed",
                 {{"method", request.getMethod()}, {"route", route}, {"error", "unknown exception"}});
    }
    Reply r = errorReply(500, "internal error");
    r.close = !bodyRead;
    return r;
}

void HttpConnection::sendEarlyError(Poco::Net::HTTPServerSession& session, const std::string& reason) {
    // A fresh response: the one handed to the failed request points at a destroyed object.
    Poco::Net::HTTPServerResponseImpl response(session);
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    response.setDate(Poco::Timestamp());
    Reply reply = errorReply(400, reason);
    reply.close = true;
    count("invalid", reply.status);
    logDebug("malformed http request", {{"reason", reason}});
    try {
        writeReply(response, reply);
    } catch (const Poco::Exception&) {
        return;  // the client is gone
    }
    session.setKeepAlive(false);
    lingeringClose(socket());
}

void HttpConnection::count(const std::string& route, int status) {
    state_->metrics.add(kRequestsMetric, {{"route", route}, {"code", std::to_string(status)}});
}

}  // namespace switchboard::host::http
