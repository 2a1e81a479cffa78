// switchboard-plugin-check's command line: what the user asked for, parsed before the
// plugin is loaded, and the --help text that documents every flag.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace switchboard::plugincheck {

enum class SinkMode { Auto, On, Off };

struct CheckArgs {
    std::string pluginFile;
    std::vector<std::pair<std::string, std::string>> options;  // --option NAME=VALUE, in order
    std::vector<std::pair<std::string, std::string>> headers;  // --header, names lower-cased
    std::vector<std::string> requestFiles;                     // --request FILE, in order
    SinkMode sink = SinkMode::Auto;
    bool help = false;
};

// Fills out from argv; returns "" or one line naming the flag that is wrong and why.
std::string parseArgs(int argc, char** argv, CheckArgs& out);

// The full --help text.
const char* usageText();

}  // namespace switchboard::plugincheck
