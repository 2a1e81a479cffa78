// The sink checks: send a few sample outbound messages through a plugin's send, as the
// host's outbox does, and judge each answer against the contract in plugin.h.
#pragma once

#include "check_args.h"
#include "check_report.h"
#include "plugin/plugin_loader.h"

#include <switchboard/plugin.h>

#include <string>
#include <vector>

namespace switchboard::plugincheck {

struct SinkSample {
    std::string label;  // "a normal text message", ...
    std::string text;
};

// A normal text, an empty text, a 100 KB text and a non-ASCII text.
std::vector<SinkSample> sinkSamples();

struct SendObservation {
    sb_status status = SB_OK;
    std::string providerId;
    std::string reason;    // the plugin's errbuf text
    uint32_t retryAfterMs = 0;
    std::string problem;   // a contract violation seen around the call; "" when none
};

// Calls send once with sample; index keeps each message's ids distinct. channel is the
// channel the message is addressed on (the instance's own, when it has one).
SendObservation sendSample(const sb_plugin_descriptor& d, sb_plugin_instance_plugin_ptr self,
                           const SinkSample& sample, int index, const std::string& channel);

// OK, RETRY, FAIL_DATA, FAIL_FATAL: what plugin.h allows send to return.
bool isDocumentedSendStatus(sb_status s);

// Runs the sink checks on a started instance when mode and the plugin's kind call for them:
// one check per sample, named with its outcome. secrets are masked in what is printed.
void checkSink(Report& report, const host::LoadedPlugin& plugin, sb_plugin_instance_plugin_ptr self, SinkMode mode,
               const std::string& channel, const std::vector<std::string>& secrets);

}  // namespace switchboard::plugincheck
