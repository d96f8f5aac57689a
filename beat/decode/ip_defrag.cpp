// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/ip_defrag.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "beat/decode/bytes.h"
#include "beat/decode/decoder.h"

namespace sipbeat::decode::detail {

namespace {

// An IPv4 datagram is at most 65535 bytes with a header of at least 20 (RFC 791 §3.1); an
// IPv6 fragmentable part at most 65535 minus the Fragment header (RFC 8200 §4.5).
constexpr uint32_t kMaxIpv4Payload = 65535 - 20;
constexpr uint32_t kMaxIpv6Payload = 65535 - 8;
// 1280-byte links carry a 64 KiB datagram in about 52 fragments; more is an attack.
constexpr uint16_t kMaxFragmentsPerTrain = 128;

}  // namespace

struct IpDefragmenter::Train {
    FragmentKey key;
    core::TimestampNs first_seen = 0;
    std::vector<uint8_t> data;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  ///< received [begin, end), sorted
    uint32_t total = 0;
    bool have_total = false;
    bool have_first = false;
    uint8_t next_header = 0;
    uint16_t fragments = 0;
    size_t accounted = 0;
    std::list<Train*>::iterator age;
};

IpDefragmenter::IpDefragmenter(const DecodeConfig& config, DecodeCounters& counters)
    : max_trains_(config.max_fragment_trains == 0 ? 1 : config.max_fragment_trains),
      max_bytes_(config.max_fragment_bytes),
      timeout_ns_(config.fragment_timeout_ns),
      counters_(counters),
      table_(16, FragmentKeyHash{randomSeed()}) {}

IpDefragmenter::~IpDefragmenter() = default;

void IpDefragmenter::setCapacity(Train& t, size_t capacity) noexcept {
    t.data.reserve(capacity);
    bytes_ = bytes_ - t.accounted + t.data.capacity();
    t.accounted = t.data.capacity();
}

void IpDefragmenter::drop(Table::iterator it) noexcept {
    Train& t = it->second;
    counters_.fragments_dropped->add(t.fragments);
    bytes_ -= t.accounted;
    age_.erase(t.age);
    recycle(std::move(t.data));
    table_.erase(it);
    counters_.fragment_trains->set(table_.size());
}

void IpDefragmenter::dropOldest() noexcept {
    counters_.flag(Anomaly::FragmentLimitReached);
    drop(table_.find(age_.front()->key));
}

void IpDefragmenter::recycle(std::vector<uint8_t>&& buffer) noexcept {
    // Keep one buffer for the next train: reassembly then allocates nothing in steady state.
    if (buffer.capacity() > spare_.capacity()) {
        spare_ = std::move(buffer);
        spare_.clear();
    }
}

bool IpDefragmenter::add(const Fragment& f, core::TimestampNs now, std::vector<uint8_t>& out,
                         uint8_t& next_header) noexcept {
    counters_.fragments->add();
    const auto size = static_cast<uint32_t>(f.data.size());
    const uint32_t end = f.offset + size;
    if (f.more && (size == 0 || size % 8 != 0)) {
        // RFC 8200 §4.5 and RFC 791: all but the last fragment carry a multiple of 8 bytes.
        counters_.flag(Anomaly::BadFragment);
        counters_.fragments_dropped->add();
        return false;
    }
    auto it = table_.find(f.key);
    if (end > (f.ipv6 ? kMaxIpv6Payload : kMaxIpv4Payload)) {
        counters_.flag(Anomaly::FragmentTooLarge);
        counters_.fragments_dropped->add();
        if (it != table_.end()) {
            drop(it);
        }
        return false;
    }
    if (it == table_.end()) {
        // At the train limit the oldest train goes: a flood of unfinished trains must not
        // stop reassembly of new, live traffic.
        while (table_.size() >= max_trains_ && !age_.empty()) {
            dropOldest();
        }
        it = table_.try_emplace(f.key).first;
        Train& fresh = it->second;
        fresh.key = f.key;
        fresh.first_seen = now;
        if (bytes_ + spare_.capacity() <= max_bytes_) {
            fresh.data = std::move(spare_);
            fresh.data.clear();
            spare_ = {};
        }
        fresh.accounted = fresh.data.capacity();
        bytes_ += fresh.accounted;
        age_.push_back(&fresh);
        fresh.age = std::prev(age_.end());
        counters_.fragment_trains->set(table_.size());
    }
    Train& t = it->second;
    ++t.fragments;
    if (t.fragments > kMaxFragmentsPerTrain) {
        counters_.flag(Anomaly::FragmentLimitReached);
        drop(it);
        return false;
    }
    const uint32_t known_end = t.ranges.empty() ? 0 : t.ranges.back().second;
    if ((!f.more && ((t.have_total && t.total != end) || known_end > end)) ||
        (t.have_total && end > t.total)) {
        // Two different ends, or data past the end: the train cannot be rebuilt.
        counters_.flag(Anomaly::BadFragment);
        drop(it);
        return false;
    }
    if (!f.more) {
        t.total = end;
        t.have_total = true;
    }
    bool overlap = false;
    for (const auto& [b, e] : t.ranges) {
        if (b < end && f.offset < e) {
            if (b <= f.offset && end <= e &&
                std::memcmp(t.data.data() + f.offset, f.data.data(), size) == 0) {
                // RFC 8200 §4.5: exact duplicates may be dropped rather than treated as
                // overlaps (captures on several interfaces see each fragment twice).
                counters_.fragment_duplicates->add();
                return false;
            }
            overlap = true;
        }
    }
    if (overlap) {
        counters_.flag(Anomaly::FragmentOverlap);
        if (f.ipv6) {
            // RFC 5722 / RFC 8200 §4.5: overlapping IPv6 fragments void the whole datagram.
            drop(it);
            return false;
        }
        // IPv4 (RFC 791 leaves it open): the first copy of each byte wins, as most stacks do;
        // only the holes are filled below.
    }
    if (end > t.data.size()) {
        if (end > t.data.capacity()) {
            const size_t doubled = std::min<size_t>(t.data.capacity() * 2, 65536);
            const size_t want = std::max<size_t>(end, doubled);
            const size_t growth = want - t.data.capacity();
            while (bytes_ + growth > max_bytes_ && !age_.empty() && age_.front() != &t) {
                dropOldest();
            }
            if (bytes_ + growth > max_bytes_) {
                counters_.flag(Anomaly::FragmentLimitReached);
                drop(table_.find(f.key));
                return false;
            }
            setCapacity(t, want);
        }
        t.data.resize(end);
    }
    // Copy into the holes of [offset, end) and merge the range in.
    uint32_t cursor = f.offset;
    size_t i = 0;
    while (i < t.ranges.size() && t.ranges[i].second <= f.offset) {
        ++i;
    }
    const size_t first = i;
    for (; i < t.ranges.size() && t.ranges[i].first < end; ++i) {
        if (t.ranges[i].first > cursor) {
            std::memcpy(t.data.data() + cursor, f.data.data() + (cursor - f.offset),
                        t.ranges[i].first - cursor);
        }
        cursor = std::max(cursor, t.ranges[i].second);
    }
    if (cursor < end) {
        std::memcpy(t.data.data() + cursor, f.data.data() + (cursor - f.offset), end - cursor);
    }
    // ranges[first, i) intersect [offset, end); together with it they become one range, which
    // also absorbs a neighbour that touches it.
    uint32_t nb = f.offset;
    uint32_t ne = end;
    size_t lo = first;
    size_t hi = i;
    if (lo > 0 && t.ranges[lo - 1].second == nb) {
        --lo;
    }
    if (hi < t.ranges.size() && t.ranges[hi].first == ne) {
        ++hi;
    }
    if (lo < hi) {
        nb = std::min(nb, t.ranges[lo].first);
        ne = std::max(ne, t.ranges[hi - 1].second);
        t.ranges.erase(t.ranges.begin() + static_cast<std::ptrdiff_t>(lo),
                       t.ranges.begin() + static_cast<std::ptrdiff_t>(hi));
    }
    t.ranges.insert(t.ranges.begin() + static_cast<std::ptrdiff_t>(lo), {nb, ne});
    if (f.offset == 0) {
        t.have_first = true;
        t.next_header = f.next_header;
    }
    if (!(t.have_total && t.have_first && t.ranges.size() == 1 && t.ranges[0].second == t.total)) {
        return false;
    }
    out = std::move(t.data);
    out.resize(t.total);
    next_header = t.next_header;
    counters_.reassembled->add();
    bytes_ -= t.accounted;
    age_.erase(t.age);
    table_.erase(it);
    counters_.fragment_trains->set(table_.size());
    return true;
}

void IpDefragmenter::expire(core::TimestampNs now) noexcept {
    while (!age_.empty() && olderThan(now, age_.front()->first_seen, timeout_ns_)) {
        counters_.flag(Anomaly::FragmentTimeout);
        drop(table_.find(age_.front()->key));
    }
}

void IpDefragmenter::clear() noexcept {
    while (!age_.empty()) {
        counters_.flag(Anomaly::FragmentIncomplete);
        drop(table_.find(age_.front()->key));
    }
}

}  // namespace sipbeat::decode::detail
