// SPDX-License-Identifier: Apache-2.0
#include "beat/track/event_rate.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <new>

namespace sipbeat::track {

namespace {

constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();

// Pool chunks of 4096 entries (~700 KiB): few allocations while a flood fills the table,
// little waste for small tables (a chunk is never larger than max_entries).
constexpr size_t kChunkEntries = 4096;
// One bucket per entry up to 2^20 (4 MiB of heads, the default evr_max_entries); larger
// tables get longer chains rather than a bigger fixed array.
constexpr size_t kMaxBuckets = size_t{1} << 20;
constexpr size_t kMinBuckets = 16;

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerMinute = 60 * core::kNsPerSecond;

// sipcmbeat.md §8.4, light GC on allocation: from 85 % full, evict non-exceeded entries idle
// more than 15 min, 2 ms budget, down to 80 %.
constexpr size_t kLightGcStartPercent = 85;
constexpr size_t kLightGcTargetPercent = 80;
constexpr int64_t kLightGcMaxIdleNs = 15 * kNsPerMinute;
constexpr int64_t kLightGcBudgetNs = 2 * kNsPerMs;

// sipcmbeat.md §8.4, hard GC when full: non-exceeded idle > 10 min, then > 30 s, then exceeded
// entries whose last exceeded event is > 10 s old, down to 90 %. sipcmbeat's run limits are
// 10 min / 1 min / 5 s (DefaultForceGCRunL), which §8.4 reads as meant to be milliseconds: a
// packet thread must not stall for minutes, so they are milliseconds here.
constexpr size_t kHardGcTargetPercent = 90;
constexpr int64_t kHardGcIdleOkLongNs = 10 * kNsPerMinute;
constexpr int64_t kHardGcIdleOkShortNs = 30 * core::kNsPerSecond;
constexpr int64_t kHardGcIdleExceededNs = 10 * core::kNsPerSecond;
constexpr int64_t kHardGcBudgetOkLongNs = 10 * kNsPerMs;
constexpr int64_t kHardGcBudgetOkShortNs = 1 * kNsPerMs;
constexpr int64_t kHardGcBudgetExceededNs = 5 * kNsPerMs;

// Reading the steady clock costs about as much as evicting an entry; look every so often.
constexpr uint64_t kBudgetCheckEvery = 64;

uint64_t fmix64(uint64_t h) noexcept {
    // MurmurHash3's finaliser: every input bit affects every output bit.
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t makeSeed(const void* self) noexcept {
    // Not cryptographic: enough that a sender of spoofed sources cannot aim at one bucket.
    const auto now =
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return fmix64(now ^ fmix64(reinterpret_cast<uintptr_t>(self)));
}

size_t addressLength(uint8_t family) noexcept {
    if (family == 4) {
        return 4;
    }
    if (family == 6) {
        return 16;
    }
    return 0;
}

// The count reported last before c reaches max (sipcmbeat.md §8.3): the largest min·2^k below
// max, or 1 (the first exceeded event) when min reports nothing below max.
uint64_t lastReportBelowMax(uint64_t min, uint64_t max) noexcept {
    if (min == 0 || min >= max) {
        return 1;
    }
    uint64_t p = min;
    while (p <= (max - 1) / 2) {  // p * 2 < max, without overflow
        p *= 2;
    }
    return p;
}

size_t percentOf(size_t n, size_t percent) noexcept {
    // max_entries is at most 2^31, so the product fits in 64 bits.
    return static_cast<size_t>(static_cast<uint64_t>(n) * percent / 100);
}

}  // namespace

bool reportExceeded(uint64_t conseq, uint64_t min, uint64_t max, uint64_t& ex_diff) noexcept {
    ex_diff = 0;
    if (conseq == 0) {
        return false;
    }
    if (conseq == 1) {
        return true;  // the first exceeded event is always reported
    }
    if (max != 0 && conseq >= max) {
        // From max on, one report per max events.
        if (conseq % max != 0) {
            return false;
        }
        ex_diff = conseq == max ? max - lastReportBelowMax(min, max) : max;
        return true;
    }
    // Below max (or with max = 0, forever): min, 2·min, 4·min, ...
    if (min == 0 || conseq < min || conseq % min != 0) {
        return false;
    }
    const uint64_t multiple = conseq / min;
    if ((multiple & (multiple - 1)) != 0) {
        return false;
    }
    ex_diff = conseq == min ? conseq - 1 : conseq / 2;
    return true;
}

EventRateTable::EventRateTable(const EventRateConfig& cfg, monitoring::Registry& metrics)
    : cfg_(cfg),
      max_entries_(std::min(cfg.max_entries, kMaxEntriesLimit)),
      seed_(makeSeed(this)),
      free_head_(kNil),
      ok_list_{kNil, kNil},
      exceeded_list_{kNil, kNil},
      total_events_(metrics.counter("ev_rate.total_events")),
      blst_rate_(metrics.counter("ev_rate.blst_rate")),
      blst_sent_(metrics.counter("ev_rate.blst_sent")),
      tracking_fail_(metrics.counter("ev_rate.tracking_fail")),
      blst_recovered_(metrics.counter("ev_rate.blst_recovered")),
      entries_(metrics.counter("ev_rate.entries")),
      gc_missed_ticks_(metrics.counter("ev_rate_gc.gc_missed_ticks")),
      max_gc_retr_fail_(metrics.counter("ev_rate_gc.max_gc_retr_fail")),
      alloc_fail_(metrics.counter("ev_rate_gc.alloc_fail")),
      periodic_gc_{&metrics.counter("ev_rate_gc.gc_runs"),
                   &metrics.counter("ev_rate_gc.gc_target_met"),
                   nullptr,
                   &metrics.counter("ev_rate_gc.gc_timeout"),
                   &metrics.counter("ev_rate_gc.gc_walked"),
                   &metrics.counter("ev_rate_gc.gc_removed")},
      light_gc_{&metrics.counter("ev_rate_gc.light_gc_runs"),
                &metrics.counter("ev_rate_gc.light_gc_tgt_met"),
                &metrics.counter("ev_rate_gc.light_gc_fail"),
                &metrics.counter("ev_rate_gc.light_gc_timeout"),
                &metrics.counter("ev_rate_gc.light_gc_walked"),
                &metrics.counter("ev_rate_gc.light_gc_removed")},
      hard_gc_{&metrics.counter("ev_rate_gc.hard_gc_runs"),
               &metrics.counter("ev_rate_gc.hard_gc_tgt_met"),
               &metrics.counter("ev_rate_gc.hard_gc_fail"),
               &metrics.counter("ev_rate_gc.hard_gc_timeout"),
               &metrics.counter("ev_rate_gc.hard_gc_walked"),
               &metrics.counter("ev_rate_gc.hard_gc_removed")} {
    // What one tracked (type, source) costs; the pool never holds more than max_entries.
    static_assert(sizeof(Entry) <= 176, "a rate entry grew: update the memory estimate");
    cfg_.max_entries = max_entries_;
    size_t buckets = kMinBuckets;
    while (buckets < max_entries_ && buckets < kMaxBuckets) {
        buckets <<= 1;
    }
    buckets_.assign(buckets, kNil);
    // The chunk pointers never reallocate, so adding a chunk cannot fail half-way.
    chunks_.reserve((max_entries_ + kChunkEntries - 1) / kChunkEntries);
    entries_.set(0);
}

EventRateTable::~EventRateTable() = default;

EventRateTable::Key EventRateTable::makeKey(uint8_t type, const decode::IpAddress& src) noexcept {
    // Ports and transport are not part of the key (sipcmbeat.md §8.1, `EqualIP`); bytes past
    // the family's length are zeroed so stray contents cannot split one source in two.
    Key key;
    key.family = src.family;
    key.type = type;
    std::memcpy(key.ip.data(), src.bytes.data(), addressLength(src.family));
    return key;
}

size_t EventRateTable::bucketOf(const Key& key) const noexcept {
    uint64_t low = 0;
    uint64_t high = 0;
    std::memcpy(&low, key.ip.data(), sizeof low);
    std::memcpy(&high, key.ip.data() + sizeof low, sizeof high);
    uint64_t h = fmix64(seed_ ^ low);
    h = fmix64(h + high);
    h = fmix64(h ^ (uint64_t{key.type} << 8 | key.family));
    return static_cast<size_t>(h) & (buckets_.size() - 1);
}

EventRateTable::Entry& EventRateTable::at(uint32_t index) noexcept {
    return chunks_[index / kChunkEntries][index % kChunkEntries];
}

const EventRateTable::Entry& EventRateTable::at(uint32_t index) const noexcept {
    return chunks_[index / kChunkEntries][index % kChunkEntries];
}

uint32_t EventRateTable::find(size_t bucket, const Key& key) const noexcept {
    for (uint32_t i = buckets_[bucket]; i != kNil;) {
        const Entry& e = at(i);
        if (e.type == key.type && e.family == key.family && e.ip == key.ip) {
            return i;
        }
        i = e.bucket_next;
    }
    return kNil;
}

bool EventRateTable::contains(uint8_t type, const decode::IpAddress& src) const noexcept {
    const Key key = makeKey(type, src);
    return find(bucketOf(key), key) != kNil;
}

void EventRateTable::lruPushFront(LruList& list, uint32_t index) noexcept {
    Entry& e = at(index);
    e.lru_prev = kNil;
    e.lru_next = list.head;
    if (list.head != kNil) {
        at(list.head).lru_prev = index;
    } else {
        list.tail = index;
    }
    list.head = index;
}

void EventRateTable::lruUnlink(LruList& list, uint32_t index) noexcept {
    Entry& e = at(index);
    if (e.lru_prev != kNil) {
        at(e.lru_prev).lru_next = e.lru_next;
    } else {
        list.head = e.lru_next;
    }
    if (e.lru_next != kNil) {
        at(e.lru_next).lru_prev = e.lru_prev;
    } else {
        list.tail = e.lru_prev;
    }
    e.lru_prev = kNil;
    e.lru_next = kNil;
}

uint32_t EventRateTable::takeSlot() {
    if (free_head_ != kNil) {
        const uint32_t index = free_head_;
        free_head_ = at(index).bucket_next;
        return index;
    }
    if (slots_used_ == slots_) {
        // Callers only get here with size_ < max_entries_ and no free slot, so slots_ <
        // max_entries_; the last chunk is cut to what max_entries_ still allows.
        const size_t count = std::min(kChunkEntries, max_entries_ - slots_);
        Entry* chunk = new (std::nothrow) Entry[count];
        if (chunk == nullptr) {
            alloc_fail_.add();
            return kNil;
        }
        chunks_.emplace_back(chunk);
        slots_ += count;
    }
    return static_cast<uint32_t>(slots_used_++);
}

void EventRateTable::remove(uint32_t index) noexcept {
    Entry& e = at(index);
    const Key key{e.ip, e.family, e.type};
    uint32_t* link = &buckets_[bucketOf(key)];
    while (*link != index && *link != kNil) {
        link = &at(*link).bucket_next;
    }
    if (*link == index) {
        *link = e.bucket_next;
    }
    lruUnlink(e.exceeded ? exceeded_list_ : ok_list_, index);
    e.bucket_next = free_head_;
    free_head_ = index;
    --size_;
    entries_.set(size_);
}

EventRateTable::GcEnd EventRateTable::evictIdle(LruList& list, core::TimestampNs now,
                                                int64_t max_idle_ns, size_t target,
                                                int64_t budget_ns, const GcCounters& counters) {
    counters.runs->add();
    const auto started = std::chrono::steady_clock::now();
    uint64_t walked = 0;
    uint64_t removed = 0;
    GcEnd end = GcEnd::NothingIdle;
    // The tail is the entry whose last event is oldest: once it is not idle, no entry of the
    // list is (up to packet-clock jitter), so the walk stops there.
    while (true) {
        if (size_ <= target) {
            end = GcEnd::TargetMet;
            break;
        }
        if (list.tail == kNil) {
            break;
        }
        if (budget_ns > 0 && walked != 0 && walked % kBudgetCheckEvery == 0 &&
            std::chrono::steady_clock::now() - started > std::chrono::nanoseconds(budget_ns)) {
            end = GcEnd::Timeout;
            break;
        }
        const uint32_t index = list.tail;
        ++walked;
        if (now - at(index).last_event_ns <= max_idle_ns) {
            break;
        }
        remove(index);
        ++removed;
    }
    counters.walked->add(walked);
    counters.removed->add(removed);
    if (end == GcEnd::TargetMet) {
        counters.target_met->add();
    } else if (end == GcEnd::Timeout) {
        counters.timeout->add();
    } else if (counters.fail != nullptr) {
        counters.fail->add();
    }
    return end;
}

bool EventRateTable::makeRoom(core::TimestampNs now) {
    if (size_ >= max_entries_) {
        if (max_entries_ == 0) {
            max_gc_retr_fail_.add();
            return false;
        }
        // Down to 90 %, but at least one free entry even in tiny tables; each pass stops as
        // soon as the target is met, so no more is evicted than that.
        const size_t target =
            std::min(percentOf(max_entries_, kHardGcTargetPercent), max_entries_ - 1);
        if (evictIdle(ok_list_, now, kHardGcIdleOkLongNs, target, kHardGcBudgetOkLongNs,
                      hard_gc_) != GcEnd::TargetMet &&
            evictIdle(ok_list_, now, kHardGcIdleOkShortNs, target, kHardGcBudgetOkShortNs,
                      hard_gc_) != GcEnd::TargetMet) {
            evictIdle(exceeded_list_, now, kHardGcIdleExceededNs, target, kHardGcBudgetExceededNs,
                      hard_gc_);
        }
        if (size_ >= max_entries_) {
            max_gc_retr_fail_.add();
            return false;
        }
        return true;
    }
    if (size_ * 100 >= max_entries_ * kLightGcStartPercent) {
        evictIdle(ok_list_, now, kLightGcMaxIdleNs, percentOf(max_entries_, kLightGcTargetPercent),
                  kLightGcBudgetNs, light_gc_);
    }
    return true;
}

uint32_t EventRateTable::create(size_t bucket, const Key& key, core::TimestampNs now) {
    if (!makeRoom(now)) {
        return kNil;
    }
    const uint32_t index = takeSlot();
    if (index == kNil) {
        return kNil;
    }
    Entry& e = at(index);
    e = Entry{};
    e.ip = key.ip;
    e.family = key.family;
    e.type = key.type;
    e.created_ns = now;
    e.state_changed_ns = now;  // `rate.since` is the creation time until the first transition
    e.last_event_ns = now;
    e.bucket_next = buckets_[bucket];
    buckets_[bucket] = index;
    lruPushFront(ok_list_, index);
    ++size_;
    entries_.set(size_);
    return index;
}

void EventRateTable::updateRates(Entry& e, core::TimestampNs now,
                                 std::array<double, kRateWindows>& rates) noexcept {
    for (size_t i = 0; i < kRateWindows; ++i) {
        Window& w = e.windows[i];
        const int64_t interval = cfg_.intervals_ns[i];
        if (interval <= 0) {
            // Disabled: no rate, and a later re-enable starts afresh from creation time.
            w.interval_ns = 0;
            rates[i] = 0;
            continue;
        }
        if (w.interval_ns == 0) {
            // sipcmbeat.md §8.2: the first update starts the window at the entry's creation
            // time with a last count of 0.
            w.start_ns = e.created_ns;
            w.events_at_start = 0;
            w.rate = 0;
            w.interval_ns = interval;
        }
        const int64_t elapsed = now - w.start_ns;
        const auto count = static_cast<double>(e.events - w.events_at_start);
        if (elapsed >= interval) {
            // The window is over: the rate is scaled to the interval and a new window starts.
            w.rate = count * static_cast<double>(interval) / static_cast<double>(elapsed);
            w.start_ns = now;
            w.events_at_start = e.events;
            w.interval_ns = interval;
            rates[i] = w.rate;
        } else if (interval == w.interval_ns) {
            rates[i] = std::max(w.rate, count);  // peak hold until the window closes
        } else if (interval > w.interval_ns) {
            rates[i] = w.rate + count;  // interval grown at run time (§8.2)
        } else {
            rates[i] = count;  // interval shrunk at run time (§8.2)
        }
    }
}

RateVerdict EventRateTable::account(uint8_t type, const decode::IpAddress& src,
                                    core::TimestampNs now, RateInfo& out) {
    total_events_.add();
    const Key key = makeKey(type, src);
    const size_t bucket = bucketOf(key);
    uint32_t index = find(bucket, key);
    if (index == kNil) {
        index = create(bucket, key, now);
        if (index == kNil) {
            // sipcmbeat.md §8.1 step 3, §13 quirk 9: an untracked event is dropped.
            tracking_fail_.add();
            out = RateInfo{};
            return RateVerdict::TrackingFail;
        }
    }
    Entry& e = at(index);
    ++e.events;
    e.last_event_ns = now;

    std::array<double, kRateWindows> rates{};
    updateRates(e, now, rates);
    // sipcmbeat.md §8.2: exceeded if over a non-zero limit in any window; the first exceeded
    // window is reported, else the first with a non-zero rate, else the first.
    size_t reported = kRateWindows;
    size_t first_nonzero = kRateWindows;
    for (size_t i = 0; i < kRateWindows; ++i) {
        const double limit = cfg_.limits[i];
        if (limit > 0 && rates[i] > limit) {
            reported = i;
            break;
        }
        if (first_nonzero == kRateWindows && rates[i] != 0) {
            first_nonzero = i;
        }
    }
    const bool exceeded = reported != kRateWindows;
    if (!exceeded) {
        reported = first_nonzero != kRateWindows ? first_nonzero : 0;
    }

    // sipcmbeat.md §8.2 state: ExConseq counts exceeded events since the ok→exceeded
    // transition, OkConseq ok events since the reverse one; ExChgT is the transition time.
    // The entry also moves to the front of its state's GC list (most recent event).
    if (exceeded) {
        if (!e.exceeded) {
            lruUnlink(ok_list_, index);
            lruPushFront(exceeded_list_, index);
            e.exceeded = true;
            e.ex_conseq = 0;
            e.state_changed_ns = now;
        } else if (exceeded_list_.head != index) {
            lruUnlink(exceeded_list_, index);
            lruPushFront(exceeded_list_, index);
        }
        ++e.ex_conseq;
    } else {
        if (e.exceeded) {
            lruUnlink(exceeded_list_, index);
            lruPushFront(ok_list_, index);
            e.exceeded = false;
            e.ok_conseq = 0;
            e.state_changed_ns = now;
            blst_recovered_.add();
        } else if (ok_list_.head != index) {
            lruUnlink(ok_list_, index);
            lruPushFront(ok_list_, index);
        }
        if (e.ok_conseq != std::numeric_limits<uint32_t>::max()) {
            ++e.ok_conseq;
        }
    }

    out.crt = rates[reported];
    out.lim = cfg_.limits[reported];
    out.period_ms = cfg_.intervals_ns[reported] / kNsPerMs;
    out.since = e.state_changed_ns;
    out.ex_diff = 0;
    if (!exceeded) {
        out.exceeded = 0;
        return RateVerdict::Publish;
    }
    blst_rate_.add();
    out.exceeded = e.ex_conseq;
    uint64_t ex_diff = 0;
    if (!reportExceeded(e.ex_conseq, cfg_.conseq_report_min, cfg_.conseq_report_max, ex_diff)) {
        return RateVerdict::Suppress;
    }
    blst_sent_.add();
    out.ex_diff = ex_diff;
    return RateVerdict::Publish;
}

void EventRateTable::tick(core::TimestampNs now) {
    const int64_t interval = cfg_.gc_interval_ns;
    if (interval <= 0) {
        return;
    }
    // The first tick, and a packet clock that went back (a new capture file), restart the
    // GC clock rather than stall GC until time catches up.
    if (!gc_clock_started_ || now < last_gc_ns_) {
        gc_clock_started_ = true;
        last_gc_ns_ = now;
        return;
    }
    const int64_t since_last = now - last_gc_ns_;
    if (since_last < interval) {
        return;
    }
    gc_missed_ticks_.add(static_cast<uint64_t>(since_last / interval - 1));
    last_gc_ns_ = now;
    // sipcmbeat.md §8.4: only non-exceeded entries are collected by the periodic GC.
    evictIdle(ok_list_, now, cfg_.gc_old_age_ns, cfg_.gc_target, cfg_.gc_max_run_time_ns,
              periodic_gc_);
}

void EventRateTable::setConfig(const EventRateConfig& cfg) {
    cfg_ = cfg;
    cfg_.max_entries = max_entries_;
}

}  // namespace sipbeat::track
