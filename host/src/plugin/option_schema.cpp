#include "plugin/option_schema.h"

namespace switchboard::host {

const char* optionTypeName(sb_option_type type) {
    switch (type) {
        case SB_OPT_STRING: return "string";
        case SB_OPT_INT: return "int";
        case SB_OPT_BOOL: return "bool";
        case SB_OPT_DOUBLE: return "double";
        case SB_OPT_DURATION: return "duration";
        case SB_OPT_STRING_LIST: return "list of strings";
    }
    return "unknown";
}

const char* optionFormatName(sb_option_format format) {
    switch (format) {
        case SB_FORMAT_ANY: return "";
        case SB_FORMAT_URL: return "URL";
        case SB_FORMAT_HTTP_URL: return "http(s) URL";
        case SB_FORMAT_EMAIL: return "email address";
    }
    return "";
}

std::vector<std::string> splitOptionList(const char* text, char separator) {
    std::vector<std::string> out;
    if (text == nullptr) return out;
    std::string current;
    auto flush = [&] {
        const auto first = current.find_first_not_of(" \t");
        const auto last = current.find_last_not_of(" \t");
        if (first != std::string::npos) out.push_back(current.substr(first, last - first + 1));
        current.clear();
    };
    for (const char* p = text; *p; ++p) {
        if (*p == separator) {
            flush();
        } else {
            current += *p;
        }
    }
    flush();
    return out;
}

}  // namespace switchboard::host
