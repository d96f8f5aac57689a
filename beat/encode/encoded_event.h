// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "beat/core/clock.h"

namespace sipbeat::encode {

/// An event encoded once, before the queue: outputs only frame it (reference/beats.md
/// §3.1 JSON codec; style-anchors §4.2 "encode once").
struct EncodedEvent {
    std::string json;                 ///< Compact JSON document with `@metadata`, no newline.
    core::TimestampNs timestamp = 0;  ///< Event time (Kafka message timestamp, index dates).
    std::string key;                  ///< Partitioning key (the Call-ID for SIP events).
};

}  // namespace sipbeat::encode
