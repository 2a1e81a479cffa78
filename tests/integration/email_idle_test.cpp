// IMAP IDLE in the email connector, against a real Dovecot (and Exim): with a poll interval
// of ten minutes, mail must still arrive as soon as it is delivered, over TLS and STARTTLS,
// across a server restart, and a stop must not hang on the idling connection. The watchers
// ask the host for a poll (request_poll); the fake host polls when asked, as the host does.
#include "email_imap_fixture.h"

#include <gtest/gtest.h>

#include <future>

namespace {

using email_test::FakeHost;
using email_test::imapOptions;
using email_test::Instance;
using email_test::Options;
using email_test::simpleMail;
using email_test::with;
using switchboard::test::MailServers;
using switchboard::test::waitFor;

// Far longer than any wait below: whatever arrives did so through IDLE, not a poll.
const Options kLongPoll{{"poll_interval", "600000"}};

size_t occurrences(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The watcher logs (at debug) when IDLE is in place on a connection.
bool idling(FakeHost& host, size_t connections = 1) {
    return waitFor([&] { return occurrences(host.allLogs(), "IMAP IDLE on 'INBOX' at") >= connections; },
                   std::chrono::seconds(30));
}

class EmailIdle : public ::testing::Test {
protected:
    MailServers servers{{{"alice", email_test::kPassword}}, /*withSmtp=*/false};
    FakeHost host;
};

TEST_F(EmailIdle, NewMailArrivesWithoutWaitingForThePoll) {
    servers.addToMaildir("alice", simpleMail("before@example.com", "Before"));
    Instance inst(host, imapOptions(servers, kLongPoll));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    ASSERT_EQ(inst.poll().status, SB_OK);
    ASSERT_TRUE(idling(host)) << host.allLogs();

    servers.addToMaildir("alice", simpleMail("idle1@example.com", "Idle 1"));
    ASSERT_TRUE(waitFor([&] { return host.find("idle1@example.com") != nullptr; }, std::chrono::seconds(60)))
        << host.allLogs();
    servers.addToMaildir("alice", simpleMail("idle2@example.com", "Idle 2"));
    servers.addToMaildir("alice", simpleMail("idle3@example.com", "Idle 3"));
    ASSERT_TRUE(waitFor([&] { return host.count() == 4; }, std::chrono::seconds(60))) << host.allLogs();
    EXPECT_EQ(host.duplicates, 0u);
    const std::string cp = host.checkpoints.at("imap:INBOX");
    EXPECT_EQ(cp.substr(cp.find(':')), ":4") << "the sync's checkpoint moves as with polling: " << cp;
}

TEST_F(EmailIdle, WithIdleOffMailWaitsForThePoll) {
    Instance polled(host, imapOptions(servers, with(kLongPoll, {{"idle", "false"}})));
    ASSERT_EQ(polled.poll().status, SB_OK);
    // A second instance with IDLE on sees the same mailbox: once it has the message, the
    // polled one has had every chance to get it early, and must not have.
    FakeHost idleHost;
    Instance watching(idleHost, imapOptions(servers, with(kLongPoll, {{"after_processing", "leave"}})));
    ASSERT_TRUE(idling(idleHost)) << idleHost.allLogs();
    servers.addToMaildir("alice", simpleMail("late@example.com", "Late"));
    ASSERT_TRUE(waitFor([&] { return idleHost.count() == 1; }, std::chrono::seconds(60))) << idleHost.allLogs();
    EXPECT_EQ(host.count(), 0u) << "idle: false fetches only when polled";
    ASSERT_EQ(polled.poll().status, SB_OK);
    EXPECT_NE(host.find("late@example.com"), nullptr);
}

TEST_F(EmailIdle, IdlesOverImplicitTlsAndStarttls) {
    for (const std::string& url : {servers.imapsUrl(), servers.imapUrl()}) {
        SCOPED_TRACE(url);
        FakeHost h;
        Instance inst(h, imapOptions(servers, with(kLongPoll, {{"imap_url", url}, {"after_processing", "leave"}})));
        ASSERT_EQ(inst.poll().status, SB_OK);
        ASSERT_TRUE(idling(h)) << h.allLogs();
        const std::string id = "tls-" + std::to_string(url.size()) + "@example.com";
        servers.addToMaildir("alice", simpleMail(id, "TLS"));
        EXPECT_TRUE(waitFor([&] { return h.find(id) != nullptr; }, std::chrono::seconds(60))) << h.allLogs();
    }
}

TEST_F(EmailIdle, ReissuesIdleBeforeTheServerGivesUp) {
    Instance inst(host, imapOptions(servers, with(kLongPoll, {{"idle_renew", "1000"}})));
    ASSERT_TRUE(idling(host)) << host.allLogs();
    ASSERT_TRUE(waitFor([&] { return occurrences(host.allLogs(), "renewed") >= 2; }, std::chrono::seconds(30)))
        << host.allLogs();
    servers.addToMaildir("alice", simpleMail("renewed@example.com", "After renewals"));
    EXPECT_TRUE(waitFor([&] { return host.count() == 1; }, std::chrono::seconds(60))) << host.allLogs();
    EXPECT_EQ(occurrences(host.allLogs(), "IMAP IDLE on 'INBOX' at"), 1u)
        << "renewing stays on the same connection: " << host.allLogs();
}

TEST_F(EmailIdle, ServerRestartWhileIdlingReconnectsAndLosesNothing) {
    servers.addToMaildir("alice", simpleMail("r1@example.com", "R1"));
    Instance inst(host, imapOptions(servers, kLongPoll));
    ASSERT_EQ(inst.poll().status, SB_OK);
    ASSERT_TRUE(idling(host)) << host.allLogs();

    servers.stopImap();
    servers.addToMaildir("alice", simpleMail("r2@example.com", "Delivered during the outage"));
    servers.startImap();
    ASSERT_TRUE(waitFor([&] { return host.find("r2@example.com") != nullptr; }, std::chrono::seconds(60)))
        << host.allLogs();
    EXPECT_NE(host.allLogs().find("reconnecting"), std::string::npos) << host.allLogs();

    // IDLE is back in place: the next message comes without a poll too, and nothing twice.
    ASSERT_TRUE(idling(host, 2)) << host.allLogs();
    servers.addToMaildir("alice", simpleMail("r3@example.com", "R3"));
    ASSERT_TRUE(waitFor([&] { return host.count() == 3; }, std::chrono::seconds(60))) << host.allLogs();
    EXPECT_EQ(host.duplicates, 0u);
}

TEST_F(EmailIdle, StopWhileIdlingReturns) {
    auto inst = std::make_unique<Instance>(host, imapOptions(servers, kLongPoll));
    ASSERT_TRUE(idling(host)) << host.allLogs();
    // Destroying the instance stops it. The bound only keeps a hang from blocking the suite.
    auto stopped = std::async(std::launch::async, [&] { inst.reset(); });
    ASSERT_EQ(stopped.wait_for(std::chrono::seconds(20)), std::future_status::ready)
        << "stop hangs on the idling connection";
}

TEST_F(EmailIdle, ServerWithoutIdleIsPolled) {
    servers.withoutIdle();
    Instance inst(host, imapOptions(servers, kLongPoll));
    ASSERT_TRUE(waitFor([&] { return host.allLogs().find("does not offer IMAP IDLE") != std::string::npos; }))
        << host.allLogs();
    servers.addToMaildir("alice", simpleMail("polled@example.com", "Polled"));
    auto o = inst.poll();
    ASSERT_EQ(o.status, SB_OK) << o.error;
    EXPECT_EQ(o.nextOrRetryMs, 600000u);
    EXPECT_NE(host.find("polled@example.com"), nullptr);
    EXPECT_EQ(host.allLogs().find("reconnecting"), std::string::npos) << "no IDLE is not an error: " << host.allLogs();
}

TEST_F(EmailIdle, OnAHostOlderThanSdk13MailboxesAreOnlyPolled) {
    host.olderHost = true;  // no request_poll: IDLE could not bring mail in early
    Instance inst(host, imapOptions(servers, kLongPoll));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    EXPECT_EQ(occurrences(host.allLogs(), "IMAP IDLE needs a host with plugin SDK 1.3"), 1u) << host.allLogs();
    servers.addToMaildir("alice", simpleMail("old-host@example.com", "Old host"));
    auto o = inst.poll();
    ASSERT_EQ(o.status, SB_OK) << o.error;
    EXPECT_NE(host.find("old-host@example.com"), nullptr);
    EXPECT_EQ(host.allLogs().find("IMAP IDLE on 'INBOX' at"), std::string::npos)
        << "no IDLE connection is opened: " << host.allLogs();
}

TEST_F(EmailIdle, RenewIntervalOutsideTheServersLimitIsAConfigError) {
    for (const char* renew : {"0", "1800000"}) {
        Instance inst(host, imapOptions(servers, {{"idle_renew", renew}}));
        EXPECT_EQ(inst.createStatus(), SB_FAIL_CONFIG) << renew;
        EXPECT_NE(inst.createError().find("'idle_renew'"), std::string::npos) << inst.createError();
    }
}

TEST(EmailIdleExim, MailSentThroughEximArrivesThroughIdle) {
    MailServers servers{{{"alice", email_test::kPassword}}, /*withSmtp=*/true};
    FakeHost host;
    Options o = imapOptions(servers, with(kLongPoll, {{"smtp_url", servers.smtpUrl()},
                                                      {"smtp_username", MailServers::kSmtpUser},
                                                      {"smtp_password", MailServers::kSmtpPassword},
                                                      {"from_address", "support@example.test"}}));
    Instance inst(host, o);
    ASSERT_EQ(inst.poll().status, SB_OK);
    ASSERT_TRUE(idling(host)) << host.allLogs();

    switchboard::Message m;
    m.channel = "email";
    m.direction = SB_DIRECTION_OUTBOUND;
    m.recipients.push_back({"email", MailServers::address("alice"), ""});
    m.subject = "Through Exim";
    m.text = "Delivered over SMTP and LMTP, found through IDLE.";
    m.attributes.emplace_back("outbox.idempotency_key", "idle-exim-1");
    auto sent = inst.send(m);
    ASSERT_EQ(sent.status, SB_OK) << sent.error;
    ASSERT_FALSE(sent.providerId.empty());
    std::string id = sent.providerId;
    if (id.front() == '<') id = id.substr(1, id.size() - 2);
    ASSERT_TRUE(waitFor([&] { return host.find(id) != nullptr; }, std::chrono::seconds(60)))
        << host.allLogs() << servers.eximLog();
    EXPECT_EQ(host.find(id)->subject, "Through Exim");
}

}  // namespace
