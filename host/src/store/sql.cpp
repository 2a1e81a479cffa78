#include "store/sql.h"

#include "store/prepared_statements.h"

#include <Poco/Data/LOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Nullable.h>

#include <deque>
#include <stdexcept>

namespace switchboard::host {

int64_t SqlRow::integer(size_t i) const {
    const SqlValue& v = values.at(i);
    if (std::holds_alternative<std::nullptr_t>(v)) return 0;
    if (auto* n = std::get_if<int64_t>(&v)) return *n;
    if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
    throw std::invalid_argument("column " + std::to_string(i) + " is text, not an integer");
}

const std::string& SqlRow::text(size_t i) const {
    static const std::string kEmpty;
    const SqlValue& v = values.at(i);
    if (std::holds_alternative<std::nullptr_t>(v)) return kEmpty;
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    throw std::invalid_argument("column " + std::to_string(i) + " is a number, not text");
}

Sql::Sql(Poco::Data::Session& session, const SqlDialect& dialect) : session_(session), dialect_(dialect) {
    if (!dialect_.isPostgres())
        cache_ = std::make_unique<PreparedStatementCache>(Poco::Data::SQLite::Utility::dbHandle(session_));
}

Sql::~Sql() = default;

int64_t Sql::exec(std::string_view sql, std::initializer_list<SqlParam> params) {
    if (cache_) return cache_->run(std::string(sql), params, nullptr);
    int64_t changed = 0;
    runPoco(sql, params, &changed);
    return changed;
}

std::vector<SqlRow> Sql::query(std::string_view sql, std::initializer_list<SqlParam> params) {
    std::vector<SqlRow> rows;
    if (cache_) cache_->run(std::string(sql), params, &rows);
    else rows = runPoco(sql, params, nullptr);
    return rows;
}

// PostgreSQL: one POCO statement per call (the server keeps no plan between them).
std::vector<SqlRow> Sql::runPoco(std::string_view sql, std::initializer_list<SqlParam> params, int64_t* changed) {
    using Poco::Data::Keywords::use;
    Poco::Data::Statement st(session_);
    st << dialect_.placeholders(sql);
    // POCO binds by reference: the values live here until the statement has run.
    std::deque<Poco::Nullable<std::string>> nulls;
    std::deque<int64_t> integers;
    std::deque<double> reals;
    std::deque<std::string> texts;
    std::deque<Poco::Data::BLOB> blobs;
    for (const SqlParam& p : params) {
        if (std::holds_alternative<std::nullptr_t>(p)) st, use(nulls.emplace_back());
        else if (auto* n = std::get_if<int64_t>(&p)) st, use(integers.emplace_back(*n));
        else if (auto* d = std::get_if<double>(&p)) st, use(reals.emplace_back(*d));
        else if (auto* b = std::get_if<SqlBlob>(&p))
            st, use(blobs.emplace_back(reinterpret_cast<const unsigned char*>(b->bytes.data()), b->bytes.size()));
        else st, use(texts.emplace_back(std::get<std::string_view>(p)));
    }
    const size_t affected = st.execute();
    if (changed) *changed = static_cast<int64_t>(affected);
    std::vector<SqlRow> rows;
    if (st.columnsExtracted() == 0) return rows;  // UPDATE, INSERT without RETURNING
    Poco::Data::RecordSet rs(st);
    for (size_t r = 0; r < rs.rowCount(); ++r) {
        SqlRow row;
        for (size_t c = 0; c < rs.columnCount(); ++c) {
            const Poco::Dynamic::Var& v = rs.value(c, r);
            if (v.isEmpty()) row.values.emplace_back(nullptr);
            else if (v.isInteger()) row.values.emplace_back(v.convert<int64_t>());
            else if (v.isNumeric()) row.values.emplace_back(v.convert<double>());
            else row.values.emplace_back(v.convert<std::string>());
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace switchboard::host
