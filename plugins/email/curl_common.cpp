#include "curl_common.h"

#include <algorithm>

namespace email {

void applyServerOptions(CURL* curl, const ServerOptions& server, const char* protocols) {
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols);
    if (!server.username.empty()) curl_easy_setopt(curl, CURLOPT_USERNAME, server.username.c_str());
    if (!server.password.empty()) curl_easy_setopt(curl, CURLOPT_PASSWORD, server.password.c_str());
    curl_easy_setopt(curl, CURLOPT_USE_SSL, server.allowPlaintext ? CURLUSESSL_NONE : CURLUSESSL_ALL);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!server.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, server.caFile.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(server.timeout.count()));
    // A whole transfer may be long (a big mailbox, a large message); a stalled one is not.
    const long stallSeconds = std::max(1L, static_cast<long>(server.timeout.count() / 1000));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stallSeconds);
}

ServerError::Kind classify(CURLcode code) {
    switch (code) {
        case CURLE_LOGIN_DENIED:
        case CURLE_AUTH_ERROR:
            return ServerError::Kind::Auth;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_USE_SSL_FAILED:
            return ServerError::Kind::Tls;
        case CURLE_QUOTE_ERROR:
        case CURLE_SEND_FAIL_REWIND:
            return ServerError::Kind::Rejected;
        case CURLE_REMOTE_FILE_NOT_FOUND:
            return ServerError::Kind::Gone;
        default:
            return ServerError::Kind::Transient;
    }
}

}  // namespace email
