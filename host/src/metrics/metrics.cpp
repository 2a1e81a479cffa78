#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace switchboard::host {

namespace {

// Label values escape backslash, double-quote and newline; help text escapes backslash
// and newline (exposition format 0.0.4).
std::string escape(const std::string& s, bool quotes) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '"' && quotes) out += "\\\"";
        else out += c;
    }
    return out;
}

std::string formatValue(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// A bucket bound as the shortest decimal that reads back as the same double ("0.005", not
// "0.0050000000000000001"), so le labels look like every other exporter's.
std::string formatBound(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

// {a="x",b="y"} plus an optional extra label (le for histogram buckets); "" when empty.
std::string renderLabels(const Labels& labels, const char* extraName = nullptr, const std::string& extraValue = {}) {
    if (labels.empty() && extraName == nullptr) return {};
    std::string out = "{";
    for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first + "=\"" + escape(labels[i].second, true) + '"';
    }
    if (extraName != nullptr) {
        if (!labels.empty()) out += ',';
        out += std::string(extraName) + "=\"" + escape(extraValue, true) + '"';
    }
    return out + '}';
}

}  // namespace

const std::vector<double>& secondsBuckets() {
    static const std::vector<double> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    return bounds;
}

std::string Metrics::sanitizeName(const std::string& raw) {
    std::string out = raw.empty() ? "_" : raw;
    for (size_t i = 0; i < out.size(); ++i) {
        char c = out[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) out[i] = '_';
    }
    return out;
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.help.empty()) {
        f.type = type;
        f.help = help;
    }
}

void Metrics::describeHistogram(const std::string& name, const std::string& help, std::vector<double> bounds) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.type != "untyped" && f.type != "histogram") return;  // taken by a counter or gauge
    f.type = "histogram";
    if (f.help.empty()) f.help = help;
    if (!f.bounds.empty() || !f.histograms.empty()) return;  // the first declaration wins
    std::erase_if(bounds, [](double b) { return !std::isfinite(b); });
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    f.bounds = std::move(bounds);
}

void Metrics::observe(const std::string& name, const Labels& labels, double value) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.type == "untyped") f.type = "histogram";
    if (f.type != "histogram") return;  // the name is taken by a counter or gauge
    if (f.bounds.empty() && f.histograms.empty()) f.bounds = secondsBuckets();
    auto& h = f.histograms[labels];
    if (h.counts.empty()) h.counts.assign(f.bounds.size() + 1, 0);
    // The first bucket whose upper bound holds the value; past the last one is +Inf.
    size_t at = static_cast<size_t>(std::lower_bound(f.bounds.begin(), f.bounds.end(), value) - f.bounds.begin());
    h.counts[at]++;
    h.count++;
    h.sum += value;
}

HistogramSnapshot Metrics::histogram(const std::string& name, const Labels& labels) const {
    std::lock_guard lock(mutex_);
    HistogramSnapshot out;
    auto f = families_.find(name);
    if (f == families_.end()) return out;
    out.bounds = f->second.bounds;
    out.buckets.assign(out.bounds.size(), 0);
    auto h = f->second.histograms.find(labels);
    if (h == f->second.histograms.end()) return out;
    uint64_t running = 0;
    for (size_t i = 0; i < out.bounds.size(); ++i) out.buckets[i] = running += h->second.counts[i];
    out.count = h->second.count;
    out.sum = h->second.sum;
    return out;
}

void Metrics::add(const std::string& name, const Labels& labels, double delta) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.type == "untyped") f.type = "counter";
    if (f.type == "histogram") return;  // the name is taken by a histogram
    f.series[labels] += delta;
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.type == "untyped") f.type = "gauge";
    if (f.type == "histogram") return;
    f.series[labels] = value;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
    std::lock_guard lock(mutex_);
    auto f = families_.find(name);
    if (f == families_.end()) return 0;
    auto s = f->second.series.find(labels);
    return s == f->second.series.end() ? 0 : s->second;
}

std::string Metrics::renderPrometheus() const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    for (const auto& [name, f] : families_) {
        if (f.series.empty() && f.histograms.empty()) continue;
        if (!f.help.empty()) out << "# HELP " << name << ' ' << escape(f.help, false) << '\n';
        out << "# TYPE " << name << ' ' << f.type << '\n';
        for (const auto& [labels, v] : f.series) out << name << renderLabels(labels) << ' ' << formatValue(v) << '\n';
        for (const auto& [labels, h] : f.histograms) {
            uint64_t running = 0;
            for (size_t i = 0; i < f.bounds.size(); ++i) {
                running += h.counts[i];
                out << name << "_bucket" << renderLabels(labels, "le", formatBound(f.bounds[i])) << ' ' << running
                    << '\n';
            }
            out << name << "_bucket" << renderLabels(labels, "le", "+Inf") << ' ' << h.count << '\n';
            out << name << "_sum" << renderLabels(labels) << ' ' << formatValue(h.sum) << '\n';
            out << name << "_count" << renderLabels(labels) << ' ' << h.count << '\n';
        }
    }
    return out.str();
}

}  // namespace switchboard::host
