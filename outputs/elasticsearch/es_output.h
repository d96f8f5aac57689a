// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "outputs/output.h"

namespace sipbeat::outputs::elasticsearch {

/// `output.elasticsearch` (reference/beats.md §3.2, §5.1): `_bulk` over libcurl, one
/// client per host and worker (loadbalance) or per worker failing over between hosts.
class ElasticsearchFactory final : public Factory {
public:
    std::string_view name() const override { return "elasticsearch"; }
    config::Spec schema() const override;
    core::Result<Group> create(const OutputContext& ctx, const config::Config& cfg,
                               const std::string& prefix) const override;
};

/// One entry of `hosts` made into a URL (libbeat `common.MakeURL`): a bare `IP:PORT` takes
/// scheme and path from `protocol` and `path`, port 9200 by default; IPv6 in brackets.
struct HostUrl {
    std::string scheme;  ///< "http" or "https"
    std::string host;    ///< without brackets
    uint16_t port = 9200;
    std::string path;      ///< "" or "/prefix" (no trailing slash)
    std::string username;  ///< from userinfo
    std::string password;
    /// "http://127.0.0.1:9200/prefix": what logs and `test output` show.
    std::string base() const;
};

/// Parses one host entry; nullopt with `error` set when it is not a valid host.
std::optional<HostUrl> parseHostUrl(std::string_view entry, std::string_view protocol,
                                    std::string_view path, std::string& error);

}  // namespace sipbeat::outputs::elasticsearch
