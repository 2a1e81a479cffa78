#include "cli/cli.h"
#include "cli/setup.h"

#include <ostream>

namespace switchboard::host::cli {

int checkConfigCommand(const std::vector<std::string>& args, Streams io) {
    CommonArgs a = parseCommonArgs(args);
    if (!a.error.empty() || a.configFile.empty() || !a.positional.empty()) {
        io.err << "switchboard check-config: " << (a.error.empty() ? "expected -c FILE" : a.error) << "\n";
        return 2;
    }
    Setup s = loadSetup(a.configFile, a.pluginDirs);
    for (const auto& w : s.registry.warnings()) io.err << "warning: " << w << "\n";
    // A refused plugin file matters only when a connector needs it; list it as a hint.
    if (!s.ok()) {
        for (const auto& e : s.errors) io.err << e << "\n";
        for (const auto& e : s.registry.errors()) io.err << "note: " << e << "\n";
        io.err << a.configFile << ": " << s.errors.size() << (s.errors.size() == 1 ? " error" : " errors") << "\n";
        return 1;
    }
    io.out << a.configFile << ": OK (" << s.plan.instances.size() << " connector"
           << (s.plan.instances.size() == 1 ? "" : "s") << ")\n";
    return 0;
}

}  // namespace switchboard::host::cli
