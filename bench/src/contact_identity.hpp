// The identities of synthetic contact n, shared by the bench-source plugin (which emits them)
// and the bulk benchmark (which looks customers up and resolves them again by them).
#pragma once

#include <cstdint>
#include <string>

namespace sbbench {

inline std::string contactEmail(int64_t n) { return "Customer." + std::to_string(n) + "@Example.COM"; }
// Portuguese mobile numbers, written as people type them: distinct for n < 9,000,000.
inline std::string contactPhone(int64_t n) { return "+351 91" + std::to_string(1000000 + n % 9000000); }
inline std::string contactExternal(int64_t n) { return "crm:003" + std::to_string(100000000 + n); }
inline const char* contactExternalScope() { return "org-1"; }

}  // namespace sbbench
