// Builds the RFC 5322 text of an outbound message with GMime.
#pragma once

#include <switchboard/plugin.hpp>

#include <string>
#include <vector>

namespace email {

struct OutboundMail {
    std::string fromAddress;
    std::string fromName;
    std::vector<std::string> to;
    std::string subject;
    std::string text;
    std::string html;  // optional: with it the body is multipart/alternative
    std::string messageId;                // without angle brackets
    std::string inReplyTo;                // without angle brackets; may be empty
    std::vector<std::string> references;  // oldest first, without angle brackets
};

// CRLF line ends, MIME-Version, Date (now), Message-ID, RFC 2047 encoded Subject and names,
// each body part in the transfer encoding that fits 7-bit transport (quoted-printable or
// base64, RFC 2045 6).
std::string composeMail(const OutboundMail& mail);

// "<32 hex>@<domain of fromAddress>": derived from key when given (so a resend of the same
// outbox entry carries the same Message-ID and receivers can drop the copy), else random.
std::string makeMessageId(const std::string& fromAddress, const std::string& key);

}  // namespace email
