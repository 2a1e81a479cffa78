// The bearer token guarding /api. Replaceable at run time (SIGHUP), compared in constant time.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::host::http {

class ApiToken {
public:
    enum class Check { Ok, Disabled, Missing, Wrong };

    void set(std::optional<std::string> token);
    // authorization: the Authorization header, if any.
    Check check(const std::optional<std::string>& authorization) const;

private:
    mutable std::mutex mutex_;
    std::optional<std::string> token_;  // never logged, never echoed
};

// Time depends on expected's length only, not on where the first difference is.
bool constantTimeEquals(std::string_view given, std::string_view expected);

}  // namespace switchboard::host::http
