// Helpers shared by the tests: temp dirs, free loopback ports, child processes, HTTP.
#pragma once

#include "config/config.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::test {

// A fresh directory removed (recursively) when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    // Writes content to path()/name and returns the full path.
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::string path_;
};

// A loopback port that was free a moment ago, below the ephemeral range (so no outgoing
// connection takes it meanwhile). Racy by nature: retry a start once on "address in use".
int freePort();
// Whether something accepts TCP connections on 127.0.0.1:port right now.
bool acceptsConnections(int port);

std::string readFile(const std::string& path);

// A process's resident set in KiB (VmRSS of /proc/PID/status), 0 when unreadable.
int64_t rssKiB(int pid);

// Polls done() every `interval` until it holds or `timeout` has passed (then checks once more):
// for state another process or thread reaches in its own time. The timeout only bounds how
// long a failing test waits; it is not a timing assertion.
bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// Lower-case hex HMAC-SHA256 with OpenSSL, independent of any plugin's own signing code.
std::string hmacSha256Hex(const std::string& key, const std::string& data);

struct ProcessResult {
    int exitCode = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

// Runs argv to completion with extra environment variables; captures stdout and stderr.
ProcessResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                  std::chrono::seconds timeout = std::chrono::seconds(120));

// A child process running in the background; killed with SIGKILL on destruction if alive.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    int pid() const { return pid_; }
    bool alive();
    void signal(int sig);
    // Waits for exit; returns the exit code (128+signal when killed), or -1 on timeout.
    int wait(std::chrono::milliseconds timeout);
    // What the child wrote to stderr and stdout so far (both go to one file).
    std::string output() const;

private:
    int pid_ = -1;
    int status_ = -1;
    bool reaped_ = false;
    std::string logPath_;
};

struct HttpResponse {
    int status = 0;  // 0 when the connection failed
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
};

HttpResponse http(const std::string& method, int port, const std::string& uri, const std::string& body = {},
                  const std::map<std::string, std::string>& headers = {});

// Polls until GET /healthz and GET /readyz answer 200 (every connector started once), or
// the timeout passes.
bool waitHealthy(int port, std::chrono::milliseconds timeout = std::chrono::seconds(15));

// The directory of bundled plugins of this build, and the switchboard binary.
std::string buildPluginDir();
std::string switchboardBin();

// The store kinds every store test runs against (value-parameterized tests).
inline const std::vector<std::string> kStoreKinds = {"sqlite", "postgresql"};

// A store config for tests: kind "sqlite" is dir/file; "postgresql" is a fresh database on
// sharedPostgres() (postgres_server.h). Keep it to reopen the same store.
switchboard::host::config::StoreConfig testStoreConfig(const std::string& kind, const TempDir& dir,
                                                       const std::string& file = "s.db");

// The store HostProcess instances constructed from now on use ("sqlite", the default, or
// "postgresql": a fresh database per host). A value-parameterized fixture sets it in SetUp.
void setHostStore(const std::string& kind);
// Lines HostProcess instances constructed from now on write under `store:`, beside the kind,
// indented two spaces (e.g. "  commit: { ack_timeout: 1s }\n"); "" (the default) for none.
void setHostStoreOptions(const std::string& yaml);

// A running `switchboard run -c <dir>/switchboard.yaml` on a free port with the given
// connectors section (YAML text, indented as a top-level `connectors:` block) and extra
// top-level YAML. Waits for /healthz.
class HostProcess {
public:
    HostProcess(const std::string& connectorsYaml, const std::string& extraYaml = {},
                const std::map<std::string, std::string>& env = {},
                const std::vector<std::string>& pluginDirs = {buildPluginDir()});
    // Rewrites the config (same port, store and plugin dirs) and sends SIGHUP.
    void reload(const std::string& connectorsYaml, const std::string& extraYaml = {});
    std::string configPath() const { return dir_.file("switchboard.yaml"); }
    std::string dbPath() const { return dir_.file("sb.db"); }
    // The store this host runs on (the SQLite file dbPath(), or its PostgreSQL database).
    const switchboard::host::config::StoreConfig& storeConfig() const { return store_; }
    bool onPostgres() const { return store_.kind == "postgresql"; }
    // kill -9 and start again on the same config, store and port.
    void crashAndRestart();
    int port() const { return port_; }
    const TempDir& dir() const { return dir_; }
    Child& child() { return *child_; }
    std::string output() const { return child_->output(); }
    HttpResponse get(const std::string& uri, const std::map<std::string, std::string>& headers = {}) const;
    HttpResponse post(const std::string& uri, const std::string& body,
                      const std::map<std::string, std::string>& headers = {}) const;
    static constexpr const char* kToken = "test-token-0123456789";
    std::map<std::string, std::string> auth() const { return {{"Authorization", std::string("Bearer ") + kToken}}; }

private:
    std::string configText(const std::string& connectorsYaml, const std::string& extraYaml) const;
    void start();
    TempDir dir_;
    int port_ = 0;
    std::vector<std::string> pluginDirs_;
    std::map<std::string, std::string> env_;
    std::unique_ptr<Child> child_;
    switchboard::host::config::StoreConfig store_;
    std::string storeOptions_;  // setHostStoreOptions() when constructed
};

}  // namespace switchboard::test
