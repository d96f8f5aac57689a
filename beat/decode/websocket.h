// SPDX-License-Identifier: Apache-2.0
// SIP over WebSocket (RFC 7118): the HTTP Upgrade handshake is skipped, RFC 6455 frames are
// unmasked and reassembled, each complete data message is one SIP message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "beat/decode/sip_framing.h"

namespace sipbeat::decode::detail {

/// RFC 6455 §5.2 base framing header.
struct WsFrameHeader {
    bool fin = false;
    uint8_t rsv = 0;  ///< RSV1..RSV3 as bits 2..0
    uint8_t opcode = 0;
    bool masked = false;
    uint8_t mask[4] = {0, 0, 0, 0};
    uint64_t payload_length = 0;
    size_t header_length = 0;
};

enum class WsParse : uint8_t { NeedMore, Ok, Bad };

/// Parses the frame header at the start of `data`. Bad: a 64-bit length with its top bit set
/// (RFC 6455 §5.2), after which the frame boundaries cannot be trusted.
WsParse parseWsFrameHeader(std::span<const uint8_t> data, WsFrameHeader& out) noexcept;

/// XORs `n` bytes with the masking key, `offset` being the position of p[0] in the payload.
void unmaskWs(uint8_t* p, size_t n, const uint8_t mask[4], uint64_t offset) noexcept;

/// Per-direction WebSocket state.
struct WsState {
    bool handshake_checked = false;  ///< the HTTP request/response (or its absence) was seen
    bool lost = false;               ///< framing can no longer be followed: drop the rest
    bool in_message = false;         ///< between a non-FIN data frame and its final frame
    bool discard_message = false;    ///< the current message is dropped (too large, compressed)
    uint64_t skip_remaining = 0;     ///< payload bytes of the current frame still to discard
    std::vector<uint8_t> message;    ///< fragments and masked payloads are assembled here
};

/// Frames as many WebSocket messages as `data` holds. Returns bytes consumed; the rest is
/// shorter than `max_message` and must be offered again with more data appended.
size_t frameWsStream(std::span<const uint8_t> data, size_t max_message, WsState& state,
                     FrameSink& sink) noexcept;

}  // namespace sipbeat::decode::detail
