// vonage: SMS through the Vonage (formerly Nexmo) SMS API. Inbound messages and delivery
// receipts arrive as GET or POST webhooks at /webhooks/{instance} and /webhooks/{instance}/dlr,
// verified when a signature secret is configured; concatenated messages are reassembled
// durably (a part answered 200 is in a checkpoint); outbound messages go through
// POST {base_url}/sms/json. STOP/START keywords update the number's SMS consent.
#include "vonage_concat.h"
#include "vonage_inbound.h"
#include "vonage_params.h"
#include "vonage_signature.h"
#include "vonage_sms_api.h"

#include <switchboard/plugin.hpp>
#include <sbcommon/sms.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using switchboard::Result;
namespace sms = sbcommon::sms;
using vonage::Params;

constexpr const char* kConcatCheckpoint = "concat";
constexpr size_t kMaxPendingGroups = 1000;
constexpr size_t kMaxRememberedParts = 10000;  // outbound part id -> first part id

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

vonage::SmsApiOptions apiOptions(const switchboard::Config& c) {
    vonage::SmsApiOptions o;
    o.baseUrl = c.getString("base_url", "https://rest.nexmo.com");
    o.apiKey = c.getString("api_key");
    o.apiSecret = c.getString("api_secret");
    o.from = c.getString("from");
    o.callbackUrl = c.getString("delivery_receipt_url");
    o.deliveryReceipts = c.getBool("delivery_receipts", true);
    o.timeout = c.getDuration("timeout", std::chrono::milliseconds(10000));
    return o;
}

class Vonage : public switchboard::Plugin {
public:
    Vonage(switchboard::Host host, const switchboard::Config& config)
        : Plugin(host),
          client_(apiOptions(config)),
          channel_(config.getString("channel", "sms")),
          signatureSecret_(config.getString("signature_secret")),
          signatureMaxAgeMs_(config.getDuration("signature_max_age", std::chrono::minutes(5)).count()),
          concatTimeoutMs_(config.getDuration("concat_timeout", std::chrono::minutes(15)).count()) {
        const std::string method = config.getString("signature_method", "md5hash");
        const auto m = vonage::signatureMethodNamed(method);
        if (!m)
            throw switchboard::ConfigError("option 'signature_method': '" + method +
                                           "' is not one of md5hash, md5, sha1, sha256, sha512");
        signatureMethod_ = *m;
        if (signatureMaxAgeMs_ <= 0) throw switchboard::ConfigError("option 'signature_max_age': must be more than 0");
        if (concatTimeoutMs_ <= 0) throw switchboard::ConfigError("option 'concat_timeout': must be more than 0");
    }

    Result handleWebhook(const switchboard::Request& req, switchboard::Response& resp) override {
        const std::string path(req.path());
        const bool receipt = path == "/dlr" || path == "/delivery-receipt";
        if (!receipt && !path.empty() && path != "/" && path != "/inbound") {
            resp.json(404, R"({"error":"use /webhooks/{instance} for inbound SMS and /webhooks/{instance}/dlr for delivery receipts"})");
            return Result::ok();
        }
        vonage::ParsedParams parsed =
            vonage::readParams(req.method(), req.header("content-type").value_or(""), req.query(), req.body());
        if (!parsed.error.empty()) return reject(resp, req.method() == "GET" || req.method() == "POST" ? 400 : 405, parsed.error);
        if (!signatureSecret_.empty()) {
            const std::string why = signatureProblem(parsed.params);
            if (!why.empty()) {
                host().count("signature_rejected");
                host().warn("webhook refused: " + why);
                resp.json(403, R"({"error":"invalid or missing Vonage signature"})");
                return Result::ok();
            }
        }
        if (receipt) return deliveryReceipt(parsed.params, resp);
        const std::string raw(req.method() == "GET" || req.body().empty() ? req.query() : req.body());
        return inbound(parsed, raw, resp);
    }

    Result poll(std::chrono::milliseconds& nextPoll) override {
        std::lock_guard lock(mutex_);
        loadConcatState();
        const int64_t now = nowMs();
        for (const auto& key : concat_.expired(now, concatTimeoutMs_)) {
            Result r = storeIncomplete(key, now);
            if (!r.isOk()) return r;
        }
        // The host cannot be woken when a part arrives, so with nothing pending it still polls
        // every quarter timeout: a group is stored at most a quarter late.
        const int64_t idle = std::min<int64_t>(concatTimeoutMs_ / 4, 60000);
        const auto expiry = concat_.nextExpiry(concatTimeoutMs_);
        const int64_t wait = expiry ? std::min(*expiry - now, idle) : idle;
        nextPoll = std::chrono::milliseconds(std::clamp<int64_t>(wait, 200, 60000));
        return Result::ok();
    }

    Result send(const switchboard::Message& m, switchboard::SendResult& sent) override {
        std::vector<std::string> to;
        for (const auto& r : m.recipients)
            if (r.type == "phone" && !r.value.empty()) to.push_back(r.value);
        if (to.size() != 1)
            return Result::failData("Vonage sends one message per number: expected one phone recipient, got " +
                                    std::to_string(to.size()));
        if (m.text.empty()) return Result::failData("the message has no text");
        vonage::SendOutcome out = client_.send(to.front(), m.text, m.sourceId);
        if (!out.result.isOk()) {
            host().count(out.result.status() == SB_RETRY ? "send_retries" : "send_failures");
            return out.result;
        }
        if (out.messageIds.empty() || out.messageIds.front().empty())
            return Result::failData("Vonage accepted the message but gave no message-id");
        sent.providerMessageId = out.messageIds.front();
        rememberParts(out.messageIds);
        host().count("sent");
        return Result::ok();
    }

private:
    // One group that timed out: stored as what came, removed from the checkpoint in the same
    // commit. A group the host refuses (FAIL_DATA) can never be stored: it is dropped, loudly,
    // instead of blocking the others forever.
    Result storeIncomplete(const std::string& key, int64_t now) {
        vonage::ConcatState next = concat_;
        const vonage::PendingGroup g = next.take(key, now);
        const switchboard::Message m = joinedMessage(g);
        const std::string what = "concatenated SMS from " + g.from + " (concat-ref " + g.ref + ", " +
                                 std::to_string(g.parts.size()) + " of " + std::to_string(g.total) + " parts)";
        Result r = host().emit(std::vector<switchboard::Message>{m}, kConcatCheckpoint, next.toJson());
        if (r.status() == SB_RETRY) return r;
        if (r.isOk()) {
            host().count("concat_incomplete");
            host().warn(what + " stored incomplete after " + std::to_string(concatTimeoutMs_ / 1000) + " s");
        } else {
            Result dropped = host().putCheckpoint(kConcatCheckpoint, next.toJson());
            if (!dropped.isOk()) return Result::retry("concat state not stored: " + dropped.message());
            host().count("concat_dropped");
            host().error(what + " refused by the host and dropped: " + r.message());
        }
        concat_ = std::move(next);
        host().gauge("concat_pending_parts", static_cast<double>(concat_.pendingParts()));
        if (r.isOk()) applyKeyword(m, g.from);
        return Result::ok();
    }

    // "" when the request is signed correctly and recently; else what is wrong (never the secret).
    std::string signatureProblem(const Params& p) const {
        if (vonage::param(p, "sig").empty()) return "no sig parameter (signature_secret is set)";
        if (!vonage::signatureValid(p, signatureSecret_, signatureMethod_))
            return "sig does not match (check signature_secret and signature_method)";
        const std::string ts = vonage::param(p, "timestamp");
        int64_t seconds = 0;
        const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), seconds);
        if (ts.empty() || ec != std::errc() || end != ts.data() + ts.size()) return "no valid timestamp parameter";
        const int64_t skew = nowMs() - seconds * 1000;
        if (skew > signatureMaxAgeMs_ || -skew > signatureMaxAgeMs_)
            return "timestamp " + ts + " is " + std::to_string(skew / 1000) + " s from now (signature_max_age " +
                   std::to_string(signatureMaxAgeMs_ / 1000) + " s): a replay or a wrong clock";
        return {};
    }

    Result reject(switchboard::Response& resp, int status, const std::string& why) {
        host().count("webhook_rejected");
        nlohmann::json body{{"error", why}};
        resp.json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return Result::ok();
    }

    static Result busy(switchboard::Response& resp) {
        resp.json(503, R"({"error":"busy, retry"})");
        return Result::ok();
    }

    switchboard::Message baseMessage(const std::string& from, const std::string& to) const {
        switchboard::Message m;
        m.channel = channel_;
        m.sender.push_back({"phone", from, ""});
        if (!to.empty()) m.recipients.push_back({"phone", to, ""});
        return m;
    }

    switchboard::Message joinedMessage(const vonage::PendingGroup& g) const {
        const vonage::JoinedText joined = vonage::join(g);
        switchboard::Message m = baseMessage(g.from, g.to);
        m.sourceId = joined.sourceId;
        m.text = joined.text;
        m.occurredAtMs = joined.occurredAtMs;
        m.attributes = joined.attributes;
        m.attributes.emplace_back("sms.type", g.type);
        m.rawContentType = "application/json";
        m.raw = joined.rawJson;
        addKeywordAttribute(m);
        return m;
    }

    static void addKeywordAttribute(switchboard::Message& m) {
        const sms::Keyword keyword = sms::classifyKeyword(m.text);
        if (keyword != sms::Keyword::None) m.attributes.emplace_back("sms.keyword", sms::keywordName(keyword));
    }

    Result inbound(const vonage::ParsedParams& parsed, const std::string& raw, switchboard::Response& resp) {
        std::string why;
        const auto sms = vonage::readInboundSms(parsed.params, &why);
        if (!sms) return reject(resp, 400, why);
        if (sms->concat) return concatPart(*sms, resp);
        switchboard::Message m = baseMessage(sms->from, sms->to);
        m.sourceId = sms->messageId;
        m.text = sms->text;
        m.occurredAtMs = sms->occurredAtMs;
        m.attributes.emplace_back("sms.type", sms->type);
        m.rawContentType = parsed.contentType;
        m.raw = raw;
        addKeywordAttribute(m);
        Result emitted = host().emit(m);
        if (emitted.status() == SB_RETRY) return busy(resp);
        if (!emitted.isOk()) return reject(resp, 400, "message refused by the host: " + emitted.message());
        if (applyKeyword(m, sms->from).status() == SB_RETRY) return busy(resp);
        resp.setStatus(200);
        return Result::ok();
    }

    // One part of a long message: stored durably before the 200; the last one emits the whole
    // message and removes the group from the checkpoint in the same commit.
    Result concatPart(const vonage::InboundSms& part, switchboard::Response& resp) {
        std::unique_lock lock(mutex_);
        loadConcatState();
        const int64_t now = nowMs();
        vonage::ConcatState next = concat_;
        std::string key;
        const auto added = next.add(part, now, &key);
        if (added == vonage::ConcatState::Added::Duplicate) {
            host().count("concat_duplicates");
            resp.setStatus(200);
            return Result::ok();
        }
        if (added == vonage::ConcatState::Added::Pending) {
            if (next.pendingGroups() > kMaxPendingGroups) {
                host().warn("more than " + std::to_string(kMaxPendingGroups) +
                            " concatenated SMS are waiting for parts: refusing new ones (Vonage retries)");
                return busy(resp);
            }
            Result stored = host().putCheckpoint(kConcatCheckpoint, next.toJson());
            if (!stored.isOk()) {
                host().warn("concatenated SMS part not stored: " + stored.message());
                return busy(resp);
            }
            concat_ = std::move(next);
            host().count("concat_parts");
            host().gauge("concat_pending_parts", static_cast<double>(concat_.pendingParts()));
            resp.setStatus(200);
            return Result::ok();
        }
        const vonage::PendingGroup group = next.take(key, now);
        const switchboard::Message m = joinedMessage(group);
        Result emitted = host().emit(std::vector<switchboard::Message>{m}, kConcatCheckpoint, next.toJson());
        if (emitted.status() == SB_RETRY) return busy(resp);
        if (!emitted.isOk()) return reject(resp, 400, "message refused by the host: " + emitted.message());
        concat_ = std::move(next);
        host().count("concat_parts");
        host().count("concat_joined");
        host().gauge("concat_pending_parts", static_cast<double>(concat_.pendingParts()));
        lock.unlock();
        if (applyKeyword(m, group.from).status() == SB_RETRY) return busy(resp);
        resp.setStatus(200);
        return Result::ok();
    }

    // Reads the pending parts once, on first use (the checkpoint is the truth after a restart).
    void loadConcatState() {
        if (concatLoaded_) return;
        const auto value = host().checkpoint(kConcatCheckpoint);  // throws when the store fails: 503
        try {
            concat_ = vonage::ConcatState::fromJson(value.value_or(""));
        } catch (const std::exception& e) {
            host().error(std::string("the stored concatenated-SMS parts are unreadable, starting empty: ") + e.what());
            concat_ = {};
        }
        concatLoaded_ = true;
        host().gauge("concat_pending_parts", static_cast<double>(concat_.pendingParts()));
    }

    // STOP/START (sdk/sms consentOfKeyword). The message is stored first: the keyword stays
    // in the timeline.
    Result applyKeyword(const switchboard::Message& m, const std::string& from) {
        const auto consent = sms::consentOfKeyword(m.text);
        if (!consent) return Result::ok();
        if (!host().canReportConsent()) {
            host().warn("consent change not recorded: this host does not take consent (ABI < 1.2)");
            return Result::ok();
        }
        Result r = host().reportConsent({"phone", from, ""}, consent->purpose, consent->status, consent->evidence);
        if (r.isOk()) host().count(consent->optOut() ? "opt_outs" : "opt_ins");
        else host().warn("consent change not recorded: " + r.message());
        return r;
    }

    Result deliveryReceipt(const Params& p, switchboard::Response& resp) {
        std::string why;
        const auto dlr = vonage::readDeliveryReceipt(p, &why);
        if (!dlr) return reject(resp, 400, why);
        const auto status = vonage::deliveryStatusOf(dlr->status);
        std::string id = dlr->messageId;
        bool laterPart = false;
        {
            std::lock_guard lock(partsMutex_);
            if (auto it = firstPartOf_.find(id); it != firstPartOf_.end()) {
                id = it->second;
                laterPart = true;
            }
        }
        // A long message gets one receipt per part; the first part's tells its status, a later
        // part's only matters when it failed.
        const bool failure = status && (*status == SB_DELIVERY_FAILED || *status == SB_DELIVERY_UNDELIVERED);
        if (!status || (laterPart && !failure)) {
            host().debug("delivery receipt for " + dlr->messageId + " ('" + dlr->status + "') not reported");
            host().count("delivery_receipts_ignored");
            resp.setStatus(200);
            return Result::ok();
        }
        std::string detail = "Vonage status " + dlr->status;
        if (!dlr->errCode.empty()) detail += ", err-code " + dlr->errCode;
        if (!dlr->scts.empty()) detail += ", scts " + dlr->scts;
        if (laterPart) detail += " (a later part: " + dlr->messageId + ")";
        const std::string code = dlr->errCode == "0" ? std::string() : dlr->errCode;
        Result r = host().reportDelivery(id, *status, code, detail, dlr->occurredAtMs);
        if (r.status() == SB_RETRY) return busy(resp);
        if (r.isOk()) host().count("delivery_reports");
        else host().warn("delivery receipt for " + id + " not recorded: " + r.message());
        resp.setStatus(200);
        return Result::ok();
    }

    // The receipts of a long message's later parts carry those parts' ids: map them to the
    // first part's, which the host knows. In memory only (see README: after a restart such a
    // receipt is reported under its own id, which the host does not know).
    void rememberParts(const std::vector<std::string>& ids) {
        if (ids.size() < 2) return;
        std::lock_guard lock(partsMutex_);
        for (size_t i = 1; i < ids.size(); ++i) {
            if (ids[i].empty() || !firstPartOf_.emplace(ids[i], ids.front()).second) continue;
            partOrder_.push_back(ids[i]);
        }
        while (partOrder_.size() > kMaxRememberedParts) {
            firstPartOf_.erase(partOrder_.front());
            partOrder_.pop_front();
        }
    }

    vonage::SmsApiClient client_;
    std::string channel_;
    std::string signatureSecret_;  // never logged
    vonage::SignatureMethod signatureMethod_ = vonage::SignatureMethod::Md5Hash;
    int64_t signatureMaxAgeMs_;
    int64_t concatTimeoutMs_;

    std::mutex mutex_;  // the concat state: one part at a time
    bool concatLoaded_ = false;
    vonage::ConcatState concat_;

    std::mutex partsMutex_;
    std::unordered_map<std::string, std::string> firstPartOf_;
    std::deque<std::string> partOrder_;
};

constexpr sb_option kOptions[] = {
    switchboard::option("api_key", SB_OPT_STRING, SB_OPTION_REQUIRED, nullptr,
                        "The Vonage API key (the dashboard's 'API key')."),
    switchboard::option("api_secret", SB_OPT_STRING, SB_OPTION_REQUIRED | SB_OPTION_SECRET, nullptr,
                        "The Vonage API secret, sent with every outbound SMS. Secret: write ${env:NAME} or "
                        "${file:PATH}."),
    switchboard::option("from", SB_OPT_STRING, SB_OPTION_REQUIRED, nullptr,
                        "The sender of outbound SMS: our Vonage virtual number (E.164, with or without '+') or "
                        "an alphanumeric sender ID where the destination country allows one."),
    switchboard::option("signature_secret", SB_OPT_STRING, SB_OPTION_SECRET, nullptr,
                        "The account's signature secret (dashboard, API settings). Set: every webhook must carry "
                        "a valid 'sig' and a recent 'timestamp', else it is answered 403. Unset: webhooks are "
                        "not verified. Secret: write ${env:NAME} or ${file:PATH}."),
    switchboard::option("signature_method", SB_OPT_STRING, 0, "md5hash",
                        "The signature method chosen in the dashboard: md5hash (Vonage's default), md5, sha1, "
                        "sha256 or sha512 (the last four are HMACs)."),
    switchboard::option("signature_max_age", SB_OPT_DURATION, 0, "5m",
                        "How far a signed webhook's 'timestamp' may be from our clock (either way) before it is "
                        "refused as a replay."),
    switchboard::option("concat_timeout", SB_OPT_DURATION, 0, "15m",
                        "How long the parts of a concatenated SMS wait for the missing ones. Then the parts that "
                        "came are stored as one message with sms.concat.incomplete=true."),
    switchboard::option("delivery_receipts", SB_OPT_BOOL, 0, "true",
                        "Ask Vonage for delivery receipts (status-report-req) for outbound SMS."),
    switchboard::option("delivery_receipt_url", SB_OPT_STRING, 0, nullptr,
                        "Where Vonage sends receipts for our messages (the 'callback' parameter): this "
                        "instance's public webhook URL + /dlr, e.g. https://sb.example.com/webhooks/sms-vonage/dlr. "
                        "Unset: the account's default delivery receipt URL from the dashboard."),
    switchboard::option("base_url", SB_OPT_STRING, 0, "https://rest.nexmo.com",
                        "The SMS API's base URL (POST {base_url}/sms/json). Change it only for a test double."),
    switchboard::option("timeout", SB_OPT_DURATION, 0, "10s", "How long to wait for the SMS API to answer."),
    switchboard::option("channel", SB_OPT_STRING, 0, "sms", "The channel name of this instance's messages."),
};

}  // namespace

SWITCHBOARD_PLUGIN(Vonage, "vonage", "1.0.0",
                   "SMS through the Vonage SMS API: inbound and delivery-receipt webhooks (signed), outbound sends.",
                   SB_KIND_SOURCE | SB_KIND_SINK, kOptions)
