#include "mail_servers.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace switchboard::test {
namespace {

// Dovecot refuses to store mail as root or as its own user; the test mail belongs to nobody.
constexpr const char* kMailUser = "nobody";
constexpr const char* kMailGroup = "nogroup";
constexpr const char* kEximUser = "Debian-exim";

std::pair<uid_t, gid_t> ids(const char* user, const char* groupName) {
    const passwd* pw = getpwnam(user);
    const struct group* gr = getgrnam(groupName);
    if (!pw || !gr) throw std::runtime_error(std::string("no system user/group ") + user + "/" + groupName);
    return {pw->pw_uid, gr->gr_gid};
}

void chownTree(const fs::path& root, const char* user, const char* group) {
    auto [uid, gid] = ids(user, group);
    if (::chown(root.c_str(), uid, gid) != 0) throw std::runtime_error("chown failed: " + root.string());
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (::lchown(e.path().c_str(), uid, gid) != 0) throw std::runtime_error("chown failed: " + e.path().string());
}

void makeMaildir(const fs::path& dir) {
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(dir / sub);
}

}  // namespace

bool waitForGreeting(int port, const std::string& prefix, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(port));
        timeval tv{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string got;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            char buf[256];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) got.assign(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        if (got.rfind(prefix, 0) == 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

MailServers::MailServers(std::vector<MailUser> users, bool withSmtp) : users_(std::move(users)), withSmtp_(withSmtp) {
    // Daemons that drop root must be able to walk into the temp dir (mkdtemp makes it 0700).
    ::chmod(dir_.path().c_str(), 0711);
    const fs::path root = dir_.path();
    for (const char* d : {"dovecot", "dovecot/run", "dovecot/state", "mail", "exim", "exim/spool", "exim/log"})
        fs::create_directories(root / d);
    ::chmod((root / "dovecot").c_str(), 0711);
    for (const auto& u : users_) makeMaildir(root / "mail" / u.name);
    chownTree(root / "mail", kMailUser, kMailGroup);
    chownTree(root / "exim", kEximUser, kEximUser);

    ProcessResult cert = run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                              "-nodes", "-keyout", dir_.file("key.pem"), "-out", dir_.file("cert.pem"), "-days", "2",
                              "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    if (cert.exitCode != 0) throw std::runtime_error("openssl req failed: " + cert.err);
    ::chmod(dir_.file("key.pem").c_str(), 0644);  // Exim reads it after dropping root; a test key only

    std::string passwd;
    for (const auto& u : users_) passwd += u.name + ":{PLAIN}" + u.password + "\n";
    dir_.write("dovecot/passwd", passwd);

    // A free port is racy (TEST-SERVERS.md): pick again once when a start fails.
    for (int attempt = 0;; ++attempt) {
        imapPort_ = freePort();
        imapsPort_ = freePort();
        smtpPort_ = freePort();
        smtpsPort_ = freePort();
        writeConfigs();
        try {
            startDovecot();
            if (withSmtp_) startExim();
            return;
        } catch (const std::exception&) {
            if (dovecot_) dovecot_->signal(SIGTERM), dovecot_->wait(std::chrono::seconds(5));
            if (exim_) exim_->signal(SIGTERM), exim_->wait(std::chrono::seconds(5));
            dovecot_.reset();
            exim_.reset();
            if (attempt >= 1) throw;
        }
    }
}

MailServers::~MailServers() {
    for (auto* child : {&exim_, &dovecot_}) {
        if (*child && (*child)->alive()) {
            (*child)->signal(SIGTERM);
            (*child)->wait(std::chrono::seconds(10));
        }
    }
}

void MailServers::withoutIdle() {
    stopImap();
    imapCapability_ = "IMAP4rev1 SASL-IR LITERAL+ UIDPLUS MOVE";
    writeConfigs();
    startImap();
}

std::string MailServers::caFile() const { return dir_.file("cert.pem"); }

void MailServers::writeConfigs() {
    const std::string d = dir_.path();
    dir_.write("dovecot/dovecot.conf",
               "instance_name = sbtest-" + std::to_string(imapPort_) + "\n"
               "base_dir = " + d + "/dovecot/run\n"
               "state_dir = " + d + "/dovecot/state\n"
               "log_path = " + d + "/dovecot/dovecot.log\n"
               "protocols = imap lmtp\n"
               "listen = 127.0.0.1\n"
               "shutdown_clients = yes\n"
               "disable_plaintext_auth = no\n"
               "auth_mechanisms = plain login\n"
               "auth_username_format = %Ln\n"
               // Failed logins are answered at once (tests of wrong passwords stay fast).
               "auth_failure_delay = 0\n"
               "ssl = yes\n"
               "ssl_cert = <" + d + "/cert.pem\n"
               "ssl_key = <" + d + "/key.pem\n"
               "mail_location = maildir:" + d + "/mail/%u\n" +
               (imapCapability_.empty() ? "" : "imap_capability = " + imapCapability_ + "\n") +
               "passdb {\n  driver = passwd-file\n  args = " + d + "/dovecot/passwd\n}\n"
               "userdb {\n  driver = static\n  args = uid=" + kMailUser + " gid=" + kMailGroup + " home=" + d +
               "/mail/%u allow_all_users=yes\n}\n"
               "service imap-login {\n"
               "  inet_listener imap {\n    address = 127.0.0.1\n    port = " + std::to_string(imapPort_) + "\n  }\n"
               "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " + std::to_string(imapsPort_) + "\n    ssl = yes\n  }\n"
               "}\n"
               "service lmtp {\n  unix_listener lmtp {\n    mode = 0666\n  }\n}\n");
    dir_.write("exim.conf",
               "primary_hostname = mail." + std::string(kDomain) + "\n"
               "spool_directory = " + d + "/exim/spool\n"
               "log_file_path = " + d + "/exim/log/%slog\n"
               "pid_file_path = " + d + "/exim/exim.pid\n"
               "daemon_smtp_ports = " + std::to_string(smtpPort_) + " : " + std::to_string(smtpsPort_) + "\n"
               "tls_on_connect_ports = " + std::to_string(smtpsPort_) + "\n"
               "local_interfaces = 127.0.0.1\n"
               "tls_advertise_hosts = *\n"
               "tls_certificate = " + d + "/cert.pem\n"
               "tls_privatekey = " + d + "/key.pem\n"
               "acl_smtp_rcpt = acl_rcpt\n"
               "rfc1413_query_timeout = 0s\n"
               "host_lookup =\n"
               "begin acl\n"
               "acl_rcpt:\n"
               // A rejected domain, so tests can provoke a permanent (5xx) refusal.
               "  deny domains = rejected.test\n    message = 5.1.1 no such domain here\n"
               "  defer domains = later.test\n    message = 4.3.0 try again later\n"
               "  accept\n"
               "begin routers\n"
               "dovecot:\n  driver = accept\n  transport = dovecot_lmtp\n"
               "begin transports\n"
               "dovecot_lmtp:\n  driver = lmtp\n  socket = " + d + "/dovecot/run/lmtp\n  batch_max = 200\n"
               "begin authenticators\n"
               "plain:\n  driver = plaintext\n  public_name = PLAIN\n  server_prompts = :\n"
               "  server_set_id = $auth2\n"
               "  server_condition = ${if and{{eq{$auth2}{" + std::string(kSmtpUser) + "}}{eq{$auth3}{" +
               std::string(kSmtpPassword) + "}}}}\n");
}

void MailServers::startDovecot() {
    dovecot_ = std::make_unique<Child>(std::vector<std::string>{"dovecot", "-F", "-c", dir_.file("dovecot/dovecot.conf")});
    // Dovecot accepts before its auth is up: ready means the greeting on both listeners.
    if (!waitForGreeting(imapPort_, "* OK", std::chrono::seconds(15)))
        throw std::runtime_error("dovecot did not greet on port " + std::to_string(imapPort_) + ":\n" +
                                 dovecot_->output() + dovecotLog());
}

void MailServers::startExim() {
    // With -C Exim drops to Debian-exim: its spool and log are owned by that user.
    exim_ = std::make_unique<Child>(std::vector<std::string>{"exim4", "-C", dir_.file("exim.conf"), "-bdf"});
    if (!waitForGreeting(smtpPort_, "220", std::chrono::seconds(15)))
        throw std::runtime_error("exim did not greet on port " + std::to_string(smtpPort_) + ":\n" +
                                 exim_->output() + eximLog());
}

void MailServers::stopImap() {
    if (!dovecot_) return;
    dovecot_->signal(SIGTERM);
    dovecot_->wait(std::chrono::seconds(15));
    dovecot_.reset();
    // The master exits before its imap and log processes do, and an imap process can keep
    // serving an open connection: end this instance's leftovers (by pid, matched on the
    // unique instance name in their title) so a stop really is a server going away.
    const std::string title = "dovecot-sbtest-" + std::to_string(imapPort_) + "/";
    for (int round = 0; round < 50; ++round) {
        bool any = false;
        for (const auto& e : fs::directory_iterator("/proc")) {
            const std::string pid = e.path().filename().string();
            if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
            std::string cmd = readFile(e.path().string() + "/cmdline");
            if (cmd.rfind(title, 0) != 0) continue;
            any = true;
            ::kill(std::stoi(pid), SIGKILL);
        }
        if (!any) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void MailServers::startImap() {
    if (dovecot_) return;
    startDovecot();
}

void MailServers::resetUids(const std::string& user) {
    if (dovecot_) throw std::logic_error("resetUids needs Dovecot stopped");
    // dovecot-uidvalidity is kept, so the next UIDVALIDITY is a new, larger one.
    for (const auto& e : fs::directory_iterator(fs::path(dir_.path()) / "mail" / user)) {
        const std::string name = e.path().filename().string();
        if (name == "dovecot-uidlist" || name.rfind("dovecot.index", 0) == 0 || name.rfind("dovecot.list.index", 0) == 0)
            fs::remove(e.path());
    }
}

std::string MailServers::maildir(const std::string& user, const std::string& folder) const {
    // Maildir++ layout: INBOX at the root, other folders as ".Name".
    return dir_.path() + "/mail/" + user + (folder.empty() || folder == "INBOX" ? "" : "/." + folder);
}

void MailServers::createFolder(const std::string& user, const std::string& folder) {
    const fs::path dir = maildir(user, folder);
    makeMaildir(dir);
    std::ofstream(dir / "maildirfolder").close();
    chownTree(dir, kMailUser, kMailGroup);
}

void MailServers::addToMaildir(const std::string& user, const std::string& raw, const std::string& folder) {
    const fs::path dir = maildir(user, folder);
    if (!fs::exists(dir / "new")) createFolder(user, folder);
    const std::string name = std::to_string(::time(nullptr)) + ".M" + std::to_string(++fileCounter_) + "P" +
                             std::to_string(::getpid()) + ".sbtest";
    const fs::path tmp = dir / "tmp" / name;
    {
        std::ofstream out(tmp, std::ios::binary);
        out << raw;
    }
    auto [uid, gid] = ids(kMailUser, kMailGroup);
    if (::chown(tmp.c_str(), uid, gid) != 0) throw std::runtime_error("chown failed: " + tmp.string());
    fs::rename(tmp, dir / "new" / name);  // maildir delivery: write in tmp, rename into new
}

size_t MailServers::maildirCount(const std::string& user, const std::string& folder) const {
    size_t n = 0;
    for (const char* sub : {"new", "cur"}) {
        const fs::path p = fs::path(maildir(user, folder)) / sub;
        if (!fs::exists(p)) continue;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(p)) ++n;
    }
    return n;
}

std::vector<std::string> MailServers::maildirMessages(const std::string& user, const std::string& folder) const {
    std::vector<std::string> out;
    for (const char* sub : {"new", "cur"}) {
        const fs::path p = fs::path(maildir(user, folder)) / sub;
        if (!fs::exists(p)) continue;
        for (const auto& e : fs::directory_iterator(p)) out.push_back(readFile(e.path().string()));
    }
    return out;
}

std::string MailServers::dovecotLog() const { return readFile(dir_.file("dovecot/dovecot.log")); }
std::string MailServers::eximLog() const { return readFile(dir_.file("exim/log/mainlog")); }

}  // namespace switchboard::test
