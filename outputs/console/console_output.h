// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "outputs/output.h"

namespace sipbeat::outputs::console {

/// `output.console`: one JSON document (or format string) per line on stdout
/// (reference/beats.md §3.6).
class ConsoleFactory final : public Factory {
public:
    std::string_view name() const override { return "console"; }
    config::Spec schema() const override;
    core::Result<Group> create(const OutputContext& ctx, const config::Config& cfg,
                               const std::string& prefix) const override;
};

}  // namespace sipbeat::outputs::console
