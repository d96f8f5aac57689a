// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "beat/app/settings.h"

namespace sipbeat::app {

/// `sipbeat version`: `sipbeat version 0.1.0 (amd64), libbeat 0.1.0 [<commit> built <time>]`.
int runVersion();
/// `sipbeat test config`: loads and validates everything `run` would, prints `Config OK`.
int runTestConfig(const CliOptions& cli, const std::string& binary_dir);
/// `sipbeat export config`: the merged, expanded configuration as YAML.
/// `sipbeat test output`: connects to each host of the output and prints the Beats check
/// tree (reference/beats.md §1.5); exit 1 when a check fails.
int runTestOutput(const CliOptions& cli, const std::string& binary_dir);
int runExportConfig(const CliOptions& cli, const std::string& binary_dir);
/// `sipbeat run` (the default).
int runBeat(const CliOptions& cli, const std::string& binary_dir);

/// Entry point: parses the command line and dispatches. Fatal errors print
/// `Exiting: <reason>` on stderr and return 1.
int main(int argc, char** argv);

}  // namespace sipbeat::app
