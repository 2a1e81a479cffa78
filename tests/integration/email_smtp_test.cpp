// The email connector as an SMTP sink, against a real Exim that delivers into a real
// Dovecot over LMTP; the round trip comes back through the connector's own IMAP source.
#include "email_fake_host.h"
#include "mail_servers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

using email_test::FakeHost;
using email_test::Instance;
using email_test::Options;
using switchboard::test::MailServers;

const std::string kAlicePassword = "alice-Pass-1937";

Options mailOptions(const MailServers& servers, const Options& extra = {}) {
    Options o{{"imap_url", servers.imapUrl()},
              {"imap_username", "alice"},
              {"imap_password", kAlicePassword},
              {"smtp_url", servers.smtpUrl()},
              {"smtp_username", MailServers::kSmtpUser},
              {"smtp_password", MailServers::kSmtpPassword},
              {"from_address", "support@example.test"},
              {"from_name", "Suporte Exemplo"},
              {"ca_file", servers.caFile()}};
    for (const auto& [k, v] : extra) o.erase(k);
    for (const auto& [k, v] : extra) o.emplace(k, v);
    return o;
}

switchboard::Message reply(const std::string& to, const std::string& key = "outbox-1") {
    switchboard::Message m;
    m.channel = "email";
    m.direction = SB_DIRECTION_OUTBOUND;
    m.recipients.push_back({"email", to, ""});
    m.subject = "Re: Olá — pedido nº 42 ✓";
    m.text = "Obrigado pelo contacto!\nA sua encomenda já saiu do armazém e chega amanhã, até às 18h00. Qualquer dúvida, é só responder.";
    m.html = "<p>Obrigado pelo contacto!</p><p>A sua encomenda <b>já saiu</b>.</p>";
    m.inReplyTo = "orig-123@example.com";
    m.references = {"root-1@example.com", "orig-123@example.com"};
    m.attributes.emplace_back("outbox.idempotency_key", key);
    return m;
}

// Delivery through Exim and LMTP takes a moment: poll until the message is there.
const switchboard::Message* waitFor(Instance& inst, FakeHost& host, const std::string& sourceId) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        auto o = inst.poll();
        EXPECT_EQ(o.status, SB_OK) << o.error;
        if (const auto* m = host.find(sourceId)) return m;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
}

class EmailSmtp : public ::testing::Test {
protected:
    MailServers servers{{{"alice", kAlicePassword}}};
    FakeHost host;
};

TEST_F(EmailSmtp, RoundTripThroughEximAndDovecotKeepsTextAndThreading) {
    Instance inst(host, mailOptions(servers));
    ASSERT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    auto sent = inst.send(reply(MailServers::address("alice")));
    ASSERT_EQ(sent.status, SB_OK) << sent.error << "\n" << servers.eximLog();
    ASSERT_NE(sent.providerId.find("@example.test"), std::string::npos) << sent.providerId;

    const auto* m = waitFor(inst, host, sent.providerId);
    ASSERT_NE(m, nullptr) << "not delivered; exim log:\n" << servers.eximLog();
    const auto expected = reply("x");
    EXPECT_EQ(m->subject, expected.subject);
    EXPECT_EQ(m->text, expected.text);
    EXPECT_NE(m->html.find("<b>já saiu</b>"), std::string::npos) << m->html;
    ASSERT_EQ(m->sender.size(), 1u);
    EXPECT_EQ(m->sender[0].value, "support@example.test");
    EXPECT_EQ(m->senderName, "Suporte Exemplo");
    EXPECT_EQ(m->inReplyTo, "orig-123@example.com");
    EXPECT_EQ(m->references, expected.references);
    EXPECT_GT(m->occurredAtMs, 0) << "a Date header";
    // On the wire: RFC 2047 subject, MIME-Version, multipart/alternative, CRLF only.
    const size_t subject = m->raw.find("\r\nSubject: ");
    ASSERT_NE(subject, std::string::npos) << m->raw;
    const std::string subjectLine = m->raw.substr(subject + 2, m->raw.find("\r\n", subject + 2) - subject - 2);
    EXPECT_NE(subjectLine.find("=?UTF-8?B?"), std::string::npos) << subjectLine;
    EXPECT_NE(m->raw.find("\r\nDate: "), std::string::npos);
    EXPECT_NE(m->raw.find("MIME-Version: 1.0"), std::string::npos);
    EXPECT_NE(m->raw.find("multipart/alternative"), std::string::npos);
    EXPECT_NE(m->raw.find("Message-Id: <" + sent.providerId + ">"), std::string::npos) << m->raw;
    for (size_t i = m->raw.find('\n'); i != std::string::npos; i = m->raw.find('\n', i + 1))
        ASSERT_EQ(m->raw[i - 1], '\r') << "bare LF at byte " << i;
}

TEST_F(EmailSmtp, HtmlOnlyReplyGetsAPlainTextAlternative) {
    Instance inst(host, mailOptions(servers));
    switchboard::Message m = reply(MailServers::address("alice"), "html-only");
    m.text.clear();
    m.html = "<p>Ol&aacute;? <b>Encomenda</b> enviada.</p><p>Obrigado &amp; até breve</p>";
    auto sent = inst.send(m);
    ASSERT_EQ(sent.status, SB_OK) << sent.error;
    const auto* got = waitFor(inst, host, sent.providerId);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->text, "Olá? Encomenda enviada.\n\nObrigado & até breve");
    EXPECT_EQ(got->html, m.html);
}

TEST_F(EmailSmtp, ResendingTheSameOutboxEntryReusesItsMessageId) {
    Instance inst(host, mailOptions(servers));
    auto first = inst.send(reply(MailServers::address("alice"), "same-key"));
    auto second = inst.send(reply(MailServers::address("alice"), "same-key"));
    ASSERT_EQ(first.status, SB_OK) << first.error;
    ASSERT_EQ(second.status, SB_OK) << second.error;
    EXPECT_EQ(first.providerId, second.providerId);
    auto other = inst.send(reply(MailServers::address("alice"), "other-key"));
    EXPECT_NE(other.providerId, first.providerId);
    // Both copies reach the mailbox; the source keeps one (same Message-ID).
    ASSERT_NE(waitFor(inst, host, other.providerId), nullptr);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (host.duplicates == 0 && std::chrono::steady_clock::now() < deadline) {
        inst.poll();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(host.count(), 2u);
    EXPECT_EQ(host.duplicates, 1u);
}

TEST_F(EmailSmtp, PermanentRefusalIsFailDataWithTheServersReply) {
    Instance inst(host, mailOptions(servers));
    auto o = inst.send(reply("someone@rejected.test"));
    EXPECT_EQ(o.status, SB_FAIL_DATA);
    EXPECT_NE(o.error.find("550"), std::string::npos) << o.error;
    EXPECT_NE(o.error.find("no such domain here"), std::string::npos) << o.error;
}

TEST_F(EmailSmtp, TemporaryRefusalIsRetried) {
    Instance inst(host, mailOptions(servers));
    auto o = inst.send(reply("someone@later.test"));
    EXPECT_EQ(o.status, SB_RETRY);
    EXPECT_NE(o.error.find("try again later"), std::string::npos) << o.error;
}

TEST_F(EmailSmtp, UnreachableServerIsRetried) {
    Instance inst(host, mailOptions(servers, {{"smtp_url", "smtp://127.0.0.1:" + std::to_string(switchboard::test::freePort())}}));
    auto o = inst.send(reply(MailServers::address("alice")));
    EXPECT_EQ(o.status, SB_RETRY);
    EXPECT_NE(o.error.find("127.0.0.1"), std::string::npos) << o.error;
}

TEST_F(EmailSmtp, WrongSmtpPasswordIsFatalWithoutThePassword) {
    const std::string wrong = "Not-The-Relay-Password-55";
    Instance inst(host, mailOptions(servers, {{"smtp_password", wrong}}));
    auto o = inst.send(reply(MailServers::address("alice")));
    EXPECT_EQ(o.status, SB_FAIL_FATAL);
    EXPECT_NE(o.error.find(servers.smtpUrl()), std::string::npos) << o.error;
    EXPECT_NE(o.error.find(MailServers::kSmtpUser), std::string::npos) << o.error;
    EXPECT_EQ(o.error.find(wrong), std::string::npos);
    EXPECT_EQ(host.allLogs().find(wrong), std::string::npos);
}

TEST_F(EmailSmtp, MessageWithoutEmailRecipientIsFailData) {
    Instance inst(host, mailOptions(servers));
    switchboard::Message m = reply("x@example.test");
    m.recipients = {{"phone", "+351912345678", ""}};
    auto o = inst.send(m);
    EXPECT_EQ(o.status, SB_FAIL_DATA);
    EXPECT_NE(o.error.find("recipient"), std::string::npos) << o.error;
}

TEST_F(EmailSmtp, ImplicitTlsSendsWithTheTrustedCa) {
    Instance inst(host, mailOptions(servers, {{"smtp_url", servers.smtpsUrl()}}));
    auto sent = inst.send(reply(MailServers::address("alice")));
    ASSERT_EQ(sent.status, SB_OK) << sent.error;
    ASSERT_NE(waitFor(inst, host, sent.providerId), nullptr);
}

TEST_F(EmailSmtp, StarttlsCertificateIsVerified) {
    // Without the CA the self-signed certificate offered after STARTTLS is refused.
    Options o = mailOptions(servers);
    o.erase("ca_file");
    Instance inst(host, o);
    auto r = inst.send(reply(MailServers::address("alice")));
    EXPECT_EQ(r.status, SB_FAIL_FATAL);
    EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
}

}  // namespace
