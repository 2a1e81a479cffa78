// switchboard-plugin-check PLUGIN.so [--option NAME=VALUE]...
//
// The contract checks any connector author can run on their own plugin, with the host's own
// loader and host services: the descriptor and schema are sane, a config missing a required
// option is refused with a message, start/stop/restart are idempotent, two instances live
// side by side, and garbage webhook input is answered with an error and no crash. Build the
// tool with the asan preset to also catch leaks and memory errors in the plugin.
#include "config/config.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "plugin/plugin_loader.h"
#include "runtime/connector_instance.h"
#include "runtime/host_services.h"
#include "store/store.h"

#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace sb = switchboard::host;

namespace {

struct Report {
    int passed = 0;
    int failed = 0;
    void check(const std::string& name, const std::function<std::string()>& fn) {
        std::string why;
        try {
            why = fn();
        } catch (const std::exception& e) {
            why = std::string("exception: ") + e.what();
        }
        if (why.empty()) {
            ++passed;
            std::cout << "PASS  " << name << "\n";
        } else {
            ++failed;
            std::cout << "FAIL  " << name << ": " << why << "\n";
        }
    }
};

sb_str span(const std::string& s) { return sb_str{s.data(), s.size()}; }

// A value of the right type for an option the user did not give.
std::string sampleValue(const sb::OptionSpec& o) {
    if (o.defaultValue) return *o.defaultValue;
    switch (o.type) {
        case SB_OPT_INT: return "1";
        case SB_OPT_BOOL: return "false";
        case SB_OPT_DOUBLE: return "1.5";
        case SB_OPT_DURATION: return "1s";
        default: return "plugin-check-" + o.name;
    }
}

struct ErrBuf {
    char data[4096] = {0};
    sb_errbuf abi() { return sb_errbuf{data, sizeof data}; }
};

// Drives one plugin instance directly through its descriptor, with real host services.
class Harness {
public:
    Harness(const sb::LoadedPlugin& plugin, sb::ConnectorInstance& owner) : plugin_(plugin), owner_(owner) {}
    const sb_plugin_descriptor& d() const { return plugin_.descriptor(); }

    sb_status create(const std::vector<std::pair<std::string, std::string>>& entries, sb_plugin_instance_plugin_ptr& out,
                     std::string& message) {
        std::vector<sb_kv> kv;
        for (const auto& [k, v] : entries) kv.push_back({span(k), span(v)});
        const std::string name = "plugin-check";
        sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), kv.data(), kv.size(), span(name)};
        ErrBuf err;
        sb_status s = d().create(&sb::hostServices(), owner_.hostHandle(), &cfg, &out, err.abi());
        message = err.data;
        return s;
    }

private:
    const sb::LoadedPlugin& plugin_;
    sb::ConnectorInstance& owner_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help") {
        std::cerr << "usage: switchboard-plugin-check PLUGIN.so [--option NAME=VALUE]...\n"
                     "Runs the Switchboard plugin contract checks on one plugin file.\n";
        return 2;
    }
    const std::string file = argv[1];
    std::map<std::string, std::vector<std::string>> given;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--option" && i + 1 < argc) {
            std::string kv = argv[++i];
            auto eq = kv.find('=');
            if (eq == std::string::npos) {
                std::cerr << "--option expects NAME=VALUE, got '" << kv << "'\n";
                return 2;
            }
            given[kv.substr(0, eq)].push_back(kv.substr(eq + 1));
        } else {
            std::cerr << "unknown argument '" << a << "'\n";
            return 2;
        }
    }
    std::vector<std::string> logLines;
    sb::Logger::instance().captureForTesting(&logLines);

    Report report;
    sb::LoadOutcome loaded = sb::loadPlugin(file);
    report.check("descriptor loads (ABI version, struct size, callbacks, schema)",
                 [&] { return loaded.plugin ? std::string() : loaded.error; });
    if (!loaded.plugin) {
        std::cout << report.passed << " passed, " << report.failed << " failed\n";
        return 1;
    }
    const sb::LoadedPlugin& plugin = *loaded.plugin;
    std::cout << "plugin " << plugin.name() << " " << plugin.version() << " (" << plugin.kindName() << ", ABI "
              << plugin.abiMajor() << "." << plugin.abiMinor() << ")\n";
    if (!loaded.warning.empty()) std::cout << "note: " << loaded.warning << "\n";

    report.check("name, version and description are set", [&]() -> std::string {
        if (plugin.version().empty()) return "version is empty";
        if (plugin.description().empty()) return "description is empty";
        return "";
    });
    report.check("every option has a description", [&]() -> std::string {
        for (const auto& o : plugin.schema())
            if (o.description.empty()) return "option '" + o.name + "' has no description";
        return "";
    });

    // A config built the way the host builds it: given values, else defaults/samples.
    sb::config::ConnectorConfig connector;
    connector.name = "plugin-check";
    connector.plugin = plugin.name();
    connector.path = "connectors[0]";
    connector.where.file = "(plugin-check)";
    for (const auto& o : plugin.schema()) {
        sb::config::RawOption raw;
        if (given.count(o.name)) {
            raw.values = given[o.name];
        } else if (o.required || o.defaultValue) {
            raw.values = {sampleValue(o)};
        } else {
            continue;
        }
        raw.isList = o.type == SB_OPT_STRING_LIST;
        connector.options[o.name] = raw;
    }
    for (const auto& [k, v] : given)
        if (!connector.options.count(k)) connector.options[k] = sb::config::RawOption{v, v.size() > 1, false, {}};
    sb::config::ResolvedOptions options;
    std::vector<sb::config::ConfigError> errors;
    sb::config::validateOptions(connector, plugin.schema(), options, errors);
    for (const auto& e : errors) std::cout << "config: " << e.format() << "\n";

    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("switchboard-plugin-check-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    int exitCode = 1;
    {
        sb::Store store((dir / "check.db").string());
        sb::Metrics metrics;
        sb::ConnectorInstance owner(sb::InstanceSpec{connector, loaded.plugin, options}, store, metrics);
        Harness h(plugin, owner);

        report.check("a config missing its required options is refused with a message", [&]() -> std::string {
            bool anyRequired = false;
            for (const auto& o : plugin.schema()) anyRequired |= o.required;
            if (!anyRequired) return "";  // nothing to check
            sb_plugin_instance_plugin_ptr p = nullptr;
            std::string msg;
            sb_status s = h.create({}, p, msg);
            if (s == SB_OK) {
                h.d().destroy(p);
                return "create accepted an empty config although options are required";
            }
            if (msg.empty()) return "create refused the config but gave no message";
            return "";
        });

        sb_plugin_instance_plugin_ptr a = nullptr, b = nullptr;
        report.check("create with a valid config", [&]() -> std::string {
            std::string msg;
            sb_status s = h.create(options.entries, a, msg);
            if (s != SB_OK || !a) return "status " + std::to_string(s) + ": " + msg + " (pass --option NAME=VALUE)";
            return "";
        });
        if (a) {
            report.check("start, start again, stop, stop again, start, stop (idempotent)", [&]() -> std::string {
                for (const char* step : {"start", "start", "stop", "stop", "start", "stop"}) {
                    ErrBuf err;
                    sb_status s = std::string(step) == "start" ? h.d().start(a, err.abi()) : h.d().stop(a, err.abi());
                    if (s != SB_OK) return std::string(step) + " returned " + std::to_string(s) + ": " + err.data;
                }
                return "";
            });
            report.check("two instances of the plugin live side by side", [&]() -> std::string {
                std::string msg;
                if (h.create(options.entries, b, msg) != SB_OK || !b) return "second create failed: " + msg;
                ErrBuf e1, e2;
                if (h.d().start(a, e1.abi()) != SB_OK) return std::string("start 1: ") + e1.data;
                if (h.d().start(b, e2.abi()) != SB_OK) return std::string("start 2: ") + e2.data;
                return "";
            });
            if (plugin.hasWebhooks()) {
                report.check("garbage webhook input is answered with an error, no crash", [&]() -> std::string {
                    std::mt19937 rng(42);
                    std::string randomBytes(4096, '\0');
                    for (auto& c : randomBytes) c = static_cast<char>(rng());
                    const std::vector<std::pair<std::string, std::string>> cases = {
                        {"POST", ""},
                        {"POST", "{"},
                        {"POST", "not json at all"},
                        {"POST", randomBytes},
                        {"POST", std::string("\xff\xfe\x00\x01", 4)},
                        {"POST", std::string(100000, '[')},
                    };
                    for (const auto& [method, body] : cases) {
                        sb::WebhookResponse response;
                        std::vector<sb_kv> headers;
                        std::string ct = "content-type", json = "application/json", empty;
                        headers.push_back({span(ct), span(json)});
                        sb_http_request req{static_cast<uint32_t>(sizeof(sb_http_request)), span(method),
                                            span(empty), span(empty), headers.data(), headers.size(), span(body),
                                            span(empty), span(empty)};
                        sb_http_response resp{};
                        resp.struct_size = sizeof resp;
                        resp.status = 200;
                        resp.host_ctx = &response;
                        resp.set_header = [](void*, sb_str, sb_str) {};
                        resp.write_body = [](void* ctx, sb_str d) {
                            if (d.data) static_cast<sb::WebhookResponse*>(ctx)->body.append(d.data, d.size);
                        };
                        ErrBuf err;
                        sb_status s = h.d().handle_webhook(a, &req, &resp, err.abi());
                        if (s == SB_OK && resp.status < 400)
                            return "a garbage body (" + std::to_string(body.size()) + " bytes) was answered " +
                                   std::to_string(resp.status);
                    }
                    return "";
                });
            }
            report.check("stop and destroy both instances", [&]() -> std::string {
                for (auto* p : {a, b}) {
                    if (!p) continue;
                    ErrBuf err;
                    if (h.d().stop(p, err.abi()) != SB_OK) return std::string("stop: ") + err.data;
                    h.d().destroy(p);
                }
                return "";
            });
        }
        exitCode = report.failed == 0 ? 0 : 1;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    sb::Logger::instance().captureForTesting(nullptr);
    std::cout << report.passed << " passed, " << report.failed << " failed\n";
    return exitCode;
}
