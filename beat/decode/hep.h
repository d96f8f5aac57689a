// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "beat/decode/anomaly.h"
#include "beat/decode/sip_payload.h"

namespace sipbeat::decode {

/// One decoded HEP packet (reference/hep.md §1). Views point into the input buffer.
struct HepPacket {
    uint8_t version = 0;      ///< 1, 2 or 3
    uint8_t ip_protocol = 0;  ///< 17, 6, 132, or Kamailio's 22 for TLS/WS
    uint8_t proto_type = 1;   ///< chunk 0x000b: 1 = SIP
    IpAddress src;
    IpAddress dst;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    core::TimestampNs timestamp = 0;  ///< 0 when the packet has none (v1)
    uint32_t capture_id = 0;
    std::string_view password;        ///< chunk 0x000e
    std::string_view correlation_id;  ///< chunk 0x0011
    std::string_view node_name;       ///< chunk 0x0013
    uint16_t vlan = 0;                ///< chunk 0x0012
    std::string_view payload;         ///< chunk 0x000f (0x0010 compressed is not decoded)
};

/// True when `data` starts like a HEP packet: "HEP3", or version byte 1/2 with a sane
/// address family (reference/hep.md §1.1).
bool looksLikeHep(std::span<const uint8_t> data) noexcept;

/// Decodes one HEP packet. v2 uses Kamailio's layout (12-byte time block, little-endian
/// times, hp_l ignored; hep.md §1.2). On failure returns false and sets `error`.
bool decodeHep(std::span<const uint8_t> data, HepPacket& out, Anomaly& error) noexcept;

/// Length of the first complete HEPv3 frame in a TCP stream buffer, 0 when more bytes are
/// needed, or -1 when the buffer does not start with a HEPv3 header.
int64_t hepFrameLength(std::span<const uint8_t> buffer) noexcept;

/// The SipPayload of a decoded HEP packet (inner addresses, timestamp, capture id).
/// `fallback_ts` is used when the packet carries no time.
SipPayload toSipPayload(const HepPacket& hep, core::TimestampNs fallback_ts) noexcept;

}  // namespace sipbeat::decode
