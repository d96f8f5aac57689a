// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "beat/config/node.h"
#include "beat/encode/json_encoder.h"
#include "beat/event/document.h"
#include "beat/pipeline/pipeline.h"
#include "beat/processors/processor.h"

namespace sipbeat::pipeline {

/// Who is shipping: the standard Beats metadata of every event (reference/beats.md §7).
struct BeatInfo {
    std::string name;          ///< `name` setting or the host name → agent.name, host.name.
    std::string id;            ///< agent.id, from meta.json.
    std::string ephemeral_id;  ///< New for each process.
    std::string version;
};

/// Settings of the general processing step (`tags`, `fields`, `fields_under_root`).
struct ProcessingSettings {
    std::vector<std::string> tags;
    config::Node fields;  ///< Free-form map, or null.
    bool fields_under_root = false;
    /// The top-level `processors:` list, run after the builtin fields.
    processors::ProcessorList processors;
    /// Counts events dropped by a processor (`libbeat.pipeline.events.filtered`).
    monitoring::Counter* filtered = nullptr;
};

/// Completes an event as libbeat's processing does (reference/beats.md §2.4: tags,
/// fields, the event kind's own processors, the builtin `agent.*`, `ecs.version`,
/// `host.name`, then the global processors), encodes it once and queues it.
class Publisher {
public:
    Publisher(Pipeline& pipeline, BeatInfo info, ProcessingSettings settings,
              encode::JsonOptions json);

    /// Publishes `doc` (modified in place); `key` is the partitioning key; `own` are the
    /// processors of the event's kind (`sipbeat.messages.processors`, …). Blocks while the
    /// queue is full (files). False when the event was not queued: dropped by a
    /// processor, by a full queue (live capture), or the pipeline is closed.
    bool publish(event::Document& doc, std::string_view key = {},
                 const processors::ProcessorList* own = nullptr);

private:
    /// One `fields` entry, flattened and typed once at start (not per event).
    struct StaticField {
        std::string key;
        event::ValueKind kind = event::ValueKind::String;
        std::string text;
        int64_t i = 0;
        double d = 0;
        bool b = false;
        std::vector<std::string> list;
    };
    void flatten(const config::Node& node, const std::string& prefix);

    Pipeline& pipeline_;
    BeatInfo info_;
    ProcessingSettings settings_;
    std::vector<StaticField> static_fields_;
    encode::JsonEncoder encoder_;
};

}  // namespace sipbeat::pipeline
