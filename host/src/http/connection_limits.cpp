#include "http/connection_limits.h"

namespace switchboard::host::http {

std::unique_ptr<ConnectionLimits::Slot> ConnectionLimits::admit(const std::string& address, Refused& why) {
    std::lock_guard lock(mutex_);
    why = Refused::None;
    if (open_ >= max_) {
        why = Refused::Total;
        return nullptr;
    }
    size_t& mine = perClient_[address];
    if (maxPerClient_ != 0 && mine >= maxPerClient_) {
        if (mine == 0) perClient_.erase(address);
        why = Refused::PerClient;
        return nullptr;
    }
    ++mine;
    ++open_;
    return std::make_unique<Slot>(*this, address);
}

size_t ConnectionLimits::open() const {
    std::lock_guard lock(mutex_);
    return open_;
}

void ConnectionLimits::release(const std::string& address) {
    std::lock_guard lock(mutex_);
    --open_;
    auto it = perClient_.find(address);
    if (it != perClient_.end() && --it->second == 0) perClient_.erase(it);
}

BodyBudget::Share& BodyBudget::Share::operator=(Share&& o) noexcept {
    if (this != &o) {
        reset();
        budget_ = o.budget_;
        bytes_ = o.bytes_;
        o.bytes_ = 0;
    }
    return *this;
}

bool BodyBudget::Share::growTo(uint64_t total) {
    if (total <= bytes_) return true;
    if (budget_ == nullptr) return false;
    uint64_t more = total - bytes_;
    uint64_t used = budget_->used_.load();
    do {
        if (used + more > budget_->max_) return false;
    } while (!budget_->used_.compare_exchange_weak(used, used + more));
    bytes_ = total;
    return true;
}

void BodyBudget::Share::reset() {
    if (budget_ != nullptr && bytes_ > 0) budget_->used_ -= bytes_;
    bytes_ = 0;
}

}  // namespace switchboard::host::http
