// switchboard-plugin-check: the conformance kit connector authors run on their plugin.
// Under the asan preset the tool itself runs sanitized, so a plugin's leaks and memory
// errors fail these tests too.
#include "http_endpoint.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace switchboard::test;

namespace {

ProcessResult check(const std::vector<std::string>& args) {
    std::vector<std::string> argv{SWITCHBOARD_PLUGIN_CHECK_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

std::string fixture(const std::string& name) {
    return std::string(SWITCHBOARD_FIXTURE_DIR) + "/" + name + "/switchboard-" + name + ".so";
}

std::string webchat() { return buildPluginDir() + "/switchboard-webchat.so"; }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A webchat message the plugin stores (200) when it reaches the parser.
const std::string kChatBody = R"({"id":"pc-1","from":{"email":"ann@example.com"},"text":"Hello"})";

// The text of the report line that starts with prefix ("" when there is none).
std::string line(const std::string& out, const std::string& prefix) {
    for (size_t at = 0; at < out.size();) {
        size_t end = out.find('\n', at);
        std::string l = out.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (l.rfind(prefix, 0) == 0) return l;
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return "";
}

}  // namespace

TEST(PluginCheck, TheBundledWebchatPluginPassesEveryCheck) {
    auto r = check({buildPluginDir() + "/switchboard-webchat.so"});
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PASS  garbage webhook input is answered with an error, no crash"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PASS  two instances of the plugin live side by side"), std::string::npos) << r.out;
}

TEST(PluginCheck, ABrokenDescriptorFailsTheFirstCheckWithTheLoadersReason) {
    auto r = check({fixture("missing_callback")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.out.find("FAIL  descriptor loads"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("'start'"), std::string::npos) << r.out;
}

TEST(PluginCheck, APluginThatAcceptsGarbageFailsThatCheck) {
    // fixture_good echoes any body with 200: exactly what the garbage check must catch.
    auto r = check({fixture("good"), "--option", "token=abc"});
    EXPECT_EQ(r.exitCode, 1) << r.out;
    EXPECT_NE(r.out.find("FAIL  garbage webhook input"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PASS  a config missing its required options is refused with a message"),
              std::string::npos)
        << r.out;
}

TEST(PluginCheck, AConstructorThatThrowsIsReportedNotCrashed) {
    auto r = check({fixture("throws")});
    EXPECT_EQ(r.exitCode, 1) << r.out;
    EXPECT_NE(r.out.find("FAIL  create with a valid config"), std::string::npos) << r.out;
}

// --- --option and the dummy values ---

TEST(PluginCheck, DummyValuesForRequiredOptionsAreListedWithSecretsMasked) {
    // vonage requires api_key, api_secret (secret) and from; the user gives only api_key.
    auto r = check({buildPluginDir() + "/switchboard-vonage.so", "--option", "api_key=key-given-by-user"});
    EXPECT_TRUE(has(r.out, "dummy option: from = plugin-check-from (required, not given")) << r.out;
    EXPECT_TRUE(has(r.out, "dummy option: api_secret = *** (secret)")) << r.out;
    EXPECT_FALSE(has(r.out, "dummy option: api_key")) << r.out;
    EXPECT_FALSE(has(r.out, "plugin-check-api_secret")) << r.out;  // the secret dummy itself
    EXPECT_FALSE(has(r.out, "key-given-by-user")) << r.out;         // given values are not echoed
}

TEST(PluginCheck, ADummySecretIsWhatThePluginGotAndAGivenValueReplacesIt) {
    // fixture_good refuses an empty token: create passing shows the dummy reached it.
    auto dummy = check({fixture("good")});
    EXPECT_TRUE(has(dummy.out, "dummy option: token = *** (secret)")) << dummy.out;
    EXPECT_TRUE(has(dummy.out, "PASS  create with a valid config")) << dummy.out;
    auto given = check({fixture("good"), "--option", "token=abc"});
    EXPECT_FALSE(has(given.out, "dummy option")) << given.out;
}

TEST(PluginCheck, AnUnknownOptionIsAUsageErrorNamingTheFlagAndTheNearestName) {
    auto r = check({fixture("good"), "--option", "tokn=abc"});
    EXPECT_EQ(r.exitCode, 2) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "--option")) << r.err;
    EXPECT_TRUE(has(r.err, "'tokn'")) << r.err;
    EXPECT_TRUE(has(r.err, "did you mean 'token'")) << r.err;
}

TEST(PluginCheck, BadFlagsExitTwoNamingTheFlag) {
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{fixture("good"), "--frobnicate"}, "unknown flag '--frobnicate'"},
        {{fixture("good"), "--header", "no colon here"}, "--header expects 'Name: value'"},
        {{fixture("good"), "--header", "bad name: v"}, "--header: 'bad name' is not a valid header name"},
        {{fixture("good"), "--option", "novalue"}, "--option expects NAME=VALUE"},
        {{fixture("good"), "--request"}, "--request needs a value"},
        {{fixture("good"), "--sink", "--no-sink"}, "--sink and --no-sink"},
        {{"--sink"}, "no plugin file given"},
        {{fixture("good"), "--option", "token=a", "--option", "token=b"}, "--option token is given 2 times"},
    };
    for (const auto& c : cases) {
        auto r = check(c.args);
        EXPECT_EQ(r.exitCode, 2) << c.says << "\n" << r.out << r.err;
        EXPECT_TRUE(has(r.err, c.says)) << "want: " << c.says << "\ngot: " << r.err;
    }
}

TEST(PluginCheck, HelpDocumentsEveryFlagAndExitsZero) {
    auto r = check({"--help"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    for (const char* flag : {"--option", "--header", "--request", "--sink", "--no-sink", "expect_status", "body_file"})
        EXPECT_TRUE(has(r.out, flag)) << flag << "\n" << r.out;
}

// --- --header and --request ---

TEST(PluginCheck, AHeaderReachesThePluginsSignatureCheck) {
    TempDir dir;
    const std::string secret = "webchat-secret-0123";
    const std::string request = dir.write("signed.yaml", "method: POST\nheaders:\n  Content-Type: application/json\n"
                                                         "body: '" + kChatBody + "'\nexpect_status: 200\n");
    const std::string signature = "X-Switchboard-Signature: sha256=" + hmacSha256Hex(secret, kChatBody);

    auto unsigned_ = check({webchat(), "--option", "secret=" + secret, "--request", request});
    EXPECT_EQ(unsigned_.exitCode, 1) << unsigned_.out;
    EXPECT_TRUE(has(line(unsigned_.out, "FAIL  request " + request), "got 401")) << unsigned_.out;

    auto wrong = check({webchat(), "--option", "secret=" + secret, "--request", request, "--header",
                        "X-Switchboard-Signature: sha256=" + hmacSha256Hex("another-secret", kChatBody)});
    EXPECT_TRUE(has(line(wrong.out, "FAIL  request " + request), "got 403")) << wrong.out;

    auto signed_ = check({webchat(), "--option", "secret=" + secret, "--request", request, "--header", signature});
    EXPECT_EQ(signed_.exitCode, 0) << signed_.out;
    EXPECT_TRUE(has(signed_.out, "PASS  request " + request + " (POST /) is answered 200")) << signed_.out;
    EXPECT_FALSE(has(signed_.out, secret)) << signed_.out;
}

TEST(PluginCheck, GarbageStoppedByASignatureCheckGetsANote) {
    auto r = check({webchat(), "--option", "secret=webchat-secret-0123"});
    EXPECT_TRUE(has(r.out, "PASS  garbage webhook input")) << r.out;
    EXPECT_TRUE(has(r.out, "note: every garbage body was answered 401/403")) << r.out;
    auto open = check({webchat()});
    EXPECT_FALSE(has(open.out, "answered 401/403")) << open.out;
}

TEST(PluginCheck, RequestFixturesPassWhenTheStatusMatchesAndFailNamingTheFile) {
    TempDir dir;
    dir.write("body.json", kChatBody);
    const std::string stored = dir.write("stored.yaml", "body_file: body.json\nexpect_status: 200\n");
    const std::string subPath = dir.write("sub_path.yaml", "path: /nope?x=1\nbody_file: body.json\nexpect_status: 404\n");
    const std::string get = dir.write("get.yaml", "method: GET\nexpect_status: 405\n");
    auto pass = check({webchat(), "--request", stored, "--request", subPath, "--request", get});
    EXPECT_EQ(pass.exitCode, 0) << pass.out;
    EXPECT_TRUE(has(pass.out, "PASS  request " + stored + " (POST /) is answered 200")) << pass.out;
    EXPECT_TRUE(has(pass.out, "PASS  request " + subPath + " (POST /nope) is answered 404")) << pass.out;
    EXPECT_TRUE(has(pass.out, "PASS  request " + get + " (GET /) is answered 405")) << pass.out;

    // The same request expecting another status: the plugin's real answer is quoted.
    const std::string wrong = dir.write("wrong.yaml", "body_file: body.json\nexpect_status: 202\n");
    auto fail = check({webchat(), "--request", wrong});
    EXPECT_EQ(fail.exitCode, 1) << fail.out;
    const std::string l = line(fail.out, "FAIL  request " + wrong);
    EXPECT_TRUE(has(l, "request file " + wrong + ": expected status 202, got 200")) << fail.out;
    EXPECT_TRUE(has(l, "\"status\":\"stored\"")) << l;
}

TEST(PluginCheck, AMalformedRequestFileIsAUsageErrorNamingTheFileAndField) {
    TempDir dir;
    const std::string typo = dir.write("typo.yaml", "method: POST\nexpected_status: 200\n");
    auto r = check({webchat(), "--request", typo});
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_TRUE(has(r.err, "request file " + typo + ":2: unknown field 'expected_status'")) << r.err;

    const std::string missing = dir.write("missing.yaml", "body_file: absent.json\nexpect_status: 200\n");
    auto m = check({webchat(), "--request", missing});
    EXPECT_EQ(m.exitCode, 2) << m.out;
    EXPECT_TRUE(has(m.err, missing) && has(m.err, "absent.json' cannot be read")) << m.err;

    auto none = check({webchat(), "--request", dir.file("does-not-exist.yaml")});
    EXPECT_EQ(none.exitCode, 2);
    EXPECT_TRUE(has(none.err, "does-not-exist.yaml: cannot be read")) << none.err;
}

// --- status names ---

TEST(PluginCheck, StatusesArePrintedByName) {
    auto r = check({fixture("create_fails")});
    EXPECT_EQ(r.exitCode, 1) << r.out;
    EXPECT_TRUE(has(line(r.out, "FAIL  create with a valid config"), ": FAIL_CONFIG: ")) << r.out;
    EXPECT_FALSE(has(r.out, "status 4")) << r.out;
}

// --- sink mode ---

TEST(PluginCheck, SinkModeReportsEachSendOutcomeAgainstARealEndpoint) {
    HttpEndpoint site;
    const std::vector<std::string> sink = {webchat(), "--option", "secret=webchat-secret-0123", "--option",
                                           "reply_url=" + site.url("/replies"), "--sink"};
    auto ok = check(sink);
    EXPECT_EQ(ok.exitCode, 0) << ok.out;
    EXPECT_TRUE(has(ok.out, "PASS  send a normal text message: OK, provider message id '")) << ok.out;
    EXPECT_TRUE(has(ok.out, "PASS  send a 100 KB text: OK")) << ok.out;
    EXPECT_TRUE(has(ok.out, "PASS  send a non-ASCII text: OK")) << ok.out;
    // webchat refuses an empty reply itself, without a request: FAIL_DATA.
    EXPECT_TRUE(has(ok.out, "PASS  send an empty text: FAIL_DATA: ")) << ok.out;
    auto received = site.received();
    ASSERT_EQ(received.size(), 3u) << ok.out;
    EXPECT_TRUE(std::any_of(received.begin(), received.end(),
                            [](const auto& q) { return has(q.body, "Ol\xc3\xa1! Gr\xc3\xbc\xc3\x9f" "e"); }));

    site.answer({503, R"({"error":"busy"})", {{"Retry-After", "7"}}});
    auto retry = check(sink);
    EXPECT_EQ(retry.exitCode, 0) << retry.out;
    EXPECT_TRUE(has(retry.out, "PASS  send a normal text message: RETRY after 7000ms: ")) << retry.out;

    site.answer({400, R"({"error":"unknown visitor"})", {}});
    auto refused = check(sink);
    EXPECT_TRUE(has(refused.out, "PASS  send a normal text message: FAIL_DATA: ")) << refused.out;
    EXPECT_TRUE(has(refused.out, "unknown visitor")) << refused.out;
}

TEST(PluginCheck, SinkModeStopsAfterFailFatalAndMasksTheSecretTheReasonQuotes) {
    TempDir dir;
    const std::string revoked = dir.write("revoked", "");
    const std::string key = "sk-live-0123456789";
    auto r = check({fixture("flaky_sink"), "--option", "revoked_file=" + revoked, "--option", "api_key=" + key});
    EXPECT_EQ(r.exitCode, 0) << r.out;  // FAIL_FATAL is a documented outcome
    EXPECT_TRUE(has(r.out, "PASS  send a normal text message: FAIL_FATAL: flaky_sink: the provider answered 401"))
        << r.out;
    EXPECT_TRUE(has(r.out, "SKIP  send an empty text: not sent")) << r.out;
    EXPECT_TRUE(has(r.out, "(key '***')")) << r.out;
    EXPECT_FALSE(has(r.out + r.err, key)) << r.out;
}

TEST(PluginCheck, SinkModeOnAFixtureSinkSucceedsAndFails) {
    auto ok = check({fixture("flaky_sink")});
    EXPECT_EQ(ok.exitCode, 0) << ok.out;
    // flaky_sink's provider id is "flaky-" + the outbox idempotency key the tool passes.
    EXPECT_TRUE(has(ok.out, "PASS  send a normal text message: OK, provider message id 'flaky-plugin-check-1'"))
        << ok.out;
    auto failing = check({fixture("flaky_sink"), "--option", "fail_first=100", "--option", "fail_mode=retry"});
    EXPECT_TRUE(has(failing.out, "PASS  send a normal text message: RETRY: flaky_sink: failing on purpose")) << failing.out;
    auto skipped = check({fixture("flaky_sink"), "--no-sink"});
    EXPECT_FALSE(has(skipped.out, "send a normal")) << skipped.out;
}

TEST(PluginCheck, SinkRequiredButNotServedFails) {
    auto notSink = check({fixture("slow_webhook"), "--sink"});
    EXPECT_EQ(notSink.exitCode, 1) << notSink.out;
    EXPECT_TRUE(has(notSink.out, "FAIL  sink checks (--sink): the plugin's kind is 'source'")) << notSink.out;

    // webchat without reply_url answers UNSUPPORTED: a note by default, a failure with --sink.
    auto byDefault = check({webchat()});
    EXPECT_EQ(byDefault.exitCode, 0) << byDefault.out;
    EXPECT_TRUE(has(byDefault.out, "send a normal text message: UNSUPPORTED")) << byDefault.out;
    auto required = check({webchat(), "--sink"});
    EXPECT_EQ(required.exitCode, 1) << required.out;
    EXPECT_TRUE(has(required.out, "FAIL  send a normal text message: UNSUPPORTED")) << required.out;
}
