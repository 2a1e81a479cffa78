#pragma once

namespace email {
inline constexpr const char* kVersion = "0.2.0";
}
