// The SDK's HMAC helpers against the published test vectors (RFC 4231 for HMAC-SHA256, RFC
// 2202 for HMAC-SHA1), its base64 against RFC 4648 §10, and the constant-time compare.
#include <switchboard/crypto.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace switchboard::crypto;

std::string repeat(unsigned char byte, size_t n) { return std::string(n, static_cast<char>(byte)); }
std::string bytes1To25() {
    std::string out;
    for (int i = 1; i <= 25; ++i) out += static_cast<char>(i);
    return out;
}

struct Vector {
    const char* name;
    std::string key;
    std::string data;
    const char* hex;
};

TEST(SdkCrypto, HmacSha256MatchesRfc4231) {
    const std::string bigKey = repeat(0xaa, 131);
    const Vector vectors[] = {
        {"case 1", repeat(0x0b, 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"case 2", "Jefe", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"case 3", repeat(0xaa, 20), repeat(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"case 4", bytes1To25(), repeat(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"case 6", bigKey, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"case 7", bigKey,
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
         "hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (const auto& v : vectors) EXPECT_EQ(toHex(hmacSha256(v.key, v.data)), v.hex) << v.name;
}

TEST(SdkCrypto, HmacSha1MatchesRfc2202) {
    const std::string bigKey = repeat(0xaa, 80);
    const Vector vectors[] = {
        {"case 1", repeat(0x0b, 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
        {"case 2", "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {"case 3", repeat(0xaa, 20), repeat(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {"case 4", bytes1To25(), repeat(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
        {"case 6", bigKey, "Test Using Larger Than Block-Size Key - Hash Key First",
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {"case 7", bigKey, "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
    };
    for (const auto& v : vectors) EXPECT_EQ(toHex(hmacSha1(v.key, v.data)), v.hex) << v.name;
}

TEST(SdkCrypto, HexCaseAndRawLength) {
    const std::string mac = hmacSha256("Jefe", "what do ya want for nothing?");
    EXPECT_EQ(mac.size(), 32u);
    EXPECT_EQ(toHex(mac, HexCase::Upper), "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
    EXPECT_EQ(toHex(std::string("\x00\x0f\xf0", 3)), "000ff0");
}

TEST(SdkCrypto, EmptyKeyAndDataStillSign) {
    // Well defined (the key is padded with zeros), and different from a one-byte key.
    EXPECT_EQ(toHex(hmacSha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    EXPECT_NE(hmacSha256("", "x"), hmacSha256("k", "x"));
}

TEST(SdkCrypto, Base64MatchesRfc4648) {
    EXPECT_EQ(toBase64(""), "");
    EXPECT_EQ(toBase64("f"), "Zg==");
    EXPECT_EQ(toBase64("fo"), "Zm8=");
    EXPECT_EQ(toBase64("foo"), "Zm9v");
    EXPECT_EQ(toBase64("foob"), "Zm9vYg==");
    EXPECT_EQ(toBase64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(toBase64("foobar"), "Zm9vYmFy");
}

TEST(SdkCrypto, DigestWithoutKey) {
    // RFC 1321 §A.5 and FIPS 180-2's "abc".
    EXPECT_EQ(toHex(digest(Digest::Md5, "abc")), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(toHex(digest(Digest::Sha256, "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SdkCrypto, ConstantTimeEquals) {
    EXPECT_TRUE(constantTimeEquals("", ""));
    EXPECT_TRUE(constantTimeEquals("sha256=abc", "sha256=abc"));
    EXPECT_FALSE(constantTimeEquals("abc", "abd"));
    EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
    EXPECT_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));  // not C strings
}

}  // namespace
