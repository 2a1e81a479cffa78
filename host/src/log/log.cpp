#include "log/log.h"

#include "runtime/time_format.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace switchboard::host {


std::optional<LogLevel> parseLogLevel(std::string_view name) {
    if (name == "trace") return LogLevel::Trace;
    if (name == "debug") return LogLevel::Debug;
    if (name == "info") return LogLevel::Info;
    if (name == "warn" || name == "warning") return LogLevel::Warn;
    if (name == "error") return LogLevel::Error;
    return std::nullopt;
}

const char* logLevelName(LogLevel level) {
    switch (level) {
        case LogLevel::Trace: return "trace";
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Warn: return "warn";
        case LogLevel::Error: return "error";
    }
    return "info";
}

Logger& Logger::instance() {
    static Logger logger;
    return logger;
}

void Logger::configure(LogLevel level, Format format) {
    std::lock_guard lock(mutex_);
    level_ = level;
    format_ = format;
}

void Logger::captureForTesting(std::vector<std::string>* sink) {
    std::lock_guard lock(mutex_);
    capture_ = sink;
}

void Logger::write(LogLevel level, std::string_view scope, std::string_view message, const LogFields& fields) {
    if (!enabled(level)) return;
    std::string line;
    if (format_ == Format::Json) {
        nlohmann::json j;
        j["ts"] = formatUtc(std::chrono::system_clock::now());
        j["level"] = logLevelName(level);
        if (!scope.empty()) j["scope"] = std::string(scope);
        j["msg"] = std::string(message);
        for (const auto& [k, v] : fields) j[k] = v;
        line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        line = formatUtc(std::chrono::system_clock::now()) + " " + logLevelName(level) + " ";
        if (!scope.empty()) line += "[" + std::string(scope) + "] ";
        line += message;
        for (const auto& [k, v] : fields) line += " " + k + "=" + v;
    }
    std::lock_guard lock(mutex_);
    if (capture_) {
        capture_->push_back(std::move(line));
        return;
    }
    std::cerr << line << '\n';
}

}  // namespace switchboard::host
