#include "gmime_init.h"

#include <gmime/gmime.h>

#include <mutex>

namespace email {

void ensureGmimeInitialized() {
    static std::once_flag once;
    // Never shut down: another library in the process may share GMime, and the cost is a
    // few static tables.
    std::call_once(once, [] { g_mime_init(); });
}

}  // namespace email
