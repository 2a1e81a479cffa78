#pragma once

namespace email {
// GMime's global state (charset tables, iconv cache) is set up once per process, before
// the first parse or compose; g_mime_init is not safe to race.
void ensureGmimeInitialized();
}  // namespace email
