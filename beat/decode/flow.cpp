// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/flow.h"

#include <atomic>
#include <chrono>
#include <cstring>

namespace sipbeat::decode::detail {

uint64_t hashAddress(uint64_t seed, const IpAddress& a) noexcept {
    uint64_t w[2];
    std::memcpy(w, a.bytes.data(), sizeof w);
    return mix64(mix64(seed, w[0] ^ a.family), w[1]);
}

uint64_t randomSeed() noexcept {
    // Not cryptographic: enough that an outsider cannot predict bucket collisions. The
    // seed changes only bucket placement, never what the decoder outputs.
    static std::atomic<uint64_t> counter{0};
    const auto now =
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    uint64_t local = 0;
    return mix64(mix64(now, reinterpret_cast<uintptr_t>(&local)), ++counter);
}

}  // namespace sipbeat::decode::detail
