// libFuzzer target: how the Vonage plugin reads a webhook (plugins/vonage/vonage_params.cpp
// and vonage_inbound.cpp, compiled in with coverage): GET query, POST form and POST-JSON, then
// the inbound SMS and delivery-receipt fields. The first input byte picks the method and
// content type, the rest is split at the first NUL into query and body. Beyond "no crash, no
// sanitizer report": a request either reads or says why not, and a message that reads has
// the id the host dedupes Vonage's retries by.
#include "vonage_inbound.h"
#include "vonage_params.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static constexpr std::string_view kMethods[] = {"GET", "POST", "POST"};
    static constexpr std::string_view kTypes[] = {"", "application/x-www-form-urlencoded", "application/json"};
    const size_t pick = data[0] % 3;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const size_t nul = rest.find('\0');
    const std::string_view query = nul == std::string_view::npos ? rest : rest.substr(0, nul);
    const std::string_view body = nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);

    const vonage::ParsedParams parsed = vonage::readParams(kMethods[pick], kTypes[pick], query, body);
    if (!parsed.error.empty()) {
        if (!parsed.params.empty()) std::abort();  // a refused request yields nothing half-read
        return 0;
    }
    std::string why;
    if (auto sms = vonage::readInboundSms(parsed.params, &why)) {
        if (sms->messageId.empty()) std::abort();
    } else if (why.empty()) {
        std::abort();  // refused without a reason for the 400
    }
    why.clear();
    if (!vonage::readDeliveryReceipt(parsed.params, &why) && why.empty()) std::abort();
    return 0;
}
