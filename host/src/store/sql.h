// The store's session as the SQL code sees it, two ways, with `?` placeholders translated
// for the engine underneath (store/sql_dialect.h):
//
//  - POCO Data's `<<`, `use()`, `into()`, `now`, for the general case:
//        s << "SELECT id FROM customers WHERE id = ?", use(id), into(out), now;
//        Poco::Data::Statement q = s << "SELECT ...";  // for a RecordSet: q, use(x), now;
//  - exec()/query() for statements run once or more per stored message (the ingest path):
//        s.exec("UPDATE identities SET last_seen_ms = ? WHERE id = ?", {at, rowId});
//        for (const SqlRow& r : s.query("SELECT id FROM t WHERE k = ?", {key})) r.integer(0);
//    On SQLite each distinct SQL text is prepared once per connection and reused (parsing a
//    statement cost more than running it: bench/README.md); on PostgreSQL they run through
//    POCO like the rest.
#pragma once

#include "store/sql_dialect.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard::host {

// Bytes bound as a BLOB (PostgreSQL: bytea) rather than text.
struct SqlBlob {
    std::string_view bytes;
};
// A parameter: bound for the duration of one exec()/query() call (strings are not copied).
using SqlParam = std::variant<std::nullptr_t, int64_t, double, std::string_view, SqlBlob>;
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

struct SqlRow {
    std::vector<SqlValue> values;
    bool isNull(size_t i) const { return std::holds_alternative<std::nullptr_t>(values.at(i)); }
    // The column as an integer (0 for NULL) or as text ("" for NULL); throws when it is the other kind.
    int64_t integer(size_t i) const;
    const std::string& text(size_t i) const;
};

class PreparedStatementCache;  // store/prepared_statements.h (SQLite only)

class Sql {
public:
    Sql(Poco::Data::Session& session, const SqlDialect& dialect);
    ~Sql();
    Sql(const Sql&) = delete;
    Sql& operator=(const Sql&) = delete;

    // A statement holding sql, placeholders translated; bind and run it with `,`.
    Poco::Data::Statement operator<<(std::string_view sql) {
        Poco::Data::Statement statement(session_);
        statement << dialect_.placeholders(sql);
        return statement;
    }
    // Runs a statement that returns no rows; the number of rows it changed.
    int64_t exec(std::string_view sql, std::initializer_list<SqlParam> params = {});
    // Runs a statement and returns its rows (also INSERT ... RETURNING).
    std::vector<SqlRow> query(std::string_view sql, std::initializer_list<SqlParam> params = {});

    Poco::Data::Session& session() { return session_; }
    const SqlDialect& dialect() const { return dialect_; }

private:
    std::vector<SqlRow> runPoco(std::string_view sql, std::initializer_list<SqlParam> params, int64_t* changed);

    Poco::Data::Session& session_;
    const SqlDialect& dialect_;
    std::unique_ptr<PreparedStatementCache> cache_;  // SQLite only
};

}  // namespace switchboard::host
