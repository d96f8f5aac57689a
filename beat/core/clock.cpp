// SPDX-License-Identifier: Apache-2.0
#include "beat/core/clock.h"

#include <time.h>

namespace sipbeat::core {

TimestampNs SystemClock::now() const {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<TimestampNs>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

const SystemClock& SystemClock::instance() {
    static const SystemClock clock;
    return clock;
}

namespace {

// Days since 1970-01-01 to civil date (Howard Hinnant's algorithm), so formatting needs
// neither gmtime_r nor the time zone database.
void civilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    year = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = doy - (153 * mp + 2) / 5 + 1;
    month = mp < 10 ? mp + 3 : mp - 9;
    if (month <= 2) {
        ++year;
    }
}

void appendDigits(std::string& out, uint64_t value, int width) {
    char buf[20];
    for (int i = width - 1; i >= 0; --i) {
        buf[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    out.append(buf, static_cast<size_t>(width));
}

void splitTime(TimestampNs t, int64_t& days, int64_t& sec_of_day, int64_t& frac_ns) {
    int64_t secs = t / kNsPerSecond;
    frac_ns = t % kNsPerSecond;
    if (frac_ns < 0) {
        frac_ns += kNsPerSecond;
        --secs;
    }
    days = secs / 86400;
    sec_of_day = secs % 86400;
    if (sec_of_day < 0) {
        sec_of_day += 86400;
        --days;
    }
}

struct Civil {
    int64_t year = 0;
    unsigned month = 0;
    unsigned day = 0;
    int64_t sec_of_day = 0;
    int64_t frac_ns = 0;
};

Civil civil(TimestampNs t) {
    Civil c;
    int64_t days = 0;
    splitTime(t, days, c.sec_of_day, c.frac_ns);
    civilFromDays(days, c.year, c.month, c.day);
    return c;
}

// YYYY, MM and DD with `sep` between them.
void appendDate(std::string& out, const Civil& c, const char* sep) {
    appendDigits(out, static_cast<uint64_t>(c.year < 0 ? 0 : c.year), 4);
    out.append(sep);
    appendDigits(out, c.month, 2);
    out.append(sep);
    appendDigits(out, c.day, 2);
}

}  // namespace

void appendRfc3339(std::string& out, TimestampNs t, Precision precision) {
    const Civil c = civil(t);
    const int64_t sod = c.sec_of_day;
    const int64_t frac = c.frac_ns;
    appendDate(out, c, "-");
    out.push_back('T');
    appendDigits(out, static_cast<uint64_t>(sod / 3600), 2);
    out.push_back(':');
    appendDigits(out, static_cast<uint64_t>(sod / 60 % 60), 2);
    out.push_back(':');
    appendDigits(out, static_cast<uint64_t>(sod % 60), 2);
    const int digits = static_cast<int>(precision);
    if (digits > 0) {
        out.push_back('.');
        uint64_t f = static_cast<uint64_t>(frac);
        for (int i = 9; i > digits; --i) {
            f /= 10;
        }
        appendDigits(out, f, digits);
    }
    out.push_back('Z');
}

std::string formatRfc3339(TimestampNs t, Precision precision) {
    std::string out;
    appendRfc3339(out, t, precision);
    return out;
}

std::string formatDateYmd(TimestampNs t) {
    std::string out;
    appendDate(out, civil(t), "");
    return out;
}

}  // namespace sipbeat::core
