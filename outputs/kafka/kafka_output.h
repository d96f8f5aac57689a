// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "outputs/output.h"

namespace sipbeat::outputs::kafka {

/// `output.kafka` on librdkafka (reference/beats.md §3.4): one JSON document per message,
/// keyed by the SIP Call-ID unless `key` is set, so every message of a call lands on one
/// partition; topics chosen per event by `topic`/`topics`.
class KafkaFactory final : public Factory {
public:
    std::string_view name() const override { return "kafka"; }
    config::Spec schema() const override;
    core::Result<Group> create(const OutputContext& ctx, const config::Config& cfg,
                               const std::string& prefix) const override;
};

/// FNV-1a, 32 bits (Go's hash/fnv New32a), the hash of Beats' (sarama's) hash partitioner.
uint32_t fnv1a32(std::string_view bytes, uint32_t hash = 2166136261u);

/// sarama's HashPartitioner: `int32(hash) % partitions`, negated when negative, so a key
/// lands on the same partition as with Beats.
int32_t hashToPartition(uint32_t hash, int32_t partitions);

}  // namespace sipbeat::outputs::kafka
