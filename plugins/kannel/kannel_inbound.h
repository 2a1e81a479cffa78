// What Kannel's smsbox sends us: mobile-originated messages through an sms-service get-url,
// and delivery reports through the dlr-url we put on each sendsms request.
#pragma once

#include <switchboard/plugin.hpp>
#include <sbcommon/sms.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kannel {

// The get-url parameters this connector reads. The names are ours: the admin writes them
// into the smsbox sms-service's get-url with Kannel's escape codes (Kannel user guide,
// "SMS Service configuration", table "Parameters (Escape Codes)"):
//   from=%p  to=%P  text=%b  coding=%c  charset=%C  time=%T  smsc=%i  id=%I
// %b (the message as sent, url-encoded bytes) with %c/%C is used instead of %a: %a recodes
// UCS-2 text and corrupts it.
struct MoMessage {
    switchboard::Message message;
    sbcommon::sms::Keyword keyword = sbcommon::sms::Keyword::None;
};

// Builds the message; on failure returns why (a missing parameter, by name).
std::optional<std::string> parseMo(const std::map<std::string, std::string>& params, std::string_view rawQuery,
                                   const std::string& channel, MoMessage& out);

// The text as UTF-8 from Kannel's bytes, per %c (0: 7-bit, already recoded by Kannel to %C;
// 1: 8-bit binary; 2: UCS-2) and %C ("UTF-8", "UTF-16BE", ...). Binary data gives nullopt.
std::optional<std::string> decodeText(const std::string& bytes, std::string_view coding, std::string_view charset);

// Kannel's DLR type (%d, the dlr-mask bit that fired: Kannel user guide, sendsms "dlr-mask"):
// 1 delivered to phone, 2 non-delivered to phone, 4 queued on SMSC, 8 delivered to SMSC,
// 16 non-delivered to SMSC. nullopt for anything else.
std::optional<sb_delivery_status> dlrStatus(std::string_view type);

}  // namespace kannel
