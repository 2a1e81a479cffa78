// The store's session as the SQL code sees it: POCO Data's `<<`, `use()`, `into()`, `now`,
// with `?` placeholders translated for the engine underneath (store/sql_dialect.h).
//
//     s << "SELECT id FROM customers WHERE id = ?", use(id), into(out), now;
//     Poco::Data::Statement q = s << "SELECT ...";  // for a RecordSet: q, use(x), now;
#pragma once

#include "store/sql_dialect.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <string>
#include <string_view>

namespace switchboard::host {

class Sql {
public:
    Sql(Poco::Data::Session& session, const SqlDialect& dialect) : session_(session), dialect_(dialect) {}
    Sql(const Sql&) = delete;
    Sql& operator=(const Sql&) = delete;

    // A statement holding sql, placeholders translated; bind and run it with `,`.
    Poco::Data::Statement operator<<(std::string_view sql) {
        Poco::Data::Statement statement(session_);
        statement << dialect_.placeholders(sql);
        return statement;
    }
    Poco::Data::Session& session() { return session_; }
    const SqlDialect& dialect() const { return dialect_; }

private:
    Poco::Data::Session& session_;
    const SqlDialect& dialect_;
};

}  // namespace switchboard::host
