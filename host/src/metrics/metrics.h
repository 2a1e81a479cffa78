// Process-wide metrics with labels, rendered in the Prometheus text exposition format
// (version 0.0.4). POCO 1.11 has no Prometheus module, so the format is written here.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::host {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
public:
    // Declares a family once; later calls with the same name keep the first help text.
    void describe(const std::string& name, const std::string& type, const std::string& help);
    void add(const std::string& name, const Labels& labels, double delta = 1);  // counter
    void set(const std::string& name, const Labels& labels, double value);     // gauge
    double value(const std::string& name, const Labels& labels) const;
    std::string renderPrometheus() const;

    // A metric name from an untrusted part ([a-zA-Z0-9_:], others become '_').
    static std::string sanitizeName(const std::string& raw);

private:
    struct Family {
        std::string type = "untyped";
        std::string help;
        std::map<Labels, double> series;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

}  // namespace switchboard::host
