// What Vonage's SMS API webhooks carry, read from their parameters.
//   Inbound SMS: https://developer.vonage.com/en/messaging/sms/guides/inbound-sms
//   (msisdn, to, messageId, type text|unicode|binary, text, keyword, message-timestamp,
//   timestamp, nonce, sig; concat, concat-ref, concat-total, concat-part for long messages;
//   data and udh for binary ones).
//   Delivery receipts: https://developer.vonage.com/en/messaging/sms/guides/delivery-receipts
//   (messageId, msisdn, to, network-code, price, status, scts, err-code, client-ref,
//   message-timestamp).
#pragma once

#include "vonage_params.h"

#include <switchboard/plugin.h>

#include <cstdint>
#include <optional>
#include <string>

namespace vonage {

struct ConcatInfo {
    std::string ref;  // concat-ref: the handset's reference, shared by the parts
    int total = 0;    // concat-total
    int part = 0;     // concat-part, 1-based
};

struct InboundSms {
    std::string messageId;
    std::string from;  // E.164 with '+' when msisdn is a number
    std::string to;    // our number, E.164 with '+' when numeric
    std::string type;  // "text", "unicode" or "binary"
    std::string text;  // UTF-8 ("" for binary)
    int64_t occurredAtMs = 0;
    std::optional<ConcatInfo> concat;
};

// nullopt with *why set when a required field is missing or malformed.
std::optional<InboundSms> readInboundSms(const Params& params, std::string* why);

struct DeliveryReceipt {
    std::string messageId;
    std::string status;   // Vonage's word: delivered, expired, failed, rejected, accepted, buffered, unknown
    std::string errCode;  // "0" when none
    std::string scts;     // YYMMDDHHMM from the carrier
    std::string to;       // the recipient, E.164 with '+'
    int64_t occurredAtMs = 0;
};

std::optional<DeliveryReceipt> readDeliveryReceipt(const Params& params, std::string* why);

// The SDK status for a Vonage DLR status; nullopt for "unknown" and words we do not know.
std::optional<sb_delivery_status> deliveryStatusOf(const std::string& vonageStatus);

// "447700900001" → "+447700900001"; anything not all digits is returned unchanged.
std::string e164(const std::string& number);
// "2020-01-01 12:00:00" (UTC) → Unix ms; nullopt when it is not that format.
std::optional<int64_t> parseMessageTimestamp(const std::string& text);

}  // namespace vonage
