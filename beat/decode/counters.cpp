// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/counters.h"

#include <string>

namespace sipbeat::decode::detail {

DecodeCounters::DecodeCounters(monitoring::Registry& r)
    : packets(&r.counter("decode.packets")),
      ipv4(&r.counter("decode.ipv4")),
      ipv6(&r.counter("decode.ipv6")),
      icmp(&r.counter("decode.icmp")),
      udp(&r.counter("decode.udp")),
      tcp(&r.counter("decode.tcp")),
      sctp(&r.counter("decode.sctp")),
      gre(&r.counter("decode.gre")),
      erspan(&r.counter("decode.erspan")),
      ipip(&r.counter("decode.ipip")),
      vxlan(&r.counter("decode.vxlan")),
      hep(&r.counter("decode.hep")),
      websocket(&r.counter("decode.websocket")),
      payloads(&r.counter("decode.payloads")),
      fragments(&r.counter("decode.fragments")),
      fragment_duplicates(&r.counter("decode.fragments_duplicate")),
      fragments_dropped(&r.counter("decode.fragments_dropped")),
      reassembled(&r.counter("decode.reassembled")),
      fragment_trains(&r.counter("decode.fragment_trains")),
      tcp_streams_opened(&r.counter("decode.tcp_streams_opened")),
      tcp_streams(&r.counter("decode.tcp_streams")),
      tcp_bytes(&r.counter("decode.tcp_buffered_bytes")),
      tcp_retransmissions(&r.counter("decode.tcp_retransmissions")),
      tcp_out_of_order(&r.counter("decode.tcp_out_of_order")),
      tcp_dropped_bytes(&r.counter("decode.tcp_dropped_bytes")) {
    for (size_t i = 0; i < anomalies_.size(); ++i) {
        std::string name = "decode.anomaly.";
        name += anomalyName(static_cast<Anomaly>(i));
        anomalies_[i] = &r.counter(name);
    }
}

}  // namespace sipbeat::decode::detail
