// switchboard.yaml: what an admin sees when the config is right, and the exact message
// (file, line, column, path) when it is not.
#include "config/config.h"
#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace switchboard::host::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using test::TempDir;

// Sets an environment variable for one test and restores the previous state.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const char* value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) old_ = old;
        if (value != nullptr) ::setenv(name_.c_str(), value, 1);
        else ::unsetenv(name_.c_str());
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
        else ::unsetenv(name_.c_str());
    }

private:
    std::string name_;
    std::optional<std::string> old_;
};

std::string allErrors(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const auto& error : errors) out += error.format() + "\n";
    return out;
}

// Writes switchboard.yaml into a fresh directory and loads it from there.
struct ConfigFile {
    TempDir dir;
    std::string path;
    LoadResult result;
    explicit ConfigFile(const std::string& yaml)
        : path(dir.write("switchboard.yaml", yaml)), result(loadFile(path)) {}
    std::string errors() const { return allErrors(result.errors); }
};

// A schema like a chat plugin would declare: one of every option type.
OptionSchema chatSchema() {
    return {
        {"secret", SB_OPT_STRING, true, true, std::nullopt, "Shared secret that signs webhook calls.", {}},
        {"port", SB_OPT_INT, false, false, "8443", "Port of the widget server.", {}},
        {"verbose", SB_OPT_BOOL, false, false, "false", "Log every request.", {}},
        {"timeout", SB_OPT_DURATION, false, false, "30s", "How long to wait for the provider.", {}},
        {"ratio", SB_OPT_DOUBLE, false, false, std::nullopt, "Sampling ratio.", {}},
        {"origins", SB_OPT_STRING_LIST, false, false, std::nullopt, "Allowed browser origins.", {}},
    };
}

// Loads one connector with the given options block and validates it against chatSchema.
struct Validated {
    ConfigFile file;
    ResolvedOptions options;
    std::vector<ConfigError> errors;
    explicit Validated(const std::string& optionsYaml)
        : file("connectors:\n"
               "  - name: site-chat\n"
               "    plugin: webchat\n"
               "    options:\n" +
               optionsYaml) {
        if (!file.result.config) return;
        validateOptions(file.result.config->connectors.at(0), chatSchema(), options, errors);
    }
    std::string text() const { return allErrors(errors); }
};

// --- structure ------------------------------------------------------------------------

TEST(ConfigTest, UnknownTopLevelKeySuggestsNearestAndListsAllowed) {
    ConfigFile f("sever:\n  listen: 127.0.0.1:9000\n");
    ASSERT_FALSE(f.result.config);
    ASSERT_EQ(f.result.errors.size(), 1u);
    EXPECT_EQ(f.result.errors[0].format(),
              f.path + ":1:1: sever: unknown key 'sever' (did you mean 'server'? "
                       "allowed: server, store, plugins, connectors, log, identity, threading, routing, outbox)");
}

TEST(ConfigTest, UnknownNestedKeyNamesItsPath) {
    ConfigFile f("server:\n  lisen: 127.0.0.1:9000\n");
    ASSERT_EQ(f.result.errors.size(), 1u);
    EXPECT_EQ(f.result.errors[0].format(),
              f.path + ":2:3: server.lisen: unknown key 'lisen' (did you mean 'listen'? "
                       "allowed: listen, api_token, public_url, max_body_bytes, threads, io_threads, max_connections, "
                       "max_connections_per_client, header_timeout, keepalive_timeout, body_timeout, min_body_rate, "
                       "max_header_bytes, max_buffered_body_bytes, trusted_proxies, webhook_concurrency, "
                       "webhook_queue, webhook_timeout)");
}

TEST(ConfigTest, BadYamlGivesOneErrorWithParserPosition) {
    ConfigFile f("server:\n  listen: [127.0.0.1:9000\nlog:\n  level: info\n");
    ASSERT_FALSE(f.result.config);
    ASSERT_EQ(f.result.errors.size(), 1u);
    const ConfigError& e = f.result.errors[0];
    EXPECT_EQ(e.where.file, f.path);
    EXPECT_GT(e.where.line, 1);
    EXPECT_GT(e.where.column, 0);
    EXPECT_THAT(e.format(), HasSubstr("invalid YAML: "));
    EXPECT_THAT(e.format(), HasSubstr(f.path + ":" + std::to_string(e.where.line) + ":"));
}

TEST(ConfigTest, MissingFileIsReportedWithItsName) {
    TempDir dir;
    LoadResult r = loadFile(dir.file("nope.yaml"));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_THAT(r.errors[0].format(), HasSubstr(dir.file("nope.yaml")));
    EXPECT_THAT(r.errors[0].format(), HasSubstr("No such file or directory"));
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
    ConfigFile f("");
    ASSERT_TRUE(f.result.config) << f.errors();
    const HostConfig& c = *f.result.config;
    EXPECT_EQ(c.server.host, "127.0.0.1");
    EXPECT_EQ(c.server.port, 8080);
    EXPECT_FALSE(c.server.apiToken);
    EXPECT_EQ(c.log.level, "info");
    EXPECT_TRUE(c.pluginPaths.empty());
    EXPECT_TRUE(c.connectors.empty());
    EXPECT_EQ(c.store.sqlitePath, f.dir.file("switchboard.db"));
}

TEST(ConfigTest, HostSectionsAreParsed) {
    ConfigFile f(
        "server:\n"
        "  listen: \"[::1]:0\"\n"
        "  public_url: https://hooks.example.com/\n"
        "  max_body_bytes: 2MiB\n"
        "  threads: 4\n"
        "log:\n"
        "  level: debug\n"
        "  format: json\n"
        "connectors: []\n");
    ASSERT_TRUE(f.result.config) << f.errors();
    const HostConfig& c = *f.result.config;
    EXPECT_EQ(c.server.host, "::1");
    EXPECT_EQ(c.server.port, 0);  // ephemeral, for tests
    EXPECT_EQ(c.server.publicUrl, "https://hooks.example.com");
    EXPECT_EQ(c.server.maxBodyBytes, 2u * 1024 * 1024);
    EXPECT_EQ(c.server.threads, 4u);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "json");
}

TEST(ConfigTest, BadHostValuesAreEachReported) {
    ConfigFile f(
        "server:\n"
        "  listen: 127.0.0.1:70000\n"
        "  public_url: hooks.example.com\n"
        "  max_body_bytes: 1MB\n"
        "  threads: 0\n"
        "log:\n"
        "  level: verbose\n"
        "store:\n"
        "  sqlit:\n"
        "    path: x.db\n");
    ASSERT_EQ(f.result.errors.size(), 6u) << f.errors();
    std::string text = f.errors();
    EXPECT_THAT(text, HasSubstr(f.path + ":2:11: server.listen: "));
    EXPECT_THAT(text, HasSubstr("from 0 to 65535"));
    EXPECT_THAT(text, HasSubstr(f.path +
                                ":3:15: server.public_url: expects a URL starting with http:// or https://"));
    EXPECT_THAT(text, HasSubstr(f.path + ":4:19: server.max_body_bytes: "));
    EXPECT_THAT(text, HasSubstr(f.path + ":5:12: server.threads: expects a whole number from 1 to 256"));
    EXPECT_THAT(text, HasSubstr(f.path + ":7:10: log.level: expects one of trace, debug, info, warn, error"));
    EXPECT_THAT(text,
                HasSubstr(f.path + ":9:3: store.sqlit: unknown store kind 'sqlit' (did you mean 'sqlite'? "
                                   "known: sqlite, postgresql)"));
}

TEST(ConfigTest, HttpFrontLimitsAreReadWithTheirUnits) {
    ConfigFile f(
        "server:\n"
        "  io_threads: 3\n"
        "  max_connections: 500\n"
        "  max_connections_per_client: 0\n"
        "  header_timeout: 2s\n"
        "  keepalive_timeout: 1m\n"
        "  body_timeout: 500ms\n"
        "  min_body_rate: 4KiB\n"
        "  max_header_bytes: 8KiB\n"
        "  max_buffered_body_bytes: 64MiB\n"
        "  trusted_proxies: [10.0.0.0/8, \"::1\", 192.168.1.7]\n"
        "  webhook_concurrency: 4\n"
        "  webhook_queue: 0\n"
        "  webhook_timeout: 5s\n"
        "plugins:\n  paths: []\n"
        "connectors:\n"
        "  - name: slow\n"
        "    plugin: webchat\n"
        "    webhooks: { concurrency: 2, timeout: 1s }\n");
    ASSERT_TRUE(f.result.config) << f.errors();
    const auto& s = f.result.config->server;
    EXPECT_EQ(s.ioThreads, 3u);
    EXPECT_EQ(s.maxConnections, 500u);
    EXPECT_EQ(s.maxConnectionsPerClient, 0u);
    EXPECT_EQ(s.headerTimeoutMs, 2000);
    EXPECT_EQ(s.keepAliveTimeoutMs, 60000);
    EXPECT_EQ(s.bodyTimeoutMs, 500);
    EXPECT_EQ(s.minBodyRate, 4096u);
    EXPECT_EQ(s.maxHeaderBytes, 8192u);
    EXPECT_EQ(s.maxBufferedBodyBytes, 64u * 1024 * 1024);
    ASSERT_EQ(s.trustedProxies.size(), 3u);
    EXPECT_TRUE(s.trustedProxies[0].contains("10.1.2.3"));
    EXPECT_TRUE(s.trustedProxies[0].contains("::ffff:10.1.2.3"));  // a dual-stack listener's view
    EXPECT_FALSE(s.trustedProxies[0].contains("11.0.0.1"));
    EXPECT_TRUE(s.trustedProxies[1].contains("::1"));
    EXPECT_FALSE(s.trustedProxies[2].contains("192.168.1.8"));
    EXPECT_EQ(s.webhooks, (WebhookLimits{4, 0, 5000}));
    // The instance overrides two of the three; the queue stays the server's.
    const auto& slow = f.result.config->connectors.at(0);
    EXPECT_EQ(slow.webhooks.applyTo(s.webhooks), (WebhookLimits{2, 0, 1000}));
}

TEST(ConfigTest, BadHttpFrontLimitsAreEachReportedWithTheirRange) {
    ConfigFile f(
        "server:\n"
        "  header_timeout: 10\n"
        "  io_threads: 0\n"
        "  max_header_bytes: 100\n"
        "  trusted_proxies: [10.0.0.0/33, proxy.local]\n"
        "  webhook_timeout: 0s\n"
        "connectors:\n"
        "  - name: a\n"
        "    plugin: webchat\n"
        "    webhooks: { concurrency: 0, queues: 3 }\n");
    std::string text = f.errors();
    EXPECT_THAT(text, HasSubstr(f.path + ":2:19: server.header_timeout: expects a duration, and a plain number has no unit"));
    EXPECT_THAT(text, HasSubstr(f.path + ":3:15: server.io_threads: expects a whole number from 1 to 64, got '0'"));
    EXPECT_THAT(text, HasSubstr(f.path + ":4:21: server.max_header_bytes: expects a byte count of at least 1024"));
    EXPECT_THAT(text, HasSubstr("server.trusted_proxies[0]: expects an IP address or CIDR block such as 10.0.0.0/8 or "
                                "::1, got '10.0.0.0/33': the prefix length must be at most 32"));
    EXPECT_THAT(text, HasSubstr("server.trusted_proxies[1]: expects an IP address or CIDR block"));
    EXPECT_THAT(text, HasSubstr(f.path + ":6:20: server.webhook_timeout: expects a positive duration"));
    EXPECT_THAT(text, HasSubstr("connectors[0].webhooks.concurrency: expects a whole number from 1 to 1024"));
    EXPECT_THAT(text, HasSubstr("connectors[0].webhooks.queues: unknown key 'queues' (did you mean 'queue'?"));
}

TEST(ConfigTest, OutboxDurationsMustBePositiveAndAtMostAYearAndADay) {
    ConfigFile f(
        "outbox:\n"
        "  max_age: 8784h\n"
        "  claim_lease: 9223372036854775ms\n"
        "  initial_backoff: 0s\n"
        "  poll_interval: 8785h\n");
    ASSERT_EQ(f.result.errors.size(), 3u) << f.errors();
    std::string text = f.errors();
    EXPECT_THAT(text, HasSubstr(f.path + ":3:16: outbox.claim_lease: expects a positive duration of at most 8784h"));
    EXPECT_THAT(text, HasSubstr(f.path + ":4:20: outbox.initial_backoff: expects a positive duration"));
    EXPECT_THAT(text, HasSubstr(f.path + ":5:18: outbox.poll_interval: expects a positive duration of at most 8784h"));
}

TEST(ConfigTest, SeveralErrorsAreReportedAtOnce) {
    ConfigFile f(
        "servr: {}\n"                 // unknown top-level key
        "log:\n"
        "  format: xml\n"             // bad choice
        "connectors:\n"
        "  - name: Bad Name\n"        // invalid instance name
        "    plugin: webchat\n"
        "    enabled: yes\n"          // not a strict bool
        "  - plugin: email\n");       // name missing
    ASSERT_FALSE(f.result.config);
    EXPECT_EQ(f.result.errors.size(), 5u) << f.errors();
    std::string text = f.errors();
    EXPECT_THAT(text, HasSubstr(f.path + ":1:1: servr: unknown key"));
    EXPECT_THAT(text, HasSubstr(f.path + ":3:11: log.format: expects one of text, json"));
    EXPECT_THAT(text, HasSubstr(f.path + ":5:11: connectors[0].name: instance name 'Bad Name' is invalid"));
    EXPECT_THAT(text, HasSubstr(f.path + ":7:14: connectors[0].enabled: expects true or false "
                                         "(yes/no/on/off are not accepted)"));
    EXPECT_THAT(text, HasSubstr(f.path + ":8:5: connectors[1]: the required key 'name' is missing"));
}

TEST(ConfigTest, DuplicateConnectorNamesNameBothLines) {
    ConfigFile f(
        "connectors:\n"
        "  - name: site-chat\n"
        "    plugin: webchat\n"
        "  - name: site-chat\n"
        "    plugin: webchat\n");
    ASSERT_EQ(f.result.errors.size(), 1u) << f.errors();
    EXPECT_EQ(f.result.errors[0].format(),
              f.path + ":4:11: connectors[1].name: connector name 'site-chat' is used twice: "
                       "by connectors[0] at line 2 and by connectors[1] at line 4");
}

TEST(ConfigTest, KeySetTwiceIsRejected) {
    ConfigFile f("log:\n  level: info\n  level: debug\n");
    ASSERT_EQ(f.result.errors.size(), 1u) << f.errors();
    EXPECT_EQ(f.result.errors[0].format(),
              f.path + ":3:3: log.level: 'level' is set twice (first at line 2)");
}

TEST(ConfigTest, ConnectorsAbsentNullOrEmptyAreFine) {
    for (const char* yaml : {"log: {level: info}\n", "connectors:\n", "connectors: []\n"}) {
        ConfigFile f(yaml);
        ASSERT_TRUE(f.result.config) << yaml << f.errors();
        EXPECT_TRUE(f.result.config->connectors.empty());
    }
}

TEST(ConfigTest, ConnectorFieldsAndRawOptions) {
    ConfigFile f(
        "connectors:\n"
        "  - name: mail_1\n"
        "    plugin: email\n"
        "    enabled: false\n"
        "    options:\n"
        "      host: imap.example.com\n"
        "      folders: [INBOX, Support]\n");
    ASSERT_TRUE(f.result.config) << f.errors();
    const ConnectorConfig& c = f.result.config->connectors.at(0);
    EXPECT_EQ(c.name, "mail_1");
    EXPECT_EQ(c.plugin, "email");
    EXPECT_FALSE(c.enabled);
    EXPECT_EQ(c.path, "connectors[0]");
    EXPECT_EQ(c.where.line, 2);
    EXPECT_EQ(c.options.at("host").values, std::vector<std::string>{"imap.example.com"});
    EXPECT_FALSE(c.options.at("host").isList);
    EXPECT_EQ(c.options.at("folders").values, (std::vector<std::string>{"INBOX", "Support"}));
    EXPECT_TRUE(c.options.at("folders").isList);
}

TEST(ConfigTest, NestedMapOptionIsRejectedWithItsPath) {
    ConfigFile f(
        "connectors:\n"
        "  - name: a\n"
        "    plugin: webchat\n"
        "  - name: b\n"
        "    plugin: webchat\n"
        "    options:\n"
        "      tls:\n"
        "        cert: x.pem\n");
    ASSERT_EQ(f.result.errors.size(), 1u) << f.errors();
    EXPECT_THAT(f.result.errors[0].format(),
                HasSubstr(f.path + ":8:9: connectors[1].options.tls: a nested map is not supported"));
}

TEST(ConfigTest, RelativePathsResolveAgainstTheConfigDirectory) {
    TempDir dir;
    std::string path = dir.write("etc/switchboard.yaml",
                                 "store:\n  sqlite:\n    path: data/sb.db\n"
                                 "plugins:\n  paths: [plugins, /opt/sb/plugins]\n");
    LoadResult r = loadFile(path);
    ASSERT_TRUE(r.config) << allErrors(r.errors);
    EXPECT_EQ(r.config->store.sqlitePath, dir.file("etc/data/sb.db"));
    EXPECT_THAT(r.config->pluginPaths, ElementsAre(dir.file("etc/plugins"), "/opt/sb/plugins"));
}

// --- references -----------------------------------------------------------------------

TEST(ConfigTest, EnvReferenceIsResolvedWholeOrEmbedded) {
    ScopedEnv token("SB_CONFIG_TEST_TOKEN", "tok-123");
    ScopedEnv host("SB_CONFIG_TEST_HOST", "hooks.example.com");
    ConfigFile f(
        "server:\n"
        "  api_token: ${env:SB_CONFIG_TEST_TOKEN}\n"
        "  public_url: https://${env:SB_CONFIG_TEST_HOST}/sb\n"
        "connectors:\n"
        "  - name: c\n"
        "    plugin: webchat\n"
        "    options:\n"
        "      secret: ${env:SB_CONFIG_TEST_TOKEN}\n"
        "      note: costs $${env:X}\n");
    ASSERT_TRUE(f.result.config) << f.errors();
    EXPECT_EQ(f.result.config->server.apiToken, "tok-123");
    EXPECT_EQ(f.result.config->server.publicUrl, "https://hooks.example.com/sb");
    const auto& options = f.result.config->connectors.at(0).options;
    EXPECT_EQ(options.at("secret").values.at(0), "tok-123");
    EXPECT_TRUE(options.at("secret").fromReference);
    EXPECT_EQ(options.at("note").values.at(0), "costs ${env:X}");  // $${ is a literal ${
    EXPECT_FALSE(options.at("note").fromReference);
}

TEST(ConfigTest, MissingEnvVarIsReportedAtItsPath) {
    ScopedEnv unset("SB_CONFIG_TEST_UNSET", nullptr);
    ConfigFile f("server:\n  api_token: ${env:SB_CONFIG_TEST_UNSET}\n");
    ASSERT_EQ(f.result.errors.size(), 1u) << f.errors();
    EXPECT_EQ(f.result.errors[0].format(),
              f.path + ":2:14: server.api_token: environment variable SB_CONFIG_TEST_UNSET is not set");
}

TEST(ConfigTest, FileReferenceIsTrimmedOfOneNewlineAndRelativeToConfigDir) {
    TempDir dir;
    dir.write("secrets/token", "file-token\n");
    dir.write("secrets/crlf", "crlf-secret\r\n");
    dir.write("secrets/two", "two\n\n");
    std::string path = dir.write("switchboard.yaml",
                                 "server:\n  api_token: ${file:secrets/token}\n"
                                 "connectors:\n  - name: c\n    plugin: webchat\n    options:\n"
                                 "      a: ${file:secrets/crlf}\n"
                                 "      b: ${file:" + dir.file("secrets/two") + "}\n");
    LoadResult r = loadFile(path);
    ASSERT_TRUE(r.config) << allErrors(r.errors);
    EXPECT_EQ(r.config->server.apiToken, "file-token");
    EXPECT_EQ(r.config->connectors.at(0).options.at("a").values.at(0), "crlf-secret");
    EXPECT_EQ(r.config->connectors.at(0).options.at("b").values.at(0), "two\n");  // only one is trimmed
}

TEST(ConfigTest, UnreadableFileReferenceNamesFileAndReason) {
    ConfigFile f("server:\n  api_token: ${file:missing-token}\n");
    ASSERT_EQ(f.result.errors.size(), 1u) << f.errors();
    std::string text = f.result.errors[0].format();
    EXPECT_THAT(text, HasSubstr(f.path + ":2:14: server.api_token: cannot read file '" +
                                f.dir.file("missing-token") + "'"));
    EXPECT_THAT(text, HasSubstr("No such file or directory"));
}

TEST(ConfigTest, MalformedReferencesAreRejected) {
    ConfigFile f("log:\n  level: ${foo:bar}\n  format: ${env:SB_X\n");
    ASSERT_EQ(f.result.errors.size(), 2u) << f.errors();
    EXPECT_THAT(f.result.errors[0].format(), HasSubstr(f.path + ":2:10: log.level: malformed reference"));
    EXPECT_THAT(f.result.errors[1].format(), HasSubstr(f.path + ":3:11: log.format: unterminated reference"));
    EXPECT_THAT(f.errors(), HasSubstr("$${"));  // tells how to write a literal
}

// --- plugin options -------------------------------------------------------------------

TEST(ConfigTest, DefaultsAreFilledAndDurationsConverted) {
    Validated v("      secret: s\n"
                "      timeout: 5m\n"
                "      origins: https://a.example\n");
    ASSERT_TRUE(v.errors.empty()) << v.text() << v.file.errors();
    EXPECT_THAT(v.options.entries,
                ElementsAre(Pair("secret", "s"), Pair("port", "8443"), Pair("verbose", "false"),
                            Pair("timeout", "300000"), Pair("origins", "https://a.example")));
}

TEST(ConfigTest, ListsSchemaOrderAndConversions) {
    Validated v("      origins: [https://a.example, https://b.example]\n"
                "      verbose: true\n"
                "      timeout: 500ms\n"
                "      ratio: 0.25\n"
                "      port: -1\n"
                "      secret: s\n");
    ASSERT_TRUE(v.errors.empty()) << v.text();
    EXPECT_THAT(v.options.entries,
                ElementsAre(Pair("secret", "s"), Pair("port", "-1"), Pair("verbose", "true"),
                            Pair("timeout", "500"), Pair("ratio", "0.25"),
                            Pair("origins", "https://a.example"), Pair("origins", "https://b.example")));
}

TEST(ConfigTest, PluginDefaultsAreConvertedLikeConfigValues) {
    // The plugin's default text goes through the same conversion as config values.
    OptionSchema schema = {{"every", SB_OPT_DURATION, false, false, "1h", "", {}},
                           {"tags", SB_OPT_STRING_LIST, false, false, "[a, b]", "", {}}};
    ConnectorConfig c;
    c.path = "connectors[0]";
    ResolvedOptions out;
    std::vector<ConfigError> errors;
    validateOptions(c, schema, out, errors);
    ASSERT_TRUE(errors.empty()) << allErrors(errors);
    EXPECT_THAT(out.entries, ElementsAre(Pair("every", "3600000"), Pair("tags", "a"), Pair("tags", "b")));
}

TEST(ConfigTest, UnknownOptionSuggestsAndListsAllowed) {
    Validated v("      secrte: s\n");
    ASSERT_EQ(v.errors.size(), 2u) << v.text();  // the typo, and so secret is missing
    EXPECT_EQ(v.errors[1].format(),
              v.file.path +
                  ":5:15: connectors[0].options.secrte: unknown option 'secrte' (did you mean 'secret'? "
                  "allowed: secret, port, verbose, timeout, ratio, origins)");
}

TEST(ConfigTest, WrongTypesAreReportedWithTheExpectedForm) {
    Validated v("      secret: s\n"
                "      port: 80a\n"
                "      verbose: yes\n"
                "      timeout: 30\n"
                "      ratio: half\n");
    ASSERT_EQ(v.errors.size(), 4u) << v.text();
    const std::string& p = v.file.path;
    EXPECT_EQ(v.errors[0].format(), p + ":6:13: connectors[0].options.port: option 'port' expects an int "
                                        "(a whole signed 64-bit decimal number), got '80a'");
    EXPECT_EQ(v.errors[1].format(),
              p + ":7:16: connectors[0].options.verbose: option 'verbose' expects a bool: "
                  "true or false (yes/no/on/off are not accepted), got 'yes'");
    EXPECT_THAT(v.errors[2].format(), HasSubstr(p + ":8:16: connectors[0].options.timeout: option 'timeout' "
                                                    "expects a duration"));
    EXPECT_THAT(v.errors[2].format(), HasSubstr("add ms, s, m or h"));
    EXPECT_THAT(v.errors[3].format(),
                HasSubstr(p + ":9:14: connectors[0].options.ratio: option 'ratio' expects a "
                              "double"));
}

TEST(ConfigTest, IntMustBeTheWholeString) {
    for (const char* bad : {"1.5", "1e3", "0x10", "'12 '", "99999999999999999999"}) {
        Validated v(std::string("      secret: s\n      port: ") + bad + "\n");
        EXPECT_EQ(v.errors.size(), 1u) << bad;
    }
}

TEST(ConfigTest, ListForScalarIsAnErrorAndScalarForListIsAccepted) {
    Validated v("      secret: s\n      port: [1, 2]\n");
    ASSERT_EQ(v.errors.size(), 1u) << v.text();
    EXPECT_EQ(v.errors[0].format(), v.file.path +
                                        ":6:13: connectors[0].options.port: option 'port' takes a single "
                                        "int, got a list of 2 values");
}

TEST(ConfigTest, OptionWrittenWithoutValueIsAnError) {
    // "port:" with nothing after it is a forgotten value, not a request for the default.
    Validated v("      secret: s\n      port:\n");
    ASSERT_EQ(v.errors.size(), 1u) << v.text();
    EXPECT_EQ(v.errors[0].format(), v.file.path +
                                        ":6:7: connectors[0].options.port: option 'port' has no value "
                                        "(remove the line to use the default)");
}

TEST(ConfigTest, MissingRequiredOptionIsReportedAtTheConnector) {
    Validated v("      port: 9000\n");
    ASSERT_EQ(v.errors.size(), 1u) << v.text();
    EXPECT_EQ(v.errors[0].format(), v.file.path +
                                        ":2:5: connectors[0].options.secret: required option 'secret' "
                                        "(string) is missing: Shared secret that signs webhook calls.");
}

TEST(ConfigTest, SecretValuesNeverAppearInErrors) {
    ScopedEnv fromEnv("SB_CONFIG_TEST_PORT", "hunter2-env");
    OptionSchema schema = {{"pin", SB_OPT_INT, true, true, std::nullopt, "Device PIN.", {}},
                           {"port", SB_OPT_INT, false, false, std::nullopt, "Port.", {}}};
    ConfigFile f(
        "server:\n"
        "  api_token: hunter2-token\n"
        "  threads: ${env:SB_CONFIG_TEST_PORT}\n"
        "connectors:\n"
        "  - name: c\n"
        "    plugin: p\n"
        "    options:\n"
        "      pin: hunter2-pin\n"
        "      port: ${env:SB_CONFIG_TEST_PORT}\n");
    ASSERT_EQ(f.result.errors.size(), 1u) << f.errors();  // threads from env is not a number
    std::vector<ConfigError> errors = f.result.errors;

    // Validate the options of the same connector (loaded again without the bad threads).
    ConfigFile ok(
        "server:\n  api_token: hunter2-token\n"
        "connectors:\n  - name: c\n    plugin: p\n    options:\n"
        "      pin: hunter2-pin\n      port: ${env:SB_CONFIG_TEST_PORT}\n");
    ASSERT_TRUE(ok.result.config) << ok.errors();
    ResolvedOptions out;
    validateOptions(ok.result.config->connectors.at(0), schema, out, errors);
    ASSERT_EQ(errors.size(), 3u) << allErrors(errors);

    std::string text = allErrors(errors);
    EXPECT_THAT(text, Not(HasSubstr("hunter2")));
    EXPECT_THAT(text, HasSubstr("connectors[0].options.pin: option 'pin' expects an int"));
    EXPECT_THAT(text, HasSubstr("(value hidden)"));
}

// --- suggestions ----------------------------------------------------------------------

TEST(ConfigTest, SuggestNearestFindsTyposOnly) {
    std::vector<std::string> keys = {"server", "store", "plugins", "connectors", "log"};
    EXPECT_EQ(suggestNearest("sever", keys), "server");
    EXPECT_EQ(suggestNearest("conectors", keys), "connectors");
    EXPECT_EQ(suggestNearest("plugin", keys), "plugins");
    EXPECT_EQ(suggestNearest("database", keys), std::nullopt);
    EXPECT_EQ(suggestNearest("xy", {"ab"}), std::nullopt);  // replacing everything is not a typo
    EXPECT_EQ(suggestNearest("abc", {"abd", "abe"}), "abd");  // ties: first candidate
    EXPECT_EQ(suggestNearest("x", {}), std::nullopt);
}

// --- the shipped quick-start config ---------------------------------------------------

TEST(ConfigTest, QuickStartConfigLoads) {
    ScopedEnv token("SWITCHBOARD_API_TOKEN", "quick-start-token");
    std::string path = std::string(SWITCHBOARD_SOURCE_DIR) + "/config/switchboard.yaml";
    LoadResult r = loadFile(path);
    ASSERT_TRUE(r.config) << allErrors(r.errors);
    EXPECT_EQ(r.config->server.host, "127.0.0.1");
    EXPECT_EQ(r.config->server.port, 8080);
    EXPECT_EQ(r.config->server.apiToken, "quick-start-token");
    EXPECT_TRUE(r.config->pluginPaths.empty());
    ASSERT_EQ(r.config->connectors.size(), 1u);
    EXPECT_EQ(r.config->connectors[0].name, "site-chat");
    EXPECT_EQ(r.config->connectors[0].plugin, "webchat");
    EXPECT_TRUE(r.config->connectors[0].options.empty());
}

// store: postgresql: { url: ... } selects the PostgreSQL store; the url may come from the
// environment and is a secret: errors name where, never what.
TEST(ConfigTest, PostgresqlStoreTakesAUrl) {
    ScopedEnv password("SB_CONFIG_TEST_PG_PASSWORD", "pg-secret-1");
    ConfigFile f("store:\n  postgresql:\n    url: \"host=db port=5432 dbname=sb password=${env:SB_CONFIG_TEST_PG_PASSWORD}\"\n");
    ASSERT_TRUE(f.result.config) << f.errors();
    EXPECT_EQ(f.result.config->store.kind, "postgresql");
    EXPECT_EQ(f.result.config->store.postgresqlUrl, "host=db port=5432 dbname=sb password=pg-secret-1");
}

TEST(ConfigTest, PostgresqlStoreErrorsNameFileLineAndPath) {
    ConfigFile missing("store:\n  postgresql:\n    uri: x\n");
    EXPECT_THAT(missing.errors(), HasSubstr(missing.path + ":3:5: store.postgresql.uri: "));
    EXPECT_THAT(missing.errors(), HasSubstr("store.postgresql: needs url"));
    ConfigFile empty("store:\n  postgresql: { url: \"\" }\n");
    EXPECT_THAT(empty.errors(), HasSubstr(empty.path + ":2:22: store.postgresql.url: is empty"));
    ConfigFile both("store:\n  sqlite: { path: a.db }\n  postgresql: { url: \"host=db\" }\n");
    EXPECT_THAT(both.errors(), HasSubstr(both.path + ":3:3: store.postgresql: only one store may be configured"));
}

}  // namespace
}  // namespace switchboard::host::config

// The issue's own example writes references bare inside a flow map, which YAML would read
// as a nested map; the loader accepts it as the reference it obviously is.
TEST(ConfigReferences, BareReferenceInsideBracesIsAReference) {
    setenv("SB_TEST_FLOW_SECRET", "flow-secret", 1);
    auto r = switchboard::host::config::loadText(
        "connectors:\n"
        "  - name: site-chat\n"
        "    plugin: webchat\n"
        "    options: { secret: ${env:SB_TEST_FLOW_SECRET}, list: [${env:SB_TEST_FLOW_SECRET}, b] }\n"
        "    # a comment with ${env:NOT_RESOLVED} stays a comment\n",
        "/tmp/flow.yaml");
    ASSERT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].format());
    const auto& opts = r.config->connectors.at(0).options;
    EXPECT_EQ(opts.at("secret").values, std::vector<std::string>{"flow-secret"});
    EXPECT_TRUE(opts.at("secret").fromReference);
    EXPECT_EQ(opts.at("list").values, (std::vector<std::string>{"flow-secret", "b"}));
    // Text around a reference is untouched: only a reference that starts a value is quoted.
    auto embedded = switchboard::host::config::loadText(
        "server:\n  public_url: https://x-${env:SB_TEST_FLOW_SECRET}.example.com\n", "/tmp/e.yaml");
    ASSERT_TRUE(embedded.config.has_value());
    EXPECT_EQ(embedded.config->server.publicUrl, "https://x-flow-secret.example.com");
}

TEST(ConfigIdentity, ParsesEveryKeyAndReportsBadOnes) {
    auto ok = switchboard::host::config::loadText(
        "identity:\n"
        "  default_region: PT\n"
        "  match_types: [email, phone]\n"
        "  mode: match_only\n"
        "  fold_gmail: true\n"
        "  shared:\n"
        "    phone: [ \"+351 211 000 000\" ]\n"
        "  blocked:\n"
        "    email: test@test.com\n"
        "  limits: { email: 5 }\n"
        "  cardinality: { phone: 3 }\n",
        "/tmp/id.yaml");
    ASSERT_TRUE(ok.config.has_value()) << ok.errors[0].format();
    const auto& id = ok.config->identity;
    EXPECT_EQ(id.defaultRegion, "PT");
    EXPECT_EQ(id.defaultRegionWhere.line, 2);
    EXPECT_EQ(id.matchTypes, (std::vector<std::string>{"email", "phone"}));
    EXPECT_EQ(id.mode, "match_only");
    EXPECT_TRUE(id.foldGmail);
    EXPECT_EQ(id.shared.at("phone"), std::vector<std::string>{"+351 211 000 000"});
    EXPECT_EQ(id.blocked.at("email"), std::vector<std::string>{"test@test.com"});
    EXPECT_EQ(id.limits.at("email"), 5);
    EXPECT_EQ(id.cardinality.at("phone"), 3);

    auto bad = switchboard::host::config::loadText(
        "identity:\n  mode: automerge\n  match_types: [email, fax]\n  blocked: { mail: [x] }\n  cardinality: { phone: 0 }\n",
        "/tmp/bad.yaml");
    ASSERT_EQ(bad.errors.size(), 4u);
    EXPECT_NE(bad.errors[0].format().find("/tmp/bad.yaml:2:9: identity.mode:"), std::string::npos)
        << bad.errors[0].format();
    EXPECT_NE(bad.errors[0].format().find("did you mean 'auto_merge'"), std::string::npos);
    EXPECT_NE(bad.errors[1].format().find("identity.match_types[1]"), std::string::npos) << bad.errors[1].format();
    EXPECT_NE(bad.errors[2].format().find("identity.blocked.mail"), std::string::npos) << bad.errors[2].format();
    EXPECT_NE(bad.errors[3].format().find("/tmp/bad.yaml:5:25: identity.cardinality.phone: expects a positive integer"),
              std::string::npos)
        << bad.errors[3].format();
}
