// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "beat/core/status.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::app {

/// When counters events go out and which counter groups they carry: sipcmbeat's
/// `stats_interval` / `stats_groups` (sipcmbeat.md §9). Groups are `name[:interval]` with
/// dotted names (`events.dbg`), `all`/`*` for every counter and `none`/`-` for no group; a
/// group without interval uses `stats_interval`. The ticker runs at the gcd of all
/// intervals (at least 500 ms); a tick with no group due sends an empty keep-alive event
/// once `stats_interval` has passed since the last counters event (≤ 0 disables it).
class StatsSchedule {
public:
    struct Group {
        std::string name;  ///< "" for all counters
        int64_t interval_ns = 0;
        int64_t next_due_ns = 0;
    };

    /// Parses the groups; a name that matches no counter of `registry` is an error whose
    /// message names it (the caller adds key and file).
    static core::Result<StatsSchedule> parse(const std::vector<std::string>& groups,
                                             int64_t stats_interval_ns,
                                             const monitoring::Registry& registry);

    /// Ticker period: gcd of the intervals, at least 500 ms; 0 when nothing is ever sent.
    int64_t tickNs() const noexcept { return tick_ns_; }

    /// What is due at `now` (wall ns since start of the schedule): `prefixes` gets the
    /// groups to include (empty string = all); `keepalive` is true when an empty event is due.
    /// False when nothing is to be sent.
    bool due(int64_t now, std::vector<std::string>& prefixes, bool& keepalive);

    /// Whether `counter` belongs to one of `prefixes`.
    static bool selected(std::string_view counter, const std::vector<std::string>& prefixes);

    const std::vector<Group>& groups() const noexcept { return groups_; }

private:
    std::vector<Group> groups_;
    int64_t stats_interval_ns_ = 0;
    int64_t tick_ns_ = 0;
    int64_t last_sent_ns_ = 0;
    bool started_ = false;
};

}  // namespace sipbeat::app
