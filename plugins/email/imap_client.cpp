#include "imap_client.h"

#include "imap_utf7.h"

#include <sbcommon/form.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>

namespace email {
namespace {

size_t appendTo(char* data, size_t size, size_t count, void* userdata) {
    static_cast<std::string*>(userdata)->append(data, size * count);
    return size * count;
}

// A mailbox name for the URL path (RFC 5092 / RFC 3986): libcurl decodes it and quotes it
// for the command.
std::string encodePath(const std::string& s) { return sbcommon::form::urlEncode(s); }

// A mailbox name as an IMAP quoted string (RFC 3501 4.3) in modified UTF-7; names with quotes
// or backslashes are refused by the options.
std::string quoted(const std::string& mailbox) { return "\"" + encodeMailboxName(mailbox) + "\""; }

std::string uidPath(uint64_t uidValidity, uint64_t uid) {
    return ";UIDVALIDITY=" + std::to_string(uidValidity) + "/;UID=" + std::to_string(uid);
}

std::optional<uint64_t> numberAfter(std::string_view line, std::string_view key) {
    size_t at = 0;
    while ((at = line.find(key, at)) != std::string_view::npos) {
        // A whole word: preceded by '(' or ' ' and followed by a space.
        const bool startOk = at == 0 || line[at - 1] == '(' || line[at - 1] == ' ';
        const size_t valueAt = at + key.size();
        if (startOk && valueAt < line.size() && line[valueAt] == ' ') {
            uint64_t v = 0;
            const char* begin = line.data() + valueAt + 1;
            auto [end, ec] = std::from_chars(begin, line.data() + line.size(), v);
            if (ec == std::errc() && end != begin) return v;
        }
        at = valueAt;
    }
    return std::nullopt;
}

}  // namespace

std::vector<MessageInfo> parseFetchLines(const std::string& response) {
    std::vector<MessageInfo> out;
    size_t start = 0;
    while (start < response.size()) {
        size_t end = response.find('\n', start);
        if (end == std::string::npos) end = response.size();
        std::string_view line(response.data() + start, end - start);
        start = end + 1;
        if (line.substr(0, 2) != "* " || line.find(" FETCH (") == std::string_view::npos) continue;
        auto uid = numberAfter(line, "UID");
        if (!uid) continue;
        MessageInfo info;
        info.uid = *uid;
        info.size = numberAfter(line, "RFC822.SIZE").value_or(0);
        const size_t flags = line.find("FLAGS (");
        if (flags != std::string_view::npos) {
            const size_t close = line.find(')', flags);
            std::string_view list = line.substr(flags, close == std::string_view::npos ? close : close - flags);
            info.seen = list.find("\\Seen") != std::string_view::npos;
        }
        out.push_back(info);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid == b.uid; }),
              out.end());
    return out;
}

MailboxStatus parseStatus(const std::string& response) {
    MailboxStatus s;
    const size_t at = response.find("* STATUS ");
    if (at == std::string::npos) return s;
    std::string_view line(response.data() + at, response.size() - at);
    line = line.substr(0, line.find('\n'));
    s.uidValidity = numberAfter(line, "UIDVALIDITY").value_or(0);
    s.uidNext = numberAfter(line, "UIDNEXT").value_or(0);
    return s;
}

ImapClient::ImapClient(ServerOptions server) : server_(std::move(server)), curl_(newEasyHandle()) {}

// libcurl sends the path's mailbox as it is: in modified UTF-7, like every command.
std::string ImapClient::mailboxUrl(const std::string& mailbox) const {
    return server_.url + "/" + encodePath(encodeMailboxName(mailbox));
}

// RFC 5092 3 names the mailbox in UTF-8 (percent-encoded), unlike the protocol itself.
std::string ImapClient::messageUrl(const std::string& mailbox, uint64_t uidValidity, uint64_t uid) const {
    return server_.url + "/" + encodePath(mailbox) + uidPath(uidValidity, uid);
}

std::string ImapClient::command(const std::string& url, const std::string& request, const std::string& what) {
    CURL* c = curl_.get();
    curl_easy_reset(c);  // keeps the connection cache: the next call reuses the session
    applyServerOptions(c, server_, "imap,imaps");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.c_str());
    return transfer(url, what);
}

std::string ImapClient::transfer(const std::string& url, const std::string& what) {
    CURL* c = curl_.get();
    std::string body;
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &appendTo);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    if (rc == CURLE_OK) return body;
    ServerError::Kind kind = classify(rc);
    // libcurl reports a refused SELECT with the same code as a refused login.
    if (rc == CURLE_LOGIN_DENIED && std::string_view(errorBuffer).find("Select") != std::string_view::npos)
        kind = ServerError::Kind::Mailbox;
    std::string text = what + " on " + server_.where();
    if (kind == ServerError::Kind::Mailbox)
        text += ": the server refused to open the mailbox (does it exist? names are case-sensitive)";
    else if (kind == ServerError::Kind::Auth)
        text += ": login as '" + server_.username + "' was refused (wrong username or password?)";
    else
        text += ": " + describe(rc, errorBuffer);
    throw ServerError(kind, text);
}

MailboxStatus ImapClient::status(const std::string& mailbox) {
    const std::string response =
        command(server_.url + "/", "STATUS " + quoted(mailbox) + " (UIDVALIDITY UIDNEXT)", "STATUS of '" + mailbox + "'");
    MailboxStatus s = parseStatus(response);
    if (s.uidValidity == 0)
        throw ServerError(ServerError::Kind::Rejected,
                          "STATUS of '" + mailbox + "' on " + server_.where() + ": no UIDVALIDITY in the answer");
    return s;
}

void ImapClient::refresh(const std::string& mailbox) {
    command(mailboxUrl(mailbox), "NOOP", "opening '" + mailbox + "'");
}

std::vector<MessageInfo> ImapClient::list(const std::string& mailbox, uint64_t uidValidity, uint64_t firstUid,
                                          uint64_t lastUid) {
    const std::string url = mailboxUrl(mailbox) + ";UIDVALIDITY=" + std::to_string(uidValidity);
    firstUid = std::max<uint64_t>(firstUid, 1);
    const std::string range = std::to_string(firstUid) + ":" + (lastUid == 0 ? "*" : std::to_string(lastUid));
    // "n:*" always includes the highest UID even when it is below n (RFC 3501 6.4.8): filter.
    auto all = parseFetchLines(command(url, "UID FETCH " + range + " (UID FLAGS RFC822.SIZE)", "listing '" + mailbox + "'"));
    all.erase(std::remove_if(all.begin(), all.end(),
                             [&](const MessageInfo& m) { return m.uid < firstUid || (lastUid && m.uid > lastUid); }),
              all.end());
    return all;
}

std::string ImapClient::fetch(const std::string& mailbox, uint64_t uidValidity, uint64_t uid, bool headerOnly) {
    CURL* c = curl_.get();
    curl_easy_reset(c);
    applyServerOptions(c, server_, "imap,imaps");
    // libcurl sends UID FETCH <uid> BODY[<section>] for this URL and checks UIDVALIDITY.
    const std::string url = mailboxUrl(mailbox) + uidPath(uidValidity, uid) + (headerOnly ? ";SECTION=HEADER" : "");
    return transfer(url, "fetching UID " + std::to_string(uid) + " of '" + mailbox + "'");
}

void ImapClient::setSeen(const std::string& mailbox, const std::vector<uint64_t>& uids, bool seen) {
    if (uids.empty()) return;
    std::string set;  // a sequence set (RFC 3501 9: "1,5,7")
    for (uint64_t uid : uids) set += (set.empty() ? "" : ",") + std::to_string(uid);
    // .SILENT: no per-message answer lines (see the libcurl line limit in mailbox_sync.cpp).
    command(mailboxUrl(mailbox), "UID STORE " + set + (seen ? " +" : " -") + "FLAGS.SILENT (\\Seen)",
            "flagging " + std::to_string(uids.size()) + " message(s) of '" + mailbox + "'");
}

void ImapClient::move(const std::string& mailbox, const std::vector<uint64_t>& uids, const std::string& target) {
    if (uids.empty()) return;
    std::string set;
    for (uint64_t uid : uids) set += (set.empty() ? "" : ",") + std::to_string(uid);
    const std::string what = "moving " + std::to_string(uids.size()) + " message(s) of '" + mailbox + "' to '" + target + "'";
    try {
        command(mailboxUrl(mailbox), "UID MOVE " + set + " " + quoted(target), what);
        return;
    } catch (const ServerError& e) {
        if (e.kind() != ServerError::Kind::Rejected) throw;
    }
    // Without MOVE: copy, flag \Deleted, expunge (RFC 3501 6.4.7, 6.4.6, 6.4.3).
    command(mailboxUrl(mailbox), "UID COPY " + set + " " + quoted(target), what);
    command(mailboxUrl(mailbox), "UID STORE " + set + " +FLAGS.SILENT (\\Deleted)", what);
    command(mailboxUrl(mailbox), "EXPUNGE", what);
}

}  // namespace email
