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
      encoder_(std::move(json)) {}

void Publisher::addFields(event::Document& doc, const config::Node& node,
                          const std::string& prefix) {
    if (node.isMap()) {
        for (const auto& [k, v] : node.entries()) {
            addFields(doc, v, prefix.empty() ? k : prefix + "." + k);
        }
        return;
    }
    if (node.isSequence()) {
        std::vector<std::string_view> items;
        for (const auto& item : node.items()) {
            items.push_back(item.text());
        }
        doc.setStringList(prefix, items);
        return;
    }
    if (!node.isScalar()) {
        return;
    }
    // YAML gave text; plain numbers and booleans keep their JSON type, as in Beats.
    const std::string& t = node.text();
    int64_t i = 0;
    double d = 0;
    bool b = false;
    if (!node.quoted() && config::parseInt(t, i) && (t.size() == 1 || t[0] != '0')) {
        doc.setInt(prefix, i);
    } else if (!node.quoted() && t.find_first_of(".eE") != std::string::npos &&
               config::parseFloat(t, d)) {
        doc.setDouble(prefix, d);
    } else if (!node.quoted() && (t == "true" || t == "false") && config::parseBool(t, b)) {
        doc.setBool(prefix, b);
    } else {
        doc.setString(prefix, t);
    }
}

bool Publisher::publish(event::Document& doc, std::string key) {
    for (const std::string& tag : settings_.tags) {
        doc.appendToList(fields::kTags, tag);
    }
    if (settings_.fields.isMap()) {
        addFields(doc, settings_.fields, settings_.fields_under_root ? "" : "fields");
    }
    doc.setString(fields::kAgentEphemeralId, info_.ephemeral_id);
    doc.setString(fields::kAgentId, info_.id);
    doc.setString(fields::kAgentName, info_.name);
    doc.setString(fields::kAgentType, core::kBeatName);
    doc.setString(fields::kAgentVersion, info_.version);
    doc.setString(fields::kEcsVersion, core::kEcsVersion);
    doc.setString(fields::kHostName, info_.name);

    encode::EncodedEvent ev;
    // The string moves into the queue, so each event needs its own buffer: size it once
    // from the previous event instead of growing it several times.
    ev.json.reserve(last_size_ + 256);
    encoder_.encode(doc, ev.json);
    last_size_ = ev.json.size();
    ev.timestamp = doc.timestamp;
    ev.key = std::move(key);
    return pipeline_.publish(std::move(ev));
}

}  // namespace sipbeat::pipeline
