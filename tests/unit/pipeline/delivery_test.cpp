// SPDX-License-Identifier: Apache-2.0
// Delivery through the pipeline with clients that connect late, lose their connection,
// pipeline batches, and with the disk queue across restarts.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "beat/pipeline/disk_queue.h"
#include "beat/pipeline/pipeline.h"

namespace sipbeat::pipeline {
namespace {

encode::EncodedEvent ev(int i, std::string key = "") {
    encode::EncodedEvent e;
    e.json = "{\"n\":" + std::to_string(i) + "}";
    e.key = std::move(key);
    e.timestamp = 1000 + i;
    return e;
}

/// A client whose peer the test controls: it can be down (connect fails, publish
/// fails), and batches are held until the test answers them (so several are in flight).
class PeerClient final : public outputs::Client {
public:
    explicit PeerClient(size_t in_flight = 1, bool hold = false)
        : in_flight_(in_flight), hold_(hold) {}

    core::Status connect() override {
        std::lock_guard lock(mutex);
        ++connects;
        if (down) {
            return core::Status::error("connection refused");
        }
        return core::Status::ok();
    }
    core::Status publish(outputs::BatchPtr batch) override {
        std::unique_lock lock(mutex);
        if (down) {
            ++failed_publishes;
            lock.unlock();
            batch->retry();
            return core::Status::error("connection reset by peer");
        }
        max_outstanding = std::max(max_outstanding, held.size() + 1);
        if (hold_) {
            held.push_back(std::move(batch));
            cv.notify_all();
            return core::Status::ok();
        }
        for (const auto& e : batch->events()) {
            delivered.push_back(e.json);
        }
        lock.unlock();
        batch->ack();
        return core::Status::ok();
    }
    void close() override {}
    std::string describe() const override { return "peer"; }
    size_t maxInFlight() const override { return in_flight_; }

    /// Acks the oldest held batch.
    bool ackOldest() {
        outputs::BatchPtr b;
        {
            std::unique_lock lock(mutex);
            if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return !held.empty(); })) {
                return false;
            }
            b = std::move(held.front());
            held.erase(held.begin());
            for (const auto& e : b->events()) {
                delivered.push_back(e.json);
            }
        }
        b->ack();
        return true;
    }
    size_t waitHeld(size_t n) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return held.size() >= n; });
        return held.size();
    }

    std::mutex mutex;
    std::condition_variable cv;
    bool down = false;
    int connects = 0;
    int failed_publishes = 0;
    size_t max_outstanding = 0;
    std::vector<std::string> delivered;
    std::vector<outputs::BatchPtr> held;

private:
    size_t in_flight_;
    bool hold_;
};

QueueSettings smallQueue(size_t events = 8) {
    QueueSettings q;
    q.events = events;
    q.flush_min_events = 2;
    q.flush_timeout_ns = 1'000'000;
    return q;
}

outputs::Group groupOf(std::unique_ptr<outputs::Client> c, int32_t max_retries = 0) {
    outputs::Group g;
    g.clients.push_back(std::move(c));
    g.max_retries = max_retries;
    g.backoff_init_ns = 1'000'000;
    g.backoff_max_ns = 4'000'000;
    return g;
}

TEST(DeliveryTest, OutageAtStartLosesNothingAndUsesNoRetries) {
    // max_retries 0 and a live-capture pipeline: only a failed publish may cost a batch;
    // connection attempts never do (libbeat cancelled batches).
    auto c = std::make_unique<PeerClient>();
    PeerClient* peer = c.get();
    peer->down = true;
    monitoring::Registry metrics;
    Pipeline p(groupOf(std::move(c)), smallQueue(), metrics);
    p.setDropIfFull(true);
    p.start();
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(p.publish(ev(i)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    {
        std::lock_guard lock(peer->mutex);
        EXPECT_GE(peer->connects, 2);  // retried with backoff
        peer->down = false;
    }
    p.close();
    EXPECT_EQ(peer->delivered.size(), 6u);
    EXPECT_EQ(p.dropped(), 0u);
    EXPECT_EQ(p.acked(), 6u);
}

TEST(DeliveryTest, LiveCaptureDropsNewestWhenQueueIsFull) {
    auto c = std::make_unique<PeerClient>();
    PeerClient* peer = c.get();
    peer->down = true;
    monitoring::Registry metrics;
    Pipeline p(groupOf(std::move(c)), smallQueue(4), metrics);
    p.setDropIfFull(true);
    p.start();
    int accepted = 0;
    for (int i = 0; i < 10; ++i) {
        accepted += p.publish(ev(i)) ? 1 : 0;
    }
    EXPECT_EQ(accepted, 4);
    EXPECT_EQ(metrics.counter("libbeat.pipeline.events.dropped").get(), 6u);
    {
        std::lock_guard lock(peer->mutex);
        peer->down = false;
    }
    p.close();
    EXPECT_EQ(peer->delivered.size(), 4u);
}

TEST(DeliveryTest, PipeliningKeepsSeveralBatchesInFlight) {
    auto c = std::make_unique<PeerClient>(/*in_flight=*/3, /*hold=*/true);
    PeerClient* peer = c.get();
    monitoring::Registry metrics;
    outputs::Group g = groupOf(std::move(c));
    g.bulk_max_size = 2;
    Pipeline p(std::move(g), smallQueue(16), metrics);
    p.start();
    for (int i = 0; i < 12; ++i) {
        ASSERT_TRUE(p.publish(ev(i)));
    }
    EXPECT_EQ(peer->waitHeld(3), 3u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
        std::lock_guard lock(peer->mutex);
        EXPECT_EQ(peer->held.size(), 3u);  // never more than maxInFlight
    }
    std::thread closer([&] { p.close(); });
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(peer->ackOldest());
    }
    closer.join();
    EXPECT_EQ(peer->delivered.size(), 12u);
    EXPECT_EQ(peer->max_outstanding, 3u);
    std::set<std::string> unique(peer->delivered.begin(), peer->delivered.end());
    EXPECT_EQ(unique.size(), 12u);
}

class DiskQueueTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("sipbeat-dq-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override {
        killed_.clear();
        std::filesystem::remove_all(dir_);
    }

    // Stands for kill -9: the queue object is neither closed nor destroyed while the test
    // goes on (its files stay as they are); it is destroyed only when the test is over so
    // that LeakSanitizer sees no leak.
    void kill(std::unique_ptr<DiskQueue>& q) { killed_.push_back(std::move(q)); }

    std::unique_ptr<DiskQueue> open(uint64_t max_size = 0, uint64_t segment_size = 0) {
        DiskQueueSettings s;
        s.path = dir_.string();
        s.max_size = max_size;
        s.segment_size = segment_size;
        s.retry_interval_ns = 5'000'000;
        s.max_retry_interval_ns = 20'000'000;
        auto q = DiskQueue::open(s, metrics_);
        EXPECT_TRUE(q.isOk()) << q.status().message();
        return q ? std::move(q).value() : nullptr;
    }
    std::vector<std::filesystem::path> segments() const {
        std::vector<std::filesystem::path> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_)) {
            if (e.path().extension() == ".seg") {
                out.push_back(e.path());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::filesystem::path dir_;
    monitoring::Registry metrics_;
    std::vector<std::unique_ptr<DiskQueue>> killed_;
};

TEST_F(DiskQueueTest, EventsComeBackWithKeyAndTimestamp) {
    auto q = open();
    ASSERT_EQ(q->push(ev(1, "call-1@host"), false), EventQueue::PushResult::Ok);
    ASSERT_EQ(q->push(ev(2), false), EventQueue::PushResult::Ok);
    std::vector<encode::EncodedEvent> out;
    const uint64_t t = q->take(out, 10, false);
    ASSERT_NE(t, 0u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].json, "{\"n\":1}");
    EXPECT_EQ(out[0].key, "call-1@host");
    EXPECT_EQ(out[0].timestamp, 1001);
    EXPECT_EQ(out[1].key, "");
    q->done(t);
    EXPECT_EQ(q->take(out, 10, false), 0u);
}

TEST_F(DiskQueueTest, UnacknowledgedEventsSurviveARestart) {
    {
        auto q = open();
        for (int i = 0; i < 10; ++i) {
            q->push(ev(i), false);
        }
        std::vector<encode::EncodedEvent> out;
        const uint64_t t1 = q->take(out, 4, false);  // 0..3, acknowledged
        const uint64_t t2 = q->take(out, 4, false);  // 4..7, in flight at the "crash"
        ASSERT_NE(t2, 0u);
        q->done(t1);
        // No close, no destructor flush matters: the process could have been killed here.
        kill(q);  // like kill -9: nothing runs before the queue is opened again
    }
    auto q = open();
    std::vector<encode::EncodedEvent> out;
    ASSERT_NE(q->take(out, 100, false), 0u);
    ASSERT_EQ(out.size(), 6u);
    EXPECT_EQ(out.front().json, "{\"n\":4}");
    EXPECT_EQ(out.back().json, "{\"n\":9}");
}

TEST_F(DiskQueueTest, AFullyAcknowledgedQueueStartsEmptyAfterARestart) {
    for (int run = 0; run < 3; ++run) {
        auto q = open();
        for (int i = 0; i < 5; ++i) {
            q->push(ev(run * 10 + i), false);
        }
        std::vector<encode::EncodedEvent> out;
        const uint64_t t = q->take(out, 100, false);
        ASSERT_EQ(out.size(), 5u) << "run " << run;  // only this run's events
        EXPECT_EQ(out[0].json, ev(run * 10).json);
        q->done(t);
        if (run == 1) {
            kill(q);
        }
    }
    EXPECT_LE(segments().size(), 2u);
}

TEST_F(DiskQueueTest, OutOfOrderAcksAdvanceOnlyOverTheAcknowledgedPrefix) {
    {
        auto q = open();
        for (int i = 0; i < 6; ++i) {
            q->push(ev(i), false);
        }
        std::vector<encode::EncodedEvent> out;
        const uint64_t a = q->take(out, 2, false);
        const uint64_t b = q->take(out, 2, false);
        const uint64_t c = q->take(out, 2, false);
        q->done(c);  // a later worker finished first
        q->done(a);
        (void)b;
        kill(q);
    }
    auto q = open();
    std::vector<encode::EncodedEvent> out;
    q->take(out, 100, false);
    // b (2, 3) was never acknowledged: it and everything after it come again.
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].json, "{\"n\":2}");
}

TEST_F(DiskQueueTest, AcknowledgedSegmentsAreDeleted) {
    auto q = open(/*max_size=*/0, /*segment_size=*/64);
    for (int i = 0; i < 20; ++i) {
        q->push(ev(i), false);
    }
    EXPECT_GT(segments().size(), 5u);
    std::vector<encode::EncodedEvent> out;
    size_t got = 0;
    while (const uint64_t t = q->take(out, 3, false)) {
        got += out.size();
        q->done(t);
    }
    EXPECT_EQ(got, 20u);
    EXPECT_LE(segments().size(), 2u);
}

TEST_F(DiskQueueTest, FullQueueRefusesNewestAndCountsIt) {
    auto q = open(/*max_size=*/400, /*segment_size=*/100);
    int accepted = 0;
    for (int i = 0; i < 50; ++i) {
        accepted += q->push(ev(i), false) == EventQueue::PushResult::Ok ? 1 : 0;
    }
    EXPECT_GT(accepted, 5);
    EXPECT_LT(accepted, 50);
    EXPECT_EQ(metrics_.counter("libbeat.pipeline.queue.disk.refused").get(),
              static_cast<uint64_t>(50 - accepted));
    EXPECT_LE(q->sizeOnDisk(), 400u);
    // The oldest are kept: what was accepted reads back in order from n = 0.
    std::vector<encode::EncodedEvent> out;
    const uint64_t t = q->take(out, 100, false);
    ASSERT_EQ(out.size(), static_cast<size_t>(accepted));
    EXPECT_EQ(out[0].json, "{\"n\":0}");
    q->done(t);
    EXPECT_EQ(q->push(ev(99), false), EventQueue::PushResult::Ok);  // room again
}

TEST_F(DiskQueueTest, FullQueueMakesFileInputWait) {
    auto q = open(/*max_size=*/400, /*segment_size=*/100);
    while (q->push(ev(0), false) == EventQueue::PushResult::Ok) {
    }
    std::atomic<bool> pushed{false};
    std::thread producer(
        [&] { pushed = q->push(ev(1), /*wait=*/true) == EventQueue::PushResult::Ok; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(pushed.load());
    std::vector<encode::EncodedEvent> out;
    while (const uint64_t t = q->take(out, 2, false)) {
        q->done(t);
        if (pushed.load()) {
            break;
        }
    }
    producer.join();
    EXPECT_TRUE(pushed.load());
}

TEST_F(DiskQueueTest, WriteErrorRefusesLiveEventsAndMakesFileInputRetry) {
    // A disk that fills up: RLIMIT_FSIZE makes write() fail with EFBIG (SIGXFSZ ignored)
    // once a segment would grow past the limit, as ENOSPC would.
    auto q = open(/*max_size=*/0, /*segment_size=*/1 << 20);
    q->push(ev(0), false);
    struct rlimit old {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit tiny = old;
    tiny.rlim_cur = 16;  // room for a segment header, not for a frame
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
    EXPECT_EQ(q->push(ev(1), /*wait=*/false), EventQueue::PushResult::Full);
    EXPECT_EQ(metrics_.counter("libbeat.pipeline.queue.disk.refused").get(), 1u);
    std::atomic<bool> pushed{false};
    std::thread producer(
        [&] { pushed = q->push(ev(2), /*wait=*/true) == EventQueue::PushResult::Ok; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(pushed.load());                    // still trying, not refused
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);  // the disk has room again
    producer.join();
    std::signal(SIGXFSZ, old_handler);
    EXPECT_TRUE(pushed.load());
    std::vector<encode::EncodedEvent> out;
    std::vector<std::string> got;
    while (const uint64_t t = q->take(out, 10, false)) {
        for (const auto& e : out) {
            got.push_back(e.json);
        }
        q->done(t);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"{\"n\":0}", "{\"n\":2}"}));
}

TEST_F(DiskQueueTest, CorruptSegmentIsSkippedAndCounted) {
    {
        auto q = open(0, 100);
        for (int i = 0; i < 12; ++i) {
            q->push(ev(i), false);
        }
        kill(q);
    }
    auto segs = segments();
    ASSERT_GE(segs.size(), 3u);
    // Flip a byte inside the first frame of the second segment.
    {
        FILE* f = std::fopen(segs[1].c_str(), "r+b");
        ASSERT_NE(f, nullptr);
        std::fseek(f, 20, SEEK_SET);
        std::fputc('X', f);
        std::fclose(f);
    }
    // Truncate the third in the middle of a frame.
    std::filesystem::resize_file(segs[2], std::filesystem::file_size(segs[2]) - 3);
    auto q = open(0, 100);
    std::vector<encode::EncodedEvent> out;
    std::vector<std::string> all;
    while (const uint64_t t = q->take(out, 100, false)) {
        for (auto& e : out) {
            all.push_back(e.json);
        }
        q->done(t);
    }
    EXPECT_EQ(metrics_.counter("libbeat.pipeline.queue.disk.corrupt_segments").get(), 2u);
    EXPECT_FALSE(all.empty());
    EXPECT_LT(all.size(), 12u);
    EXPECT_EQ(all.front(), "{\"n\":0}");
    EXPECT_EQ(all.back(), "{\"n\":11}");  // segments after the damaged ones are read
    // Nothing read twice, order kept.
    for (size_t i = 1; i < all.size(); ++i) {
        EXPECT_LT(std::stoi(all[i - 1].substr(5)), std::stoi(all[i].substr(5)));
    }
}

TEST(DiskQueueCrcTest, Crc32cMatchesTheCheckValueAndThePortableTable) {
    // RFC 3720 §B.4 / the CRC catalogue's check value for CRC-32C.
    EXPECT_EQ(detail::crc32c("123456789", 9), 0xE3069283U);
    EXPECT_EQ(detail::crc32cPortable("123456789", 9), 0xE3069283U);
    std::string bytes;
    for (int i = 0; i < 3001; ++i) {
        bytes.push_back(static_cast<char>((i * 131 + 7) & 0xff));
    }
    for (size_t len : {0UL, 1UL, 7UL, 8UL, 9UL, 63UL, 3001UL}) {
        for (size_t offset : {0UL, 1UL, 3UL}) {
            const size_t n = std::min(len, bytes.size() - offset);
            EXPECT_EQ(detail::crc32c(bytes.data() + offset, n),
                      detail::crc32cPortable(bytes.data() + offset, n))
                << "length " << n << " offset " << offset;
        }
    }
}

TEST_F(DiskQueueTest, GarbageFilesNeverCrash) {
    std::filesystem::create_directories(dir_);
    for (int id = 1; id <= 3; ++id) {
        FILE* f = std::fopen((dir_ / (std::to_string(id) + ".seg")).c_str(), "wb");
        ASSERT_NE(f, nullptr);
        const std::string junk = id == 1 ? "SBDQ\x02\0\0\0\xff\xff\xff\x7f" : "garbage";
        std::fwrite(junk.data(), 1, junk.size(), f);
        std::fclose(f);
    }
    {
        FILE* f = std::fopen((dir_ / "state.dat").c_str(), "wb");
        std::fputs("nonsense", f);
        std::fclose(f);
    }
    auto q = open();
    ASSERT_NE(q, nullptr);
    std::vector<encode::EncodedEvent> out;
    EXPECT_EQ(q->take(out, 10, false), 0u);
    q->push(ev(5), false);
    ASSERT_NE(q->take(out, 10, false), 0u);
    EXPECT_EQ(out.size(), 1u);
}

TEST_F(DiskQueueTest, PipelineRedeliversAfterOutageAndRestart) {
    // First run: the output is down the whole time; the process is stopped.
    {
        auto q = open();
        auto c = std::make_unique<PeerClient>();
        c->down = true;
        Pipeline p(groupOf(std::move(c), 0), std::move(q), smallQueue(), metrics_);
        p.start();
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(p.publish(ev(i)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        p.close();  // must not wait for the output: the events stay on disk
        EXPECT_EQ(p.dropped(), 0u);
    }
    // Second run: the output is back.
    auto c = std::make_unique<PeerClient>();
    PeerClient* peer = c.get();
    monitoring::Registry m2;
    Pipeline p(groupOf(std::move(c), 0), open(), smallQueue(), m2);
    p.start();
    p.close();
    ASSERT_EQ(peer->delivered.size(), 50u);
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(peer->delivered[static_cast<size_t>(i)], ev(i).json);
    }
    // And nothing is left for a third run.
    monitoring::Registry m3;
    DiskQueueSettings s3;
    s3.path = dir_.string();
    auto q3 = DiskQueue::open(s3, m3);
    std::vector<encode::EncodedEvent> out;
    EXPECT_EQ((*q3)->take(out, 100, false), 0u);
}

}  // namespace
}  // namespace sipbeat::pipeline
