// Sql::exec/query, the statements of the ingest path: the same results on SQLite (prepared
// once per connection and reused) and PostgreSQL (through POCO), errors that name the
// statement, and a reused statement that holds nothing between runs.
#include "store/sql.h"
#include "store/store.h"
#include "test_support.h"

#include <Poco/Exception.h>
#include <gtest/gtest.h>

using namespace switchboard::host;
using switchboard::test::TempDir;

namespace {

class SqlTest : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    Store store{switchboard::test::testStoreConfig(GetParam(), dir)};

    void inTx(const std::function<void(Sql&)>& fn) { store.inTransaction(fn); }
};

TEST_P(SqlTest, BindsEveryParameterKindAndReadsThemBack) {
    const std::string bytes("a\0b\xff", 4);  // not text: NUL and an invalid UTF-8 byte
    inTx([&](Sql& s) {
        s.exec("CREATE TABLE sql_probe (i BIGINT, r DOUBLE PRECISION, t TEXT, n TEXT, b " +
               std::string(s.dialect().isPostgres() ? "BYTEA" : "BLOB") + ")");
        EXPECT_EQ(s.exec("INSERT INTO sql_probe (i, r, t, n, b) VALUES (?, ?, ?, ?, ?)",
                         {int64_t{9007199254740993}, 2.5, "Olá 你好", nullptr, SqlBlob{bytes}}),
                  1);
        auto rows = s.query("SELECT i, r, t, n FROM sql_probe WHERE t = ?", {"Olá 你好"});
        ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(rows[0].integer(0), 9007199254740993);  // beyond a double's exact integers
        EXPECT_DOUBLE_EQ(std::get<double>(rows[0].values[1]), 2.5);
        EXPECT_EQ(rows[0].text(2), "Olá 你好");
        EXPECT_TRUE(rows[0].isNull(3));
        EXPECT_EQ(rows[0].text(3), "");
        auto len = s.query("SELECT length(b) FROM sql_probe");
        EXPECT_EQ(len.at(0).integer(0), 4);  // all four bytes, the NUL included
    });
}

TEST_P(SqlTest, ReusedStatementsSeeNewParametersAndCountChangedRows) {
    inTx([&](Sql& s) {
        s.exec("CREATE TABLE sql_probe (k TEXT PRIMARY KEY, v BIGINT)");
        for (int64_t i = 0; i < 5; ++i) s.exec("INSERT INTO sql_probe (k, v) VALUES (?, ?)", {"k" + std::to_string(i), i});
        EXPECT_EQ(s.exec("UPDATE sql_probe SET v = v + 10 WHERE v >= ?", {int64_t{3}}), 2);
        EXPECT_EQ(s.exec("UPDATE sql_probe SET v = v + 10 WHERE v >= ?", {int64_t{100}}), 0);
        for (int64_t i = 0; i < 5; ++i) {
            auto rows = s.query("SELECT v FROM sql_probe WHERE k = ?", {"k" + std::to_string(i)});
            ASSERT_EQ(rows.size(), 1u);
            EXPECT_EQ(rows[0].integer(0), i >= 3 ? i + 10 : i);
        }
        EXPECT_TRUE(s.query("SELECT v FROM sql_probe WHERE k = ?", {"absent"}).empty());
        auto returned = s.query("INSERT INTO sql_probe (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING RETURNING v",
                                {"k1", int64_t{77}});
        EXPECT_TRUE(returned.empty());  // the conflict: nothing inserted, nothing returned
    });
}

TEST_P(SqlTest, AFailedStatementNamesItselfAndLeavesTheSessionUsable) {
    inTx([&](Sql& s) { s.exec("CREATE TABLE sql_probe (k TEXT PRIMARY KEY)"); });
    inTx([&](Sql& s) { s.exec("INSERT INTO sql_probe (k) VALUES (?)", {"a"}); });
    try {
        inTx([&](Sql& s) { s.exec("INSERT INTO sql_probe (k) VALUES (?)", {"a"}); });
        FAIL() << "a duplicate key was accepted";
    } catch (const Poco::Exception& e) {
        // POCO's what() is only the class ("Constraint violation"); the store reports displayText().
        EXPECT_NE(e.displayText().find("sql_probe"), std::string::npos) << e.displayText();
    }
    // The failed statement and its transaction are gone: the same statement runs again.
    inTx([&](Sql& s) { EXPECT_EQ(s.exec("INSERT INTO sql_probe (k) VALUES (?)", {"b"}), 1); });
    store.withSession([&](Sql& s) {
        EXPECT_EQ(s.query("SELECT COUNT(*) FROM sql_probe").at(0).integer(0), 2);
        EXPECT_THROW(s.query("SELECT k FROM sql_probe WHERE k = ?", {}), std::exception);  // parameter missing
    });
}

TEST_P(SqlTest, ARolledBackTransactionKeepsNothingOfTheCachedStatements) {
    inTx([&](Sql& s) { s.exec("CREATE TABLE sql_probe (k TEXT)"); });
    store.dryRun([&](Sql& s) { s.exec("INSERT INTO sql_probe (k) VALUES (?)", {"gone"}); });
    store.withSession([&](Sql& s) {
        EXPECT_TRUE(s.query("SELECT k FROM sql_probe WHERE k = ?", {"gone"}).empty());
    });
}

INSTANTIATE_TEST_SUITE_P(Engines, SqlTest, ::testing::ValuesIn(switchboard::test::kStoreKinds),
                         [](const auto& info) { return info.param; });

}  // namespace
