// The sb_host_api table handed to every plugin instance: logging, durable emit, checkpoints
// and metrics. Every entry is an exception barrier: nothing thrown inside the host reaches
// the plugin, and every failure comes back as a status plus a message.
#pragma once

#include <switchboard/plugin.h>

namespace switchboard::host {

const sb_host_api& hostServices();

}  // namespace switchboard::host
