#include "store/prepared_statements.h"

#include <Poco/Data/SQLite/Utility.h>
#include <sqlite3.h>

namespace switchboard::host {

namespace {

// SQLite's error for rc, as POCO's SQLite connector raises it (ConstraintViolationException,
// DBLockedException, ...), naming the statement.
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& sql) {
    Poco::Data::SQLite::Utility::throwException(db, rc, "in: " + sql);
    throw std::logic_error("unreachable");  // throwException always throws
}

// Binds for one run: strings are bound SQLITE_STATIC because they outlive the run (the
// caller's arguments), and the statement is reset and unbound before run() returns.
void bind(sqlite3* db, sqlite3_stmt* st, std::initializer_list<SqlParam> params, const std::string& sql) {
    int i = 1;
    for (const SqlParam& p : params) {
        int rc = SQLITE_OK;
        if (std::holds_alternative<std::nullptr_t>(p)) rc = sqlite3_bind_null(st, i);
        else if (auto* n = std::get_if<int64_t>(&p)) rc = sqlite3_bind_int64(st, i, *n);
        else if (auto* d = std::get_if<double>(&p)) rc = sqlite3_bind_double(st, i, *d);
        else if (auto* b = std::get_if<SqlBlob>(&p))
            rc = sqlite3_bind_blob64(st, i, b->bytes.data() ? b->bytes.data() : "", b->bytes.size(), SQLITE_STATIC);
        else {
            auto s = std::get<std::string_view>(p);
            rc = sqlite3_bind_text64(st, i, s.data() ? s.data() : "", s.size(), SQLITE_STATIC, SQLITE_UTF8);
        }
        if (rc != SQLITE_OK) fail(db, rc, sql);
        ++i;
    }
}

SqlRow readRow(sqlite3_stmt* st) {
    SqlRow row;
    const int n = sqlite3_column_count(st);
    row.values.reserve(static_cast<size_t>(n));
    for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(st, c)) {
            case SQLITE_NULL: row.values.emplace_back(nullptr); break;
            case SQLITE_INTEGER: row.values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(st, c))); break;
            case SQLITE_FLOAT: row.values.emplace_back(sqlite3_column_double(st, c)); break;
            default: {
                const auto* text = reinterpret_cast<const char*>(sqlite3_column_blob(st, c));
                row.values.emplace_back(std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
            }
        }
    }
    return row;
}

// Leaves the statement idle (no open read cursor, no held bindings) whatever happened.
struct ResetOnExit {
    sqlite3_stmt* st;
    ~ResetOnExit() {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
};

}  // namespace

PreparedStatementCache::~PreparedStatementCache() {
    for (auto& [sql, st] : statements_) sqlite3_finalize(st);
}

sqlite3_stmt* PreparedStatementCache::prepared(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                      nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, sql);
    statements_.emplace(sql, st);
    return st;
}

int64_t PreparedStatementCache::run(const std::string& sql, std::initializer_list<SqlParam> params,
                                    std::vector<SqlRow>* rows) {
    sqlite3_stmt* st = prepared(sql);
    ResetOnExit idle{st};
    if (static_cast<size_t>(sqlite3_bind_parameter_count(st)) != params.size())
        throw std::invalid_argument("statement expects " + std::to_string(sqlite3_bind_parameter_count(st)) +
                                    " parameters, got " + std::to_string(params.size()) + ": " + sql);
    bind(db_, st, params, sql);
    while (true) {
        const int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) fail(db_, rc, sql);
        if (rows) rows->push_back(readRow(st));
    }
    return sqlite3_changes64(db_);
}

}  // namespace switchboard::host
