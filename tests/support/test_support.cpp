#include "test_support.h"

#include "postgres_server.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace switchboard::test {

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "switchboard-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
    std::string p = file(name);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(interval);
    }
    return done();
}

bool acceptsConnections(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

namespace {

// Whether nothing is bound to 127.0.0.1:port, not even a connection in TIME_WAIT (a bind
// without SO_REUSEADDR fails on those too, as the servers under test would).
bool bindable(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// The lowest port the kernel hands to outgoing connections (32768 by default).
int ephemeralLow() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    return range >> low ? low : 32768;
}

}  // namespace

int freePort() {
    // Below the ephemeral range: a port the kernel picked (bind :0) is one it also gives to
    // the outgoing connections of tests running alongside, and a server started a moment
    // later finds it taken. Randomised per process, so parallel tests rarely probe the same.
    const int low = 20000, high = ephemeralLow();
    if (high - low >= 1000) {
        static std::mutex mutex;
        static std::mt19937 pick(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
        std::lock_guard lock(mutex);
        std::uniform_int_distribution<int> among(low, high - 1);
        for (int tries = 0; tries < 200; ++tries) {
            const int port = among(pick);
            if (bindable(port)) return port;
        }
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

int64_t rssKiB(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    return 0;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& outPath, const std::string& errPath) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = errPath == outPath ? out : ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = ::open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

ProcessResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  std::chrono::seconds timeout) {
    TempDir tmp;
    pid_t pid = spawn(argv, env, tmp.file("out"), tmp.file("err"));
    ProcessResult r;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (true) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            r.exitCode = decode(status);
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            r.exitCode = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    r.out = readFile(tmp.file("out"));
    r.err = readFile(tmp.file("err"));
    return r;
}

Child::Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    char tmpl[] = "/tmp/switchboard-child-XXXXXX";
    int fd = mkstemp(tmpl);
    ::close(fd);
    logPath_ = tmpl;
    pid_ = spawn(argv, env, logPath_, logPath_);
}

Child::~Child() {
    if (alive()) {
        kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
    ::unlink(logPath_.c_str());
}

bool Child::alive() {
    if (reaped_) return false;
    int status = 0;
    pid_t w = waitpid(pid_, &status, WNOHANG);
    if (w == pid_) {
        reaped_ = true;
        status_ = decode(status);
        return false;
    }
    return true;
}

void Child::signal(int sig) {
    if (!reaped_) kill(pid_, sig);
}

int Child::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (alive()) {
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

std::string Child::output() const { return readFile(logPath_); }

HttpResponse http(const std::string& method, int port, const std::string& uri, const std::string& body,
                  const std::map<std::string, std::string>& headers) {
    HttpResponse out;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest req(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [k, v] : headers) req.set(k, v);
        if (!body.empty() || method == "POST" || method == "PUT") {
            req.setContentLength(static_cast<std::streamsize>(body.size()));
            if (!req.has("Content-Type")) req.setContentType("application/json");
        }
        session.sendRequest(req) << body;
        Poco::Net::HTTPResponse resp;
        std::istream& in = session.receiveResponse(resp);
        Poco::StreamCopier::copyToString(in, out.body);
        out.status = resp.getStatus();
        for (const auto& [k, v] : resp) {
            std::string name = k;
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            out.headers[name] = v;
        }
    } catch (const std::exception&) {
        out.status = 0;
    }
    return out;
}

bool waitHealthy(int port, std::chrono::milliseconds timeout) {
    // Up (/healthz) and every connector started once (/readyz): before that a webhook may
    // rightly answer 503, which a test must not mistake for a failure.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (http("GET", port, "/healthz").status == 200 && http("GET", port, "/readyz").status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
}

std::string buildPluginDir() { return SWITCHBOARD_BINARY_DIR "/plugins-out"; }
std::string switchboardBin() { return SWITCHBOARD_BIN; }

namespace {
std::string hostStoreKind = "sqlite";
std::string hostStoreOptions;
}

switchboard::host::config::StoreConfig testStoreConfig(const std::string& kind, const TempDir& dir,
                                                       const std::string& file) {
    switchboard::host::config::StoreConfig store;
    store.kind = kind;
    store.sqlitePath = dir.file(file);
    if (kind == "postgresql") {
        PostgresServer& pg = sharedPostgres();
        store.postgresqlUrl = pg.connectionString(pg.createDatabase());
    }
    return store;
}

void setHostStore(const std::string& kind) { hostStoreKind = kind; }

void setHostStoreOptions(const std::string& yaml) { hostStoreOptions = yaml; }

HostProcess::HostProcess(const std::string& connectorsYaml, const std::string& extraYaml,
                         const std::map<std::string, std::string>& env, const std::vector<std::string>& pluginDirs)
    : pluginDirs_(pluginDirs), env_(env) {
    store_ = testStoreConfig(hostStoreKind, dir_, "sb.db");
    storeOptions_ = hostStoreOptions;
    for (int attempt = 0; attempt < 2; ++attempt) {
        port_ = freePort();
        dir_.write("switchboard.yaml", configText(connectorsYaml, extraYaml));
        child_ = std::make_unique<Child>(std::vector<std::string>{switchboardBin(), "run", "-c", configPath()}, env_);
        if (waitHealthy(port_)) return;
        if (child_->output().find("in use") == std::string::npos) break;
    }
    throw std::runtime_error("switchboard did not become healthy:\n" + child_->output());
}

std::string HostProcess::configText(const std::string& connectorsYaml, const std::string& extraYaml) const {
    std::string dirs;
    for (const auto& d : pluginDirs_) dirs += (dirs.empty() ? "" : ", ") + d;
    return "server:\n  listen: 127.0.0.1:" + std::to_string(port_) + "\n  api_token: " + kToken +
           "\nstore:\n" +
           (store_.kind == "postgresql" ? "  postgresql: { url: \"" + store_.postgresqlUrl + "\" }"
                                        : "  sqlite: { path: " + dbPath() + " }") +
           "\n" + storeOptions_ + "plugins:\n  paths: [ " + dirs + " ]\n" + extraYaml +
           "connectors:\n" + connectorsYaml;
}

void HostProcess::reload(const std::string& connectorsYaml, const std::string& extraYaml) {
    dir_.write("switchboard.yaml", configText(connectorsYaml, extraYaml));
    child_->signal(SIGHUP);
}

void HostProcess::crashAndRestart() {
    child_->signal(SIGKILL);
    child_->wait(std::chrono::seconds(10));
    child_ = std::make_unique<Child>(std::vector<std::string>{switchboardBin(), "run", "-c", configPath()}, env_);
    if (!waitHealthy(port_)) throw std::runtime_error("switchboard did not restart:\n" + child_->output());
}

HttpResponse HostProcess::get(const std::string& uri, const std::map<std::string, std::string>& headers) const {
    return http("GET", port_, uri, {}, headers);
}

HttpResponse HostProcess::post(const std::string& uri, const std::string& body,
                               const std::map<std::string, std::string>& headers) const {
    return http("POST", port_, uri, body, headers);
}

}  // namespace switchboard::test

namespace switchboard::test {

std::string hmacSha256Hex(const std::string& key, const std::string& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), mac, &len);
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        hex += digits[mac[i] >> 4];
        hex += digits[mac[i] & 0xf];
    }
    return hex;
}

}  // namespace switchboard::test
