// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "beat/core/clock.h"

namespace sipbeat::decode {

/// An IPv4 or IPv6 address, kept in network byte order.
struct IpAddress {
    uint8_t family = 0;  ///< 4 or 6; 0 = none
    std::array<uint8_t, 16> bytes{};

    static IpAddress v4(const uint8_t* p);
    static IpAddress v6(const uint8_t* p);
    /// Dotted quad or RFC 5952 text; appended without allocating when `out` has room.
    void appendText(std::string& out) const;
    std::string text() const;
    bool operator==(const IpAddress& o) const = default;
};

/// How the message travelled (the transport of the packet that carried it, or for HEP the
/// inner transport the HEP header reports).
enum class Transport : uint8_t { Udp, Tcp, Sctp, Tls, Ws, Wss };
std::string_view transportName(Transport t);  ///< "udp", "tcp", "sctp", "tls", "ws", "wss"
/// IANA protocol number for network.iana_number (17, 6, 132; TLS/WS over TCP: 6).
uint8_t ianaNumber(Transport t);

/// One candidate SIP message cut out of the traffic by the decoder: a whole UDP payload, one
/// message framed out of a TCP/WebSocket stream, one SCTP DATA chunk, or a HEP payload.
/// `bytes` is a view valid only during the SipSink callback.
struct SipPayload {
    core::TimestampNs timestamp = 0;
    IpAddress src;
    IpAddress dst;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    Transport transport = Transport::Udp;
    /// True when the message came inside HEP (collector or HEP found on the wire); then the
    /// addresses, ports, transport and timestamp are HEP's inner ones (SPEC §2).
    bool via_hep = false;
    uint32_t hep_capture_id = 0;
    uint16_t vlan = 0;  ///< Outermost 802.1Q id, 0 when none.
    std::string_view bytes;
};

/// Receives every SipPayload the decoder produces, in capture order.
class SipSink {
public:
    virtual ~SipSink() = default;
    virtual void onPayload(const SipPayload& payload) = 0;
};

}  // namespace sipbeat::decode
