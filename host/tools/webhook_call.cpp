#include "webhook_call.h"

#include <algorithm>

namespace switchboard::plugincheck {

namespace {

sb_str span(const std::string& s) { return sb_str{s.data(), s.size()}; }

}  // namespace

Headers mergeHeaders(const Headers& base, const Headers& over) {
    Headers out;
    for (const auto& h : base) {
        bool replaced = std::any_of(over.begin(), over.end(), [&](const auto& o) { return o.first == h.first; });
        if (!replaced) out.push_back(h);
    }
    out.insert(out.end(), over.begin(), over.end());
    return out;
}

WebhookAnswer callWebhook(const sb_plugin_descriptor& d, sb_plugin_instance_plugin_ptr self, const WebhookCall& call) {
    std::vector<sb_kv> headers;
    for (const auto& [name, value] : call.headers) headers.push_back({span(name), span(value)});
    // A public URL as a host configured with server.public_url would pass it.
    const std::string publicUrl = "http://127.0.0.1/webhooks/plugin-check" + call.path +
                                  (call.query.empty() ? "" : "?" + call.query);
    const std::string remote = "127.0.0.1";
    sb_http_request req{static_cast<uint32_t>(sizeof(sb_http_request)), span(call.method), span(call.path),
                        span(call.query), headers.data(), headers.size(), span(call.body), span(remote),
                        span(publicUrl)};
    WebhookAnswer answer;
    sb_http_response resp{};
    resp.struct_size = sizeof resp;
    resp.status = 200;
    resp.host_ctx = &answer;
    resp.set_header = [](void*, sb_str, sb_str) {};
    resp.write_body = [](void* ctx, sb_str data) {
        if (data.data) static_cast<WebhookAnswer*>(ctx)->body.append(data.data, data.size);
    };
    char err[4096] = {0};
    answer.status = d.handle_webhook(self, &req, &resp, sb_errbuf{err, sizeof err});
    err[sizeof err - 1] = '\0';
    answer.error = err;
    answer.httpStatus = resp.status;
    // As the host's front does (ConnectorInstance::handleWebhook): a failure without an error
    // answer becomes 503 (RETRY), 400 (FAIL_DATA) or 500.
    if (answer.status != SB_OK && answer.httpStatus < 400)
        answer.httpStatus = answer.status == SB_RETRY ? 503 : answer.status == SB_FAIL_DATA ? 400 : 500;
    return answer;
}

}  // namespace switchboard::plugincheck
