// SPDX-License-Identifier: Apache-2.0
// IPv6 (RFC 8200): extension headers walked, fragments to the defragmenter.
#include <utility>
#include <vector>

#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

using detail::be16;
using detail::be32;

namespace {

// Extension headers followed per packet; a real packet has a handful (RFC 8200 §4.1 order).
constexpr int kMaxExtensionHeaders = 16;

}  // namespace

void Decoder::Impl::decodeIpv6(detail::Bytes d, PacketContext& ctx) noexcept {
    if (d.size() < 40) {
        counters_.flag(Anomaly::TruncatedIpv6);
        return;
    }
    if (d[0] >> 4 != 6) {
        counters_.flag(Anomaly::BadIpv6Version);
        return;
    }
    counters_.ipv6->add();
    size_t plen = be16(d.data() + 4);
    if (plen == 0) {
        // Jumbogram (RFC 2675) or a capture before segmentation offload: take what is there.
        plen = d.size() - 40;
    }
    size_t missing = 0;
    if (40 + plen > d.size()) {
        if (!snaplenExplains(ctx)) {
            counters_.flag(Anomaly::BadIpv6PayloadLength);
            return;
        }
        missing = 40 + plen - d.size();
        plen = d.size() - 40;
    }
    IpInfo ip;
    ip.src = IpAddress::v6(d.data() + 8);
    ip.dst = IpAddress::v6(d.data() + 24);
    uint8_t next = d[6];
    detail::Bytes p = d.subspan(40, plen);
    std::vector<uint8_t> whole;  // the reassembled datagram, when fragmented
    bool reassembled = false;
    for (int i = 0;; ++i) {
        if (i == kMaxExtensionHeaders) {
            counters_.flag(Anomaly::BadIpv6ExtensionHeader);
            return;
        }
        size_t len = 0;
        switch (next) {
            case 0:    // hop-by-hop options
            case 43:   // routing
            case 60:   // destination options
            case 135:  // mobility (RFC 6275)
            case 139:  // HIP (RFC 7401)
            case 140:  // shim6 (RFC 5533)
                // RFC 8200 §4.3: length in 8-octet units, not counting the first 8.
                if (p.size() < 8) {
                    counters_.flag(Anomaly::BadIpv6ExtensionHeader);
                    return;
                }
                len = (static_cast<size_t>(p[1]) + 1) * 8;
                break;
            case 51:
                // AH (RFC 4302 §2.2): length in 4-octet units, minus 2.
                if (p.size() < 8) {
                    counters_.flag(Anomaly::BadIpv6ExtensionHeader);
                    return;
                }
                len = (static_cast<size_t>(p[1]) + 2) * 4;
                break;
            case 44: {
                // Fragment header (RFC 8200 §4.5).
                if (p.size() < 8 || reassembled) {
                    // A fragment inside a reassembled fragment is not a thing.
                    counters_.flag(Anomaly::BadIpv6ExtensionHeader);
                    return;
                }
                const uint8_t inner = p[0];
                const uint16_t fo = be16(p.data() + 2);
                const uint32_t offset = static_cast<uint32_t>(fo >> 3) * 8;
                const bool more = (fo & 1) != 0;
                if (offset == 0 && !more) {
                    // Atomic fragment (RFC 6946): a whole packet, reassembly not needed.
                    next = inner;
                    p = p.subspan(8);
                    continue;
                }
                if (missing > 0) {
                    counters_.fragments->add();
                    counters_.fragments_dropped->add();
                    return;
                }
                detail::Fragment f;
                f.key.src = ip.src;
                f.key.dst = ip.dst;
                f.key.id = be32(p.data() + 4);
                f.offset = offset;
                f.more = more;
                f.data = p.subspan(8);
                f.next_header = inner;
                f.ipv6 = true;
                if (!defrag_.add(f, ctx.ts, whole, next)) {
                    return;
                }
                reassembled = true;
                p = whole;
                continue;
            }
            case 59:  // no next header
                return;
            default:
                decodeIpPayload(next, ip, p, missing, ctx);
                if (reassembled) {
                    defrag_.recycle(std::move(whole));
                }
                return;
        }
        if (len > p.size()) {
            counters_.flag(Anomaly::BadIpv6ExtensionHeader);
            return;
        }
        next = p[0];
        p = p.subspan(len);
    }
}

}  // namespace sipbeat::decode
