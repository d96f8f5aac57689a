// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "beat/core/clock.h"

namespace sipbeat::capture {

/// DLT_* link types sipbeat decodes (values from pcap's linktype registry).
enum class LinkType : uint16_t {
    Null = 0,  ///< BSD loopback: 4-byte host-order address family
    Ethernet = 1,
    Raw = 101,   ///< raw IPv4/IPv6
    Loop = 108,  ///< OpenBSD loopback: 4-byte network-order family
    LinuxSll = 113,
    Ipv4 = 228,
    Ipv6 = 229,
    LinuxSll2 = 276,
};

/// One captured frame. `data` is a view into the capture buffer, valid only during the
/// callback that receives it: nothing downstream may keep it.
struct RawPacket {
    core::TimestampNs timestamp = 0;
    uint16_t linktype = 0;     ///< DLT value (LinkType, or another the decoder counts as unknown)
    uint32_t wire_length = 0;  ///< Original length (may exceed data.size() with a snaplen)
    std::span<const uint8_t> data;
};

}  // namespace sipbeat::capture
