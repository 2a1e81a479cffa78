#include "http/http_server.h"

#include "http/api_token.h"
#include "http/connection.h"
#include "http/request_dispatcher.h"
#include "http/router.h"
#include "log/log.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace switchboard::host {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr int kBacklog = asio::socket_base::max_listen_connections;  // SOMAXCONN: waves of reconnects
constexpr auto kStopGrace = std::chrono::seconds(10);  // for requests in flight at stop()
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);  // after EMFILE and the like

std::string hostPort(const std::string& host, uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string webhookBaseUrl(const config::ServerConfig& cfg, uint16_t port) {
    std::string base = cfg.publicUrl.empty() ? "http://" + hostPort(cfg.host, port) : cfg.publicUrl;
    while (!base.empty() && base.back() == '/') base.pop_back();  // the request URI starts with '/'
    return base;
}

// Every connection is a file descriptor: make the soft limit as high as the hard one, and
// say so when max_connections cannot fit in it.
void raiseFileLimit(size_t maxConnections) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < maxConnections + 256)
        logWarn("server.max_connections is above what the open-file limit allows; connections beyond it are "
                "refused by the kernel",
                {{"max_connections", std::to_string(maxConnections)}, {"open_files", std::to_string(lim.rlim_cur)}});
}

}  // namespace

struct HttpServer::Impl {
    Impl(const config::ServerConfig& c, HostControl& hc, Metrics& m) : cfg(c), control(hc), metrics(m) {}

    void accept();
    void onAccept(const boost::system::error_code& ec, tcp::socket socket);

    config::ServerConfig cfg;
    HostControl& control;
    Metrics& metrics;
    http::ApiToken token;
    customer::CustomerDirectory* customers = nullptr;
    outbox::Outbox* outbox = nullptr;

    mutable std::mutex lifecycle;
    std::atomic<uint16_t> port{0};  // read without the lock: stop() may hold it a while
    // Destroyed in reverse order: the event loop (and the connections its handlers hold)
    // before the state, the workers and the router they use.
    std::unique_ptr<http::Router> router;
    std::unique_ptr<http::RequestDispatcher> dispatcher;
    std::shared_ptr<http::FrontState> state;
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<asio::steady_timer> acceptRetry;
    std::vector<std::thread> threads;
};

void HttpServer::Impl::accept() {
    acceptor->async_accept(asio::make_strand(*io), [this](const boost::system::error_code& ec, tcp::socket socket) {
        onAccept(ec, std::move(socket));
    });
}

void HttpServer::Impl::onAccept(const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || state->stopping) return;
    if (ec) {
        // Out of file descriptors, most likely: wait a little instead of spinning.
        logWarn("http: accept failed; retrying shortly", {{"error", ec.message()}});
        acceptRetry->expires_after(kAcceptRetry);
        acceptRetry->async_wait([this](const boost::system::error_code& e) {
            if (!e && !state->stopping) accept();
        });
        return;
    }
    boost::system::error_code addrEc;
    auto endpoint = socket.remote_endpoint(addrEc);
    std::string peer = addrEc ? std::string() : endpoint.address().to_string();
    if (endpoint.address().is_v6() && endpoint.address().to_v6().is_v4_mapped())
        peer = endpoint.address().to_v6().to_v4().to_string();
    socket.set_option(tcp::no_delay(true), addrEc);

    http::ConnectionLimits::Refused why = http::ConnectionLimits::Refused::None;
    auto slot = state->limits.admit(peer, why);
    auto connection = std::make_shared<http::Connection>(std::move(socket), state, std::move(slot), peer);
    if (why == http::ConnectionLimits::Refused::None) {
        connection->start();
    } else {
        bool total = why == http::ConnectionLimits::Refused::Total;
        metrics.add("switchboard_http_connections_refused_total", {{"reason", total ? "max_connections" : "per_client"}});
        http::Reply r = http::errorReply(
            503, total ? "too many connections (server.max_connections " + std::to_string(cfg.maxConnections) + ")"
                       : "too many connections from " + peer + " (server.max_connections_per_client " +
                             std::to_string(cfg.maxConnectionsPerClient) + ")");
        r.headers.emplace_back("Retry-After", "1");
        connection->refuse(std::move(r));
    }
    accept();
}

HttpServer::HttpServer(const config::ServerConfig& cfg, HostControl& control, Metrics& metrics)
    : impl_(std::make_unique<Impl>(cfg, control, metrics)) {
    impl_->token.set(cfg.apiToken);
    metrics.describe("switchboard_http_requests_total", "counter",
                     "HTTP requests answered, by route template and status code.");
    metrics.describe("switchboard_http_connections", "gauge", "Open HTTP connections.");
    metrics.describe("switchboard_http_connections_refused_total", "counter",
                     "Connections answered 503 and closed at once: over max_connections or "
                     "max_connections_per_client.");
    metrics.describe("switchboard_http_timeouts_total", "counter",
                     "Connections closed at a deadline, by phase: header, body, write, keepalive.");
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
    if (d.io) return;

    raiseFileLimit(d.cfg.maxConnections);
    auto io = std::make_unique<asio::io_context>(static_cast<int>(std::max(1u, d.cfg.ioThreads)));
    auto acceptor = std::make_unique<tcp::acceptor>(*io);
    try {
        tcp::endpoint endpoint(asio::ip::make_address(d.cfg.host), d.cfg.port);
        acceptor->open(endpoint.protocol());
        // SO_REUSEADDR for quick restarts, but not SO_REUSEPORT: a second host must not share the port.
        acceptor->set_option(tcp::acceptor::reuse_address(true));
        acceptor->bind(endpoint);
        acceptor->listen(kBacklog);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot listen on " + hostPort(d.cfg.host, d.cfg.port) + ": " + e.code().message());
    }
    d.port = acceptor->local_endpoint().port();

    d.router = std::make_unique<http::Router>(d.control, d.metrics, d.token, webhookBaseUrl(d.cfg, d.port),
                                              d.customers, d.outbox);
    d.dispatcher = std::make_unique<http::RequestDispatcher>(*d.router, d.control, d.metrics, d.cfg.threads,
                                                             d.cfg.webhooks);
    d.state = std::make_shared<http::FrontState>(d.cfg, *d.dispatcher, d.metrics);
    d.state->publishConnections();
    d.io = std::move(io);
    d.acceptor = std::move(acceptor);
    d.acceptRetry = std::make_unique<asio::steady_timer>(*d.io);
    d.accept();
    for (unsigned i = 0; i < std::max(1u, d.cfg.ioThreads); ++i) {
        d.threads.emplace_back([io = d.io.get()] {
            for (;;) {
                try {
                    io->run();
                    return;
                } catch (const std::exception& e) {
                    // A handler must not end the event loop: log and go on serving.
                    logError("http event loop: a handler threw", {{"error", e.what()}});
                }
            }
        });
    }
    logInfo("listening on " + hostPort(d.cfg.host, d.port));
}

void HttpServer::stop() {
    Impl& d = *impl_;
    std::lock_guard lock(d.lifecycle);
    if (!d.io) return;

    d.state->stopping = true;  // keep-alive connections end after their current request
    asio::post(*d.io, [&d] {
        boost::system::error_code ignored;
        d.acceptor->close(ignored);  // refuse instead of leaving clients in the backlog
        d.acceptRetry->cancel();
    });
    for (auto& c : d.state->live()) c->closeIfIdle();
    if (!d.state->waitIdle(kStopGrace)) logWarn("http: requests still running at stop; closing their connections");
    for (auto& c : d.state->live()) c->abort();
    d.dispatcher->stop();  // after this no worker touches the router or the host
    d.io->stop();
    for (auto& t : d.threads) t.join();
    d.threads.clear();
    d.acceptRetry.reset();
    d.acceptor.reset();
    d.io.reset();  // destroys the handlers still queued, and with them the last connections
    d.state.reset();
    d.dispatcher.reset();
    d.router.reset();
    logInfo("http server stopped");
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::setApiToken(std::optional<std::string> token) { impl_->token.set(std::move(token)); }

}  // namespace switchboard::host
