// GSM 03.38 alphabet detection, segment counting and splitting.
// Tables: 3GPP TS 23.038 §6.2.1 (default alphabet) and §6.2.1.1 (extension table, reached
// through the escape 0x1B, so each extension character costs two septets).
#include "sbcommon/sms.h"

#include <sbcommon/utf8.h>

#include <algorithm>

namespace sbcommon::sms {

namespace {

using utf8::CodePoint;

// The 128 characters of the default alphabet, by code point (0x1B, the escape, is not one).
constexpr char32_t kBasic[] = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à',
};
static_assert(sizeof(kBasic) / sizeof(kBasic[0]) == 127, "GSM 03.38 default alphabet minus the escape");

// The extension table's characters (form feed, ^ { } \ [ ~ ] | €).
constexpr char32_t kExtension[] = {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

// Septets one character costs in GSM-7: 1, 2 (extension), or 0 when it is not representable.
int septets(char32_t cp) {
    if (std::find(std::begin(kBasic), std::end(kBasic), cp) != std::end(kBasic)) return 1;
    if (std::find(std::begin(kExtension), std::end(kExtension), cp) != std::end(kExtension)) return 2;
    return 0;
}

// Units one character costs in the given encoding.
size_t unitsOf(char32_t cp, Encoding e) {
    if (e == Encoding::Gsm7) return static_cast<size_t>(septets(cp));
    return cp > 0xFFFF ? 2 : 1;  // a surrogate pair
}

Encoding encodingOf(const std::vector<CodePoint>& cps) {
    for (const auto& c : cps)
        if (septets(c.value) == 0) return Encoding::Ucs2;
    return Encoding::Gsm7;
}

}  // namespace

const char* encodingName(Encoding encoding) { return encoding == Encoding::Gsm7 ? "gsm7" : "ucs2"; }

Encoding encodingFor(std::string_view utf8) { return encodingOf(utf8::decodeUtf8(utf8)); }

Measure measure(std::string_view utf8) {
    const auto cps = utf8::decodeUtf8(utf8);
    Measure m;
    m.encoding = encodingOf(cps);
    for (const auto& c : cps) m.units += unitsOf(c.value, m.encoding);
    const bool gsm = m.encoding == Encoding::Gsm7;
    const size_t single = gsm ? kGsm7Single : kUcs2Single;
    if (m.units > single) m.segments = split(utf8).size();  // boundaries may waste a unit
    return m;
}

std::vector<std::string> split(std::string_view utf8) {
    const auto cps = utf8::decodeUtf8(utf8);
    std::vector<std::string> parts;
    if (cps.empty()) return parts;
    const Encoding e = encodingOf(cps);
    size_t total = 0;
    for (const auto& c : cps) total += unitsOf(c.value, e);
    const bool gsm = e == Encoding::Gsm7;
    if (total <= (gsm ? kGsm7Single : kUcs2Single)) return {std::string(utf8)};
    const size_t capacity = gsm ? kGsm7Part : kUcs2Part;
    std::string current;
    size_t used = 0;
    for (const auto& c : cps) {
        const size_t cost = unitsOf(c.value, e);
        // A character that does not fit whole starts the next part: an escape sequence or a
        // surrogate pair is never cut in two.
        if (used + cost > capacity) {
            parts.push_back(std::move(current));
            current.clear();
            used = 0;
        }
        if (c.value == utf8::kReplacement && c.bytes.size() == 1 && static_cast<unsigned char>(c.bytes[0]) >= 0x80)
            utf8::appendUtf8(current, utf8::kReplacement);  // never copy invalid bytes into a part
        else
            current.append(c.bytes);
        used += cost;
    }
    if (!current.empty()) parts.push_back(std::move(current));
    return parts;
}

std::string toUtf16Be(std::string_view utf8) {
    std::string out;
    auto put = [&](char32_t unit) {
        out += static_cast<char>((unit >> 8) & 0xFF);
        out += static_cast<char>(unit & 0xFF);
    };
    for (const auto& c : utf8::decodeUtf8(utf8)) {
        if (c.value > 0xFFFF) {
            const char32_t v = c.value - 0x10000;
            put(0xD800 + (v >> 10));
            put(0xDC00 + (v & 0x3FF));
        } else {
            put(c.value);
        }
    }
    return out;
}

std::string fromUtf16Be(std::string_view b) {
    std::string out;
    size_t i = 0;
    auto unit = [&](size_t at) {
        return static_cast<char32_t>((static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]));
    };
    while (i + 1 < b.size()) {
        const char32_t u = unit(i);
        i += 2;
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < b.size()) {
            const char32_t low = unit(i);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                i += 2;
                utf8::appendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
                continue;
            }
        }
        utf8::appendUtf8(out, (u >= 0xD800 && u <= 0xDFFF) ? utf8::kReplacement : u);
    }
    if (i < b.size()) utf8::appendUtf8(out, utf8::kReplacement);
    return out;
}

}  // namespace sbcommon::sms
