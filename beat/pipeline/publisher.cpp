// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/publisher.h"

#include "beat/config/schema.h"
#include "beat/core/version.h"
#include "field_names.h"

namespace sipbeat::pipeline {

Publisher::Publisher(Pipeline& pipeline, BeatInfo info, ProcessingSettings settings,
                     encode::JsonOptions json)
    : pipeline_(pipeline),
      info_(std::move(info)),
      settings_(std::move(settings)),
      encoder_(std::move(json)) {
    if (settings_.fields.isMap()) {
        flatten(settings_.fields, settings_.fields_under_root ? "" : "fields");
    }
}

void Publisher::flatten(const config::Node& node, const std::string& prefix) {
    if (node.isMap()) {
        for (const auto& [k, v] : node.entries()) {
            flatten(v, prefix.empty() ? k : prefix + "." + k);
        }
        return;
    }
    StaticField f;
    f.key = prefix;
    if (node.isSequence()) {
        f.kind = event::ValueKind::StringList;
        for (const auto& item : node.items()) {
            f.list.push_back(item.text());
        }
        static_fields_.push_back(std::move(f));
        return;
    }
    if (!node.isScalar()) {
        return;
    }
    // YAML gave text; plain numbers and booleans keep their JSON type, as in Beats.
    const std::string& t = node.text();
    if (!node.quoted() && config::parseInt(t, f.i) && (t.size() == 1 || t[0] != '0')) {
        f.kind = event::ValueKind::Int;
    } else if (!node.quoted() && t.find_first_of(".eE") != std::string::npos &&
               config::parseFloat(t, f.d)) {
        f.kind = event::ValueKind::Double;
    } else if (!node.quoted() && (t == "true" || t == "false") && config::parseBool(t, f.b)) {
        f.kind = event::ValueKind::Bool;
    } else {
        f.kind = event::ValueKind::String;
        f.text = t;
    }
    static_fields_.push_back(std::move(f));
}

bool Publisher::publish(event::Document& doc, std::string_view key,
                        const processors::ProcessorList* own) {
    for (const std::string& tag : settings_.tags) {
        doc.appendToList(fields::kTags, tag);
    }
    for (const StaticField& f : static_fields_) {
        switch (f.kind) {
            case event::ValueKind::Int:
                doc.setInt(f.key, f.i);
                break;
            case event::ValueKind::Double:
                doc.setDouble(f.key, f.d);
                break;
            case event::ValueKind::Bool:
                doc.setBool(f.key, f.b);
                break;
            case event::ValueKind::StringList:
                for (const std::string& item : f.list) {
                    doc.appendToList(f.key, item);
                }
                break;
            default:
                doc.setString(f.key, f.text);
                break;
        }
    }
    if (own != nullptr && !own->empty() && !own->run(doc)) {
        if (settings_.filtered != nullptr) {
            settings_.filtered->add();
        }
        return false;
    }
    // Event builders never set these; only the configured `fields` (under root) or a
    // processor could, so without them the fields are appended without a search.
    const bool may_exist = !static_fields_.empty() || (own != nullptr && !own->empty());
    const auto put = [&](std::string_view k, std::string_view v) {
        if (may_exist) {
            doc.setString(k, v);
        } else {
            doc.addString(k, v);
        }
    };
    put(fields::kAgentEphemeralId, info_.ephemeral_id);
    put(fields::kAgentId, info_.id);
    put(fields::kAgentName, info_.name);
    put(fields::kAgentType, core::kBeatName);
    put(fields::kAgentVersion, info_.version);
    put(fields::kEcsVersion, core::kEcsVersion);
    put(fields::kHostName, info_.name);
    if (!settings_.processors.empty() && !settings_.processors.run(doc)) {
        if (settings_.filtered != nullptr) {
            settings_.filtered->add();
        }
        return false;
    }

    // The buffers move into the queue; spent ones come back from the pipeline.
    encode::EncodedEvent ev = pipeline_.takeSpare();
    encoder_.encode(doc, ev.json);
    ev.timestamp = doc.timestamp;
    ev.key.assign(key);
    return pipeline_.publish(std::move(ev));
}

}  // namespace sipbeat::pipeline
