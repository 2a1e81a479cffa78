// sb_bench_openloop --port N --path /webhooks/x --body FILE --rate R [--duration S]
//                   [--connections C] [--id-prefix P] [--json OUT]
// Constant-rate (open-loop) load with latency from the scheduled send time: see openloop.hpp.
#include "openloop.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    sbbench::OpenLoopOptions o;
    std::string bodyFile, jsonOut;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            auto next = [&]() -> std::string {
                if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
                return argv[++i];
            };
            if (a == "--host") o.host = next();
            else if (a == "--port") o.port = std::stoi(next());
            else if (a == "--path") o.path = next();
            else if (a == "--body") bodyFile = next();
            else if (a == "--rate") o.rate = std::stod(next());
            else if (a == "--duration") o.durationS = std::stod(next());
            else if (a == "--connections") o.connections = std::stoi(next());
            else if (a == "--id-prefix") o.idPrefix = next();
            else if (a == "--json") jsonOut = next();
            else throw std::runtime_error("unknown argument " + a);
        }
        if (o.port == 0 || bodyFile.empty()) throw std::runtime_error("--port and --body are required");
        std::ifstream in(bodyFile);
        std::stringstream ss;
        ss << in.rdbuf();
        o.bodyTemplate = ss.str();
        while (!o.bodyTemplate.empty() && (o.bodyTemplate.back() == '\n' || o.bodyTemplate.back() == '\r'))
            o.bodyTemplate.pop_back();
        auto r = sbbench::runOpenLoop(o);
        std::cout << r.toJson().dump(2) << "\n";
        if (!jsonOut.empty()) std::ofstream(jsonOut) << r.toJson().dump(2) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "sb_bench_openloop: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
