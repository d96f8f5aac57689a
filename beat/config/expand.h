// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "beat/config/node.h"

namespace sipbeat::config {

/// Looks a variable name up somewhere (the keystore, later); nullopt when unknown.
using Resolver = std::function<std::optional<std::string>(std::string_view name)>;

/// Expands variables in every scalar of `root`, in place, as go-ucfg does
/// (reference/beats.md §2.1):
///  - `${name}` is a config path (`${path.home}`), else a resolver's value, else the
///    environment variable; unknown is the empty string;
///  - `${name:default}` uses `default` (itself expanded) when the name is unknown or empty;
///  - `${name:?message}` fails with `message` when the name is unknown or empty;
///  - `${name:+alt}` is `alt` when the name is set, else empty;
///  - `$${` and `$}` are a literal `${` and `}`.
/// Errors name the key and where it was set.
void expandVariables(Node& root, const std::vector<Resolver>& resolvers = {});

/// Expands one string against `root`; `key` and `origin` are for error messages.
std::string expandString(std::string_view text, const Node& root,
                         const std::vector<Resolver>& resolvers, const std::string& key,
                         const Origin& origin);

}  // namespace sipbeat::config
