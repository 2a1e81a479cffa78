#include "postgres_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace switchboard::test {

namespace {

constexpr const char* kMissing = "PostgreSQL is not installed: run scripts/install-deps.sh";

// /usr/lib/postgresql/<version>/bin holding initdb: 15 (Debian 12) if present, else the newest.
std::string findBinDir() {
    const fs::path root = "/usr/lib/postgresql";
    if (fs::exists(root / "15/bin/initdb")) return (root / "15/bin").string();
    int best = -1;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (fs::exists(entry.path() / "bin/initdb") && std::stoi(name) > best) best = std::stoi(name);
    }
    if (best < 0) throw std::runtime_error(kMissing);
    return (root / std::to_string(best) / "bin").string();
}

bool isRoot() { return ::geteuid() == 0; }

// initdb and postgres refuse to run as root: drop to `nobody` then. The working directory
// becomes `/` because postgres fails when it cannot read the one it inherits (e.g. /root).
std::vector<std::string> asServerUser(std::vector<std::string> argv) {
    std::vector<std::string> out;
    if (isRoot()) out = {"runuser", "-u", "nobody", "--"};
    out.insert(out.end(), {"env", "-C", "/"});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

void giveToServerUser(const std::string& path) {
    if (!isRoot()) return;
    const passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr) throw std::runtime_error("no `nobody` user to run PostgreSQL as");
    if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed: " + path);
}

std::string tail(const std::string& text, std::size_t max = 4000) {
    return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

// The postmaster's pid from its pid file, or 0 when there is none.
int postmasterPid(const std::string& dataDir) {
    std::ifstream in(dataDir + "/postmaster.pid");
    int pid = 0;
    in >> pid;
    return in ? pid : 0;
}

// Gone, or a zombie waiting for a late reap (its sockets are closed by then).
bool processGone(int pid) {
    if (::kill(pid, 0) != 0) return true;
    std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace

PostgresServer::PostgresServer() {
    binDir_ = findBinDir();
    try {
        // mkdtemp makes 0700 dirs, which `nobody` cannot enter.
        ::chmod(dir_.path().c_str(), 0711);
        runDir_ = dir_.file("run");
        dataDir_ = runDir_ + "/data";
        logPath_ = runDir_ + "/postgres.log";
        const std::string sockDir = runDir_ + "/sock";
        fs::create_directories(sockDir);
        ::chmod(runDir_.c_str(), 0700);
        giveToServerUser(runDir_);
        giveToServerUser(sockDir);
        startWatchdog();

        // Trust auth for a loopback-only throwaway server; C collation keeps results the
        // same on every machine.
        ProcessResult init = run(asServerUser({binDir_ + "/initdb", "-D", dataDir_, "-U", user(),
                                               "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"}));
        if (init.exitCode != 0) {
            throw std::runtime_error("initdb failed (exit " + std::to_string(init.exitCode) + "):\n" +
                                     tail(init.out + init.err));
        }

        // Durability off: a crash only loses throwaway test data, and tests run much faster.
        // Never acceptable for a real server.
        std::ofstream(dataDir_ + "/postgresql.conf", std::ios::app)
            << "\n# Test harness settings (tests/support/postgres_server.cpp)\n"
            << "listen_addresses = '127.0.0.1'\n"
            << "unix_socket_directories = '" << sockDir << "'\n"
            << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";

        if (!start() && !start()) {
            throw std::runtime_error("PostgreSQL lost the port race twice:\n" + tail(log()));
        }
    } catch (...) {
        stop();
        if (watchdogFd_ >= 0) ::close(watchdogFd_);
        if (watchdogPid_ > 0) ::waitpid(watchdogPid_, nullptr, 0);
        throw;
    }
}

PostgresServer::~PostgresServer() {
    stop();
    // The watchdog sees EOF, finds nothing left to kill and removes the (already empty) dir.
    ::close(watchdogFd_);
    ::waitpid(watchdogPid_, nullptr, 0);
}

bool PostgresServer::start() {
    port_ = freePort();
    fs::remove(logPath_);
    ProcessResult r = run(asServerUser({binDir_ + "/pg_ctl", "-D", dataDir_, "-l", logPath_, "-w", "-t", "30",
                                        "-o", "-p " + std::to_string(port_), "start"}),
                          {}, std::chrono::seconds(60));
    if (r.exitCode == 0) return true;
    stop();  // pg_ctl may have given up on a server that is still coming up
    const std::string text = log();
    if (text.find("Address already in use") != std::string::npos) return false;
    throw std::runtime_error("PostgreSQL did not start (pg_ctl exit " + std::to_string(r.exitCode) + "):\n" +
                             r.out + r.err + "--- server log ---\n" + tail(text));
}

void PostgresServer::stop() {
    const int pid = postmasterPid(dataDir_);
    if (pid <= 0) return;
    run(asServerUser({binDir_ + "/pg_ctl", "-D", dataDir_, "-m", "fast", "-w", "-t", "5", "stop"}), {},
        std::chrono::seconds(20));
    if (processGone(pid)) return;
    // pg_ctl started the postmaster with setsid(): its pid is the group of all its backends.
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!processGone(pid) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // A stale pid file would point the watchdog at a pid that may be reused by then.
    std::error_code ec;
    fs::remove(dataDir_ + "/postmaster.pid", ec);
}

// A shell in its own session that blocks reading a pipe only we can write to. When this
// process dies without running destructors (crash, abort, ctest timeout) the read ends and
// the shell kills the postmaster's process group and removes the temp dir.
void PostgresServer::startWatchdog() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const std::string script =
        "read -r _;"
        " pid=$(head -n 1 \"$1/postmaster.pid\" 2>/dev/null) && kill -9 \"-$pid\" \"$pid\" 2>/dev/null;"
        " rm -rf \"$2\"";
    std::vector<std::string> argv = {"/bin/sh", "-c", script, "pg-watchdog", dataDir_, dir_.path()};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        ::setsid();  // survive a kill of our process group
        ::dup2(fds[0], 0);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[0]);
    watchdogFd_ = fds[1];
    watchdogPid_ = pid;
}

std::string PostgresServer::log() const { return readFile(logPath_); }

std::string PostgresServer::createDatabase() {
    const std::string name = "sbtest_" + std::to_string(++databases_);
    ProcessResult r = run({binDir_ + "/createdb", "-h", host(), "-p", std::to_string(port_), "-U", user(),
                           "-E", "UTF8", "-T", "template0", name});
    if (r.exitCode != 0) throw std::runtime_error("createdb " + name + " failed:\n" + r.out + r.err);
    return name;
}

std::string PostgresServer::connectionString(const std::string& database) const {
    return "host=" + host() + " port=" + std::to_string(port_) + " user=" + user() + " dbname=" + database;
}

PostgresServer& sharedPostgres() {
    static PostgresServer server;
    return server;
}

}  // namespace switchboard::test
