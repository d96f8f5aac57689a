// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "beat/config/expand.h"
#include "beat/config/node.h"

namespace sipbeat::config {

/// What the command line says about configuration (reference/beats.md §1.2).
struct LoadOptions {
    std::vector<std::string> files;      ///< `-c`, in order; relative to path.config.
    std::vector<std::string> overrides;  ///< `-E key=value`, in order (incl. --path.*).
    std::string home;                    ///< Default path.home: the binary's directory.
    bool strict_perms = true;
    std::vector<Resolver> resolvers;
};

/// Loads the configuration as libbeat does: defaults (path.*) ⊕ `-c` files in order ⊕ `-E`
/// overrides in order, so `-E` wins over every file wherever it stands on the command
/// line; then a `sipcmbeat:` section is folded into `sipbeat:` (sipcmbeat configs work
/// unchanged) and `${...}` references are expanded. Throws ConfigError.
Node load(const LoadOptions& options);

/// The config file check of libbeat (`OwnerHasExclusiveWritePerms`): the owner must be
/// root or the effective user, and neither group nor others may write. Throws
/// ConfigError with Beats' wording.
void checkFilePermissions(const std::string& path);

/// Resolves a `-c` argument against path.config.
std::string resolveConfigPath(const std::string& file, const std::string& config_dir);

}  // namespace sipbeat::config
