// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/websocket.h"

#include <cstring>

#include "beat/decode/bytes.h"

namespace sipbeat::decode::detail {

namespace {

constexpr uint8_t kOpContinuation = 0x0;
constexpr uint8_t kOpText = 0x1;
constexpr uint8_t kOpBinary = 0x2;
constexpr uint8_t kOpClose = 0x8;
constexpr uint8_t kRsv1 = 0x4;

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool containsNoCase(std::string_view hay, std::string_view needle) noexcept {
    if (needle.size() > hay.size()) {
        return false;
    }
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        size_t j = 0;
        while (j < needle.size() && lower(hay[i + j]) == needle[j]) {
            ++j;
        }
        if (j == needle.size()) {
            return true;
        }
    }
    return false;
}

// 1 = data starts with `lit`, 0 = it does not, -1 = too short to tell.
int startsWith(std::string_view d, std::string_view lit) noexcept {
    const size_t n = d.size() < lit.size() ? d.size() : lit.size();
    if (d.substr(0, n) != lit.substr(0, n)) {
        return 0;
    }
    return n == lit.size() ? 1 : -1;
}

enum class Handshake : uint8_t { NeedMore, None, Done, Refused };

// RFC 6455 §4: the client's GET with `Upgrade: websocket`, the server's `101`. Only the
// header block is skipped; a stream whose start was not seen goes straight to frames.
Handshake skipHandshake(std::string_view d, size_t limit, size_t& length) noexcept {
    const int get = startsWith(d, "GET ");
    const int http = startsWith(d, "HTTP/");
    if (get == 0 && http == 0) {
        return Handshake::None;
    }
    if (get < 0 || http < 0) {
        return Handshake::NeedMore;
    }
    const std::string_view window = d.substr(0, limit);
    const size_t end = window.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        return d.size() >= limit ? Handshake::Refused : Handshake::NeedMore;
    }
    length = end + 4;
    const std::string_view head = d.substr(0, length);
    if (http == 1) {
        // "HTTP/1.1 101 Switching Protocols": anything but 101 means no WebSocket follows.
        const size_t sp = head.find(' ');
        if (sp == std::string_view::npos || head.substr(sp + 1, 3) != "101") {
            return Handshake::Refused;
        }
        return Handshake::Done;
    }
    return containsNoCase(head, "websocket") ? Handshake::Done : Handshake::Refused;
}

}  // namespace

WsParse parseWsFrameHeader(std::span<const uint8_t> d, WsFrameHeader& out) noexcept {
    if (d.size() < 2) {
        return WsParse::NeedMore;
    }
    out.fin = (d[0] & 0x80) != 0;
    out.rsv = static_cast<uint8_t>((d[0] >> 4) & 0x7);
    out.opcode = d[0] & 0x0f;
    out.masked = (d[1] & 0x80) != 0;
    const uint8_t len7 = d[1] & 0x7f;
    size_t pos = 2;
    if (len7 == 126) {
        if (d.size() < 4) {
            return WsParse::NeedMore;
        }
        out.payload_length = be16(d.data() + 2);
        pos = 4;
    } else if (len7 == 127) {
        if (d.size() < 10) {
            return WsParse::NeedMore;
        }
        out.payload_length = static_cast<uint64_t>(be32(d.data() + 2)) << 32 | be32(d.data() + 6);
        if ((out.payload_length >> 63) != 0) {
            return WsParse::Bad;
        }
        pos = 10;
    } else {
        out.payload_length = len7;
    }
    if (out.masked) {
        if (d.size() < pos + 4) {
            return WsParse::NeedMore;
        }
        std::memcpy(out.mask, d.data() + pos, 4);
        pos += 4;
    }
    out.header_length = pos;
    return WsParse::Ok;
}

void unmaskWs(uint8_t* p, size_t n, const uint8_t mask[4], uint64_t offset) noexcept {
    for (size_t i = 0; i < n; ++i) {
        p[i] ^= mask[(offset + i) & 3];
    }
}

size_t frameWsStream(std::span<const uint8_t> data, size_t max_message, WsState& st,
                     FrameSink& sink) noexcept {
    size_t pos = 0;
    // Every round consumes bytes or returns.
    while (pos < data.size()) {
        const std::span<const uint8_t> rest = data.subspan(pos);
        if (st.lost) {
            sink.dropped(rest.size());
            return data.size();
        }
        if (st.skip_remaining > 0) {
            const size_t k = st.skip_remaining < rest.size()
                                 ? static_cast<size_t>(st.skip_remaining)
                                 : rest.size();
            st.skip_remaining -= k;
            pos += k;
            sink.dropped(k);
            continue;
        }
        if (!st.handshake_checked) {
            size_t length = 0;
            switch (skipHandshake(asText(rest), max_message, length)) {
                case Handshake::NeedMore:
                    return pos;
                case Handshake::None:
                    st.handshake_checked = true;
                    break;
                case Handshake::Done:
                    st.handshake_checked = true;
                    pos += length;
                    break;
                case Handshake::Refused:
                    sink.anomaly(Anomaly::WebSocketBadHandshake);
                    st.lost = true;
                    break;
            }
            continue;
        }
        WsFrameHeader h;
        const WsParse parsed = parseWsFrameHeader(rest, h);
        if (parsed == WsParse::NeedMore) {
            return pos;
        }
        if (parsed == WsParse::Bad) {
            sink.anomaly(Anomaly::WebSocketBadFrame);
            st.lost = true;
            continue;
        }
        const bool control = (h.opcode & 0x8) != 0;
        const bool data_start = h.opcode == kOpText || h.opcode == kOpBinary;
        bool skip = false;
        if ((h.rsv & ~kRsv1) != 0 || (h.opcode > kOpBinary && h.opcode < kOpClose) ||
            h.opcode > 0xA || (control && (!h.fin || h.payload_length > 125)) ||
            (h.opcode == kOpContinuation && !st.in_message)) {
            // RFC 6455 §5.2/§5.5: reserved bits or opcodes, long or fragmented control
            // frames, a continuation with nothing to continue. The length is still good, so
            // the frame is skipped and the stream goes on.
            sink.anomaly(Anomaly::WebSocketBadFrame);
            skip = true;
        } else if (control) {
            skip = true;  // ping, pong, close carry no SIP
        } else {
            if (data_start) {
                if (st.in_message) {
                    // A new message while one is unfinished (RFC 6455 §5.4 forbids it).
                    sink.anomaly(Anomaly::WebSocketBadFrame);
                    sink.dropped(st.message.size());
                }
                st.message.clear();
                st.in_message = true;
                st.discard_message = false;
                if ((h.rsv & kRsv1) != 0) {
                    // permessage-deflate (RFC 7692) is not inflated: unbounded work.
                    sink.anomaly(Anomaly::WebSocketCompressed);
                    st.discard_message = true;
                }
            }
            if (!st.discard_message &&
                h.header_length + st.message.size() + h.payload_length > max_message) {
                sink.anomaly(Anomaly::WebSocketMessageTooLarge);
                sink.dropped(st.message.size());
                st.message.clear();
                st.discard_message = true;
            }
            skip = st.discard_message;
            if (h.fin) {
                st.in_message = false;
            }
        }
        if (skip) {
            if (st.in_message == false && !control) {
                st.discard_message = false;
                st.message.clear();
            }
            pos += h.header_length;
            st.skip_remaining = h.payload_length;
            continue;
        }
        // Kept data frame: it fits in max_message, so wait until all of it is here.
        const uint64_t frame = h.header_length + h.payload_length;
        if (rest.size() < frame) {
            return pos;
        }
        const auto plen = static_cast<size_t>(h.payload_length);
        const uint8_t* payload = rest.data() + h.header_length;
        if (h.fin && st.message.empty() && !h.masked) {
            // One unmasked frame (server to client): no copy.
            sink.message(asText({payload, plen}));
        } else {
            const size_t at = st.message.size();
            st.message.insert(st.message.end(), payload, payload + plen);
            if (h.masked) {
                unmaskWs(st.message.data() + at, plen, h.mask, 0);
            }
            if (h.fin) {
                sink.message(asText(st.message));
                st.message.clear();
            }
        }
        pos += static_cast<size_t>(frame);
    }
    return pos;
}

}  // namespace sipbeat::decode::detail
