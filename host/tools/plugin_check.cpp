// switchboard-plugin-check PLUGIN.so [--option NAME=VALUE] [--header 'Name: value']
//                                    [--request FILE] [--sink | --no-sink]
//
// The contract checks any connector author can run on their own plugin, with the host's own
// loader and host services: the descriptor and schema are sane, a config missing a required
// option is refused with a message, start/stop/restart are idempotent, two instances live
// side by side, garbage webhook input is answered with an error and no crash, request
// fixtures get their expected status, and a sink's send answers a documented outcome. Build
// the tool with the asan preset to also catch leaks and memory errors in the plugin.
// Every flag is documented in check_args.cpp (--help) and sdk/README.md.
#include "check_args.h"
#include "check_options.h"
#include "check_report.h"
#include "request_fixture.h"
#include "sink_check.h"
#include "webhook_checks.h"

#include "config/config.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "plugin/plugin_loader.h"
#include "runtime/abi_text.h"
#include "runtime/connector_instance.h"
#include "runtime/host_services.h"
#include "store/store.h"

#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace sb = switchboard::host;
using namespace switchboard::plugincheck;

namespace {

sb_str span(const std::string& s) { return sb_str{s.data(), s.size()}; }

struct ErrBuf {
    char data[4096] = {0};
    sb_errbuf abi() { return sb_errbuf{data, sizeof data}; }
};

// Creates plugin instances directly through the descriptor, with real host services.
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

// "FAIL_CONFIG: reason", with secrets masked.
std::string failure(sb_status s, const std::string& why, const std::vector<std::string>& secrets) {
    return std::string(sb::statusName(s)) + ": " + (why.empty() ? "(no reason given)" : withoutSecrets(why, secrets));
}

int usageError(const std::string& why) {
    std::cerr << "switchboard-plugin-check: " << why << "\n";
    return 2;
}

// The value the instance's "channel" option resolved to, else the plugin's name.
std::string channelOf(const sb::config::ResolvedOptions& options, const std::string& fallback) {
    for (const auto& [k, v] : options.entries)
        if (k == "channel") return v;
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    CheckArgs args;
    if (std::string error = parseArgs(argc, argv, args); !args.help && !error.empty()) return usageError(error);
    if (args.help) {
        std::cout << usageText();
        return 0;
    }
    // Every fixture is read before the plugin runs: a typo in one is a usage error, not a FAIL.
    std::vector<RequestFixture> fixtures;
    for (const auto& file : args.requestFiles) {
        try {
            fixtures.push_back(loadRequestFixture(file));
        } catch (const std::exception& e) {
            return usageError(std::string("--request: ") + e.what());
        }
    }

    std::vector<std::string> logLines;
    sb::Logger::instance().captureForTesting(&logLines);

    Report report;
    sb::LoadOutcome loaded = sb::loadPlugin(args.pluginFile);
    report.check("descriptor loads (ABI version, struct size, callbacks, schema)",
                 [&] { return loaded.plugin ? std::string() : loaded.error; });
    if (!loaded.plugin) {
        report.printTotals();
        return 1;
    }
    const sb::LoadedPlugin& plugin = *loaded.plugin;
    std::cout << "plugin " << plugin.name() << " " << plugin.version() << " (" << plugin.kindName() << ", ABI "
              << plugin.abiMajor() << "." << plugin.abiMinor() << ")\n";
    if (!loaded.warning.empty()) report.note(loaded.warning);

    CheckConfig config;
    if (auto errors = buildCheckConfig(plugin, args.options, config); !errors.empty()) return usageError(errors.front());
    sb::config::ResolvedOptions options;
    std::vector<sb::config::ConfigError> configErrors;
    sb::config::validateOptions(config.connector, plugin.schema(), options, configErrors);
    if (!configErrors.empty()) {
        for (const auto& e : configErrors) std::cerr << "switchboard-plugin-check: --option: " << e.message << "\n";
        return 2;
    }
    for (const auto& d : config.dummies)
        std::cout << "dummy option: " << describeDummy(d) << " (required, not given; set it with --option "
                  << d.name << "=VALUE)\n";

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

    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("switchboard-plugin-check-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    int exitCode = 1;
    {
        sb::Store store((dir / "check.db").string());
        sb::Metrics metrics;
        sb::ConnectorInstance owner(sb::InstanceSpec{config.connector, loaded.plugin, options}, store, metrics);
        Harness h(plugin, owner);
        const auto& secrets = config.secretValues;

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
            if (msg.empty()) return std::string("create refused the config (") + sb::statusName(s) + ") but gave no message";
            return "";
        });

        sb_plugin_instance_plugin_ptr a = nullptr, b = nullptr;
        report.check("create with a valid config", [&]() -> std::string {
            std::string msg;
            sb_status s = h.create(options.entries, a, msg);
            if (s != SB_OK || !a) {
                std::string hint = config.dummies.empty() ? "" : " (dummy values were used: see 'dummy option' above)";
                return failure(s, msg, secrets) + hint + " (pass --option NAME=VALUE)";
            }
            return "";
        });
        if (a) {
            report.check("start, start again, stop, stop again, start, stop (idempotent)", [&]() -> std::string {
                for (const char* step : {"start", "start", "stop", "stop", "start", "stop"}) {
                    ErrBuf err;
                    sb_status s = std::string(step) == "start" ? h.d().start(a, err.abi()) : h.d().stop(a, err.abi());
                    if (s != SB_OK) return std::string(step) + " returned " + failure(s, err.data, secrets);
                }
                return "";
            });
            report.check("two instances of the plugin live side by side", [&]() -> std::string {
                std::string msg;
                if (sb_status s = h.create(options.entries, b, msg); s != SB_OK || !b)
                    return "second create returned " + failure(s, msg, secrets);
                ErrBuf e1, e2;
                if (sb_status s = h.d().start(a, e1.abi()); s != SB_OK) return "start 1: " + failure(s, e1.data, secrets);
                if (sb_status s = h.d().start(b, e2.abi()); s != SB_OK) return "start 2: " + failure(s, e2.data, secrets);
                return "";
            });
            const WebhookTarget target{plugin.descriptor(), a, args.headers, secrets};
            if (plugin.hasWebhooks()) {
                checkGarbageInput(report, target);
                checkRequestFixtures(report, target, fixtures);
            } else if (!fixtures.empty()) {
                report.check("--request fixtures", [] { return std::string("the plugin has no handle_webhook"); });
            }
            checkSink(report, plugin, a, args.sink, channelOf(options, plugin.name()), secrets);
            report.check("stop and destroy both instances", [&]() -> std::string {
                for (auto* p : {a, b}) {
                    if (!p) continue;
                    ErrBuf err;
                    if (sb_status s = h.d().stop(p, err.abi()); s != SB_OK) return "stop: " + failure(s, err.data, secrets);
                    h.d().destroy(p);
                }
                return "";
            });
        }
        exitCode = report.failed() == 0 ? 0 : 1;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    sb::Logger::instance().captureForTesting(nullptr);
    report.printTotals();
    return exitCode;
}
