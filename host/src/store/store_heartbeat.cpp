// The store's heartbeat (a small durable write the commit queue runs while the store is
// failing) and the PostgreSQL reconnect it and the group commit share.
#include "store/store.h"

#include "customer/customer_ids.h"
#include "log/log.h"
#include "store/commit_queue.h"
#include "store/store_fault.h"

#include <Poco/Data/Session.h>

#include <string_view>

using namespace Poco::Data::Keywords;

namespace switchboard::host {

namespace {

// About a page of data: the write needs room on disk, not only the lock. One row rewritten
// in place, so however long the store fails the file does not grow.
constexpr size_t kHeartbeatBytes = 4096;
constexpr std::chrono::seconds kReconnectInterval{1};

}  // namespace

void Store::heartbeat() {
    std::lock_guard lock(mutex_);
    reconnectIfLostLocked();
    const std::string value = customer::randomHex(kHeartbeatBytes);
    try {
        beginWriteLocked();
        sql_->exec("INSERT INTO store_meta (key, value) VALUES ('heartbeat', ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   {std::string_view(value)});
        commitWriteLocked();
    } catch (const std::exception& e) {
        const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
        rollbackQuietlyLocked();
        throw StoreFault(scrubbed("the heartbeat write to " + path_ + " failed: " +
                                  (poco ? poco->displayText() : std::string(e.what()))),
                         scrubbed(engineMessage(e)));
    }
}

void Store::reconnectIfLostLocked() {
    if (!dialect_.isPostgres() || session_->isConnected()) return;
    const auto now = std::chrono::steady_clock::now();
    // Fail fast between attempts (a burst of commits must not each wait for a connect).
    if (now - lastReconnect_ < kReconnectInterval)
        throw StoreFault("the connection to " + path_ + " is lost: " + reconnectError_, reconnectError_);
    lastReconnect_ = now;
    logWarn("the connection to the store was lost; reconnecting", {{"store", path_}});
    try {
        openPostgres(conninfo_);  // may replace session_: sql_ is rebuilt either way
    } catch (const std::exception& e) {
        sql_ = std::make_unique<Sql>(*session_, dialect_);
        const std::string why = e.what();  // openPostgres names no secret
        const std::string prefix = "cannot open store " + path_ + ": ";
        reconnectError_ = why.rfind(prefix, 0) == 0 ? why.substr(prefix.size()) : why;
        throw StoreFault(why, reconnectError_);
    }
    sql_ = std::make_unique<Sql>(*session_, dialect_);
    logInfo("reconnected to the store", {{"store", path_}});
}

}  // namespace switchboard::host
