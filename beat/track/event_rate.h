// SPDX-License-Identifier: Apache-2.0
// sipcmbeat's event-rate table (sipcmbeat.md §8): every generated event is counted per
// (event type, source IP) over three windows; a key over its limit is "rate blacklisted" and
// only some of its events are still reported (the reportBlstEv back-off of §8.3). Memory is
// bounded by `evr_max_entries`, with the periodic, light and hard GC of §8.4.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "beat/core/clock.h"
#include "beat/decode/sip_payload.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::track {

/// Number of rate windows per entry (sipcmbeat.md §8.2: 1 s, 1 min, 1 h by default).
inline constexpr size_t kRateWindows = 3;

/// The `evr_*` keys (sipcmbeat.md §5.2), durations in nanoseconds.
struct EventRateConfig {
    /// evr_max_entries. Taken at construction only (it sizes the bucket array). 0 is read
    /// literally (sipcmbeat.md §4.2): no entry can be created, every event is a tracking
    /// failure.
    size_t max_entries = 1048576;
    std::array<double, kRateWindows> limits{20, 240, 3600};  ///< evr_limits; 0 disables
    /// evr_intervals; 0 disables the window.
    std::array<int64_t, kRateWindows> intervals_ns{1 * core::kNsPerSecond, 60 * core::kNsPerSecond,
                                                   3600 * core::kNsPerSecond};
    uint64_t conseq_report_min = 100;                     ///< evr_conseq_report_min
    uint64_t conseq_report_max = 10000;                   ///< evr_conseq_report_max
    int64_t gc_interval_ns = 10 * core::kNsPerSecond;     ///< evr_gc_interval; 0 = off
    int64_t gc_old_age_ns = 300 * core::kNsPerSecond;     ///< evr_gc_old_age
    int64_t gc_max_run_time_ns = 1 * core::kNsPerSecond;  ///< evr_gc_max_run_time; 0 = no limit
    size_t gc_target = 10;                                ///< evr_gc_target
};

/// What an event carries in `rate.*` (sipcmbeat.md §3.2).
struct RateInfo {
    uint64_t exceeded = 0;        ///< consecutive exceeded events of the key, 0 when not exceeded
    uint64_t ex_diff = 0;         ///< difference to the previous reported `exceeded` (§8.3)
    double crt = 0;               ///< rate of the reported window
    double lim = 0;               ///< limit of that window
    int64_t period_ms = 0;        ///< that window's interval in milliseconds
    core::TimestampNs since = 0;  ///< last exceeded<->ok transition, or entry creation
};

/// What to do with the event account() has just counted.
enum class RateVerdict : uint8_t {
    Publish,       ///< not exceeded, or exceeded and due for a report
    Suppress,      ///< exceeded and not due: drop it (sipcmbeat.md §8.3)
    TrackingFail,  ///< no entry could be created: drop it (sipcmbeat.md §8.1 step 3)
};

/// reportBlstEv (sipcmbeat.md §8.3): whether the `conseq`-th consecutive exceeded event is
/// reported, with `min` = evr_conseq_report_min and `max` = evr_conseq_report_max.
/// @param ex_diff set to the difference to the previous reported count when reported, else 0.
bool reportExceeded(uint64_t conseq, uint64_t min, uint64_t max, uint64_t& ex_diff) noexcept;

/// The table of (event type, source IP) rate entries. Not thread-safe: owned by the thread
/// that generates call and packet events, which is also the one calling tick().
///
/// Entries live in chunks of a pool that grows on demand and never beyond max_entries; they
/// are found through separate chaining over a fixed power-of-two bucket array of 32-bit
/// indices. Each entry is also on one of two lists in order of last event (ok entries,
/// exceeded entries), so every GC evicts the longest-idle entries first and stops at the
/// first one still in use: its cost is the number of evicted entries, not the table size.
class EventRateTable {
public:
    EventRateTable(const EventRateConfig& cfg, monitoring::Registry& metrics);
    ~EventRateTable();
    EventRateTable(const EventRateTable&) = delete;
    EventRateTable& operator=(const EventRateTable&) = delete;

    /// One generated event of `type` (the numeric sipcmbeat type, sipcmbeat.md §2.1) from
    /// `src` at packet-clock time `now`: counts it (§8.1 steps 3-5), fills `out` and says
    /// whether to publish it. Allocates only when a new entry needs a new pool chunk.
    /// Suppressed events get `out` filled too (exceeded = the count, ex_diff = 0).
    RateVerdict account(uint8_t type, const decode::IpAddress& src, core::TimestampNs now,
                        RateInfo& out);

    /// Periodic GC (sipcmbeat.md §8.4). Call as packet time advances; the first call starts
    /// the GC clock, then a GC runs when at least gc_interval has passed since the last one.
    void tick(core::TimestampNs now);

    /// Entries in use.
    size_t size() const noexcept { return size_; }
    /// Entries the table may hold (max_entries as constructed, clamped to kMaxEntriesLimit).
    size_t maxEntries() const noexcept { return max_entries_; }
    /// Whether the (type, src) key has an entry.
    bool contains(uint8_t type, const decode::IpAddress& src) const noexcept;

    /// Run-time change of limits, intervals, report back-off and GC settings (sipcmbeat.md
    /// §5.3, §6 `/evrateblst/*`). max_entries is ignored. A changed interval applies to each
    /// entry's open window by the rule of §8.2 (larger: old rate + new count; smaller: new
    /// count) until that window closes.
    void setConfig(const EventRateConfig& cfg);
    const EventRateConfig& config() const noexcept { return cfg_; }

    /// Entry indices are 32-bit; larger evr_max_entries are clamped to this.
    static constexpr size_t kMaxEntriesLimit = size_t{1} << 31;

private:
    struct Window {
        core::TimestampNs start_ns = 0;
        uint64_t events_at_start = 0;
        double rate = 0;          ///< rate computed when the previous window closed
        int64_t interval_ns = 0;  ///< interval the open window started with; 0 = not started
    };

    struct Entry {
        std::array<uint8_t, 16> ip{};  ///< family's bytes, zero-padded
        uint8_t family = 0;
        uint8_t type = 0;
        bool exceeded = false;
        uint32_t bucket_next = 0;  ///< next in the bucket chain, or in the free list
        uint32_t lru_prev = 0;     ///< towards the most recently used of its list
        uint32_t lru_next = 0;     ///< towards the least recently used
        uint32_t ok_conseq = 0;    ///< OkConseq, saturating
        uint64_t events = 0;       ///< N
        uint64_t ex_conseq = 0;    ///< ExConseq
        core::TimestampNs created_ns = 0;
        core::TimestampNs state_changed_ns = 0;  ///< ExChgT
        core::TimestampNs last_event_ns = 0;
        std::array<Window, kRateWindows> windows{};
    };

    struct Key {
        std::array<uint8_t, 16> ip{};
        uint8_t family = 0;
        uint8_t type = 0;
    };

    /// Most recently used at the head, least recently used at the tail.
    struct LruList {
        uint32_t head;
        uint32_t tail;
    };

    /// The counters of one GC kind: `<prefix>runs`, `tgt_met`, `fail`, `timeout`, `walked`,
    /// `removed` (sipcmbeat.md §9; the periodic GC has no `fail` and names `target_met`).
    struct GcCounters {
        monitoring::Counter* runs;
        monitoring::Counter* target_met;
        monitoring::Counter* fail;  ///< nullptr for the periodic GC
        monitoring::Counter* timeout;
        monitoring::Counter* walked;
        monitoring::Counter* removed;
    };

    enum class GcEnd : uint8_t { TargetMet, Timeout, NothingIdle };

    static Key makeKey(uint8_t type, const decode::IpAddress& src) noexcept;
    size_t bucketOf(const Key& key) const noexcept;
    uint32_t find(size_t bucket, const Key& key) const noexcept;
    Entry& at(uint32_t index) noexcept;
    const Entry& at(uint32_t index) const noexcept;

    uint32_t create(size_t bucket, const Key& key, core::TimestampNs now);
    uint32_t takeSlot();
    void remove(uint32_t index) noexcept;
    bool makeRoom(core::TimestampNs now);

    void lruPushFront(LruList& list, uint32_t index) noexcept;
    void lruUnlink(LruList& list, uint32_t index) noexcept;

    GcEnd evictIdle(LruList& list, core::TimestampNs now, int64_t max_idle_ns, size_t target,
                    int64_t budget_ns, const GcCounters& counters);
    void updateRates(Entry& e, core::TimestampNs now,
                     std::array<double, kRateWindows>& rates) noexcept;

    EventRateConfig cfg_;
    size_t max_entries_;
    uint64_t seed_;

    std::vector<uint32_t> buckets_;  ///< chain heads
    std::vector<std::unique_ptr<Entry[]>> chunks_;
    size_t slots_ = 0;       ///< entries constructed in chunks_
    size_t slots_used_ = 0;  ///< slots handed out at least once
    uint32_t free_head_;     ///< removed entries, linked through bucket_next
    size_t size_ = 0;
    LruList ok_list_;
    LruList exceeded_list_;

    bool gc_clock_started_ = false;
    core::TimestampNs last_gc_ns_ = 0;

    monitoring::Counter& total_events_;
    monitoring::Counter& blst_rate_;
    monitoring::Counter& blst_sent_;
    monitoring::Counter& tracking_fail_;
    monitoring::Counter& blst_recovered_;
    monitoring::Counter& entries_;
    monitoring::Counter& gc_missed_ticks_;
    monitoring::Counter& max_gc_retr_fail_;
    monitoring::Counter& alloc_fail_;
    GcCounters periodic_gc_;
    GcCounters light_gc_;
    GcCounters hard_gc_;
};

}  // namespace sipbeat::track
