// SPDX-License-Identifier: Apache-2.0
// Link layers: Ethernet II with 802.1Q/802.1ad tags and LLC/SNAP, PPPoE sessions, Linux
// cooked captures (SLL, SLL2), BSD NULL/LOOP, and raw IP.
#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

namespace {

using detail::be16;
using detail::be32;
using detail::le32;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;     // IEEE 802.1Q
constexpr uint16_t kEtherQinQ = 0x88a8;     // IEEE 802.1ad service tag
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-standard QinQ, still common
constexpr uint16_t kEtherPppoe = 0x8864;    // RFC 2516 session stage
// Tags and LLC headers followed per Ethernet frame: QinQ has two, nobody needs eight.
constexpr int kMaxEtherHeaders = 8;

// pcap's DLT_RAW differs by platform (12, or 14 on OpenBSD); files use LINKTYPE_RAW 101.
constexpr uint16_t kDltRawCommon = 12;
constexpr uint16_t kDltRawOpenBsd = 14;

}  // namespace

void Decoder::Impl::decodeLink(uint16_t linktype, detail::Bytes d, PacketContext& ctx) noexcept {
    switch (linktype) {
        case static_cast<uint16_t>(capture::LinkType::Ethernet):
            decodeEthernet(d, ctx);
            return;
        case static_cast<uint16_t>(capture::LinkType::LinuxSll):
            // packet type, ARPHRD, address length, 8 address bytes, protocol.
            if (d.size() < 16) {
                counters_.flag(Anomaly::TruncatedLinkHeader);
                return;
            }
            decodeEtherType(be16(d.data() + 14), d.subspan(16), ctx);
            return;
        case static_cast<uint16_t>(capture::LinkType::LinuxSll2):
            // protocol, reserved, interface index, ARPHRD, packet type, address len, address.
            if (d.size() < 20) {
                counters_.flag(Anomaly::TruncatedLinkHeader);
                return;
            }
            decodeEtherType(be16(d.data()), d.subspan(20), ctx);
            return;
        case static_cast<uint16_t>(capture::LinkType::Null):
        case static_cast<uint16_t>(capture::LinkType::Loop): {
            if (d.size() < 4) {
                counters_.flag(Anomaly::TruncatedLinkHeader);
                return;
            }
            // NULL is in the capturing host's byte order (which we do not know), LOOP in
            // network order; address families are small, so the order that gives a small
            // number is the right one.
            uint32_t family = le32(d.data());
            if (linktype == static_cast<uint16_t>(capture::LinkType::Loop) ||
                (family & 0xffff0000U) != 0) {
                family = be32(d.data());
            }
            switch (family) {
                case 2:
                    decodeIpv4(d.subspan(4), ctx);
                    return;
                case 10:  // Linux
                case 24:  // NetBSD, OpenBSD
                case 28:  // FreeBSD
                case 30:  // macOS
                    decodeIpv6(d.subspan(4), ctx);
                    return;
                default:
                    counters_.flag(Anomaly::UnsupportedEtherType);
                    return;
            }
        }
        case static_cast<uint16_t>(capture::LinkType::Raw):
        case kDltRawCommon:
        case kDltRawOpenBsd:
            if (d.empty()) {
                counters_.flag(Anomaly::TruncatedLinkHeader);
                return;
            }
            if (d[0] >> 4 == 6) {
                decodeIpv6(d, ctx);
            } else {
                decodeIpv4(d, ctx);  // counts a bad version if it is not 4 either
            }
            return;
        case static_cast<uint16_t>(capture::LinkType::Ipv4):
            decodeIpv4(d, ctx);
            return;
        case static_cast<uint16_t>(capture::LinkType::Ipv6):
            decodeIpv6(d, ctx);
            return;
        default:
            counters_.flag(Anomaly::UnknownLinkType);
            return;
    }
}

void Decoder::Impl::decodeEthernet(detail::Bytes d, PacketContext& ctx) noexcept {
    if (d.size() < 14) {
        counters_.flag(Anomaly::TruncatedLinkHeader);
        return;
    }
    decodeEtherType(be16(d.data() + 12), d.subspan(14), ctx);
}

void Decoder::Impl::decodeEtherType(uint16_t type, detail::Bytes d, PacketContext& ctx) noexcept {
    for (int i = 0; i < kMaxEtherHeaders; ++i) {
        switch (type) {
            case kEtherIpv4:
                decodeIpv4(d, ctx);
                return;
            case kEtherIpv6:
                decodeIpv6(d, ctx);
                return;
            case kEtherVlan:
            case kEtherQinQ:
            case kEtherQinQOld:
                // Tag control information (PCP, DEI, 12-bit VLAN id), then the next type.
                if (d.size() < 4) {
                    counters_.flag(Anomaly::TruncatedVlan);
                    return;
                }
                if (ctx.vlan == 0) {
                    ctx.vlan = be16(d.data()) & 0x0fff;
                }
                type = be16(d.data() + 2);
                d = d.subspan(4);
                continue;
            case kEtherPppoe: {
                // RFC 2516 §4: ver/type, code, session id, length; then the PPP protocol
                // (RFC 1661 §2): 0x0021 IPv4, 0x0057 IPv6.
                if (d.size() < 8) {
                    counters_.flag(Anomaly::TruncatedLinkHeader);
                    return;
                }
                const uint16_t ppp = be16(d.data() + 6);
                const size_t len = be16(d.data() + 4);
                d = d.subspan(8, len >= 2 && len - 2 <= d.size() - 8 ? len - 2 : d.size() - 8);
                if (ppp == 0x0021) {
                    decodeIpv4(d, ctx);
                } else if (ppp == 0x0057) {
                    decodeIpv6(d, ctx);
                } else {
                    counters_.flag(Anomaly::UnsupportedEtherType);
                }
                return;
            }
            default:
                break;
        }
        if (type < 0x0600 && d.size() >= 8 && d[0] == 0xaa && d[1] == 0xaa && d[2] == 0x03) {
            // IEEE 802.3 length field with LLC/SNAP (RFC 1042): the type is in the SNAP
            // header.
            type = be16(d.data() + 6);
            d = d.subspan(8);
            continue;
        }
        counters_.flag(Anomaly::UnsupportedEtherType);
        return;
    }
    counters_.flag(Anomaly::UnsupportedEtherType);
}

}  // namespace sipbeat::decode
