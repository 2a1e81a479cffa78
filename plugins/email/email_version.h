#pragma once

namespace email {
inline constexpr const char* kVersion = "0.1.0";
}
