// Identity normalization: every phone form of several numbering plans lands on the same
// E.164 (expected values written by hand from the plans, not taken from the code), values
// that must never link messages are kept but flagged, emails and external ids compare the
// way the customer model says, and no input makes normalize() throw.
#include "customer/identity_normalizer.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace switchboard::host::customer {
namespace {

IdentityNormalizer normalizer(const std::string& region, bool foldGmail = false) {
    return IdentityNormalizer(NormalizerOptions{region, foldGmail});
}

// ---------------------------------------------------------------------------------------
// Phones

struct PhoneCase {
    const char* region;
    const char* raw;
    const char* e164;
};

// PT mobile 912 345 678; BR São Paulo mobile (11) 91234-5678; US San Francisco 415-555-2671;
// DE Berlin 030 123456; CN China Mobile 138 0013 8000; RU mobile 8 912 345-67-89.
const PhoneCase kPhones[] = {
    {"PT", "912 345 678", "+351912345678"},
    {"PT", "+351 912 345 678", "+351912345678"},
    {"PT", "00351912345678", "+351912345678"},
    {"PT", "00 351 912 345 678", "+351912345678"},
    {"PT", "912-345-678", "+351912345678"},
    {"PT", "912.345.678", "+351912345678"},
    {"PT", "(+351) 912 345 678", "+351912345678"},
    {"PT", "tel:+351-912-345-678", "+351912345678"},
    {"PT", "TEL:+351912345678", "+351912345678"},
    {"PT", "  +351912345678\t", "+351912345678"},
    {"BR", "+55 11 91234-5678", "+5511912345678"},
    {"BR", "(11) 91234-5678", "+5511912345678"},
    {"BR", "11 91234 5678", "+5511912345678"},
    {"BR", "0055 11 91234-5678", "+5511912345678"},  // 00 read as '+' (BR uses 00 + carrier)
    {"US", "(415) 555-2671", "+14155552671"},
    {"US", "+1 415-555-2671", "+14155552671"},
    {"US", "1-415-555-2671", "+14155552671"},
    {"US", "415.555.2671", "+14155552671"},
    {"US", "+1 (415) 555-2671", "+14155552671"},
    {"US", "011 351 912 345 678", "+351912345678"},  // US international prefix
    {"US", "0049 30 123456", "+4930123456"},         // 00 understood even where it is not local
    {"US", "tel:+1-415-555-2671;ext=12", "+14155552671"},
    {"US", "+1 415 555 2671 ext. 12", "+14155552671"},
    {"US", "tel:912345678;phone-context=+351", "+351912345678"},
    {"DE", "030 123456", "+4930123456"},
    {"DE", "+49 30 123456", "+4930123456"},
    {"DE", "0049 30 123456", "+4930123456"},
    {"DE", "030/123456", "+4930123456"},
    {"DE", "00351 912 345 678", "+351912345678"},
    {"CN", "+86 138 0013 8000", "+8613800138000"},
    {"CN", "138 0013 8000", "+8613800138000"},
    {"CN", "138-0013-8000", "+8613800138000"},
    {"RU", "+7 912 345-67-89", "+79123456789"},
    {"RU", "8 912 345-67-89", "+79123456789"},
    {"RU", "8 (912) 345-67-89", "+79123456789"},
    {"RU", "8 10 351 912345678", "+351912345678"},  // RU international prefix 8~10
};

TEST(IdentityNormalizerPhone, NationalAndInternationalFormsGiveE164) {
    for (const PhoneCase& c : kPhones) {
        SCOPED_TRACE(std::string(c.region) + " [" + c.raw + "]");
        const NormalizedIdentity id = normalizer(c.region).normalize(IdentityType::Phone, c.raw);
        EXPECT_EQ(id.type, IdentityType::Phone);
        EXPECT_TRUE(id.matchable);
        EXPECT_EQ(id.flag, "");
        EXPECT_EQ(id.normalized, c.e164);
        EXPECT_EQ(id.matchKey, std::string("phone||") + c.e164);
        EXPECT_EQ(id.scope, "");
    }
}

TEST(IdentityNormalizerPhone, RawIsKeptTrimmedAsGiven) {
    const NormalizedIdentity id = normalizer("PT").normalize(IdentityType::Phone, " \t912 345 678 \r\n");
    EXPECT_EQ(id.raw, "912 345 678");
    EXPECT_EQ(id.normalized, "+351912345678");
}

TEST(IdentityNormalizerPhone, EveryFormOfOneNumberHasTheSameMatchKey) {
    // The same PT mobile as written by callers in different countries.
    const std::vector<std::pair<const char*, const char*>> forms = {
        {"PT", "912 345 678"},        {"PT", "+351 912 345 678"}, {"PT", "00351912345678"},
        {"US", "+351 912-345-678"},   {"US", "011 351 912345678"}, {"US", "00351 912 345 678"},
        {"DE", "00351 912 345 678"},  {"BR", "+351912345678"},     {"RU", "8 10 351 912 345 678"},
        {"CN", "tel:+351912345678"},  {"GB", "00351912345678"},
    };
    for (const auto& [region, raw] : forms) {
        SCOPED_TRACE(std::string(region) + " [" + raw + "]");
        EXPECT_EQ(normalizer(region).normalize(IdentityType::Phone, raw).matchKey, "phone||+351912345678");
    }
    // And national forms are read in the default region: the same digits differ elsewhere.
    EXPECT_NE(normalizer("US").normalize(IdentityType::Phone, "912 345 678").matchKey,
              "phone||+351912345678");
}

struct FlagCase {
    const char* raw;
    const char* flag;
};

const FlagCase kNotMatchable[] = {
    {"anonymous", "withheld_number"},
    {"Anonymous", "withheld_number"},
    {"unknown", "withheld_number"},
    {"UNKNOWN", "withheld_number"},
    {"<unknown>", "withheld_number"},
    {"private", "withheld_number"},
    {"Private Number", "withheld_number"},
    {"withheld", "withheld_number"},
    {"restricted", "withheld_number"},
    {"unavailable", "withheld_number"},
    {"", "withheld_number"},
    {"   ", "withheld_number"},
    {"0000000000", "withheld_number"},
    {"+000", "withheld_number"},
    {"000-000-0000", "withheld_number"},
    {"tel:anonymous", "withheld_number"},
    {"MyBank", "alphanumeric_sender"},
    {"INFO-SMS", "alphanumeric_sender"},
    {"Bank24", "alphanumeric_sender"},
    {"1-800-FLOWERS", "alphanumeric_sender"},  // vanity spelling: a sender label, not a caller
    {"12345", "short_code"},
    {"2222", "short_code"},
    {"112", "short_code"},
    {"123456", "short_code"},
    {"12-345", "short_code"},
    {"1", "unparseable_phone"},
    {"12", "unparseable_phone"},
    {"+12345", "unparseable_phone"},           // '+' : not a short code, and no such number
    {"+351 912 345 67", "unparseable_phone"},  // PT mobiles have 9 digits
    {"+999 123456789", "unparseable_phone"},   // no country code 999
    {"555-2671", "unparseable_phone"},         // US local form without the area code
    {"1234567", "unparseable_phone"},
    {"+1 415 555 267", "unparseable_phone"},
    {"++--..", "unparseable_phone"},
    {"\xff\xfe 415 555 2671", "unparseable_phone"},
};

TEST(IdentityNormalizerPhone, ValuesThatMustNeverLinkAreKeptAndFlagged) {
    const IdentityNormalizer n = normalizer("US");
    for (const FlagCase& c : kNotMatchable) {
        SCOPED_TRACE(std::string("[") + c.raw + "]");
        const NormalizedIdentity id = n.normalize(IdentityType::Phone, c.raw, "acct-1");
        EXPECT_FALSE(id.matchable);
        EXPECT_EQ(id.flag, c.flag);
        std::string trimmed(c.raw);
        if (trimmed == "   ") trimmed.clear();
        EXPECT_EQ(id.raw, trimmed);
        EXPECT_EQ(id.normalized, trimmed);
        EXPECT_EQ(id.matchKey, "phone|acct-1|" + trimmed);
    }
}

TEST(IdentityNormalizerPhone, FlaggedValuesAreTrimmedForDisplay) {
    const NormalizedIdentity id = normalizer("PT").normalize(IdentityType::Phone, "  MyBank \n");
    EXPECT_EQ(id.flag, "alphanumeric_sender");
    EXPECT_EQ(id.raw, "MyBank");
    EXPECT_EQ(id.normalized, "MyBank");
    EXPECT_EQ(id.matchKey, "phone||MyBank");
}

// ---------------------------------------------------------------------------------------
// Emails

struct EmailCase {
    const char* raw;
    const char* normalized;
};

TEST(IdentityNormalizerEmail, AddrSpecIsExtractedAndLowerCased) {
    const EmailCase cases[] = {
        {"ana@example.com", "ana@example.com"},
        {"Ana@Example.COM", "ana@example.com"},
        {"Ana Silva <Ana@Example.COM>", "ana@example.com"},
        {"\"Silva, Ana\" <ana@example.com>", "ana@example.com"},
        {"\"Ana <work>\" <ana@example.com>", "ana@example.com"},
        {"<ana@example.com>", "ana@example.com"},
        {"< ana@example.com >", "ana@example.com"},
        {"mailto:Ana@Example.com", "ana@example.com"},
        {"MAILTO:ana@example.com?subject=Hello", "ana@example.com"},
        {"Ana <mailto:ana@example.com>", "ana@example.com"},
        {"  ana.silva+news@example.co.uk  ", "ana.silva+news@example.co.uk"},
        {"First.Last+tag@GMail.com", "first.last+tag@gmail.com"},  // no folding by default
        {"ana@googlemail.com", "ana@googlemail.com"},
    };
    const IdentityNormalizer n = normalizer("PT");
    for (const EmailCase& c : cases) {
        SCOPED_TRACE(std::string("[") + c.raw + "]");
        const NormalizedIdentity id = n.normalize(IdentityType::Email, c.raw);
        EXPECT_TRUE(id.matchable);
        EXPECT_EQ(id.flag, "");
        EXPECT_EQ(id.normalized, c.normalized);
        EXPECT_EQ(id.matchKey, std::string("email||") + c.normalized);
    }
    EXPECT_EQ(n.normalize(IdentityType::Email, " Ana Silva <Ana@Example.COM> ").raw,
              "Ana Silva <Ana@Example.COM>");
}

TEST(IdentityNormalizerEmail, GmailFoldingOnlyWhenEnabledAndOnlyForGmail) {
    const IdentityNormalizer off = normalizer("PT", false);
    const IdentityNormalizer on = normalizer("PT", true);
    const EmailCase folded[] = {
        {"First.Last+news@gmail.com", "firstlast@gmail.com"},
        {"first.last@GoogleMail.com", "firstlast@gmail.com"},
        {"f.i.r.s.t.l.a.s.t+a+b@googlemail.com", "firstlast@gmail.com"},
        {"firstlast@gmail.com", "firstlast@gmail.com"},
        {"first.last+news@example.com", "first.last+news@example.com"},
        {"first.last@gmail.com.evil.example", "first.last@gmail.com.evil.example"},
    };
    for (const EmailCase& c : folded) {
        SCOPED_TRACE(std::string("[") + c.raw + "]");
        EXPECT_EQ(on.normalize(IdentityType::Email, c.raw).normalized, c.normalized);
    }
    EXPECT_EQ(off.normalize(IdentityType::Email, "First.Last+news@googlemail.com").normalized,
              "first.last+news@googlemail.com");
    EXPECT_NE(off.normalize(IdentityType::Email, "first.last@gmail.com").matchKey,
              off.normalize(IdentityType::Email, "firstlast@gmail.com").matchKey);
    EXPECT_EQ(on.normalize(IdentityType::Email, "first.last@gmail.com").matchKey,
              on.normalize(IdentityType::Email, "firstlast@googlemail.com").matchKey);
    // Nothing left of the local part once folded: not an address Gmail would deliver to.
    EXPECT_EQ(on.normalize(IdentityType::Email, "+news@gmail.com").flag, "invalid_email");
    EXPECT_TRUE(off.normalize(IdentityType::Email, "+news@gmail.com").matchable);
}

TEST(IdentityNormalizerEmail, InvalidAddressesAreFlagged) {
    const char* invalid[] = {
        "",
        "ana",
        "ana.example.com",
        "@example.com",
        "ana@",
        "ana silva@example.com",
        "ana@exa mple.com",
        "ana@@example.com",
        "ana@b@example.com",
        "Ana <ana@example.com",
        "Ana ana@example.com>",
        "<>",
        "Ana <>",
        "mailto:",
        "ana@.example.com",
        "ana@example..com",
        "ana@example.com.",
        "ana\x01@example.com",
        "ana\xff@example.com",
    };
    const IdentityNormalizer n = normalizer("PT");
    for (const char* raw : invalid) {
        SCOPED_TRACE(std::string("[") + raw + "]");
        const NormalizedIdentity id = n.normalize(IdentityType::Email, raw);
        EXPECT_FALSE(id.matchable);
        EXPECT_EQ(id.flag, "invalid_email");
        EXPECT_EQ(id.raw, raw);
        EXPECT_EQ(id.normalized, raw);
        EXPECT_EQ(id.matchKey, std::string("email||") + raw);
    }
}

// ---------------------------------------------------------------------------------------
// External ids and scope

TEST(IdentityNormalizerExternal, SystemIsLowerCasedAndIdKeptExactly) {
    const IdentityNormalizer n = normalizer("PT");
    const NormalizedIdentity sf = n.normalize(IdentityType::External, "Salesforce:003AbC");
    EXPECT_TRUE(sf.matchable);
    EXPECT_EQ(sf.normalized, "salesforce:003AbC");
    EXPECT_EQ(sf.matchKey, "external||salesforce:003AbC");
    EXPECT_EQ(sf.raw, "Salesforce:003AbC");
    EXPECT_NE(n.normalize(IdentityType::External, "salesforce:003abc").matchKey, sf.matchKey);
    EXPECT_EQ(n.normalize(IdentityType::External, "SALESFORCE:003AbC").matchKey, sf.matchKey);
    EXPECT_EQ(n.normalize(IdentityType::External, "whatsapp:351912345678").normalized,
              "whatsapp:351912345678");
    EXPECT_EQ(n.normalize(IdentityType::External, "my_crm.v2-eu:a:b").normalized, "my_crm.v2-eu:a:b");
}

TEST(IdentityNormalizerExternal, MissingSystemOrIdIsFlagged) {
    const char* invalid[] = {"", "003AbC", ":003AbC", "salesforce:", "sales force:1", "sales|force:1",
                             "séf:1", "salesforce:a\nb", "salesforce:\xc0\x80"};
    const IdentityNormalizer n = normalizer("PT");
    for (const char* raw : invalid) {
        SCOPED_TRACE(std::string("[") + raw + "]");
        const NormalizedIdentity id = n.normalize(IdentityType::External, raw, "org-1");
        EXPECT_FALSE(id.matchable);
        EXPECT_EQ(id.flag, "invalid_external_id");
        EXPECT_EQ(id.normalized, raw);
        EXPECT_EQ(id.matchKey, std::string("external|org-1|") + raw);
    }
}

TEST(IdentityNormalizerScope, AScopedIdNeverEqualsTheSameIdElsewhere) {
    const IdentityNormalizer n = normalizer("PT");
    const auto key = [&](std::string_view raw, std::string_view scope) {
        return n.normalize(IdentityType::External, raw, scope).matchKey;
    };
    EXPECT_EQ(key("messenger:12345", "page-1"), "external|page-1|messenger:12345");
    EXPECT_EQ(key("messenger:12345", "page-1"), key("Messenger:12345", "page-1"));
    EXPECT_NE(key("messenger:12345", "page-1"), key("messenger:12345", "page-2"));
    EXPECT_NE(key("messenger:12345", "page-1"), key("messenger:12345", ""));
    EXPECT_EQ(n.normalize(IdentityType::External, "messenger:12345", "page-1").scope, "page-1");
    // '|' in a scope or id cannot make two different contact points share a key.
    EXPECT_NE(key("t:2", "x|s:1"), key("s:1|t:2", "x"));
    EXPECT_EQ(key("t:2", "x|s:1"), "external|x%7Cs:1|t:2");
    EXPECT_NE(key("a:1", "50%7C"), key("a:1", "50|"));
    // Types never collide either.
    EXPECT_NE(n.normalize(IdentityType::Phone, "+351912345678").matchKey,
              n.normalize(IdentityType::External, "phone:+351912345678").matchKey);
}

// ---------------------------------------------------------------------------------------
// Typed lookups, type names, options

TEST(IdentityNormalizerTyped, PrefixSelectsTheType) {
    const IdentityNormalizer n = normalizer("PT");
    const auto phone = n.normalizeTyped("phone:912 345 678");
    ASSERT_TRUE(phone);
    EXPECT_EQ(phone->type, IdentityType::Phone);
    EXPECT_EQ(phone->matchKey, "phone||+351912345678");
    EXPECT_EQ(phone->raw, "912 345 678");

    const auto email = n.normalizeTyped("email:Ana <ANA@Example.com>");
    ASSERT_TRUE(email);
    EXPECT_EQ(email->type, IdentityType::Email);
    EXPECT_EQ(email->normalized, "ana@example.com");

    const auto external = n.normalizeTyped("external:Salesforce:003AbC", "org-1");
    ASSERT_TRUE(external);
    EXPECT_EQ(external->type, IdentityType::External);
    EXPECT_EQ(external->matchKey, "external|org-1|salesforce:003AbC");

    const auto upper = n.normalizeTyped("  PHONE:+351912345678 ");
    ASSERT_TRUE(upper);
    EXPECT_EQ(upper->normalized, "+351912345678");

    const auto empty = n.normalizeTyped("phone:");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->flag, "withheld_number");

    EXPECT_FALSE(n.normalizeTyped("fax:912345678"));
    EXPECT_FALSE(n.normalizeTyped("tel:+351912345678"));
    EXPECT_FALSE(n.normalizeTyped("912345678"));
    EXPECT_FALSE(n.normalizeTyped(""));
    EXPECT_FALSE(n.normalizeTyped(":x"));
}

TEST(IdentityNormalizerTyped, TypeNamesRoundTrip) {
    for (IdentityType t : {IdentityType::Email, IdentityType::Phone, IdentityType::External}) {
        EXPECT_EQ(parseIdentityType(identityTypeName(t)), t);
    }
    EXPECT_STREQ(identityTypeName(IdentityType::Email), "email");
    EXPECT_STREQ(identityTypeName(IdentityType::Phone), "phone");
    EXPECT_STREQ(identityTypeName(IdentityType::External), "external");
    EXPECT_FALSE(parseIdentityType("sms"));
    EXPECT_FALSE(parseIdentityType(""));
}

TEST(IdentityNormalizerOptions, RegionIsValidatedAndStoredUpperCase) {
    EXPECT_EQ(normalizer("pt").options().defaultRegion, "PT");
    EXPECT_EQ(normalizer("Br").options().defaultRegion, "BR");
    EXPECT_EQ(IdentityNormalizer(NormalizerOptions{}).options().defaultRegion, "US");
    EXPECT_EQ(normalizer("pt").normalize(IdentityType::Phone, "912 345 678").normalized, "+351912345678");
    for (const char* bad : {"XX", "", "ZZ", "001", "PRT", "P T", "EU"}) {
        SCOPED_TRACE(bad);
        try {
            normalizer(bad);
            ADD_FAILURE() << "no exception";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()), "identity.default_region '" + std::string(bad) +
                                                 "' is not a known region (e.g. PT, BR, US)");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Robustness and thread safety

void expectConsistent(const NormalizedIdentity& id, std::string_view scope) {
    EXPECT_EQ(id.matchable, id.flag.empty());
    EXPECT_EQ(id.scope, scope);
    if (id.type == IdentityType::Phone && id.matchable) {
        ASSERT_GE(id.normalized.size(), 2u);
        EXPECT_EQ(id.normalized[0], '+');
        EXPECT_EQ(id.normalized.find_first_not_of("0123456789", 1), std::string::npos) << id.normalized;
    }
}

TEST(IdentityNormalizerRobustness, GarbageNeverThrows) {
    std::vector<std::string> inputs = {
        std::string(10000, '9'),
        "+" + std::string(10000, '1'),
        std::string(10000, 'a') + "@" + std::string(10000, 'b'),
        std::string(10000, '<'),
        std::string(10000, '>'),
        "salesforce:" + std::string(10000, 'x'),
        std::string(10000, ':'),
        "\xff\xfe\xfd",
        "\xc0\x80",
        "\xed\xa0\x80",  // UTF-16 surrogate encoded in UTF-8
        "\xf4\x90\x80\x80",
        std::string("91\0002345678", 10),
        "tel:",
        "tel:;;;;",
        "tel:+;phone-context=",
        "mailto:?",
        "\"\" <@>",
        "٠٩١٢٣٤٥٦٧٨",  // Arabic-Indic digits
        "９１２３４５６７８",  // full-width digits
    };
    std::mt19937 rng(20240611);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 400);
    const std::string alphabet = "0123456789+-(). tel:mailto<>@\"xX#*;=,";
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    for (int i = 0; i < 2000; ++i) {
        std::string s(static_cast<size_t>(length(rng)), '\0');
        for (char& c : s) c = static_cast<char>(i % 2 == 0 ? byte(rng) : alphabet[pick(rng)]);
        inputs.push_back(std::move(s));
    }
    for (const char* region : {"PT", "US", "BR"}) {
        const IdentityNormalizer n = normalizer(region, true);
        for (const std::string& in : inputs) {
            for (IdentityType t : {IdentityType::Email, IdentityType::Phone, IdentityType::External}) {
                NormalizedIdentity id;
                ASSERT_NO_THROW(id = n.normalize(t, in, "s|1")) << "input of " << in.size() << " bytes";
                EXPECT_EQ(id.type, t);
                expectConsistent(id, "s|1");
            }
            ASSERT_NO_THROW(n.normalizeTyped(in));
            ASSERT_NO_THROW(n.normalizeTyped("phone:" + in));
        }
    }
}

TEST(IdentityNormalizerRobustness, ConcurrentUseGivesTheSameResults) {
    const IdentityNormalizer n = normalizer("BR");
    std::vector<std::string> inputs;
    for (const PhoneCase& c : kPhones) inputs.emplace_back(c.raw);
    for (const FlagCase& c : kNotMatchable) inputs.emplace_back(c.raw);
    std::vector<std::string> expected;
    for (const std::string& in : inputs) expected.push_back(n.normalize(IdentityType::Phone, in).matchKey);

    std::vector<int> mismatches(8, 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < mismatches.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 50; ++round) {
                for (size_t i = 0; i < inputs.size(); ++i) {
                    if (n.normalize(IdentityType::Phone, inputs[i]).matchKey != expected[i]) ++mismatches[t];
                }
            }
        });
    }
    for (std::thread& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace switchboard::host::customer
