#pragma once

#include <cstddef>
#include <string>

namespace switchboard::host::customer {

// n random lower-case hex digits from a cryptographic random source.
std::string randomHex(size_t n);

// A new id: prefix + 20 hex digits ("cus_…", "cnv_…"): 8 of the creation second, then 12
// random. Time first, so ids made close in time sit together in every index that holds them
// (a bulk sync's inserts touch a few index pages, not one random page each: bench/README.md);
// random after, so ids from several hosts sharing one store do not collide and reveal
// nothing about volume (only the creation time, which the API shows anyway).
std::string newId(const char* prefix);
inline std::string newCustomerId() { return newId("cus_"); }

}  // namespace switchboard::host::customer
