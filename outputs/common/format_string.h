// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "beat/config/node.h"
#include "beat/config/schema.h"
#include "beat/core/status.h"
#include "beat/encode/encoded_event.h"
#include "beat/processors/condition.h"

namespace sipbeat::outputs {

/// A Beats format string (reference/beats.md §3.1): `%{[a.b]}` (= `%{[a][b]}`),
/// `%{[a.b]:default}`, `%{+yyyy.MM.dd}` (Joda pattern on the event's @timestamp, UTC).
/// Parsed once; a missing field without default makes expansion fail.
class FormatString {
public:
    /// Parses `text`; unbalanced `%{` is an error.
    static core::Result<FormatString> parse(std::string_view text);
    /// Fields known for every event (agent.version, agent.name …): expanded at parse time
    /// by bind(), so the default index needs no JSON lookup per event.
    void bind(const std::map<std::string, std::string, std::less<>>& static_fields);
    /// True when expansion needs no event field (only literals and dates).
    bool isConstant() const;
    /// Expands against one event; nullopt when a field is missing and has no default.
    std::optional<std::string> expand(const encode::EncodedEvent& event,
                                      const processors::FieldSource& fields) const;
    const std::string& text() const { return text_; }

private:
    struct Part;
    std::string text_;
    std::vector<std::shared_ptr<const Part>> parts_;
};

/// A selector: the scalar key (`index`, `topic`, `pipeline`) and its rules list
/// (`indices`, `topics`, `pipelines`: `{index|topic|pipeline: fmt, mappings: {from: to},
/// default: str, when: <condition>}`), first match wins, then the scalar.
class Selector {
public:
    /// The config schema of one rules list, for an output's schema (`rule_key` is
    /// "index", "topic" or "pipeline").
    static config::Spec rulesSchema(const std::string& rule_key);
    /// Builds from `<prefix>.<key>` and `<prefix>.<rules_key>`; `lowercase` for index and
    /// pipeline names. Errors name the key and file.
    static core::Result<Selector> fromConfig(const config::Config& cfg, const std::string& prefix,
                                             const std::string& key, const std::string& rules_key,
                                             bool lowercase);
    void bind(const std::map<std::string, std::string, std::less<>>& static_fields);
    /// Empty when neither the scalar nor any rule is set.
    bool empty() const;
    /// The value for one event, or nullopt when no rule and no scalar gives one (the
    /// caller drops the event and counts it, as libbeat does).
    std::optional<std::string> select(const encode::EncodedEvent& event) const;

private:
    struct Rule;
    std::vector<std::shared_ptr<const Rule>> rules_;
    std::optional<FormatString> scalar_;
    bool lowercase_ = false;
};

}  // namespace sipbeat::outputs
