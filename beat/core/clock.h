// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

namespace sipbeat::core {

/// Nanoseconds since the Unix epoch. Packet time, event time and wall time all use it so
/// that a pcap replay yields the same timestamps whatever the replay speed.
using TimestampNs = int64_t;

inline constexpr int64_t kNsPerSecond = 1'000'000'000;

/// Source of wall-clock time. Injected wherever wall time matters (file rotation, log
/// lines, `event.created`) so tests can fix it.
class Clock {
public:
    virtual ~Clock() = default;
    virtual TimestampNs now() const = 0;
};

/// The real clock (CLOCK_REALTIME).
class SystemClock final : public Clock {
public:
    TimestampNs now() const override;
    /// One shared instance; it has no state.
    static const SystemClock& instance();
};

/// A clock a test sets by hand.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimestampNs start = 0) : now_(start) {}
    TimestampNs now() const override { return now_; }
    void set(TimestampNs t) { now_ = t; }
    void advance(int64_t ns) { now_ += ns; }

private:
    TimestampNs now_;
};

/// Number of fraction digits in an RFC 3339 timestamp.
enum class Precision : uint8_t { Second = 0, Millisecond = 3, Microsecond = 6, Nanosecond = 9 };

/// `2006-01-02T15:04:05.000Z` style UTC time, with the given number of fraction digits.
/// Appends to `out` without allocating when it has capacity (hot path).
void appendRfc3339(std::string& out, TimestampNs t, Precision precision);
std::string formatRfc3339(TimestampNs t, Precision precision);
/// `YYYYMMDD` in UTC, as the Beats file rotator names files.
std::string formatDateYmd(TimestampNs t);

}  // namespace sipbeat::core
