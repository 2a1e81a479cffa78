// The few places where SQLite and PostgreSQL SQL differ. Everything else is written once, in
// the subset both engines share (ON CONFLICT, RETURNING, WITH RECURSIVE, COALESCE, CASE), with
// `?` placeholders that the PostgreSQL dialect numbers ($1, $2, ...) in one place.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::host {

enum class SqlEngine { SQLite, PostgreSQL };

class SqlDialect {
public:
    explicit SqlDialect(SqlEngine engine) : engine_(engine) {}
    SqlEngine engine() const { return engine_; }
    bool isPostgres() const { return engine_ == SqlEngine::PostgreSQL; }
    const char* name() const { return isPostgres() ? "postgresql" : "sqlite"; }
    // The statement as this engine takes it: SQLite keeps `?`; PostgreSQL gets `$1, $2, ...`.
    std::string placeholders(std::string_view sql) const;
    // LIKE that ignores ASCII case: SQLite's LIKE already does; PostgreSQL's is ILIKE.
    const char* caseInsensitiveLike() const { return isPostgres() ? "ILIKE" : "LIKE"; }
    // A migration written in SQLite's DDL, as this engine's (SQLite: unchanged). On PostgreSQL:
    // INTEGER PRIMARY KEY AUTOINCREMENT -> BIGSERIAL PRIMARY KEY, INTEGER -> BIGINT (ms
    // timestamps overflow 32 bits), BLOB -> BYTEA, `col COLLATE NOCASE` -> lower(col).
    std::string ddl(std::string_view sqliteDdl) const;

private:
    SqlEngine engine_;
};

// `?` outside quoted strings, quoted identifiers and comments numbered as $1, $2, ...
std::string numberPlaceholders(std::string_view sql);

// host, port and dbname (those present, in that order) of a libpq conninfo ("k=v ..." or a
// postgresql:// URI), for logs and errors: never the password or anything else in it.
std::vector<std::pair<std::string, std::string>> conninfoLocation(std::string_view conninfo);
// The same as "host=H port=P dbname=D".
std::string describeConninfo(std::string_view conninfo);

}  // namespace switchboard::host
