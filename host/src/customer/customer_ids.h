#pragma once

#include <string>

namespace switchboard::host::customer {

// A new customer id: "cus_" + 20 random hex digits. Random, not sequential, so ids from
// several hosts sharing one store never collide and reveal nothing about volume.
std::string newCustomerId();

}  // namespace switchboard::host::customer
