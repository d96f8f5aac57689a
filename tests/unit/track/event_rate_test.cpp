// SPDX-License-Identifier: Apache-2.0
#include "beat/track/event_rate.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace sipbeat::track {
namespace {

constexpr int64_t kSec = core::kNsPerSecond;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kUs = 1'000;
// 2023-11-14T22:13:20Z: any packet time; the table only uses differences.
constexpr core::TimestampNs kT0 = 1'700'000'000 * kSec;

// sipcmbeat.md §2.1 type numbers.
constexpr uint8_t kCallStart = 1;
constexpr uint8_t kCallAttempt = 3;

decode::IpAddress ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t bytes[4] = {a, b, c, d};
    return decode::IpAddress::v4(bytes);
}

decode::IpAddress ip6(uint8_t first, uint8_t last) {
    uint8_t bytes[16] = {};
    bytes[0] = first;
    bytes[15] = last;
    return decode::IpAddress::v6(bytes);
}

using Reports = std::vector<std::pair<uint64_t, uint64_t>>;  // (conseq, ex_diff)

Reports reportsUpTo(uint64_t last, uint64_t min, uint64_t max) {
    Reports reports;
    for (uint64_t c = 0; c <= last; ++c) {
        uint64_t ex_diff = 12345;
        if (reportExceeded(c, min, max, ex_diff)) {
            reports.emplace_back(c, ex_diff);
        } else {
            EXPECT_EQ(ex_diff, 0u) << "c=" << c;
        }
    }
    return reports;
}

TEST(ReportExceededTest, DefaultsBackOffThenOnePerMax) {
    const Reports expected = {{1, 0},        {100, 99},      {200, 100},    {400, 200},
                              {800, 400},    {1600, 800},    {3200, 1600},  {6400, 3200},
                              {10000, 3600}, {20000, 10000}, {30000, 10000}};
    EXPECT_EQ(reportsUpTo(30000, 100, 10000), expected);
}

TEST(ReportExceededTest, MinZeroReportsNothingBetweenFirstAndMax) {
    const Reports expected = {{1, 0}, {10000, 9999}, {20000, 10000}};
    EXPECT_EQ(reportsUpTo(25000, 0, 10000), expected);
}

TEST(ReportExceededTest, MaxZeroKeepsDoublingForever) {
    const Reports reports = reportsUpTo(1'000'000, 100, 0);
    Reports expected = {{1, 0}, {100, 99}};
    for (uint64_t c = 200; c <= 1'000'000; c *= 2) {
        expected.emplace_back(c, c / 2);
    }
    EXPECT_EQ(reports, expected);
    uint64_t ex_diff = 0;
    const uint64_t huge = uint64_t{100} << 50;
    EXPECT_TRUE(reportExceeded(huge, 100, 0, ex_diff));
    EXPECT_EQ(ex_diff, huge / 2);
    EXPECT_FALSE(reportExceeded(huge + 100, 100, 0, ex_diff));
}

TEST(ReportExceededTest, BothZeroReportsOnlyTheFirst) {
    const Reports expected = {{1, 0}};
    EXPECT_EQ(reportsUpTo(100'000, 0, 0), expected);
}

TEST(ReportExceededTest, ZeroConseqAndMinNotBelowMax) {
    uint64_t ex_diff = 7;
    EXPECT_FALSE(reportExceeded(0, 100, 10000, ex_diff));
    EXPECT_EQ(ex_diff, 0u);
    // min >= max: nothing of min's series lies below max, so max follows the first report.
    const Reports expected = {{1, 0}, {50, 49}, {100, 50}, {150, 50}};
    EXPECT_EQ(reportsUpTo(199, 100, 50), expected);
    // max not a power-of-two multiple of min: 200 is the last report below 300.
    const Reports expected300 = {{1, 0}, {100, 99}, {200, 100}, {300, 100}, {600, 300}};
    EXPECT_EQ(reportsUpTo(600, 100, 300), expected300);
}

class EventRateTableTest : public ::testing::Test {
protected:
    uint64_t counter(const std::string& name) { return metrics_.counter(name).get(); }

    monitoring::Registry metrics_;
};

TEST_F(EventRateTableTest, CountersExistFromConstruction) {
    EventRateTable table(EventRateConfig{}, metrics_);
    std::vector<std::string> names;
    for (const auto& [name, value] : metrics_.snapshot()) {
        names.push_back(name);
        EXPECT_EQ(value, 0u) << name;
    }
    for (const char* name : {"ev_rate.total_events",        "ev_rate.blst_rate",
                             "ev_rate.blst_sent",           "ev_rate.tracking_fail",
                             "ev_rate.blst_recovered",      "ev_rate.entries",
                             "ev_rate_gc.gc_runs",          "ev_rate_gc.gc_target_met",
                             "ev_rate_gc.gc_walked",        "ev_rate_gc.gc_removed",
                             "ev_rate_gc.gc_timeout",       "ev_rate_gc.gc_missed_ticks",
                             "ev_rate_gc.hard_gc_runs",     "ev_rate_gc.hard_gc_tgt_met",
                             "ev_rate_gc.hard_gc_fail",     "ev_rate_gc.hard_gc_timeout",
                             "ev_rate_gc.hard_gc_walked",   "ev_rate_gc.hard_gc_removed",
                             "ev_rate_gc.light_gc_runs",    "ev_rate_gc.light_gc_tgt_met",
                             "ev_rate_gc.light_gc_fail",    "ev_rate_gc.light_gc_timeout",
                             "ev_rate_gc.light_gc_walked",  "ev_rate_gc.light_gc_removed",
                             "ev_rate_gc.max_gc_retr_fail", "ev_rate_gc.alloc_fail"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    }
}

// sipcmbeat.md §8.2 example: 21 call-attempts from one IP within the first second.
TEST_F(EventRateTableTest, TwentyFirstEventInFirstSecondIsExceeded) {
    EventRateTable table(EventRateConfig{}, metrics_);
    const auto src = ip4(192, 0, 2, 1);
    RateInfo info;
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(table.account(kCallAttempt, src, kT0 + i * 40 * kMs, info), RateVerdict::Publish);
        EXPECT_EQ(info.exceeded, 0u);
        EXPECT_EQ(info.ex_diff, 0u);
        EXPECT_DOUBLE_EQ(info.crt, i + 1);
        EXPECT_DOUBLE_EQ(info.lim, 20);
        EXPECT_EQ(info.period_ms, 1000);
        EXPECT_EQ(info.since, kT0);  // entry creation
    }
    EXPECT_EQ(table.account(kCallAttempt, src, kT0 + 800 * kMs, info), RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 1u);
    EXPECT_EQ(info.ex_diff, 0u);
    EXPECT_DOUBLE_EQ(info.crt, 21);
    EXPECT_DOUBLE_EQ(info.lim, 20);
    EXPECT_EQ(info.period_ms, 1000);
    EXPECT_EQ(info.since, kT0 + 800 * kMs);  // the ok→exceeded transition

    EXPECT_EQ(table.account(kCallAttempt, src, kT0 + 801 * kMs, info), RateVerdict::Suppress);
    EXPECT_EQ(info.exceeded, 2u);
    EXPECT_EQ(counter("ev_rate.total_events"), 22u);
    EXPECT_EQ(counter("ev_rate.blst_rate"), 2u);
    EXPECT_EQ(counter("ev_rate.blst_sent"), 1u);
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(counter("ev_rate.entries"), 1u);
}

TEST_F(EventRateTableTest, FloodIsReportedWithTheBackOffSequence) {
    EventRateTable table(EventRateConfig{}, metrics_);
    const auto src = ip4(198, 51, 100, 7);
    Reports published_exceeded;
    size_t published_ok = 0;
    size_t suppressed = 0;
    RateInfo info;
    for (int64_t i = 0; i < 25000; ++i) {
        // 25000 events 10 µs apart: all within the first 1-second window.
        const RateVerdict verdict = table.account(kCallAttempt, src, kT0 + i * 10 * kUs, info);
        if (verdict == RateVerdict::Suppress) {
            ++suppressed;
        } else if (info.exceeded != 0) {
            ASSERT_EQ(verdict, RateVerdict::Publish);
            published_exceeded.emplace_back(info.exceeded, info.ex_diff);
        } else {
            ++published_ok;
        }
    }
    const Reports expected = {{1, 0},        {100, 99},     {200, 100},   {400, 200},
                              {800, 400},    {1600, 800},   {3200, 1600}, {6400, 3200},
                              {10000, 3600}, {20000, 10000}};
    EXPECT_EQ(published_exceeded, expected);
    EXPECT_EQ(published_ok, 20u);
    EXPECT_EQ(suppressed, 25000u - 20u - 10u);
    EXPECT_EQ(counter("ev_rate.total_events"), 25000u);
    EXPECT_EQ(counter("ev_rate.blst_rate"), 24980u);
    EXPECT_EQ(counter("ev_rate.blst_sent"), 10u);
}

TEST_F(EventRateTableTest, KeyIsTypeAndSourceAddressOnly) {
    EventRateTable table(EventRateConfig{}, metrics_);
    const auto a = ip4(10, 0, 0, 1);
    RateInfo info;
    for (int i = 0; i < 21; ++i) {
        table.account(kCallAttempt, a, kT0 + i * kMs, info);
    }
    ASSERT_EQ(info.exceeded, 1u);

    // Another type from the same address, the same type from another address, and an IPv6
    // address sharing the first bytes: all fresh keys.
    EXPECT_EQ(table.account(kCallStart, a, kT0 + 30 * kMs, info), RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 0u);
    EXPECT_DOUBLE_EQ(info.crt, 1);
    EXPECT_EQ(table.account(kCallAttempt, ip4(10, 0, 0, 2), kT0 + 30 * kMs, info),
              RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 0u);
    decode::IpAddress v6_sharing_prefix = ip6(10, 0);
    v6_sharing_prefix.bytes[1] = 0;
    v6_sharing_prefix.bytes[2] = 0;
    v6_sharing_prefix.bytes[3] = 1;
    EXPECT_EQ(table.account(kCallAttempt, v6_sharing_prefix, kT0 + 30 * kMs, info),
              RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 0u);
    EXPECT_EQ(table.size(), 4u);

    // Ports are not part of the key: messages from two ports of one address share the entry.
    decode::SipPayload from_5060;
    from_5060.src = ip4(10, 0, 0, 9);
    from_5060.src_port = 5060;
    decode::SipPayload from_5080 = from_5060;
    from_5080.src_port = 5080;
    table.account(kCallAttempt, from_5060.src, kT0 + 40 * kMs, info);
    table.account(kCallAttempt, from_5080.src, kT0 + 41 * kMs, info);
    EXPECT_DOUBLE_EQ(info.crt, 2);
    EXPECT_EQ(table.size(), 5u);

    // Bytes past an IPv4 address's 4 are not part of it.
    decode::IpAddress stray = ip4(10, 0, 0, 9);
    stray.bytes[10] = 0xff;
    EXPECT_TRUE(table.contains(kCallAttempt, stray));
    table.account(kCallAttempt, stray, kT0 + 42 * kMs, info);
    EXPECT_DOUBLE_EQ(info.crt, 3);
    EXPECT_EQ(table.size(), 5u);
    EXPECT_FALSE(table.contains(kCallStart, ip4(10, 0, 0, 9)));
}

TEST_F(EventRateTableTest, QuietPeriodRecoversAndANewFloodStartsAtOne) {
    EventRateTable table(EventRateConfig{}, metrics_);
    const auto src = ip4(203, 0, 113, 5);
    RateInfo info;
    for (int i = 0; i < 30; ++i) {
        table.account(kCallAttempt, src, kT0 + i * kMs, info);
    }
    ASSERT_EQ(info.exceeded, 10u);
    EXPECT_EQ(counter("ev_rate.blst_recovered"), 0u);

    // 31 events over 5 s close the 1-second window at 6.2/s.
    const core::TimestampNs quiet = kT0 + 5 * kSec;
    EXPECT_EQ(table.account(kCallAttempt, src, quiet, info), RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 0u);
    EXPECT_EQ(info.ex_diff, 0u);
    EXPECT_DOUBLE_EQ(info.crt, 31.0 / 5.0);
    EXPECT_EQ(info.since, quiet);
    EXPECT_EQ(counter("ev_rate.blst_recovered"), 1u);

    // The new window holds the 6.2 peak; 21 events in it exceed again, counted from 1.
    for (int i = 1; i <= 20; ++i) {
        table.account(kCallAttempt, src, quiet + i * kMs, info);
        ASSERT_EQ(info.exceeded, 0u) << i;
    }
    EXPECT_DOUBLE_EQ(info.crt, 20);
    EXPECT_EQ(table.account(kCallAttempt, src, quiet + 21 * kMs, info), RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 1u);
    EXPECT_EQ(info.ex_diff, 0u);
    EXPECT_EQ(info.since, quiet + 21 * kMs);
    EXPECT_EQ(counter("ev_rate.blst_sent"), 2u);
}

TEST_F(EventRateTableTest, ZeroLimitsNeverExceedButRatesAreReported) {
    EventRateConfig cfg;
    cfg.limits = {0, 0, 0};
    EventRateTable table(cfg, metrics_);
    RateInfo info;
    for (int i = 0; i < 300; ++i) {
        ASSERT_EQ(table.account(kCallAttempt, ip4(192, 0, 2, 9), kT0 + i * kMs, info),
                  RateVerdict::Publish);
        ASSERT_EQ(info.exceeded, 0u);
    }
    EXPECT_DOUBLE_EQ(info.crt, 300);
    EXPECT_DOUBLE_EQ(info.lim, 0);
    EXPECT_EQ(info.period_ms, 1000);
    EXPECT_EQ(counter("ev_rate.blst_rate"), 0u);
}

TEST_F(EventRateTableTest, DisabledIntervalHasNoRateSoTheNextWindowIsReported) {
    EventRateConfig cfg;
    cfg.intervals_ns[0] = 0;
    EventRateTable table(cfg, metrics_);
    RateInfo info;
    for (int i = 0; i < 25; ++i) {
        table.account(kCallAttempt, ip4(192, 0, 2, 10), kT0 + i * kMs, info);
    }
    // 25 events in 25 ms would exceed the 1-second limit of 20; that window is off.
    EXPECT_EQ(info.exceeded, 0u);
    EXPECT_DOUBLE_EQ(info.crt, 25);
    EXPECT_DOUBLE_EQ(info.lim, 240);
    EXPECT_EQ(info.period_ms, 60000);
}

TEST_F(EventRateTableTest, MinuteWindowExceedsWhileSecondWindowDoesNot) {
    EventRateTable table(EventRateConfig{}, metrics_);
    const auto src = ip4(192, 0, 2, 77);
    RateInfo info;
    // 5 events per second: under 20/s, but the 241st within a minute is over 240/min.
    for (int64_t i = 0; i < 240; ++i) {
        ASSERT_EQ(table.account(kCallAttempt, src, kT0 + i * 200 * kMs, info),
                  RateVerdict::Publish);
        ASSERT_EQ(info.exceeded, 0u) << i;
        ASSERT_EQ(info.period_ms, 1000) << i;
        ASSERT_LE(info.crt, 6) << i;
    }
    EXPECT_EQ(table.account(kCallAttempt, src, kT0 + 240 * 200 * kMs, info), RateVerdict::Publish);
    EXPECT_EQ(info.exceeded, 1u);
    EXPECT_DOUBLE_EQ(info.crt, 241);
    EXPECT_DOUBLE_EQ(info.lim, 240);
    EXPECT_EQ(info.period_ms, 60000);
}

TEST_F(EventRateTableTest, LargerIntervalAtRunTimeAddsNewCountToOldRate) {
    EventRateTable table(EventRateConfig{}, metrics_);
    const auto src = ip4(192, 0, 2, 20);
    RateInfo info;
    for (int i = 0; i < 10; ++i) {
        table.account(kCallAttempt, src, kT0 + i * 10 * kMs, info);
    }
    table.account(kCallAttempt, src, kT0 + kSec, info);
    ASSERT_DOUBLE_EQ(info.crt, 11);  // 11 events over exactly one interval

    EventRateConfig cfg;
    cfg.intervals_ns[0] = 2 * kSec;
    table.setConfig(cfg);
    table.account(kCallAttempt, src, kT0 + 1500 * kMs, info);
    EXPECT_DOUBLE_EQ(info.crt, 12);  // old rate 11 + 1 new event (unchanged: max(11, 1))
    EXPECT_EQ(info.period_ms, 2000);
    table.account(kCallAttempt, src, kT0 + 3 * kSec, info);
    EXPECT_DOUBLE_EQ(info.crt, 2);  // window of the new 2 s interval closed: 2 events
}

TEST_F(EventRateTableTest, SmallerIntervalAtRunTimeReportsNewCountOnly) {
    EventRateConfig cfg;
    cfg.intervals_ns[0] = 2 * kSec;
    EventRateTable table(cfg, metrics_);
    const auto src = ip4(192, 0, 2, 21);
    RateInfo info;
    for (int i = 0; i < 10; ++i) {
        table.account(kCallAttempt, src, kT0 + i * 10 * kMs, info);
    }
    table.account(kCallAttempt, src, kT0 + 2 * kSec, info);
    ASSERT_DOUBLE_EQ(info.crt, 11);

    cfg.intervals_ns[0] = kSec;
    table.setConfig(cfg);
    table.account(kCallAttempt, src, kT0 + 2500 * kMs, info);
    EXPECT_DOUBLE_EQ(info.crt, 1);  // unchanged interval would hold the peak of 11
    table.account(kCallAttempt, src, kT0 + 3 * kSec, info);
    EXPECT_DOUBLE_EQ(info.crt, 2);
    table.account(kCallAttempt, src, kT0 + 3100 * kMs, info);
    EXPECT_DOUBLE_EQ(info.crt, 2);  // same interval again: peak hold
}

TEST_F(EventRateTableTest, PeriodicGcRemovesIdleOkEntriesAndKeepsExceededOnes) {
    EventRateConfig cfg;
    cfg.gc_target = 0;
    EventRateTable table(cfg, metrics_);
    const auto flooder = ip4(10, 1, 0, 1);
    const auto idle1 = ip4(10, 1, 0, 2);
    const auto idle2 = ip4(10, 1, 0, 3);
    const auto recent = ip4(10, 1, 0, 4);
    RateInfo info;
    table.tick(kT0);
    for (int i = 0; i < 30; ++i) {
        table.account(kCallAttempt, flooder, kT0 + i * kMs, info);
    }
    ASSERT_NE(info.exceeded, 0u);
    table.account(kCallAttempt, idle1, kT0, info);
    table.account(kCallAttempt, idle2, kT0 + kSec, info);
    table.account(kCallAttempt, recent, kT0 + 200 * kSec, info);

    table.tick(kT0 + 10 * kSec);
    EXPECT_EQ(counter("ev_rate_gc.gc_runs"), 1u);
    EXPECT_EQ(counter("ev_rate_gc.gc_removed"), 0u);
    EXPECT_EQ(table.size(), 4u);

    table.tick(kT0 + 302 * kSec);  // idle1 and idle2 are idle for more than 300 s
    EXPECT_EQ(counter("ev_rate_gc.gc_runs"), 2u);
    EXPECT_EQ(counter("ev_rate_gc.gc_removed"), 2u);
    EXPECT_EQ(counter("ev_rate_gc.gc_walked"), 1u + 3u);  // both removed, then `recent`
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(counter("ev_rate.entries"), 2u);
    EXPECT_FALSE(table.contains(kCallAttempt, idle1));
    EXPECT_FALSE(table.contains(kCallAttempt, idle2));
    EXPECT_TRUE(table.contains(kCallAttempt, recent));
    EXPECT_TRUE(table.contains(kCallAttempt, flooder));

    // The kept entry still knows it was exceeded: its next (slow) event is a recovery.
    table.account(kCallAttempt, flooder, kT0 + 303 * kSec, info);
    EXPECT_EQ(info.exceeded, 0u);
    EXPECT_EQ(counter("ev_rate.blst_recovered"), 1u);
    EXPECT_EQ(info.since, kT0 + 303 * kSec);

    // A removed key comes back as a new entry, created now.
    table.account(kCallAttempt, idle1, kT0 + 304 * kSec, info);
    EXPECT_EQ(info.since, kT0 + 304 * kSec);
    EXPECT_DOUBLE_EQ(info.crt, 1);
}

TEST_F(EventRateTableTest, WindowEnabledAtRunTimeStartsAtEntryCreation) {
    EventRateConfig cfg;
    cfg.intervals_ns[0] = 0;
    EventRateTable table(cfg, metrics_);
    const auto src = ip4(192, 0, 2, 30);
    RateInfo info;
    for (int i = 0; i < 10; ++i) {
        table.account(kCallAttempt, src, kT0 + i * kSec, info);
    }
    cfg.intervals_ns[0] = kSec;
    table.setConfig(cfg);
    // sipcmbeat.md §8.2: the first update of the window starts it at the entry's creation
    // with a count of 0, so 11 events over 20 s close it at once.
    table.account(kCallAttempt, src, kT0 + 20 * kSec, info);
    EXPECT_DOUBLE_EQ(info.crt, 11.0 / 20.0);
    EXPECT_EQ(info.period_ms, 1000);
}

TEST_F(EventRateTableTest, GcOrderFollowsLastEventNotCreation) {
    EventRateConfig cfg;
    cfg.gc_target = 0;
    EventRateTable table(cfg, metrics_);
    const auto first_created = ip4(10, 9, 0, 1);
    const auto idle = ip4(10, 9, 0, 2);
    RateInfo info;
    table.tick(kT0);
    table.account(kCallAttempt, first_created, kT0, info);
    table.account(kCallAttempt, idle, kT0 + kSec, info);
    table.account(kCallAttempt, first_created, kT0 + 250 * kSec, info);
    table.tick(kT0 + 310 * kSec);
    EXPECT_FALSE(table.contains(kCallAttempt, idle));
    EXPECT_TRUE(table.contains(kCallAttempt, first_created));
    EXPECT_EQ(counter("ev_rate_gc.gc_removed"), 1u);
}

TEST_F(EventRateTableTest, PeriodicGcHonoursIntervalAndTarget) {
    EventRateTable table(EventRateConfig{}, metrics_);  // target 10, every 10 s
    RateInfo info;
    for (uint8_t i = 0; i < 12; ++i) {
        table.account(kCallAttempt, ip4(10, 2, 0, i), kT0 + i * kMs, info);
    }
    table.tick(kT0);
    table.tick(kT0 + 5 * kSec);
    table.tick(kT0 + 9999 * kMs);
    EXPECT_EQ(counter("ev_rate_gc.gc_runs"), 0u);

    table.tick(kT0 + 400 * kSec);
    EXPECT_EQ(counter("ev_rate_gc.gc_runs"), 1u);
    EXPECT_EQ(counter("ev_rate_gc.gc_removed"), 2u);
    EXPECT_EQ(counter("ev_rate_gc.gc_target_met"), 1u);
    EXPECT_EQ(counter("ev_rate_gc.gc_missed_ticks"), 39u);
    EXPECT_EQ(table.size(), 10u);
    // Oldest first.
    EXPECT_FALSE(table.contains(kCallAttempt, ip4(10, 2, 0, 0)));
    EXPECT_FALSE(table.contains(kCallAttempt, ip4(10, 2, 0, 1)));
    EXPECT_TRUE(table.contains(kCallAttempt, ip4(10, 2, 0, 2)));

    table.tick(kT0 + 405 * kSec);
    EXPECT_EQ(counter("ev_rate_gc.gc_runs"), 1u);

    EventRateConfig off;
    off.gc_interval_ns = 0;
    off.gc_target = 0;
    table.setConfig(off);
    table.tick(kT0 + 2000 * kSec);
    EXPECT_EQ(counter("ev_rate_gc.gc_runs"), 1u);
    EXPECT_EQ(table.size(), 10u);
}

TEST_F(EventRateTableTest, FullTableFailsOrEvictsButNeverGrows) {
    EventRateConfig cfg;
    cfg.max_entries = 4;
    EventRateTable table(cfg, metrics_);
    const auto flooder = ip4(10, 3, 0, 1);
    RateInfo info;
    for (int i = 0; i < 30; ++i) {
        table.account(kCallAttempt, flooder, kT0 + i * kMs, info);
    }
    for (uint8_t i = 2; i <= 4; ++i) {
        table.account(kCallAttempt, ip4(10, 3, 0, i), kT0 + kSec, info);
    }
    ASSERT_EQ(table.size(), 4u);

    // Nothing is idle long enough: the fifth source is not tracked and its event dropped.
    EXPECT_EQ(table.account(kCallAttempt, ip4(10, 3, 0, 5), kT0 + 2 * kSec, info),
              RateVerdict::TrackingFail);
    EXPECT_EQ(info.exceeded, 0u);
    EXPECT_EQ(table.size(), 4u);
    EXPECT_EQ(counter("ev_rate.tracking_fail"), 1u);
    EXPECT_EQ(counter("ev_rate_gc.hard_gc_runs"), 3u);
    EXPECT_EQ(counter("ev_rate_gc.hard_gc_fail"), 3u);
    EXPECT_EQ(counter("ev_rate_gc.max_gc_retr_fail"), 1u);
    EXPECT_FALSE(table.contains(kCallAttempt, ip4(10, 3, 0, 5)));

    // 31 s later the oldest ok entry is idle > 30 s: exactly one is evicted for the new one.
    EXPECT_EQ(table.account(kCallAttempt, ip4(10, 3, 0, 5), kT0 + 32 * kSec, info),
              RateVerdict::Publish);
    EXPECT_EQ(table.size(), 4u);
    EXPECT_EQ(counter("ev_rate_gc.hard_gc_removed"), 1u);
    EXPECT_EQ(counter("ev_rate_gc.hard_gc_tgt_met"), 1u);
    EXPECT_TRUE(table.contains(kCallAttempt, ip4(10, 3, 0, 5)));
    EXPECT_TRUE(table.contains(kCallAttempt, flooder));
    // The longest idle of the three goes (they tie on time; 10.3.0.2 was used first).
    EXPECT_FALSE(table.contains(kCallAttempt, ip4(10, 3, 0, 2)));
    EXPECT_TRUE(table.contains(kCallAttempt, ip4(10, 3, 0, 3)));
    EXPECT_TRUE(table.contains(kCallAttempt, ip4(10, 3, 0, 4)));

    // A stream of new sources: the table stays at 4 whatever happens.
    for (int i = 0; i < 200; ++i) {
        const auto verdict = table.account(
            kCallAttempt, ip4(10, 4, static_cast<uint8_t>(i / 256), static_cast<uint8_t>(i)),
            kT0 + 33 * kSec + i * 40 * kSec, info);
        ASSERT_NE(verdict, RateVerdict::Suppress);
        ASSERT_LE(table.size(), 4u);
        ASSERT_EQ(counter("ev_rate.entries"), table.size());
    }
    EXPECT_EQ(table.maxEntries(), 4u);
}

TEST_F(EventRateTableTest, HardGcEvictsExceededEntriesOnlyAfterTenQuietSeconds) {
    EventRateConfig cfg;
    cfg.max_entries = 2;
    EventRateTable table(cfg, metrics_);
    const auto flooder = ip4(10, 5, 0, 1);
    const auto ok = ip4(10, 5, 0, 2);
    const auto newcomer = ip4(10, 5, 0, 3);
    RateInfo info;
    for (int i = 0; i < 30; ++i) {
        table.account(kCallAttempt, flooder, kT0 + i * kMs, info);
    }
    ASSERT_NE(info.exceeded, 0u);
    table.account(kCallAttempt, ok, kT0 + kSec, info);

    EXPECT_EQ(table.account(kCallAttempt, newcomer, kT0 + 6 * kSec, info),
              RateVerdict::TrackingFail);
    EXPECT_EQ(table.size(), 2u);

    // The ok entry is idle 19 s (< 30 s); the exceeded one's last event is ~20 s old.
    EXPECT_EQ(table.account(kCallAttempt, newcomer, kT0 + 20 * kSec, info), RateVerdict::Publish);
    EXPECT_FALSE(table.contains(kCallAttempt, flooder));
    EXPECT_TRUE(table.contains(kCallAttempt, ok));
    EXPECT_TRUE(table.contains(kCallAttempt, newcomer));
    EXPECT_EQ(table.size(), 2u);
    EXPECT_EQ(counter("ev_rate_gc.hard_gc_removed"), 1u);
}

TEST_F(EventRateTableTest, LightGcFrom85PercentEvictsEntriesIdleOver15Minutes) {
    EventRateConfig cfg;
    cfg.max_entries = 20;
    EventRateTable table(cfg, metrics_);
    RateInfo info;
    for (uint8_t i = 0; i < 17; ++i) {  // 85 % of 20
        table.account(kCallAttempt, ip4(10, 6, 0, i), kT0 + i * kMs, info);
    }
    EXPECT_EQ(counter("ev_rate_gc.light_gc_runs"), 0u);

    // Not idle long enough yet: the light GC runs and frees nothing.
    table.account(kCallAttempt, ip4(10, 6, 1, 0), kT0 + 14 * 60 * kSec, info);
    EXPECT_EQ(counter("ev_rate_gc.light_gc_runs"), 1u);
    EXPECT_EQ(counter("ev_rate_gc.light_gc_fail"), 1u);
    EXPECT_EQ(table.size(), 18u);

    // 16 min after the first 17: they go, oldest first, until 80 % (16) remain.
    table.account(kCallAttempt, ip4(10, 6, 1, 1), kT0 + 16 * 60 * kSec, info);
    EXPECT_EQ(counter("ev_rate_gc.light_gc_runs"), 2u);
    EXPECT_EQ(counter("ev_rate_gc.light_gc_removed"), 2u);
    EXPECT_EQ(counter("ev_rate_gc.light_gc_tgt_met"), 1u);
    EXPECT_EQ(table.size(), 17u);
    EXPECT_FALSE(table.contains(kCallAttempt, ip4(10, 6, 0, 0)));
    EXPECT_FALSE(table.contains(kCallAttempt, ip4(10, 6, 0, 1)));
    EXPECT_TRUE(table.contains(kCallAttempt, ip4(10, 6, 0, 2)));
    EXPECT_EQ(counter("ev_rate_gc.hard_gc_runs"), 0u);
}

TEST_F(EventRateTableTest, ZeroMaxEntriesTracksNothing) {
    EventRateConfig cfg;
    cfg.max_entries = 0;
    EventRateTable table(cfg, metrics_);
    RateInfo info;
    EXPECT_EQ(table.account(kCallAttempt, ip4(10, 7, 0, 1), kT0, info), RateVerdict::TrackingFail);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(counter("ev_rate.tracking_fail"), 1u);
}

TEST_F(EventRateTableTest, RemovedEntriesAreReusedAcrossManyKeys) {
    // More keys than buckets (16) and a chunk of entries: chains, removal from the middle of
    // a chain and the free list all get exercised.
    EventRateConfig cfg;
    cfg.max_entries = 64;
    cfg.gc_target = 0;
    EventRateTable table(cfg, metrics_);
    RateInfo info;
    table.tick(kT0);
    for (int round = 0; round < 5; ++round) {
        const core::TimestampNs t = kT0 + round * 400 * kSec;
        for (uint8_t i = 0; i < 50; ++i) {
            ASSERT_EQ(table.account(static_cast<uint8_t>(i % 3), ip4(10, 8, 0, i), t, info),
                      RateVerdict::Publish);
            ASSERT_DOUBLE_EQ(info.crt, 1) << round << " " << int{i};
        }
        EXPECT_EQ(table.size(), 50u);
        table.tick(t + 350 * kSec);  // all idle > 300 s
        EXPECT_EQ(table.size(), 0u);
    }
    EXPECT_EQ(counter("ev_rate_gc.gc_removed"), 250u);
    EXPECT_EQ(counter("ev_rate.tracking_fail"), 0u);
}

}  // namespace
}  // namespace sipbeat::track
