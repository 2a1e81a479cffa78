#include "log/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace switchboard::host;

namespace {

struct Capture {
    std::vector<std::string> lines;
    Capture(LogLevel level, Logger::Format format) {
        Logger::instance().configure(level, format);
        Logger::instance().captureForTesting(&lines);
    }
    ~Capture() {
        Logger::instance().captureForTesting(nullptr);
        Logger::instance().configure(LogLevel::Info, Logger::Format::Text);
    }
};

}  // namespace

TEST(Log, JsonLinesCarryLevelScopeMessageAndFields) {
    Capture c(LogLevel::Info, Logger::Format::Json);
    Logger::instance().write(LogLevel::Warn, "source:webchat:site-chat", "rejected \"request\"\nnext",
                             {{"reason", "bad signature"}});
    ASSERT_EQ(c.lines.size(), 1u);
    auto j = nlohmann::json::parse(c.lines[0]);  // one valid JSON object per line
    EXPECT_EQ(j["level"], "warn");
    EXPECT_EQ(j["scope"], "source:webchat:site-chat");
    EXPECT_EQ(j["msg"], "rejected \"request\"\nnext");
    EXPECT_EQ(j["reason"], "bad signature");
    EXPECT_EQ(j["ts"].get<std::string>().back(), 'Z');
    EXPECT_EQ(c.lines[0].find('\n'), std::string::npos);
}

TEST(Log, TextLinesNameTheInstanceAndLevelsFilter) {
    Capture c(LogLevel::Warn, Logger::Format::Text);
    Logger::instance().write(LogLevel::Info, "x", "dropped");
    Logger::instance().write(LogLevel::Error, "sink:email:outbound", "send failed", {{"code", "550"}});
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_NE(c.lines[0].find(" error [sink:email:outbound] send failed code=550"), std::string::npos) << c.lines[0];
    EXPECT_FALSE(Logger::instance().enabled(LogLevel::Debug));
}

TEST(Log, InvalidUtf8NeverBreaksAJsonLine) {
    Capture c(LogLevel::Info, Logger::Format::Json);
    Logger::instance().write(LogLevel::Info, "", std::string("bad \xff byte"));
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_TRUE(nlohmann::json::accept(c.lines[0])) << c.lines[0];
}
