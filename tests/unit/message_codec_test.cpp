#include "runtime/message_codec.h"

#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace switchboard::host;

namespace {

sb_str s(const char* text) { return sb_str{text, std::strlen(text)}; }

sb_message base(const sb_identity* ids, size_t n) {
    sb_message m{};
    m.struct_size = sizeof m;
    m.channel = s("webchat");
    m.source_id = s("id-1");
    m.sender = ids;
    m.sender_count = n;
    m.text = s("olá");
    return m;
}

}  // namespace

TEST(MessageCodec, DecodesEveryFieldIntoTheRecord) {
    sb_identity ids[] = {{sizeof(sb_identity), s("email"), s("Ana@Example.com"), {}},
                         {sizeof(sb_identity), s("external"), s("shop:42"), s("site-1")}};
    sb_message m = base(ids, 2);
    sb_kv attrs[] = {{s("locale"), s("pt-PT")}};
    m.attributes = attrs;
    m.attribute_count = 1;
    m.occurred_at_ms = 1700000000000;
    MessageRecord r;
    ASSERT_EQ(decodeMessage(m, "chat", 5, r), "");
    EXPECT_EQ(r.sourceId, "id-1");
    EXPECT_EQ(r.connector, "chat");
    EXPECT_EQ(r.receivedAtMs, 5);
    auto j = nlohmann::json::parse(r.normalizedJson);
    EXPECT_EQ(j["sender"][1]["scope"], "site-1");
    EXPECT_EQ(j["sender"][0]["value"], "Ana@Example.com");  // raw; normalized later
    EXPECT_EQ(j["attributes"]["locale"], "pt-PT");
    EXPECT_EQ(j["occurred_at_ms"], 1700000000000);
}

TEST(MessageCodec, NamesTheFieldThatIsWrong) {
    sb_identity badType[] = {{sizeof(sb_identity), s("fax"), s("123"), {}}};
    MessageRecord r;
    EXPECT_EQ(decodeMessage(base(badType, 1), "c", 0, r).rfind("sender[0].type", 0), 0u);

    sb_identity noSystem[] = {{sizeof(sb_identity), s("external"), s("42"), {}}};
    EXPECT_EQ(decodeMessage(base(noSystem, 1), "c", 0, r).rfind("sender[0].value", 0), 0u);

    sb_message noId = base(nullptr, 0);
    noId.source_id = {};
    EXPECT_EQ(decodeMessage(noId, "c", 0, r).rfind("source_id", 0), 0u);

    sb_message badUtf8 = base(nullptr, 0);
    badUtf8.text = sb_str{"\xc3\x28", 2};
    EXPECT_EQ(decodeMessage(badUtf8, "c", 0, r), "text: is not valid UTF-8");

    sb_message nullArray = base(nullptr, 3);
    EXPECT_NE(decodeMessage(nullArray, "c", 0, r).find("sender"), std::string::npos);

    sb_message tooSmall = base(nullptr, 0);
    tooSmall.struct_size = 8;
    EXPECT_NE(decodeMessage(tooSmall, "c", 0, r).find("struct_size"), std::string::npos);
}

TEST(MessageCodec, Utf8Validation) {
    EXPECT_TRUE(isValidUtf8("plain"));
    EXPECT_TRUE(isValidUtf8("中文 Ολά 😀"));
    EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(isValidUtf8("\xe4\xb8"));          // truncated
}
