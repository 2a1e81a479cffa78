#include "config/references.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace switchboard::host::config {

namespace {

constexpr std::string_view kLiteralHint = " (write $${ for a literal '${')";
// Secrets are small; a cap stops ${file:/dev/zero} from eating the host's memory.
constexpr size_t kMaxFileBytes = 1024 * 1024;

bool validEnvName(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

// Reads a whole file; on failure returns false and sets error to the errno text.
bool readSmallFile(const std::filesystem::path& path, std::string& content, std::string& error) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        error = std::strerror(errno);
        return false;
    }
    char buffer[8192];
    while (true) {
        size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        content.append(buffer, n);
        if (content.size() > kMaxFileBytes) {
            error = "larger than 1 MiB";
            return false;
        }
        if (n < sizeof buffer) break;
    }
    if (std::ferror(file.get())) {  // e.g. EISDIR: fopen succeeds on a directory
        error = std::strerror(errno);
        return false;
    }
    return true;
}

void trimOneNewline(std::string& text) {
    if (text.ends_with("\r\n")) text.resize(text.size() - 2);
    else if (text.ends_with('\n')) text.pop_back();
}

// Resolves the body of one ${...}: appends its text to result.value, or records an error.
void resolveOne(std::string_view body, const std::filesystem::path& baseDir, ResolvedText& result) {
    size_t colon = body.find(':');
    std::string_view kind = colon == std::string_view::npos ? body : body.substr(0, colon);
    std::string_view arg = colon == std::string_view::npos ? std::string_view{} : body.substr(colon + 1);

    if (colon != std::string_view::npos && kind == "env") {
        if (!validEnvName(arg)) {
            result.errors.push_back(
                "malformed reference ${env:...}: a variable name is letters, digits and '_'"
                " and does not start with a digit");
            return;
        }
        std::string name(arg);
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) {
            result.errors.push_back("environment variable " + name + " is not set");
            return;
        }
        result.value += value;
        result.fromReference = true;
        return;
    }
    if (colon != std::string_view::npos && kind == "file") {
        if (arg.empty()) {
            result.errors.push_back("malformed reference ${file:}: the file path is empty");
            return;
        }
        std::filesystem::path path(arg);
        if (path.is_relative()) path = (baseDir / path).lexically_normal();
        std::string content;
        std::string error;
        if (!readSmallFile(path, content, error)) {
            result.errors.push_back("cannot read file '" + path.string() +
                                    "' (from ${file:" + std::string(arg) + "}): " + error);
            return;
        }
        trimOneNewline(content);
        result.value += content;
        result.fromReference = true;
        return;
    }
    // Quote nothing of it: a literal secret that happens to contain "${" would leak.
    result.errors.push_back("malformed reference: expected ${env:NAME} or ${file:PATH} after '${'" +
                            std::string(kLiteralHint));
}

}  // namespace

ResolvedText resolveReferences(std::string_view text, const std::filesystem::path& baseDir) {
    ResolvedText result;
    size_t i = 0;
    while (i < text.size()) {
        if (text.substr(i).starts_with("$${")) {
            result.value += "${";
            i += 3;
            continue;
        }
        if (!text.substr(i).starts_with("${")) {
            result.value += text[i++];
            continue;
        }
        size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            result.errors.push_back("unterminated reference: '${' has no closing '}'" +
                                    std::string(kLiteralHint));
            break;
        }
        resolveOne(text.substr(i + 2, close - i - 2), baseDir, result);
        i = close + 1;
    }
    return result;
}

std::string quoteBareReferences(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 16);
    char quote = 0;        // inside '...' or "..."
    bool comment = false;  // inside # ... to end of line
    char prevSignificant = '\n';
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') {
            comment = false;
            if (quote == '\'') quote = 0;  // an unterminated quote is the parser's to report
            out += c;
            prevSignificant = '\n';
            continue;
        }
        if (comment) {
            out += c;
            continue;
        }
        if (quote) {
            if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                out += c;
                out += text[++i];
                continue;
            }
            if (c == quote) quote = 0;
            out += c;
            continue;
        }
        const char before = i == 0 ? '\n' : text[i - 1];
        const bool separated = before == ' ' || before == '\t' || before == '\n' || before == '{' ||
                               before == '[' || before == ',';
        const bool valueStart = separated && (prevSignificant == ':' || prevSignificant == '{' ||
                                              prevSignificant == '[' || prevSignificant == ',' ||
                                              prevSignificant == '-' || prevSignificant == '\n');
        if (c == '$' && valueStart && text.substr(i, 6) != "$${env" && (text.substr(i, 6) == "${env:" ||
                                                                          text.substr(i, 7) == "${file:")) {
            size_t end = text.find('}', i);
            if (end != std::string_view::npos && text.substr(i, end - i).find('\n') == std::string_view::npos) {
                std::string ref(text.substr(i, end - i + 1));
                out += '\'';
                for (char r : ref) out += (r == '\'') ? std::string("''") : std::string(1, r);
                out += '\'';
                i = end;
                prevSignificant = '\'';
                continue;
            }
        }
        if (c == '\'' || c == '"') quote = c;
        if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) comment = true;
        if (c != ' ' && c != '\t') prevSignificant = c;
        out += c;
    }
    return out;
}

}  // namespace switchboard::host::config
