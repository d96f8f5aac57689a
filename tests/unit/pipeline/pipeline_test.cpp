// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/pipeline.h"

#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace sipbeat::pipeline {
namespace {

/// A client whose answers the test scripts: each publish pops the next answer.
class ScriptedClient final : public outputs::Client {
public:
    enum class Answer { Ack, Retry, Drop, RetryFirst, DropSilently };
    explicit ScriptedClient(std::vector<Answer> script) : script_(std::move(script)) {}

    core::Status connect() override { return core::Status::ok(); }
    core::Status publish(outputs::BatchPtr batch) override {
        std::lock_guard lock(mutex_);
        Answer a = next_ < script_.size() ? script_[next_++] : Answer::Ack;
        sizes.push_back(batch->events().size());
        switch (a) {
            case Answer::Ack:
                for (const auto& ev : batch->events()) {
                    delivered.push_back(ev.json);
                }
                batch->ack();
                break;
            case Answer::Retry:
                batch->retry();
                break;
            case Answer::Drop:
                batch->drop();
                break;
            case Answer::RetryFirst: {
                for (size_t i = 1; i < batch->events().size(); ++i) {
                    delivered.push_back(batch->events()[i].json);
                }
                batch->retryEvents({0}, 0);
                break;
            }
            case Answer::DropSilently:
                break;  // destroyed without a signal: the pipeline must resend
        }
        return core::Status::ok();
    }
    void close() override {}
    std::string describe() const override { return "scripted"; }

    std::mutex mutex_;
    std::vector<std::string> delivered;
    std::vector<size_t> sizes;

private:
    std::vector<Answer> script_;
    size_t next_ = 0;
};

QueueSettings fastSettings() {
    QueueSettings q;
    q.events = 4;
    q.flush_min_events = 2;
    q.flush_timeout_ns = 1'000'000;
    return q;
}

encode::EncodedEvent ev(int i) {
    encode::EncodedEvent e;
    e.json = "{\"n\":" + std::to_string(i) + "}";
    return e;
}

struct Harness {
    explicit Harness(std::vector<ScriptedClient::Answer> script, int32_t max_retries = 3,
                     int64_t bulk = 0, bool live = false) {
        auto c = std::make_unique<ScriptedClient>(std::move(script));
        client = c.get();
        outputs::Group g;
        g.clients.push_back(std::move(c));
        g.max_retries = max_retries;
        g.bulk_max_size = bulk;
        g.backoff_init_ns = 1'000;
        g.backoff_max_ns = 10'000;
        pipeline = std::make_unique<Pipeline>(std::move(g), fastSettings(), metrics);
        pipeline->setDropIfFull(live);
        pipeline->start();
    }
    monitoring::Registry metrics;
    ScriptedClient* client;
    std::unique_ptr<Pipeline> pipeline;
};

TEST(PipelineTest, EveryEventIsDeliveredInOrderAndAcked) {
    Harness h({});
    // More events than the queue holds: publish blocks instead of dropping.
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(h.pipeline->publish(ev(i)));
    }
    h.pipeline->close();
    ASSERT_EQ(h.client->delivered.size(), 100u);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(h.client->delivered[static_cast<size_t>(i)], ev(i).json);
    }
    EXPECT_EQ(h.pipeline->acked(), 100u);
    EXPECT_EQ(h.metrics.counter("libbeat.pipeline.events.published").get(), 100u);
    EXPECT_FALSE(h.pipeline->publish(ev(1)));
}

TEST(PipelineTest, RetriedBatchIsResentAndCounted) {
    using A = ScriptedClient::Answer;
    Harness h({A::Retry, A::Retry, A::Ack});
    h.pipeline->publish(ev(1));
    h.pipeline->publish(ev(2));
    h.pipeline->close();
    EXPECT_EQ(h.client->delivered, (std::vector<std::string>{ev(1).json, ev(2).json}));
    EXPECT_EQ(h.metrics.counter("libbeat.output.events.failed").get(), 4u);
    EXPECT_EQ(h.metrics.counter("libbeat.pipeline.events.retry").get(), 4u);
    EXPECT_EQ(h.pipeline->acked(), 2u);
}

TEST(PipelineTest, LiveCaptureRetriesAreBoundedByMaxRetries) {
    using A = ScriptedClient::Answer;
    Harness h({A::Retry, A::Retry, A::Retry}, /*max_retries=*/2, 0, /*live=*/true);
    h.pipeline->publish(ev(1));
    h.pipeline->close();
    EXPECT_TRUE(h.client->delivered.empty());
    EXPECT_EQ(h.pipeline->dropped(), 1u);
}

TEST(PipelineTest, FileInputRetriesUntilDelivered) {
    // Events read from files are never given up on (libbeat's guaranteed mode, SPEC §13).
    using A = ScriptedClient::Answer;
    Harness h({A::Retry, A::Retry, A::Retry, A::Retry, A::Retry}, /*max_retries=*/2);
    h.pipeline->publish(ev(1));
    h.pipeline->close();
    EXPECT_EQ(h.client->delivered, (std::vector<std::string>{ev(1).json}));
    EXPECT_EQ(h.pipeline->dropped(), 0u);
    EXPECT_EQ(h.metrics.counter("libbeat.pipeline.events.retry").get(), 5u);
}

TEST(PipelineTest, PartialRetryResendsOnlyThoseEvents) {
    using A = ScriptedClient::Answer;
    Harness h({A::RetryFirst, A::Ack}, 3, /*bulk=*/2);
    h.pipeline->publish(ev(1));
    h.pipeline->publish(ev(2));
    h.pipeline->close();
    EXPECT_EQ(h.client->delivered, (std::vector<std::string>{ev(2).json, ev(1).json}));
    EXPECT_EQ(h.pipeline->acked(), 2u);
}

TEST(PipelineTest, BatchDestroyedWithoutSignalIsResent) {
    using A = ScriptedClient::Answer;
    Harness h({A::DropSilently, A::Ack});
    h.pipeline->publish(ev(7));
    h.pipeline->close();
    EXPECT_EQ(h.client->delivered, (std::vector<std::string>{ev(7).json}));
}

TEST(PipelineTest, DropIsCounted) {
    using A = ScriptedClient::Answer;
    Harness h({A::Drop});
    h.pipeline->publish(ev(1));
    h.pipeline->close();
    EXPECT_EQ(h.pipeline->dropped(), 1u);
    EXPECT_EQ(h.pipeline->acked(), 0u);
}

TEST(PipelineTest, BatchesRespectBulkMaxSize) {
    Harness h({}, 3, /*bulk=*/3);
    for (int i = 0; i < 10; ++i) {
        h.pipeline->publish(ev(i));
    }
    h.pipeline->close();
    for (size_t s : h.client->sizes) {
        EXPECT_LE(s, 3u);
    }
    EXPECT_EQ(h.client->delivered.size(), 10u);
}

}  // namespace
}  // namespace sipbeat::pipeline
