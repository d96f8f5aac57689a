// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "outputs/output.h"

namespace sipbeat::outputs::logstash {

/// `output.logstash`: Lumberjack v2 to Logstash (or any Beats input), reference/beats.md
/// §3.3 and §4. One client per worker, which fails over between the hosts, or with
/// `loadbalance: true` one client per host and worker. Up to `pipelining` windows are
/// outstanding per connection; a reader thread signals batches as their ACKs arrive.
class LogstashFactory final : public Factory {
public:
    std::string_view name() const override { return "logstash"; }
    config::Spec schema() const override;
    core::Result<Group> create(const OutputContext& ctx, const config::Config& cfg,
                               const std::string& prefix) const override;
};

}  // namespace sipbeat::outputs::logstash
