// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the whole decode chain from the link layer. Input layout:
//   byte 0: bits 0-3 pick the link type, bit 4 small limits, bit 5 snaplen-cut frames,
//           bit 6 restrict sip_ports, bit 7 require a HEP password;
//   then frames, each a 2-byte big-endian length followed by that many bytes.
// Several frames per input let TCP reassembly and defragmentation keep state; the packet
// clock moves 10 ms per frame (and jumps when a frame length has its top bit set), and the
// input ends with finish().
#include <cstddef>
#include <cstdint>
#include <span>

#include "beat/capture/packet.h"
#include "beat/decode/decoder.h"
#include "beat/monitoring/registry.h"

namespace {

// Keeps the reads of the payload bytes from being optimised away.
volatile uint64_t g_keep = 0;

constexpr uint16_t kLinkTypes[] = {
    1,    // Ethernet
    113,  // Linux SLL
    276,  // Linux SLL2
    0,    // NULL
    108,  // LOOP
    101,  // RAW
    12,   // DLT_RAW (Linux)
    228,  // IPv4
    229,  // IPv6
    147,  // a link type the decoder does not know
};

// Reads every byte it is given, so that a view past its buffer shows up under ASan.
class TouchingSink final : public sipbeat::decode::SipSink {
public:
    void onPayload(const sipbeat::decode::SipPayload& p) override {
        for (char c : p.bytes) {
            sum_ += static_cast<unsigned char>(c);
        }
        sum_ += static_cast<uint64_t>(p.src_port) + p.dst_port + p.src.bytes[0] + p.dst.bytes[15];
    }
    uint64_t sum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static sipbeat::monitoring::Registry registry;
    const uint8_t mode = data[0];
    sipbeat::decode::DecodeConfig config;
    config.websocket_ports = {80, 8080};
    config.vxlan_ports = {4789, 8472};
    if ((mode & 0x10) != 0) {
        config.max_fragment_trains = 4;
        config.max_fragment_bytes = 8192;
        config.fragment_timeout_ns = 50'000'000;
        config.max_tcp_streams = 4;
        config.tcp_stream_buffer_max = 600;
        config.max_tcp_bytes = 1500;
        config.tcp_idle_timeout_ns = 200'000'000;
        config.tcp_reorder_timeout_ns = 30'000'000;
    }
    if ((mode & 0x40) != 0) {
        config.sip_ports = {5060, 5061};
    }
    if ((mode & 0x80) != 0) {
        config.hep_password = "pw";
    }
    TouchingSink sink;
    sipbeat::decode::Decoder decoder(config, sink, registry);
    const uint16_t linktype =
        kLinkTypes[(mode & 0x0f) % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
    int64_t now = 1'000'000'000;
    size_t pos = 1;
    while (pos + 2 <= size) {
        const unsigned prefix = static_cast<unsigned>(data[pos]) << 8 | data[pos + 1];
        pos += 2;
        const size_t len = prefix & 0x7fff;
        const size_t n = len < size - pos ? len : size - pos;
        now += (prefix & 0x8000) != 0 ? 5'000'000'000 : 10'000'000;
        sipbeat::capture::RawPacket p;
        p.timestamp = now;
        p.linktype = linktype;
        p.data = std::span<const uint8_t>(data + pos, n);
        p.wire_length = static_cast<uint32_t>(n + ((mode & 0x20) != 0 ? 64 : 0));
        decoder.decode(p);
        pos += n;
        if ((prefix & 0x8000) != 0) {
            decoder.advanceTime(now);
        }
    }
    decoder.finish(now);
    g_keep = sink.sum_;
    return 0;
}
