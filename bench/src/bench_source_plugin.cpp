// bench-source: a synthetic push source for the bulk-sync benchmark. start() spawns one
// thread that generates `records` synthetic contact records (numbered from `start_index`)
// and emits them through the SDK's Host::emit in batches of `batch`, each batch with a
// checkpoint, exactly as a real CRM or address-book sync would. stop() joins the thread.
#include "contact_identity.hpp"

#include <switchboard/plugin.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

class BenchSource : public switchboard::Plugin {
public:
    BenchSource(switchboard::Host host, const switchboard::Config& cfg)
        : Plugin(host),
          records_(cfg.getInt("records", 1000)),
          batch_(cfg.getInt("batch", 1000)),
          startIndex_(cfg.getInt("start_index", 0)) {
        if (records_ < 0 || batch_ < 1) throw switchboard::ConfigError("records >= 0 and batch >= 1");
    }
    ~BenchSource() override { join(); }

    switchboard::Result start() override {
        if (!worker_.joinable()) worker_ = std::thread([this] { run(); });
        return switchboard::Result::ok();
    }
    switchboard::Result stop() override {
        quit_ = true;
        join();
        return switchboard::Result::ok();
    }

private:
    void join() {
        if (worker_.joinable()) worker_.join();
    }

    static switchboard::Message contact(int64_t n) {
        const std::string id = std::to_string(n);
        switchboard::Message m;
        m.channel = "crm";
        m.sourceId = "contact-" + id;
        m.senderName = "Customer Number " + id;
        m.sender = {{"email", sbbench::contactEmail(n), ""},
                    {"phone", sbbench::contactPhone(n), ""},
                    {"external", sbbench::contactExternal(n), sbbench::contactExternalScope()}};
        m.subject = "contact";
        m.text = "";
        m.attributes = {{"locale", "pt-PT"}, {"segment", n % 3 == 0 ? "gold" : "standard"}};
        m.rawContentType = "application/json";
        m.raw = R"({"Id":"003)" + std::to_string(100000000 + n) + R"(","FirstName":"Customer","LastName":"Number )" +
                id + R"(","Email":")" + sbbench::contactEmail(n) + R"(","Phone":")" + sbbench::contactPhone(n) +
                R"(","MailingCity":"Lisboa","LeadSource":"Web"})";
        return m;
    }

    void run() {
        std::vector<switchboard::Message> batch;
        int64_t n = startIndex_;
        const int64_t end = startIndex_ + records_;
        while (n < end && !quit_) {
            batch.clear();
            for (int64_t i = 0; i < batch_ && n < end; ++i, ++n) batch.push_back(contact(n));
            switchboard::Result r = host().emit(batch, "cursor", std::to_string(n));
            while (r.status() == SB_RETRY && !quit_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                r = host().emit(batch, "cursor", std::to_string(n));
            }
            if (!r.isOk()) {
                host().error("bench-source: emit failed: " + r.message());
                return;
            }
        }
        host().info("bench-source: done at " + std::to_string(n));
    }

    int64_t records_, batch_, startIndex_;
    std::atomic<bool> quit_{false};
    std::thread worker_;
};

}  // namespace

static constexpr sb_option kOptions[] = {
    switchboard::option("records", SB_OPT_INT, 0, "1000", "How many synthetic contact records to emit."),
    switchboard::option("batch", SB_OPT_INT, 0, "1000", "Records per emit (one transaction each)."),
    switchboard::option("start_index", SB_OPT_INT, 0, "0", "Number of the first record (for growing a store)."),
};

SWITCHBOARD_PLUGIN(BenchSource, "bench-source", "1.0.0", "Synthetic contact source for the bulk-sync benchmark.",
                   SB_KIND_SOURCE, kOptions)
