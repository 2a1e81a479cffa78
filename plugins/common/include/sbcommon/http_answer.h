// The one rule every bundled connector applies to a provider's HTTP error answer, as the SDK
// guide's status table states it: 408, 429 and 5xx are transient (RETRY, no sooner than the
// server's Retry-After); 401 and 403 mean the instance's credentials are wrong, so every
// message would fail alike (FATAL); any other status is this message's fault (FAIL_DATA).
#pragma once

#include <switchboard/plugin.hpp>

#include <cstdint>
#include <string>

namespace sbcommon {

inline bool isSuccess(long status) { return status >= 200 && status < 300; }

// The Result for a non-2xx answer. said names the server and what it answered (never a
// secret). credentialsHint is appended to a 401/403 ("(check api_key and api_secret)"); a
// connector whose 401/403 concerns one message only passes nullptr and gets FAIL_DATA.
switchboard::Result failedAnswer(long status, const std::string& said, uint32_t retryAfterMs,
                                 const char* credentialsHint);

}  // namespace sbcommon
