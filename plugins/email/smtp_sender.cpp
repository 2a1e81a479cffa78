#include "smtp_sender.h"

#include "curl_common.h"
#include "html_text.h"
#include "mime_writer.h"

#include <algorithm>
#include <cstring>

namespace email {
namespace {

using switchboard::Result;

struct Upload {
    const std::string& data;
    size_t offset = 0;
};

size_t readUpload(char* buffer, size_t size, size_t count, void* userdata) {
    auto* u = static_cast<Upload*>(userdata);
    const size_t n = std::min(size * count, u->data.size() - u->offset);
    std::memcpy(buffer, u->data.data() + u->offset, n);
    u->offset += n;
    return n;
}

// Keeps the server's first refusal (a 4yz or 5yz reply line, e.g. "550 5.1.1 <x@y>: unknown
// user"), the text an operator needs when a message is dead-lettered; later lines (QUIT's
// 221) do not overwrite it. Only server lines are seen, never our AUTH.
int keepServerReply(CURL*, curl_infotype type, char* data, size_t size, void* userdata) {
    if (type != CURLINFO_HEADER_IN) return 0;
    auto* reply = static_cast<std::string*>(userdata);
    std::string line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    const bool refusal = !line.empty() && (line[0] == '4' || line[0] == '5');
    if (refusal && reply->empty()) *reply = line.substr(0, 512);
    return 0;
}

std::string attribute(const switchboard::Message& m, const std::string& key) {
    for (const auto& [k, v] : m.attributes)
        if (k == key) return v;
    return {};
}

}  // namespace

Result SmtpSender::send(const switchboard::Message& message, switchboard::SendResult& sent) const {
    OutboundMail mail;
    mail.fromAddress = options_.fromAddress;
    mail.fromName = options_.fromName;
    for (const auto& r : message.recipients)
        if (r.type == "email" && !r.value.empty()) mail.to.push_back(r.value);
    if (mail.to.empty()) return Result::failData("the message has no recipient of type email");
    for (const auto& to : mail.to)
        if (to.find_first_of("<>\r\n ") != std::string::npos || to.find('@') == std::string::npos)
            return Result::failData("recipient '" + to + "' is not a plain email address");
    mail.subject = message.subject;
    mail.text = message.text;
    mail.html = message.html;
    // HTML only: the plain alternative is derived from it, for clients that show text.
    if (mail.text.empty() && !mail.html.empty()) mail.text = htmlToText(mail.html);
    mail.inReplyTo = message.inReplyTo;
    mail.references = message.references;
    mail.messageId = makeMessageId(options_.fromAddress, attribute(message, "outbox.idempotency_key"));
    const std::string raw = composeMail(mail);

    CurlHandle handle = newEasyHandle();
    CURL* c = handle.get();
    applyServerOptions(c, options_.server, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_URL, options_.server.url.c_str());
    const std::string mailFrom = "<" + options_.fromAddress + ">";
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mailFrom.c_str());
    curl_slist* rcpts = nullptr;
    for (const auto& to : mail.to) rcpts = curl_slist_append(rcpts, ("<" + to + ">").c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcptGuard(rcpts, &curl_slist_free_all);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    Upload upload{raw};
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &readUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
    std::string refusal;
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, &keepServerReply);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &refusal);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // feeds the debug callback only; nothing is printed
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);

    const CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        sent.providerMessageId = mail.messageId;
        return Result::ok();
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    const std::string where = options_.server.where();
    const ServerError::Kind kind = classify(rc);
    if (kind == ServerError::Kind::Auth)
        return Result::fatal("SMTP login to " + where + " as '" + options_.server.username +
                             "' was refused: " + refusal);
    if (kind == ServerError::Kind::Tls) return Result::fatal("SMTP to " + where + ": " + describe(rc, errorBuffer));
    const std::string reply = refusal.empty() ? describe(rc, errorBuffer) : refusal;
    // RFC 5321 4.2.1: 5yz is a permanent refusal, 4yz a transient one.
    if (code >= 500 && code < 600) return Result::failData("SMTP server " + where + " refused the message: " + reply);
    if (code >= 400 && code < 500)
        return Result::retry("SMTP server " + where + " deferred the message: " + reply);
    return Result::retry("SMTP to " + where + " failed: " + describe(rc, errorBuffer));
}

}  // namespace email
