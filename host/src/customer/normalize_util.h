// Small text helpers shared by the identity normalizer's per-type files. ASCII-only on
// purpose: case folding and trimming must not depend on the process locale.
#pragma once

#include "customer/identity_normalizer.h"

#include <string>
#include <string_view>

namespace switchboard::host::customer::detail {

inline bool isAsciiSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

std::string_view trim(std::string_view text);
std::string toLower(std::string_view text);
bool startsWithNoCase(std::string_view text, std::string_view prefix);
bool isValidUtf8(std::string_view text);

// The match key: "<type>|<scope>|<normalized>". '%' and '|' in the scope are percent-encoded
// so that the key stays injective whatever the scope and value contain.
std::string matchKey(IdentityType type, std::string_view scope, std::string_view normalized);

NormalizedIdentity matchable(IdentityType type, std::string_view scope, std::string_view raw,
                             std::string normalized);
// Kept for display and lookup, never used to link: normalized is the trimmed raw value.
NormalizedIdentity flagged(IdentityType type, std::string_view scope, std::string_view raw,
                           std::string flag);

}  // namespace switchboard::host::customer::detail
