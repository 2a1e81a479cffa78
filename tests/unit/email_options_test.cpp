// The email connector's configuration, through the C ABI of the built .so (no servers):
// what `switchboard plugins describe email` shows, and the errors a wrong config gets.
#include "../integration/email_fake_host.h"

#include <gtest/gtest.h>

#include <set>

namespace {

using email_test::descriptor;
using email_test::FakeHost;
using email_test::Instance;
using email_test::Options;

const Options kReceiver{{"imap_url", "imaps://imap.example.com"},
                        {"imap_username", "support@example.com"},
                        {"imap_password", "app-password"}};
const Options kSender{{"smtp_url", "smtp://smtp.example.com:587"},
                      {"smtp_username", "support@example.com"},
                      {"smtp_password", "app-password"},
                      {"from_address", "support@example.com"}};

Options with(Options base, const Options& changes) {
    for (const auto& [k, v] : changes) base.erase(k);
    for (const auto& [k, v] : changes) base.emplace(k, v);
    return base;
}

Options both() {
    Options o = kReceiver;
    for (const auto& kv : kSender) o.insert(kv);
    return o;
}

std::string configError(const Options& options) {
    FakeHost host;
    Instance inst(host, options);
    EXPECT_EQ(inst.createStatus(), SB_FAIL_CONFIG) << inst.createError();
    return inst.createError();
}

TEST(EmailOptions, SchemaDescribesEveryOptionAndMarksPasswordsSecret) {
    const sb_plugin_descriptor* d = descriptor();
    EXPECT_STREQ(d->name, "email");
    EXPECT_EQ(d->kind, SB_KIND_SOURCE | SB_KIND_SINK);
    EXPECT_NE(d->poll, nullptr);
    EXPECT_NE(d->send, nullptr);
    std::set<std::string> secrets, names;
    for (size_t i = 0; i < d->option_count; ++i) {
        const sb_option& o = d->options[i];
        names.insert(o.name);
        ASSERT_NE(o.description, nullptr) << o.name;
        EXPECT_GT(std::string(o.description).size(), 20u) << o.name;
        if (o.flags & SB_OPTION_SECRET) secrets.insert(o.name);
    }
    EXPECT_EQ(secrets, (std::set<std::string>{"imap_password", "smtp_password"}));
    for (const char* n : {"imap_url", "imap_username", "mailboxes", "poll_interval", "after_processing", "move_to",
                          "max_message_size", "smtp_url", "smtp_username", "from_address", "from_name", "ca_file",
                          "allow_plaintext", "timeout", "channel"})
        EXPECT_EQ(names.count(n), 1u) << n;
}

TEST(EmailOptions, ValidConfigsCreate) {
    for (const Options& o : {kReceiver, kSender, both()}) {
        FakeHost host;
        Instance inst(host, o);
        EXPECT_EQ(inst.createStatus(), SB_OK) << inst.createError();
    }
}

TEST(EmailOptions, ErrorsNameTheOption) {
    EXPECT_NE(configError({}).find("imap_url"), std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"imap_url", "http://imap.example.com"}})).find("'imap_url'"),
              std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"imap_url", "imaps://user:pw@imap.example.com"}})).find("credentials"),
              std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"imap_url", "imaps://imap.example.com/INBOX"}})).find("mailboxes"),
              std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"after_processing", "delete"}})).find("'after_processing'"),
              std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"after_processing", "move"}})).find("'move_to'"), std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"imap_password", ""}})).find("imap_password"), std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"mailboxes", "Bad\"Name"}})).find("'mailboxes'"), std::string::npos);
    EXPECT_NE(configError(with(kReceiver, {{"poll_interval", "5"}})).find("'poll_interval'"), std::string::npos);
    Options noFrom = kSender;
    noFrom.erase("from_address");
    EXPECT_NE(configError(noFrom).find("'from_address'"), std::string::npos);
    EXPECT_NE(configError(with(kSender, {{"from_address", "Support <support@example.com>"}})).find("'from_address'"),
              std::string::npos);
    EXPECT_NE(configError(with(kSender, {{"smtp_url", "smtps://"}})).find("'smtp_url'"), std::string::npos);
    // The password never appears in an error.
    EXPECT_EQ(configError(with(kReceiver, {{"after_processing", "x"}})).find("app-password"), std::string::npos);
}

TEST(EmailOptions, AnInstanceOnlyDoesWhatItIsConfiguredFor) {
    FakeHost host;
    Instance sender(host, kSender);
    ASSERT_EQ(sender.createStatus(), SB_OK) << sender.createError();
    auto polled = sender.poll();
    EXPECT_EQ(polled.status, SB_UNSUPPORTED);
    EXPECT_NE(polled.error.find("imap_url"), std::string::npos);

    Instance receiver(host, kReceiver);
    switchboard::Message m;
    m.channel = "email";
    m.recipients.push_back({"email", "a@example.com", ""});
    m.text = "hi";
    auto sent = receiver.send(m);
    EXPECT_EQ(sent.status, SB_UNSUPPORTED);
    EXPECT_NE(sent.error.find("smtp_url"), std::string::npos);
}

}  // namespace
