// SPDX-License-Identifier: Apache-2.0
// UDP (RFC 768): VXLAN by destination port, HEP on the HEP ports, else the payload itself.
#include "beat/decode/decoder_impl.h"
#include "beat/decode/hep.h"

namespace sipbeat::decode {

using detail::be16;

void Decoder::Impl::decodeUdp(const IpInfo& ip, detail::Bytes d, size_t missing,
                              PacketContext& ctx) noexcept {
    if (d.size() < 8) {
        counters_.flag(Anomaly::TruncatedUdp);
        return;
    }
    counters_.udp->add();
    const uint16_t sport = be16(d.data());
    const uint16_t dport = be16(d.data() + 2);
    size_t len = be16(d.data() + 4);
    if (len == 0) {
        len = d.size() + missing;  // RFC 2675 §4: jumbogram, the IP layer has the length
    }
    if (len < 8 || len > d.size() + missing) {
        counters_.flag(Anomaly::BadUdpLength);
        return;
    }
    // Within the snaplen cut, what was captured goes on: a SIP message with a short body
    // still parses (sipcmbeat accepts short UDP bodies too).
    const detail::Bytes payload = d.subspan(8, (len < d.size() ? len : d.size()) - 8);
    if (vxlan_ports_[dport]) {
        decodeVxlan(payload, ctx);
        return;
    }
    if ((hep_ports_[sport] || hep_ports_[dport]) && looksLikeHep(payload)) {
        handleHep(payload, ctx.ts);
        return;
    }
    if (!sipPort(sport, dport)) {
        return;
    }
    SipPayload p;
    p.timestamp = ctx.ts;
    p.src = ip.src;
    p.dst = ip.dst;
    p.src_port = sport;
    p.dst_port = dport;
    p.transport = Transport::Udp;
    p.vlan = ctx.vlan;
    p.bytes = detail::asText(payload);
    emit(p);
}

}  // namespace sipbeat::decode
