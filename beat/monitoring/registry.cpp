// SPDX-License-Identifier: Apache-2.0
#include "beat/monitoring/registry.h"

namespace sipbeat::monitoring {

Counter& Registry::counter(std::string_view name) {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(name);
    if (it == counters_.end()) {
        it = counters_.emplace(std::string(name), std::make_unique<Counter>()).first;
    }
    return *it->second;
}

Counter& Registry::gauge(std::string_view name) {
    Counter& c = counter(name);
    c.gauge_ = true;  // before any update from other threads: set at start-up
    return c;
}

std::vector<Sample> Registry::samples() const {
    std::lock_guard lock(mutex_);
    std::vector<Sample> out;
    out.reserve(counters_.size());
    for (const auto& [name, c] : counters_) {
        out.push_back({name, c->get(), c->max(), c->isGauge()});
    }
    return out;
}

std::vector<std::pair<std::string, uint64_t>> Registry::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, uint64_t>> out;
    out.reserve(counters_.size());
    for (const auto& [name, c] : counters_) {
        out.emplace_back(name, c->get());
    }
    return out;
}

}  // namespace sipbeat::monitoring
