// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "beat/capture/packet.h"
#include "beat/decode/anomaly.h"
#include "beat/decode/sip_payload.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::decode {

/// Decoder settings (sipbeat.* keys; defaults are sipcmbeat's where it has the key).
struct DecodeConfig {
    /// UDP/TCP/SCTP ports whose payloads are SIP (either direction). Empty: every UDP
    /// payload and every TCP stream is a SIP candidate (the BPF decides, as sipcmbeat does).
    std::vector<uint16_t> sip_ports;
    std::vector<uint16_t> vxlan_ports{4789};  ///< UDP destination ports decapsulated as VXLAN
    std::vector<uint16_t> websocket_ports;    ///< TCP ports carrying SIP over WebSocket
    std::vector<uint16_t> hep_ports{9060};    ///< UDP/TCP ports whose payloads may be HEP
    std::string hep_password;                 ///< Required HEP capture password, "" = none
    // Bounds: nothing grows without limit; what is dropped is counted.
    size_t max_fragment_trains = 4096;     ///< IP datagrams being reassembled at once
    size_t max_fragment_bytes = 16 << 20;  ///< bytes held by all fragment trains
    int64_t fragment_timeout_ns = 30'000'000'000;
    size_t max_tcp_streams = 65536;
    size_t tcp_stream_buffer_max = 16384;             ///< per direction (sipcmbeat tcp_msg_buf_max)
    size_t max_tcp_bytes = 64 << 20;                  ///< bytes buffered by all streams
    int64_t tcp_idle_timeout_ns = 3'600'000'000'000;  ///< tcp_connection_timeout
    int64_t tcp_reorder_timeout_ns = 60'000'000'000;  ///< tcp_reorder_timeout
};

/// Turns captured frames into SipPayloads: link layer → IP (with defragmentation) →
/// tunnels (IP-in-IP, GRE/ERSPAN, VXLAN) → UDP / TCP stream / SCTP / WebSocket / HEP.
/// Single-threaded, no exceptions, no allocation per packet in the common (UDP) path.
/// Every malformed input is a named anomaly (counted in the registry as
/// `decode.anomaly.<name>`), never a crash.
class Decoder {
public:
    Decoder(DecodeConfig config, SipSink& sink, monitoring::Registry& metrics);
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    /// Decodes one frame; SipPayloads go to the sink before this returns.
    void decode(const capture::RawPacket& packet) noexcept;
    /// One packet received by the HEP collector (a UDP datagram or a TCP frame): decoded,
    /// checked against `hep_password`, and emitted like HEP found on the wire. `arrival`
    /// is used when the packet carries no time.
    void decodeHepPacket(std::span<const uint8_t> packet, core::TimestampNs arrival) noexcept;
    /// Packet clock moved (also called with wall time when live capture is idle): expires
    /// fragment trains and TCP streams.
    void advanceTime(core::TimestampNs now) noexcept;
    /// End of input: emits what can still be framed, releases everything.
    void finish(core::TimestampNs now) noexcept;

    uint64_t anomalyCount(Anomaly a) const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sipbeat::decode
