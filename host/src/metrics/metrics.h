// Process-wide metrics with labels, rendered in the Prometheus text exposition format
// (version 0.0.4). POCO 1.11 has no Prometheus module, so the format is written here.
// Counters, gauges and histograms (cumulative `_bucket{le="..."}` series, `_sum`, `_count`).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::host {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Upper bounds for latencies in seconds, 100 µs to 10 s.
const std::vector<double>& secondsBuckets();

// One histogram series as observed so far.
struct HistogramSnapshot {
    std::vector<double> bounds;     // upper bounds, ascending (+Inf is implicit)
    std::vector<uint64_t> buckets;  // observations <= bounds[i] (cumulative, as exposed)
    uint64_t count = 0;
    double sum = 0;
};

class Metrics {
public:
    // Declares a family once; later calls with the same name keep the first help text.
    void describe(const std::string& name, const std::string& type, const std::string& help);
    // Declares a histogram family with its bucket upper bounds (ascending, finite); without
    // this, observe() uses secondsBuckets().
    void describeHistogram(const std::string& name, const std::string& help, std::vector<double> bounds);
    void add(const std::string& name, const Labels& labels, double delta = 1);  // counter
    void set(const std::string& name, const Labels& labels, double value);     // gauge
    void observe(const std::string& name, const Labels& labels, double value);  // histogram
    double value(const std::string& name, const Labels& labels) const;
    // The series of a histogram family; empty (count 0) when never observed.
    HistogramSnapshot histogram(const std::string& name, const Labels& labels) const;
    std::string renderPrometheus() const;

    // A metric name from an untrusted part ([a-zA-Z0-9_:], others become '_').
    static std::string sanitizeName(const std::string& raw);

private:
    struct Histogram {
        std::vector<uint64_t> counts;  // per bucket, not cumulative; last is +Inf
        uint64_t count = 0;
        double sum = 0;
    };
    struct Family {
        std::string type = "untyped";
        std::string help;
        std::map<Labels, double> series;
        std::vector<double> bounds;  // histograms only
        std::map<Labels, Histogram> histograms;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

}  // namespace switchboard::host
