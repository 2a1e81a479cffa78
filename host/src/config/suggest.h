// "did you mean" text for unknown names, shared by every place that rejects a key.
#pragma once

#include <string>
#include <vector>

namespace switchboard::host::config {

// "unknown WHAT 'NAME' (did you mean 'X'? allowed: a, b, c)"; the hint is left out when
// nothing is close, and an empty candidate list says that nothing is accepted here.
std::string unknownNameMessage(const std::string& what, const std::string& name,
                               const std::vector<std::string>& candidates,
                               const std::string& listLabel = "allowed");

// "a, b, c"
std::string joinNames(const std::vector<std::string>& names);

}  // namespace switchboard::host::config
