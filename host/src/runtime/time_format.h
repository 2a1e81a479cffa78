#pragma once

#include <chrono>
#include <string>

namespace switchboard::host {

// ISO-8601 UTC with milliseconds: 2026-11-23T10:00:00.000Z
std::string formatUtc(std::chrono::system_clock::time_point t);
int64_t nowUnixMs();

}  // namespace switchboard::host
