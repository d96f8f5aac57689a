// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "beat/config/schema.h"

namespace sipbeat::config {

/// The `sipbeat:` section: every sipcmbeat key with its code default
/// (reference/sipcmbeat.md §5.2) plus sipbeat's own switches (SPEC §5). The meaning of
/// each key is in _meta/beat.reference.yml.tmpl.
Spec sipbeatSectionSchema();

}  // namespace sipbeat::config
