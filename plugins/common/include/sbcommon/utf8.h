// UTF-8 <-> code points, shared by the bundled connectors (the SMS library's alphabet and
// segment logic, log-safe excerpts of providers' answers) so each does not carry its own decoder. Linked
// statically into plugins (target sbcommon); not part of the installed SDK.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sbcommon::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// One decoded character and the bytes it took in the input.
struct CodePoint {
    char32_t value;
    std::string_view bytes;
};

// Invalid or overlong sequences, surrogates and values past U+10FFFF become U+FFFD, one byte
// each (so an invalid byte is {kReplacement, 1 byte}; a real U+FFFD in the input takes 3).
std::vector<CodePoint> decodeUtf8(std::string_view utf8);
void appendUtf8(std::string& out, char32_t cp);

// A provider's answer (or any untrusted text) made safe for logs and error messages:
// printable, one line (control characters become one space), valid UTF-8 (an invalid byte
// becomes U+FFFD), at most maxBytes, plus "..." when cut.
std::string sanitizedExcerpt(std::string_view text, size_t maxBytes = 200);

}  // namespace sbcommon::utf8
