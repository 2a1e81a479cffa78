// The proof that the plugin ABI is stable: the installed SDK package alone builds the plugin
// template, once with gcc/libstdc++ and once with clang/libc++, and this build's host (gcc,
// libstdc++) describes and runs both plugins. Slow by nature: two CMake projects per run.
#include "http_endpoint.h"
#include "test_support.h"

#include <switchboard/plugin.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace switchboard::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string show(const ProcessResult& r) {
    return "exit " + std::to_string(r.exitCode) + "\n--- stdout\n" + r.out + "\n--- stderr\n" + r.err;
}

bool onPath(const std::string& program) { return run({"sh", "-c", "command -v " + program}).exitCode == 0; }

struct Toolchain {
    std::string name;
    std::string compiler;                // must be on PATH (or absolute)
    std::vector<std::string> cmakeArgs;  // beyond the compiler
    std::string runtime;                 // the C++ runtime the plugin must link
    std::string otherRuntime;            // and the one it must not
    std::string stdlibFlag;              // what an executable's link needs too ("" for the default)
};
void PrintTo(const Toolchain& t, std::ostream* os) { *os << t.name; }

std::vector<Toolchain> toolchains() {
    const std::string libcxx = "-stdlib=libc++";
    return {
        {"gcc_libstdcxx", "g++", {}, "libstdc++.so.6", "libc++.so.1", ""},
        {"clang_libcxx",
         "clang++-14",
         {"-DCMAKE_CXX_FLAGS=" + libcxx, "-DCMAKE_SHARED_LINKER_FLAGS=" + libcxx,
          "-DCMAKE_MODULE_LINKER_FLAGS=" + libcxx},
         "libc++.so.1",
         "libstdc++.so.6",
         libcxx},
    };
}

// One `cmake --install` of this build tree per test suite, shared by its tests.
class SdkPackage : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        installDir_ = new TempDir();
        install_ = new ProcessResult(run({"cmake", "--install", SWITCHBOARD_BINARY_DIR, "--prefix", prefix()},
                                         {}, std::chrono::seconds(300)));
    }
    static void TearDownTestSuite() {
        delete install_;
        delete installDir_;
        install_ = nullptr;
        installDir_ = nullptr;
    }
    static std::string prefix() { return installDir_->file("prefix"); }

    static TempDir* installDir_;
    static ProcessResult* install_;
};

TempDir* SdkPackage::installDir_ = nullptr;
ProcessResult* SdkPackage::install_ = nullptr;

TEST_F(SdkPackage, InstallsHeadersCMakePackageAndTemplate) {
    ASSERT_EQ(install_->exitCode, 0) << show(*install_);
    EXPECT_TRUE(fs::exists(prefix() + "/include/switchboard/plugin.h"));
    EXPECT_TRUE(fs::exists(prefix() + "/include/switchboard/plugin.hpp"));
    // The optional helpers, and nothing the bundled connectors keep to themselves.
    for (const char* helper : {"crypto.hpp", "curl.hpp", "http_client.hpp", "retry_after.hpp"})
        EXPECT_TRUE(fs::exists(prefix() + "/include/switchboard/" + helper)) << helper;
    for (const char* internal : {"sms.h", "sms_form.h", "utf8.h", "plugin_http.h"})
        EXPECT_FALSE(fs::exists(prefix() + "/include/switchboard/" + internal)) << internal;
    EXPECT_FALSE(fs::exists(prefix() + "/include/sbcommon"));
    bool config = false;
    for (const char* libdir : {"lib", "lib64", "lib/x86_64-linux-gnu"})
        config = config ||
                 fs::exists(prefix() + "/" + libdir + "/cmake/SwitchboardSDK/SwitchboardSDKConfig.cmake");
    EXPECT_TRUE(config) << "no SwitchboardSDKConfig.cmake under " << prefix();
    EXPECT_TRUE(fs::exists(prefix() + "/share/switchboard/plugin-template/CMakeLists.txt"));
    EXPECT_TRUE(fs::exists(prefix() + "/share/switchboard/plugin-template/echo_plugin.cpp"));
    // The guide the template's README points to, where it says it is.
    const std::string guide = prefix() + "/share/doc/switchboard-sdk/README.md";
    ASSERT_TRUE(fs::exists(guide));
    EXPECT_THAT(readFile(guide), HasSubstr("# Switchboard plugin SDK"));
    EXPECT_THAT(readFile(prefix() + "/share/switchboard/plugin-template/README.md"),
                HasSubstr("share/doc/switchboard-sdk/README.md"));
}

// The conformance checker is part of the SDK: installed, and it runs from the prefix.
TEST_F(SdkPackage, InstallsThePluginChecker) {
    ASSERT_EQ(install_->exitCode, 0) << show(*install_);
    const std::string checker = prefix() + "/bin/switchboard-plugin-check";
    ASSERT_TRUE(fs::exists(checker)) << show(*install_);
    ProcessResult noArgs = run({checker});
    EXPECT_NE(noArgs.exitCode, 0);
    EXPECT_THAT(noArgs.out + noArgs.err, HasSubstr("no plugin file given"));
}

// find_package(SwitchboardSDK 1.N) must find an SDK that has the 1.N services.
TEST_F(SdkPackage, PackageVersionIsTheAbiVersion) {
    ASSERT_EQ(install_->exitCode, 0) << show(*install_);
    std::string versionFile;
    for (const char* libdir : {"lib", "lib64", "lib/x86_64-linux-gnu"}) {
        const std::string f = prefix() + "/" + libdir + "/cmake/SwitchboardSDK/SwitchboardSDKConfigVersion.cmake";
        if (fs::exists(f)) versionFile = f;
    }
    ASSERT_FALSE(versionFile.empty()) << "no SwitchboardSDKConfigVersion.cmake under " << prefix();
    const std::string abi = std::to_string(SB_ABI_VERSION_MAJOR) + "." + std::to_string(SB_ABI_VERSION_MINOR) + ".0";
    EXPECT_THAT(readFile(versionFile), HasSubstr("set(PACKAGE_VERSION \"" + abi + "\")"));
}

class SdkTemplate : public SdkPackage, public ::testing::WithParamInterface<Toolchain> {};

// Runs `switchboard run` with one echo instance from pluginDir; returns the webhook answers
// to the same message posted twice.
std::pair<HttpResponse, HttpResponse> runEcho(const TempDir& dir, const std::string& pluginDir,
                                              const std::string& instance, const std::string& greeting,
                                              std::string& log) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        const int port = freePort();
        std::string yaml;
        yaml += "server:\n";
        yaml += "  listen: 127.0.0.1:" + std::to_string(port) + "\n";
        yaml += "  api_token: test-token-0123456789\n";
        yaml += "store:\n  sqlite: { path: " + dir.file("sb-" + instance + ".db") + " }\n";
        yaml += "plugins:\n  paths: [ " + pluginDir + " ]\n";
        yaml += "connectors:\n";
        yaml += "  - name: " + instance + "\n";
        yaml += "    plugin: echo\n";
        yaml += "    options:\n";
        yaml += "      greeting: \"" + greeting + "\"\n";
        const std::string config = dir.write("switchboard-" + instance + ".yaml", yaml);
        Child host({SWITCHBOARD_BIN, "run", "-c", config});
        if (!waitHealthy(port, std::chrono::seconds(30))) {
            log = host.output();
            if (log.find("in use") != std::string::npos) continue;
            return {};
        }
        const std::map<std::string, std::string> headers = {
            {"Content-Type", "text/plain"}, {"x-message-id", "m-1"}, {"x-sender", "ada"}};
        HttpResponse first = http("POST", port, "/webhooks/" + instance, "hi there", headers);
        HttpResponse second = http("POST", port, "/webhooks/" + instance, "hi there", headers);
        host.signal(SIGTERM);
        host.wait(std::chrono::seconds(15));
        log = host.output();
        return {first, second};
    }
    return {};
}

TEST_P(SdkTemplate, TemplateBuiltOutOfTreeLoadsAndRunsInTheHost) {
    const Toolchain& tc = GetParam();
    ASSERT_EQ(install_->exitCode, 0) << show(*install_);
    if (!onPath(tc.compiler)) GTEST_SKIP() << tc.compiler << " is not installed";

    // A copy of the installed template, built against the installed prefix only.
    TempDir work;
    const std::string src = work.file("echo"), build = work.file("build");
    fs::copy(prefix() + "/share/switchboard/plugin-template", src, fs::copy_options::recursive);
    std::vector<std::string> configure = {
        "cmake", "-S", src, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_PREFIX_PATH=" + prefix(), "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON",
        "-DCMAKE_CXX_COMPILER=" + tc.compiler};
    configure.insert(configure.end(), tc.cmakeArgs.begin(), tc.cmakeArgs.end());
    ProcessResult configured = run(configure, {}, std::chrono::seconds(300));
    ASSERT_EQ(configured.exitCode, 0) << show(configured);
    EXPECT_THAT(readFile(build + "/CMakeCache.txt"), HasSubstr("SwitchboardSDK_DIR:PATH=" + prefix() + "/"));

    ProcessResult built = run({"cmake", "--build", build, "--verbose"}, {}, std::chrono::seconds(300));
    ASSERT_EQ(built.exitCode, 0) << show(built);
    // Headers came from the install, never from this source tree.
    EXPECT_THAT(built.out, HasSubstr(prefix() + "/include"));
    EXPECT_THAT(built.out, Not(HasSubstr(std::string(SWITCHBOARD_SOURCE_DIR) + "/sdk")));

    const std::string plugin = build + "/switchboard-echo.so";
    ASSERT_TRUE(fs::exists(plugin)) << show(built);
    ProcessResult dynamic = run({"readelf", "-d", plugin});
    ASSERT_EQ(dynamic.exitCode, 0) << show(dynamic);
    EXPECT_THAT(dynamic.out, HasSubstr("[" + tc.runtime + "]")) << "the plugin must use " << tc.runtime;
    EXPECT_THAT(dynamic.out, Not(HasSubstr("[" + tc.otherRuntime + "]")));

    // The template's install rule puts it where plugins live.
    ProcessResult installed = run({"cmake", "--install", build, "--prefix", work.file("inst")});
    ASSERT_EQ(installed.exitCode, 0) << show(installed);
    const std::string pluginDir = work.file("inst/lib/switchboard/plugins");
    ASSERT_TRUE(fs::exists(pluginDir + "/switchboard-echo.so"));

    ProcessResult described =
        run({SWITCHBOARD_BIN, "plugins", "describe", "echo", "--plugin-dir", pluginDir});
    ASSERT_EQ(described.exitCode, 0) << show(described);
    EXPECT_THAT(described.out, HasSubstr("echo"));
    EXPECT_THAT(described.out, HasSubstr("greeting"));
    EXPECT_THAT(described.out, HasSubstr("hello"));  // its default

    // The template we ship passes the conformance checks we tell integrators to run, with the
    // checker the SDK installs.
    ProcessResult checked = run({prefix() + "/bin/switchboard-plugin-check", pluginDir + "/switchboard-echo.so"});
    EXPECT_EQ(checked.exitCode, 0) << show(checked);

    // And it really runs: a webhook crosses into the plugin, the plugin emits through the
    // host services, and the host deduplicates the resend.
    const std::string instance = "echo-" + tc.name;
    const std::string greeting = "bonjour from " + tc.name;
    std::string log;
    auto [first, second] = runEcho(work, pluginDir, instance, greeting, log);
    ASSERT_EQ(first.status, 200) << first.body << "\n--- host log\n" << log;
    EXPECT_THAT(first.body, HasSubstr("\"greeting\":\"" + greeting + "\""));
    EXPECT_THAT(first.body, HasSubstr("\"source_id\":\"m-1\""));
    EXPECT_THAT(first.body, HasSubstr("\"outcome\":\"stored\""));
    ASSERT_EQ(second.status, 200) << second.body << "\n--- host log\n" << log;
    EXPECT_THAT(second.body, HasSubstr("\"outcome\":\"duplicate\""));
}

// The optional helpers, from the installed package only: an outside project asks for the
// http and crypto components, builds with this toolchain, and computes the published values.
TEST_P(SdkTemplate, HelpersBuildOutOfTreeAndWork) {
    const Toolchain& tc = GetParam();
    ASSERT_EQ(install_->exitCode, 0) << show(*install_);
    if (!onPath(tc.compiler)) GTEST_SKIP() << tc.compiler << " is not installed";

    TempDir work;
    const std::string src = work.file("consumer"), build = work.file("build");
    fs::copy(std::string(SWITCHBOARD_SOURCE_DIR) + "/tests/sdk_consumer", src, fs::copy_options::recursive);
    std::vector<std::string> configure = {
        "cmake", "-S", src, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_PREFIX_PATH=" + prefix(), "-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON",
        "-DCMAKE_CXX_COMPILER=" + tc.compiler, "-DCMAKE_EXE_LINKER_FLAGS=" + tc.stdlibFlag};
    configure.insert(configure.end(), tc.cmakeArgs.begin(), tc.cmakeArgs.end());
    ProcessResult configured = run(configure, {}, std::chrono::seconds(300));
    ASSERT_EQ(configured.exitCode, 0) << show(configured);
    ProcessResult built = run({"cmake", "--build", build, "--verbose"}, {}, std::chrono::seconds(300));
    ASSERT_EQ(built.exitCode, 0) << show(built);
    EXPECT_THAT(built.out, HasSubstr(prefix() + "/include"));
    EXPECT_THAT(built.out, Not(HasSubstr(std::string(SWITCHBOARD_SOURCE_DIR) + "/sdk")));

    const std::string program = build + "/sdk_helpers_check";
    ProcessResult dynamic = run({"readelf", "-d", program});
    EXPECT_THAT(dynamic.out, HasSubstr("[" + tc.runtime + "]"));
    EXPECT_THAT(dynamic.out, Not(HasSubstr("[" + tc.otherRuntime + "]")));

    HttpEndpoint server;
    server.answer({202, "accepted", {{"X-Answer", "yes"}}});
    ProcessResult ran = run({program, server.url("/probe")});
    ASSERT_EQ(ran.exitCode, 0) << show(ran);
    // RFC 4231 and RFC 2202 test case 2; RFC 9110's RFC 850 date, two minutes ahead.
    EXPECT_THAT(ran.out, HasSubstr("hmac_sha256_hex=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843\n"));
    EXPECT_THAT(ran.out, HasSubstr("hmac_sha1_base64=7/zfauXrL6LSdBbV8YTfnCWafHk=\n"));
    EXPECT_THAT(ran.out, HasSubstr("equal=10\n"));
    EXPECT_THAT(ran.out, HasSubstr("retry_after_rfc850=120\n"));
    EXPECT_THAT(ran.out, HasSubstr("json_text=ol\xc3\xa1\n"));
    EXPECT_THAT(ran.out, HasSubstr("status=202\n"));
    EXPECT_THAT(ran.out, HasSubstr("x_answer=yes\n"));
    EXPECT_THAT(ran.out, HasSubstr("body=accepted\n"));
    EXPECT_EQ(server.only().uri, "/probe");
}

// Builds the installed example `name` out of tree with clang/libc++, exactly as the template's
// README shows; returns its plugin directory ("" and a failure when it did not build).
std::string buildExample(const std::string& prefix, const TempDir& work, const std::string& name,
                         const std::string& plugin, const Toolchain& tc) {
    const std::string src = work.file(name), build = src + "/build";
    fs::copy(prefix + "/share/switchboard/examples/" + name, src, fs::copy_options::recursive);
    std::vector<std::string> configure = {"cmake", "-S", src, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix,
                                          "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_COMPILER=" + tc.compiler};
    configure.insert(configure.end(), tc.cmakeArgs.begin(), tc.cmakeArgs.end());
    ProcessResult configured = run(configure, {}, std::chrono::seconds(300));
    EXPECT_EQ(configured.exitCode, 0) << show(configured);
    ProcessResult built = run({"cmake", "--build", build}, {}, std::chrono::seconds(300));
    EXPECT_EQ(built.exitCode, 0) << show(built);
    if (configured.exitCode != 0 || built.exitCode != 0) return "";
    EXPECT_THAT(run({"readelf", "-d", build + "/switchboard-" + plugin + ".so"}).out,
                HasSubstr("[" + tc.runtime + "]"));
    return build;
}

// The examples the template's README walks through: each under 100 lines, built with clang and
// libc++ from the installed package, loaded by this gcc-built host. A Telegram update with the
// secret is stored (a forged one is refused and counted), and a message to the customer it
// brought is delivered to a signed JSON webhook whose receipt updates the timeline.
TEST_F(SdkPackage, ExamplesBuiltWithClangAndLibcxxStoreAndDeliver) {
    ASSERT_EQ(install_->exitCode, 0) << show(*install_);
    const Toolchain tc = toolchains()[1];
    if (!onPath(tc.compiler)) GTEST_SKIP() << tc.compiler << " is not installed";
    for (const char* file : {"telegram_source/telegram_source.cpp", "json_webhook_sink/json_webhook_sink.cpp"}) {
        const std::string text = readFile(prefix() + "/share/switchboard/examples/" + file);
        EXPECT_LT(std::count(text.begin(), text.end(), '\n'), 100) << file << " must stay under 100 lines";
    }
    TempDir work;
    const std::string source = buildExample(prefix(), work, "telegram_source", "telegram-example", tc);
    const std::string sink = buildExample(prefix(), work, "json_webhook_sink", "json-webhook-example", tc);
    ASSERT_FALSE(source.empty() || sink.empty());
    // The checker's dummy values do not meet the sink's URL format: give it one.
    for (const auto& [dir, so, option] : {std::tuple{source, "telegram", "secret_token=tg-secret_1"},
                                          std::tuple{sink, "json-webhook", "url=http://127.0.0.1:9/inbox"}}) {
        ProcessResult checked = run({prefix() + "/bin/switchboard-plugin-check",
                                     dir + "/switchboard-" + so + "-example.so", "--no-sink", "--option", option});
        EXPECT_EQ(checked.exitCode, 0) << show(checked);
    }

    HttpEndpoint receiver;
    receiver.answer({200, R"({"id":"hook-msg-1"})", {}});
    const std::string secret = "whsec-0123456789";
    HostProcess host("  - name: tg\n    plugin: telegram-example\n    options: { secret_token: tg-secret_1 }\n"
                     "  - name: hook\n    plugin: json-webhook-example\n    options: { url: \"" +
                         receiver.url("/inbox") + "\", signing_secret: " + secret + " }\n",
                     "identity:\n  default_region: PT\noutbox:\n  poll_interval: 50ms\n", {}, {source, sink});
    const std::string update = R"({"update_id": 900001, "message": {"message_id": 7, "date": 1765000000,
        "chat": {"id": 4242, "type": "private"}, "from": {"id": 4242, "first_name": "Ana", "last_name": "Silva"},
        "contact": {"phone_number": "351912345678", "first_name": "Ana", "user_id": 4242}}})";
    const std::map<std::string, std::string> json = {{"Content-Type", "application/json"}};
    auto forged = json;
    forged["X-Telegram-Bot-Api-Secret-Token"] = "guess";
    EXPECT_EQ(http("POST", host.port(), "/webhooks/tg", update, forged).status, 401);
    auto signedTg = json;
    signedTg["X-Telegram-Bot-Api-Secret-Token"] = "tg-secret_1";
    auto stored = http("POST", host.port(), "/webhooks/tg", update, signedTg);
    ASSERT_EQ(stored.status, 200) << stored.body << host.output();
    EXPECT_THAT(stored.body, HasSubstr("stored"));
    EXPECT_THAT(http("POST", host.port(), "/webhooks/tg", update, signedTg).body, HasSubstr("duplicate"));
    EXPECT_THAT(host.get("/api/v1/connectors/tg", host.auth()).body, HasSubstr("\"rejected\":1"));

    auto found = host.get("/api/v1/customers?identity=phone:%2B351912345678", host.auth());
    const std::string customer = nlohmann::json::parse(found.body)["customers"].at(0)["id"];
    auto queued = http("POST", host.port(), "/api/v1/messages",
                       nlohmann::json{{"customer_id", customer}, {"connector", "hook"}, {"text", "Your card ships"}}.dump(),
                       host.auth());
    ASSERT_EQ(queued.status, 202) << queued.body;
    ASSERT_TRUE(waitFor([&] { return !receiver.received().empty(); })) << host.output();
    const ReceivedRequest got = receiver.received().at(0);
    EXPECT_EQ(got.headers.at("x-signature"), "sha256=" + hmacSha256Hex(secret, got.body));
    const auto sent = nlohmann::json::parse(got.body);
    EXPECT_EQ(sent["text"], "Your card ships");
    EXPECT_EQ(sent["customer_id"], customer);
    EXPECT_EQ(sent["to"], nlohmann::json::array({{{"type", "phone"}, {"value", "+351912345678"}}}));

    const std::string receipt = R"({"id":"hook-msg-1","status":"delivered"})";
    auto signedReceipt = json;
    signedReceipt["X-Signature"] = "sha256=" + hmacSha256Hex(secret, receipt);
    ASSERT_TRUE(waitFor([&] { return http("POST", host.port(), "/webhooks/hook/receipts", receipt, signedReceipt).status == 200; }));
    ASSERT_TRUE(waitFor([&] {
        return host.get("/api/v1/customers/" + customer + "/timeline", host.auth()).body.find("\"delivered\"") !=
               std::string::npos;
    })) << host.get("/api/v1/customers/" + customer + "/timeline", host.auth()).body;
    signedReceipt["X-Signature"] = "sha256=" + hmacSha256Hex("wrong", receipt);
    EXPECT_EQ(http("POST", host.port(), "/webhooks/hook/receipts", receipt, signedReceipt).status, 403);
    EXPECT_EQ(http("GET", host.port(), "/webhooks/hook/receipts", "", {}).status, 405);
}

INSTANTIATE_TEST_SUITE_P(Toolchains, SdkTemplate, ::testing::ValuesIn(toolchains()),
                         [](const ::testing::TestParamInfo<Toolchain>& info) { return info.param.name; });

}  // namespace
}  // namespace switchboard::test
