// SPDX-License-Identifier: Apache-2.0
// Private: URI parsing with the reason it failed, for name-addr parsing which accepts URIs
// of unknown schemes (RFC 4475 §3.3.4) but not broken sip: URIs.
#pragma once

#include <cstdint>
#include <string_view>

#include "beat/sip/message.h"

namespace sipbeat::sip {

enum class UriResult : uint8_t { Ok, OtherScheme, Bad };

/// Empties every field. Field by field on purpose: assigning Uri{} builds and copies a
/// temporary, which showed up in profiles of the accessors.
inline void resetUri(Uri& u) noexcept {
    u.original = {};
    u.scheme = {};
    u.user = {};
    u.password = {};
    u.host = {};
    u.port = 0;
    u.has_port = false;
    u.params = {};
    u.headers = {};
}

/// Like parseUri(); OtherScheme leaves `original` and `scheme` set.
UriResult parseUriDetailed(std::string_view text, Uri& out) noexcept;

}  // namespace sipbeat::sip
