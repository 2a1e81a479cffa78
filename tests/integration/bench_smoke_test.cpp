// A seconds-long smoke of the benchmark harness (bench/): the bulk-sync driver with the
// bench-source plugin, the open-loop load generator against a real host, and the report
// writer, producing a well-formed results file. Benchmarks are not tests: nothing here
// asserts a timing, only that the harness runs and its output has the expected shape.
#include "test_support.h"

#include "../../bench/src/bulk.hpp"
#include "../../bench/src/openloop.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace switchboard::test;
using nlohmann::json;

namespace {

const std::string kBench = std::string(SWITCHBOARD_SOURCE_DIR) + "/bench";

void writeJson(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2) << "\n"; }

}  // namespace

TEST(BenchSmoke, RunScriptsAreValidBash) {
    for (const char* script : {"/run.sh", "/http_front.sh"}) {
        auto r = run({"bash", "-n", kBench + script});
        EXPECT_EQ(r.exitCode, 0) << script << ": " << r.err;
    }
}

TEST(BenchSmoke, HarnessProducesAWellFormedResultsFile) {
    TempDir dir;
    const std::string raw = dir.path() + "/raw";
    std::filesystem::create_directories(raw);

    // The synthetic source plugin, built against the SDK only, as bench/CMakeLists.txt does.
    const std::string plugin = dir.file("switchboard-bench-source.so");
    auto cc = run({SWITCHBOARD_CXX_COMPILER, "-std=c++20", "-O1", "-shared", "-fPIC", "-fvisibility=hidden",
                   "-I" + std::string(SWITCHBOARD_SOURCE_DIR) + "/sdk/include", kBench + "/src/bench_source_plugin.cpp",
                   "-o", plugin, "-pthread"});
    ASSERT_EQ(cc.exitCode, 0) << cc.err;

    // Bulk sync through the real pipeline, tiny: 2 marks, a few lookups.
    sbbench::BulkOptions bo;
    bo.dbPath = dir.file("bulk.db");
    bo.pluginPath = plugin;
    bo.marks = {500, 1500};
    bo.batch = 100;
    bo.lookups = 50;
    auto bulk = sbbench::runBulk(bo);
    EXPECT_EQ(bulk.records, 1500);
    ASSERT_EQ(bulk.marks.size(), 2u);
    EXPECT_EQ(bulk.rows, 1500);
    EXPECT_GT(bulk.dbBytes, 0);
    // Every contact is a distinct person: the host's resolver made one customer each, and at
    // each mark a known contact resolved to its customer and a new one created one.
    EXPECT_EQ(bulk.customers, 1500);
    EXPECT_EQ(bulk.marks[0].customers, 500);
    EXPECT_GT(bulk.marks[1].customerLookup.perSec, 0);
    EXPECT_GT(bulk.marks[1].resolveMatched.perSec, 0);
    EXPECT_GT(bulk.marks[1].resolveNew.perSec, 0);
    EXPECT_GT(bulk.overheadBytesPerCustomer, 0);
    writeJson(raw + "/bulk_1.json", bulk.toJson());

    // Open-loop load against a real host with the webchat connector, one second.
    HostProcess host("  - name: site-chat\n    plugin: webchat\n");
    std::string body = run({"cat", kBench + "/payload/webchat_message.json"}).out;
    ASSERT_NE(body.find("__ID__"), std::string::npos);
    // The connector starts on its own thread: wait until a POST is accepted.
    for (int i = 0; i < 150; ++i) {
        std::string warm = body;
        warm.replace(warm.find("__ID__"), 6, "warmup");
        if (host.post("/webhooks/site-chat", warm, {{"Content-Type", "application/json"}}).status == 200) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    sbbench::OpenLoopOptions oo;
    oo.port = host.port();
    oo.path = "/webhooks/site-chat";
    oo.bodyTemplate = body;
    oo.rate = 50;
    oo.durationS = 1;
    oo.connections = 4;
    auto ol = sbbench::runOpenLoop(oo);
    EXPECT_LE(ol.scheduled, 50u);
    EXPECT_EQ(ol.completed + ol.socketErrors + ol.unanswered, 50u);
    writeJson(raw + "/openloop_1.json", ol.toJson());
    // Every request answered 2xx was stored (plus the warm-up): the 200 came after the commit.
    EXPECT_GE(switchboard::host::Store(host.dbPath()).messageCount(), static_cast<int64_t>(ol.completed - ol.non2xx) + 1);

    // The report writer, on these raw files.
    writeJson(raw + "/machine.json", {{"date_utc", "smoke"}, {"commit", "smoke"}, {"cpu", "?"}, {"cores", 0},
                                      {"mem_gib", 0}, {"os", "?"}, {"kernel", "?"}, {"disk", "?"},
                                      {"compiler", "?"}, {"sqlite", "?"}, {"wrk", "?"}, {"nginx", "?"},
                                      {"node_red", "?"}, {"node", "?"}});
    std::ofstream(raw + "/half_rate.txt") << "50\n";
    std::ofstream(raw + "/commands.txt") << "bench_smoke_test\n";
    auto rep = run({"python3", kBench + "/report.py", "--raw", raw, "--out", dir.path(), "--smoke"});
    ASSERT_EQ(rep.exitCode, 0) << rep.out << rep.err;
    json latest = json::parse(readFile(dir.file("latest.json")));
    EXPECT_TRUE(latest["smoke"].get<bool>());
    EXPECT_EQ(latest["bulk"]["records"], 1500);
    EXPECT_TRUE(latest["bulk"]["records_per_sec"]["median"].is_number());
    EXPECT_TRUE(latest["half_rate"]["p99_ms"]["median"].is_number());
    EXPECT_TRUE(latest["bulk"]["marks"]["1500"]["resolve_matched.per_sec"]["median"].is_number());
    EXPECT_EQ(latest["bulk"]["marks"]["1500"]["customers"]["median"], 1500);
    ASSERT_TRUE(latest["targets"].is_array());
    EXPECT_FALSE(latest["targets"].empty());
    const std::string md = readFile(dir.file("latest.md"));
    EXPECT_NE(md.find("## Targets"), std::string::npos);
    EXPECT_NE(md.find("## 4. Bulk sync"), std::string::npos);
}

// The open-loop generator must not reuse a connection whose response said it closes: the next
// request written to it would be lost and show up as a server error that is the generator's.
TEST(BenchSmoke, OpenLoopReadsConnectionCloseAndContentLength) {
    int status = 0;
    bool closes = false;
    const std::string closing = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusyHTTP/1.1";
    EXPECT_EQ(sbbench::detail::completeResponse(closing, status, closes), closing.size() - 8);
    EXPECT_EQ(status, 503);
    EXPECT_TRUE(closes);
    const std::string keep = "HTTP/1.1 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 2\r\n\r\nok";
    EXPECT_EQ(sbbench::detail::completeResponse(keep, status, closes), keep.size());
    EXPECT_EQ(status, 200);
    EXPECT_FALSE(closes);
    EXPECT_EQ(sbbench::detail::completeResponse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", status, closes), 0u);
}
