// `switchboard routes test -c FILE --message FILE.json [--json]`: which routing rule a
// message would match and why, and the actions it would take — nothing is stored or sent.
// Exit 0 when a rule matched, 1 when none did, 2 on bad arguments, config or message.
//
// The message file is the normalized message a connector emits (GET .../timeline shows the
// same fields), plus what the store would add:
//   { "connector": "site-chat", "channel": "webchat", "subject": "", "text": "...",
//     "sender_name": "Ana", "sender": [{"type": "email", "value": "ana@example.com"}],
//     "customer": {"id": "c-1", "name": "Ana Silva", "attributes": {"tier": "gold"}},
//     "attributes": {"customer.language": "pt"},
//     "occurred_at": "2026-03-30T09:12:00Z" }        (or "occurred_at_ms": 1774861920000)
// Customer attributes come from customer.attributes, then message attributes named
// "customer.X"; occurred_at defaults to now.
#include "cli/cli.h"
#include "config/config.h"
#include "routing/router.h"

#include <absl/time/time.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <ostream>
#include <sstream>

namespace switchboard::host::cli {

namespace {

using nlohmann::json;

const char* const kUsage = "usage: switchboard routes test -c FILE --message FILE.json [--json]";

struct Args {
    std::string config, message, error;
    bool json = false;
};

Args parseArgs(const std::vector<std::string>& args) {
    Args a;
    if (args.empty() || args[0] != "test") {
        a.error = args.empty() ? "expected a subcommand: test" : "unknown subcommand '" + args[0] + "' (expected test)";
        return a;
    }
    for (size_t i = 1; i < args.size() && a.error.empty(); ++i) {
        const std::string& s = args[i];
        auto value = [&](std::string& into) {
            if (i + 1 >= args.size()) a.error = s + " needs a value";
            else into = args[++i];
        };
        if (s == "-c" || s == "--config") value(a.config);
        else if (s.rfind("--config=", 0) == 0) a.config = s.substr(9);
        else if (s == "--message" || s == "-m") value(a.message);
        else if (s.rfind("--message=", 0) == 0) a.message = s.substr(10);
        else if (s == "--json") a.json = true;
        else a.error = "unexpected argument '" + s + "'";
    }
    if (a.error.empty() && a.config.empty()) a.error = "expected -c FILE";
    if (a.error.empty() && a.message.empty()) a.error = "expected --message FILE.json";
    return a;
}

std::string text(const json& j, const char* key, std::vector<std::string>& errors) {
    if (!j.contains(key) || j[key].is_null()) return "";
    if (!j[key].is_string()) {
        errors.push_back(std::string(key) + ": expects a string");
        return "";
    }
    return j[key].get<std::string>();
}

// Reads the message file into an input; every problem is listed.
std::optional<routing::RoutingInput> readMessage(const std::string& path, std::vector<std::string>& errors) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        errors.push_back("cannot read message file");
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << file.rdbuf();
    json j = json::parse(buffer.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        errors.push_back("expects a JSON object (see `switchboard --help` and config/README.md, \"routing\")");
        return std::nullopt;
    }
    routing::RoutingInput in;
    in.connector = text(j, "connector", errors);
    in.channel = text(j, "channel", errors);
    if (in.channel.empty() && errors.empty()) errors.push_back("channel: is required (e.g. \"webchat\", \"email\")");
    in.subject = text(j, "subject", errors);
    in.text = text(j, "text", errors);
    in.customerName = text(j, "sender_name", errors);

    const json sender = j.value("sender", json::array());
    if (!sender.is_array()) errors.push_back("sender: expects a list of {\"type\", \"value\"}");
    for (size_t i = 0; sender.is_array() && i < sender.size(); ++i) {
        if (!sender[i].is_object() || !sender[i].contains("type") || !sender[i]["type"].is_string()) {
            errors.push_back("sender[" + std::to_string(i) + "]: expects {\"type\": \"email\", \"value\": \"...\"}");
            continue;
        }
        std::string type = sender[i]["type"];
        if (std::find(in.identityTypes.begin(), in.identityTypes.end(), type) == in.identityTypes.end())
            in.identityTypes.push_back(type);
    }

    auto attribute = [&](const std::string& name, const json& v, const std::string& where) {
        if (v.is_string()) in.customerAttributes.emplace(name, v.get<std::string>());
        else if (v.is_number() || v.is_boolean()) in.customerAttributes.emplace(name, v.dump());
        else errors.push_back(where + ": expects a string or a number");
    };
    const json customer = j.value("customer", json::object());
    if (!customer.is_object()) errors.push_back("customer: expects an object {\"name\", \"attributes\"}");
    else {
        in.customerId = text(customer, "id", errors);
        if (std::string name = text(customer, "name", errors); !name.empty()) in.customerName = name;
        const json attrs = customer.value("attributes", json::object());
        if (!attrs.is_object()) errors.push_back("customer.attributes: expects an object");
        else
            for (const auto& [k, v] : attrs.items()) attribute(k, v, "customer.attributes." + k);
    }
    const json attrs = j.value("attributes", json::object());
    if (!attrs.is_object()) errors.push_back("attributes: expects an object");
    else
        for (const auto& [k, v] : attrs.items())
            if (k.rfind("customer.", 0) == 0 && k.size() > 9) attribute(k.substr(9), v, "attributes." + k);
    if (in.customerId.empty()) in.customerId = "(test)";

    in.atMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
    if (j.contains("occurred_at_ms")) {
        if (!j["occurred_at_ms"].is_number_integer()) errors.push_back("occurred_at_ms: expects milliseconds since 1970");
        else in.atMs = j["occurred_at_ms"].get<int64_t>();
    } else if (j.contains("occurred_at")) {
        const json& at = j["occurred_at"];
        absl::Time t;
        std::string why;
        if (at.is_number_integer()) in.atMs = at.get<int64_t>();
        else if (at.is_string() && absl::ParseTime(absl::RFC3339_full, at.get<std::string>(), &t, &why))
            in.atMs = absl::ToUnixMillis(t);
        else errors.push_back("occurred_at: expects RFC 3339 such as 2026-03-30T09:12:00Z or milliseconds" +
                              (why.empty() ? std::string() : " (" + why + ")"));
    }
    if (!errors.empty()) return std::nullopt;
    return in;
}

std::string describeAction(const routing::ActionResult& a) {
    const auto& r = a.request;
    std::string target = !r.connector.empty() ? "via " + r.connector
                       : !r.channel.empty()   ? "on channel " + r.channel
                                              : "on the channel it came in on";
    std::string out;
    if (r.kind == "message") out = "reply " + target + " (" + r.purpose + ")";
    else if (r.kind == "case") out = "case " + target;
    else out = "forward " + target;
    out += " [rule " + a.rule + "]";
    if (!r.subject.empty()) out += "\n      subject: " + r.subject;
    if (r.kind != "forward" && !r.text.empty()) out += "\n      text: " + r.text;
    for (const auto& [k, v] : r.attributes)
        if (!v.empty()) out += "\n      " + k + ": " + v;
    return out;
}

void printText(const routing::RoutingOutcome& o, std::ostream& out) {
    for (const auto& r : o.rules) {
        out << "rule '" << r.name << "': ";
        if (!r.evaluated) {
            out << r.note << "\n";
            continue;
        }
        out << (r.matched ? "matched" : "not matched");
        if (r.conditions.empty()) out << " (no conditions: matches every message)";
        out << "\n";
        for (const auto& c : r.conditions)
            out << "    " << (c.matched ? "yes" : "no ") << "  " << c.condition << ": " << c.detail << "\n";
    }
    if (!o.matched()) {
        out << "\nno rule matched: the message would be stored without routing\n";
        return;
    }
    out << "\nrouting:";
    auto field = [&](const char* name, const std::string& v) {
        if (!v.empty()) out << " " << name << "=" << v;
    };
    field("queue", o.queue);
    field("team", o.team);
    field("priority", o.priority);
    if (!o.tags.empty()) {
        out << " tags=";
        for (size_t i = 0; i < o.tags.size(); ++i) out << (i ? "," : "") << o.tags[i];
    }
    out << "\n";
    if (o.actions.empty()) {
        out << "actions: none\n";
        return;
    }
    out << "actions (not sent):\n";
    for (size_t i = 0; i < o.actions.size(); ++i) out << "  " << (i + 1) << ". " << describeAction(o.actions[i]) << "\n";
}

}  // namespace

int routesCommand(const std::vector<std::string>& args, Streams io) {
    Args a = parseArgs(args);
    if (!a.error.empty()) {
        io.err << "switchboard routes: " << a.error << "\n" << kUsage << "\n";
        return 2;
    }
    config::LoadResult loaded = config::loadFile(a.config);
    if (!loaded.config) {
        for (const auto& e : loaded.errors) io.err << e.format() << "\n";
        io.err << a.config << ": " << loaded.errors.size() << (loaded.errors.size() == 1 ? " error" : " errors") << "\n";
        return 2;
    }
    std::vector<std::string> errors;
    auto input = readMessage(a.message, errors);
    if (!input) {
        for (const auto& e : errors) io.err << a.message << ": " << e << "\n";
        return 2;
    }
    if (loaded.config->routing.rules.empty()) io.err << "note: " << a.config << " has no routing rules\n";
    routing::RoutingEngine engine(loaded.config->routing);
    routing::RoutingOutcome outcome = engine.evaluate(*input);
    if (a.json) io.out << outcome.toJson(true).dump(2) << "\n";
    else printText(outcome, io.out);
    return outcome.matched() ? 0 : 1;
}

}  // namespace switchboard::host::cli
