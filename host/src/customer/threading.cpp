#include "customer/threading.h"

#include "customer/customer_ids.h"
#include "customer/merges.h"
#include "store/sql.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <optional>
#include <stdexcept>
#include <string_view>

using namespace Poco::Data::Keywords;

namespace switchboard::host::customer {

namespace {

// A pathological References header must not turn one message into thousands of queries;
// the newest ancestors are the ones that matter.
constexpr size_t kMaxReferences = 64;

// A Message-ID as compared: surrounding whitespace and one pair of angle brackets dropped.
std::string_view normalizeMessageId(std::string_view id) {
    const char* ws = " \t\r\n";
    size_t first = id.find_first_not_of(ws);
    if (first == std::string_view::npos) return {};
    id = id.substr(first, id.find_last_not_of(ws) - first + 1);
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    return id;
}

// LIKE pattern matching any text that contains text literally ('\' escapes).
std::string containsPattern(std::string_view text) {
    std::string out = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

// The conversation of a stored, threaded message of this customer whose source id is ref.
std::optional<std::string> threadOfMessageId(Sql& s, const std::string& customer,
                                             int64_t self, std::string_view ref) {
    // Stored ids may carry brackets or spaces: narrow with LIKE (on the customer's rows, which
    // are indexed), then compare exactly after the same normalization.
    for (const auto& row : s.query("SELECT m.source_id, m.thread_id FROM messages m JOIN conversations c "
                                   "ON c.id = m.thread_id WHERE m.customer_id = ? AND c.customer_id = ? "
                                   "AND m.id <> ? AND m.source_id LIKE ? ESCAPE '\\' ORDER BY m.id DESC",
                                   {customer, customer, self, containsPattern(ref)}))
        if (normalizeMessageId(row.text(0)) == ref) return row.text(1);
    return std::nullopt;
}

// Rule 1: In-Reply-To first, then References from the newest to the oldest.
std::optional<std::string> emailThread(Sql& s, const std::string& customer,
                                       const ThreadingInput& in) {
    std::vector<std::string_view> refs;
    auto add = [&](const std::string& raw) {
        std::string_view ref = normalizeMessageId(raw);
        if (ref.empty()) return;
        for (auto seen : refs)
            if (seen == ref) return;
        refs.push_back(ref);
    };
    add(in.inReplyTo);
    size_t looked = 0;
    for (auto it = in.references.rbegin(); it != in.references.rend() && looked < kMaxReferences; ++it, ++looked)
        add(*it);
    for (auto ref : refs)
        if (auto thread = threadOfMessageId(s, customer, in.messageId, ref)) return thread;
    return std::nullopt;
}

struct Conversation {
    std::string id;
    int64_t lastAtMs = 0;
};

std::optional<Conversation> firstConversation(const std::vector<SqlRow>& rows) {
    if (rows.empty()) return std::nullopt;
    return Conversation{rows[0].text(0), rows[0].integer(1)};
}

// Rule 2: the customer's conversation under this provider thread key.
std::optional<Conversation> byThreadKey(Sql& s, const std::string& customer,
                                        const std::string& threadKey) {
    return firstConversation(s.query("SELECT id, last_at_ms FROM conversations WHERE thread_key = ? "
                                     "AND customer_id = ? ORDER BY last_at_ms DESC, id LIMIT 1",
                                     {threadKey, customer}));
}

// Rule 3: the customer's latest conversation, on any channel.
std::optional<Conversation> latest(Sql& s, const std::string& customer) {
    return firstConversation(s.query("SELECT id, last_at_ms FROM conversations WHERE customer_id = ? "
                                     "ORDER BY last_at_ms DESC, opened_at_ms DESC, id LIMIT 1",
                                     {customer}));
}

std::string open(Sql& s, const std::string& customer, const std::string& threadKey,
                 const ThreadingInput& in) {
    std::string id = newId("cnv_");
    s.exec("INSERT INTO conversations (id, customer_id, original_customer_id, thread_key, first_channel, "
           "opened_at_ms, last_at_ms) VALUES (?,?,?,?,?,?,?)",
           {id, customer, customer, threadKey, in.channel, in.atMs, in.atMs});
    return id;
}

std::string join(Sql& s, const std::string& conversation, int64_t atMs) {
    // CASE, not MAX(a, b): the two-argument MAX is SQLite's; PostgreSQL calls it GREATEST.
    s.exec("UPDATE conversations SET last_at_ms = CASE WHEN last_at_ms < ? THEN ? ELSE last_at_ms END WHERE id = ?",
           {atMs, atMs, conversation});
    return conversation;
}

}  // namespace

ConversationThreader::ConversationThreader(std::chrono::milliseconds continuationWindow)
    : window_(continuationWindow) {}

std::string ConversationThreader::assign(Sql& s, const ThreadingInput& in) {
    if (in.customerId.empty())
        throw std::invalid_argument("message " + std::to_string(in.messageId) +
                                    " has no customer to thread under");
    // Rows belong to the live root; the resolver returns one, but an id from elsewhere may not be.
    const std::string customer = liveCustomerOf(s, in.customerId).value_or(in.customerId);

    std::string conversation;
    if (auto thread = emailThread(s, customer, in)) {
        conversation = join(s, *thread, in.atMs);
    } else if (!in.conversationId.empty()) {
        // Per connector instance: two providers may well use the same session ids.
        const std::string key = in.connector + "\n" + in.conversationId;
        auto existing = byThreadKey(s, customer, key);
        conversation = existing ? join(s, existing->id, in.atMs) : open(s, customer, key, in);
    } else {
        auto last = window_.count() > 0 ? latest(s, customer) : std::nullopt;
        bool continues = last && in.atMs - last->lastAtMs <= window_.count();
        if (continues) {
            // A message from well before the conversation opened (a backfill arriving newest
            // first) is not a continuation of it.
            int64_t openedAt = 0;
            std::string id = last->id;
            s << "SELECT opened_at_ms FROM conversations WHERE id = ?", use(id), into(openedAt), now;
            continues = in.atMs >= openedAt - window_.count();
        }
        conversation = continues ? join(s, last->id, in.atMs) : open(s, customer, "", in);
    }

    s.exec("UPDATE messages SET thread_id = ? WHERE id = ?", {conversation, in.messageId});
    return conversation;
}

}  // namespace switchboard::host::customer
