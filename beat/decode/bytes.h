// SPDX-License-Identifier: Apache-2.0
// Byte-order readers for the decoders. Callers check the bounds first; these never do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipbeat::decode::detail {

using Bytes = std::span<const uint8_t>;

inline uint16_t be16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(static_cast<unsigned>(p[0]) << 8 | p[1]);
}

inline uint32_t be32(const uint8_t* p) noexcept {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}

inline uint32_t le32(const uint8_t* p) noexcept {
    return static_cast<uint32_t>(p[3]) << 24 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[1]) << 8 | p[0];
}

inline uint16_t le16(const uint8_t* p) noexcept {
    return static_cast<uint16_t>(static_cast<unsigned>(p[1]) << 8 | p[0]);
}

inline std::string_view asText(Bytes b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// now - then > limit, without overflow whatever the timestamps are.
inline bool olderThan(int64_t now, int64_t then, int64_t limit) noexcept {
    int64_t elapsed = 0;
    if (__builtin_sub_overflow(now, then, &elapsed)) {
        return now > then;
    }
    return elapsed > limit;
}

/// a + b, saturating.
inline int64_t addSaturating(int64_t a, int64_t b) noexcept {
    int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return sum;
}

/// Sequence-number comparison modulo 2^32 (RFC 9293 §3.4): > 0 when `a` is after `b`.
inline int32_t seqDiff(uint32_t a, uint32_t b) noexcept {
    return static_cast<int32_t>(a - b);
}

}  // namespace sipbeat::decode::detail
