// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "beat/config/loader.h"
#include "beat/config/schema.h"
#include "beat/core/logging.h"
#include "outputs/output.h"

namespace sipbeat::app {

/// Everything the command line says (reference/beats.md §1.2).
struct CliOptions {
    std::vector<std::string> config_files;     ///< -c
    std::vector<std::string> overrides;        ///< -E, then --path.* as -E path.*=…
    bool log_to_stderr = false;                ///< -e
    std::vector<std::string> debug_selectors;  ///< -d "a,b"
    bool debug = false;                        ///< -d given
    bool verbose = false;                      ///< -v
    bool strict_perms = true;                  ///< --strict.perms
    std::string environment = "default";       ///< --environment
    // packetbeat's run flags (reference/beats.md §1.1)
    std::string pcap_file;    ///< -I: read this pcap instead of capturing
    bool pcap_fast = false;   ///< -t: as fast as possible (sipbeat's default anyway)
    int64_t pcap_loops = -1;  ///< -l: loop count, 0 = forever; -1 = not given
};

/// The root schema: general Beats settings, logging, queue, outputs and `sipbeat:`.
std::shared_ptr<const config::Spec> rootSchema(const outputs::Registry& outputs);

/// Loads, merges, expands and validates the configuration. Throws config::ConfigError.
config::Config loadConfig(const CliOptions& cli, const outputs::Registry& outputs,
                          const std::string& binary_dir);

/// The one enabled output: its name. Throws ConfigError when none or several are enabled.
std::string enabledOutput(const config::Config& cfg, const outputs::Registry& outputs);

/// Logging settings from `logging.*` and the -e/-d/-v/--environment flags.
core::logging::Config loggingConfig(const config::Config& cfg, const CliOptions& cli);

}  // namespace sipbeat::app
