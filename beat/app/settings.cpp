// SPDX-License-Identifier: Apache-2.0
#include "beat/app/settings.h"

#include <cstdlib>

#include "beat/config/sipbeat_schema.h"

namespace sipbeat::app {

using namespace config;  // NOLINT(google-build-using-namespace): schema tables read better

std::shared_ptr<const Spec> rootSchema(const outputs::Registry& outputs) {
    Spec root = object({
        {"name", stringNoDefault()},
        {"tags", listOf(stringNoDefault())},
        {"fields", any()},
        {"fields_under_root", boolean(false)},
        // Checked in detail when compiled (processors/processor.h), naming key and file.
        {"processors", any()},
        // sipbeat events carry packet time to the microsecond by default (SPEC §5);
        // libbeat's default is millisecond.
        {"timestamp", object({{"precision", oneOf("microsecond",
                                                  {"millisecond", "microsecond", "nanosecond"})}})},
        {"max_procs", integerNoDefault(1)},
        {"path", object({{"home", stringNoDefault()},
                         {"config", stringNoDefault()},
                         {"data", stringNoDefault()},
                         {"logs", stringNoDefault()}})},
        {"logging",
         object({
             {"level", oneOf("info", {"debug", "info", "warning", "warn", "error", "critical"})},
             {"selectors", listOf(stringNoDefault())},
             {"to_stderr", boolean(false)},
             {"to_syslog", boolean(false)},
             {"to_eventlog", boolean(false)},
             {"to_files", boolean(true)},
             {"files", object({{"path", stringNoDefault()},
                               {"name", string("sipbeat")},
                               {"rotateeverybytes", integer(10485760, 1)},
                               {"keepfiles", integer(7, 2, 1024)},
                               {"permissions", integer(0600, 0, 0777)},
                               {"interval", duration("0", 0)},
                               {"rotateonstartup", boolean(true)},
                               {"redirect_stderr", boolean(false)}})},
             {"metrics", object({{"enabled", boolean(true)}, {"period", duration("30s", 1)}})},
         })},
        {"queue", outputs::queueSchema()},
        {"output", outputs.schema()},
        {"sipbeat", sipbeatSectionSchema()},
    });
    return std::make_shared<const Spec>(std::move(root));
}

namespace {

// Outputs Beats users know that this build does not have yet get a clear message
// instead of "unknown key".
void rejectUnavailableOutputs(const Node& root) {
    const Node* out = root.child("output");
    if (out == nullptr || !out->isMap()) {
        return;
    }
    for (const char* name : {"redis"}) {
        const Node* section = out->child(name);
        if (section == nullptr) {
            continue;
        }
        const Node* enabled = section->isMap() ? section->child("enabled") : nullptr;
        bool on = true;
        if (enabled != nullptr && enabled->isScalar()) {
            parseBool(enabled->text(), on);
        }
        if (on) {
            throw ConfigError(
                std::string("output.") + name +
                " is not available in this version of sipbeat (use output.elasticsearch, "
                "output.logstash, output.kafka, output.file or output.console) "
                "accessing 'output." +
                name + "' " + section->origin().describe());
        }
    }
}

}  // namespace

Config loadConfig(const CliOptions& cli, const outputs::Registry& outputs,
                  const std::string& binary_dir) {
    LoadOptions lo;
    lo.files = cli.config_files;
    lo.overrides = cli.overrides;
    lo.home = binary_dir;
    // BEAT_STRICT_PERMS=false also turns the check off, as in libbeat.
    const char* env = std::getenv("BEAT_STRICT_PERMS");
    lo.strict_perms = cli.strict_perms && !(env != nullptr && std::string(env) == "false");
    Node root = load(lo);
    rejectUnavailableOutputs(root);
    // A disabled output section is not validated beyond being an object (libbeat skips it).
    auto schema = rootSchema(outputs);
    validate(root, *schema);
    Config cfg(std::move(root), schema);
    enabledOutput(cfg, outputs);
    return cfg;
}

std::string enabledOutput(const Config& cfg, const outputs::Registry& outputs) {
    std::string found;
    const Node* out = cfg.node("output");
    if (out != nullptr && out->isMap()) {
        for (const auto& [name, section] : out->entries()) {
            if (outputs.find(name) == nullptr) {
                continue;
            }
            if (!cfg.getBool("output." + name + ".enabled")) {
                continue;
            }
            if (!found.empty()) {
                throw ConfigError("more than one namespace configured accessing 'output' " +
                                  section.origin().describe());
            }
            found = name;
        }
    }
    if (found.empty()) {
        throw ConfigError("No outputs are defined. Please define one under the output section.");
    }
    return found;
}

core::logging::Config loggingConfig(const Config& cfg, const CliOptions& cli) {
    core::logging::Config lc;
    core::logging::parseLevel(cfg.getString("logging.level"), lc.level);
    lc.selectors = cfg.getStringList("logging.selectors");
    lc.to_stderr = cfg.getBool("logging.to_stderr");
    lc.to_files = cfg.getBool("logging.to_files");
    // Under systemd or in a container, journald/the runtime collects stderr
    // (libbeat's logp environment defaults), unless the file says otherwise.
    if (cli.environment == "systemd" || cli.environment == "container") {
        if (!cfg.has("logging.to_stderr")) {
            lc.to_stderr = true;
        }
        if (!cfg.has("logging.to_files")) {
            lc.to_files = false;
        }
    }
    if (cli.log_to_stderr) {
        lc.to_stderr = true;
    }
    if (cli.verbose && lc.level > core::logging::Level::Info) {
        lc.level = core::logging::Level::Info;
    }
    if (cli.debug) {
        lc.level = core::logging::Level::Debug;
        lc.selectors.insert(lc.selectors.end(), cli.debug_selectors.begin(),
                            cli.debug_selectors.end());
    }
    std::string dir = cfg.getString("logging.files.path");
    if (dir.empty()) {
        dir = cfg.getString("path.logs");
    }
    lc.files.directory = dir;
    lc.files.filename = cfg.getString("logging.files.name");
    lc.files.max_size_bytes = static_cast<uint64_t>(cfg.getInt("logging.files.rotateeverybytes"));
    // keepfiles counts rotated files (libbeat passes it to MaxBackups as is).
    lc.files.max_backups = static_cast<uint32_t>(cfg.getInt("logging.files.keepfiles"));
    lc.files.permissions = static_cast<mode_t>(cfg.getInt("logging.files.permissions"));
    lc.files.interval_ns = cfg.getDurationNs("logging.files.interval");
    lc.files.rotate_on_startup = cfg.getBool("logging.files.rotateonstartup");
    return lc;
}

}  // namespace sipbeat::app
