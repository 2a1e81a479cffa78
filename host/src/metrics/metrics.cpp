#include "metrics/metrics.h"

#include <cmath>
#include <cstdio>
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

}  // namespace

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

void Metrics::add(const std::string& name, const Labels& labels, double delta) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.type == "untyped") f.type = "counter";
    f.series[labels] += delta;
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
    std::lock_guard lock(mutex_);
    auto& f = families_[name];
    if (f.type == "untyped") f.type = "gauge";
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
        if (f.series.empty()) continue;
        if (!f.help.empty()) out << "# HELP " << name << ' ' << escape(f.help, false) << '\n';
        out << "# TYPE " << name << ' ' << f.type << '\n';
        for (const auto& [labels, v] : f.series) {
            out << name;
            if (!labels.empty()) {
                out << '{';
                for (size_t i = 0; i < labels.size(); ++i) {
                    if (i) out << ',';
                    out << labels[i].first << "=\"" << escape(labels[i].second, true) << '"';
                }
                out << '}';
            }
            out << ' ' << formatValue(v) << '\n';
        }
    }
    return out.str();
}

}  // namespace switchboard::host
