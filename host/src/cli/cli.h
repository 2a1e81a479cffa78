// The `switchboard` command line: one function per subcommand, each returning the process
// exit code. Output goes to the given streams so tests can run commands in-process.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace switchboard::host::cli {

struct Streams {
    std::ostream& out;
    std::ostream& err;
};

// Dispatches argv (without the program name) to a subcommand.
int main(const std::vector<std::string>& args, Streams io);

int runCommand(const std::vector<std::string>& args, Streams io);
int checkConfigCommand(const std::vector<std::string>& args, Streams io);
int pluginsCommand(const std::vector<std::string>& args, Streams io);
int routesCommand(const std::vector<std::string>& args, Streams io);

std::string usage();

// Parsed common flags: -c/--config FILE, --plugin-dir DIR (repeatable), --format F.
struct CommonArgs {
    std::string configFile;
    std::vector<std::string> pluginDirs;
    std::string format = "text";
    std::vector<std::string> positional;
    std::string error;  // set when the arguments are malformed
};
CommonArgs parseCommonArgs(const std::vector<std::string>& args);

}  // namespace switchboard::host::cli
