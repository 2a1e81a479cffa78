#include "http/http_server.h"

#include "http/api_token.h"
#include "http/http_connection.h"
#include "http/router.h"
#include "log/log.h"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>

namespace switchboard::host {

namespace {

constexpr int kBacklog = 128;
constexpr int kMaxQueued = 256;                         // accepted connections waiting for a thread
constexpr auto kStopGrace = std::chrono::seconds(10);  // for requests in flight at stop()

std::string hostPort(const std::string& host, uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string webhookBaseUrl(const config::ServerConfig& cfg, uint16_t port) {
    std::string base = cfg.publicUrl.empty() ? "http://" + hostPort(cfg.host, port) : cfg.publicUrl;
    while (!base.empty() && base.back() == '/') base.pop_back();  // the request URI starts with '/'
    return base;
}

}  // namespace

struct HttpServer::Impl {
    Impl(const config::ServerConfig& c, HostControl& hc, Metrics& m) : cfg(c), control(hc), metrics(m) {}

    config::ServerConfig cfg;
    HostControl& control;
    Metrics& metrics;
    http::ApiToken token;
    customer::CustomerDirectory* customers = nullptr;
    outbox::Outbox* outbox = nullptr;

    mutable std::mutex lifecycle;
    std::atomic<uint16_t> port{0};  // read without the lock: stop() may hold it a while
    // Destroyed in reverse order: the server before the pool its threads come from.
    std::unique_ptr<http::Router> router;
    std::shared_ptr<http::ServerState> state;
    std::unique_ptr<Poco::ThreadPool> pool;
    Poco::Net::ServerSocket socket;
    std::unique_ptr<Poco::Net::TCPServer> server;
};

HttpServer::HttpServer(const config::ServerConfig& cfg, HostControl& control, Metrics& metrics)
    : impl_(std::make_unique<Impl>(cfg, control, metrics)) {
    impl_->token.set(cfg.apiToken);
    metrics.describe("switchboard_http_requests_total", "counter",
                     "HTTP requests answered, by route template and status code.");
}

void HttpServer::setCustomerDirectory(customer::CustomerDirectory* customers) { impl_->customers = customers; }
void HttpServer::setOutbox(outbox::Outbox* outbox) { impl_->outbox = outbox; }

HttpServer::~HttpServer() {
    try {
        stop();
    } catch (...) {
        // A destructor must not throw; stop() already logged what it could.
    }
}

void HttpServer::start() {
    Impl& d = *impl_;
    std::lock_guard lock(d.lifecycle);
    if (d.server) return;

    Poco::Net::ServerSocket socket;
    try {
        // SO_REUSEADDR for quick restarts, but not SO_REUSEPORT: a second host must not share the port.
        socket.bind(Poco::Net::SocketAddress(d.cfg.host, d.cfg.port), true, false);
        socket.listen(kBacklog);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("cannot listen on " + hostPort(d.cfg.host, d.cfg.port) + ": " + e.displayText());
    }
    d.port = socket.address().port();

    int threads = static_cast<int>(std::max(1u, d.cfg.threads));
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(kMaxQueued);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setMaxKeepAliveRequests(1000);
    params->setTimeout(Poco::Timespan(30, 0));  // a stalled client gives its thread back

    d.router =
        std::make_unique<http::Router>(d.control, d.metrics, d.token, webhookBaseUrl(d.cfg, d.port), d.customers,
                                       d.outbox);
    d.state = std::make_shared<http::ServerState>(params, *d.router, d.metrics, d.cfg.maxBodyBytes);
    d.pool = std::make_unique<Poco::ThreadPool>("http", std::min(2, threads), threads);
    d.socket = socket;
    d.server = std::make_unique<Poco::Net::TCPServer>(new http::HttpConnectionFactory(d.state), *d.pool, socket,
                                                      Poco::Net::TCPServerParams::Ptr(params.get(), true));
    d.state->setServer(d.server.get());
    d.server->start();
    logInfo("listening on " + hostPort(d.cfg.host, d.port));
}

void HttpServer::stop() {
    Impl& d = *impl_;
    std::lock_guard lock(d.lifecycle);
    if (!d.server) return;

    d.state->beginStop();     // keep-alive connections end after their current request
    d.server->stop();         // no more accepts
    d.socket.close();         // refuse instead of leaving clients in the backlog
    if (!d.state->waitIdle(kStopGrace)) logWarn("http: requests still running at stop; closing their connections");
    d.state->abortConnections();
    d.pool->joinAll();        // after this no thread touches the router or the host
    d.state->setServer(nullptr);
    d.server.reset();
    d.pool.reset();
    d.state.reset();
    d.router.reset();
    logInfo("http server stopped");
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::setApiToken(std::optional<std::string> token) { impl_->token.set(std::move(token)); }

}  // namespace switchboard::host
