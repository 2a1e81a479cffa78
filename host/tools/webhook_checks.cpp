#include "webhook_checks.h"

#include "check_options.h"
#include "runtime/abi_text.h"

#include <random>

namespace switchboard::plugincheck {

namespace {

std::string describe(const WebhookAnswer& a, const std::vector<std::string>& secrets) {
    std::string text = std::to_string(a.httpStatus);
    if (a.status != SB_OK) {
        text += std::string(" (handle_webhook returned ") + host::statusName(a.status);
        if (!a.error.empty()) text += ": " + excerpt(withoutSecrets(a.error, secrets));
        text += ")";
    }
    if (!a.body.empty()) text += " " + excerpt(withoutSecrets(a.body, secrets));
    return text;
}

}  // namespace

void checkGarbageInput(Report& report, const WebhookTarget& target) {
    std::mt19937 rng(42);
    std::string randomBytes(4096, '\0');
    for (auto& c : randomBytes) c = static_cast<char>(rng());
    const std::vector<std::string> bodies = {
        "", "{", "not json at all", randomBytes, std::string("\xff\xfe\x00\x01", 4), std::string(100000, '['),
    };
    size_t unauthorized = 0;  // answers 401/403: refused before any parsing
    report.check("garbage webhook input is answered with an error, no crash", [&]() -> std::string {
        for (const auto& body : bodies) {
            WebhookCall call;
            call.headers = mergeHeaders({{"content-type", "application/json"}}, target.extraHeaders);
            call.body = body;
            WebhookAnswer a = callWebhook(target.descriptor, target.instance, call);
            if (a.httpStatus < 400)
                return "a garbage body (" + std::to_string(body.size()) + " bytes) was answered " +
                       describe(a, target.secrets);
            if (a.httpStatus == 401 || a.httpStatus == 403) ++unauthorized;
        }
        return "";
    });
    if (unauthorized == bodies.size())
        report.note("every garbage body was answered 401/403, so the parser behind the plugin's signature or "
                    "auth check was not reached; pass the credentials with --header 'Name: value' and replay "
                    "signed requests with --request FILE");
}

void checkRequestFixtures(Report& report, const WebhookTarget& target, const std::vector<RequestFixture>& fixtures) {
    for (const auto& f : fixtures) {
        WebhookCall call = f.call;
        call.headers = mergeHeaders(target.extraHeaders, f.call.headers);
        const std::string what = call.method + " " + (call.path.empty() ? "/" : call.path);
        report.check("request " + f.file + " (" + what + ") is answered " + std::to_string(f.expectStatus),
                     [&]() -> std::string {
                         WebhookAnswer a = callWebhook(target.descriptor, target.instance, call);
                         if (a.httpStatus == f.expectStatus) return "";
                         return "request file " + f.file + ": expected status " + std::to_string(f.expectStatus) +
                                ", got " + describe(a, target.secrets);
                     });
    }
}

}  // namespace switchboard::plugincheck
