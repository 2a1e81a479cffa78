// The shared SMS library (sdk/sms): GSM 03.38 vs UCS-2, segment counts at the documented
// limits (160/153 septets, 70/67 UTF-16 units), splitting that keeps escape sequences and
// surrogate pairs whole, and the carrier keywords Twilio documents.
#include <sbcommon/sms.h>
#include <sbcommon/utf8.h>

#include <gtest/gtest.h>

#include <string>

using namespace sbcommon::sms;

namespace {

std::string repeat(const std::string& s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

}  // namespace

TEST(SmsAlphabet, TheWholeGsmDefaultAlphabetIsSevenBit) {
    const std::string basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
        "abcdefghijklmnopqrstuvwxyzäöñüà";
    Measure m = measure(basic);
    EXPECT_EQ(m.encoding, Encoding::Gsm7);
    EXPECT_EQ(m.units, 127u);  // 128 positions minus the escape
}

TEST(SmsAlphabet, ExtensionCharactersCostTwoSeptets) {
    Measure m = measure("^{}\\[~]|€\f");
    EXPECT_EQ(m.encoding, Encoding::Gsm7);
    EXPECT_EQ(m.units, 20u);
    EXPECT_EQ(measure("Price: 5€").units, 10u);
}

TEST(SmsAlphabet, AnythingOutsideGsmNeedsUcs2) {
    EXPECT_EQ(encodingFor("Olá, tudo bem?"), Encoding::Ucs2);  // á is not in GSM 03.38 (à is)
    EXPECT_EQ(encodingFor("你好"), Encoding::Ucs2);
    EXPECT_EQ(encodingFor("back`tick"), Encoding::Ucs2);       // ASCII, yet not GSM
    EXPECT_EQ(encodingFor("ça va"), Encoding::Ucs2);            // only capital Ç is GSM
    EXPECT_EQ(encodingFor("Ça va à Zürich"), Encoding::Gsm7);
    EXPECT_EQ(encodingFor("bad \xff byte"), Encoding::Ucs2);    // invalid UTF-8 is U+FFFD
    EXPECT_EQ(measure("你好").units, 2u);
    EXPECT_EQ(measure("😀").units, 2u);  // outside the BMP: a surrogate pair
}

TEST(SmsSegments, GsmLimitsAre160And153) {
    EXPECT_EQ(measure("").segments, 1u);
    EXPECT_EQ(measure(repeat("a", 160)).segments, 1u);
    EXPECT_EQ(measure(repeat("a", 161)).segments, 2u);
    EXPECT_EQ(measure(repeat("a", 306)).segments, 2u);
    EXPECT_EQ(measure(repeat("a", 307)).segments, 3u);
    EXPECT_EQ(measure(repeat("€", 80)).segments, 1u);   // 160 septets
    EXPECT_EQ(measure(repeat("€", 81)).segments, 2u);   // 162 septets
}

TEST(SmsSegments, Ucs2LimitsAre70And67) {
    EXPECT_EQ(measure(repeat("á", 70)).segments, 1u);
    EXPECT_EQ(measure(repeat("á", 71)).segments, 2u);
    EXPECT_EQ(measure(repeat("你", 134)).segments, 2u);
    EXPECT_EQ(measure(repeat("你", 135)).segments, 3u);
    EXPECT_EQ(measure(repeat("😀", 35)).segments, 1u);  // 70 units
    EXPECT_EQ(measure(repeat("😀", 36)).segments, 2u);
}

TEST(SmsSplit, PartsFitAndJoinBackToTheText) {
    const std::string text = repeat("0123456789", 40);  // 400 septets
    auto parts = split(text);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].size(), 153u);
    EXPECT_EQ(parts[1].size(), 153u);
    EXPECT_EQ(parts[0] + parts[1] + parts[2], text);
    EXPECT_EQ(split("short"), std::vector<std::string>{"short"});
    EXPECT_TRUE(split("").empty());
}

TEST(SmsSplit, NeverCutsAnEscapeSequence) {
    // 152 septets then € (2 septets) does not fit the 153 of the first part: it moves whole.
    const std::string text = repeat("a", 152) + "€" + repeat("b", 10);
    auto parts = split(text);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0], repeat("a", 152));
    EXPECT_EQ(parts[1], "€" + repeat("b", 10));
    for (const auto& p : split(repeat("€", 100))) EXPECT_LE(measure(p).units, kGsm7Part);
}

TEST(SmsSplit, NeverCutsASurrogatePair) {
    const std::string text = repeat("á", 66) + "😀" + repeat("é", 10);  // 78 units
    auto parts = split(text);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0], repeat("á", 66));
    EXPECT_EQ(parts[1], "😀" + repeat("é", 10));
    const std::string chinese = repeat("你好世界", 40);  // 160 units
    auto zh = split(chinese);
    ASSERT_EQ(zh.size(), 3u);
    std::string joined;
    for (const auto& p : zh) {
        EXPECT_LE(measure(p).units, kUcs2Part);
        joined += p;
    }
    EXPECT_EQ(joined, chinese);
}

TEST(SmsUtf16, RoundTripsThroughUtf16BigEndian) {
    EXPECT_EQ(toUtf16Be("Olá"), std::string("\x00O\x00l\x00\xe1", 6));
    EXPECT_EQ(toUtf16Be("😀"), std::string("\xd8\x3d\xde\x00", 4));
    EXPECT_EQ(fromUtf16Be(toUtf16Be("Olá 你好 😀")), "Olá 你好 😀");
    EXPECT_EQ(fromUtf16Be(std::string("\xd8\x3d\x00\x41", 4)), "\xEF\xBF\xBD" "A");  // lone surrogate
}

TEST(SmsKeywords, TwilioDefaultKeywordsWholeMessageOnly) {
    for (const char* w : {"STOP", "stop", " Stop \n", "STOPALL", "unsubscribe", "Cancel", "END", "quit"})
        EXPECT_EQ(classifyKeyword(w), Keyword::OptOut) << w;
    for (const char* w : {"START", "yes", "Unstop"}) EXPECT_EQ(classifyKeyword(w), Keyword::OptIn) << w;
    for (const char* w : {"HELP", "info "}) EXPECT_EQ(classifyKeyword(w), Keyword::Help) << w;
    for (const char* w : {"", "STOP PLEASE", "please stop", "stopp", "yes!", "hello"})
        EXPECT_EQ(classifyKeyword(w), Keyword::None) << w;
    EXPECT_STREQ(keywordName(Keyword::OptOut), "opt_out");
}

TEST(SmsKeywords, ConsentOfAKeywordIsWhatEveryConnectorRecords) {
    auto stop = consentOfKeyword(" stop\n");
    ASSERT_TRUE(stop);
    EXPECT_TRUE(stop->optOut());
    EXPECT_EQ(stop->purpose, "");  // every purpose
    EXPECT_EQ(stop->status, "opted_out");
    EXPECT_EQ(stop->evidence, "sms STOP");
    auto start = consentOfKeyword("Unstop");
    ASSERT_TRUE(start);
    EXPECT_EQ(start->purpose, "service");  // marketing needs an opt-in of its own
    EXPECT_EQ(start->status, "opted_in");
    EXPECT_EQ(start->evidence, "sms UNSTOP");
    EXPECT_FALSE(consentOfKeyword("HELP"));
    EXPECT_FALSE(consentOfKeyword("stop it"));
}

TEST(PluginText, ExcerptsOfProviderAnswersAreOneLineValidAndShort) {
    using sbcommon::utf8::sanitizedExcerpt;
    EXPECT_EQ(sanitizedExcerpt("Bad\r\n\r\nRequest\t: olá"), "Bad Request : olá");
    EXPECT_EQ(sanitizedExcerpt(std::string("a\xff" "b", 3)), "a\xEF\xBF\xBD" "b");  // invalid byte -> U+FFFD
    EXPECT_EQ(sanitizedExcerpt(std::string(500, 'x'), 10), std::string(10, 'x') + "...");
    EXPECT_EQ(sanitizedExcerpt("ééé", 5), "éé...");  // never cuts a character in half
    EXPECT_EQ(sanitizedExcerpt("  \n "), "");
}
