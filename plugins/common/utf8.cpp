#include "sbcommon/utf8.h"

namespace sbcommon::utf8 {

std::vector<CodePoint> decodeUtf8(std::string_view s) {
    std::vector<CodePoint> out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
        char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
        bool ok = len != 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            ok = (b & 0xC0) == 0x80;
            cp = (cp << 6) | (b & 0x3F);
        }
        static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (ok) ok = cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!ok) {
            out.push_back({kReplacement, s.substr(i, 1)});
            ++i;
            continue;
        }
        out.push_back({cp, s.substr(i, len)});
        i += len;
    }
    return out;
}

void appendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string sanitizedExcerpt(std::string_view text, size_t maxBytes) {
    std::string out;
    bool truncated = false;
    for (const CodePoint& c : decodeUtf8(text)) {
        std::string_view piece = c.bytes;
        if (c.value == kReplacement && c.bytes.size() == 1) piece = "\xEF\xBF\xBD";  // an invalid byte
        else if (c.value < 0x20 || c.value == 0x7F) piece = " ";  // one line, no control characters
        if (piece == " " && (out.empty() || out.back() == ' ')) continue;
        if (out.size() + piece.size() > maxBytes) {
            truncated = true;
            break;
        }
        out += piece;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (truncated) out += "...";
    return out;
}

}  // namespace sbcommon::utf8
