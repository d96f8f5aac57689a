// SPDX-License-Identifier: Apache-2.0
#include "beat/core/file_rotator.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "unit/test_util.h"

namespace sipbeat::core {
namespace {

using test::listDir;
using test::TempDir;

// 2026-11-23T12:00:00Z
constexpr TimestampNs kDay = 1795435200LL * kNsPerSecond;

RotatorOptions options(const TempDir& dir, const Clock& clock) {
    RotatorOptions o;
    o.directory = dir.path() + "/out";
    o.filename = "sipbeat";
    o.max_size_bytes = 100;
    o.max_backups = 2;
    o.clock = &clock;
    return o;
}

TEST(FileRotatorTest, NamesFilesByDateThenIndexAndKeepsOnlyMaxBackups) {
    TempDir dir;
    ManualClock clock(kDay);
    auto r = FileRotator::open(options(dir, clock));
    ASSERT_TRUE(r) << r.status().message();
    const std::string line(60, 'x');
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE((*r)->write(line + "\n"));
    }
    // 61-byte records, 100-byte files: one record per file, five files written, the
    // active one plus two backups kept.
    EXPECT_EQ(listDir(dir.path() + "/out"),
              (std::vector<std::string>{"sipbeat-20261123-2.ndjson", "sipbeat-20261123-3.ndjson",
                                        "sipbeat-20261123-4.ndjson"}));
    EXPECT_EQ((*r)->activeFile(), dir.path() + "/out/sipbeat-20261123-4.ndjson");
}

TEST(FileRotatorTest, NewDayStartsWithoutIndex) {
    TempDir dir;
    ManualClock clock(kDay);
    auto r = FileRotator::open(options(dir, clock));
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r)->write(std::string(80, 'a')));
    clock.advance(86400 * kNsPerSecond);
    ASSERT_TRUE((*r)->write(std::string(80, 'b')));
    EXPECT_EQ(listDir(dir.path() + "/out"),
              (std::vector<std::string>{"sipbeat-20261123.ndjson", "sipbeat-20261124.ndjson"}));
}

TEST(FileRotatorTest, RotatesOnStartupOnlyWhenAsked) {
    TempDir dir;
    ManualClock clock(kDay);
    {
        auto r = FileRotator::open(options(dir, clock));
        ASSERT_TRUE(r);
        ASSERT_TRUE((*r)->write("first\n"));
    }
    {
        auto o = options(dir, clock);
        o.rotate_on_startup = false;
        auto r = FileRotator::open(o);
        ASSERT_TRUE(r);
        ASSERT_TRUE((*r)->write("second\n"));
    }
    EXPECT_EQ(test::readFile(dir.path() + "/out/sipbeat-20261123.ndjson"), "first\nsecond\n");
    {
        auto r = FileRotator::open(options(dir, clock));
        ASSERT_TRUE(r);
        ASSERT_TRUE((*r)->write("third\n"));
    }
    EXPECT_EQ(test::readFile(dir.path() + "/out/sipbeat-20261123-1.ndjson"), "third\n");
}

TEST(FileRotatorTest, IgnoresFilesThatAreNotOurs) {
    TempDir dir;
    ManualClock clock(kDay);
    auto o = options(dir, clock);
    o.max_backups = 0;
    ASSERT_TRUE(makeDirectories(o.directory, 0700));
    dir.write("out/sipbeat-events-data-20261101.ndjson", "keep me");
    dir.write("out/sipbeat.yml", "keep me too");
    auto r = FileRotator::open(o);
    ASSERT_TRUE(r);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE((*r)->write(std::string(90, 'z')));
    }
    EXPECT_EQ(listDir(o.directory),
              (std::vector<std::string>{"sipbeat-20261123-2.ndjson",
                                        "sipbeat-events-data-20261101.ndjson", "sipbeat.yml"}));
}

TEST(FileRotatorTest, OversizedRecordIsWrittenAloneNotLost) {
    TempDir dir;
    ManualClock clock(kDay);
    auto r = FileRotator::open(options(dir, clock));
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r)->write("small\n"));
    const std::string big(250, 'B');
    ASSERT_TRUE((*r)->write(big));
    EXPECT_EQ(test::readFile((*r)->activeFile()), big);
}

TEST(FileRotatorTest, PermissionsAreApplied) {
    TempDir dir;
    ManualClock clock(kDay);
    auto o = options(dir, clock);
    o.permissions = 0640;
    auto r = FileRotator::open(o);
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r)->write("x"));
    struct stat st {};
    ASSERT_EQ(::stat((*r)->activeFile().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    ASSERT_EQ(::stat(o.directory.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0750u);
}

TEST(FileRotatorTest, BufferedWritesReachTheFileOnFlush) {
    TempDir dir;
    ManualClock clock(kDay);
    auto o = options(dir, clock);
    o.buffered = true;
    o.max_size_bytes = 1 << 20;
    auto r = FileRotator::open(o);
    ASSERT_TRUE(r);
    ASSERT_TRUE((*r)->write("a\n"));
    EXPECT_EQ(test::readFile((*r)->activeFile()), "");
    ASSERT_TRUE((*r)->flush());
    EXPECT_EQ(test::readFile((*r)->activeFile()), "a\n");
}

}  // namespace
}  // namespace sipbeat::core
