// SPDX-License-Identifier: Apache-2.0
// The IP protocol dispatch shared by IPv4 and IPv6, and IP-in-IP (RFC 2003, RFC 4213,
// RFC 2473: 4in4, 6in4, 4in6, 6in6).
#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

bool Decoder::Impl::snaplenExplains(PacketContext& ctx) noexcept {
    if (!ctx.cut) {
        return false;
    }
    if (!ctx.cut_seen) {
        counters_.flag(Anomaly::SnaplenTruncated);
        ctx.cut_seen = true;
    }
    return true;
}

bool Decoder::Impl::enterTunnel(PacketContext& ctx) noexcept {
    if (ctx.depth >= kMaxTunnelDepth) {
        counters_.flag(Anomaly::TunnelDepthExceeded);
        return false;
    }
    ++ctx.depth;
    return true;
}

void Decoder::Impl::decodeIpPayload(uint8_t protocol, const IpInfo& ip, detail::Bytes payload,
                                    size_t missing, PacketContext& ctx) noexcept {
    switch (protocol) {
        case 17:
            decodeUdp(ip, payload, missing, ctx);
            return;
        case 6:
            decodeTcp(ip, payload, missing, ctx);
            return;
        case 132:
            decodeSctp(ip, payload, ctx);
            return;
        case 47:
            if (enterTunnel(ctx)) {
                decodeGre(payload, ctx);
            }
            return;
        case 4:
            if (enterTunnel(ctx)) {
                counters_.ipip->add();
                decodeIpv4(payload, ctx);
            }
            return;
        case 41:
            if (enterTunnel(ctx)) {
                counters_.ipip->add();
                decodeIpv6(payload, ctx);
            }
            return;
        case 1:
        case 58:
            counters_.icmp->add();  // ICMP / ICMPv6: expected on any network, not SIP
            return;
        default:
            counters_.flag(Anomaly::UnsupportedIpProtocol);
            return;
    }
}

}  // namespace sipbeat::decode
