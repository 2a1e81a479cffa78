// The email connector in the real host: mail dropped into a Dovecot mailbox shows up in the
// customer's timeline; a reply through POST /api/v1/messages leaves through Exim, threaded;
// the customer's answer to it joins the same conversation. And a wrong password fails the
// instance, not the host.
#include "mail_servers.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <thread>

using namespace switchboard::test;
using nlohmann::json;

namespace {

const std::string kAlicePassword = "alice-Pass-1937";

std::string connectorYaml(const MailServers& servers, const std::string& pollInterval = "200ms") {
    return "  - name: support-mail\n    plugin: email\n    options:\n"
           "      imap_url: " + servers.imapUrl() + "\n"
           "      imap_username: alice\n"
           "      imap_password: ${env:TEST_IMAP_PASSWORD}\n"
           "      smtp_url: " + servers.smtpUrl() + "\n"
           "      smtp_username: " + MailServers::kSmtpUser + "\n"
           "      smtp_password: ${env:TEST_SMTP_PASSWORD}\n"
           "      from_address: alice@example.test\n"
           "      from_name: Example Support\n"
           "      ca_file: " + servers.caFile() + "\n"
           "      poll_interval: " + pollInterval + "\n";
}

json api(const HostProcess& host, const std::string& uri) {
    auto r = host.get(uri, host.auth());
    EXPECT_EQ(r.status, 200) << uri << " -> " << r.body;
    return json::parse(r.body, nullptr, false);
}


json timeline(const HostProcess& host, const std::string& customer) {
    return api(host, "/api/v1/customers/" + customer + "/timeline?limit=50")["interactions"];
}

}  // namespace

TEST(EmailHost, InboundMailReplyAndAnswerShareOneConversation) {
    MailServers servers({{"alice", kAlicePassword}});
    HostProcess host(connectorYaml(servers), {},
                     {{"TEST_IMAP_PASSWORD", kAlicePassword}, {"TEST_SMTP_PASSWORD", MailServers::kSmtpPassword}});

    servers.addToMaildir("alice",
                         "From: =?UTF-8?Q?Jo=C3=A3o_Silva?= <joao@customer.test>\r\nTo: alice@example.test\r\n"
                         "Subject: =?UTF-8?Q?Encomenda_n=C2=BA_42?=\r\nMessage-ID: <first-42@customer.test>\r\n"
                         "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nOnde está a minha encomenda?\r\n");
    std::string customer;
    ASSERT_TRUE(waitFor([&] {
        json found = api(host, "/api/v1/customers?identity=email:joao@customer.test");
        if (found["customers"].empty()) return false;
        customer = found["customers"][0]["id"];
        return true;
    })) << host.output();
    json first = timeline(host, customer);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0]["channel"], "email");
    EXPECT_EQ(first[0]["connector"], "support-mail");
    EXPECT_EQ(first[0]["source_message_id"], "first-42@customer.test");
    EXPECT_EQ(first[0]["subject"], "Encomenda nº 42");
    EXPECT_EQ(first[0]["text"], "Onde está a minha encomenda?\n");
    EXPECT_EQ(api(host, "/api/v1/customers/" + customer)["display_name"], "João Silva");

    // The agent's reply goes out through the same instance, as a reply to the first mail.
    json body{{"customer_id", customer}, {"subject", "Re: Encomenda nº 42"}, {"text", "Saiu hoje, chega amanhã."},
              {"reply_to_message_id", first[0]["id"]}};
    auto posted = host.post("/api/v1/messages", body.dump(), host.auth());
    ASSERT_EQ(posted.status, 202) << posted.body;
    std::string providerId;
    ASSERT_TRUE(waitFor([&] {
        for (const auto& i : timeline(host, customer))
            if (i["direction"] == "outbound" && i["delivery_status"] == "sent") {
                providerId = i["provider_message_id"];
                return true;
            }
        return false;
    })) << host.output() << servers.eximLog();
    // Exim delivered it to the customer's mailbox (this test's Dovecot accepts any user).
    std::string delivered;
    ASSERT_TRUE(waitFor([&] {
        auto all = servers.maildirMessages("joao");
        if (all.empty()) return false;
        delivered = all[0];
        return true;
    })) << servers.eximLog();
    EXPECT_NE(delivered.find("In-Reply-To: <first-42@customer.test>"), std::string::npos) << delivered;
    EXPECT_NE(delivered.find("Message-Id: <" + providerId + ">"), std::string::npos) << delivered;
    EXPECT_NE(delivered.find("From: Example Support <alice@example.test>"), std::string::npos) << delivered;

    // The customer answers the reply: threaded by In-Reply-To into the same conversation.
    servers.addToMaildir("alice", "From: joao@customer.test\r\nTo: alice@example.test\r\nSubject: Re: Re: Encomenda\r\n"
                                  "Message-ID: <answer-43@customer.test>\r\nIn-Reply-To: <" + providerId + ">\r\n"
                                  "References: <first-42@customer.test> <" + providerId + ">\r\n\r\nObrigado!\r\n");
    json all;
    ASSERT_TRUE(waitFor([&] {
        all = timeline(host, customer);
        return all.size() == 3;
    })) << all.dump(2);
    EXPECT_EQ(all[0]["conversation_id"], all[1]["conversation_id"]) << all.dump(2);
    EXPECT_EQ(all[1]["conversation_id"], all[2]["conversation_id"]) << all.dump(2);
    EXPECT_EQ(host.output().find(kAlicePassword), std::string::npos);
    EXPECT_EQ(host.output().find(MailServers::kSmtpPassword), std::string::npos);
}

TEST(EmailHost, WrongPasswordFailsTheInstanceNotTheHost) {
    MailServers servers({{"alice", kAlicePassword}}, /*withSmtp=*/false);
    const std::string wrong = "Definitely-Wrong-Pass-99";
    HostProcess host(connectorYaml(servers), {},
                     {{"TEST_IMAP_PASSWORD", wrong}, {"TEST_SMTP_PASSWORD", MailServers::kSmtpPassword}});
    json c;
    ASSERT_TRUE(waitFor([&] {
        c = api(host, "/api/v1/connectors/support-mail");
        return c["last_error"].is_string();
    })) << c.dump(2) << host.output();
    const std::string error = c["last_error"];
    EXPECT_NE(error.find(servers.imapUrl()), std::string::npos) << error;
    EXPECT_NE(error.find("'alice'"), std::string::npos) << error;
    EXPECT_EQ(error.find(wrong), std::string::npos);
    EXPECT_TRUE(c["state"] == "failed" || c["state"] == "backoff") << c.dump(2);
    EXPECT_EQ(c["options"]["imap_password"], "***");
    EXPECT_EQ(host.get("/healthz").status, 200) << "the host keeps running";
    EXPECT_EQ(host.output().find(wrong), std::string::npos);
}

TEST(EmailHost, IdleDeliversMailLongBeforeThePollAndPausesPromptly) {
    MailServers servers({{"alice", kAlicePassword}});
    HostProcess host(connectorYaml(servers, "10m"), {},
                     {{"TEST_IMAP_PASSWORD", kAlicePassword}, {"TEST_SMTP_PASSWORD", MailServers::kSmtpPassword}});
    auto arrived = [&](const std::string& sender) {
        return waitFor([&] { return !api(host, "/api/v1/customers?identity=email:" + sender)["customers"].empty(); },
                       std::chrono::seconds(60));
    };
    servers.addToMaildir("alice", "From: first@customer.test\r\nSubject: One\r\nMessage-ID: <idle-1@customer.test>\r\n"
                                  "\r\nFirst.\r\n");
    ASSERT_TRUE(arrived("first@customer.test")) << host.output();
    // The host's next poll is ten minutes away: only IDLE can bring this one in.
    servers.addToMaildir("alice", "From: second@customer.test\r\nSubject: Two\r\nMessage-ID: <idle-2@customer.test>\r\n"
                                  "\r\nSecond.\r\n");
    ASSERT_TRUE(arrived("second@customer.test")) << host.output();

    // Pausing stops the idling watcher; the host's own command timeout would report a hang.
    auto paused = host.post("/api/v1/connectors/support-mail/pause", "", host.auth());
    EXPECT_EQ(paused.status, 200) << paused.body;
    EXPECT_EQ(api(host, "/api/v1/connectors/support-mail")["state"], "paused");
    EXPECT_EQ(host.output().find(kAlicePassword), std::string::npos);
}
