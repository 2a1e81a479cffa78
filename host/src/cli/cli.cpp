#include "cli/cli.h"

#include <switchboard/plugin.h>

#include <ostream>

namespace switchboard::host::cli {

std::string usage() {
    return "Switchboard " SWITCHBOARD_VERSION " — omnichannel integration bus\n"
           "\n"
           "Usage:\n"
           "  switchboard run -c FILE                 run the host with this config (switchboard.yaml)\n"
           "  switchboard check-config -c FILE        validate the config and every connector's options;\n"
           "                                          exit 0 when valid, 1 with every error listed\n"
           "  switchboard plugins list [-c FILE] [--plugin-dir DIR]...\n"
           "                                          list installed plugins (and refused files)\n"
           "  switchboard plugins describe NAME [-c FILE] [--plugin-dir DIR]... [--format text|markdown|json]\n"
           "                                          option reference of a plugin, from its schema\n"
           "  switchboard routes test -c FILE --message FILE.json [--json]\n"
           "                                          which routing rule a message matches and why, and\n"
           "                                          the actions it would take (nothing is sent); exit 0\n"
           "                                          when a rule matched, 1 when none did, 2 on errors\n"
           "  switchboard --version                   print the version\n"
           "  switchboard --help                      this text\n"
           "\n"
           "Plugins are searched in plugins.paths of the config, else in --plugin-dir, else in the\n"
           "bundled plugin directory of this build or install.\n"
           "Signals for `run`: SIGTERM/SIGINT stop gracefully; SIGHUP re-reads the config and starts,\n"
           "stops or restarts only the connectors that changed.\n";
}

CommonArgs parseCommonArgs(const std::vector<std::string>& args) {
    CommonArgs out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* flag) -> std::string {
            if (i + 1 >= args.size()) {
                out.error = std::string(flag) + " needs a value";
                return {};
            }
            return args[++i];
        };
        if (a == "-c" || a == "--config") out.configFile = value("-c");
        else if (a.rfind("--config=", 0) == 0) out.configFile = a.substr(9);
        else if (a == "--plugin-dir") out.pluginDirs.push_back(value("--plugin-dir"));
        else if (a.rfind("--plugin-dir=", 0) == 0) out.pluginDirs.push_back(a.substr(13));
        else if (a == "--format") out.format = value("--format");
        else if (a.rfind("--format=", 0) == 0) out.format = a.substr(9);
        else if (!a.empty() && a[0] == '-') out.error = "unknown option '" + a + "'";
        else out.positional.push_back(a);
        if (!out.error.empty()) break;
    }
    return out;
}

int main(const std::vector<std::string>& args, Streams io) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? io.err : io.out) << usage();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "version") {
        io.out << "switchboard " SWITCHBOARD_VERSION " (plugin ABI " << SB_ABI_VERSION_MAJOR << "."
               << SB_ABI_VERSION_MINOR << ")\n";
        return 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "run") return runCommand(rest, io);
    if (args[0] == "check-config") return checkConfigCommand(rest, io);
    if (args[0] == "plugins") return pluginsCommand(rest, io);
    if (args[0] == "routes") return routesCommand(rest, io);
    io.err << "switchboard: unknown command '" << args[0] << "'\n\n" << usage();
    return 2;
}

}  // namespace switchboard::host::cli
