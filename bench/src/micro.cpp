// Micro-benchmarks (Google Benchmark). Run by bench/run.sh with --benchmark_repetitions=3.
//
//  BM_Boundary/N          plugin side: N owned Messages -> SDK Host::emit (views, sb_emit_batch)
//                         -> the C ABI -> a host that walks every sb_message and answers
//                         outcomes. The cost of crossing the plugin boundary, per message.
//  BM_BoundaryDecode/N    the same, but the host side is the real host's decodeMessage (UTF-8
//                         checks, owned MessageRecord, normalized JSON) - everything emit does
//                         before the store.
//  BM_WebchatWebhook      the real switchboard-webchat.so: handle_webhook with a ~600-byte JSON
//                         body (parse, validate, normalize, emit) against a host whose emit
//                         runs decodeMessage but does not store.
//  BM_StoreCommit/N       one real Store::commit of N messages (WAL, synchronous=FULL) on the
//                         bench directory's disk: the fsync floor of durable ingest.
//  BM_NormalizePhone/K    the host's IdentityNormalizer (libphonenumber, default region PT) on
//                         phone numbers as channels deliver them: K=0 international with
//                         spaces, 1 national, 2 a "whatsapp:" address, 3 an alphanumeric sender.
//  BM_NormalizeEmail/K    the same for email: K=0 a bare address, 1 "Name <addr>", 2 with
//                         Gmail folding on.
//  Identity lookup and resolve need a store of 1 M customers: they are measured by
//  sb_bench_bulk at each mark (bulk.hpp, measureMark), not here.
#include "customer/identity_normalizer.h"
#include "runtime/message_codec.h"
#include "store/store.h"

#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <switchboard/plugin.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string env(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// A typical inbound webchat message, as the plugin builds it from the bench payload.
switchboard::Message sampleMessage(size_t i) {
    switchboard::Message m;
    m.channel = "webchat";
    m.sourceId = "msg-" + std::to_string(i);
    m.conversationId = "chat-session-4242";
    m.senderName = "Ana Maria Silva";
    m.sender = {{"email", "Ana.Silva@Example.COM", ""},
                {"phone", "+351 912 345 678", ""},
                {"external", "visitor:cookie-3f2a9c1e", "example.com"},
                {"external", "crm:0035g00000abcde", "example.com"}};
    m.subject = "Order 1234 has not arrived";
    m.text = "Hello, I ordered a pair of running shoes last Monday (order 1234) and the tracking page still says "
             "the parcel is at the depot. Could you tell me when it will be delivered?";
    m.occurredAtMs = 1795424400250;
    m.attributes = {{"locale", "pt-PT"}, {"page", "/orders/1234"}, {"plan", "gold"}};
    m.rawContentType = "application/json";
    m.raw = std::string(600, 'x');
    return m;
}

// --- fake hosts -------------------------------------------------------------------------

struct FakeHost {
    bool decode = false;
    uint64_t sink = 0;
    switchboard::host::MessageRecord record;
};

FakeHost& of(sb_host_instance_host_ptr p) { return *reinterpret_cast<FakeHost*>(p); }

void fakeLog(sb_host_instance_host_ptr, sb_log_level, sb_str) {}
int fakeLogEnabled(sb_host_instance_host_ptr, sb_log_level) { return 0; }
sb_status fakeEmit(sb_host_instance_host_ptr p, const sb_emit_batch* batch, sb_emit_outcome* outcomes,
                   sb_errbuf) {
    FakeHost& h = of(p);
    for (size_t i = 0; i < batch->message_count; ++i) {
        const sb_message& m = *SB_ARRAY_AT(sb_message, batch->messages, i);
        if (h.decode) {
            std::string why = switchboard::host::decodeMessage(m, "bench", 0, h.record);
            if (!why.empty()) return SB_FAIL_DATA;
            h.sink += h.record.normalizedJson.size();
        } else {
            // Touch what a host must read from every message: the id and the identities.
            h.sink += m.source_id.size + m.sender_count + m.text.size;
            for (size_t k = 0; k < m.sender_count; ++k) h.sink += SB_ARRAY_AT(sb_identity, m.sender, k)->value.size;
        }
        if (outcomes) outcomes[i] = SB_EMIT_STORED;
    }
    return SB_OK;
}
sb_status fakeCpGet(sb_host_instance_host_ptr, sb_str, void*, sb_receive_fn, sb_errbuf) { return SB_OK; }
sb_status fakeCpPut(sb_host_instance_host_ptr, sb_str, sb_str, sb_errbuf) { return SB_OK; }
void fakeCounter(sb_host_instance_host_ptr, sb_str, double) {}
void fakeGauge(sb_host_instance_host_ptr, sb_str, double) {}
const sb_host_api kFakeApi{static_cast<uint32_t>(sizeof(sb_host_api)), SB_ABI_VERSION_MAJOR, SB_ABI_VERSION_MINOR,
                           &fakeLog, &fakeLogEnabled, &fakeEmit, &fakeCpGet, &fakeCpPut, &fakeCounter, &fakeGauge};

sb_host_instance_host_ptr handle(FakeHost& h) { return reinterpret_cast<sb_host_instance_host_ptr>(&h); }

void runBoundary(benchmark::State& state, bool decode) {
    const size_t n = static_cast<size_t>(state.range(0));
    std::vector<switchboard::Message> batch;
    for (size_t i = 0; i < n; ++i) batch.push_back(sampleMessage(i));
    FakeHost h;
    h.decode = decode;
    switchboard::Host host(&kFakeApi, handle(h));
    std::vector<sb_emit_outcome> outcomes;
    for (auto _ : state) {
        switchboard::Result r = host.emit(batch, "cursor", "42", &outcomes);
        benchmark::DoNotOptimize(r);
    }
    benchmark::DoNotOptimize(h.sink);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
    state.counters["ns_per_msg"] = benchmark::Counter(static_cast<double>(state.iterations() * n),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Boundary(benchmark::State& state) { runBoundary(state, false); }
void BM_BoundaryDecode(benchmark::State& state) { runBoundary(state, true); }
BENCHMARK(BM_Boundary)->Arg(1)->Arg(16)->Arg(256);
BENCHMARK(BM_BoundaryDecode)->Arg(1)->Arg(16)->Arg(256);

// --- the real webchat plugin ------------------------------------------------------------

void BM_WebchatWebhook(benchmark::State& state) {
    const std::string pluginDir = env("SB_BENCH_PLUGIN_DIR", SB_BENCH_DEFAULT_PLUGIN_DIR);
    const std::string so = pluginDir + "/switchboard-webchat.so";
    void* lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        state.SkipWithError(("dlopen " + so).c_str());
        return;
    }
    auto entry = reinterpret_cast<sb_entry_fn>(dlsym(lib, SB_ENTRY_SYMBOL));
    const sb_plugin_descriptor* d = entry();
    FakeHost h;
    h.decode = state.range(0) != 0;
    char errText[SB_ERRBUF_MIN_CAPACITY];
    sb_errbuf err{errText, sizeof errText};
    const std::string instName = "bench";
    sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), nullptr, 0, switchboard::span(instName)};
    sb_plugin_instance_plugin_ptr p = nullptr;
    if (d->create(&kFakeApi, handle(h), &cfg, &p, err) != SB_OK || d->start(p, err) != SB_OK) {
        state.SkipWithError(errText);
        return;
    }
    const std::string tmpl = readFile(env("SB_BENCH_PAYLOAD", SB_BENCH_DEFAULT_PAYLOAD));
    const size_t at = tmpl.find("__ID__");
    const std::string body = tmpl.substr(0, at) + "micro-0000000001" + tmpl.substr(at + 6);
    const std::string method = "POST", ctName = "content-type", ctValue = "application/json", addr = "127.0.0.1";
    sb_kv headers[] = {{switchboard::span(ctName), switchboard::span(ctValue)}};
    sb_http_request req{};
    req.struct_size = sizeof(sb_http_request);
    req.method = switchboard::span(method);
    req.headers = headers;
    req.header_count = 1;
    req.body = switchboard::span(body);
    req.remote_addr = switchboard::span(addr);
    struct Sink {
        int bytes = 0;
    } sink;
    int status = 0;
    for (auto _ : state) {
        sb_http_response resp{static_cast<uint32_t>(sizeof(sb_http_response)), 200, &sink,
                              [](void*, sb_str, sb_str) {},
                              [](void* c, sb_str data) { static_cast<Sink*>(c)->bytes += static_cast<int>(data.size); }};
        d->handle_webhook(p, &req, &resp, err);
        status = resp.status;
    }
    if (status != 200) state.SkipWithError(("webchat answered " + std::to_string(status)).c_str());
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
    state.SetLabel(std::to_string(body.size()) + "-byte body");
    d->stop(p, err);
    d->destroy(p);
}
// 0: the fake host's emit only walks the message; 1: it runs the host's decodeMessage.
BENCHMARK(BM_WebchatWebhook)->ArgName("host_decode")->Arg(0)->Arg(1);

// --- identity normalization -------------------------------------------------------------

void runNormalize(benchmark::State& state, switchboard::host::customer::IdentityType type,
                  const std::vector<std::string>& inputs, bool foldGmail) {
    namespace c = switchboard::host::customer;
    c::IdentityNormalizer normalizer(c::NormalizerOptions{"PT", foldGmail});
    const std::string& raw = inputs.at(static_cast<size_t>(state.range(0)));
    c::NormalizedIdentity out;
    for (auto _ : state) {
        out = normalizer.normalize(type, raw);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(raw + " -> " + (out.matchable ? out.normalized : "not matchable: " + out.flag));
}

void BM_NormalizePhone(benchmark::State& state) {
    runNormalize(state, switchboard::host::customer::IdentityType::Phone,
                 {"+351 912 345 678", "912 345 678", "whatsapp:+351912345678", "ACME-BANK"}, false);
}
BENCHMARK(BM_NormalizePhone)->DenseRange(0, 3);

void BM_NormalizeEmail(benchmark::State& state) {
    const bool fold = state.range(0) == 2;
    runNormalize(state, switchboard::host::customer::IdentityType::Email,
                 {"Ana.Silva@Example.COM", "Ana Silva <Ana.Silva@Example.COM>", "Ana.Silva+orders@GMail.com"}, fold);
}
BENCHMARK(BM_NormalizeEmail)->DenseRange(0, 2);

// --- the store: cost of one durable commit ---------------------------------------------

void BM_StoreCommit(benchmark::State& state) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(env("SB_BENCH_TMP", "/tmp")) / ("sb-micro-store-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const size_t n = static_cast<size_t>(state.range(0));
    uint64_t seq = 0;
    {
        switchboard::host::Store store((dir / "micro.db").string());
        std::vector<switchboard::host::MessageRecord> records(n);
        for (auto _ : state) {
            for (auto& r : records) {
                switchboard::Message m = sampleMessage(seq++);
                switchboard::detail::MessageView v(m);
                switchboard::host::decodeMessage(v.abi(), "bench", 0, r);
            }
            auto out = store.commit(records, std::nullopt, "bench");
            benchmark::DoNotOptimize(out);
        }
    }
    fs::remove_all(dir);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_StoreCommit)->Arg(1)->Arg(256)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
