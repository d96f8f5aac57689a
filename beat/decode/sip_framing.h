// SPDX-License-Identifier: Apache-2.0
// Cutting SIP messages out of a byte stream (TCP, and TLS/WS payloads once decoded):
// RFC 3261 §18.3 Content-Length framing, keep-alives, and resync after lost bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "beat/decode/anomaly.h"

namespace sipbeat::decode::detail {

/// Whether the bytes at a message start begin a SIP start line.
enum class StartLine : uint8_t { Yes, No, NeedMore };

/// Number of CR and LF bytes at the start of `data`: RFC 5626 §3.5.1 keep-alives (CRLFCRLF
/// ping, CRLF pong) and the stray line breaks some stacks put between messages.
size_t leadingLineBreaks(std::string_view data) noexcept;

/// Classifies the line at the start of `data`: a status line (`SIP/2.0 DDD`) or a request
/// line (`TOKEN SP scheme:uri SP SIP/2.0`). NeedMore while every byte seen so far fits and the
/// line is shorter than `max_line`.
StartLine classifyStartLine(std::string_view data, size_t max_line) noexcept;

/// Where the next SIP start line begins after the (non-SIP) line at offset 0.
struct ResyncPoint {
    size_t offset = 0;   ///< found: start of that line; else: bytes before it can be dropped
    bool found = false;  ///< false: no start line yet; keep data[offset..] and wait
};
ResyncPoint findResync(std::string_view data, size_t max_line) noexcept;

/// The header block of a message starting at offset 0, as far as it has been read.
struct HeaderScan {
    size_t header_length = 0;  ///< start line + headers + the empty line; 0 = end not found yet
    bool has_content_length = false;
    bool bad_content_length = false;  ///< not a number, too many digits, or two that differ
    uint64_t content_length = 0;
    size_t resume = 0;  ///< next line to read when more bytes of the same message come
};
/// Finds the end of the headers within the first `limit` bytes and reads Content-Length
/// (or its compact form `l`), case-insensitively. False when the end is not there yet. It
/// goes on from `scan` (a default HeaderScan starts afresh), so that a message arriving in
/// many small segments is read once, not once per segment.
bool scanHeaders(std::string_view data, size_t limit, HeaderScan& scan) noexcept;

/// Receives what the stream framer finds.
class FrameSink {
public:
    virtual void message(std::string_view bytes) noexcept = 0;
    virtual void anomaly(Anomaly a) noexcept = 0;
    virtual void dropped(size_t bytes) noexcept = 0;

protected:
    ~FrameSink() = default;
};

/// Per-direction framer state that outlives one call.
struct SipFramerState {
    uint64_t skip_remaining = 0;  ///< bytes of an oversized message still to discard
    HeaderScan scan;              ///< headers read so far of the message at the stream head
};

/// Frames as many messages as `data` holds, from its start. Returns the bytes consumed; the
/// rest (always shorter than `max_message`) must be offered again with more data appended.
size_t frameSipStream(std::string_view data, size_t max_message, SipFramerState& state,
                      FrameSink& sink) noexcept;

/// Longest start line waited for before the bytes are taken as not SIP.
inline size_t maxStartLine(size_t max_message) noexcept {
    return max_message < 2048 ? max_message : 2048;
}

}  // namespace sipbeat::decode::detail
