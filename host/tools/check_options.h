// The instance config switchboard-plugin-check runs a plugin with: the user's --option
// values, the schema's defaults, and a dummy of the right type for each required option the
// user did not give (reported, so a failure caused by a dummy is not a mystery).
#pragma once

#include "config/config.h"
#include "plugin/plugin_loader.h"

#include <string>
#include <utility>
#include <vector>

namespace switchboard::plugincheck {

struct DummyOption {
    std::string name;
    std::string value;
    bool secret = false;
};

struct CheckConfig {
    host::config::ConnectorConfig connector;
    std::vector<DummyOption> dummies;
    std::vector<std::string> secretValues;  // given and dummy: masked in everything printed
};

// Errors (one line each, naming --option) for a scalar option given twice; else fills out.
std::vector<std::string> buildCheckConfig(const host::LoadedPlugin& plugin,
                                          const std::vector<std::pair<std::string, std::string>>& given,
                                          CheckConfig& out);

// "NAME = VALUE", or "NAME = *** (secret)".
std::string describeDummy(const DummyOption& d);

// text with every secret value replaced by ***: plugin messages may quote what they were given.
std::string withoutSecrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace switchboard::plugincheck
