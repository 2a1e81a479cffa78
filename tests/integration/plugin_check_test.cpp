// switchboard-plugin-check: the conformance kit connector authors run on their plugin.
// Under the asan preset the tool itself runs sanitized, so a plugin's leaks and memory
// errors fail these tests too.
#include "test_support.h"

#include <gtest/gtest.h>

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
