// The plugin's own version: the descriptor announces it and replies send it as User-Agent.
#pragma once

namespace webchat {

inline constexpr const char* kVersion = "1.1.0";

}  // namespace webchat
