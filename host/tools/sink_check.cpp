#include "sink_check.h"

#include "check_options.h"
#include "runtime/abi_text.h"

#include <chrono>
#include <cstring>

namespace switchboard::plugincheck {

namespace {

using host::span;

// What the host's outbox gives (ConnectorInstance::send); the guard after it catches a plugin
// that writes past the capacity it was told.
constexpr size_t kProviderIdCapacity = SB_PROVIDER_MESSAGE_ID_MAX + 1;
constexpr size_t kGuard = 64;
constexpr char kFill = '\xa5';

}  // namespace

std::vector<SinkSample> sinkSamples() {
    std::string longText;
    while (longText.size() < 100 * 1024) longText += "This is a long outbound message from switchboard-plugin-check. ";
    return {
        {"a normal text message", "Hello from switchboard-plugin-check."},
        {"an empty text", ""},
        {"a 100 KB text", longText},
        {"a non-ASCII text", "Ol\xc3\xa1! Gr\xc3\xbc\xc3\x9f" "e, \xe4\xbd\xa0\xe5\xa5\xbd, \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
                             "\xf0\x9f\x91\x8b"},
    };
}

SendObservation sendSample(const sb_plugin_descriptor& d, sb_plugin_instance_plugin_ptr self,
                           const SinkSample& sample, int index, const std::string& channel) {
    const std::string n = std::to_string(index);
    const std::string sourceId = "plugin-check-out-" + n, conversation = "plugin-check-conversation";
    const std::string email = "email", emailValue = "plugin-check@example.com";
    const std::string phone = "phone", phoneValue = "+15555550100";
    const std::string external = "external", externalValue = "plugin-check:recipient-1", noScope;
    const sb_identity recipients[] = {
        {static_cast<uint32_t>(sizeof(sb_identity)), span(email), span(emailValue), span(noScope)},
        {static_cast<uint32_t>(sizeof(sb_identity)), span(phone), span(phoneValue), span(noScope)},
        {static_cast<uint32_t>(sizeof(sb_identity)), span(external), span(externalValue), span(noScope)},
    };
    // The key the outbox passes with every send, so a sink can dedupe a retried message.
    const std::string keyName = "outbox.idempotency_key", key = "plugin-check-" + n;
    const sb_kv attributes[] = {{span(keyName), span(key)}};

    sb_message m{};
    m.struct_size = sizeof m;
    m.channel = span(channel);
    m.direction = SB_DIRECTION_OUTBOUND;
    m.source_id = span(sourceId);
    m.conversation_id = span(conversation);
    m.recipients = recipients;
    m.recipient_count = std::size(recipients);
    m.text = span(sample.text);
    m.attributes = attributes;
    m.attribute_count = std::size(attributes);
    m.occurred_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    // The 1.4 fields, as the outbox fills them.
    const std::string customer = "cu_plugin_check", outbox = std::to_string(1000 + index), kind = "message",
                      purpose = "service";
    m.customer_id = span(customer);
    m.outbox_id = span(outbox);
    m.kind = span(kind);
    m.purpose = span(purpose);
    m.attempt = 1;

    char id[kProviderIdCapacity + kGuard];
    std::memset(id, kFill, sizeof id);
    id[0] = '\0';  // a plugin that writes no id leaves an empty one, as with the host's buffer
    sb_send_result result{static_cast<uint32_t>(sizeof(sb_send_result)), 0, id, kProviderIdCapacity};
    char err[4096] = {0};

    SendObservation o;
    o.status = d.send(self, &m, &result, sb_errbuf{err, sizeof err});
    err[sizeof err - 1] = '\0';
    o.reason = err;
    o.retryAfterMs = result.retry_after_ms;
    for (size_t i = kProviderIdCapacity; i < sizeof id; ++i)
        if (id[i] != kFill) {
            o.problem = "wrote past provider_message_id_capacity (" + std::to_string(kProviderIdCapacity) + " bytes)";
            return o;
        }
    const void* nul = std::memchr(id, '\0', kProviderIdCapacity);
    if (nul == nullptr) {
        o.problem = "the provider message id is not NUL-terminated within its " + std::to_string(kProviderIdCapacity) +
                    "-byte buffer";
        return o;
    }
    o.providerId.assign(id, static_cast<size_t>(static_cast<const char*>(nul) - id));
    return o;
}

bool isDocumentedSendStatus(sb_status s) {
    return s == SB_OK || s == SB_RETRY || s == SB_FAIL_DATA || s == SB_FAIL_FATAL;
}

}  // namespace switchboard::plugincheck

namespace switchboard::plugincheck {

void checkSink(Report& report, const host::LoadedPlugin& plugin, sb_plugin_instance_plugin_ptr self, SinkMode mode,
               const std::string& channel, const std::vector<std::string>& secrets) {
    const bool isSink = (plugin.kind() & SB_KIND_SINK) != 0;
    if (mode == SinkMode::Off) return;
    if (!isSink) {
        if (mode == SinkMode::On)
            report.check("sink checks (--sink)", [&] {
                return "the plugin's kind is '" + plugin.kindName() + "', without SB_KIND_SINK: it has no send";
            });
        return;
    }
    int index = 0;
    bool fatal = false;
    for (const auto& sample : sinkSamples()) {
        const std::string name = "send " + sample.label;
        if (fatal) {
            report.skip(name, "not sent: the instance answered FAIL_FATAL, and the host calls nothing more on it");
            continue;
        }
        SendObservation o = sendSample(plugin.descriptor(), self, sample, ++index, channel);
        std::string outcome = host::statusName(o.status);
        if (o.status == SB_OK) {
            outcome += o.providerId.empty() ? ", no provider message id"
                                            : ", provider message id '" + withoutSecrets(o.providerId, secrets) + "'";
        } else {
            if (o.status == SB_RETRY && o.retryAfterMs > 0)
                outcome += " after " + std::to_string(o.retryAfterMs) + "ms";
            outcome += ": " + (o.reason.empty() ? std::string("(no reason given)")
                                                : excerpt(withoutSecrets(o.reason, secrets)));
        }
        report.check(name + ": " + outcome, [&]() -> std::string {
            if (!o.problem.empty()) return o.problem;
            if (o.status == SB_UNSUPPORTED) {
                if (mode == SinkMode::On) return "--sink was given, but send is UNSUPPORTED with this config";
                return "";
            }
            if (!isDocumentedSendStatus(o.status))
                return "send may return OK, RETRY, FAIL_DATA or FAIL_FATAL, not " + std::string(host::statusName(o.status));
            return "";
        });
        if (o.status == SB_UNSUPPORTED && mode == SinkMode::Auto) {
            report.note("send is UNSUPPORTED with this config: the sink checks stop here (configure the sink "
                        "with --option, and give --sink to require them)");
            return;
        }
        fatal = o.status == SB_FAIL_FATAL;
    }
}

}  // namespace switchboard::plugincheck
