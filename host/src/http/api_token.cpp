#include "http/api_token.h"

#include "http/http_types.h"

namespace switchboard::host::http {

void ApiToken::set(std::optional<std::string> token) {
    // An empty token would let "Bearer " through: treat it as "not configured".
    if (token && token->empty()) token.reset();
    std::lock_guard lock(mutex_);
    token_ = std::move(token);
}

ApiToken::Check ApiToken::check(const std::optional<std::string>& authorization) const {
    std::string expected;
    {
        std::lock_guard lock(mutex_);
        if (!token_) return Check::Disabled;
        expected = *token_;
    }
    if (!authorization) return Check::Missing;
    std::string_view h = *authorization;
    constexpr std::string_view scheme = "bearer";
    if (h.size() <= scheme.size() || toLower(h.substr(0, scheme.size())) != scheme ||
        (h[scheme.size()] != ' ' && h[scheme.size()] != '\t'))
        return Check::Missing;
    h.remove_prefix(scheme.size());
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    if (h.empty()) return Check::Missing;
    return constantTimeEquals(h, expected) ? Check::Ok : Check::Wrong;
}

bool constantTimeEquals(std::string_view given, std::string_view expected) {
    volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i) {
        unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        diff = diff | (g ^ static_cast<unsigned char>(expected[i]));
    }
    return diff == 0;
}

}  // namespace switchboard::host::http
