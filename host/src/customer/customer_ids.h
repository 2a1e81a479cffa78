#pragma once

#include <cstddef>
#include <string>

namespace switchboard::host::customer {

// n random lower-case hex digits from a cryptographic random source.
std::string randomHex(size_t n);

// A new id: prefix + 20 random hex digits ("cus_…", "cnv_…"). Random, not sequential, so
// ids from several hosts sharing one store never collide and reveal nothing about volume.
std::string newId(const char* prefix);
inline std::string newCustomerId() { return newId("cus_"); }

}  // namespace switchboard::host::customer
