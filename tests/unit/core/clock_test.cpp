// SPDX-License-Identifier: Apache-2.0
#include "beat/core/clock.h"

#include <gtest/gtest.h>

namespace sipbeat::core {
namespace {

// 2007-06-02T17:41:47.218123456Z, the packetbeat golden REGISTER's time.
constexpr TimestampNs kT = 1180806107LL * kNsPerSecond + 218123456;

TEST(ClockTest, Rfc3339Precisions) {
    EXPECT_EQ(formatRfc3339(kT, Precision::Second), "2007-06-02T17:41:47Z");
    EXPECT_EQ(formatRfc3339(kT, Precision::Millisecond), "2007-06-02T17:41:47.218Z");
    EXPECT_EQ(formatRfc3339(kT, Precision::Microsecond), "2007-06-02T17:41:47.218123Z");
    EXPECT_EQ(formatRfc3339(kT, Precision::Nanosecond), "2007-06-02T17:41:47.218123456Z");
}

TEST(ClockTest, EpochLeapYearAndBeforeEpoch) {
    EXPECT_EQ(formatRfc3339(0, Precision::Millisecond), "1970-01-01T00:00:00.000Z");
    // 2024-02-29T23:59:59.999Z
    EXPECT_EQ(formatRfc3339(1709251199999LL * 1000000, Precision::Millisecond),
              "2024-02-29T23:59:59.999Z");
    EXPECT_EQ(formatRfc3339(-1, Precision::Nanosecond), "1969-12-31T23:59:59.999999999Z");
}

TEST(ClockTest, DateForFileNames) {
    EXPECT_EQ(formatDateYmd(kT), "20070602");
    EXPECT_EQ(formatDateYmd(0), "19700101");
}

TEST(ClockTest, ManualClockIsWhatTestsSet) {
    ManualClock c(5);
    EXPECT_EQ(c.now(), 5);
    c.advance(10);
    EXPECT_EQ(c.now(), 15);
}

}  // namespace
}  // namespace sipbeat::core
