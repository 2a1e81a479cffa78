// Turns one raw RFC 5322 message into the normalized switchboard::Message, with GMime 3.
#pragma once

#include <switchboard/plugin.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace email {

struct ParseOptions {
    std::string channel = "email";
    // Prefix of each attachment's reference: an RFC 5092 IMAP URL of the message
    // ("imap://host/INBOX;UIDVALIDITY=7/;UID=42"); ";SECTION=<part>" is appended. Empty:
    // attachments carry no reference.
    std::string partReferenceBase;
};

struct ParsedMail {
    switchboard::Message message;
    // What GMime found wrong (duplicated headers, bad encoded words, truncation...). The
    // message is still kept; these also go into the attribute "email.parse_warnings".
    std::vector<std::string> warnings;
};

// Never throws for bad input and never drops it: a message GMime cannot make sense of is
// kept with its raw bytes, its text as best-effort UTF-8 and a warning.
ParsedMail parseMail(std::string_view raw, const ParseOptions& options = {});

// The message's stable id: its Message-ID (RFC 5322 3.6.4, without angle brackets), or
// "sha256:<hex of the raw bytes>" when it has none or it is unusable.
std::string fallbackSourceId(std::string_view raw);

// Valid UTF-8 from arbitrary bytes: kept when valid, else read as Windows-1252, else with
// invalid sequences replaced by U+FFFD.
std::string toUtf8(std::string_view bytes);

}  // namespace email
