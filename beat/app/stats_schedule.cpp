// SPDX-License-Identifier: Apache-2.0
#include "beat/app/stats_schedule.h"

#include <numeric>

#include "beat/config/schema.h"

namespace sipbeat::app {

namespace {
constexpr int64_t kMinTickNs = 500'000'000;  // sipcmbeat: the tick is at least 500 ms (§9)
}

core::Result<StatsSchedule> StatsSchedule::parse(const std::vector<std::string>& groups,
                                                 int64_t stats_interval_ns,
                                                 const monitoring::Registry& registry) {
    StatsSchedule s;
    s.stats_interval_ns_ = stats_interval_ns;
    const std::vector<std::pair<std::string, uint64_t>> counters = registry.snapshot();
    for (const std::string& item : groups) {
        const size_t colon = item.find(':');
        std::string name = item.substr(0, colon);
        int64_t interval = stats_interval_ns;
        if (colon != std::string::npos) {
            const std::string text = item.substr(colon + 1);
            if (!config::parseDuration(text, interval) || interval <= 0) {
                return core::Status::error("invalid statistics group interval '" + text + "' in '" +
                                           item + "'");
            }
        }
        if (name == "none" || name == "-") {
            s.groups_.clear();
            break;  // sipcmbeat: "none" disables every group
        }
        if (name == "all" || name == "*") {
            name.clear();
        } else {
            const std::vector<std::string> one{name};
            bool known = false;
            for (const auto& [cname, value] : counters) {
                if (selected(cname, one)) {
                    known = true;
                    break;
                }
            }
            if (!known) {
                return core::Status::error("invalid statistics group name '" + name + "'");
            }
        }
        if (interval > 0) {
            s.groups_.push_back({std::move(name), interval, interval});
        }
    }
    int64_t g = stats_interval_ns > 0 ? stats_interval_ns : 0;
    for (const Group& grp : s.groups_) {
        g = g == 0 ? grp.interval_ns : std::gcd(g, grp.interval_ns);
    }
    s.tick_ns_ = g == 0 ? 0 : std::max(g, kMinTickNs);
    return s;
}

bool StatsSchedule::selected(std::string_view counter, const std::vector<std::string>& prefixes) {
    for (const std::string& p : prefixes) {
        if (p.empty() || counter == p ||
            (counter.size() > p.size() && counter.substr(0, p.size()) == p &&
             counter[p.size()] == '.')) {
            return true;
        }
    }
    return false;
}

bool StatsSchedule::due(int64_t now, std::vector<std::string>& prefixes, bool& keepalive) {
    prefixes.clear();
    keepalive = false;
    if (!started_) {
        started_ = true;
        last_sent_ns_ = 0;
    }
    for (Group& g : groups_) {
        if (now >= g.next_due_ns) {
            prefixes.push_back(g.name);
            // Re-sync on drift: the next one is due one interval after this tick.
            g.next_due_ns = std::max(g.next_due_ns + g.interval_ns, now);
            if (g.next_due_ns <= now) {
                g.next_due_ns = now + g.interval_ns;
            }
        }
    }
    if (!prefixes.empty()) {
        last_sent_ns_ = now;
        return true;
    }
    if (stats_interval_ns_ > 0 && now - last_sent_ns_ >= stats_interval_ns_) {
        keepalive = true;
        last_sent_ns_ = now;
        return true;
    }
    return false;
}

}  // namespace sipbeat::app
