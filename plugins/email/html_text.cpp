#include "html_text.h"

#include <sbcommon/utf8.h>

#include <cctype>
#include <cstdint>
#include <iterator>
#include <string>

namespace email {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A character reference may name anything: NUL, a surrogate or past U+10FFFF become U+FFFD.
void appendUtf8(std::string& out, uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    sbcommon::utf8::appendUtf8(out, static_cast<char32_t>(cp));
}

// Decodes the character reference starting at html[i] == '&'; returns how many bytes it used
// (0: not a reference, emit '&' as is).
size_t decodeReference(std::string_view html, size_t i, std::string& out) {
    const size_t end = html.find(';', i);
    if (end == std::string_view::npos || end - i > 12) return 0;
    const std::string_view name = html.substr(i + 1, end - i - 1);
    if (name.size() > 1 && name[0] == '#') {
        uint32_t cp = 0;
        const bool hex = name[1] == 'x' || name[1] == 'X';
        for (size_t k = hex ? 2 : 1; k < name.size(); ++k) {
            const char c = name[k];
            int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                        : hex && std::isxdigit(static_cast<unsigned char>(c))
                            ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                            : -1;
            if (digit < 0) return 0;
            cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(digit);
            if (cp > 0x10FFFF) cp = 0x110000;  // clamp; replaced below
        }
        appendUtf8(out, cp);
        return end - i + 1;
    }
    static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
        {"copy", "\xC2\xA9"}, {"reg", "\xC2\xAE"}, {"euro", "\xE2\x82\xAC"}, {"hellip", "\xE2\x80\xA6"},
        {"mdash", "\xE2\x80\x94"}, {"ndash", "\xE2\x80\x93"}, {"rsquo", "\xE2\x80\x99"}, {"lsquo", "\xE2\x80\x98"},
        {"ldquo", "\xE2\x80\x9C"}, {"rdquo", "\xE2\x80\x9D"}};
    for (const auto& [n, v] : kNamed)
        if (name == n) {
            out += v;
            return end - i + 1;
        }
    // The HTML 4 Latin-1 entities name U+00A0..U+00FF in order.
    static constexpr std::string_view kLatin1[] = {
        "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo",
        "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
        "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",
        "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute",
        "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash",
        "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde",
        "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc",
        "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave",
        "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml"};
    for (size_t k = 0; k < std::size(kLatin1); ++k)
        if (name == kLatin1[k]) {
            appendUtf8(out, static_cast<uint32_t>(0xA0 + k));
            return end - i + 1;
        }
    return 0;
}

bool isBlockTag(const std::string& tag) {
    static constexpr std::string_view kBlocks[] = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4",
                                                   "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr"};
    for (auto b : kBlocks)
        if (tag == b) return true;
    return false;
}

// Collapses runs of spaces and more than one blank line; trims the ends.
std::string tidy(const std::string& in) {
    std::string out;
    int newlines = 0;
    bool space = false;
    for (char c : in) {
        if (c == '\n') {
            space = false;
            if (++newlines <= 2 && !out.empty()) out += '\n';
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            space = true;
            continue;
        }
        if (space && !out.empty() && out.back() != '\n') out += ' ';
        space = false;
        newlines = 0;
        out += c;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

}  // namespace

std::string htmlToText(std::string_view html) {
    std::string out;
    out.reserve(html.size());
    size_t i = 0;
    while (i < html.size()) {
        const char c = html[i];
        if (c == '<') {
            if (html.substr(i, 4) == "<!--") {
                const size_t end = html.find("-->", i + 4);
                i = end == std::string_view::npos ? html.size() : end + 3;
                continue;
            }
            const size_t end = html.find('>', i);
            if (end == std::string_view::npos) break;
            std::string_view inside = html.substr(i + 1, end - i - 1);
            const bool closing = !inside.empty() && inside[0] == '/';
            if (closing) inside.remove_prefix(1);
            size_t n = 0;
            while (n < inside.size() && std::isalnum(static_cast<unsigned char>(inside[n]))) ++n;
            const std::string tag = lower(inside.substr(0, n));
            i = end + 1;
            if (!closing && (tag == "script" || tag == "style" || tag == "head" || tag == "title")) {
                const std::string closer = "</" + tag;
                const std::string rest = lower(html.substr(i));
                const size_t close = rest.find(closer);
                if (close == std::string::npos) break;
                const size_t gt = rest.find('>', close);
                i += gt == std::string::npos ? rest.size() : gt + 1;
                continue;
            }
            if (isBlockTag(tag)) out += '\n';
            if (!closing && tag == "li") out += "- ";
            continue;
        }
        if (c == '&') {
            if (size_t used = decodeReference(html, i, out)) {
                i += used;
                continue;
            }
        }
        out += c == '\n' ? ' ' : c;
        ++i;
    }
    return tidy(out);
}

}  // namespace email
