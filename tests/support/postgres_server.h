// A private PostgreSQL server for tests.
//
// Facts about POCO 1.11's PostgreSQL connector (Debian 12) for porting the SQLite store,
// checked by tests/integration/postgres_server_test.cpp (ConnectorPlaceholdersAndTypes):
// - Placeholders are PostgreSQL's `$1, $2, ...` (reusable); `?` reaches the server untouched
//   and is a syntax error, so the SQLite store's `?` SQL must be rewritten.
// - POCO declares no parameter types: the server infers them from the SQL (column or cast),
//   so `SELECT pg_typeof($1)` fails; add a cast where the context gives no type.
// - A BLOB is sent as raw bytes (NUL safe) into BYTEA. Read BYTEA into a BLOB: read into a
//   std::string it comes back as hex text ("\x00ff").
// - Int64 <-> BIGINT is exact. A BIGINT read into an int that cannot hold it yields 0
//   silently: read BIGINT (and count(*)) into Int64.
// - Text is UTF-8 both ways in a UTF8 database (createDatabase() makes UTF8 ones).
// - The session string is a libpq conninfo ("host=... port=... user=... dbname=...").
#pragma once

#include "test_support.h"

#include <atomic>
#include <string>

namespace switchboard::test {

// A private PostgreSQL server on 127.0.0.1:<free port>, data in a temp dir, run as `nobody`
// when we are root (initdb and postgres refuse root); stopped (pg_ctl -m fast, kill -9 if that
// hangs) and removed on destruction. A watchdog process also kills it if the test process dies
// without running destructors (crash, ctest timeout). Throws std::runtime_error with the
// server's log tail when it cannot start; retries once on a port race.
class PostgresServer {
public:
    PostgresServer();
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    int port() const { return port_; }
    std::string host() const { return "127.0.0.1"; }
    std::string user() const { return "sbtest"; }
    const std::string& dataDir() const { return dataDir_; }
    // The server's log so far (startup, errors).
    std::string log() const;

    // A fresh, empty UTF8 database per call ("sbtest_1", "sbtest_2", ...), owned by user().
    std::string createDatabase();
    // libpq/POCO connection string for a database: "host=127.0.0.1 port=N user=sbtest dbname=D".
    std::string connectionString(const std::string& database) const;

private:
    bool start();  // false on a port race worth one retry; throws on other failures
    void stop();
    void startWatchdog();

    TempDir dir_;
    std::string binDir_;
    std::string runDir_;  // owned by the server's user: data, socket and log live here
    std::string dataDir_;
    std::string logPath_;
    int port_ = 0;
    int ownerPid_ = 0;       // a forked child must not stop its parent's server
    int watchdogPid_ = -1;
    int watchdogFd_ = -1;    // write end; the watchdog acts when it reads EOF
    std::atomic<int> databases_{0};
};

// One server per test binary, started on first use and stopped at exit. Tests share it and
// isolate themselves with createDatabase().
PostgresServer& sharedPostgres();

}  // namespace switchboard::test
