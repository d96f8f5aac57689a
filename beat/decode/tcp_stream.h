// SPDX-License-Identifier: Apache-2.0
// TCP stream reassembly per direction (RFC 9293 §3.4 sequence numbers, §3.10.7.4 segment
// ordering), bounded in streams, bytes per stream, bytes in all, and idle time. In-order
// bytes go to the stream's application framer: SIP (Content-Length), WebSocket, or HEP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "beat/core/clock.h"
#include "beat/decode/counters.h"
#include "beat/decode/flow.h"
#include "beat/decode/sip_framing.h"
#include "beat/decode/websocket.h"

namespace sipbeat::decode {
struct DecodeConfig;
}

namespace sipbeat::decode::detail {

/// What a stream carries.
enum class StreamMode : uint8_t {
    Sip,        ///< SIP messages framed by Content-Length
    WebSocket,  ///< RFC 7118 SIP over WebSocket
    HepProbe,   ///< on a HEP port: HEP3 frames if it starts with "HEP3", else as `fallback`
    Hep,        ///< back-to-back HEP3 frames (hep.md §1.7)
    Ignore,     ///< neither: sequence tracked, bytes dropped
};

/// Where framed stream content goes.
class StreamEvents {
public:
    virtual void onStreamMessage(const FlowKey& key, uint16_t vlan, bool websocket,
                                 std::string_view bytes, core::TimestampNs ts) noexcept = 0;
    virtual void onStreamHep(std::span<const uint8_t> frame, core::TimestampNs ts) noexcept = 0;

protected:
    ~StreamEvents() = default;
};

/// One TCP segment as the TCP header decoder hands it over.
struct TcpSegment {
    FlowKey key;
    uint32_t seq = 0;
    bool syn = false;
    bool fin = false;
    bool rst = false;
    std::span<const uint8_t> payload;  ///< captured payload bytes
    uint32_t missing = 0;              ///< payload bytes cut off by the snaplen
    uint16_t vlan = 0;
    core::TimestampNs ts = 0;
    StreamMode mode = StreamMode::Sip;      ///< for a new stream
    StreamMode fallback = StreamMode::Sip;  ///< HepProbe streams that are not HEP
};

class TcpReassembler {
public:
    TcpReassembler(const DecodeConfig& config, DecodeCounters& counters, StreamEvents& events);
    ~TcpReassembler();
    TcpReassembler(const TcpReassembler&) = delete;
    TcpReassembler& operator=(const TcpReassembler&) = delete;

    void segment(const TcpSegment& s) noexcept;
    /// Idle streams are closed; held out-of-order data older than the reorder timeout is
    /// released past its gap.
    void expire(core::TimestampNs now) noexcept;
    /// End of input: every gap is skipped, what can be framed is, everything is released.
    void finish() noexcept;
    size_t streams() const noexcept { return table_.size(); }
    size_t bytes() const noexcept { return bytes_; }

    struct Stream;

private:
    using Table = std::unordered_map<FlowKey, Stream, FlowKeyHash>;

    Stream* create(const TcpSegment& s) noexcept;
    void close(Table::iterator it) noexcept;
    void closeKey(const FlowKey& key) noexcept;
    void receive(Stream& st, uint32_t seq, std::span<const uint8_t> data, core::TimestampNs ts,
                 bool fin) noexcept;
    void hold(Stream& st, uint32_t seq, std::span<const uint8_t> data, core::TimestampNs ts,
              bool fin) noexcept;
    void drain(Stream& st) noexcept;
    void finishIfDone(Stream& st) noexcept;
    void skipGap(Stream& st) noexcept;
    void deliver(Stream& st, std::span<const uint8_t> data, core::TimestampNs ts) noexcept;
    size_t frame(Stream& st, std::span<const uint8_t> data, core::TimestampNs ts) noexcept;
    size_t frameHep(std::span<const uint8_t> data, core::TimestampNs ts) noexcept;
    bool reserve(Stream& st, size_t capacity) noexcept;
    void account(Stream& st) noexcept;
    void lostBytes(Stream& st, size_t n) noexcept;
    size_t limit(const Stream& st) const noexcept;
    void unlistOoo(Stream& st) noexcept;

    size_t max_streams_;
    size_t stream_max_;
    size_t max_bytes_;
    int64_t idle_ns_;
    int64_t reorder_ns_;
    DecodeCounters& counters_;
    StreamEvents& events_;
    Table table_;
    std::list<Stream*> lru_;      ///< least recently used first
    std::list<Stream*> waiting_;  ///< streams holding out-of-order data, oldest first
    size_t bytes_ = 0;            ///< buffer capacity held by all streams
};

}  // namespace sipbeat::decode::detail
