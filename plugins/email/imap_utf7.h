// International mailbox names on the wire: IMAP's modified UTF-7 (RFC 3501 5.1.3).
// Users write names in UTF-8 ("Über/Входящие"); commands and libcurl URLs carry them encoded.
#pragma once

#include <string>

namespace email {

// "Über & Co" -> "&ANw-ber &- Co". Printable ASCII stays as it is ("&" becomes "&-"), every
// other run is UTF-16BE in base64 with ',' for '/', between '&' and '-'.
// Throws std::invalid_argument when utf8 is not valid UTF-8.
std::string encodeMailboxName(const std::string& utf8);

}  // namespace email
