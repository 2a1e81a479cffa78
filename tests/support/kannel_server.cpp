#include "kannel_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace switchboard::test {

namespace {

const char* kFakeSmsc = "/usr/lib/kannel/test/fakesmsc";

// Kannel's url-encoding as fakesmsc prints it: %XX, '+' for a space.
std::string urlDecode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// What `fakesmsc` accepts for a UCS-2 message: url-encoded UTF-16BE.
std::string urlEncodeBytes(const std::string& bytes) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        if (std::isalnum(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string utf8ToUtf16Be(const std::string& s) {
    std::string out;
    auto put = [&](uint32_t u) {
        out += static_cast<char>(u >> 8);
        out += static_cast<char>(u & 0xFF);
    };
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        uint32_t cp;
        int n;
        if (c < 0x80) cp = c, n = 1;
        else if ((c >> 5) == 6) cp = c & 0x1F, n = 2;
        else if ((c >> 4) == 14) cp = c & 0x0F, n = 3;
        else cp = c & 0x07, n = 4;
        for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put(0xD800 + (cp >> 10));
            put(0xDC00 + (cp & 0x3FF));
        } else {
            put(cp);
        }
    }
    return out;
}

}  // namespace

std::string utf16BeToUtf8(const std::string& b) {
    std::string out;
    auto append = [&](uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    };
    for (size_t i = 0; i + 1 < b.size(); i += 2) {
        uint32_t u = (static_cast<unsigned char>(b[i]) << 8) | static_cast<unsigned char>(b[i + 1]);
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < b.size()) {
            uint32_t low = (static_cast<unsigned char>(b[i + 2]) << 8) | static_cast<unsigned char>(b[i + 3]);
            append(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
            i += 2;
        } else {
            append(u);
        }
    }
    return out;
}

KannelServer::KannelServer()
    : adminPort_(freePort()), boxPort_(freePort()), smscPort_(freePort()), sendsmsPort_(freePort()) {}

KannelServer::~KannelServer() {
    // Stop in the reverse order of start; Child's destructor SIGKILLs what is left.
    for (auto* c : {&fakesmsc_, &smsbox_, &bearerbox_})
        if (*c) {
            (*c)->signal(SIGTERM);
            (*c)->wait(std::chrono::seconds(5));
        }
    if (fifoFd_ >= 0) ::close(fifoFd_);
}

std::string KannelServer::sendsmsUrl() const {
    return "http://127.0.0.1:" + std::to_string(sendsmsPort_) + "/cgi-bin/sendsms";
}

void KannelServer::start(const std::string& getUrl) {
    // Kannel's config syntax (user guide ch. 3 and 6): one group per block, blank-line separated.
    std::ostringstream conf;
    conf << "group = core\n"
         << "admin-port = " << adminPort_ << "\nadmin-password = admin-test\nadmin-interface = 127.0.0.1\n"
         << "smsbox-port = " << boxPort_ << "\nsmsbox-interface = 127.0.0.1\nbox-allow-ip = 127.0.0.1\n"
         << "log-file = \"" << dir_.file("bearerbox.log") << "\"\nlog-level = 0\n"
         << "dlr-storage = internal\n\n"
         << "group = smsc\nsmsc = fake\nsmsc-id = fake\nport = " << smscPort_ << "\nconnect-allow-ip = 127.0.0.1\n\n"
         << "group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = " << boxPort_ << "\n"
         << "sendsms-port = " << sendsmsPort_ << "\nsendsms-interface = 127.0.0.1\n"
         << "log-file = \"" << dir_.file("smsbox.log") << "\"\nlog-level = 0\n"
         // Retry a get-url the host answered 503 (busy store), as a production config should.
         << "http-request-retry = 3\nhttp-queue-delay = 1\n\n"
         << "group = sendsms-user\nusername = " << kUser << "\npassword = " << kPassword << "\n"
         << "max-messages = 10\nconcatenation = true\n\n"
         << "group = sms-service\nkeyword = default\ncatch-all = true\nmax-messages = 0\n"
         << "get-url = \"" << getUrl << "\"\n";
    const std::string confPath = dir_.write("kannel.conf", conf.str());

    bearerbox_ = std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/bearerbox", confPath});
    const auto portsOpen = [&] { return acceptsConnections(boxPort_) && acceptsConnections(smscPort_); };
    if (!waitFor(portsOpen, std::chrono::seconds(10)))
        throw std::runtime_error("bearerbox did not open its ports:\n" + logs());
    // smsbox and fakesmsc exit when their first connection fails: start them only now.
    smsbox_ = std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/smsbox", confPath});
    // fakesmsc reads messages from stdin, one per line: a FIFO this object keeps open for
    // writing (O_RDWR never blocks and never lets the reader see end of file).
    const std::string fifo = dir_.file("fakesmsc.in");
    if (::mkfifo(fifo.c_str(), 0600) != 0) throw std::runtime_error("mkfifo " + fifo + " failed");
    fifoFd_ = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    if (fifoFd_ < 0) throw std::runtime_error("cannot open " + fifo);
    fakesmsc_ = std::make_unique<Child>(std::vector<std::string>{
        "/bin/sh", "-c",
        std::string("exec ") + kFakeSmsc + " -H 127.0.0.1 -r " + std::to_string(smscPort_) + " < '" + fifo + "'"});
    // Online: sendsms answers, and the admin status shows the fake SMSC connected.
    const std::string status = "/status.txt?password=admin-test";
    bool online = waitFor(
        [&] {
            if (!acceptsConnections(sendsmsPort_)) return false;
            auto r = http("GET", adminPort_, status);
            return r.status == 200 && r.body.find("online") != std::string::npos &&
                   r.body.find("smsbox:") != std::string::npos;
        },
        std::chrono::seconds(15));
    if (!online) throw std::runtime_error("Kannel did not come online:\n" + logs());
}

void KannelServer::inject(const std::string& line) {
    const std::string l = line + "\n";
    if (::write(fifoFd_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
        throw std::runtime_error("could not write to fakesmsc");
    // fakesmsc takes one line per read of its buffered input: a second line written before it
    // sent the first can sit in its buffer unseen. One at a time, then.
    const std::string sent = "fakesmsc: sent message " + std::to_string(++injected_) + "\n";
    if (!waitFor([&] { return fakesmsc_->output().find(sent) != std::string::npos; }, std::chrono::seconds(10)))
        throw std::runtime_error("fakesmsc did not send the injected message '" + line + "':\n" + logs());
}

void KannelServer::injectText(const std::string& from, const std::string& to, const std::string& text) {
    inject(from + " " + to + " text " + text);
}

void KannelServer::injectUcs2(const std::string& from, const std::string& to, const std::string& utf8) {
    inject(from + " " + to + " ucs2 " + urlEncodeBytes(utf8ToUtf16Be(utf8)));
}

std::vector<SmscMessage> KannelServer::received() const {
    // fakesmsc logs each message it gets: "Got message N: <from to type [udh UDH] data>".
    static const std::regex line(R"(Got message \d+: <(\S+) (\S+) (\S+) (.*)>)");
    std::vector<SmscMessage> out;
    struct Parts {
        SmscMessage first;
        int total = 0;
        std::map<int, std::string> bytes;
    };
    std::map<int, Parts> concatenated;  // by reference number
    std::istringstream log(fakesmsc_ ? fakesmsc_->output() : std::string());
    for (std::string l; std::getline(log, l);) {
        std::smatch m;
        if (!std::regex_search(l, m, line)) continue;
        SmscMessage msg{m[1], m[2], m[3], m[4], 1};
        if (msg.type == "text") {
            out.push_back(msg);
        } else if (msg.type == "ucs-2" || msg.type == "data") {
            msg.bytes = urlDecode(msg.bytes);
            out.push_back(msg);
        } else if (msg.type == "udh") {
            // "udh %05%00%03REF%TOTAL%SEQ data PAYLOAD": the concatenation header of 3GPP TS 23.040.
            std::string rest = msg.bytes;
            size_t sp = rest.find(' ');
            const std::string udh = urlDecode(rest.substr(0, sp));
            size_t dataAt = rest.find("data ", sp);
            if (udh.size() < 6 || dataAt == std::string::npos) continue;
            Parts& p = concatenated[static_cast<unsigned char>(udh[3])];
            p.first = msg;
            p.total = static_cast<unsigned char>(udh[4]);
            p.bytes[static_cast<unsigned char>(udh[5])] = urlDecode(rest.substr(dataAt + 5));
            if (static_cast<int>(p.bytes.size()) == p.total) {
                SmscMessage whole = p.first;
                whole.bytes.clear();
                for (auto& [seq, b] : p.bytes) whole.bytes += b;
                whole.parts = p.total;
                out.push_back(whole);
            }
        }
    }
    return out;
}

std::vector<SmscMessage> KannelServer::waitForMessages(size_t n, std::chrono::milliseconds timeout) const {
    std::vector<SmscMessage> got;
    waitFor(
        [&] {
            got = received();
            return got.size() >= n;
        },
        timeout);
    return got;
}

std::string KannelServer::logs() const {
    std::string out;
    for (const char* name : {"bearerbox.log", "smsbox.log"}) {
        std::string text = readFile(dir_.file(name));
        if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
        out += std::string("--- ") + name + "\n" + text + "\n";
    }
    if (fakesmsc_) out += "--- fakesmsc\n" + fakesmsc_->output() + "\n";
    return out;
}

}  // namespace switchboard::test
