#include "sbcommon/http_answer.h"

namespace sbcommon {

switchboard::Result failedAnswer(long status, const std::string& said, uint32_t retryAfterMs,
                                 const char* credentialsHint) {
    if (status == 408 || status == 429 || status >= 500) return switchboard::Result::retry(said, retryAfterMs);
    if ((status == 401 || status == 403) && credentialsHint != nullptr)
        return switchboard::Result::fatal(said + " " + credentialsHint);
    return switchboard::Result::failData(said);
}

}  // namespace sbcommon
