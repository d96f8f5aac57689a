// SPDX-License-Identifier: Apache-2.0
// Private helpers shared by the event builders of this directory (message_event.cpp,
// call_event.cpp). Not part of the public API.
#pragma once

#include <string>
#include <string_view>

#include "beat/decode/sip_payload.h"
#include "beat/event/document.h"

namespace sipbeat::event::detail {

/// A per-thread scratch buffer for building IP texts, dates and IDs without allocating.
inline std::string& scratch() {
    thread_local std::string s;
    s.clear();
    return s;
}

/// An IP address as text.
inline void addIp(Document& doc, std::string_view key, const decode::IpAddress& ip) {
    std::string& s = scratch();
    ip.appendText(s);
    doc.addString(key, s);
}

/// Appends to a related.* list unless the value is already there (libbeat deduplicates
/// related fields, keeping insertion order).
inline void addRelatedUnique(Document& doc, std::string_view key, std::string_view value) {
    if (value.empty()) {
        return;
    }
    if (const Field* f = doc.get(key)) {
        for (std::string_view v : f->list) {
            if (v == value) {
                return;
            }
        }
    }
    doc.appendToList(key, value);
}

}  // namespace sipbeat::event::detail
