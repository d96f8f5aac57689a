// SPDX-License-Identifier: Apache-2.0
// SCTP (RFC 9260): every complete DATA chunk (and I-DATA, RFC 8260) is one SIP message
// (RFC 4168 §5: one SIP message per user message); the PPID is not checked, senders differ.
#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

using detail::be16;

namespace {

constexpr uint8_t kChunkData = 0;    // RFC 9260 §3.3.1
constexpr uint8_t kChunkIData = 64;  // RFC 8260 §2.1
constexpr uint8_t kFlagBegin = 0x02;
constexpr uint8_t kFlagEnd = 0x01;

}  // namespace

void Decoder::Impl::decodeSctp(const IpInfo& ip, detail::Bytes d, PacketContext& ctx) noexcept {
    if (d.size() < 12) {
        counters_.flag(Anomaly::TruncatedSctp);
        return;
    }
    counters_.sctp->add();
    const uint16_t sport = be16(d.data());
    const uint16_t dport = be16(d.data() + 2);
    if (!sipPort(sport, dport)) {
        return;
    }
    size_t off = 12;
    // Every round moves past one chunk of at least 4 bytes.
    while (off < d.size()) {
        if (d.size() - off < 4) {
            counters_.flag(Anomaly::BadSctpChunk);
            return;
        }
        const uint8_t type = d[off];
        const uint8_t flags = d[off + 1];
        const size_t len = be16(d.data() + off + 2);
        if (len < 4) {
            counters_.flag(Anomaly::BadSctpChunk);
            return;
        }
        if (len > d.size() - off) {
            counters_.flag(Anomaly::TruncatedSctp);
            return;
        }
        if (type == kChunkData || type == kChunkIData) {
            const size_t header = type == kChunkData ? 16 : 20;
            if (len <= header) {
                // RFC 9260 §3.3.1: a DATA chunk without user data is a protocol violation.
                counters_.flag(Anomaly::BadSctpChunk);
            } else if ((flags & (kFlagBegin | kFlagEnd)) != (kFlagBegin | kFlagEnd)) {
                // One piece of a fragmented user message: not reassembled (SIP messages
                // fit in one chunk on every network we know of).
                counters_.flag(Anomaly::SctpFragmentedData);
            } else {
                SipPayload p;
                p.timestamp = ctx.ts;
                p.src = ip.src;
                p.dst = ip.dst;
                p.src_port = sport;
                p.dst_port = dport;
                p.transport = Transport::Sctp;
                p.vlan = ctx.vlan;
                p.bytes = detail::asText(d.subspan(off + header, len - header));
                emit(p);
            }
        }
        // Chunks are padded to 4 bytes (RFC 9260 §3.2); the last one's padding may be cut.
        off += (len + 3) & ~static_cast<size_t>(3);
    }
}

}  // namespace sipbeat::decode
