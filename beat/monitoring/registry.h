// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipbeat::monitoring {

/// A monotonic or gauge counter; lock-free to update from any thread.
class Counter {
public:
    void add(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    void set(uint64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
    uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> value_{0};
};

/// Named counters, dotted names forming groups (`libbeat.output.events.acked`,
/// `pkt_stats.udp`). Counters are created once at start-up and updated without locks;
/// the registry is read for counters events and the monitoring endpoint.
class Registry {
public:
    /// The counter of that name, created on first use. The reference stays valid for
    /// the registry's life.
    Counter& counter(std::string_view name);
    /// Name and value of every counter, sorted by name.
    std::vector<std::pair<std::string, uint64_t>> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
};

}  // namespace sipbeat::monitoring
