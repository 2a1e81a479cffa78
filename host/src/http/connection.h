// One client connection on the event loop: reads and decodes requests, hands each to the
// dispatcher, writes the answers in order. It never blocks a thread: a slow client only
// holds its socket, its buffer and a timer, and every phase has a deadline:
//   head      header_timeout from the first byte (or from accept)       -> 408, close
//   body      body_timeout + length / min_body_rate                      -> 408, close
//   handler   the route's deadline (webhook_timeout for a webhook)       -> 503, close
//   write     body_timeout + size / min_body_rate                        -> close
//   idle      keepalive_timeout between requests                         -> close
#pragma once

#include "config/config.h"
#include "http/connection_limits.h"
#include "http/request_decoder.h"
#include "http/request_dispatcher.h"
#include "metrics/metrics.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace switchboard::host::http {

class Connection;

// What the server and all its connections share.
struct FrontState {
    FrontState(const config::ServerConfig& config, RequestDispatcher& dispatcher, Metrics& metrics)
        : cfg(config),
          dispatcher(dispatcher),
          metrics(metrics),
          limits(config.maxConnections, config.maxConnectionsPerClient),
          bodies(config.maxBufferedBodyBytes) {}

    const config::ServerConfig cfg;
    RequestDispatcher& dispatcher;
    Metrics& metrics;
    ConnectionLimits limits;
    BodyBudget bodies;
    std::atomic<bool> stopping{false};

    // Live connections (for stop) and the requests in flight (for its grace period).
    void add(const std::shared_ptr<Connection>& c);
    void remove(const Connection* c);
    std::vector<std::shared_ptr<Connection>> live();
    void beginRequest();
    void endRequest();
    bool waitIdle(std::chrono::milliseconds timeout);
    void publishConnections();

private:
    std::mutex mutex_;
    std::condition_variable idle_;
    std::map<const Connection*, std::weak_ptr<Connection>> live_;
    int inFlight_ = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<FrontState> state,
               std::unique_ptr<ConnectionLimits::Slot> slot, std::string peer);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start();
    // Answers refusal and closes, without reading a request (over a connection limit).
    void refuse(Reply refusal);
    // From any thread. Closes the connection if it is between requests (stop()).
    void closeIfIdle();
    // From any thread. Closes it whatever it is doing (stop(), after the grace period).
    void abort();

private:
    enum class Phase { Idle, Head, Body, Handling, Writing, Draining, Closed };
    using Clock = std::chrono::steady_clock;

    void readMore();
    void onRead(const boost::system::error_code& ec, size_t n);
    void process();
    bool onHead();
    void onRequest();
    void onHandled(uint64_t request, Reply reply);
    void send(Reply reply, bool close, const std::string& route);
    void onWritten(const boost::system::error_code& ec, bool close);
    void nextRequest();
    void fail(int status, std::string reason, const char* timeoutPhase = nullptr);

    void arm(Clock::duration after);
    void onDeadline();
    void drainAndClose();
    void closeNow();
    void endRequest();
    Clock::duration rateTime(uint64_t bytes) const;

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<FrontState> state_;
    std::unique_ptr<ConnectionLimits::Slot> slot_;
    const std::string peer_;

    Phase phase_ = Phase::Head;
    bool reading_ = false;
    bool inRequest_ = false;  // counted in FrontState::beginRequest
    uint64_t requestSeq_ = 0;  // answers from workers for an abandoned request are dropped
    boost::beast::flat_buffer buffer_;
    std::optional<RequestDecoder> decoder_;
    BodyBudget::Share bodyShare_;
    RouteMatch route_;
    Clock::time_point bodyStarted_{};
    Clock::time_point requestStarted_{};
    std::string method_;
    std::string writeBuffer_;
    std::string handlerTimeoutReason_;
    std::string handlerInstance_;
    size_t drained_ = 0;
};

}  // namespace switchboard::host::http
