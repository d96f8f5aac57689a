// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace sipbeat::core {

/// Appends `in` as the inside of a JSON string (RFC 8259 §7), without the quotes.
/// SIP headers, SDP and raw messages are arbitrary bytes, so invalid UTF-8 sequences
/// are replaced by U+FFFD (one per maximal invalid subpart, as Unicode §3.9 and the
/// WHATWG decoder do) rather than producing invalid JSON. `escape_html` escapes
/// `<`, `>` and `&` as libbeat's `escape_html` codec option does.
void appendJsonEscaped(std::string& out, std::string_view in, bool escape_html = false);

/// Appends `"in"` (with quotes).
inline void appendJsonString(std::string& out, std::string_view in, bool escape_html = false) {
    out.push_back('"');
    appendJsonEscaped(out, in, escape_html);
    out.push_back('"');
}

}  // namespace sipbeat::core
