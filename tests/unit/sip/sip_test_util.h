// SPDX-License-Identifier: Apache-2.0
// Helpers for the SIP parser tests.
#pragma once

#include <string>
#include <string_view>

namespace sipbeat::sip::test {

/// Test messages are written with "\n"; SIP wants CRLF (RFC 3261 §7). Turns every "\n" that
/// is not already preceded by "\r" into "\r\n".
inline std::string crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
            out.push_back('\r');
        }
        out.push_back(text[i]);
    }
    return out;
}

}  // namespace sipbeat::sip::test
