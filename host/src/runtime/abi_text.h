// Text across the C ABI for the host: reading a borrowed sb_str, writing a NUL-terminated
// error into the caller's sb_errbuf, naming a plugin's sb_status.
#pragma once

#include <switchboard/plugin.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace switchboard::host {

// A view of s for the duration of the call; empty when s.data is NULL.
inline std::string_view view(sb_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }

// A borrowed sb_str of s, for a call that does not keep it.
inline sb_str span(std::string_view s) { return sb_str{s.data(), s.size()}; }

// Copies text into err, truncated to fit with its NUL; nothing when err has no room.
inline void writeErr(sb_errbuf err, const std::string& text) {
    if (err.data == nullptr || err.capacity == 0) return;
    size_t n = std::min(text.size(), err.capacity - 1);
    std::memcpy(err.data, text.data(), n);
    err.data[n] = '\0';
}

// "OK", "RETRY", "FAIL_DATA"...: a plugin's status as logs and errors name it.
inline const char* statusName(sb_status s) {
    switch (s) {
        case SB_OK: return "OK";
        case SB_RETRY: return "RETRY";
        case SB_FAIL_DATA: return "FAIL_DATA";
        case SB_FAIL_FATAL: return "FAIL_FATAL";
        case SB_FAIL_CONFIG: return "FAIL_CONFIG";
        case SB_UNSUPPORTED: return "UNSUPPORTED";
    }
    return "UNKNOWN";
}

}  // namespace switchboard::host
