// Shared SMS logic for the SMS connectors (Kannel, Twilio, ...): which alphabet a text needs,
// how many segments it costs, how to split it, and what an inbound keyword means. Plain C++17,
// no dependencies; a static library (target sbcommon) the plugins link, never the host.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbcommon::sms {

// GSM 03.38 7-bit default alphabet, or UCS-2 (UTF-16) for anything outside it.
enum class Encoding { Gsm7, Ucs2 };

const char* encodingName(Encoding encoding);  // "gsm7", "ucs2"

// What a text costs on the air.
struct Measure {
    Encoding encoding = Encoding::Gsm7;
    // GSM-7: septets (extension-table characters such as € and { count 2);
    // UCS-2: UTF-16 code units (a character outside the BMP, e.g. most emoji, counts 2).
    size_t units = 0;
    // 1 when it fits one SMS (160 septets / 70 units), else the parts of a concatenated SMS
    // (153 / 67 each: the concatenation header takes the rest). 1 for empty text.
    size_t segments = 1;
};

// Per-segment capacities (in Measure::units).
inline constexpr size_t kGsm7Single = 160, kGsm7Part = 153, kUcs2Single = 70, kUcs2Part = 67;

// Invalid UTF-8 bytes count as U+FFFD, which needs UCS-2.
Encoding encodingFor(std::string_view utf8);
Measure measure(std::string_view utf8);

// The text cut into the parts of a concatenated SMS, in UTF-8, each within its segment's
// capacity; one part when it fits a single SMS. Never cuts a UTF-8 sequence, a surrogate
// pair (a character outside the BMP stays whole) or a GSM-7 escape sequence (an extension
// character stays whole). Empty text gives no parts.
std::vector<std::string> split(std::string_view utf8);

// UTF-16BE bytes of the text (UCS-2 payloads, e.g. Kannel's charset=UTF-16BE).
std::string toUtf16Be(std::string_view utf8);
// UTF-8 from UTF-16BE bytes (what a gateway hands over for UCS-2 text); a lone surrogate or an
// odd trailing byte becomes U+FFFD.
std::string fromUtf16Be(std::string_view utf16be);

// What an inbound text means when it is one of the carrier-standard keywords.
enum class Keyword { None, OptOut, OptIn, Help };

// Case-insensitive, surrounding whitespace ignored, whole message only ("STOP please" is not a
// keyword), as Twilio documents its default keyword handling:
//   opt out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT
//   opt in:  START, YES, UNSTOP
//   help:    HELP, INFO
Keyword classifyKeyword(std::string_view text);
const char* keywordName(Keyword keyword);  // "none", "opt_out", "opt_in", "help"

// The consent change a keyword asks for, in the terms of the SDK's report_consent: STOP
// withdraws every purpose (purpose ""), START restores service messages only (marketing needs
// an explicit opt-in of its own). evidence is "sms " + the keyword as sent, upper-cased and
// trimmed ("sms STOP"). nullopt for any text that is not an opt-out or opt-in keyword.
struct KeywordConsent {
    std::string purpose;  // "" (every purpose) or "service"
    std::string status;   // "opted_out" or "opted_in"
    std::string evidence;
    bool optOut() const { return status == "opted_out"; }
};
std::optional<KeywordConsent> consentOfKeyword(std::string_view text);

}  // namespace sbcommon::sms
