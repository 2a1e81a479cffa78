#include "cli/cli.h"
#include "cli/setup.h"
#include "customer/customer_directory.h"
#include "http/http_server.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "outbox/outbox.h"
#include "routing/routing_stage.h"
#include "runtime/connector_manager.h"
#include "store/commit_queue.h"
#include "store/store.h"

#include <signal.h>

#include <atomic>
#include <memory>
#include <ostream>

namespace switchboard::host::cli {

namespace {

void configureLogger(const config::LogConfig& log) {
    Logger::instance().configure(parseLogLevel(log.level).value_or(LogLevel::Info),
                                 log.format == "json" ? Logger::Format::Json : Logger::Format::Text);
}

void logRegistry(const PluginRegistry& registry) {
    for (const auto& e : registry.errors()) logError(e);
    for (const auto& w : registry.warnings()) logWarn(w);
    for (const auto& p : registry.plugins())
        logDebug("plugin loaded", {{"plugin", p->name()}, {"version", p->version()}, {"file", p->file()}});
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out.empty() ? "-" : out;
}

// SIGHUP: re-read the config; on any error keep running the current one.
void reload(const std::string& file, config::HostConfig& running, ConnectorManager& manager,
            HttpServer& server) {
    logInfo("SIGHUP: reloading configuration", {{"file", file}});
    Setup next = loadSetup(file, {});
    if (!next.ok()) {
        for (const auto& e : next.errors) logError("reload refused: " + e);
        logError("configuration not reloaded; the running configuration stays in effect");
        return;
    }
    logRegistry(next.registry);
    configureLogger(next.config->log);
    const auto& a = running.server;
    const auto& b = next.config->server;
    config::ServerConfig withNewToken = a;  // the token is applied live; the rest is not
    withNewToken.apiToken = b.apiToken;
    if (withNewToken != b || running.store.kind != next.config->store.kind ||
        running.store.sqlitePath != next.config->store.sqlitePath ||
        running.store.postgresqlUrl != next.config->store.postgresqlUrl)
        logWarn("server or store settings changed; they take effect after a restart of switchboard");
    const auto& ia = running.identity;
    const auto& ib = next.config->identity;
    if (ia.defaultRegion != ib.defaultRegion || ia.matchTypes != ib.matchTypes || ia.mode != ib.mode ||
        ia.foldGmail != ib.foldGmail || ia.blocked != ib.blocked || ia.shared != ib.shared ||
        ia.sourcePriority != ib.sourcePriority || ia.limits != ib.limits || ia.limitWindowMs != ib.limitWindowMs ||
        running.threading.continuationWindow != next.config->threading.continuationWindow)
        logWarn("identity or threading settings changed; they take effect after a restart of switchboard");
    if (running.routing != next.config->routing || running.outbox != next.config->outbox)
        logWarn("routing or outbox settings changed; they take effect after a restart of switchboard");
    server.setApiToken(b.apiToken);
    // Live: connectors, the log and the API token. The rest stays as in effect, so the next
    // reload compares against what actually runs.
    const config::HostConfig inEffect = running;
    running = *next.config;
    running.store = inEffect.store;
    running.identity = inEffect.identity;
    running.threading = inEffect.threading;
    running.routing = inEffect.routing;
    running.outbox = inEffect.outbox;
    running.server = inEffect.server;
    running.server.apiToken = b.apiToken;
    ApplySummary s = manager.apply(std::move(next.plan.instances));
    logInfo("configuration reloaded", {{"added", join(s.added)},
                                       {"removed", join(s.removed)},
                                       {"restarted", join(s.restarted)},
                                       {"unchanged", join(s.unchanged)}});
}

}  // namespace

int runCommand(const std::vector<std::string>& args, Streams io) {
    CommonArgs a = parseCommonArgs(args);
    if (!a.error.empty() || a.configFile.empty() || !a.positional.empty()) {
        io.err << "switchboard run: " << (a.error.empty() ? "expected -c FILE" : a.error) << "\n";
        return 2;
    }
    // Block the control signals before any thread starts, so only sigwait below sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Setup setup = loadSetup(a.configFile, a.pluginDirs);
    if (!setup.ok()) {
        for (const auto& e : setup.errors) io.err << e << "\n";
        for (const auto& e : setup.registry.errors()) io.err << "note: " << e << "\n";
        io.err << "switchboard: not started: fix the config (switchboard check-config -c " << a.configFile << ")\n";
        return 1;
    }
    config::HostConfig running = *setup.config;
    configureLogger(running.log);
    logRegistry(setup.registry);

    try {
        Metrics metrics;  // before the store: its commit writer reports here until it stops
        Store store(running.store, setup.resolver, setup.threader);
        store.commitQueue().setMetrics(metrics);
        if (store.dialect().isPostgres()) {
            // host/port/dbname only: the conninfo may carry the password.
            LogFields fields = conninfoLocation(running.store.postgresqlUrl);
            fields.emplace_back("schema", std::to_string(store.schemaVersion()));
            logInfo("store open postgresql", fields);
        } else {
            logInfo("store open", {{"sqlite", running.store.sqlitePath}, {"schema", std::to_string(store.schemaVersion())}});
        }
        ConnectorManager manager(store, metrics);
        customer::CustomerDirectory customers(store, setup.resolver);
        // Outbound messages and routing actions: written in the caller's transaction, sent by
        // the dispatcher through the sink instances of the manager.
        outbox::Outbox outbox(store, manager, metrics, setup.resolver, running.outbox);
        // Routing: each newly stored inbound message is evaluated in its own commit
        // transaction, and its actions enqueued there too (a crash loses neither or both).
        routing::RoutingStage routes(running.routing, metrics, running.identity.sourcePriority);
        std::atomic<bool> enqueuedSinceCommit{false};
        const routing::RoutingStage::Enqueue enqueue = [&](Sql& s, const outbox::OutboundRequest& r) {
            auto result = outbox.enqueue(s, r);
            if (result.accepted) enqueuedSinceCommit = true;
            return result;
        };
        store.setInboundHook([&](Sql& s, const StoredInbound& in) { routes.process(s, in, enqueue); });
        store.setAfterCommitHook([&] {
            if (enqueuedSinceCommit.exchange(false)) outbox.wake();
        });
        HttpServer server(running.server, manager, metrics);
        server.setCustomerDirectory(&customers);
        server.setOutbox(&outbox);
        server.start();
        manager.apply(std::move(setup.plan.instances));
        outbox.start();
        logInfo("switchboard " SWITCHBOARD_VERSION " running",
                {{"listen", running.server.host + ":" + std::to_string(server.port())}, {"config", a.configFile}});

        while (true) {
            int sig = 0;
            if (sigwait(&signals, &sig) != 0) continue;
            if (sig == SIGHUP) {
                reload(a.configFile, running, manager, server);
                continue;
            }
            logInfo(sig == SIGINT ? "SIGINT: shutting down" : "SIGTERM: shutting down");
            break;
        }
        server.stop();
        outbox.stop();  // no send in flight when the sinks stop
        manager.shutdown();
        store.setInboundHook({});  // nothing commits now; routes and outbox go before the store
        store.setAfterCommitHook({});
        logInfo("stopped");
        return 0;
    } catch (const std::exception& e) {
        logError(std::string("switchboard: ") + e.what());
        io.err << "switchboard: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace switchboard::host::cli
