// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "beat/config/node.h"
#include "beat/core/status.h"
#include "beat/processors/field_source.h"

namespace sipbeat::processors {

/// A Beats condition (reference/beats.md §2.4): equals, contains, regexp, range, network,
/// has_fields, or, and, not; several fields under one condition are ANDed. Compiled once
/// from config (regexps, CIDRs parsed at start), evaluated per event without allocating.
class Condition {
public:
    virtual ~Condition() = default;
    virtual bool check(const FieldSource& fields) const = 0;
};
using ConditionPtr = std::unique_ptr<Condition>;

/// Compiles the condition map `node` (e.g. `{equals: {sip.method: INVITE}}`). `path` is
/// its dotted config name, used in errors ("… accessing 'processors.0.drop_event.when'
/// (source:'sipbeat.yml')").
core::Result<ConditionPtr> compileCondition(const config::Node& node, const std::string& path);

}  // namespace sipbeat::processors
