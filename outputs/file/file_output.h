// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "outputs/output.h"

namespace sipbeat::outputs::file {

/// `output.file`: rotating NDJSON files named as Beats 8 names them
/// (reference/beats.md §3.5): `<filename>-YYYYMMDD[-N].ndjson` under `path`.
class FileFactory final : public Factory {
public:
    std::string_view name() const override { return "file"; }
    config::Spec schema() const override;
    core::Result<Group> create(const OutputContext& ctx, const config::Config& cfg,
                               const std::string& prefix) const override;
};

}  // namespace sipbeat::outputs::file
