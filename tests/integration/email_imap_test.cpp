// The email connector as an IMAP source, against a real Dovecot: the built .so is driven
// through the C ABI with a fake host (email_fake_host.h) that commits batches with their
// checkpoint and drops duplicate source ids like the real host.
#include "email_imap_fixture.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using email_test::FakeHost;
using email_test::Instance;
using email_test::Options;
using email_test::simpleMail;
using switchboard::test::MailServers;

// These tests are about polling: IDLE (email_idle_test.cpp) would fetch between their polls.
Options imapOptions(const MailServers& servers, const Options& extra = {}) {
    Options o = extra;
    if (o.count("idle") == 0) o.emplace("idle", "false");
    return email_test::imapOptions(servers, o);
}

std::string testdata(const std::string& name) {
    std::ifstream in(std::string(SWITCHBOARD_SOURCE_DIR) + "/plugins/email/testdata/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class EmailImap : public ::testing::Test {
protected:
    MailServers servers{{{"alice", email_test::kPassword}}, /*withSmtp=*/false};
    FakeHost host;
};

TEST_F(EmailImap, FetchesNewMailIncrementallyAndCheckpointsTheLastUid) {
    for (int i = 1; i <= 3; ++i) servers.addToMaildir("alice", simpleMail("m" + std::to_string(i) + "@example.com", "S" + std::to_string(i)));
    {
        Instance inst(host, imapOptions(servers));
        ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
        auto o = inst.poll();
        ASSERT_EQ(o.status, SB_OK) << o.error;
        EXPECT_EQ(o.nextOrRetryMs, 60000u);
        ASSERT_EQ(host.count(), 3u);
        const auto* m = host.find("m1@example.com");
        ASSERT_NE(m, nullptr);
        EXPECT_EQ(m->channel, "email");
        EXPECT_EQ(m->subject, "S1");
        ASSERT_EQ(m->sender.size(), 1u);
        EXPECT_EQ(m->sender[0].type, "email");
        EXPECT_EQ(m->sender[0].value, "customer@example.com");
        EXPECT_EQ(m->senderName, "Customer");
        EXPECT_EQ(m->text, "hello\n") << "CRLF line ends become \\n in the text";
        EXPECT_EQ(m->rawContentType, "message/rfc822");
        EXPECT_NE(m->raw.find("Subject: S1"), std::string::npos);
        const std::string cp = host.checkpoints.at("imap:INBOX");
        EXPECT_EQ(cp.substr(cp.find(':')), ":3") << cp;

        // Two more arrive: only they are fetched.
        servers.addToMaildir("alice", simpleMail("m4@example.com", "S4"));
        servers.addToMaildir("alice", simpleMail("m5@example.com", "S5"));
        ASSERT_EQ(inst.poll().status, SB_OK);
        EXPECT_EQ(host.count(), 5u);
        EXPECT_EQ(host.duplicates, 0u);
    }
    // A restarted instance resumes from the committed checkpoint: nothing is fetched again.
    Instance again(host, imapOptions(servers));
    ASSERT_EQ(again.poll().status, SB_OK);
    EXPECT_EQ(host.count(), 5u);
    EXPECT_EQ(host.duplicates, 0u) << "a restart must not refetch stored mail";
}

TEST_F(EmailImap, ChangedUidValidityResyncsWithoutDuplicates) {
    servers.addToMaildir("alice", simpleMail("a@example.com", "A"));
    servers.addToMaildir("alice", simpleMail("b@example.com", "B"));
    Instance inst(host, imapOptions(servers));
    ASSERT_EQ(inst.poll().status, SB_OK);
    ASSERT_EQ(host.count(), 2u);
    const std::string before = host.checkpoints.at("imap:INBOX");

    servers.stopImap();
    servers.resetUids("alice");
    servers.addToMaildir("alice", simpleMail("c@example.com", "C"));
    servers.startImap();
    auto o = inst.poll();
    ASSERT_EQ(o.status, SB_OK) << o.error;
    EXPECT_EQ(host.count(), 3u) << "only the new message is stored";
    EXPECT_EQ(host.duplicates, 2u) << "the re-read ones are dropped by Message-ID";
    const std::string after = host.checkpoints.at("imap:INBOX");
    EXPECT_NE(before.substr(0, before.find(':')), after.substr(0, after.find(':'))) << before << " " << after;
    EXPECT_NE(host.allLogs().find("UIDVALIDITY changed"), std::string::npos) << host.allLogs();
}

TEST_F(EmailImap, ServerRestartMidRunLosesAndRepeatsNothing) {
    servers.addToMaildir("alice", simpleMail("r1@example.com", "R1"));
    Instance inst(host, imapOptions(servers));
    ASSERT_EQ(inst.poll().status, SB_OK);
    ASSERT_EQ(host.count(), 1u);

    servers.stopImap();
    servers.addToMaildir("alice", simpleMail("r2@example.com", "R2"));
    auto down = inst.poll();
    EXPECT_EQ(down.status, SB_RETRY);
    EXPECT_NE(down.error.find(servers.imapUrl()), std::string::npos) << down.error;
    EXPECT_EQ(down.nextOrRetryMs, 1000u) << "the first retry comes soon, not after the poll interval";
    auto stillDown = inst.poll();
    EXPECT_EQ(stillDown.status, SB_RETRY);
    EXPECT_EQ(stillDown.nextOrRetryMs, 2000u) << "and the delay grows";

    servers.startImap();
    auto back = inst.poll();
    ASSERT_EQ(back.status, SB_OK) << back.error;
    EXPECT_EQ(back.nextOrRetryMs, 60000u);
    EXPECT_EQ(host.count(), 2u);
    EXPECT_NE(host.find("r2@example.com"), nullptr);
    EXPECT_EQ(host.duplicates, 0u);
}

TEST_F(EmailImap, WrongPasswordIsFatalAndNamesServerAndUserButNotThePassword) {
    const std::string wrong = "Wrong-Secret-Value-7731";
    Instance inst(host, imapOptions(servers, {{"imap_password", wrong}}));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    auto o = inst.poll();
    EXPECT_EQ(o.status, SB_FAIL_FATAL);
    EXPECT_NE(o.error.find(servers.imapUrl()), std::string::npos) << o.error;
    EXPECT_NE(o.error.find("'alice'"), std::string::npos) << o.error;
    EXPECT_NE(o.error.find("refused"), std::string::npos) << o.error;
    EXPECT_EQ(o.error.find(wrong), std::string::npos);
    EXPECT_EQ(host.allLogs().find(wrong), std::string::npos);
}

TEST_F(EmailImap, MissingMailboxIsNamedNotMistakenForALoginFailure) {
    Options o = imapOptions(servers);
    o.emplace("mailboxes", "INBOX");
    o.emplace("mailboxes", "NoSuchFolder");
    Instance inst(host, o);
    auto r = inst.poll();
    EXPECT_EQ(r.status, SB_FAIL_FATAL);
    EXPECT_NE(r.error.find("'NoSuchFolder'"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("does it exist"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("login"), std::string::npos) << r.error;
}

TEST_F(EmailImap, ImplicitTlsAndStarttlsVerifyTheCertificate) {
    servers.addToMaildir("alice", simpleMail("tls@example.com", "TLS"));
    {
        Instance imaps(host, imapOptions(servers, {{"imap_url", servers.imapsUrl()}}));
        auto o = imaps.poll();
        ASSERT_EQ(o.status, SB_OK) << o.error;
        EXPECT_EQ(host.count(), 1u);
    }
    // Without the CA the self-signed certificate is refused, on both kinds of TLS.
    FakeHost other;
    Options noCa = imapOptions(servers, {{"imap_url", servers.imapsUrl()}});
    noCa.erase("ca_file");
    Instance untrusted(other, noCa);
    auto o = untrusted.poll();
    EXPECT_EQ(o.status, SB_FAIL_FATAL);
    EXPECT_NE(o.error.find("certificate"), std::string::npos) << o.error;
    Options noCaStarttls = imapOptions(servers);
    noCaStarttls.erase("ca_file");
    Instance untrustedStarttls(other, noCaStarttls);
    EXPECT_EQ(untrustedStarttls.poll().status, SB_FAIL_FATAL);
    EXPECT_EQ(other.count(), 0u);
}

TEST_F(EmailImap, AfterProcessingLeavesMarksOrMoves) {
    servers.addToMaildir("alice", simpleMail("leave@example.com", "L"));
    {
        Instance leave(host, imapOptions(servers, {{"after_processing", "leave"}}));
        ASSERT_EQ(leave.poll().status, SB_OK);
    }
    // Dovecot keeps flags in the maildir file name (":2,S" = seen).
    auto seenFiles = [&](const std::string& folder) {
        size_t n = 0;
        const std::string dir = servers.caFile().substr(0, servers.caFile().rfind('/')) + "/mail/alice" +
                                (folder.empty() ? "" : "/." + folder);
        for (const char* sub : {"new", "cur"})
            for (const auto& e : std::filesystem::directory_iterator(dir + "/" + sub)) {
                const std::string name = e.path().filename().string();
                const size_t info = name.find(":2,");
                if (info != std::string::npos && name.find('S', info) != std::string::npos) ++n;
            }
        return n;
    };
    EXPECT_EQ(seenFiles(""), 0u) << "leave keeps the message unread";

    servers.addToMaildir("alice", simpleMail("seen@example.com", "S"));
    {
        Instance seen(host, imapOptions(servers, {{"after_processing", "seen"}}));
        ASSERT_EQ(seen.poll().status, SB_OK);
    }
    EXPECT_EQ(seenFiles(""), 1u) << "seen marks only the newly fetched one";

    servers.createFolder("alice", "Processed");
    servers.addToMaildir("alice", simpleMail("move@example.com", "M"));
    {
        Instance move(host, imapOptions(servers, {{"after_processing", "move"}, {"move_to", "Processed"}}));
        auto o = move.poll();
        ASSERT_EQ(o.status, SB_OK) << o.error;
    }
    EXPECT_EQ(host.count(), 3u);
    EXPECT_EQ(servers.maildirCount("alice"), 2u);
    EXPECT_EQ(servers.maildirCount("alice", "Processed"), 1u);
}

TEST_F(EmailImap, SeveralMailboxesHaveTheirOwnCheckpoints) {
    servers.createFolder("alice", "Sales");
    servers.addToMaildir("alice", simpleMail("inbox-1@example.com", "I1"));
    servers.addToMaildir("alice", simpleMail("sales-1@example.com", "S1"), "Sales");
    servers.addToMaildir("alice", simpleMail("sales-2@example.com", "S2"), "Sales");
    Options o = imapOptions(servers);
    o.emplace("mailboxes", "INBOX");
    o.emplace("mailboxes", "Sales");
    Instance inst(host, o);
    ASSERT_EQ(inst.poll().status, SB_OK);
    EXPECT_EQ(host.count(), 3u);
    EXPECT_EQ(host.checkpoints.at("imap:INBOX").substr(host.checkpoints.at("imap:INBOX").find(':')), ":1");
    EXPECT_EQ(host.checkpoints.at("imap:Sales").substr(host.checkpoints.at("imap:Sales").find(':')), ":2");
    for (const auto& m : host.stored) {
        const bool sales = m.sourceId.rfind("sales", 0) == 0;
        bool tagged = false;
        for (const auto& [k, v] : m.attributes) tagged |= k == "email.mailbox" && v == (sales ? "Sales" : "INBOX");
        EXPECT_TRUE(tagged) << m.sourceId;
    }
}

TEST_F(EmailImap, InternationalMailboxNamesAreSentInModifiedUtf7) {
    // Dovecot keeps Maildir++ folders under their modified UTF-7 names (RFC 3501 5.1.3),
    // written out here by hand: "&" escaped, a "+" and "," inside base64, a surrogate pair.
    const std::string inbox = "Über Входящие & Co", inboxOnDisk = "&ANw-ber &BBIERQQ+BDQETwRJBDgENQ- &- Co";
    const std::string done = "Готово 📦", doneOnDisk = "&BBMEPgRCBD4EMgQ+- &2D3c5g-";
    servers.createFolder("alice", doneOnDisk);
    servers.addToMaildir("alice", simpleMail("intl-1@example.com", "Intl 1"), inboxOnDisk);
    Options o = imapOptions(servers, {{"after_processing", "move"}, {"move_to", done}, {"idle", "true"}});
    o.emplace("mailboxes", inbox);
    Instance inst(host, o);
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    auto first = inst.poll();
    ASSERT_EQ(first.status, SB_OK) << first.error;
    ASSERT_NE(host.find("intl-1@example.com"), nullptr);
    EXPECT_EQ(host.checkpoints.count("imap:" + inbox), 1u) << "checkpoints keep the name as configured";
    bool tagged = false;
    for (const auto& [k, v] : host.find("intl-1@example.com")->attributes) tagged |= k == "email.mailbox" && v == inbox;
    EXPECT_TRUE(tagged);
    EXPECT_TRUE(switchboard::test::waitFor([&] { return servers.maildirCount("alice", doneOnDisk) == 1; }))
        << "moved into the folder with the international name";
    EXPECT_EQ(servers.maildirCount("alice", inboxOnDisk), 0u);

    // IDLE watches the same mailbox under its encoded name.
    servers.addToMaildir("alice", simpleMail("intl-2@example.com", "Intl 2"), inboxOnDisk);
    EXPECT_TRUE(switchboard::test::waitFor([&] { return host.count() == 2; }, std::chrono::seconds(60)))
        << host.allLogs();
    EXPECT_EQ(host.allLogs().find("reconnecting"), std::string::npos) << host.allLogs();

    Options broken = imapOptions(servers);
    broken.emplace("mailboxes", "Caf\xe9");  // Latin-1, not UTF-8
    Instance refused(host, broken);
    EXPECT_EQ(refused.createStatus(), SB_FAIL_CONFIG);
    EXPECT_NE(refused.createError().find("'mailboxes'"), std::string::npos) << refused.createError();
}

TEST_F(EmailImap, OversizedMessageIsKeptWithItsHeaderOnly) {
    servers.addToMaildir("alice", simpleMail("big@example.com", "Big one", std::string(4000, 'x')));
    Instance inst(host, imapOptions(servers, {{"max_message_size", "1024"}}));
    ASSERT_EQ(inst.poll().status, SB_OK);
    const auto* m = host.find("big@example.com");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->subject, "Big one");
    EXPECT_NE(m->text.find("max_message_size"), std::string::npos) << m->text;
    EXPECT_EQ(m->raw.find("xxxx"), std::string::npos);
}

// The corpus: exotic and malformed messages are all stored, decoded right, never dropped.
TEST_F(EmailImap, CorpusOfExoticAndMalformedMessagesIsParsed) {
    struct Expect {
        const char* file;
        const char* sourceId;  // "" = hashed (no usable Message-ID)
        const char* subject;
        const char* fromName;
        const char* fromAddress;
        const char* textContains;
        bool warned;
    };
    const Expect corpus[] = {
        {"utf8_subject_b.eml", "utf8-b@example.com", "Olá, pedido nº 42 ✓", "José Müller", "jose@example.com",
         "Obrigado pela ajuda — até já.", false},
        {"latin1_q.eml", "latin1-q@example.fr", "Réponse à votre question", "François Pérez", "francois@example.fr",
         "Ça marche très bien, merci beaucoup pour la réponse rapide à ma question de hier.", false},
        {"gb2312_subject.eml", "gb2312@example.cn", "订单问题", "张伟", "zhangwei@example.cn", "我的订单还没有到。", false},
        {"koi8r_subject.eml", "koi8r@example.ru", "Вопрос о доставке", "Иван Петров", "ivan@example.ru",
         "Где мой заказ?", false},
        {"alternative.eml", "alt@example.com", "Alternative parts", "Ann Lee", "ann@example.com",
         "Plain version wins.", false},
        {"html_only.eml", "html-only@example.com", "HTML only", "", "ann@example.com", "Hello & welcome,\n\nCafé <3 €5",
         false},
        {"nested_attachments.eml", "nested@example.com", "Nested with attachments", "Lee, Ann", "ann@example.com",
         "See the invoice attached.", false},
        {"no_message_id.eml", "", "No Message-ID here", "", "nomsgid@example.com", "Body without an id.", false},
        {"truncated_multipart.eml", "truncated@example.com", "Truncated", "", "trunc@example.com",
         "The message ends before the closing boundary", true},
        {"missing_boundary.eml", "missing-boundary@example.com", "Missing boundary", "", "nb@example.com",
         "Text in a multipart without a boundary parameter.", true},
        {"bad_base64.eml", "bad-b64@example.com", "Bad base64", "", "b64@example.com", "Hello", false},
        {"raw_8bit_header.eml", "raw8bit@example.com", "Café crème", "José", "jose8@example.com", "Café", true},
        {"headers_only.eml", "headers-only@example.com", "Only headers", "", "ho@example.com", "", true},
        {"deep_nesting.eml", "deep@example.com", "Deep", "", "deep@example.com", "", true},
        {"binary_garbage.eml", "", "", "", "", "", true},
    };
    for (const auto& c : corpus) servers.addToMaildir("alice", testdata(c.file));
    Instance inst(host, imapOptions(servers));
    auto o = inst.poll();
    ASSERT_EQ(o.status, SB_OK) << o.error;
    ASSERT_EQ(host.count(), std::size(corpus)) << "every message is kept";

    for (const auto& c : corpus) {
        SCOPED_TRACE(c.file);
        // Found by id, or by subject for the ones without a usable Message-ID (the server
        // may normalize line ends of the raw bytes, so those are not compared).
        const switchboard::Message* m = nullptr;
        for (const auto& s : host.stored)
            if (*c.sourceId ? s.sourceId == c.sourceId : (s.subject == c.subject && s.sourceId.rfind("sha256:", 0) == 0))
                m = &s;
        ASSERT_NE(m, nullptr);
        if (*c.sourceId) EXPECT_EQ(m->sourceId, c.sourceId);
        else EXPECT_EQ(m->sourceId.rfind("sha256:", 0), 0u) << m->sourceId;
        EXPECT_EQ(m->subject, c.subject);
        EXPECT_EQ(m->senderName, c.fromName);
        if (*c.fromAddress) {
            ASSERT_FALSE(m->sender.empty());
            EXPECT_EQ(m->sender[0].value, c.fromAddress);
        }
        EXPECT_NE(m->text.find(c.textContains), std::string::npos) << m->text;
        bool warned = false;
        for (const auto& [k, v] : m->attributes) warned |= k == "email.parse_warnings";
        EXPECT_EQ(warned, c.warned);
    }

    const auto* nested = host.find("nested@example.com");
    ASSERT_NE(nested, nullptr);
    EXPECT_EQ(nested->inReplyTo, "parent@example.test");
    EXPECT_EQ(nested->references, (std::vector<std::string>{"root@example.test", "parent@example.test"}));
    EXPECT_EQ(nested->recipients.size(), 3u);
    EXPECT_NE(nested->html.find("<img src=\"cid:logo@x\">"), std::string::npos);
    ASSERT_EQ(nested->attachments.size(), 3u);
    EXPECT_EQ(nested->attachments[0].name, "logo.png");
    EXPECT_EQ(nested->attachments[0].contentType, "image/png");
    EXPECT_EQ(nested->attachments[0].contentId, "logo@x");
    EXPECT_EQ(nested->attachments[0].sizeBytes, 108u);
    EXPECT_EQ(nested->attachments[1].name, "fatura nº 1.pdf") << "RFC 2231 file name";
    EXPECT_EQ(nested->attachments[1].contentType, "application/pdf");
    EXPECT_EQ(nested->attachments[1].sizeBytes, 360u);
    EXPECT_EQ(nested->attachments[2].contentType, "message/rfc822");
    EXPECT_EQ(nested->attachments[2].name, "Forwarded one.eml");
    // Each attachment points at its part on the server (RFC 5092 URL with the IMAP section).
    EXPECT_NE(nested->attachments[1].reference.find(servers.imapUrl() + "/INBOX;UIDVALIDITY="), std::string::npos);
    EXPECT_NE(nested->attachments[1].reference.find(";SECTION=2"), std::string::npos)
        << nested->attachments[1].reference;
}

// A big mailbox: the first sync takes several polls (each commits bounded batches), and the
// incremental one after it fetches only what is new. Files are written straight into the
// maildir, which is how a migrated mailbox looks too.
TEST_F(EmailImap, BigMailboxFirstSyncAndIncremental) {
    constexpr int kMessages = 5000;
    for (int i = 0; i < kMessages; ++i)
        servers.addToMaildir("alice", simpleMail("bulk-" + std::to_string(i) + "@example.com", "Bulk " + std::to_string(i)));
    Instance inst(host, imapOptions(servers, {{"after_processing", "leave"}, {"batch_size", "250"}}));
    auto first = inst.poll();
    ASSERT_EQ(first.status, SB_OK) << first.error;
    EXPECT_EQ(first.nextOrRetryMs, 1u) << "more to fetch: poll again at once";
    EXPECT_EQ(host.count(), 2500u) << "one poll takes at most 10 batches";
    auto o = inst.pollUntilIdle();
    ASSERT_EQ(o.status, SB_OK) << o.error;
    EXPECT_EQ(host.count(), static_cast<size_t>(kMessages));
    EXPECT_EQ(host.duplicates, 0u);
    const std::string cp = host.checkpoints.at("imap:INBOX");
    EXPECT_EQ(cp.substr(cp.find(':') + 1), std::to_string(kMessages));

    for (int i = 0; i < 7; ++i) servers.addToMaildir("alice", simpleMail("late-" + std::to_string(i) + "@example.com", "Late"));
    ASSERT_EQ(inst.poll().status, SB_OK);
    EXPECT_EQ(host.count(), static_cast<size_t>(kMessages + 7));
    EXPECT_EQ(host.duplicates, 0u);
}

}  // namespace
