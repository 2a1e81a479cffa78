// sb_bench_bulk --db FILE --plugin switchboard-bench-source.so [--marks 10000,100000,1000000]
//               [--start N] [--batch N] [--lookups N] [--json OUT]
// Bulk sync and store growth: see bulk.hpp. Prints one JSON object (also to --json).
#include "bulk.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    sbbench::BulkOptions o;
    std::string jsonOut;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--db") o.dbPath = next();
        else if (a == "--plugin") o.pluginPath = next();
        else if (a == "--start") o.start = std::stoll(next());
        else if (a == "--batch") o.batch = std::stoll(next());
        else if (a == "--lookups") o.lookups = std::stoull(next());
        else if (a == "--json") jsonOut = next();
        else if (a == "--marks") {
            o.marks.clear();
            std::stringstream ss(next());
            for (std::string p; std::getline(ss, p, ',');) o.marks.push_back(std::stoll(p));
        } else {
            std::cerr << "unknown argument " << a << "\n";
            return 2;
        }
    }
    if (o.dbPath.empty() || o.pluginPath.empty()) {
        std::cerr << "usage: sb_bench_bulk --db FILE --plugin PLUGIN.so [--marks a,b,c] [--start N] [--batch N]"
                     " [--lookups N] [--json OUT]\n";
        return 2;
    }
    switchboard::host::Logger::instance().configure(switchboard::host::LogLevel::Warn,
                                                    switchboard::host::Logger::Format::Text);
    try {
        auto r = sbbench::runBulk(o);
        auto j = r.toJson();
        j["batch"] = o.batch;
        std::cout << j.dump(2) << "\n";
        if (!jsonOut.empty()) std::ofstream(jsonOut) << j.dump(2) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "sb_bench_bulk: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
