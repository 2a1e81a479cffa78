#include "config/config.h"

namespace switchboard::host::config {

std::string ConfigError::format() const {
    std::string out = where.file.empty() ? std::string("<config>") : where.file;
    if (where.line > 0) {
        out += ":" + std::to_string(where.line);
        if (where.column > 0) out += ":" + std::to_string(where.column);
    }
    out += ": ";
    if (!path.empty()) out += path + ": ";
    return out + message;
}

}  // namespace switchboard::host::config
