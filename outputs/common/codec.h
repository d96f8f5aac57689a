// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

#include "beat/config/schema.h"
#include "beat/encode/encoded_event.h"

namespace sipbeat::outputs {

/// `codec.json.*` / `codec.format.*` of the console and file outputs
/// (reference/beats.md §3.1, §3.5, §3.6).
struct CodecSettings {
    bool pretty = false;
    bool escape_html = false;
    std::string format;  ///< Non-empty: `codec.format.string`.
};

/// The `codec:` sub-schema (json.pretty, json.escape_html, format.string).
config::Spec codecSchema();
/// Reads `<prefix>.codec.*`; `pretty_key` (console's top-level `pretty`) may preset pretty.
CodecSettings readCodec(const config::Config& cfg, const std::string& prefix);

/// Turns the once-encoded compact JSON into what the output writes (without newline).
/// The common case — compact JSON — is the encoded bytes unchanged.
class Codec {
public:
    explicit Codec(CodecSettings settings) : settings_(std::move(settings)) {}
    /// Returns a view of `event.json` or of `scratch`.
    std::string_view apply(const encode::EncodedEvent& event, std::string& scratch) const;

private:
    CodecSettings settings_;
};

/// Expands a Beats format string (`%{[a.b]}`, `%{[a][b]}`, `%{[a]:default}`) against a
/// JSON document. Strings are inserted raw, other values as JSON; a missing field without
/// default expands to the empty string.
std::string formatEvent(std::string_view format, std::string_view json);

}  // namespace sipbeat::outputs
