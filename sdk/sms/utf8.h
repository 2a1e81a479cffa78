// UTF-8 <-> code points for the SMS library (internal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sms::detail {

inline constexpr char32_t kReplacement = 0xFFFD;

// One decoded character and the bytes it took in the input.
struct CodePoint {
    char32_t value;
    std::string_view bytes;
};

// Invalid or overlong sequences, surrogates and values past U+10FFFF become U+FFFD, one byte each.
std::vector<CodePoint> decodeUtf8(std::string_view utf8);
void appendUtf8(std::string& out, char32_t cp);

}  // namespace switchboard::sms::detail
