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

}  // namespace switchboard::host
