// SPDX-License-Identifier: Apache-2.0
// Fuzz target: HEP v1/v2/v3 decoding. The input is taken as one datagram (looksLikeHep,
// decodeHep, toSipPayload) and as a TCP stream of HEP3 frames (hepFrameLength).
#include <cstddef>
#include <cstdint>
#include <span>

#include "beat/decode/hep.h"

namespace {

// Keeps the reads of the payload bytes from being optimised away.
volatile uint64_t g_keep = 0;

uint64_t touch(std::string_view s) {
    uint64_t sum = 0;
    for (char c : s) {
        sum += static_cast<unsigned char>(c);
    }
    return sum;
}

uint64_t decodeOne(std::span<const uint8_t> d) {
    sipbeat::decode::HepPacket hep;
    sipbeat::decode::Anomaly error = sipbeat::decode::Anomaly::Count;
    if (!sipbeat::decode::decodeHep(d, hep, error)) {
        return static_cast<uint64_t>(error);
    }
    const sipbeat::decode::SipPayload p = sipbeat::decode::toSipPayload(hep, 1);
    return touch(p.bytes) + touch(hep.password) + touch(hep.correlation_id) + touch(hep.node_name) +
           p.src.bytes[3] + p.dst.bytes[15] + hep.vlan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> in(data, size);
    uint64_t sum = sipbeat::decode::looksLikeHep(in) ? 1 : 0;
    sum += decodeOne(in);
    // As a stream: frame after frame while the lengths hold; each frame is at least 6 bytes.
    size_t pos = 0;
    while (pos < size) {
        const int64_t len = sipbeat::decode::hepFrameLength(in.subspan(pos));
        if (len <= 0) {
            break;
        }
        sum += decodeOne(in.subspan(pos, static_cast<size_t>(len)));
        pos += static_cast<size_t>(len);
    }
    g_keep = sum;
    return 0;
}
