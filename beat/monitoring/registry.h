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
    void add(uint64_t n = 1) noexcept {
        const uint64_t v = value_.fetch_add(n, std::memory_order_relaxed) + n;
        if (gauge_) {
            raiseMax(v);
        }
    }
    void set(uint64_t v) noexcept {
        value_.store(v, std::memory_order_relaxed);
        if (gauge_) {
            raiseMax(v);
        }
    }
    uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }
    /// Highest value a gauge has had (sipcmbeat's max counters, `.max` in counters events).
    uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
    bool isGauge() const noexcept { return gauge_; }

private:
    friend class Registry;
    void raiseMax(uint64_t v) noexcept {
        uint64_t m = max_.load(std::memory_order_relaxed);
        while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
        }
    }
    std::atomic<uint64_t> value_{0};
    std::atomic<uint64_t> max_{0};
    bool gauge_ = false;
};

/// One counter as read for a counters event.
struct Sample {
    std::string name;
    uint64_t value = 0;
    uint64_t max = 0;
    bool gauge = false;
};

/// Named counters, dotted names forming groups (`libbeat.output.events.acked`,
/// `pkt_stats.udp`). Counters are created once at start-up and updated without locks;
/// the registry is read for counters events and the monitoring endpoint.
class Registry {
public:
    /// The counter of that name, created on first use. The reference stays valid for
    /// the registry's life.
    Counter& counter(std::string_view name);
    /// A counter whose highest value is kept too (current entries, memory in use).
    Counter& gauge(std::string_view name);
    /// Name and value of every counter, sorted by name.
    std::vector<std::pair<std::string, uint64_t>> snapshot() const;
    /// Every counter with its maximum, sorted by name.
    std::vector<Sample> samples() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
};

}  // namespace sipbeat::monitoring
