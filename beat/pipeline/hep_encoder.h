// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "beat/decode/sip_payload.h"

namespace sipbeat::pipeline {

/// What the mirror adds to every HEPv3 packet (reference/hep.md §0).
struct HepIdentity {
    uint32_t capture_id = 0;
    std::string node_name;  ///< chunk 0x0013, omitted when empty
    std::string password;   ///< chunk 0x000e, omitted when empty
};

/// Encodes one SIP message as a HEPv3 packet (hep.md §1.3-1.4): family, IP protocol,
/// addresses, ports, seconds/microseconds, proto type 1 (SIP), capture id, optional
/// password and node name, correlation id (the Call-ID, hep.md §0 rule 5), payload.
/// Replaces `out`. False when the packet would exceed HEP's 65535-byte length.
bool encodeHep3(const decode::SipPayload& msg, std::string_view call_id,
                const HepIdentity& identity, std::string& out);

}  // namespace sipbeat::pipeline
