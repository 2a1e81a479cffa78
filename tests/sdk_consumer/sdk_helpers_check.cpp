// Prints what the SDK helpers compute, one "name=value" a line, for the package test to
// compare with published values; with a URL argument, also GETs it and prints the answer.
#include <switchboard/crypto.hpp>
#include <switchboard/http_client.hpp>
#include <switchboard/retry_after.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char** argv) {
    namespace crypto = switchboard::crypto;
    namespace http = switchboard::http;
    // RFC 4231 test case 2 and RFC 2202 test case 2.
    std::cout << "hmac_sha256_hex=" << crypto::toHex(crypto::hmacSha256("Jefe", "what do ya want for nothing?")) << "\n";
    std::cout << "hmac_sha1_base64=" << crypto::toBase64(crypto::hmacSha1("Jefe", "what do ya want for nothing?"))
              << "\n";
    std::cout << "equal=" << crypto::constantTimeEquals("abc", "abc") << crypto::constantTimeEquals("abc", "abd") << "\n";
    // RFC 9110's example date, two minutes before it.
    const auto now = std::chrono::system_clock::from_time_t(784111777 - 120);
    std::cout << "retry_after_rfc850=" << http::parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)->count() << "\n";
    std::cout << "json_text=" << nlohmann::json::parse(R"({"text":"ol\u00e1"})")["text"].get<std::string>() << "\n";
    if (argc > 1) {
        http::Client client;
        http::Request req;
        req.url = argv[1];
        req.timeout = std::chrono::seconds(10);
        const http::Response r = client.perform(req);
        std::cout << "status=" << r.status << "\n";
        std::cout << "x_answer=" << r.header("x-answer").value_or("") << "\n";
        std::cout << "body=" << r.body << "\n";
        if (r.status == 0) std::cout << "error=" << r.error << "\n";
    }
    return 0;
}
