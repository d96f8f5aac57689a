// SPDX-License-Identifier: Apache-2.0
// GRE (RFC 2784 with the key and sequence extensions of RFC 2890) carrying IPv4, IPv6,
// Ethernet (transparent Ethernet bridging, 0x6558) or ERSPAN type I, II and III mirrors.
#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

using detail::be16;

namespace {

constexpr uint16_t kGreChecksum = 0x8000;
constexpr uint16_t kGreRouting = 0x4000;  // RFC 1701, deprecated by RFC 2784
constexpr uint16_t kGreKey = 0x2000;
constexpr uint16_t kGreSequence = 0x1000;
constexpr uint16_t kProtoIpv4 = 0x0800;
constexpr uint16_t kProtoIpv6 = 0x86dd;
constexpr uint16_t kProtoTeb = 0x6558;
constexpr uint16_t kProtoErspan2 = 0x88be;  // type I without, type II with a sequence number
constexpr uint16_t kProtoErspan3 = 0x22eb;

}  // namespace

void Decoder::Impl::decodeGre(detail::Bytes d, PacketContext& ctx) noexcept {
    if (d.size() < 4) {
        counters_.flag(Anomaly::TruncatedGre);
        return;
    }
    counters_.gre->add();
    const uint16_t flags = be16(d.data());
    const uint16_t proto = be16(d.data() + 2);
    if ((flags & 0x7) != 0 || (flags & kGreRouting) != 0) {
        // Version 1 is PPTP's enhanced GRE (RFC 2637); source routing is long obsolete.
        counters_.flag(Anomaly::UnsupportedGreProtocol);
        return;
    }
    size_t header = 4;
    header += (flags & kGreChecksum) != 0 ? 4 : 0;  // checksum + reserved1
    header += (flags & kGreKey) != 0 ? 4 : 0;
    header += (flags & kGreSequence) != 0 ? 4 : 0;
    if (d.size() < header) {
        counters_.flag(Anomaly::TruncatedGre);
        return;
    }
    const detail::Bytes inner = d.subspan(header);
    switch (proto) {
        case kProtoIpv4:
            decodeIpv4(inner, ctx);
            return;
        case kProtoIpv6:
            decodeIpv6(inner, ctx);
            return;
        case kProtoTeb:
            decodeEthernet(inner, ctx);
            return;
        case kProtoErspan2:
            if ((flags & kGreSequence) == 0) {
                // ERSPAN type I: no ERSPAN header, the mirrored frame follows.
                counters_.erspan->add();
                decodeEthernet(inner, ctx);
            } else {
                decodeErspan(false, inner, ctx);
            }
            return;
        case kProtoErspan3:
            decodeErspan(true, inner, ctx);
            return;
        default:
            counters_.flag(Anomaly::UnsupportedGreProtocol);
            return;
    }
}

void Decoder::Impl::decodeErspan(bool type3, detail::Bytes d, PacketContext& ctx) noexcept {
    counters_.erspan->add();
    // draft-foschiano-erspan-03 §4.1 (type II, 8 bytes, version 1) and §4.2 (type III, 12
    // bytes, version 2, optionally followed by an 8-byte platform-specific subheader).
    const size_t base = type3 ? 12 : 8;
    if (d.size() < base) {
        counters_.flag(Anomaly::TruncatedErspan);
        return;
    }
    const unsigned version = d[0] >> 4;
    if (version != (type3 ? 2U : 1U)) {
        counters_.flag(Anomaly::BadErspanHeader);
        return;
    }
    size_t header = base;
    if (type3) {
        const unsigned frame_type = (be16(d.data() + 10) >> 10) & 0x1f;
        if (frame_type != 0) {
            counters_.flag(Anomaly::BadErspanHeader);  // only Ethernet frames (FT 0) are mirrored
            return;
        }
        if ((d[11] & 0x01) != 0) {
            header += 8;  // O bit: platform-specific subheader
        }
        if (d.size() < header) {
            counters_.flag(Anomaly::TruncatedErspan);
            return;
        }
    }
    decodeEthernet(d.subspan(header), ctx);
}

}  // namespace sipbeat::decode
