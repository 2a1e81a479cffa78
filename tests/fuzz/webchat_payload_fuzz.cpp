// libFuzzer target: the webchat plugin's sources are compiled into this binary (so they are
// instrumented) and every input is POSTed as a body through the exported descriptor, with a
// fake host. Beyond "no crash, no sanitizer report" it checks what a host relies on: a JSON
// reply of 200 or 400, and a stored message only with a usable id and sender.
#include <switchboard/plugin.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" const sb_plugin_descriptor* switchboard_plugin_descriptor(void);

namespace {

struct Fake {
    size_t emitted = 0;
    bool badMessage = false;
    int status = 0;
    std::string body;
};

Fake* fakeOf(sb_host_instance_host_ptr p) { return reinterpret_cast<Fake*>(p); }

void log(sb_host_instance_host_ptr, sb_log_level, sb_str) {}
int logEnabled(sb_host_instance_host_ptr, sb_log_level) { return 1; }
sb_status emit(sb_host_instance_host_ptr p, const sb_emit_batch* batch, sb_emit_outcome* outcomes, sb_errbuf) {
    for (size_t i = 0; i < batch->message_count; ++i) {
        const sb_message& m = batch->messages[i];
        if (m.source_id.size == 0 || m.source_id.size > 256 || m.sender_count == 0) fakeOf(p)->badMessage = true;
        if (outcomes) outcomes[i] = SB_EMIT_STORED;
    }
    fakeOf(p)->emitted += batch->message_count;
    return SB_OK;
}
sb_status checkpointGet(sb_host_instance_host_ptr, sb_str, void*, sb_receive_fn, sb_errbuf) { return SB_OK; }
sb_status checkpointPut(sb_host_instance_host_ptr, sb_str, sb_str, sb_errbuf) { return SB_OK; }
void counterAdd(sb_host_instance_host_ptr, sb_str, double) {}
void gaugeSet(sb_host_instance_host_ptr, sb_str, double) {}

const sb_host_api kApi{static_cast<uint32_t>(sizeof(sb_host_api)), SB_ABI_VERSION_MAJOR, SB_ABI_VERSION_MINOR,
                       &log, &logEnabled, &emit, &checkpointGet, &checkpointPut, &counterAdd, &gaugeSet};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const sb_plugin_descriptor* d = switchboard_plugin_descriptor();
    Fake fake;
    auto* inst = reinterpret_cast<sb_host_instance_host_ptr>(&fake);
    char err[SB_ERRBUF_MIN_CAPACITY] = {0};
    const sb_kv entries[] = {{switchboard::span("channel"), switchboard::span("webchat")},
                             {switchboard::span("scope"), switchboard::span("fuzz")},
                             {switchboard::span("max_attachments"), switchboard::span("4")}};
    const sb_config cfg{static_cast<uint32_t>(sizeof(sb_config)), entries, 3, switchboard::span("fuzz")};
    sb_plugin_instance_plugin_ptr self = nullptr;
    if (d->create(&kApi, inst, &cfg, &self, sb_errbuf{err, sizeof err}) != SB_OK) __builtin_trap();

    const sb_kv headers[] = {{switchboard::span("content-type"), switchboard::span("application/json")}};
    sb_http_request req{};
    req.struct_size = sizeof req;
    req.method = switchboard::span("POST");
    req.headers = headers;
    req.header_count = 1;
    req.body = sb_str{reinterpret_cast<const char*>(data), size};
    sb_http_response resp{};
    resp.struct_size = sizeof resp;
    resp.status = 200;
    resp.host_ctx = &fake;
    resp.set_header = [](void*, sb_str, sb_str) {};
    resp.write_body = [](void* ctx, sb_str s) { static_cast<Fake*>(ctx)->body += switchboard::view(s); };

    if (d->handle_webhook(self, &req, &resp, sb_errbuf{err, sizeof err}) != SB_OK) __builtin_trap();
    d->destroy(self);

    const bool stored = resp.status == 200;
    if (!stored && resp.status != 400) __builtin_trap();
    if (stored != (fake.emitted == 1) || fake.emitted > 1 || fake.badMessage) __builtin_trap();
    // The reply must be valid JSON even when the reason quotes hostile input.
    if (!nlohmann::json::accept(fake.body)) __builtin_trap();
    return 0;
}
