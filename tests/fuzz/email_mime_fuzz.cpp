// libFuzzer target: the email plugin's MIME parser (plugins/email/mime_parser.cpp, compiled
// in with coverage). Beyond "no crash, no sanitizer report" it checks what the host relies
// on: every message gets a usable source id, and every text field is valid UTF-8 (the host
// refuses a batch otherwise, which would stall the mailbox).
#include "mime_parser.h"

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void mustBeUtf8(const std::string& s) {
    if (!g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    email::ParseOptions options;
    options.partReferenceBase = "imap://127.0.0.1/INBOX;UIDVALIDITY=1/;UID=1";
    const email::ParsedMail parsed = email::parseMail(raw, options);
    const auto& m = parsed.message;
    if (m.sourceId.empty() || m.sourceId.size() > 512) std::abort();
    if (m.raw != raw) std::abort();  // the original is always kept as given
    for (const std::string* s : {&m.sourceId, &m.subject, &m.text, &m.html, &m.senderName, &m.inReplyTo}) mustBeUtf8(*s);
    for (const auto& r : m.references) mustBeUtf8(r);
    for (const auto& id : m.sender) {
        if (id.value.empty()) std::abort();
        mustBeUtf8(id.value);
    }
    for (const auto& a : m.attachments) {
        mustBeUtf8(a.name);
        mustBeUtf8(a.contentType);
        mustBeUtf8(a.contentId);
    }
    for (const auto& [k, v] : m.attributes) mustBeUtf8(v);
    return 0;
}
