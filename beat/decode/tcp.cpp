// SPDX-License-Identifier: Apache-2.0
// TCP header (RFC 9293 §3.1); the stream work is in tcp_stream.cpp.
#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

using detail::be16;
using detail::be32;

void Decoder::Impl::decodeTcp(const IpInfo& ip, detail::Bytes d, size_t missing,
                              PacketContext& ctx) noexcept {
    if (d.size() < 20) {
        counters_.flag(Anomaly::TruncatedTcp);
        return;
    }
    const size_t off = static_cast<size_t>(d[12] >> 4) * 4;
    if (off < 20) {
        counters_.flag(Anomaly::BadTcpHeaderLength);
        return;
    }
    if (off > d.size()) {
        counters_.flag(Anomaly::TruncatedTcp);
        return;
    }
    counters_.tcp->add();
    const uint16_t sport = be16(d.data());
    const uint16_t dport = be16(d.data() + 2);
    const bool sip = sipPort(sport, dport);
    detail::TcpSegment s;
    if (ws_ports_[sport] || ws_ports_[dport]) {
        s.mode = detail::StreamMode::WebSocket;
    } else if (hep_ports_[sport] || hep_ports_[dport]) {
        s.mode = detail::StreamMode::HepProbe;
        s.fallback = sip ? detail::StreamMode::Sip : detail::StreamMode::Ignore;
    } else if (sip) {
        s.mode = detail::StreamMode::Sip;
    } else {
        return;  // not a stream we follow
    }
    const uint8_t flags = d[13];
    s.key = {ip.src, ip.dst, sport, dport};
    s.seq = be32(d.data() + 4);
    s.fin = (flags & 0x01) != 0;
    s.syn = (flags & 0x02) != 0;
    s.rst = (flags & 0x04) != 0;
    s.payload = d.subspan(off);
    s.missing = static_cast<uint32_t>(missing);
    s.vlan = ctx.vlan;
    s.ts = ctx.ts;
    tcp_.segment(s);
}

}  // namespace sipbeat::decode
