#include "webchat_reply.h"

#include "webchat_reply_body.h"
#include "webchat_signature.h"
#include "webchat_version.h"

#include <switchboard/http_client.hpp>

#include <sbcommon/http_answer.h>
#include <sbcommon/provider_request.h>
#include <sbcommon/url_option.h>
#include <sbcommon/utf8.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <utility>

namespace webchat {
namespace {

using switchboard::Result;
namespace http = switchboard::http;

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

ReplySender::ReplySender(ReplyOptions options) : options_(std::move(options)) {
    where_ = sbcommon::checkedHttpUrl("reply_url", options_.url);
    if (options_.timeout.count() <= 0) throw switchboard::ConfigError("option 'reply_timeout': must be more than 0");
    if (!options_.caFile.empty() && !std::ifstream(options_.caFile).good())
        throw switchboard::ConfigError("option 'reply_ca_file': cannot read '" + options_.caFile + "'");
    http_ = std::make_unique<http::Client>();
}

ReplySender::~ReplySender() = default;

Result ReplySender::send(const switchboard::Message& message, switchboard::SendResult& sent) {
    if (message.text.empty() && message.html.empty() && message.attachments.empty())
        return Result::failData("the reply has no text, html or attachments: nothing to send");
    const std::string id = replyId(message);
    const ReplyAnswer answer = post(id, replyBody(message, id, nowMs()));
    return classifyAnswer(answer, id, where_, sent);
}

ReplyAnswer ReplySender::post(const std::string& id, const std::string& body) {
    http::Request req = sbcommon::providerRequest("POST", options_.url, body, options_.timeout,
                                                  std::string("switchboard-webchat/") + kVersion, kMaxAnswerBytes);
    req.headers = {{"Content-Type", "application/json"},
                   {"Accept", "application/json"},
                   {"X-Switchboard-Signature", std::string(kSignaturePrefix) + hmacSha256Hex(options_.secret, body)},
                   {"Expect", ""}};  // no 100-continue round trip for larger bodies
    // The id is also in the body; a header copy only when it cannot break the header block.
    if (std::none_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        req.headers.emplace_back("Idempotency-Key", id);
    req.caFile = options_.caFile;
    ReplyAnswer answer = http_->perform(req);
    if (answer.code == CURLE_OPERATION_TIMEDOUT)
        answer.error = "no answer within reply_timeout (" + std::to_string(options_.timeout.count()) + "ms)";
    return answer;
}

Result classifyAnswer(const ReplyAnswer& answer, const std::string& ourId, const std::string& where,
                      switchboard::SendResult& sent) {
    if (answer.status == 0) return Result::retry("could not deliver the reply to " + where + ": " + answer.error);
    const std::string status = std::to_string(answer.status);
    if (sbcommon::isSuccess(answer.status)) {
        sent.providerMessageId = ourId;
        const auto json = nlohmann::json::parse(answer.body, nullptr, false);
        if (json.is_object()) {
            auto it = json.find("id");
            if (it != json.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
                sent.providerMessageId = it->get<std::string>();
            else if (it != json.end() && it->is_number_integer())
                sent.providerMessageId = it->dump();
        }
        return Result::ok();
    }
    const std::string excerpt = sbcommon::utf8::sanitizedExcerpt(answer.body, kMaxExcerptBytes);
    const std::string said = where + " answered " + status + (excerpt.empty() ? "" : ": " + excerpt);
    // A website's 401/403 is about this reply, not our credentials: FAIL_DATA (no hint).
    return sbcommon::failedAnswer(answer.status, said, http::retryMs(answer.retryAfter()), nullptr);
}

}  // namespace webchat
