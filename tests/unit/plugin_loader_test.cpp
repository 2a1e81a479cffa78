// The plugin loader and registry against the fixture plugins (tests/fixtures): what loads,
// what is refused and how the refusal reads, and that a loaded plugin really serves
// independent instances through the C ABI.
#include "plugin/plugin_loader.h"
#include "plugin/plugin_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::host {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string fixtureDir(const std::string& name) { return std::string(SWITCHBOARD_FIXTURE_DIR) + "/" + name; }
std::string fixtureFile(const std::string& name) { return fixtureDir(name) + "/switchboard-" + name + ".so"; }

// The message without the file path, so a number in the path cannot satisfy a check.
std::string withoutPath(std::string message, const std::string& path) {
    for (size_t at; (at = message.find(path)) != std::string::npos;) message.erase(at, path.size());
    return message;
}

const OptionSpec* findOption(const OptionSchema& schema, const std::string& name) {
    for (const auto& o : schema)
        if (o.name == name) return &o;
    return nullptr;
}

// ---------------------------------------------------------------------------------------
// A fake host services table: records, per instance, what the plugin asked of it.

struct FakeInstance {
    std::vector<std::string> emittedSourceIds;
    std::vector<std::string> logs;
};

sb_host_instance_host_ptr handleOf(FakeInstance& i) {
    return reinterpret_cast<sb_host_instance_host_ptr>(&i);
}
FakeInstance& fakeOf(sb_host_instance_host_ptr p) { return *reinterpret_cast<FakeInstance*>(p); }
std::string str(sb_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }

const sb_host_api& fakeHost() {
    static const sb_host_api api = [] {
        sb_host_api a{};
        a.struct_size = sizeof a;
        a.abi_major = SB_ABI_VERSION_MAJOR;
        a.abi_minor = SB_ABI_VERSION_MINOR;
        a.log = [](sb_host_instance_host_ptr inst, sb_log_level, sb_str m) {
            fakeOf(inst).logs.push_back(str(m));
        };
        a.log_enabled = [](sb_host_instance_host_ptr, sb_log_level) { return 1; };
        a.emit = [](sb_host_instance_host_ptr inst, const sb_emit_batch* batch, sb_emit_outcome* outcomes,
                    sb_errbuf) {
            for (size_t i = 0; i < batch->message_count; ++i) {
                fakeOf(inst).emittedSourceIds.push_back(str(batch->messages[i].source_id));
                if (outcomes) outcomes[i] = SB_EMIT_STORED;
            }
            return SB_OK;
        };
        a.checkpoint_get = [](sb_host_instance_host_ptr, sb_str, void*, sb_receive_fn, sb_errbuf) {
            return SB_OK;
        };
        a.checkpoint_put = [](sb_host_instance_host_ptr, sb_str, sb_str, sb_errbuf) { return SB_OK; };
        a.counter_add = [](sb_host_instance_host_ptr, sb_str, double) {};
        a.gauge_set = [](sb_host_instance_host_ptr, sb_str, double) {};
        return a;
    }();
    return api;
}

struct Created {
    sb_status status = SB_FAIL_FATAL;
    sb_plugin_instance_plugin_ptr instance = nullptr;
    std::string error;
};

// Calls create the way the host does: validated options as (name, value) spans.
Created create(const LoadedPlugin& plugin, FakeInstance& inst, const std::string& instanceName,
               const std::vector<std::pair<std::string, std::string>>& options) {
    std::vector<sb_kv> entries;
    for (const auto& [k, v] : options) entries.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
    sb_config config{
        sizeof(sb_config), entries.data(), entries.size(), {instanceName.data(), instanceName.size()}};
    char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
    Created out;
    out.status = plugin.descriptor().create(&fakeHost(), handleOf(inst), &config, &out.instance,
                                            sb_errbuf{buf, sizeof buf});
    out.error = buf;
    return out;
}

struct WebhookReply {
    sb_status status = SB_FAIL_FATAL;
    int httpStatus = 0;
    std::string body;
    std::string error;
};

WebhookReply post(const LoadedPlugin& plugin, sb_plugin_instance_plugin_ptr self, const std::string& path,
                  const std::string& body) {
    WebhookReply reply;
    sb_http_request req{};
    req.struct_size = sizeof req;
    req.method = {"POST", 4};
    req.path = {path.data(), path.size()};
    req.body = {body.data(), body.size()};
    sb_http_response resp{};
    resp.struct_size = sizeof resp;
    resp.status = 200;
    resp.host_ctx = &reply.body;
    resp.set_header = [](void*, sb_str, sb_str) {};
    resp.write_body = [](void* ctx, sb_str data) { *static_cast<std::string*>(ctx) += str(data); };
    char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
    reply.status = plugin.descriptor().handle_webhook(self, &req, &resp, sb_errbuf{buf, sizeof buf});
    reply.httpStatus = resp.status;
    reply.error = buf;
    return reply;
}

sb_status stopAndDestroy(const LoadedPlugin& plugin, sb_plugin_instance_plugin_ptr self) {
    char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
    sb_status s = plugin.descriptor().stop(self, sb_errbuf{buf, sizeof buf});
    plugin.descriptor().destroy(self);
    return s;
}

// ---------------------------------------------------------------------------------------
// Loading

TEST(PluginLoader, LoadsTheGoodPluginWithItsDescriptorAndSchema) {
    LoadOutcome out = loadPlugin(fixtureFile("good"));
    ASSERT_NE(out.plugin, nullptr) << out.error;
    EXPECT_EQ(out.error, "");
    EXPECT_EQ(out.warning, "");
    const LoadedPlugin& p = *out.plugin;
    EXPECT_EQ(p.file(), fixtureFile("good"));
    EXPECT_EQ(p.name(), "fixture_good");
    EXPECT_EQ(p.version(), "1.2.3");
    EXPECT_EQ(p.description(), "The reference fixture plugin.");
    EXPECT_EQ(p.kind(), SB_KIND_SOURCE | SB_KIND_SINK);
    EXPECT_EQ(p.kindName(), "source+sink");
    EXPECT_EQ(p.abiMajor(), 1u);
    EXPECT_TRUE(p.hasWebhooks());

    ASSERT_EQ(p.schema().size(), 3u);
    const OptionSpec* token = findOption(p.schema(), "token");
    ASSERT_NE(token, nullptr);
    EXPECT_EQ(token->type, SB_OPT_STRING);
    EXPECT_TRUE(token->required);
    EXPECT_TRUE(token->secret);
    EXPECT_FALSE(token->defaultValue.has_value());
    EXPECT_EQ(token->description, "Shared secret callers present.");
    const OptionSpec* maxBatch = findOption(p.schema(), "max_batch");
    ASSERT_NE(maxBatch, nullptr);
    EXPECT_EQ(maxBatch->type, SB_OPT_INT);
    EXPECT_FALSE(maxBatch->required);
    EXPECT_FALSE(maxBatch->secret);
    EXPECT_EQ(maxBatch->defaultValue, "10");
    const OptionSpec* poll = findOption(p.schema(), "poll_interval");
    ASSERT_NE(poll, nullptr);
    EXPECT_EQ(poll->type, SB_OPT_DURATION);
    EXPECT_EQ(poll->defaultValue, "30s");
}

TEST(PluginLoader, LoadsAPluginWrittenInPlainC) {
    LoadOutcome out = loadPlugin(fixtureFile("good_c"));
    ASSERT_NE(out.plugin, nullptr) << out.error;
    EXPECT_EQ(out.plugin->name(), "fixture_good_c");
    EXPECT_EQ(out.plugin->kindName(), "source+sink");
    ASSERT_EQ(out.plugin->schema().size(), 3u);
    const OptionSpec* token = findOption(out.plugin->schema(), "token");
    ASSERT_NE(token, nullptr);
    EXPECT_TRUE(token->required && token->secret);
}

TEST(PluginLoader, AcceptsADescriptorFromANewerMinorWithAWarning) {
    LoadOutcome out = loadPlugin(fixtureFile("struct_larger"));
    ASSERT_NE(out.plugin, nullptr) << out.error;
    EXPECT_EQ(out.plugin->name(), "fixture_struct_larger");
    EXPECT_EQ(out.plugin->abiMinor(), 5u);
    EXPECT_THAT(out.warning, HasSubstr("1.5"));
}

// These fail only when an instance is created, which loading must never do.
TEST(PluginLoader, LoadsPluginsThatFailOnlyAtCreate) {
    for (const char* fixture : {"create_fails", "create_fails_silently", "throws"}) {
        LoadOutcome out = loadPlugin(fixtureFile(fixture));
        EXPECT_NE(out.plugin, nullptr) << fixture << ": " << out.error;
    }
}

struct Refusal {
    std::string fixture;
    std::vector<std::string> mentions;  // besides the file path
};
void PrintTo(const Refusal& r, std::ostream* os) { *os << r.fixture; }

class PluginLoaderRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(PluginLoaderRefuses, WithOneLineNamingFileAndProblem) {
    const Refusal& r = GetParam();
    const std::string file = fixtureFile(r.fixture);
    LoadOutcome out = loadPlugin(file);
    EXPECT_EQ(out.plugin, nullptr);
    ASSERT_FALSE(out.error.empty());
    EXPECT_THAT(out.error, HasSubstr(file));
    EXPECT_THAT(out.error, Not(HasSubstr("\n")));
    const std::string text = withoutPath(out.error, file);
    for (const auto& m : r.mentions) EXPECT_THAT(text, HasSubstr(m)) << "in: " << out.error;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, PluginLoaderRefuses,
    ::testing::Values(
        Refusal{"abi_major_2", {"ABI 2", "1", "rebuild"}},
        Refusal{"struct_too_small", {"16", std::to_string(SB_PLUGIN_DESCRIPTOR_SIZE_1_0), "rebuild"}},
        Refusal{"no_entry", {"switchboard_plugin_descriptor"}},
        Refusal{"not_a_library", {"not a loadable shared library"}},
        Refusal{"missing_callback", {"start"}},
        Refusal{"bad_schema", {"1", "name"}},
        Refusal{"sink_without_send", {"send"}}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return info.param.fixture; });

TEST(PluginLoader, RefusesAMissingFileNamingIt) {
    const std::string file = fixtureDir("good") + "/switchboard-nowhere.so";
    LoadOutcome out = loadPlugin(file);
    EXPECT_EQ(out.plugin, nullptr);
    EXPECT_THAT(out.error, HasSubstr(file));
}

// ---------------------------------------------------------------------------------------
// Instances through the C ABI

class PluginInstances : public ::testing::TestWithParam<std::string> {};

TEST_P(PluginInstances, TwoInstancesOfOnePluginAreIndependent) {
    LoadOutcome out = loadPlugin(fixtureFile(GetParam()));
    ASSERT_NE(out.plugin, nullptr) << out.error;
    const LoadedPlugin& p = *out.plugin;
    const std::vector<std::pair<std::string, std::string>> options = {
        {"token", "s3cret"}, {"max_batch", "10"}, {"poll_interval", "30000"}};

    FakeInstance hostA, hostB;
    Created a = create(p, hostA, "site-a", options);
    Created b = create(p, hostB, "site-b", options);
    ASSERT_EQ(a.status, SB_OK) << a.error;
    ASSERT_EQ(b.status, SB_OK) << b.error;
    ASSERT_NE(a.instance, b.instance);
    char buf[SB_ERRBUF_MIN_CAPACITY] = {0};
    ASSERT_EQ(p.descriptor().start(a.instance, sb_errbuf{buf, sizeof buf}), SB_OK) << buf;
    ASSERT_EQ(p.descriptor().start(b.instance, sb_errbuf{buf, sizeof buf}), SB_OK) << buf;

    WebhookReply ra = post(p, a.instance, "/inbound", R"({"text":"hi from a"})");
    WebhookReply rb = post(p, b.instance, "/other", "plain \"b\"");
    ASSERT_EQ(ra.status, SB_OK) << ra.error;
    ASSERT_EQ(rb.status, SB_OK) << rb.error;
    EXPECT_EQ(ra.httpStatus, 200);
    EXPECT_THAT(ra.body, HasSubstr(R"("instance":"site-a")"));
    EXPECT_THAT(ra.body, HasSubstr(R"("path":"/inbound")"));
    EXPECT_THAT(ra.body, HasSubstr(R"("body":"{\"text\":\"hi from a\"}")"));
    EXPECT_THAT(rb.body, HasSubstr(R"("instance":"site-b")"));
    EXPECT_THAT(rb.body, HasSubstr(R"("body":"plain \"b\"")"));
    // Each instance emitted through its own host handle, once.
    EXPECT_EQ(hostA.emittedSourceIds.size(), 1u);
    EXPECT_EQ(hostB.emittedSourceIds.size(), 1u);

    sb_message msg{};
    msg.struct_size = sizeof msg;
    msg.source_id = {"out-1", 5};
    char providerId[128] = {0};
    sb_send_result sent{sizeof(sb_send_result), 0, providerId, sizeof providerId};
    EXPECT_EQ(p.descriptor().send(b.instance, &msg, &sent, sb_errbuf{buf, sizeof buf}), SB_OK) << buf;
    EXPECT_THAT(std::string(providerId), HasSubstr("out-1"));

    EXPECT_EQ(stopAndDestroy(p, a.instance), SB_OK);
    // b still works after a is gone.
    EXPECT_EQ(post(p, b.instance, "", "again").status, SB_OK);
    EXPECT_EQ(hostB.emittedSourceIds.size(), 2u);
    EXPECT_EQ(stopAndDestroy(p, b.instance), SB_OK);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PluginInstances, ::testing::Values("good", "good_c"));

TEST(PluginInstances, CreateFailureCarriesThePluginsReason) {
    LoadOutcome out = loadPlugin(fixtureFile("create_fails"));
    ASSERT_NE(out.plugin, nullptr) << out.error;
    FakeInstance inst;
    Created c = create(*out.plugin, inst, "bad", {});
    EXPECT_EQ(c.status, SB_FAIL_CONFIG);
    EXPECT_EQ(c.error, "option 'x' is wrong");
}

// The C++ wrapper's exception barrier: a throwing plugin yields a status, never a crash.
TEST(PluginInstances, WrapperTurnsExceptionsIntoStatuses) {
    LoadOutcome out = loadPlugin(fixtureFile("throws"));
    ASSERT_NE(out.plugin, nullptr) << out.error;
    const LoadedPlugin& p = *out.plugin;

    FakeInstance inst;
    Created failed = create(p, inst, "boom", {{"throw_in", "create"}});
    EXPECT_NE(failed.status, SB_OK);
    EXPECT_THAT(failed.error, HasSubstr("constructor failed on purpose"));

    Created ok = create(p, inst, "boom", {{"throw_in", "webhook"}});
    ASSERT_EQ(ok.status, SB_OK) << ok.error;
    WebhookReply r = post(p, ok.instance, "", "{}");
    EXPECT_NE(r.status, SB_OK);
    EXPECT_THAT(r.error, HasSubstr("webhook failed on purpose"));
    stopAndDestroy(p, ok.instance);
}

// ---------------------------------------------------------------------------------------
// Registry

TEST(PluginRegistry, RefusesASecondPluginWithTheSameNameNamingBothFiles) {
    PluginRegistry registry;
    registry.scan({fixtureDir("good"), fixtureDir("duplicate_name")});
    auto good = registry.find("fixture_good");
    ASSERT_NE(good, nullptr);
    EXPECT_EQ(good->file(), fixtureFile("good"));
    EXPECT_EQ(good->version(), "1.2.3");
    ASSERT_EQ(registry.errors().size(), 1u);
    EXPECT_THAT(registry.errors()[0], HasSubstr(fixtureFile("good")));
    EXPECT_THAT(registry.errors()[0], HasSubstr(fixtureFile("duplicate_name")));
    EXPECT_THAT(registry.errors()[0], HasSubstr("fixture_good"));
}

TEST(PluginRegistry, MissingDirectoryIsReportedAndTheRestStillLoads) {
    const std::string missing = std::string(SWITCHBOARD_FIXTURE_DIR) + "/no-such-dir";
    PluginRegistry registry;
    registry.scan({missing, fixtureDir("good")});
    ASSERT_EQ(registry.errors().size(), 1u);
    EXPECT_THAT(registry.errors()[0], HasSubstr(missing));
    EXPECT_NE(registry.find("fixture_good"), nullptr);
    EXPECT_THAT(registry.searchedDirectories(), ::testing::Contains(fixtureDir("good")));
}

TEST(PluginRegistry, OneBadFileNeverStopsTheOthers) {
    const std::vector<std::string> refused = {"abi_major_2",      "struct_too_small", "no_entry",
                                              "not_a_library",    "missing_callback", "bad_schema",
                                              "sink_without_send"};
    std::vector<std::string> dirs;
    for (const auto& f : refused) dirs.push_back(fixtureDir(f));
    dirs.insert(dirs.begin() + 3, fixtureDir("good"));
    dirs.push_back(fixtureDir("good_c"));
    dirs.push_back(fixtureDir("struct_larger"));

    PluginRegistry registry;
    registry.scan(dirs);
    EXPECT_EQ(registry.names(),
              (std::vector<std::string>{"fixture_good", "fixture_good_c", "fixture_struct_larger"}));
    ASSERT_EQ(registry.errors().size(), refused.size());
    for (const auto& f : refused) {
        bool named = false;
        for (const auto& e : registry.errors()) named = named || e.find(fixtureFile(f)) != std::string::npos;
        EXPECT_TRUE(named) << "no error names " << fixtureFile(f);
    }
    ASSERT_EQ(registry.warnings().size(), 1u);
    EXPECT_THAT(registry.warnings()[0], HasSubstr(fixtureFile("struct_larger")));
}

TEST(PluginRegistry, AddReportsEachFile) {
    PluginRegistry registry;
    EXPECT_TRUE(registry.add(fixtureFile("good")));
    EXPECT_FALSE(registry.add(fixtureFile("not_a_library")));
    ASSERT_EQ(registry.errors().size(), 1u);
    EXPECT_THAT(registry.errors()[0], HasSubstr(fixtureFile("not_a_library")));
}

TEST(PluginRegistry, UnknownNameSuggestsTheNearest) {
    PluginRegistry registry;
    registry.scan({fixtureDir("good"), fixtureDir("good_c")});
    EXPECT_EQ(registry.find("fixture_god"), nullptr);
    const std::string message = registry.unknownPluginMessage("fixture_god");
    EXPECT_THAT(message, HasSubstr("fixture_god"));
    EXPECT_THAT(message, HasSubstr("did you mean 'fixture_good'"));
    EXPECT_THAT(message, HasSubstr(fixtureDir("good")));  // where it looked
}

// A plugin outlives the registry that loaded it: its code stays mapped while it is held.
TEST(PluginRegistry, PluginOutlivesTheRegistry) {
    std::shared_ptr<const LoadedPlugin> plugin = [] {
        PluginRegistry registry;
        registry.scan({fixtureDir("good")});
        return registry.find("fixture_good");
    }();
    ASSERT_NE(plugin, nullptr);
    FakeInstance inst;
    Created c = create(*plugin, inst, "late", {{"token", "t"}});
    ASSERT_EQ(c.status, SB_OK) << c.error;
    EXPECT_EQ(stopAndDestroy(*plugin, c.instance), SB_OK);
}

}  // namespace
}  // namespace switchboard::host
