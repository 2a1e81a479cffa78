#include "http/connection.h"

#include "http/client_address.h"
#include "http/reply_writer.h"
#include "log/log.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace switchboard::host::http {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr const char* kRequestsMetric = "switchboard_http_requests_total";
constexpr const char* kTimeoutsMetric = "switchboard_http_timeouts_total";
constexpr size_t kHeadReadChunk = 4 * 1024;  // a slow client holds little more than it sent
constexpr size_t kBodyReadChunk = 64 * 1024;
constexpr size_t kKeptBufferBytes = 64 * 1024;  // larger buffers are freed between requests
// Lingering close: read and drop what the client still sends after a refusal, so the
// kernel does not answer it with a reset that destroys the refusal before it is read.
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr size_t kDrainBytes = 64 * 1024 * 1024;  // a client may send a refused body whole first

std::string seconds(int64_t ms) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

}  // namespace

void FrontState::add(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mutex_);
    live_.emplace(c.get(), c);
}

void FrontState::remove(const Connection* c) {
    std::lock_guard lock(mutex_);
    live_.erase(c);
}

std::vector<std::shared_ptr<Connection>> FrontState::live() {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<Connection>> out;
    for (auto& [ptr, weak] : live_)
        if (auto c = weak.lock()) out.push_back(std::move(c));
    return out;
}

void FrontState::beginRequest() {
    std::lock_guard lock(mutex_);
    ++inFlight_;
}

void FrontState::endRequest() {
    {
        std::lock_guard lock(mutex_);
        --inFlight_;
    }
    idle_.notify_all();
}

bool FrontState::waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return inFlight_ == 0; });
}

void FrontState::publishConnections() {
    metrics.set("switchboard_http_connections", {}, static_cast<double>(limits.open()));
}

Connection::Connection(asio::ip::tcp::socket socket, std::shared_ptr<FrontState> state,
                       std::unique_ptr<ConnectionLimits::Slot> slot, std::string peer)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      state_(std::move(state)),
      slot_(std::move(slot)),
      peer_(std::move(peer)),
      buffer_(state_->cfg.maxHeaderBytes + kBodyReadChunk) {}

Connection::~Connection() {
    endRequest();
    state_->remove(this);
    slot_.reset();
    state_->publishConnections();
}

Connection::Clock::duration Connection::rateTime(uint64_t bytes) const {
    return std::chrono::milliseconds(bytes * 1000 / std::max<uint64_t>(1, state_->cfg.minBodyRate));
}

void Connection::start() {
    state_->add(shared_from_this());
    state_->publishConnections();
    decoder_.emplace(RequestDecoder::Limits{state_->cfg.maxHeaderBytes, state_->cfg.maxBodyBytes});
    phase_ = Phase::Head;
    arm(std::chrono::milliseconds(state_->cfg.headerTimeoutMs));
    readMore();
}

void Connection::refuse(Reply refusal) {
    state_->add(shared_from_this());
    send(std::move(refusal), true, "refused");
}

void Connection::closeIfIdle() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
        if (self->phase_ == Phase::Idle) self->closeNow();
    });
}

void Connection::abort() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->closeNow(); });
}

void Connection::readMore() {
    if (reading_ || phase_ == Phase::Closed) return;
    size_t room = buffer_.max_size() - buffer_.size();
    if (room == 0) {
        // Only a head can fill the buffer: a body is consumed as it arrives.
        return fail(431, "request head larger than " + std::to_string(state_->cfg.maxHeaderBytes) + " bytes");
    }
    size_t chunk = std::min(room, phase_ == Phase::Body ? kBodyReadChunk : kHeadReadChunk);
    reading_ = true;
    socket_.async_read_some(buffer_.prepare(chunk), [self = shared_from_this()](const error_code& ec, size_t n) {
        self->onRead(ec, n);
    });
}

void Connection::onRead(const error_code& ec, size_t n) {
    reading_ = false;
    if (phase_ == Phase::Closed) return;
    if (phase_ == Phase::Draining) {
        drained_ += n;
        // A read cancelled by the refusal's deadline is not the client's end: keep draining.
        if ((ec && ec != asio::error::operation_aborted) || drained_ > kDrainBytes) return closeNow();
        buffer_.clear();
        socket_.async_read_some(buffer_.prepare(kBodyReadChunk),
                                [self = shared_from_this()](const error_code& e, size_t m) { self->onRead(e, m); });
        reading_ = true;
        return;
    }
    if (ec == asio::error::operation_aborted) return;  // a deadline or stop() took over
    if (ec) return closeNow();                          // the client closed or reset
    buffer_.commit(n);
    if (phase_ == Phase::Idle) {
        phase_ = Phase::Head;
        arm(std::chrono::milliseconds(state_->cfg.headerTimeoutMs));
    }
    process();
}

void Connection::process() {
    if (phase_ != Phase::Head && phase_ != Phase::Body) return;
    auto data = buffer_.data();
    size_t used = decoder_->feed(static_cast<const char*>(data.data()), data.size());
    buffer_.consume(used);

    RequestDecoder::Phase decoded = decoder_->phase();
    if (decoded == RequestDecoder::Phase::Failed) return fail(decoder_->refusal().status, decoder_->refusal().reason);
    if (phase_ == Phase::Head && decoded != RequestDecoder::Phase::Head) {
        if (!onHead()) return;
    }
    if (decoded == RequestDecoder::Phase::Done) return onRequest();
    if (decoded == RequestDecoder::Phase::Body) {
        // A declared length was admitted whole at the head; a chunked body is taken as it grows.
        if (!bodyShare_.growTo(std::max<uint64_t>(bodyShare_.bytes(), decoder_->bodySize())))
            return fail(503, "the server holds too many request bodies at once; retry later");
        if (!decoder_->contentLength()) {
            // Chunked: the deadline moves with what arrived, at min_body_rate.
            arm(bodyStarted_ + std::chrono::milliseconds(state_->cfg.bodyTimeoutMs) +
                rateTime(decoder_->bodySize()) - Clock::now());
        }
    }
    readMore();
}

bool Connection::onHead() {
    phase_ = Phase::Body;
    inRequest_ = true;
    state_->beginRequest();
    requestStarted_ = Clock::now();
    bodyStarted_ = requestStarted_;
    method_ = decoder_->head().method;
    route_ = matchRoute(decoder_->head().path);
    bodyShare_ = state_->bodies.share();
    // Admit the whole declared body now or not at all: bodies that each held a part of the
    // budget and waited for the rest would refuse one another when they arrive together.
    uint64_t expected = std::max<uint64_t>(decoder_->contentLength().value_or(0), decoder_->bodySize());
    if (!bodyShare_.growTo(expected)) {
        fail(503, "the server holds too many request bodies at once; retry later");
        return false;
    }
    if (decoder_->phase() == RequestDecoder::Phase::Body) {
        arm(std::chrono::milliseconds(state_->cfg.bodyTimeoutMs) + rateTime(expected));
        if (decoder_->expectContinue()) {
            // Written while the body is read; nothing else is written until the request
            // is complete, and the client sends the body only after this.
            static const std::string kContinueText(kContinue);
            asio::async_write(socket_, asio::buffer(kContinueText), [](const error_code&, size_t) {});
        }
    }
    return true;
}

void Connection::onRequest() {
    struct Held {
        RequestContext request;
        BodyBudget::Share body;  // given back when the handler lets go of the request
    };
    auto held = std::make_shared<Held>(Held{decoder_->take(), std::move(bodyShare_)});
    held->request.remoteAddr = clientAddress(peer_, held->request.headers, state_->cfg.trustedProxies);
    std::shared_ptr<const RequestContext> request(held, &held->request);

    phase_ = Phase::Handling;
    timer_.cancel();
    uint64_t seq = ++requestSeq_;
    auto self = shared_from_this();
    auto done = [self, seq](Reply reply) {
        asio::post(self->socket_.get_executor(),
                   [self, seq, reply = std::move(reply)]() mutable { self->onHandled(seq, std::move(reply)); });
    };
    RequestDispatcher::Started started = state_->dispatcher.dispatch(request, route_, std::move(done));
    if (started.now) return onHandled(seq, std::move(*started.now));
    handlerTimeoutReason_ = std::move(started.timeoutReason);
    handlerInstance_ = std::move(started.instance);
    if (started.deadline.count() > 0) arm(started.deadline);
}

void Connection::onHandled(uint64_t seq, Reply reply) {
    if (seq != requestSeq_ || phase_ != Phase::Handling) return;  // abandoned at its deadline, or closed
    bool close = reply.close || !decoder_->keepAlive() || state_->stopping;
    send(std::move(reply), close, route_.label);
}

void Connection::send(Reply reply, bool close, const std::string& route) {
    if (phase_ == Phase::Closed) return;
    state_->metrics.add(kRequestsMetric, {{"route", route}, {"code", std::to_string(reply.status)}});
    if (inRequest_) {
        logDebug("http request",
                 {{"method", method_},
                  {"route", route},
                  {"status", std::to_string(reply.status)},
                  {"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                                             requestStarted_)
                                            .count())}});
    }
    bool http10KeepAlive = !close && decoder_ && decoder_->phase() != RequestDecoder::Phase::Failed &&
                           decoder_->version() == 10;
    writeBuffer_ = serializeReply(reply, !close, http10KeepAlive);
    phase_ = Phase::Writing;
    arm(std::chrono::milliseconds(state_->cfg.bodyTimeoutMs) + rateTime(writeBuffer_.size()));
    asio::async_write(socket_, asio::buffer(writeBuffer_),
                      [self = shared_from_this(), close](const error_code& ec, size_t) { self->onWritten(ec, close); });
}

void Connection::onWritten(const error_code& ec, bool close) {
    if (phase_ == Phase::Closed) return;
    endRequest();
    if (ec) return closeNow();
    if (close) return drainAndClose();
    nextRequest();
}

void Connection::nextRequest() {
    decoder_.emplace(RequestDecoder::Limits{state_->cfg.maxHeaderBytes, state_->cfg.maxBodyBytes});
    bodyShare_.reset();
    route_ = RouteMatch{};
    writeBuffer_ = std::string();
    if (buffer_.capacity() > kKeptBufferBytes) buffer_.shrink_to_fit();
    if (buffer_.size() > 0) {  // pipelined: the next request is already here
        phase_ = Phase::Head;
        arm(std::chrono::milliseconds(state_->cfg.headerTimeoutMs));
        return process();
    }
    if (state_->stopping) return closeNow();
    phase_ = Phase::Idle;
    arm(std::chrono::milliseconds(state_->cfg.keepAliveTimeoutMs));
    readMore();
}

void Connection::fail(int status, std::string reason, const char* timeoutPhase) {
    if (timeoutPhase) state_->metrics.add(kTimeoutsMetric, {{"phase", timeoutPhase}});
    // A read may be pending when a deadline fails the request: the connection closes
    // after this answer, so what it would bring is of no use.
    error_code ignored;
    if (reading_) socket_.cancel(ignored);
    logDebug("http request refused", {{"status", std::to_string(status)}, {"reason", reason}, {"peer", peer_}});
    Reply r = errorReply(status, reason);
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    send(std::move(r), true, inRequest_ ? route_.label : "invalid");
}

void Connection::arm(Clock::duration after) {
    if (after < Clock::duration::zero()) after = Clock::duration::zero();
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), expiry = timer_.expiry()](const error_code& ec) {
        // A cancelled or re-armed timer is not this deadline.
        if (ec || self->timer_.expiry() != expiry || self->phase_ == Phase::Closed) return;
        self->onDeadline();
    });
}

void Connection::onDeadline() {
    const auto& cfg = state_->cfg;
    switch (phase_) {
        case Phase::Idle:
            state_->metrics.add(kTimeoutsMetric, {{"phase", "keepalive"}});
            return closeNow();
        case Phase::Head:
            if (buffer_.size() == 0 && requestSeq_ == 0 && !inRequest_) {
                // Connected and sent nothing: no one to answer.
                state_->metrics.add(kTimeoutsMetric, {{"phase", "header"}});
                return closeNow();
            }
            return fail(408, "request head not complete within " + seconds(cfg.headerTimeoutMs), "header");
        case Phase::Body: {
            auto length = decoder_->contentLength();
            return fail(408,
                        "request body too slow: " + std::to_string(decoder_->bodySize()) + " of " +
                            (length ? std::to_string(*length) : std::string("a chunked body's")) +
                            " bytes in " + seconds(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       Clock::now() - bodyStarted_)
                                                       .count()) +
                            " (server.body_timeout " + seconds(cfg.bodyTimeoutMs) + ", min_body_rate " +
                            std::to_string(cfg.minBodyRate) + " bytes/s)",
                        "body");
        }
        case Phase::Handling: {
            if (!handlerInstance_.empty())
                state_->metrics.add("switchboard_webhook_refused_total",
                                    {{"instance", handlerInstance_}, {"reason", "timeout"}});
            logWarn("http: a handler missed its deadline; answered 503",
                    {{"route", route_.label}, {"reason", handlerTimeoutReason_}});
            Reply r = errorReply(503, handlerTimeoutReason_);
            r.headers.emplace_back("Retry-After", "1");
            return send(std::move(r), true, route_.label);
        }
        case Phase::Writing:
            state_->metrics.add(kTimeoutsMetric, {{"phase", "write"}});
            return closeNow();
        case Phase::Draining:
        case Phase::Closed: return closeNow();
    }
}

void Connection::drainAndClose() {
    phase_ = Phase::Draining;
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    arm(kDrainTime);
    drained_ = 0;
    buffer_.clear();
    if (reading_) return;  // the pending read continues as the drain
    reading_ = true;
    socket_.async_read_some(buffer_.prepare(kHeadReadChunk),
                            [self = shared_from_this()](const error_code& ec, size_t n) { self->onRead(ec, n); });
}

void Connection::closeNow() {
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Closed;
    error_code ignored;
    timer_.cancel();
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    endRequest();
}

void Connection::endRequest() {
    if (!inRequest_) return;
    inRequest_ = false;
    state_->endRequest();
}

}  // namespace switchboard::host::http
