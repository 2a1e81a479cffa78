// The test PostgreSQL server: starts on loopback, isolates tests by database, round-trips
// data through POCO's connector, and leaves nothing behind.
#include "postgres_server.h"

#include <Poco/Data/LOB.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;
using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using switchboard::test::acceptsConnections;
using switchboard::test::waitFor;
using switchboard::test::PostgresServer;
using switchboard::test::sharedPostgres;

namespace {

Session connect(const PostgresServer& pg, const std::string& db) {
    Poco::Data::PostgreSQL::Connector::registerConnector();
    return Session("PostgreSQL", pg.connectionString(db));
}

Poco::Data::BLOB bytes(const std::string& s) {
    return Poco::Data::BLOB(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

int publicTables(Session& s) {
    int n = -1;
    s << "SELECT count(*)::int FROM information_schema.tables WHERE table_schema = 'public'", into(n), now;
    return n;
}

}  // namespace

TEST(PostgresServer, ListensOnLoopbackWithDataInATempDir) {
    PostgresServer& pg = sharedPostgres();
    EXPECT_EQ(pg.host(), "127.0.0.1");
    EXPECT_GT(pg.port(), 0);
    EXPECT_TRUE(acceptsConnections(pg.port()));

    const fs::path data = pg.dataDir();
    const std::string tmp = fs::temp_directory_path().string();
    EXPECT_EQ(data.string().rfind(tmp + "/switchboard-test-", 0), 0u) << data;
    EXPECT_TRUE(fs::exists(data / "postmaster.pid"));
    if (fs::exists("/usr/lib/postgresql/15/bin/initdb")) {
        EXPECT_EQ(switchboard::test::readFile((data / "PG_VERSION").string()), "15\n");
    }
    Session s = connect(pg, "postgres");
    std::string address;
    s << "SELECT host(inet_server_addr())", into(address), now;
    EXPECT_EQ(address, "127.0.0.1");
}

TEST(PostgresServer, CreateDatabaseGivesDistinctEmptyDatabases) {
    PostgresServer& pg = sharedPostgres();
    std::string a = pg.createDatabase();
    std::string b = pg.createDatabase();
    EXPECT_NE(a, b);
    EXPECT_EQ(a.rfind("sbtest_", 0), 0u);

    Session sa = connect(pg, a);
    Session sb = connect(pg, b);
    EXPECT_EQ(publicTables(sa), 0);
    EXPECT_EQ(publicTables(sb), 0);
    sa << "CREATE TABLE only_in_a (x INT)", now;
    EXPECT_EQ(publicTables(sa), 1);
    EXPECT_EQ(publicTables(sb), 0);

    std::string owner, encoding;
    sa << "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = $1",
        use(a), into(owner), into(encoding), now;
    EXPECT_EQ(owner, pg.user());
    EXPECT_EQ(encoding, "UTF8");
}

TEST(PostgresServer, RoundTripsUtf8TextBytesWithNulAndInt64) {
    PostgresServer& pg = sharedPostgres();
    Session s = connect(pg, pg.createDatabase());
    s << "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL, data BYTEA NOT NULL)", now;

    Poco::Int64 id = std::numeric_limits<Poco::Int64>::max() - 1;  // needs all 64 bits
    std::string name = "Olá 中文";
    Poco::Data::BLOB blob = bytes(std::string("a\0b\xff\x00z", 6));
    s << "INSERT INTO t (id, name, data) VALUES ($1, $2, $3)", use(id), use(name), use(blob), now;

    Poco::Int64 gotId = 0;
    std::string gotName;
    Poco::Data::BLOB gotBlob;
    s << "SELECT id, name, data FROM t", into(gotId), into(gotName), into(gotBlob), now;
    EXPECT_EQ(gotId, id);
    EXPECT_EQ(gotName, name);
    EXPECT_EQ(gotBlob.size(), 6u);
    EXPECT_TRUE(gotBlob == blob);

    // Stored as real bytes and characters, not an escaped form of them.
    int octets = 0, chars = 0;
    s << "SELECT octet_length(data), char_length(name) FROM t", into(octets), into(chars), now;
    EXPECT_EQ(octets, 6);
    EXPECT_EQ(chars, 6);
}

// What the SQLite store's SQL and bindings must change for PostgreSQL (see postgres_server.h).
TEST(PostgresServer, ConnectorPlaceholdersAndTypes) {
    PostgresServer& pg = sharedPostgres();
    Session s = connect(pg, pg.createDatabase());

    int one = 1, got = 0;
    try {
        s << "SELECT ?::int", use(one), into(got), now;
        ADD_FAILURE() << "`?` was accepted";
    } catch (const Poco::Exception& e) {
        EXPECT_NE(e.displayText().find("syntax error"), std::string::npos) << e.displayText();
    }
    s << "SELECT $1::int + $1::int", use(one), into(got), now;
    EXPECT_EQ(got, 2);

    // POCO declares no parameter types: the server infers them from the SQL.
    try {
        std::string type;
        s << "SELECT pg_typeof($1)::text", use(one), into(type), now;
        ADD_FAILURE() << "parameter type was known: " << type;
    } catch (const Poco::Exception& e) {
        EXPECT_NE(e.displayText().find("could not determine data type"), std::string::npos)
            << e.displayText();
    }

    // A BLOB goes over as raw bytes; a BYTEA read into std::string comes back as hex text.
    Poco::Data::BLOB blob = bytes(std::string("\0a\xff", 3));
    int octets = 0;
    s << "SELECT octet_length($1::bytea)", use(blob), into(octets), now;
    EXPECT_EQ(octets, 3);
    std::string asText;
    s << "SELECT $1::bytea", use(blob), into(asText), now;
    EXPECT_EQ(asText, "\\x0061ff");

    // Int64 maps to BIGINT both ways; a BIGINT read into an int that cannot hold it is 0, silently.
    Poco::Int64 big = 5'000'000'000, gotBig = 0;
    s << "SELECT $1::bigint", use(big), into(gotBig), now;
    EXPECT_EQ(gotBig, big);
    int narrow = 7;
    s << "SELECT 5000000000::bigint", into(narrow), now;
    EXPECT_EQ(narrow, 0);
}

TEST(PostgresServer, SecondConnectionSeesCommittedDataOnly) {
    PostgresServer& pg = sharedPostgres();
    const std::string db = pg.createDatabase();
    Session writer = connect(pg, db);
    Session reader = connect(pg, db);
    writer << "CREATE TABLE t (v TEXT)", now;

    auto count = [&] {
        int n = -1;
        reader << "SELECT count(*)::int FROM t", into(n), now;
        return n;
    };
    writer.begin();
    writer << "INSERT INTO t VALUES ('x')", now;
    EXPECT_EQ(count(), 0);
    writer.commit();
    EXPECT_EQ(count(), 1);
}

TEST(PostgresServer, DestructionStopsTheServerAndRemovesItsFiles) {
    int port = 0;
    std::string data;
    {
        PostgresServer pg;
        port = pg.port();
        data = pg.dataDir();
        ASSERT_NE(port, sharedPostgres().port());
        ASSERT_TRUE(acceptsConnections(port));
    }
    EXPECT_FALSE(acceptsConnections(port));
    EXPECT_FALSE(fs::exists(data));
    EXPECT_FALSE(fs::exists(fs::path(data).parent_path().parent_path()));
    EXPECT_TRUE(acceptsConnections(sharedPostgres().port())) << "the shared server must be unaffected";
}

// pg_ctl stop gives up on a postmaster that does not react (stopped here): kill -9 follows.
TEST(PostgresServer, DestructionKillsAServerThatIgnoresStop) {
    int port = 0, pid = 0;
    {
        PostgresServer pg;
        port = pg.port();
        std::ifstream(pg.dataDir() + "/postmaster.pid") >> pid;
        ASSERT_GT(pid, 0);
        ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    }
    EXPECT_FALSE(acceptsConnections(port));
    EXPECT_TRUE(::kill(pid, 0) != 0 || switchboard::test::readFile("/proc/" + std::to_string(pid) + "/stat")
                                               .find(") Z") != std::string::npos);
}

// A test process that dies without running destructors must not leave a server behind.
TEST(PostgresServer, WatchdogStopsTheServerWhenTheTestProcessIsKilled) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(fds[0]);
        try {
            auto* pg = new PostgresServer();  // leaked on purpose: no destructor will run
            std::string msg = std::to_string(pg->port()) + " " + pg->dataDir();
            if (::write(fds[1], msg.data(), msg.size()) < 0) ::_exit(1);
        } catch (...) {
            ::_exit(1);
        }
        ::raise(SIGKILL);
    }
    ::close(fds[1]);
    char buf[512] = {};
    ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_GT(n, 0) << "the child could not start a server";
    ASSERT_TRUE(WIFSIGNALED(status));

    const std::string msg(buf, static_cast<std::size_t>(n));
    const int port = std::stoi(msg.substr(0, msg.find(' ')));
    const std::string data = msg.substr(msg.find(' ') + 1);
    EXPECT_TRUE(waitFor([&] { return !acceptsConnections(port); }, std::chrono::seconds(10)));
    EXPECT_TRUE(waitFor([&] { return !fs::exists(data); }, std::chrono::seconds(10)));
}
