// SPDX-License-Identifier: Apache-2.0
// IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5, hole bookkeeping after
// RFC 815), bounded in trains, bytes and time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "beat/core/clock.h"
#include "beat/decode/counters.h"
#include "beat/decode/flow.h"

namespace sipbeat::decode {
struct DecodeConfig;
}

namespace sipbeat::decode::detail {

/// Identifies the fragments of one datagram: RFC 791 (src, dst, protocol, id); RFC 8200
/// (src, dst, 32-bit id; protocol 0).
struct FragmentKey {
    IpAddress src;
    IpAddress dst;
    uint32_t id = 0;
    uint8_t protocol = 0;
    bool operator==(const FragmentKey&) const = default;
};

struct FragmentKeyHash {
    uint64_t seed = 0;
    size_t operator()(const FragmentKey& k) const noexcept {
        uint64_t h = hashAddress(seed, k.src);
        h = hashAddress(h, k.dst);
        return static_cast<size_t>(mix64(h, static_cast<uint64_t>(k.id) << 8 | k.protocol));
    }
};

/// One fragment as the IP layer hands it over.
struct Fragment {
    FragmentKey key;
    uint32_t offset = 0;  ///< in bytes
    bool more = false;    ///< MF flag
    std::span<const uint8_t> data;
    uint8_t next_header = 0;  ///< IPv6: the Fragment header's next header; IPv4: protocol
    bool ipv6 = false;
};

class IpDefragmenter {
public:
    IpDefragmenter(const DecodeConfig& config, DecodeCounters& counters);
    ~IpDefragmenter();
    IpDefragmenter(const IpDefragmenter&) = delete;
    IpDefragmenter& operator=(const IpDefragmenter&) = delete;

    /// Adds one fragment. When it completes its datagram, moves the reassembled payload into
    /// `out`, sets `next_header` (from the first fragment) and returns true. Give `out` back
    /// with recycle() once decoded.
    bool add(const Fragment& f, core::TimestampNs now, std::vector<uint8_t>& out,
             uint8_t& next_header) noexcept;
    void recycle(std::vector<uint8_t>&& buffer) noexcept;
    /// Drops trains older than the fragment timeout.
    void expire(core::TimestampNs now) noexcept;
    /// Drops everything (end of input), counting unfinished trains.
    void clear() noexcept;
    size_t trains() const noexcept { return table_.size(); }
    size_t bytes() const noexcept { return bytes_; }

private:
    struct Train;
    using Table = std::unordered_map<FragmentKey, Train, FragmentKeyHash>;
    void drop(Table::iterator it) noexcept;
    void dropOldest() noexcept;
    void setCapacity(Train& t, size_t capacity) noexcept;

    size_t max_trains_;
    size_t max_bytes_;
    int64_t timeout_ns_;
    DecodeCounters& counters_;
    Table table_;
    std::list<Train*> age_;  ///< oldest first
    size_t bytes_ = 0;       ///< capacity held by all trains
    std::vector<uint8_t> spare_;
};

}  // namespace sipbeat::decode::detail
