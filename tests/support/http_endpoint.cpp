#include "http_endpoint.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace switchboard::test {

class HttpEndpoint::Handler : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(HttpEndpoint& e) : e_(e) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) override {
        ReceivedRequest r;
        r.method = req.getMethod();
        r.uri = req.getURI();
        for (const auto& [name, value] : req) {
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            r.headers[lower] = value;
        }
        Poco::StreamCopier::copyToString(req.stream(), r.body);
        ScriptedAnswer a;
        {
            std::unique_lock<std::mutex> lock(e_.mutex_);
            e_.received_.push_back(std::move(r));
            a = e_.answer_;
            if (a.hang) e_.released_.wait(lock, [&] { return e_.shuttingDown_; });
        }
        resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(a.status));
        resp.setContentType("application/json");
        for (const auto& [k, v] : a.headers) resp.set(k, v);
        resp.sendBuffer(a.body.data(), a.body.size());
    }

private:
    HttpEndpoint& e_;
};

class HttpEndpoint::Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(HttpEndpoint& e) : e_(e) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(e_);
    }

private:
    HttpEndpoint& e_;
};

HttpEndpoint::HttpEndpoint() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(32);
    params->setMaxQueued(64);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket_, params);
    server_->start();
}

HttpEndpoint::~HttpEndpoint() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        shuttingDown_ = true;
    }
    released_.notify_all();
    server_->stopAll(true);
}

std::string HttpEndpoint::url(const std::string& pathAndQuery) const {
    return "http://127.0.0.1:" + std::to_string(socket_.address().port()) + pathAndQuery;
}

void HttpEndpoint::answer(ScriptedAnswer a) {
    std::lock_guard<std::mutex> lock(mutex_);
    answer_ = std::move(a);
}

std::vector<ReceivedRequest> HttpEndpoint::received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
}

ReceivedRequest HttpEndpoint::only() {
    auto all = received();
    if (all.size() != 1) throw std::runtime_error("expected 1 request, got " + std::to_string(all.size()));
    return all.front();
}

}  // namespace switchboard::test
