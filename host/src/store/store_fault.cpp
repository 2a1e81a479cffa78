#include "store/store_fault.h"

#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/SQLite/SQLiteException.h>

#include <string_view>

namespace switchboard::host {

namespace {

// SQLite result codes that say the database cannot be written now, whatever the data.
bool isSqliteFault(const std::exception& e) {
    namespace sq = Poco::Data::SQLite;
    return dynamic_cast<const sq::DatabaseFullException*>(&e) || dynamic_cast<const sq::IOErrorException*>(&e) ||
           dynamic_cast<const sq::DBLockedException*>(&e) || dynamic_cast<const sq::TableLockedException*>(&e) ||
           dynamic_cast<const sq::NoMemoryException*>(&e) || dynamic_cast<const sq::ReadOnlyException*>(&e) ||
           dynamic_cast<const sq::CorruptImageException*>(&e) ||
           dynamic_cast<const sq::CantOpenDBFileException*>(&e) ||
           dynamic_cast<const sq::LockProtocolException*>(&e) || dynamic_cast<const sq::InterruptException*>(&e);
}

// POCO puts the SQLSTATE in the message ("... State: 53100 ..."). Classes that are the
// server's or the connection's state, not the statement's: 08 connection, 53 insufficient
// resources (disk full, out of memory), 57 operator intervention (shutdown, cancel),
// 58 system error (I/O), XX internal error.
bool isPostgresFault(const std::exception& e) {
    namespace pg = Poco::Data::PostgreSQL;
    if (dynamic_cast<const pg::ConnectionException*>(&e)) return true;
    const auto* poco = dynamic_cast<const pg::PostgreSQLException*>(&e);
    if (!poco) return false;
    const std::string& text = poco->message();
    const size_t at = text.find("State: ");
    if (at == std::string::npos) return false;
    const std::string_view state = std::string_view(text).substr(at + 7, 2);
    return state == "08" || state == "53" || state == "57" || state == "58" || state == "XX";
}

}  // namespace

std::string engineMessage(const std::exception& e) {
    const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
    if (!poco) return e.what();
    std::string text = poco->message().empty() ? poco->displayText() : poco->message();
    // SQLite through store/prepared_statements.cpp: "<message>: in: <sql>".
    if (const size_t sql = text.find(": in: ");
        sql != std::string::npos && dynamic_cast<const Poco::Data::SQLite::SQLiteException*>(&e))
        text.erase(sql);
    // PostgreSQL: "<POCO's context>: ERROR:  <message>\n<details, SQLSTATE>" (FATAL: when the
    // server ended the connection).
    for (const std::string_view severity : {"ERROR:", "FATAL:", "PANIC:"}) {
        if (const size_t at = text.find(severity); at != std::string::npos) {
            text.erase(0, at + severity.size());
            break;
        }
    }
    if (const size_t line = text.find('\n'); line != std::string::npos) text.erase(line);
    const size_t first = text.find_first_not_of(' ');
    const size_t last = text.find_last_not_of(' ');
    return first == std::string::npos ? poco->displayText() : text.substr(first, last - first + 1);
}

std::optional<std::string> storeFaultCause(const std::exception& e) {
    if (isSqliteFault(e) || isPostgresFault(e)) return engineMessage(e);
    return std::nullopt;
}

}  // namespace switchboard::host
