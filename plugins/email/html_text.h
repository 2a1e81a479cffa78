#pragma once

#include <string>
#include <string_view>

namespace email {
// Readable plain text from an HTML body, for messages that have no text/plain part:
// drops tags, script and style, turns block ends and <br> into line breaks, decodes
// character references. Not a renderer; good enough for a timeline preview and search.
std::string htmlToText(std::string_view html);
}  // namespace email
