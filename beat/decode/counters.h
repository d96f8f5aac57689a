// SPDX-License-Identifier: Apache-2.0
// The decoder's counters: created once in the registry, updated through kept pointers.
#pragma once

#include <array>
#include <cstdint>

#include "beat/decode/anomaly.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::decode::detail {

class DecodeCounters {
public:
    explicit DecodeCounters(monitoring::Registry& registry);

    /// Counts one anomaly, in the registry (`decode.anomaly.<name>`) and for this decoder.
    void flag(Anomaly a) noexcept {
        const auto i = static_cast<size_t>(a);
        ++local_[i];
        anomalies_[i]->add();
    }
    uint64_t anomalyCount(Anomaly a) const noexcept { return local_[static_cast<size_t>(a)]; }

    monitoring::Counter* packets;
    monitoring::Counter* ipv4;
    monitoring::Counter* ipv6;
    monitoring::Counter* icmp;
    monitoring::Counter* udp;
    monitoring::Counter* tcp;
    monitoring::Counter* sctp;
    monitoring::Counter* gre;
    monitoring::Counter* erspan;
    monitoring::Counter* ipip;
    monitoring::Counter* vxlan;
    monitoring::Counter* hep;
    monitoring::Counter* websocket;
    monitoring::Counter* payloads;             ///< SipPayloads handed to the sink
    monitoring::Counter* fragments;            ///< IP fragments seen
    monitoring::Counter* fragment_duplicates;  ///< exact duplicates, dropped (RFC 8200 §4.5)
    monitoring::Counter* fragments_dropped;    ///< fragments thrown away (bad, evicted, expired)
    monitoring::Counter* reassembled;          ///< datagrams rebuilt from fragments
    monitoring::Counter* fragment_trains;      ///< gauge: trains being reassembled
    monitoring::Counter* tcp_streams_opened;
    monitoring::Counter* tcp_streams;          ///< gauge: stream directions tracked
    monitoring::Counter* tcp_bytes;            ///< gauge: bytes buffered by all streams
    monitoring::Counter* tcp_retransmissions;  ///< segments whose data was all seen before
    monitoring::Counter* tcp_out_of_order;     ///< segments held for a missing earlier one
    monitoring::Counter* tcp_dropped_bytes;    ///< stream bytes not framed into messages

private:
    std::array<monitoring::Counter*, static_cast<size_t>(Anomaly::Count)> anomalies_{};
    std::array<uint64_t, static_cast<size_t>(Anomaly::Count)> local_{};
};

}  // namespace sipbeat::decode::detail
