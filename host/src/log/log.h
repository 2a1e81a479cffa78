// Structured logging: one line per event, as text for a terminal or JSON lines by option,
// with the connector instance as a field. Thread-safe; checks the level before formatting.
#pragma once

#include <switchboard/plugin.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::host {

enum class LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4 };

std::optional<LogLevel> parseLogLevel(std::string_view name);
const char* logLevelName(LogLevel level);

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
public:
    enum class Format { Text, Json };

    static Logger& instance();

    void configure(LogLevel level, Format format);
    bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }
    // scope: "" for the host, else "<kind>:<plugin>:<instance>".
    void write(LogLevel level, std::string_view scope, std::string_view message, const LogFields& fields = {});

    // Tests capture lines instead of writing them to stderr.
    void captureForTesting(std::vector<std::string>* sink);

private:
    std::atomic<LogLevel> level_{LogLevel::Info};
    Format format_ = Format::Text;
    std::mutex mutex_;
    std::vector<std::string>* capture_ = nullptr;
};

inline void logInfo(std::string_view msg, const LogFields& f = {}) { Logger::instance().write(LogLevel::Info, "", msg, f); }
inline void logWarn(std::string_view msg, const LogFields& f = {}) { Logger::instance().write(LogLevel::Warn, "", msg, f); }
inline void logError(std::string_view msg, const LogFields& f = {}) { Logger::instance().write(LogLevel::Error, "", msg, f); }
inline void logDebug(std::string_view msg, const LogFields& f = {}) {
    if (Logger::instance().enabled(LogLevel::Debug)) Logger::instance().write(LogLevel::Debug, "", msg, f);
}

}  // namespace switchboard::host
