// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "beat/core/clock.h"
#include "beat/event/document.h"

namespace sipbeat::encode {

/// Options of the JSON codec (reference/beats.md §3.1).
struct JsonOptions {
    core::Precision precision = core::Precision::Microsecond;
    bool escape_html = false;
    std::string beat = "sipbeat";  ///< `@metadata.beat` (the index prefix).
    std::string version;           ///< `@metadata.version`.
};

/// Writes Documents as the libbeat JSON codec does: `@timestamp`, then `@metadata`, then
/// the fields nested by their dotted names, keys in sorted order. Reuses its buffers, so
/// encoding does not allocate once warm. A field whose name is both a value and a
/// parent (`a` and `a.b`) cannot be JSON; the later one is skipped and counted.
class JsonEncoder {
public:
    explicit JsonEncoder(JsonOptions options) : options_(std::move(options)) {}

    /// Replaces `out` with the encoded document.
    void encode(const event::Document& doc, std::string& out);

    uint64_t conflicts() const { return conflicts_; }

private:
    static constexpr size_t kPlanCacheSize = 256;

    /// How to write a document of one key sequence, computed once: for each value in
    /// output order the JSON text that precedes it (closing braces, comma, opening keys,
    /// the leaf's name), then what closes the document. Encoding is then appends only.
    struct Plan {
        struct Step {
            uint32_t field;
            std::string prefix;
        };
        std::vector<Step> steps;
        std::string suffix;
        size_t field_count = 0;
        uint64_t conflicts = 0;
    };

    void writeValue(const event::Field& f, std::string& out) const;
    const Plan& plan(std::span<const event::Field> fields);

    JsonOptions options_;
    std::unordered_map<uint64_t, Plan> plans_;
    uint64_t conflicts_ = 0;
};

/// Re-indents compact JSON (for `pretty: true`), two spaces per level as Go's
/// json.MarshalIndent does. Input must be valid JSON (ours always is).
std::string prettyPrint(std::string_view json);

}  // namespace sipbeat::encode
