// SQLite statements prepared once per connection and reused: the connection is the one POCO
// opened for the store's session (same transactions, same locks). Each run binds, steps to
// the end and resets, so no statement stays active between calls.
#pragma once

#include "store/sql.h"

#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace switchboard::host {

class PreparedStatementCache {
public:
    explicit PreparedStatementCache(sqlite3* db) : db_(db) {}
    ~PreparedStatementCache();
    PreparedStatementCache(const PreparedStatementCache&) = delete;
    PreparedStatementCache& operator=(const PreparedStatementCache&) = delete;

    // Runs sql with params; appends its rows to rows (when not null); the rows it changed.
    // Throws std::runtime_error with SQLite's message and the statement on failure.
    int64_t run(const std::string& sql, std::initializer_list<SqlParam> params, std::vector<SqlRow>* rows);

private:
    sqlite3_stmt* prepared(const std::string& sql);

    sqlite3* db_;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace switchboard::host
