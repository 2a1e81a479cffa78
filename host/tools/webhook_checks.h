// The webhook checks: garbage input must be refused without a crash, and each --request
// fixture must be answered with its expected status.
#pragma once

#include "check_report.h"
#include "request_fixture.h"
#include "webhook_call.h"

#include <string>
#include <vector>

namespace switchboard::plugincheck {

struct WebhookTarget {
    const sb_plugin_descriptor& descriptor;
    sb_plugin_instance_plugin_ptr instance;
    const Headers& extraHeaders;              // --header
    const std::vector<std::string>& secrets;  // masked in what is printed
};

void checkGarbageInput(Report& report, const WebhookTarget& target);
void checkRequestFixtures(Report& report, const WebhookTarget& target, const std::vector<RequestFixture>& fixtures);

}  // namespace switchboard::plugincheck
