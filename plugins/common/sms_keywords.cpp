// Carrier-standard keywords. The lists are Twilio's default handling, as documented in
// "Twilio support for opt-out keywords (SMS STOP filtering)",
// https://help.twilio.com/articles/223134027 (and the older FAQ
// https://www.twilio.com/help/faq/sms/does-twilio-support-stop-block-and-cancel-aka-sms-filtering):
// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END and QUIT opt out; START, YES and UNSTOP opt back in;
// HELP and INFO ask for help. Only a single-word message counts ("STOP PLEASE" does not).
#include "sbcommon/sms.h"

#include <algorithm>
#include <array>

namespace sbcommon::sms {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string trimmedUpper(std::string_view text) {
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    std::string out(text);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

template <size_t N>
bool oneOf(const std::string& word, const std::array<std::string_view, N>& list) {
    return std::find(list.begin(), list.end(), word) != list.end();
}

constexpr std::array<std::string_view, 6> kOptOut = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"};
constexpr std::array<std::string_view, 3> kOptIn = {"START", "YES", "UNSTOP"};
constexpr std::array<std::string_view, 2> kHelp = {"HELP", "INFO"};

}  // namespace

Keyword classifyKeyword(std::string_view text) {
    const std::string word = trimmedUpper(text);
    if (oneOf(word, kOptOut)) return Keyword::OptOut;
    if (oneOf(word, kOptIn)) return Keyword::OptIn;
    if (oneOf(word, kHelp)) return Keyword::Help;
    return Keyword::None;
}

const char* keywordName(Keyword keyword) {
    switch (keyword) {
        case Keyword::OptOut: return "opt_out";
        case Keyword::OptIn: return "opt_in";
        case Keyword::Help: return "help";
        case Keyword::None: break;
    }
    return "none";
}

std::optional<KeywordConsent> consentOfKeyword(std::string_view text) {
    const Keyword keyword = classifyKeyword(text);
    if (keyword == Keyword::OptOut) return KeywordConsent{"", "opted_out", "sms " + trimmedUpper(text)};
    if (keyword == Keyword::OptIn) return KeywordConsent{"service", "opted_in", "sms " + trimmedUpper(text)};
    return std::nullopt;
}

}  // namespace sbcommon::sms
