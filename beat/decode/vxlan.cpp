// SPDX-License-Identifier: Apache-2.0
// VXLAN (RFC 7348 §5) on the configured UDP destination ports: 8-byte header, inner Ethernet.
#include "beat/decode/decoder_impl.h"

namespace sipbeat::decode {

void Decoder::Impl::decodeVxlan(detail::Bytes d, PacketContext& ctx) noexcept {
    if (d.size() < 8) {
        counters_.flag(Anomaly::TruncatedVxlan);
        return;
    }
    if ((d[0] & 0x08) == 0) {
        // RFC 7348 §5: the I flag must be set for a valid VNI.
        counters_.flag(Anomaly::BadVxlanFlags);
        return;
    }
    if (!enterTunnel(ctx)) {
        return;
    }
    counters_.vxlan->add();
    decodeEthernet(d.subspan(8), ctx);
}

}  // namespace sipbeat::decode
