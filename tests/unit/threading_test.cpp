// Conversation threading through the real store: email headers, provider thread keys, the
// continuation window, merges and unmerges; and the threading: config section.
#include "config/config.h"
#include "customer/merges.h"
#include "store/store.h"
#include "test_support.h"

#include <Poco/Data/Session.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>

using namespace switchboard::host;
using namespace Poco::Data::Keywords;
using switchboard::test::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kT0 = 1'700'000'000'000;  // a plausible epoch time in ms

customer::SenderIdentity email(const std::string& address) { return {"email", address, ""}; }
customer::SenderIdentity phone(const std::string& number) { return {"phone", number, ""}; }

MessageRecord inbound(const std::string& connector, const std::string& channel, const std::string& sourceId,
                      std::vector<customer::SenderIdentity> sender, int64_t atMs) {
    MessageRecord m;
    m.connector = connector;
    m.channel = channel;
    m.direction = "inbound";
    m.sourceId = sourceId;
    m.occurredAtMs = atMs;
    m.receivedAtMs = atMs + 1000;  // threading goes by when it happened, not when it came in
    m.normalizedJson = "{}";
    m.sender = std::move(sender);
    return m;
}

MessageRecord mail(const std::string& messageId, const std::string& from, int64_t atMs,
                   const std::string& inReplyTo = "", std::vector<std::string> references = {}) {
    MessageRecord m = inbound("mail", "email", messageId, {email(from)}, atMs);
    m.subject = "Order 42";
    m.inReplyTo = inReplyTo;
    m.references = std::move(references);
    return m;
}

MessageRecord chat(const std::string& connector, const std::string& sourceId, const std::string& from,
                   const std::string& conversationId, int64_t atMs) {
    MessageRecord m = inbound(connector, "webchat", sourceId, {email(from)}, atMs);
    m.conversationId = conversationId;
    return m;
}

struct ConversationRow {
    std::string customerId;
    std::string originalCustomerId;
    std::string threadKey;
    std::string firstChannel;
    int64_t openedAtMs = 0;
    int64_t lastAtMs = 0;
};

// Every threading test runs on both stores (value-parameterized: sqlite, postgresql).
class Threading : public ::testing::TestWithParam<std::string> {
protected:
    void open(std::chrono::milliseconds window = std::chrono::minutes(30)) {
        auto resolver = std::make_shared<customer::IdentityResolver>(config::IdentityConfig{});
        auto threader = std::make_shared<customer::ConversationThreader>(window);
        store = std::make_unique<Store>(storeConfig, resolver, threader);
    }
    void SetUp() override { open(); }

    void commit(const MessageRecord& m) {
        auto out = store->commit({m}, std::nullopt, m.connector);
        ASSERT_EQ(out, std::vector<CommitOutcome>{CommitOutcome::Stored});
    }

    // messages.thread_id ("" when NULL) and customer_id of one stored message.
    std::string threadOf(const std::string& connector, const std::string& sourceId) {
        return column("COALESCE(thread_id, '')", connector, sourceId);
    }
    std::string customerOf(const std::string& connector, const std::string& sourceId) {
        return column("COALESCE(customer_id, '')", connector, sourceId);
    }

    ConversationRow conversation(const std::string& id) {
        ConversationRow row;
        std::string cid = id;
        store->withSession([&](Sql& s) {
            s << "SELECT customer_id, original_customer_id, thread_key, first_channel, opened_at_ms, "
                 "last_at_ms FROM conversations WHERE id = ?",
                use(cid), into(row.customerId), into(row.originalCustomerId), into(row.threadKey),
                into(row.firstChannel), into(row.openedAtMs), into(row.lastAtMs), now;
        });
        return row;
    }

    int64_t conversationCount() {
        int64_t n = 0;
        store->withSession([&](Sql& s) {
            s << "SELECT COUNT(*) FROM conversations", into(n), now;
        });
        return n;
    }

    TempDir dir;
    config::StoreConfig storeConfig = switchboard::test::testStoreConfig(GetParam(), dir);
    std::unique_ptr<Store> store;

private:
    std::string column(const std::string& expr, const std::string& connector, const std::string& sourceId) {
        std::vector<std::string> values;
        std::string c = connector, id = sourceId;
        store->withSession([&](Sql& s) {
            s << "SELECT " + expr + " FROM messages WHERE connector = ? AND source_id = ?", use(c), use(id),
                into(values), now;
        });
        EXPECT_EQ(values.size(), 1u) << connector << "/" << sourceId;
        return values.empty() ? "" : values[0];
    }
};

// Every reply below comes hours after what it answers: far outside the 30-minute window, so
// only the headers can have put it into the conversation.

INSTANTIATE_TEST_SUITE_P(Engines, Threading, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(Threading, NewConversationIsRecordedForTheCustomer) {
    commit(mail("<m1@x>", "ana@example.com", kT0));
    std::string thread = threadOf("mail", "<m1@x>");
    EXPECT_THAT(thread, StartsWith("cnv_"));
    EXPECT_EQ(thread.size(), 24u);
    ConversationRow row = conversation(thread);
    EXPECT_EQ(row.customerId, customerOf("mail", "<m1@x>"));
    EXPECT_EQ(row.originalCustomerId, row.customerId);
    EXPECT_EQ(row.threadKey, "");
    EXPECT_EQ(row.firstChannel, "email");
    EXPECT_EQ(row.openedAtMs, kT0);
    EXPECT_EQ(row.lastAtMs, kT0);
}

TEST_P(Threading, EmailReplyByInReplyToJoins) {
    commit(mail("<m1@x>", "ana@example.com", kT0));
    commit(mail("<m2@x>", "ana@example.com", kT0 + 5 * kHour, "<m1@x>"));
    EXPECT_EQ(threadOf("mail", "<m2@x>"), threadOf("mail", "<m1@x>"));
    EXPECT_EQ(conversation(threadOf("mail", "<m1@x>")).lastAtMs, kT0 + 5 * kHour);
    EXPECT_EQ(conversationCount(), 1);
}

TEST_P(Threading, EmailReplyByReferencesOnlyJoins) {
    commit(mail("<m1@x>", "ana@example.com", kT0));
    commit(mail("<m2@x>", "ana@example.com", kT0 + 5 * kHour, "<never-stored@x>", {"<m1@x>", "<other@x>"}));
    EXPECT_EQ(threadOf("mail", "<m2@x>"), threadOf("mail", "<m1@x>"));
}

TEST_P(Threading, InReplyToWinsThenTheNewestReference) {
    commit(mail("<a@x>", "ana@example.com", kT0));
    commit(mail("<b@x>", "ana@example.com", kT0 + 5 * kHour));
    const std::string a = threadOf("mail", "<a@x>"), b = threadOf("mail", "<b@x>");
    ASSERT_NE(a, b);
    // References run oldest first: the last one is the nearest ancestor.
    commit(mail("<c@x>", "ana@example.com", kT0 + 10 * kHour, "<a@x>", {"<b@x>"}));
    commit(mail("<d@x>", "ana@example.com", kT0 + 15 * kHour, "", {"<a@x>", "<b@x>"}));
    commit(mail("<e@x>", "ana@example.com", kT0 + 20 * kHour, "", {"<b@x>", "<a@x>"}));
    EXPECT_EQ(threadOf("mail", "<c@x>"), a);
    EXPECT_EQ(threadOf("mail", "<d@x>"), b);
    EXPECT_EQ(threadOf("mail", "<e@x>"), a);
}

TEST_P(Threading, OnlyTheNewest64ReferencesAreLookedUp) {
    commit(mail("<root@x>", "ana@example.com", kT0));
    std::vector<std::string> refs = {"<root@x>"};
    for (int i = 0; i < 64; ++i) refs.push_back("<gone-" + std::to_string(i) + "@x>");
    commit(mail("<far@x>", "ana@example.com", kT0 + 5 * kHour, "", refs));
    EXPECT_NE(threadOf("mail", "<far@x>"), threadOf("mail", "<root@x>"));  // 65th newest: ignored
    refs.pop_back();
    commit(mail("<near@x>", "ana@example.com", kT0 + 10 * kHour, "", refs));
    EXPECT_EQ(threadOf("mail", "<near@x>"), threadOf("mail", "<root@x>"));  // 64th newest: found
}

TEST_P(Threading, AngleBracketsAndSurroundingSpacesAreIgnoredCaseIsNot) {
    commit(mail("m1@x", "ana@example.com", kT0));          // stored bare
    commit(mail("<m2@x>", "ana@example.com", kT0 + 5 * kHour));  // stored bracketed
    commit(mail("<r1@x>", "ana@example.com", kT0 + 10 * kHour, " <m1@x>\t"));
    commit(mail("<r2@x>", "ana@example.com", kT0 + 15 * kHour, "", {" m2@x \r\n"}));
    EXPECT_EQ(threadOf("mail", "<r1@x>"), threadOf("mail", "m1@x"));
    EXPECT_EQ(threadOf("mail", "<r2@x>"), threadOf("mail", "<m2@x>"));
    // Message-IDs are compared exactly: another case is another message.
    commit(mail("<r3@x>", "ana@example.com", kT0 + 20 * kHour, "<M1@X>"));
    EXPECT_NE(threadOf("mail", "<r3@x>"), threadOf("mail", "m1@x"));
    EXPECT_EQ(conversationCount(), 3);
}

TEST_P(Threading, LikeWildcardsInAMessageIdAreLiteral) {
    commit(mail("<a_b%c@x>", "ana@example.com", kT0));
    commit(mail("<aXbYc@x>", "ana@example.com", kT0 + 5 * kHour));
    commit(mail("<r@x>", "ana@example.com", kT0 + 10 * kHour, "<a_b%c@x>"));
    EXPECT_EQ(threadOf("mail", "<r@x>"), threadOf("mail", "<a_b%c@x>"));
    commit(mail("<r2@x>", "ana@example.com", kT0 + 15 * kHour, "<a_b%c@x.other>"));
    EXPECT_NE(threadOf("mail", "<r2@x>"), threadOf("mail", "<a_b%c@x>"));
}

TEST_P(Threading, SameSubjectWithoutHeadersDoesNotThread) {
    commit(mail("<m1@x>", "ana@example.com", kT0));
    commit(mail("<m2@x>", "ana@example.com", kT0 + 5 * kHour));  // same "Order 42" subject
    EXPECT_NE(threadOf("mail", "<m2@x>"), threadOf("mail", "<m1@x>"));
    EXPECT_EQ(conversationCount(), 2);
}

TEST_P(Threading, ReplyNamingAnotherCustomersMessageDoesNotJoinIt) {
    commit(mail("<bob-1@x>", "bob@example.com", kT0));
    commit(mail("<ana-1@x>", "ana@example.com", kT0 + 5 * kHour, "<bob-1@x>", {"<bob-1@x>"}));
    ASSERT_NE(customerOf("mail", "<ana-1@x>"), customerOf("mail", "<bob-1@x>"));
    const std::string anaThread = threadOf("mail", "<ana-1@x>");
    EXPECT_NE(anaThread, threadOf("mail", "<bob-1@x>"));
    EXPECT_EQ(conversation(anaThread).customerId, customerOf("mail", "<ana-1@x>"));
    // The foreign reference is ignored and Ana's own rules apply: here, continuation.
    commit(mail("<ana-2@x>", "ana@example.com", kT0 + 5 * kHour + kMinute, "<bob-1@x>"));
    EXPECT_EQ(threadOf("mail", "<ana-2@x>"), anaThread);
}

TEST_P(Threading, ChatConversationIdIsTheThreadPerConnector) {
    commit(chat("web", "w1", "ana@example.com", "session-1", kT0));
    commit(chat("web", "w2", "ana@example.com", "session-1", kT0 + 5 * kHour));
    EXPECT_EQ(threadOf("web", "w2"), threadOf("web", "w1"));
    EXPECT_EQ(conversation(threadOf("web", "w1")).threadKey, "web\nsession-1");
    // The same session id on another connector instance is another provider's session.
    commit(chat("web2", "w1", "ana@example.com", "session-1", kT0 + 5 * kHour + kMinute));
    EXPECT_NE(threadOf("web2", "w1"), threadOf("web", "w1"));
    EXPECT_EQ(conversation(threadOf("web2", "w1")).threadKey, "web2\nsession-1");
}

TEST_P(Threading, NewChatSessionOpensAConversationEvenInsideTheWindow) {
    commit(chat("web", "w1", "ana@example.com", "session-1", kT0));
    commit(chat("web", "w2", "ana@example.com", "session-2", kT0 + kMinute));
    EXPECT_NE(threadOf("web", "w2"), threadOf("web", "w1"));
    // A message without a thread of its own continues the latest one.
    commit(mail("<m1@x>", "ana@example.com", kT0 + 2 * kMinute));
    EXPECT_EQ(threadOf("mail", "<m1@x>"), threadOf("web", "w2"));
}

TEST_P(Threading, ChatSessionIdOfAnotherCustomerIsNotShared) {
    commit(chat("web", "w1", "ana@example.com", "session-1", kT0));
    commit(chat("web", "w2", "bob@example.com", "session-1", kT0 + kMinute));
    EXPECT_NE(threadOf("web", "w2"), threadOf("web", "w1"));
}

TEST_P(Threading, ContinuationWindowSpansChannelsAndEndsExactly) {
    // The first email tells us Ana's phone too, so her SMS resolves to her.
    MessageRecord first = mail("<m1@x>", "ana@example.com", kT0);
    first.sender.push_back(phone("+351912345678"));
    commit(first);
    const std::string thread = threadOf("mail", "<m1@x>");
    auto sms = [&](const std::string& id, int64_t at) {
        commit(inbound("sms", "sms", id, {phone("+351912345678")}, at));
        EXPECT_EQ(customerOf("sms", id), customerOf("mail", "<m1@x>"));
        return threadOf("sms", id);
    };
    EXPECT_EQ(sms("s1", kT0 + 20 * kMinute), thread);
    // Measured from the conversation's last message, not from when it opened.
    EXPECT_EQ(sms("s2", kT0 + 50 * kMinute), thread);     // exactly the window after s1
    EXPECT_EQ(conversation(thread).lastAtMs, kT0 + 50 * kMinute);
    EXPECT_EQ(conversation(thread).firstChannel, "email");
    std::string next = sms("s3", kT0 + 80 * kMinute + 1);  // one ms too late
    EXPECT_NE(next, thread);
    EXPECT_EQ(conversation(next).firstChannel, "sms");
    EXPECT_EQ(conversation(next).threadKey, "");
}

TEST_P(Threading, LateMessageDoesNotMoveLastAtBack) {
    commit(mail("<m1@x>", "ana@example.com", kT0 + 10 * kMinute));
    commit(mail("<m0@x>", "ana@example.com", kT0));  // delivered late, happened earlier
    const std::string thread = threadOf("mail", "<m1@x>");
    EXPECT_EQ(threadOf("mail", "<m0@x>"), thread);
    EXPECT_EQ(conversation(thread).lastAtMs, kT0 + 10 * kMinute);
}

TEST_P(Threading, WindowZeroDisablesContinuationOnly) {
    store.reset();
    open(std::chrono::milliseconds(0));
    commit(mail("<m1@x>", "ana@example.com", kT0));
    commit(mail("<m2@x>", "ana@example.com", kT0 + 1));
    EXPECT_NE(threadOf("mail", "<m2@x>"), threadOf("mail", "<m1@x>"));
    // Headers and chat sessions still thread.
    commit(mail("<m3@x>", "ana@example.com", kT0 + 2, "<m1@x>"));
    EXPECT_EQ(threadOf("mail", "<m3@x>"), threadOf("mail", "<m1@x>"));
    commit(chat("web", "w1", "ana@example.com", "session-1", kT0 + 3));
    commit(chat("web", "w2", "ana@example.com", "session-1", kT0 + 4));
    EXPECT_EQ(threadOf("web", "w2"), threadOf("web", "w1"));
}

TEST_P(Threading, ConversationsFollowMergeAndComeBackOnUnmerge) {
    commit(mail("<ana-1@x>", "ana@example.com", kT0));
    commit(mail("<bob-1@x>", "bob@example.com", kT0 + kMinute));
    const std::string ana = customerOf("mail", "<ana-1@x>"), bob = customerOf("mail", "<bob-1@x>");
    const std::string anaThread = threadOf("mail", "<ana-1@x>"), bobThread = threadOf("mail", "<bob-1@x>");
    ASSERT_NE(ana, bob);

    int64_t mergeId = 0;
    store->inTransaction([&](Sql& s) {
        mergeId = customer::mergeCustomers(s, ana, bob, "{}", kT0 + 2 * kMinute);
    });
    EXPECT_EQ(conversation(bobThread).customerId, ana);
    EXPECT_EQ(conversation(bobThread).originalCustomerId, bob);
    EXPECT_EQ(conversation(anaThread).customerId, ana);
    // Now one customer: a reply to Bob's message joins his conversation.
    commit(mail("<ana-2@x>", "ana@example.com", kT0 + 5 * kHour, "<bob-1@x>"));
    EXPECT_EQ(threadOf("mail", "<ana-2@x>"), bobThread);

    store->inTransaction([&](Sql& s) {
        EXPECT_TRUE(customer::unmergeCustomers(s, mergeId, kT0 + 6 * kHour).ok);
    });
    EXPECT_EQ(conversation(bobThread).customerId, bob);
    EXPECT_EQ(conversation(anaThread).customerId, ana);
}

TEST_P(Threading, MessagesResolvedAtOpenAreThreadedFromTheirStoredJson) {
    store.reset();
    {
        Store plain(storeConfig);  // no resolver: committed, not yet resolved
        MessageRecord m1 = mail("<m1@x>", "ana@example.com", kT0);
        m1.normalizedJson = R"({"sender":[{"type":"email","value":"ana@example.com","scope":""}]})";
        MessageRecord m2 = mail("<m2@x>", "ana@example.com", kT0 + 5 * kHour, "<m1@x>");
        m2.normalizedJson = R"({"sender":[{"type":"email","value":"ana@example.com","scope":""}],)"
                            R"("in_reply_to":"<m1@x>","references":["<m1@x>"]})";
        plain.commit({m1, m2}, std::nullopt, "mail");
    }
    open();
    EXPECT_THAT(threadOf("mail", "<m1@x>"), StartsWith("cnv_"));
    EXPECT_EQ(threadOf("mail", "<m2@x>"), threadOf("mail", "<m1@x>"));
    EXPECT_EQ(conversation(threadOf("mail", "<m1@x>")).lastAtMs, kT0 + 5 * kHour);
}

TEST_P(Threading, OutboundMessagesAreNotThreaded) {
    MessageRecord out = mail("<out@x>", "ana@example.com", kT0);
    out.direction = "outbound";
    commit(out);
    EXPECT_EQ(threadOf("mail", "<out@x>"), "");
    EXPECT_EQ(conversationCount(), 0);
}

TEST_P(Threading, ConversationIdsAreDistinct) {
    std::set<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        const std::string id = "<m" + std::to_string(i) + "@x>";
        commit(mail(id, "ana@example.com", kT0 + i * kHour));
        ids.insert(threadOf("mail", id));
    }
    EXPECT_EQ(ids.size(), 20u);
}

// threading: in switchboard.yaml.

std::string errorsOf(const config::LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.format() + "\n";
    return out;
}

TEST(ThreadingConfig, DefaultIsThirtyMinutes) {
    auto r = config::loadText("log:\n  level: info\n", "/etc/sb/switchboard.yaml");
    ASSERT_TRUE(r.config) << errorsOf(r);
    EXPECT_EQ(r.config->threading.continuationWindow, std::chrono::minutes(30));
}

TEST(ThreadingConfig, DurationsAndZeroAreAccepted) {
    const std::pair<const char*, std::chrono::milliseconds> cases[] = {
        {"30s", std::chrono::seconds(30)}, {"30m", std::chrono::minutes(30)}, {"2h", std::chrono::hours(2)},
        {"500ms", std::chrono::milliseconds(500)}, {"0", std::chrono::milliseconds(0)},
        {"0s", std::chrono::milliseconds(0)}};
    for (const auto& [text, expected] : cases) {
        const std::string yaml = std::string("threading:\n  continuation_window: ") + text + "\n";
        auto r = config::loadText(yaml, "sb.yaml");
        ASSERT_TRUE(r.config) << text << ": " << errorsOf(r);
        EXPECT_EQ(r.config->threading.continuationWindow, expected) << text;
    }
}

TEST(ThreadingConfig, BadDurationNamesFileLineAndPath) {
    auto r = config::loadText("log:\n  level: info\nthreading:\n  continuation_window: soon\n", "sb.yaml");
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1u) << errorsOf(r);
    EXPECT_EQ(r.errors[0].format(),
              "sb.yaml:4:24: threading.continuation_window: expects a duration: a whole number with a "
              "unit ms, s, m or h (e.g. 30s, 30m, 2h), got 'soon'");
}

TEST(ThreadingConfig, NumberWithoutUnitAndUnknownKeyAreReported) {
    auto r = config::loadText("threading:\n  continuation_window: 30\n  continuation_windw: 5m\n", "sb.yaml");
    EXPECT_FALSE(r.config);
    const std::string errors = errorsOf(r);
    EXPECT_THAT(errors, HasSubstr("sb.yaml:2:24: threading.continuation_window: expects a duration, and a "
                                  "plain number has no unit"));
    EXPECT_THAT(errors, HasSubstr("sb.yaml:3:3: threading.continuation_windw:"));
    EXPECT_THAT(errors, HasSubstr("continuation_window"));
}

}  // namespace

// A backfill arriving newest first: an old message does not continue a conversation that
// opened long after it happened.
class ThreadingBackfill : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Engines, ThreadingBackfill, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

TEST_P(ThreadingBackfill, AMessageFromBeforeTheConversationOpenedDoesNotJoinIt) {
    switchboard::test::TempDir dir;
    using namespace switchboard::host;
    Store store(switchboard::test::testStoreConfig(GetParam(), dir, "t.db"),
                std::make_shared<customer::IdentityResolver>(config::IdentityConfig{}),
                std::make_shared<customer::ConversationThreader>(std::chrono::minutes(30)));
    const int64_t day = 24LL * 3600 * 1000;
    store.commit({mail("new", "old@x.example", 10 * day)}, std::nullopt, "mail");
    store.commit({mail("old", "old@x.example", 2 * day)}, std::nullopt, "mail");
    std::vector<std::string> threads;
    store.withSession([&](Sql& s) {
        using namespace Poco::Data::Keywords;
        s << "SELECT thread_id FROM messages ORDER BY id", into(threads), now;
    });
    ASSERT_EQ(threads.size(), 2u);
    EXPECT_NE(threads[0], threads[1]);
}
