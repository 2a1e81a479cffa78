// The host's HTTP server: probes, Prometheus metrics, connector webhooks and the admin API
// (docs/api.md). An event-driven HTTP/1.1 front on Boost.Asio and Beast's parser
// (connection.h): a few I/O threads serve every connection, handlers run on workers
// (request_dispatcher.h) and only see plain request/reply data.
#pragma once

#include "config/config.h"
#include "metrics/metrics.h"
#include "runtime/host_control.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace switchboard::host {

namespace customer {
class CustomerDirectory;
}
namespace outbox {
class Outbox;
}

class HttpServer {
public:
    HttpServer(const config::ServerConfig& cfg, HostControl& control, Metrics& metrics);
    ~HttpServer();  // stops if running
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Throws std::runtime_error("cannot listen on HOST:PORT: <reason>") when the bind fails.
    void start();
    // Graceful: stops accepting, closes idle connections, waits (bounded) for requests in
    // flight, then closes the rest and joins the I/O threads and the workers.
    void stop();
    // The bound port (the configured one may be 0: ephemeral). 0 before start().
    uint16_t port() const;
    // SIGHUP may change it; thread-safe. nullopt (or empty) disables /api (403).
    void setApiToken(std::optional<std::string> token);
    // Serves /api/v1/customers and /api/v1/match-decisions from it; call before start().
    void setCustomerDirectory(customer::CustomerDirectory* customers);
    // Serves /api/v1/messages, /api/v1/outbox and /api/v1/deadletters from it; call before start().
    void setOutbox(outbox::Outbox* outbox);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard::host
