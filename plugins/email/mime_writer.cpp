#include "mime_writer.h"

#include "gmime_init.h"

#include <gmime/gmime.h>

#include <memory>

namespace email {
namespace {

struct GUnref {
    void operator()(void* p) const { g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, GUnref>;

// Header values come from agents and templates: a line break there would start a new header.
std::string oneLine(const std::string& s) {
    std::string out;
    for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

std::string angle(const std::string& id) { return "<" + oneLine(id) + ">"; }

GMimeTextPart* textPart(const char* subtype, const std::string& text) {
    GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
    // Picks the smallest charset that holds the text (us-ascii, iso-8859-1, else utf-8) and
    // labels the part with it (RFC 2045 5.1).
    g_mime_text_part_set_text(part, text.c_str());
    return part;
}

}  // namespace

std::string makeMessageId(const std::string& fromAddress, const std::string& key) {
    const size_t at = fromAddress.rfind('@');
    const std::string domain = at == std::string::npos ? "localhost" : fromAddress.substr(at + 1);
    std::string seed = key;
    if (seed.empty()) {
        char* random = g_uuid_string_random();
        seed = random;
        g_free(random);
    }
    char* hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, seed.c_str(), static_cast<gssize>(seed.size()));
    std::string id = std::string(hex).substr(0, 32) + "@" + domain;
    g_free(hex);
    return id;
}

std::string composeMail(const OutboundMail& mail) {
    ensureGmimeInitialized();
    GPtr<GMimeMessage> message(g_mime_message_new(TRUE));
    GMimeObject* object = GMIME_OBJECT(message.get());

    InternetAddressList* from = g_mime_message_get_from(message.get());
    GPtr<InternetAddress> sender(internet_address_mailbox_new(
        mail.fromName.empty() ? nullptr : oneLine(mail.fromName).c_str(), oneLine(mail.fromAddress).c_str()));
    internet_address_list_add(from, sender.get());
    InternetAddressList* to = g_mime_message_get_to(message.get());
    for (const auto& address : mail.to) {
        GPtr<InternetAddress> rcpt(internet_address_mailbox_new(nullptr, oneLine(address).c_str()));
        internet_address_list_add(to, rcpt.get());
    }
    // GMime writes non-ASCII subjects and names as RFC 2047 encoded words.
    g_mime_message_set_subject(message.get(), oneLine(mail.subject).c_str(), "utf-8");
    GDateTime* now = g_date_time_new_now_local();
    g_mime_message_set_date(message.get(), now);
    g_date_time_unref(now);
    g_mime_message_set_message_id(message.get(), oneLine(mail.messageId).c_str());
    // RFC 5322 3.6.4: a reply names its parent and the thread's ancestry.
    if (!mail.inReplyTo.empty()) g_mime_object_set_header(object, "In-Reply-To", angle(mail.inReplyTo).c_str(), nullptr);
    std::string references;
    for (const auto& r : mail.references) references += (references.empty() ? "" : " ") + angle(r);
    if (references.empty() && !mail.inReplyTo.empty()) references = angle(mail.inReplyTo);
    if (!references.empty()) g_mime_object_set_header(object, "References", references.c_str(), nullptr);

    GPtr<GMimeTextPart> plain(textPart("plain", mail.text));
    if (mail.html.empty()) {
        g_mime_message_set_mime_part(message.get(), GMIME_OBJECT(plain.get()));
    } else {
        // RFC 2046 5.1.4: alternatives in increasing order of preference.
        GPtr<GMimeMultipart> alternative(g_mime_multipart_new_with_subtype("alternative"));
        GPtr<GMimeTextPart> html(textPart("html", mail.html));
        g_mime_multipart_add(alternative.get(), GMIME_OBJECT(plain.get()));
        g_mime_multipart_add(alternative.get(), GMIME_OBJECT(html.get()));
        g_mime_message_set_mime_part(message.get(), GMIME_OBJECT(alternative.get()));
    }
    g_mime_object_encode(object, GMIME_ENCODING_CONSTRAINT_7BIT);

    GMimeFormatOptions* format = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);  // SMTP wants CRLF
    char* text = g_mime_object_to_string(object, format);
    g_mime_format_options_free(format);
    std::string out = text ? text : "";
    g_free(text);
    return out;
}

}  // namespace email
