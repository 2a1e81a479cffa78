#include "mime_parser.h"

#include "gmime_init.h"
#include "html_text.h"

#include <gmime/gmime.h>

#include <memory>
#include <string>
#include <utility>

namespace email {
namespace {

// The host refuses longer source ids; a Message-ID that long is hashed instead.
constexpr size_t kMaxSourceIdBytes = 500;
// Deeper nesting is an attack or a broken generator, not mail (GMime has its own limit too).
constexpr int kMaxDepth = 32;
// Text kept from a message GMime could not parse at all.
constexpr size_t kMaxFallbackTextBytes = 64 * 1024;

struct GFree {
    void operator()(void* p) const { g_free(p); }
};
using GString = std::unique_ptr<char, GFree>;
struct GUnref {
    void operator()(void* p) const { g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, GUnref>;

std::string str(const char* s) { return s ? std::string(s) : std::string(); }

const char* warningName(GMimeParserWarning w) {
    switch (w) {
        case GMIME_WARN_DUPLICATED_HEADER: return "duplicated header";
        case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated parameter";
        case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded 8-bit header";
        case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid content type";
        case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid RFC 2047 encoded word";
        case GMIME_WARN_MALFORMED_MULTIPART: return "malformed multipart";
        case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message";
        case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
        case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
        case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting header";
        case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting parameter";
        case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
        case GMIME_WARN_INVALID_PARAMETER: return "invalid parameter";
        case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid address list";
        case GMIME_CRIT_NESTING_OVERFLOW: return "MIME nesting too deep";
        case GMIME_WARN_PART_WITHOUT_CONTENT: return "part without content";
        case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
    }
    return "parse problem";
}

void collectWarning(gint64 offset, GMimeParserWarning code, const gchar* item, gpointer data) {
    auto* warnings = static_cast<std::vector<std::string>*>(data);
    if (warnings->size() >= 20) return;  // a hostile message could raise thousands
    std::string w = warningName(code);
    if (offset >= 0) w += " at byte " + std::to_string(offset);
    if (item && *item) w += ": " + toUtf8(std::string_view(item).substr(0, 80));
    for (const auto& seen : *warnings)
        if (seen == w) return;
    warnings->push_back(std::move(w));
}

std::string hexSha256(std::string_view bytes) {
    GString hex(g_compute_checksum_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(bytes.data()),
                                            bytes.size()));
    return str(hex.get());
}

bool usableId(const std::string& id) {
    if (id.empty() || id.size() > kMaxSourceIdBytes) return false;
    if (!g_utf8_validate(id.data(), static_cast<gssize>(id.size()), nullptr)) return false;
    for (unsigned char c : id)
        if (c < 0x21) return false;  // no controls or spaces in a msg-id (RFC 5322 3.6.4)
    return true;
}

// Mailboxes of an address list, groups flattened (RFC 5322 3.4).
void addAddresses(InternetAddressList* list, std::vector<switchboard::Identity>& out, std::string* firstName,
                  int depth = 0) {
    if (list == nullptr || depth > 4) return;
    const int n = internet_address_list_length(list);
    for (int i = 0; i < n; ++i) {
        InternetAddress* ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            addAddresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out, firstName, depth + 1);
            continue;
        }
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) continue;
        const std::string addr = toUtf8(str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))));
        if (addr.empty()) continue;
        if (firstName && firstName->empty() && out.empty()) *firstName = toUtf8(str(internet_address_get_name(ia)));
        out.push_back({"email", addr, ""});
    }
}

std::vector<std::string> messageIds(GMimeParserOptions* options, const char* header) {
    std::vector<std::string> ids;
    if (header == nullptr) return ids;
    GMimeReferences* refs = g_mime_references_parse(options, header);
    if (refs == nullptr) return ids;
    const int n = g_mime_references_length(refs);
    for (int i = 0; i < n; ++i) {
        std::string id = str(g_mime_references_get_message_id(refs, i));
        if (usableId(id)) ids.push_back(std::move(id));
    }
    g_mime_references_free(refs);
    return ids;
}

// The decoded (transfer encoding undone) bytes of a leaf part.
std::string decodedContent(GMimePart* part) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content == nullptr) return {};
    GPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(content, mem.get());
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : std::string();
}

// A text part as UTF-8: GMime converts from its declared charset (RFC 2045 5.1) via iconv;
// an unknown or lying charset still yields valid UTF-8 through toUtf8.
// Mail carries CRLF line ends (RFC 5322 2.1); the text handed on uses "\n" like any other
// channel's. The raw message keeps the original bytes.
std::string unixLines(std::string text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i)
        if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
    return out;
}

std::string partText(GMimePart* part) {
    if (GMIME_IS_TEXT_PART(part)) {
        GString text(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
        if (text) return unixLines(toUtf8(text.get()));
    }
    return unixLines(toUtf8(decodedContent(part)));
}

class Walker {
public:
    Walker(ParsedMail& out, const ParseOptions& options) : out_(out), options_(options) {}

    void walk(GMimeObject* object, const std::string& section, int depth) {
        if (object == nullptr) return;
        if (depth > kMaxDepth) {
            out_.warnings.push_back("MIME nesting deeper than " + std::to_string(kMaxDepth) + " levels; rest skipped");
            return;
        }
        if (GMIME_IS_MULTIPART(object)) {
            GMimeMultipart* mp = GMIME_MULTIPART(object);
            const int n = g_mime_multipart_get_count(mp);
            // RFC 3501 6.4.5: parts of a multipart are numbered from 1, nested with dots.
            for (int i = 0; i < n; ++i)
                walk(g_mime_multipart_get_part(mp, i), (section.empty() ? "" : section + ".") + std::to_string(i + 1),
                     depth + 1);
            return;
        }
        const std::string where = section.empty() ? "1" : section;
        if (GMIME_IS_MESSAGE_PART(object)) {
            addMessageAttachment(GMIME_MESSAGE_PART(object), where);
            return;
        }
        if (!GMIME_IS_PART(object)) return;
        GMimePart* part = GMIME_PART(object);
        GMimeContentType* type = g_mime_object_get_content_type(object);
        const bool attachment = g_mime_part_is_attachment(part);
        if (!attachment && type && g_mime_content_type_is_type(type, "text", "plain") && !haveText_) {
            out_.message.text = partText(part);
            haveText_ = true;
            return;
        }
        if (!attachment && type && g_mime_content_type_is_type(type, "text", "html") && !haveHtml_) {
            out_.message.html = partText(part);
            haveHtml_ = true;
            return;
        }
        addAttachment(part, type, where);
    }

    bool haveText() const { return haveText_; }
    bool haveHtml() const { return haveHtml_; }

private:
    std::string reference(const std::string& section) const {
        return options_.partReferenceBase.empty() ? std::string() : options_.partReferenceBase + ";SECTION=" + section;
    }

    void addAttachment(GMimePart* part, GMimeContentType* type, const std::string& section) {
        switchboard::Attachment a;
        // GMime decodes RFC 2231 parameters and RFC 2047 words in the file name.
        a.name = toUtf8(str(g_mime_part_get_filename(part)));
        if (type) {
            GString mime(g_mime_content_type_get_mime_type(type));
            a.contentType = toUtf8(str(mime.get()));
        }
        a.sizeBytes = decodedContent(part).size();
        a.contentId = toUtf8(str(g_mime_part_get_content_id(part)));
        a.reference = reference(section);
        out_.message.attachments.push_back(std::move(a));
    }

    void addMessageAttachment(GMimeMessagePart* part, const std::string& section) {
        switchboard::Attachment a;
        a.contentType = "message/rfc822";
        GMimeMessage* inner = g_mime_message_part_get_message(part);
        const std::string subject = inner ? toUtf8(str(g_mime_message_get_subject(inner))) : std::string();
        a.name = (subject.empty() ? std::string("message") : subject) + ".eml";
        if (inner) {
            GPtr<GMimeStream> counter(g_mime_stream_null_new());
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, counter.get());
            a.sizeBytes = GMIME_STREAM_NULL(counter.get())->written;
        }
        a.reference = reference(section);
        out_.message.attachments.push_back(std::move(a));
    }

    ParsedMail& out_;
    const ParseOptions& options_;
    bool haveText_ = false;
    bool haveHtml_ = false;
};

// The bytes after the header (RFC 5322 2.1: the first empty line ends it).
std::string_view rawBody(std::string_view raw) {
    for (std::string_view sep : {"\r\n\r\n", "\n\n"}) {
        const size_t at = raw.find(sep);
        if (at != std::string_view::npos) return raw.substr(at + sep.size());
    }
    return {};
}

void keepAsRaw(std::string_view raw, ParsedMail& out) {
    out.warnings.push_back("not a parsable MIME message; kept as raw text");
    out.message.text = toUtf8(raw.substr(0, kMaxFallbackTextBytes));
}

}  // namespace

std::string toUtf8(std::string_view bytes) {
    if (g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr)) return std::string(bytes);
    // Undeclared 8-bit text is most often Windows-1252 (a superset of ISO-8859-1 in practice).
    gsize written = 0;
    GString converted(g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", "WINDOWS-1252", nullptr,
                                &written, nullptr));
    if (converted && g_utf8_validate(converted.get(), static_cast<gssize>(written), nullptr))
        return std::string(converted.get(), written);
    GString valid(g_utf8_make_valid(bytes.data(), static_cast<gssize>(bytes.size())));
    return str(valid.get());
}

std::string fallbackSourceId(std::string_view raw) { return "sha256:" + hexSha256(raw); }

ParsedMail parseMail(std::string_view raw, const ParseOptions& options) {
    ensureGmimeInitialized();
    ParsedMail out;
    switchboard::Message& m = out.message;
    m.channel = options.channel;
    m.direction = SB_DIRECTION_INBOUND;
    m.rawContentType = "message/rfc822";
    m.raw = std::string(raw);

    GMimeParserOptions* parserOptions = g_mime_parser_options_new();
    std::unique_ptr<GMimeParserOptions, decltype(&g_mime_parser_options_free)> optionsGuard(
        parserOptions, &g_mime_parser_options_free);
    g_mime_parser_options_set_warning_callback(parserOptions, &collectWarning, &out.warnings);
    // 8-bit header bytes without an encoded word: UTF-8 first, then the usual Western fallback.
    const char* fallbacks[] = {"utf-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(parserOptions, fallbacks);

    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
    GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GMimeMessage* message = g_mime_parser_construct_message(parser.get(), parserOptions);
    if (message == nullptr) {
        keepAsRaw(raw, out);
    } else {
        GPtr<GMimeMessage> guard(message);
        GMimeObject* object = GMIME_OBJECT(message);
        // Encoded words (RFC 2047) in Subject and display names are decoded by GMime, in any
        // charset iconv knows (UTF-8, ISO-8859-x, GB2312/GBK, KOI8-R, ...).
        m.subject = toUtf8(str(g_mime_message_get_subject(message)));
        addAddresses(g_mime_message_get_from(message), m.sender, &m.senderName);
        if (m.sender.empty()) addAddresses(g_mime_message_get_sender(message), m.sender, &m.senderName);
        addAddresses(g_mime_message_get_to(message), m.recipients, nullptr);
        addAddresses(g_mime_message_get_cc(message), m.recipients, nullptr);
        if (GDateTime* date = g_mime_message_get_date(message)) m.occurredAtMs = g_date_time_to_unix(date) * 1000;

        // Threading (RFC 5322 3.6.4): ids are kept without angle brackets, the same form as
        // source_id, so the host can match In-Reply-To and References to stored messages.
        const std::string messageId = str(g_mime_message_get_message_id(message));
        if (usableId(messageId)) m.sourceId = messageId;
        auto inReplyTo = messageIds(parserOptions, g_mime_object_get_header(object, "In-Reply-To"));
        if (!inReplyTo.empty()) m.inReplyTo = inReplyTo.front();
        m.references = messageIds(parserOptions, g_mime_object_get_header(object, "References"));
        if (m.references.empty() && !m.inReplyTo.empty()) m.references.push_back(m.inReplyTo);

        Walker walker(out, options);
        walker.walk(g_mime_message_get_mime_part(message), "", 0);
        // multipart/alternative without text/plain (RFC 2046 5.1.4): derive text from the HTML.
        if (!walker.haveText() && walker.haveHtml()) m.text = htmlToText(m.html);
        if (g_mime_message_get_mime_part(message) == nullptr && m.subject.empty() && m.sender.empty()) {
            keepAsRaw(raw, out);
        } else if (m.text.empty() && m.html.empty() && m.attachments.empty() && !out.warnings.empty()) {
            // A broken structure (a multipart without boundary, say) hid the body: keep its raw
            // text rather than nothing.
            const std::string_view body = rawBody(raw);
            if (!body.empty()) {
                out.warnings.push_back("no readable part found; the raw body is kept as text");
                m.text = toUtf8(body.substr(0, kMaxFallbackTextBytes));
            }
        }
    }
    if (m.sourceId.empty()) m.sourceId = fallbackSourceId(raw);
    if (!out.warnings.empty()) {
        std::string joined;
        for (const auto& w : out.warnings) joined += (joined.empty() ? "" : "; ") + w;
        m.attributes.emplace_back("email.parse_warnings", joined);
    }
    return out;
}

}  // namespace email
