// Switchboard plugin SDK — header-only C++ wrapper over the C ABI in <switchboard/plugin.h>.
//
// A connector is one class derived from switchboard::Plugin plus one SWITCHBOARD_PLUGIN(...)
// line. This header turns C calls into virtual calls, C spans into std::string_view,
// owned C++ messages into borrowed sb_message views, and every exception into a status plus
// message at the boundary (no exception ever crosses the ABI). It compiles in the plugin,
// with the plugin's own compiler and standard library; nothing here is shared with the
// host at the C++ level.
//
//   class Echo : public switchboard::Plugin {
//    public:
//     Echo(switchboard::Host host, const switchboard::Config& cfg)
//         : Plugin(host), greeting_(cfg.getString("greeting")) {}
//     switchboard::Result handleWebhook(const switchboard::Request& req,
//                                       switchboard::Response& resp) override { ... }
//    private:
//     std::string greeting_;
//   };
//   static constexpr sb_option kOptions[] = {
//       switchboard::Option("greeting", SB_OPT_STRING, "What to say.").defaultValue("hello"),
//   };
//   SWITCHBOARD_PLUGIN(Echo, "echo", "1.0.0", "Says hello.", SB_KIND_SOURCE, kOptions)
//
// Optional static members of the class, picked up by SWITCHBOARD_PLUGIN (since 1.4):
//   static void validate(const Config&, ConfigProblems&);      cross-option rules, run by
//                                                              check-config and before create
//   static constexpr sb_webhook_route kWebhookRoutes[] = {...}; methods and paths served
//   static constexpr sb_metric kMetrics[] = {...};              HELP text of its metrics
//   static constexpr const char* kReaches = "phone";            sinks: identity types reached
#pragma once

#include <switchboard/plugin.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace switchboard {

inline std::string_view view(sb_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
inline sb_str span(std::string_view s) { return sb_str{s.data(), s.size()}; }

// Writes text into a host-owned error buffer, truncating to fit.
inline void writeError(sb_errbuf err, std::string_view text) {
    if (err.data == nullptr || err.capacity == 0) return;
    const size_t n = std::min(text.size(), err.capacity - 1);
    std::memcpy(err.data, text.data(), n);
    err.data[n] = '\0';
}

// An outcome with a reason: what every plugin entry point returns.
class Result {
public:
    static Result ok() { return Result(SB_OK, {}); }
    static Result retry(std::string why, uint32_t afterMs = 0) {
        Result r(SB_RETRY, std::move(why));
        r.retryAfterMs_ = afterMs;
        return r;
    }
    // This input can never succeed: a send's message is dead-lettered, a webhook answered 400.
    static Result failData(std::string why) { return Result(SB_FAIL_DATA, std::move(why)); }
    // SB_FAIL_FATAL, as defined in <switchboard/plugin.h> (sb_status): the instance is broken,
    // not the input; `why` becomes its last_error (no secret in it).
    static Result fatal(std::string why) { return Result(SB_FAIL_FATAL, std::move(why)); }
    static Result configError(std::string why) { return Result(SB_FAIL_CONFIG, std::move(why)); }
    static Result unsupported(std::string why) { return Result(SB_UNSUPPORTED, std::move(why)); }

    sb_status status() const { return status_; }
    const std::string& message() const { return message_; }
    uint32_t retryAfterMs() const { return retryAfterMs_; }
    bool isOk() const { return status_ == SB_OK; }

    Result(sb_status status, std::string message) : status_(status), message_(std::move(message)) {}

private:
    sb_status status_;
    std::string message_;
    uint32_t retryAfterMs_ = 0;
};

// Thrown from a plugin constructor when the configuration cannot work (a cross-field rule,
// an unparsable URL). The host reports it against the instance's config.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One option of the schema (the 1.0 fields). constexpr so the schema is a static table.
constexpr sb_option option(const char* name, sb_option_type type, uint32_t flags,
                           const char* defaultValue, const char* description) {
    sb_option o{};
    o.struct_size = static_cast<uint32_t>(sizeof(sb_option));
    o.name = name;
    o.type = type;
    o.flags = flags;
    o.default_value = defaultValue;
    o.description = description;
    return o;
}

// One option of the schema, with its constraints (since 1.4; see sb_option), e.g.
//   Option("signature_method", SB_OPT_STRING, "How requests are signed.").defaultValue("md5hash")
//       .oneOf("md5hash|sha256|sha512")
//   Option("from", SB_OPT_STRING, "Sender number.").group("sender")
//   Option("smtp_url", SB_OPT_STRING, "Outgoing mail server.").format(SB_FORMAT_URL).needs("from_address")
// The host checks every constraint before create and in check-config.
class Option {
public:
    constexpr Option(const char* name, sb_option_type type, const char* description)
        : o_(option(name, type, 0, nullptr, description)) {}
    constexpr Option required() const { Option c = *this; c.o_.flags |= SB_OPTION_REQUIRED; return c; }
    constexpr Option secret() const { Option c = *this; c.o_.flags |= SB_OPTION_SECRET; return c; }
    constexpr Option defaultValue(const char* v) const { Option c = *this; c.o_.default_value = v; return c; }
    constexpr Option oneOf(const char* values) const { Option c = *this; c.o_.allowed = values; return c; }
    constexpr Option pattern(const char* re) const { Option c = *this; c.o_.pattern = re; return c; }
    constexpr Option min(const char* v) const { Option c = *this; c.o_.min_value = v; return c; }
    constexpr Option max(const char* v) const { Option c = *this; c.o_.max_value = v; return c; }
    constexpr Option format(sb_option_format f) const {
        Option c = *this;
        c.o_.format = static_cast<uint32_t>(f);
        return c;
    }
    constexpr Option needs(const char* options) const { Option c = *this; c.o_.requires_options = options; return c; }
    constexpr Option group(const char* name) const { Option c = *this; c.o_.one_of_group = name; return c; }
    constexpr operator sb_option() const { return o_; }

private:
    sb_option o_;
};

// A webhook route the plugin serves (since 1.4; see sb_webhook_route).
constexpr sb_webhook_route route(const char* methods, const char* path, const char* description) {
    return sb_webhook_route{static_cast<uint32_t>(sizeof(sb_webhook_route)), methods, path, description};
}

// A metric's HELP text (since 1.4; see sb_metric). type: "counter" or "gauge".
constexpr sb_metric metric(const char* name, const char* type, const char* help) {
    return sb_metric{static_cast<uint32_t>(sizeof(sb_metric)), name, type, help};
}

// The validated options of one instance, copied out of the borrowed sb_config.
class Config {
public:
    explicit Config(const sb_config* cfg) {
        if (cfg == nullptr) return;
        instanceName_ = std::string(view(cfg->instance_name));
        for (size_t i = 0; i < cfg->entry_count; ++i) {
            values_[std::string(view(cfg->entries[i].key))].emplace_back(view(cfg->entries[i].value));
        }
    }
    // Options with a default in the schema always have a value here: read them without a
    // fallback (the fallback is for options without a default that were not set).
    const std::string& instanceName() const { return instanceName_; }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const {
        auto it = values_.find(name);
        if (it == values_.end() || it->second.empty()) return std::nullopt;
        return it->second.front();
    }
    std::string getString(const std::string& name, const std::string& fallback = {}) const {
        return get(name).value_or(fallback);
    }
    // Numbers are parsed strictly: the whole text, or a ConfigError naming the option.
    int64_t getInt(const std::string& name, int64_t fallback = 0) const {
        auto v = get(name);
        return v ? parseNumber<int64_t>(name, *v, "an integer") : fallback;
    }
    double getDouble(const std::string& name, double fallback = 0) const {
        auto v = get(name);
        if (!v) return fallback;
        try {
            size_t used = 0;
            double d = std::stod(*v, &used);
            if (used == v->size()) return d;
        } catch (const std::exception&) {
        }
        throw ConfigError("option '" + name + "': expected a number, got '" + *v + "'");
    }
    bool getBool(const std::string& name, bool fallback = false) const {
        auto v = get(name);
        return v ? *v == "true" : fallback;
    }
    // Durations arrive from the host in milliseconds.
    std::chrono::milliseconds getDuration(const std::string& name,
                                          std::chrono::milliseconds fallback = {}) const {
        auto v = get(name);
        return v ? std::chrono::milliseconds(parseNumber<int64_t>(name, *v, "a duration in ms")) : fallback;
    }
    std::vector<std::string> getList(const std::string& name) const {
        auto it = values_.find(name);
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }

private:
    template <typename T>
    static T parseNumber(const std::string& name, const std::string& text, const char* what) {
        T out{};
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        if (ec != std::errc() || end != text.data() + text.size())
            throw ConfigError("option '" + name + "': expected " + what + ", got '" + text + "'");
        return out;
    }
    std::string instanceName_;
    std::map<std::string, std::vector<std::string>> values_;
};

// What a plugin's validate reports: each problem names the option it is about (the host shows
// that option's file:line:col) or "" for the instance as a whole. Never put a secret in it.
class ConfigProblems {
public:
    struct Problem {
        std::string option;
        std::string message;
    };
    void add(std::string option, std::string message) { items_.push_back({std::move(option), std::move(message)}); }
    bool empty() const { return items_.empty(); }
    const std::vector<Problem>& items() const { return items_; }
    // "option 'a': why; option 'b': why", for an error buffer.
    std::string summary() const {
        std::string out;
        for (const auto& p : items_) {
            if (!out.empty()) out += "; ";
            out += p.option.empty() ? p.message : "option '" + p.option + "': " + p.message;
        }
        return out;
    }

private:
    std::vector<Problem> items_;
};

struct Identity {
    std::string type;  // "email", "phone", "external" ("system:id")
    std::string value;
    std::string scope;
};

struct Attachment {
    std::string name;
    std::string contentType;
    uint64_t sizeBytes = 0;
    std::string contentId;
    std::string reference;
};

// An owned normalized message. Build one per inbound item and pass a batch to Host::emit;
// a sink receives one (copied out of the borrowed sb_message) in Plugin::send.
struct Message {
    std::string channel;
    sb_direction direction = SB_DIRECTION_INBOUND;
    std::string sourceId;
    std::string conversationId;
    std::string inReplyTo;
    std::vector<std::string> references;
    std::string senderName;
    std::vector<Identity> sender;
    std::vector<Identity> recipients;
    std::string subject;
    std::string text;
    std::string html;
    std::vector<Attachment> attachments;
    int64_t occurredAtMs = 0;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::string rawContentType;
    std::string raw;
    // Since 1.4, on outbound messages a sink receives (see sb_message); empty / 0 from an
    // older host and on inbound messages.
    std::string customerId;
    std::string outboxId;
    std::string kind;     // message | reply | forward | case
    std::string purpose;  // service | marketing
    uint32_t attempt = 0; // 1 for the first try
    bool replay = false;  // replayed from the dead letters by an operator

    static Message fromAbi(const sb_message& m) {
        Message out;
        out.channel = std::string(view(m.channel));
        out.direction = m.direction;
        out.sourceId = std::string(view(m.source_id));
        out.conversationId = std::string(view(m.conversation_id));
        out.inReplyTo = std::string(view(m.in_reply_to));
        for (size_t i = 0; i < m.reference_count; ++i) out.references.emplace_back(view(m.references[i]));
        // Arrays of versioned structs are stepped by their writer's struct_size (SB_ARRAY_AT).
        out.senderName = std::string(view(m.sender_name));
        auto identities = [](const sb_identity* ids, size_t n) {
            std::vector<Identity> v;
            for (size_t i = 0; i < n; ++i) {
                const sb_identity& id = *SB_ARRAY_AT(sb_identity, ids, i);
                v.push_back({std::string(view(id.type)), std::string(view(id.value)), std::string(view(id.scope))});
            }
            return v;
        };
        out.sender = identities(m.sender, m.sender_count);
        out.recipients = identities(m.recipients, m.recipient_count);
        out.subject = std::string(view(m.subject));
        out.text = std::string(view(m.text));
        out.html = std::string(view(m.html));
        for (size_t i = 0; i < m.attachment_count; ++i) {
            const sb_attachment& a = *SB_ARRAY_AT(sb_attachment, m.attachments, i);
            out.attachments.push_back({std::string(view(a.name)), std::string(view(a.content_type)),
                                       a.size_bytes, std::string(view(a.content_id)),
                                       std::string(view(a.reference))});
        }
        out.occurredAtMs = m.occurred_at_ms;
        for (size_t i = 0; i < m.attribute_count; ++i)
            out.attributes.emplace_back(view(m.attributes[i].key), view(m.attributes[i].value));
        out.rawContentType = std::string(view(m.raw_content_type));
        out.raw = std::string(view(m.raw));
        const sb_message* sent = &m;  // SB_HAS_FIELD takes a pointer (a reference is never NULL)
        if (SB_HAS_FIELD(sent, sb_message, replay)) {
            out.customerId = std::string(view(m.customer_id));
            out.outboxId = std::string(view(m.outbox_id));
            out.kind = std::string(view(m.kind));
            out.purpose = std::string(view(m.purpose));
            out.attempt = m.attempt;
            out.replay = m.replay != 0;
        }
        return out;
    }
};

namespace detail {

// Borrowed C views of one owned Message; valid while the Message and this object live.
class MessageView {
public:
    explicit MessageView(const Message& m) {
        for (const auto& r : m.references) references_.push_back(span(r));
        for (const auto& i : m.sender) sender_.push_back(identity(i));
        for (const auto& i : m.recipients) recipients_.push_back(identity(i));
        for (const auto& a : m.attachments)
            attachments_.push_back(sb_attachment{static_cast<uint32_t>(sizeof(sb_attachment)), span(a.name),
                                                 span(a.contentType), a.sizeBytes, span(a.contentId),
                                                 span(a.reference)});
        for (const auto& [k, v] : m.attributes) attributes_.push_back(sb_kv{span(k), span(v)});
        abi_ = sb_message{};
        abi_.struct_size = sizeof(sb_message);
        abi_.channel = span(m.channel);
        abi_.direction = m.direction;
        abi_.source_id = span(m.sourceId);
        abi_.conversation_id = span(m.conversationId);
        abi_.in_reply_to = span(m.inReplyTo);
        abi_.references = references_.data();
        abi_.reference_count = references_.size();
        abi_.sender_name = span(m.senderName);
        abi_.sender = sender_.data();
        abi_.sender_count = sender_.size();
        abi_.recipients = recipients_.data();
        abi_.recipient_count = recipients_.size();
        abi_.subject = span(m.subject);
        abi_.text = span(m.text);
        abi_.html = span(m.html);
        abi_.attachments = attachments_.data();
        abi_.attachment_count = attachments_.size();
        abi_.occurred_at_ms = m.occurredAtMs;
        abi_.attributes = attributes_.data();
        abi_.attribute_count = attributes_.size();
        abi_.raw_content_type = span(m.rawContentType);
        abi_.raw = span(m.raw);
    }
    MessageView(const MessageView&) = delete;
    MessageView& operator=(const MessageView&) = delete;
    MessageView(MessageView&&) = default;
    const sb_message& abi() const { return abi_; }

private:
    static sb_identity identity(const Identity& i) {
        return sb_identity{static_cast<uint32_t>(sizeof(sb_identity)), span(i.type), span(i.value),
                           span(i.scope)};
    }
    std::vector<sb_str> references_;
    std::vector<sb_identity> sender_;
    std::vector<sb_identity> recipients_;
    std::vector<sb_attachment> attachments_;
    std::vector<sb_kv> attributes_;
    sb_message abi_{};
};

}  // namespace detail

// The host's services for one instance. Cheap to copy; valid until the instance is destroyed.
class Host {
public:
    Host(const sb_host_api* api, sb_host_instance_host_ptr inst) : api_(api), inst_(inst) {}

    bool logEnabled(sb_log_level level) const { return api_->log_enabled(inst_, level) != 0; }
    void log(sb_log_level level, std::string_view text) const { api_->log(inst_, level, span(text)); }
    void debug(std::string_view text) const { log(SB_LOG_DEBUG, text); }
    void info(std::string_view text) const { log(SB_LOG_INFO, text); }
    void warn(std::string_view text) const { log(SB_LOG_WARN, text); }
    void error(std::string_view text) const { log(SB_LOG_ERROR, text); }

    // Durably commits the batch (and the checkpoint, when key is non-empty) before returning.
    // outcomes mean something only when the result is OK (STORED/DUPLICATE) or FAIL_DATA
    // (the offending messages are REJECTED, nothing was stored).
    Result emit(const std::vector<Message>& batch, std::string_view checkpointKey = {},
                std::string_view checkpointValue = {},
                std::vector<sb_emit_outcome>* outcomes = nullptr) const {
        std::vector<detail::MessageView> views;
        views.reserve(batch.size());
        std::vector<sb_message> abi;
        abi.reserve(batch.size());
        for (const auto& m : batch) abi.push_back(views.emplace_back(m).abi());
        sb_emit_batch b{static_cast<uint32_t>(sizeof(sb_emit_batch)), abi.data(), abi.size(),
                        span(checkpointKey), span(checkpointValue)};
        if (outcomes) outcomes->assign(batch.size(), SB_EMIT_STORED);
        char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
        sb_status s = api_->emit(inst_, &b, outcomes ? outcomes->data() : nullptr,
                                 sb_errbuf{buf, sizeof buf});
        return Result(s, buf);
    }
    Result emit(const Message& one, sb_emit_outcome* outcome = nullptr) const {
        std::vector<sb_emit_outcome> outs;
        Result r = emit(std::vector<Message>{one}, {}, {}, outcome ? &outs : nullptr);
        if (outcome && !outs.empty()) *outcome = outs.front();
        return r;
    }

    // The committed checkpoint under key into *value (nullopt when none); RETRY when the store
    // cannot be read now.
    Result readCheckpoint(std::string_view key, std::optional<std::string>& value) const {
        value.reset();
        char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
        sb_status s = api_->checkpoint_get(
            inst_, span(key), &value,
            [](void* ctx, sb_str v) { *static_cast<std::optional<std::string>*>(ctx) = std::string(view(v)); },
            sb_errbuf{buf, sizeof buf});
        return Result(s, buf);
    }
    // Shorthand for readCheckpoint that throws std::runtime_error when the store cannot be read
    // (inside a plugin entry point the wrapper turns that into SB_RETRY).
    std::optional<std::string> checkpoint(std::string_view key) const {
        std::optional<std::string> out;
        char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
        sb_status s = api_->checkpoint_get(
            inst_, span(key), &out,
            [](void* ctx, sb_str value) { *static_cast<std::optional<std::string>*>(ctx) = std::string(view(value)); },
            sb_errbuf{buf, sizeof buf});
        if (s != SB_OK) throw std::runtime_error(std::string("checkpoint read failed: ") + buf);
        return out;
    }
    Result putCheckpoint(std::string_view key, std::string_view value) const {
        char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
        sb_status s = api_->checkpoint_put(inst_, span(key), span(value), sb_errbuf{buf, sizeof buf});
        return Result(s, buf);
    }

    void count(std::string_view name, double delta = 1) const { api_->counter_add(inst_, span(name), delta); }
    void gauge(std::string_view name, double value) const { api_->gauge_set(inst_, span(name), value); }

    // ABI minor version of the host, for logs. To know whether a service exists use the
    // can...() calls below (they test struct_size with SB_HAS_FIELD).
    uint32_t abiMinor() const { return api_->abi_minor; }

    // True when the host counts refusals (a 1.4 host or newer).
    bool canCountRejected() const {
        return SB_HAS_FIELD(api_, sb_host_api, count_rejected) && api_->count_rejected != nullptr;
    }
    // Since 1.4: count a refused request in counters.rejected, by reason ([a-z0-9_]+). Does
    // nothing on an older host.
    void countRejected(std::string_view reason) const {
        if (canCountRejected()) api_->count_rejected(inst_, span(reason));
    }

    // True when the host offers delivery receipts (a 1.1 host or newer).
    bool canReportDelivery() const {
        return SB_HAS_FIELD(api_, sb_host_api, report_delivery) && api_->report_delivery != nullptr;
    }
    // Since 1.1: a receipt for an outbound message this instance sent, matched by the
    // provider id its send returned. On an older host: UNSUPPORTED, nothing recorded.
    Result reportDelivery(std::string_view providerMessageId, sb_delivery_status status,
                          std::string_view errorCode = {}, std::string_view detail = {},
                          int64_t occurredAtMs = 0) const {
        if (!canReportDelivery()) return Result::unsupported("the host does not take delivery receipts (ABI < 1.1)");
        sb_delivery_report report{static_cast<uint32_t>(sizeof(sb_delivery_report)), span(providerMessageId),
                                  status, span(errorCode), span(detail), occurredAtMs};
        char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
        sb_status s = api_->report_delivery(inst_, &report, sb_errbuf{buf, sizeof buf});
        return Result(s, buf);
    }

    // True when the host takes consent changes (a 1.2 host or newer).
    bool canReportConsent() const {
        return SB_HAS_FIELD(api_, sb_host_api, report_consent) && api_->report_consent != nullptr;
    }
    // Since 1.2: what a customer said about receiving messages at one address (an SMS STOP,
    // a provider's "unsubscribed" error). purpose: "service", "marketing" or "" for both;
    // status: "opted_in" or "opted_out"; source: evidence such as "sms STOP".
    // On an older host: UNSUPPORTED, nothing recorded.
    Result reportConsent(const Identity& address, std::string_view purpose, std::string_view status,
                         std::string_view source = {}) const {
        if (!canReportConsent()) return Result::unsupported("the host does not take consent changes (ABI < 1.2)");
        sb_identity id{static_cast<uint32_t>(sizeof(sb_identity)), span(address.type), span(address.value),
                       span(address.scope)};
        char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
        sb_status s = api_->report_consent(inst_, &id, span(purpose), span(status), span(source),
                                           sb_errbuf{buf, sizeof buf});
        return Result(s, buf);
    }

    // True when the host takes poll requests (a 1.3 host or newer).
    bool canRequestPoll() const {
        return SB_HAS_FIELD(api_, sb_host_api, request_poll) && api_->request_poll != nullptr;
    }
    // Since 1.3: ask the host to run this instance's poll soon (coalesced, never blocks).
    // For a thread that learned there is new data, e.g. an IMAP IDLE watcher.
    // On an older host it does nothing: the instance keeps its regular poll interval.
    void requestPoll() const {
        if (canRequestPoll()) api_->request_poll(inst_);
    }

private:
    const sb_host_api* api_;
    sb_host_instance_host_ptr inst_;
};

// A webhook request; every view is valid during handleWebhook only.
class Request {
public:
    explicit Request(const sb_http_request& r) : r_(r) {}
    std::string_view method() const { return view(r_.method); }
    std::string_view path() const { return view(r_.path); }
    std::string_view query() const { return view(r_.query); }
    std::string_view body() const { return view(r_.body); }
    std::string_view remoteAddr() const { return view(r_.remote_addr); }
    std::string_view publicUrl() const { return view(r_.public_url); }
    // Header lookup by lower-case name.
    std::optional<std::string_view> header(std::string_view lowerName) const {
        for (size_t i = 0; i < r_.header_count; ++i)
            if (view(r_.headers[i].key) == lowerName) return view(r_.headers[i].value);
        return std::nullopt;
    }

private:
    const sb_http_request& r_;
};

class Response {
public:
    explicit Response(sb_http_response& r) : r_(r) {}
    void setStatus(int status) { r_.status = status; }
    void setHeader(std::string_view name, std::string_view value) { r_.set_header(r_.host_ctx, span(name), span(value)); }
    void write(std::string_view data) { r_.write_body(r_.host_ctx, span(data)); }
    // A JSON reply with a status: the common case for webhook answers.
    void json(int status, std::string_view body) {
        setStatus(status);
        setHeader("content-type", "application/json");
        write(body);
    }

private:
    sb_http_response& r_;
};

struct SendResult {
    std::string providerMessageId;  // at most SB_PROVIDER_MESSAGE_ID_MAX bytes
};

namespace detail {
// text as a JSON string literal.
inline std::string jsonQuote(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}
}  // namespace detail

// Base class of a connector. Override what your connector does; the defaults refuse.
class Plugin {
public:
    explicit Plugin(Host host) : host_(host) {}
    virtual ~Plugin() = default;
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    virtual Result start() { return Result::ok(); }
    virtual Result stop() { return Result::ok(); }
    virtual Result handleWebhook(const Request&, Response& resp) {
        resp.json(404, R"({"error":"this connector does not accept webhooks"})");
        return Result::ok();
    }
    // Fetch what is new and emit it. Set nextPoll to ask for a different interval.
    virtual Result poll(std::chrono::milliseconds& /*nextPoll*/) {
        return Result::unsupported("this connector does not poll");
    }
    // Deliver one outbound message: ok (set providerMessageId), retry(why, afterMs),
    // failData(why) for this message only, or fatal(why) when the instance is broken and no
    // message can go (see Result::fatal).
    virtual Result send(const Message&, SendResult&) {
        return Result::unsupported("this connector does not send");
    }

protected:
    const Host& host() const { return host_; }

    // Refuses a webhook request: answers status with {"error": message} and counts it in the
    // instance's counters.rejected under reason ([a-z0-9_]+, e.g. "bad_signature"). The message
    // goes to the caller: say what is wrong with the request, never a secret or an internal.
    Result refuse(Response& resp, int status, std::string_view reason, std::string_view message) const {
        host_.countRejected(reason);
        resp.json(status, "{\"error\":" + detail::jsonQuote(message) + "}");
        return Result::ok();
    }

private:
    Host host_;
};

namespace detail {

// The exception barrier: runs fn, turning any exception into a status and message.
template <typename Fn>
sb_status guarded(sb_errbuf err, sb_status onException, Fn&& fn) noexcept {
    try {
        return fn();
    } catch (const ConfigError& e) {
        writeError(err, e.what());
        return SB_FAIL_CONFIG;
    } catch (const std::exception& e) {
        writeError(err, e.what());
        return onException;
    } catch (...) {
        writeError(err, "unknown exception in plugin");
        return onException;
    }
}

inline sb_status report(const Result& r, sb_errbuf err) {
    if (!r.isOk()) writeError(err, r.message());
    return r.status();
}

// Detects the optional static members a plugin class may declare (see the top of this file).
// The plugin's option table, recorded by the entry point (SWITCHBOARD_PLUGIN) so create can
// refuse a config without a required option on a host that did not check (conformance kits).
template <typename P>
struct SchemaOf {
    static inline const sb_option* options = nullptr;
    static inline size_t count = 0;
};

template <typename P, typename = void>
struct HasValidate : std::false_type {};
template <typename P>
struct HasValidate<P, std::void_t<decltype(P::validate(std::declval<const Config&>(), std::declval<ConfigProblems&>()))>>
    : std::true_type {};
template <typename P, typename = void>
struct HasRoutes : std::false_type {};
template <typename P>
struct HasRoutes<P, std::void_t<decltype(P::kWebhookRoutes)>> : std::true_type {};
template <typename P, typename = void>
struct HasMetrics : std::false_type {};
template <typename P>
struct HasMetrics<P, std::void_t<decltype(P::kMetrics)>> : std::true_type {};
template <typename P, typename = void>
struct HasReaches : std::false_type {};
template <typename P>
struct HasReaches<P, std::void_t<decltype(P::kReaches)>> : std::true_type {};

template <typename P>
struct Adapter {
    static P* self(sb_plugin_instance_plugin_ptr p) { return reinterpret_cast<P*>(p); }

    // Runs P::validate; a ConfigError thrown from it (a getter's strict parse) is a problem too.
    static ConfigProblems problemsOf(const Config& config) {
        ConfigProblems problems;
        if constexpr (HasValidate<P>::value) {
            try {
                P::validate(config, problems);
            } catch (const ConfigError& e) {
                problems.add("", e.what());
            }
        }
        return problems;
    }
    static sb_status validate(const sb_config* cfg, void* ctx, sb_config_problem_fn problem) noexcept {
        try {
            ConfigProblems problems = problemsOf(Config(cfg));
            for (const auto& p : problems.items()) problem(ctx, span(p.option), span(p.message));
            return problems.empty() ? SB_OK : SB_FAIL_CONFIG;
        } catch (const std::exception& e) {
            problem(ctx, sb_str{}, span(std::string("validate failed: ") + e.what()));
        } catch (...) {
            problem(ctx, sb_str{}, span("validate failed: unknown exception in plugin"));
        }
        return SB_FAIL_CONFIG;
    }

    static sb_status create(const sb_host_api* api, sb_host_instance_host_ptr inst, const sb_config* cfg,
                            sb_plugin_instance_plugin_ptr* out, sb_errbuf err) noexcept {
        if (api == nullptr || api->struct_size < SB_HOST_API_SIZE_1_0 || api->abi_major != SB_ABI_VERSION_MAJOR) {
            writeError(err, "host services table is missing or from an incompatible ABI");
            return SB_FAIL_FATAL;
        }
        // A ConfigError means "fix the config"; anything else (a network error while
        // connecting, say) is worth retrying, so it is FATAL, which the host retries with backoff.
        return guarded(err, SB_FAIL_FATAL, [&] {
            Config config(cfg);
            // The same rules check-config ran: a config it passed is not refused here.
            ConfigProblems problems;
            for (size_t i = 0; i < SchemaOf<P>::count; ++i) {
                const sb_option* o = SB_ARRAY_AT(sb_option, SchemaOf<P>::options, i);
                if ((o->flags & SB_OPTION_REQUIRED) && !config.has(o->name))
                    problems.add(o->name, "is required and missing");
            }
            if (problems.empty()) problems = problemsOf(config);
            if (!problems.empty()) {
                writeError(err, problems.summary());
                return SB_FAIL_CONFIG;
            }
            *out = reinterpret_cast<sb_plugin_instance_plugin_ptr>(new P(Host(api, inst), config));
            return SB_OK;
        });
    }
    static sb_status start(sb_plugin_instance_plugin_ptr p, sb_errbuf err) noexcept {
        return guarded(err, SB_FAIL_FATAL, [&] { return report(self(p)->start(), err); });
    }
    static sb_status stop(sb_plugin_instance_plugin_ptr p, sb_errbuf err) noexcept {
        return guarded(err, SB_FAIL_FATAL, [&] { return report(self(p)->stop(), err); });
    }
    static void destroy(sb_plugin_instance_plugin_ptr p) noexcept {
        try {
            delete self(p);
        } catch (...) {
        }
    }
    static sb_status handleWebhook(sb_plugin_instance_plugin_ptr p, const sb_http_request* req,
                                   sb_http_response* resp, sb_errbuf err) noexcept {
        // An exception is a plugin bug, not the sender's: RETRY answers 503 so the provider
        // delivers again instead of dropping the message.
        return guarded(err, SB_RETRY, [&] {
            Request request(*req);
            Response response(*resp);
            return report(self(p)->handleWebhook(request, response), err);
        });
    }
    static sb_status poll(sb_plugin_instance_plugin_ptr p, sb_poll_result* result, sb_errbuf err) noexcept {
        return guarded(err, SB_RETRY, [&] {
            std::chrono::milliseconds next{0};
            Result r = self(p)->poll(next);
            if (result) result->next_poll_ms = static_cast<uint32_t>(next.count());
            return report(r, err);
        });
    }
    static sb_status send(sb_plugin_instance_plugin_ptr p, const sb_message* msg, sb_send_result* result,
                          sb_errbuf err) noexcept {
        return guarded(err, SB_RETRY, [&] {
            SendResult sent;
            Result r = self(p)->send(Message::fromAbi(*msg), sent);
            if (result) {
                result->retry_after_ms = r.retryAfterMs();
                const size_t capacity = result->provider_message_id ? result->provider_message_id_capacity : 0;
                if (!sent.providerMessageId.empty() &&
                    (sent.providerMessageId.size() > SB_PROVIDER_MESSAGE_ID_MAX ||
                     sent.providerMessageId.size() >= capacity)) {
                    // A cut id would match no receipt: say so instead (the plugin must be fixed).
                    return report(Result::failData("the provider took the message, but its id is " +
                                                   std::to_string(sent.providerMessageId.size()) +
                                                   " bytes, longer than SB_PROVIDER_MESSAGE_ID_MAX (" +
                                                   std::to_string(SB_PROVIDER_MESSAGE_ID_MAX) +
                                                   "): the plugin must return a shorter id"),
                                  err);
                }
                if (capacity > 0)
                    writeError(sb_errbuf{result->provider_message_id, capacity}, sent.providerMessageId);
            }
            return report(r, err);
        });
    }
};

template <typename P>
constexpr sb_plugin_descriptor makeDescriptor(const char* name, const char* version, const char* description,
                                              uint32_t kind, const sb_option* options, size_t optionCount) {
    sb_plugin_descriptor d{};
    d.struct_size = sizeof(sb_plugin_descriptor);
    d.abi_major = SB_ABI_VERSION_MAJOR;
    d.abi_minor = SB_ABI_VERSION_MINOR;
    d.name = name;
    d.version = version;
    d.description = description;
    d.kind = kind;
    d.options = options;
    d.option_count = optionCount;
    d.create = &Adapter<P>::create;
    d.start = &Adapter<P>::start;
    d.stop = &Adapter<P>::stop;
    d.destroy = &Adapter<P>::destroy;
    // Only what the class overrides is announced: &P::poll names Plugin::poll unless P has its own.
    constexpr bool webhooks = !std::is_same_v<decltype(&P::handleWebhook), decltype(&Plugin::handleWebhook)>;
    constexpr bool polls = !std::is_same_v<decltype(&P::poll), decltype(&Plugin::poll)>;
    // Any kind may serve webhooks: a pure sink takes its provider's delivery receipts.
    d.handle_webhook = webhooks ? &Adapter<P>::handleWebhook : nullptr;
    d.poll = ((kind & SB_KIND_SOURCE) && polls) ? &Adapter<P>::poll : nullptr;
    d.send = (kind & SB_KIND_SINK) ? &Adapter<P>::send : nullptr;
    if constexpr (HasValidate<P>::value) d.validate = &Adapter<P>::validate;
    if constexpr (HasRoutes<P>::value) {
        d.webhook_routes = P::kWebhookRoutes;
        d.webhook_route_count = sizeof(P::kWebhookRoutes) / sizeof(P::kWebhookRoutes[0]);
    }
    if constexpr (HasMetrics<P>::value) {
        d.metrics = P::kMetrics;
        d.metric_count = sizeof(P::kMetrics) / sizeof(P::kMetrics[0]);
    }
    if constexpr (HasReaches<P>::value) d.reaches = P::kReaches;
    return d;
}

template <typename P, size_t N>
constexpr sb_plugin_descriptor makeDescriptor(const char* name, const char* version, const char* description,
                                              uint32_t kind, const sb_option (&options)[N]) {
    return makeDescriptor<P>(name, version, description, kind, options, N);
}

// A plugin without options passes nullptr.
template <typename P>
constexpr sb_plugin_descriptor makeDescriptor(const char* name, const char* version, const char* description,
                                              uint32_t kind, std::nullptr_t) {
    return makeDescriptor<P>(name, version, description, kind, static_cast<const sb_option*>(nullptr), 0);
}

}  // namespace detail
}  // namespace switchboard

// Declares the plugin: exports the one entry symbol returning its descriptor.
// OPTIONS is a static array of sb_option built with switchboard::option(...).
#define SWITCHBOARD_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, KIND, OPTIONS)                        \
    extern "C" SB_EXPORT const sb_plugin_descriptor* switchboard_plugin_descriptor(void) {           \
        static const sb_plugin_descriptor descriptor =                                               \
            ::switchboard::detail::makeDescriptor<CLASS>(NAME, VERSION, DESCRIPTION, KIND, OPTIONS); \
        ::switchboard::detail::SchemaOf<CLASS>::options = descriptor.options;                        \
        ::switchboard::detail::SchemaOf<CLASS>::count = descriptor.option_count;                     \
        return &descriptor;                                                                          \
    }
