// SPDX-License-Identifier: Apache-2.0
// IPv4 (RFC 791): header checks, padding trimmed, fragments to the defragmenter.
#include <utility>
#include <vector>

#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

using detail::be16;

void Decoder::Impl::decodeIpv4(detail::Bytes d, PacketContext& ctx) noexcept {
    if (d.size() < 20) {
        counters_.flag(Anomaly::TruncatedIpv4);
        return;
    }
    if (d[0] >> 4 != 4) {
        counters_.flag(Anomaly::BadIpv4Version);
        return;
    }
    const size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
    if (ihl < 20) {
        counters_.flag(Anomaly::BadIpv4HeaderLength);
        return;
    }
    if (ihl > d.size()) {
        counters_.flag(Anomaly::TruncatedIpv4);
        return;
    }
    counters_.ipv4->add();
    size_t total = be16(d.data() + 2);
    if (total == 0) {
        // Captured on the sending host before segmentation offload filled it in (TSO).
        total = d.size();
    }
    if (total < ihl) {
        counters_.flag(Anomaly::BadIpv4TotalLength);
        return;
    }
    size_t missing = 0;
    if (total > d.size()) {
        if (!snaplenExplains(ctx)) {
            counters_.flag(Anomaly::BadIpv4TotalLength);
            return;
        }
        missing = total - d.size();
        total = d.size();
    }
    // Shorter than the frame: the rest is link-layer padding (Ethernet's 60-byte minimum).
    const detail::Bytes payload = d.subspan(ihl, total - ihl);
    IpInfo ip;
    ip.src = IpAddress::v4(d.data() + 12);
    ip.dst = IpAddress::v4(d.data() + 16);
    const uint8_t protocol = d[9];
    const uint16_t frag = be16(d.data() + 6);
    const bool more = (frag & 0x2000) != 0;
    const uint32_t offset = static_cast<uint32_t>(frag & 0x1fff) * 8;
    if (!more && offset == 0) {
        decodeIpPayload(protocol, ip, payload, missing, ctx);
        return;
    }
    if (missing > 0) {
        // A fragment the snaplen cut can never complete its datagram.
        counters_.fragments->add();
        counters_.fragments_dropped->add();
        return;
    }
    detail::Fragment f;
    f.key.src = ip.src;
    f.key.dst = ip.dst;
    f.key.id = be16(d.data() + 4);
    f.key.protocol = protocol;  // RFC 791 §3.2: src, dst, protocol and id name a datagram
    f.offset = offset;
    f.more = more;
    f.data = payload;
    f.next_header = protocol;
    std::vector<uint8_t> whole;
    uint8_t next = 0;
    if (defrag_.add(f, ctx.ts, whole, next)) {
        decodeIpPayload(protocol, ip, whole, 0, ctx);
        defrag_.recycle(std::move(whole));
    }
}

}  // namespace sipbeat::decode
