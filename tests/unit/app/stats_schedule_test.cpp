// SPDX-License-Identifier: Apache-2.0
// Counters events schedule: sipcmbeat's stats_interval / stats_groups (sipcmbeat.md §9).
#include "beat/app/stats_schedule.h"

#include <gtest/gtest.h>

namespace sipbeat::app {
namespace {

constexpr int64_t kSec = 1'000'000'000;

struct Groups {
    Groups() {
        r.counter("calls.fail_lim");
        r.gauge("calls.active");
        r.counter("regs.del_star");
        r.counter("events.dbg.pdd_ok");
        r.counter("ev_rate.total_events");
    }
    monitoring::Registry r;
};

TEST(StatsSchedule, GroupsWithIntervalsTickAtTheirGcd) {
    const Groups g;
    const monitoring::Registry& r = g.r;
    auto s = StatsSchedule::parse({"regs:2s", "calls:3s", "all:12s"}, 300 * kSec, r);
    ASSERT_TRUE(s) << s.status().message();
    EXPECT_EQ(s.value().tickNs(), 1 * kSec);  // gcd(2, 3, 12, 300) s
    std::vector<std::string> due;
    bool keepalive = false;
    StatsSchedule& st = s.value();
    EXPECT_FALSE(st.due(1 * kSec, due, keepalive));
    ASSERT_TRUE(st.due(2 * kSec, due, keepalive));
    EXPECT_EQ(due, std::vector<std::string>{"regs"});
    ASSERT_TRUE(st.due(3 * kSec, due, keepalive));
    EXPECT_EQ(due, std::vector<std::string>{"calls"});
    ASSERT_TRUE(st.due(12 * kSec, due, keepalive));
    EXPECT_EQ(due, (std::vector<std::string>{"regs", "calls", ""}));  // "" = all
    EXPECT_FALSE(keepalive);
}

TEST(StatsSchedule, TickIsAtLeast500ms) {
    const Groups g;
    const monitoring::Registry& r = g.r;
    auto s = StatsSchedule::parse({"calls:100ms"}, 10'000'000, r);
    ASSERT_TRUE(s);
    EXPECT_EQ(s.value().tickNs(), 500'000'000);
}

TEST(StatsSchedule, NoneGivesKeepAliveOnly) {
    const Groups g;
    const monitoring::Registry& r = g.r;
    auto s = StatsSchedule::parse({"none"}, 5 * kSec, r);
    ASSERT_TRUE(s);
    StatsSchedule& st = s.value();
    std::vector<std::string> due;
    bool keepalive = false;
    EXPECT_FALSE(st.due(4 * kSec, due, keepalive));
    ASSERT_TRUE(st.due(5 * kSec, due, keepalive));
    EXPECT_TRUE(keepalive);
    EXPECT_TRUE(due.empty());
    EXPECT_FALSE(st.due(9 * kSec, due, keepalive));
    EXPECT_TRUE(st.due(10 * kSec, due, keepalive));
}

TEST(StatsSchedule, KeepAliveOffWithZeroInterval) {
    const Groups g;
    const monitoring::Registry& r = g.r;
    auto s = StatsSchedule::parse({"-"}, 0, r);
    ASSERT_TRUE(s);
    EXPECT_EQ(s.value().tickNs(), 0);  // nothing ever sent: no ticker
}

TEST(StatsSchedule, DottedGroupsAndSelection) {
    const Groups g;
    const monitoring::Registry& r = g.r;
    EXPECT_TRUE(StatsSchedule::parse({"events.dbg"}, kSec, r));
    EXPECT_TRUE(StatsSchedule::selected("events.dbg.pdd_ok", {"events"}));
    EXPECT_TRUE(StatsSchedule::selected("events.dbg.pdd_ok", {"events.dbg"}));
    EXPECT_FALSE(StatsSchedule::selected("eventsx.a", {"events"}));
    EXPECT_FALSE(StatsSchedule::selected("calls.active", {"regs"}));
    EXPECT_TRUE(StatsSchedule::selected("calls.active", {""}));
}

TEST(StatsSchedule, UnknownGroupOrBadIntervalIsAnError) {
    const Groups g;
    const monitoring::Registry& r = g.r;
    auto bad = StatsSchedule::parse({"cals"}, kSec, r);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.status().message(), "invalid statistics group name 'cals'");
    auto interval = StatsSchedule::parse({"calls:soon"}, kSec, r);
    ASSERT_FALSE(interval);
    EXPECT_NE(interval.status().message().find("'soon'"), std::string::npos);
}

}  // namespace
}  // namespace sipbeat::app
