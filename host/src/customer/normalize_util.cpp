#include "customer/normalize_util.h"

namespace switchboard::host::customer::detail {

std::string_view trim(std::string_view text) {
    while (!text.empty() && isAsciiSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isAsciiSpace(text.back())) text.remove_suffix(1);
    return text;
}

std::string toLower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && toLower(text.substr(0, prefix.size())) == toLower(prefix);
}

bool isValidUtf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t len = 0;
        char32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > text.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        static constexpr char32_t minForLength[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < minForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

std::string matchKey(IdentityType type, std::string_view scope, std::string_view normalized) {
    std::string key = identityTypeName(type);
    key += '|';
    for (char c : scope) {
        if (c == '%') {
            key += "%25";
        } else if (c == '|') {
            key += "%7C";
        } else {
            key += c;
        }
    }
    key += '|';
    key += normalized;
    return key;
}

NormalizedIdentity matchable(IdentityType type, std::string_view scope, std::string_view raw,
                             std::string normalized) {
    NormalizedIdentity id;
    id.type = type;
    id.scope = std::string(scope);
    id.raw = std::string(raw);
    id.matchKey = matchKey(type, scope, normalized);
    id.normalized = std::move(normalized);
    return id;
}

NormalizedIdentity flagged(IdentityType type, std::string_view scope, std::string_view raw,
                           std::string flag) {
    NormalizedIdentity id = matchable(type, scope, raw, std::string(raw));
    id.matchable = false;
    id.flag = std::move(flag);
    return id;
}

}  // namespace switchboard::host::customer::detail
