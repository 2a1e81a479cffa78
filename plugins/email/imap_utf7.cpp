#include "imap_utf7.h"

#include <glib.h>

#include <memory>
#include <stdexcept>

namespace email {
namespace {

// Modified base64 (RFC 3501 5.1.3): ',' instead of '/', no padding.
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

void appendShifted(std::string& out, const std::u16string& units) {
    std::string bytes;
    for (char16_t u : units) {
        bytes += static_cast<char>(u >> 8);
        bytes += static_cast<char>(u & 0xff);
    }
    out += '&';
    uint32_t bits = 0;
    int count = 0;
    for (unsigned char b : bytes) {
        bits = (bits << 8) | b;
        count += 8;
        while (count >= 6) {
            count -= 6;
            out += kAlphabet[(bits >> count) & 0x3f];
        }
    }
    if (count > 0) out += kAlphabet[(bits << (6 - count)) & 0x3f];
    out += '-';
}

}  // namespace

std::string encodeMailboxName(const std::string& utf8) {
    // GLib validates the UTF-8 and gives UTF-16 with surrogate pairs, as the encoding wants.
    glong length = 0;
    std::unique_ptr<gunichar2, decltype(&g_free)> utf16(
        g_utf8_to_utf16(utf8.data(), static_cast<glong>(utf8.size()), nullptr, &length, nullptr), &g_free);
    if (!utf16) throw std::invalid_argument("'" + utf8 + "' is not valid UTF-8");
    std::string out;
    std::u16string run;  // the current stretch of characters that need base64
    for (glong i = 0; i < length; ++i) {
        const char16_t u = utf16.get()[i];
        if (u >= 0x20 && u <= 0x7e) {
            if (!run.empty()) appendShifted(out, run);
            run.clear();
            out += u == '&' ? std::string("&-") : std::string(1, static_cast<char>(u));
        } else {
            run += u;
        }
    }
    if (!run.empty()) appendShifted(out, run);
    return out;
}

}  // namespace email
