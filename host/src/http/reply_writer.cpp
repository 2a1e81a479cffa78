#include "http/reply_writer.h"

#include <boost/beast/http/status.hpp>

#include <chrono>
#include <ctime>
#include <mutex>

namespace switchboard::host::http {

namespace {

// IMF-fixdate (RFC 9110 5.6.7), recomputed at most once a second.
std::string httpDate() {
    static std::mutex mutex;
    static std::time_t cachedAt = 0;
    static std::string cached;
    std::time_t now = std::time(nullptr);
    std::lock_guard lock(mutex);
    if (now != cachedAt) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = buf;
        cachedAt = now;
    }
    return cached;
}

}  // namespace

std::string serializeReply(const Reply& reply, bool keepAlive, bool http10KeepAlive) {
    namespace bhttp = boost::beast::http;
    auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(reply.status)));
    bool bodyless = reply.status == 204 || reply.status == 304;
    std::string out;
    out.reserve(192 + reply.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(reply.status);
    out += ' ';
    out.append(reason.data(), reason.size());
    out += "\r\nDate: ";
    out += httpDate();
    out += "\r\n";
    for (const auto& [name, value] : reply.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!reply.contentType.empty()) {
        out += "Content-Type: ";
        out += reply.contentType;
        out += "\r\n";
    }
    if (!bodyless) {
        out += "Content-Length: ";
        out += std::to_string(reply.body.size());
        out += "\r\n";
    }
    if (!keepAlive) out += "Connection: close\r\n";
    else if (http10KeepAlive) out += "Connection: keep-alive\r\n";
    out += "\r\n";
    if (!bodyless) out += reply.body;
    return out;
}

}  // namespace switchboard::host::http
