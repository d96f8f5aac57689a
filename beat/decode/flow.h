// SPDX-License-Identifier: Apache-2.0
// Keys of the decoder's tables (TCP stream directions, fragment trains) and their hash.
#pragma once

#include <cstddef>
#include <cstdint>

#include "beat/decode/sip_payload.h"

namespace sipbeat::decode::detail {

/// One direction of a TCP connection.
struct FlowKey {
    IpAddress src;
    IpAddress dst;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    bool operator==(const FlowKey&) const = default;
    FlowKey reversed() const noexcept { return {dst, src, dst_port, src_port}; }
};

/// Mixes 64-bit words with a per-table seed, so that crafted addresses cannot pile every
/// entry into one bucket (the tables are filled by whoever sends packets).
inline uint64_t mix64(uint64_t h, uint64_t v) noexcept {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint64_t hashAddress(uint64_t seed, const IpAddress& a) noexcept;

struct FlowKeyHash {
    uint64_t seed = 0;
    size_t operator()(const FlowKey& k) const noexcept {
        uint64_t h = hashAddress(seed, k.src);
        h = hashAddress(h, k.dst);
        return static_cast<size_t>(mix64(h, static_cast<uint64_t>(k.src_port) << 16 | k.dst_port));
    }
};

/// A seed that differs between runs (and between tables).
uint64_t randomSeed() noexcept;

}  // namespace sipbeat::decode::detail
