// SPDX-License-Identifier: Apache-2.0
// Fuzz target: configuration text → parse, fold the sipcmbeat alias, expand variables,
// validate against the full schema. Any input must end in a value or a ConfigError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "beat/app/settings.h"
#include "beat/config/expand.h"
#include "beat/config/node.h"
#include "beat/config/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const auto schema = [] {
        sipbeat::outputs::Registry reg;
        sipbeat::outputs::registerBuiltinOutputs(reg);
        return sipbeat::app::rootSchema(reg);
    }();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        sipbeat::config::Node root = sipbeat::config::parseYaml(text, "fuzz.yml");
        sipbeat::config::expandVariables(root);
        sipbeat::config::validate(root, *schema);
        (void)sipbeat::config::toYaml(root);
    } catch (const sipbeat::config::ConfigError&) {
        // The expected way to refuse bad input.
    }
    return 0;
}
