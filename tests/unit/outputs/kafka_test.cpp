// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "beat/config/node.h"
#include "beat/pipeline/pipeline.h"
#include "outputs/common/test_driver.h"
#include "outputs/kafka/kafka_output.h"

namespace sipbeat::outputs::kafka {
namespace {

using namespace std::chrono_literals;

// 2026-11-23T12:00:00.123Z
constexpr core::TimestampNs kEventTime = 1795435200'123'000'000LL;
constexpr int32_t kPartitions = 4;

/// librdkafka's in-process mock cluster of three brokers on 127.0.0.1.
class MockCluster {
public:
    MockCluster() {
        char errstr[256];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
        host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        cluster_ = rd_kafka_mock_cluster_new(host_, 3);
        createTopic("sipbeat");
    }
    ~MockCluster() {
        rd_kafka_mock_cluster_destroy(cluster_);
        rd_kafka_destroy(host_);
    }
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    void createTopic(const std::string& name, int partitions = kPartitions) {
        ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    void setAll(bool up) {
        for (int32_t id = 1; id <= 3; ++id) {
            if (up) {
                rd_kafka_mock_broker_set_up(cluster_, id);
            } else {
                rd_kafka_mock_broker_set_down(cluster_, id);
            }
        }
    }
    std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
    /// hosts: ['a', 'b', 'c'] for the YAML config.
    std::string hostsYaml() const {
        std::string out = "[";
        std::stringstream in(bootstrap());
        std::string h;
        while (std::getline(in, h, ',')) {
            out += (out.size() > 1 ? ", '" : "'") + h + "'";
        }
        return out + "]";
    }

private:
    rd_kafka_t* host_ = nullptr;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

struct Received {
    int32_t partition = 0;
    std::string key;
    int64_t timestamp_ms = 0;
    std::string value;
    std::map<std::string, std::string> headers;
};

/// Reads `topic` from the beginning with a plain consumer until `count` messages came or
/// `limit` passed.
std::vector<Received> consume(const MockCluster& cluster, const std::string& topic, size_t count,
                              std::chrono::milliseconds limit = 10s) {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstrap().c_str(), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "kafka-test", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "50", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(kPartitions);
    for (int32_t p = 0; p < kPartitions; ++p) {
        rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    std::vector<Received> out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            Received r;
            r.partition = m->partition;
            if (m->key != nullptr) {
                r.key.assign(static_cast<const char*>(m->key), m->key_len);
            }
            r.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
            r.value.assign(static_cast<const char*>(m->payload), m->len);
            rd_kafka_headers_t* hdrs = nullptr;
            if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const char* name = nullptr;
                const void* val = nullptr;
                size_t size = 0;
                for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR;
                     ++i) {
                    r.headers[name] = std::string(static_cast<const char*>(val), size);
                }
            }
            out.push_back(std::move(r));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

/// What a FakeBatch was told.
struct Outcome {
    enum class Signal { Pending, Ack, Drop, Retry, RetryEvents, Cancel };
    std::mutex mutex;
    std::condition_variable cv;
    Signal signal = Signal::Pending;
    int signals = 0;
    std::vector<uint32_t> indices;
    uint32_t dropped = 0;

    void set(Signal s, std::vector<uint32_t> idx = {}, uint32_t d = 0) {
        std::lock_guard lock(mutex);
        signal = s;
        ++signals;
        indices = std::move(idx);
        dropped = d;
        cv.notify_all();
    }
    bool wait(std::chrono::milliseconds limit = 15s) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, limit, [&] { return signals > 0; });
    }
};

class FakeBatch final : public Batch {
public:
    FakeBatch(std::vector<encode::EncodedEvent> events, std::shared_ptr<Outcome> outcome)
        : events_(std::move(events)), outcome_(std::move(outcome)) {}
    std::span<const encode::EncodedEvent> events() const override { return events_; }
    void ack() override { outcome_->set(Outcome::Signal::Ack); }
    void drop() override { outcome_->set(Outcome::Signal::Drop); }
    void retry() override { outcome_->set(Outcome::Signal::Retry); }
    void retryEvents(std::vector<uint32_t> indices, uint32_t dropped) override {
        outcome_->set(Outcome::Signal::RetryEvents, std::move(indices), dropped);
    }
    void cancel() override { outcome_->set(Outcome::Signal::Cancel); }

private:
    std::vector<encode::EncodedEvent> events_;
    std::shared_ptr<Outcome> outcome_;
};

encode::EncodedEvent makeEvent(const std::string& json, const std::string& key = "",
                               core::TimestampNs ts = kEventTime) {
    encode::EncodedEvent e;
    e.json = json;
    e.key = key;
    e.timestamp = ts;
    return e;
}

/// Builds output.kafka from YAML; the error, if any, in `error`.
struct KafkaSetup {
    explicit KafkaSetup(const std::string& yaml) {
        auto spec = std::make_shared<config::Spec>(
            config::object({{"output", config::object({{"kafka", factory.schema()}})}}));
        config::Node root = config::parseYaml(yaml, "test.yml");
        config::validate(root, *spec);
        cfg = std::make_unique<config::Config>(std::move(root), spec);
        OutputContext ctx;
        ctx.metrics = &metrics;
        auto created = factory.create(ctx, *cfg, "output.kafka");
        if (!created) {
            error = created.status().message();
            return;
        }
        group = std::move(created).value();
    }
    Client& client() { return *group.clients.at(0); }

    /// Publishes one batch and waits for its signal.
    std::shared_ptr<Outcome> send(std::vector<encode::EncodedEvent> events) {
        auto outcome = std::make_shared<Outcome>();
        EXPECT_TRUE(client().publish(std::make_unique<FakeBatch>(std::move(events), outcome)));
        EXPECT_TRUE(outcome->wait()) << "batch not signalled";
        return outcome;
    }

    KafkaFactory factory;
    monitoring::Registry metrics;
    std::unique_ptr<config::Config> cfg;
    Group group;
    std::string error;
};

std::string kafkaYaml(const MockCluster& cluster, const std::string& extra = "",
                      const std::string& topic = "sipbeat") {
    return "output.kafka:\n  hosts: " + cluster.hostsYaml() + "\n  topic: " + topic + "\n" + extra;
}

/// One cluster for the tests that leave the brokers alone (tearing a cluster down takes
/// a second); each such test writes to topics of its own.
MockCluster& sharedCluster() {
    static MockCluster cluster;
    return cluster;
}

std::string freshTopic() {
    static int count = 0;
    const std::string topic = "topic-" + std::to_string(++count);
    sharedCluster().createTopic(topic);
    return topic;
}

TEST(KafkaOutputTest, DeliversValueKeyTimestampAndHeadersExactly) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(
        kafkaYaml(cluster, "  headers:\n    - {key: origin, value: sipbeat-test}\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    std::vector<encode::EncodedEvent> events;
    uint64_t bytes = 0;
    for (int i = 0; i < 3; ++i) {
        events.push_back(
            makeEvent("{\"@metadata\":{\"beat\":\"sipbeat\"},\"n\":" + std::to_string(i) + "}",
                      "call-" + std::to_string(i) + "@10.0.0.1", kEventTime + i * 1'000'000));
        bytes += events.back().json.size();
    }
    auto outcome = k.send(events);
    EXPECT_EQ(outcome->signal, Outcome::Signal::Ack);
    k.client().close();
    EXPECT_EQ(k.metrics.counter("libbeat.output.write.bytes").get(), bytes);
    EXPECT_EQ(k.metrics.counter("libbeat.output.write.errors").get(), 0u);

    auto got = consume(cluster, topic, 3);
    ASSERT_EQ(got.size(), 3u);
    std::map<std::string, Received> by_key;
    for (auto& r : got) {
        by_key[r.key] = r;
    }
    for (int i = 0; i < 3; ++i) {
        const std::string key = "call-" + std::to_string(i) + "@10.0.0.1";
        ASSERT_EQ(by_key.count(key), 1u) << key;
        const Received& r = by_key[key];
        EXPECT_EQ(r.value, events[static_cast<size_t>(i)].json);
        EXPECT_EQ(r.timestamp_ms, kEventTime / 1'000'000 + i);
        EXPECT_EQ(r.headers.at("origin"), "sipbeat-test");
        EXPECT_EQ(r.partition, hashToPartition(fnv1a32(key), kPartitions));
    }
}

TEST(KafkaOutputTest, Fnv1aAndSaramaPartitionArithmetic) {
    // FNV-1a 32 test vectors (Go's hash/fnv).
    EXPECT_EQ(fnv1a32(""), 0x811c9dc5u);
    EXPECT_EQ(fnv1a32("a"), 0xe40c292cu);
    EXPECT_EQ(fnv1a32("foobar"), 0xbf9cf968u);
    // int32(0xbf9cf968) = -1080231576; % 4 = 0; % 7 = -1080231576 % 7 → negated.
    EXPECT_EQ(hashToPartition(0xbf9cf968u, 4), 0);
    EXPECT_EQ(hashToPartition(0xbf9cf968u, 7), -(-1080231576 % 7));
    EXPECT_EQ(hashToPartition(0xe40c292cu, 3), -(static_cast<int32_t>(0xe40c292cu) % 3));
    EXPECT_EQ(hashToPartition(5u, 3), 2);
}

TEST(KafkaOutputTest, EveryMessageOfACallOnOnePartitionAndCallsSpread) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  compression: none\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    std::vector<encode::EncodedEvent> events;
    for (int call = 0; call < 12; ++call) {
        for (int msg = 0; msg < 4; ++msg) {
            events.push_back(makeEvent("{\"m\":" + std::to_string(msg) + "}",
                                       "a84b4c76e66710" + std::to_string(call) + "@pc33"));
        }
    }
    EXPECT_EQ(k.send(events)->signal, Outcome::Signal::Ack);
    k.client().close();
    auto got = consume(cluster, topic, events.size());
    ASSERT_EQ(got.size(), events.size());
    std::map<std::string, std::set<int32_t>> partitions_of;
    for (const auto& r : got) {
        partitions_of[r.key].insert(r.partition);
    }
    std::set<int32_t> used;
    for (const auto& [key, parts] : partitions_of) {
        ASSERT_EQ(parts.size(), 1u) << key;
        EXPECT_EQ(*parts.begin(), hashToPartition(fnv1a32(key), kPartitions)) << key;
        used.insert(*parts.begin());
    }
    EXPECT_EQ(partitions_of.size(), 12u);
    EXPECT_GT(used.size(), 1u);
}

TEST(KafkaOutputTest, HashFieldsDecideThePartition) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  partition.hash.hash: [user]\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    std::vector<encode::EncodedEvent> events;
    for (int i = 0; i < 8; ++i) {
        events.push_back(
            makeEvent("{\"user\":\"u" + std::to_string(i % 4) + "\"}", "key-" + std::to_string(i)));
    }
    EXPECT_EQ(k.send(events)->signal, Outcome::Signal::Ack);
    k.client().close();
    auto got = consume(cluster, topic, events.size());
    ASSERT_EQ(got.size(), events.size());
    for (const auto& r : got) {
        const std::string user = r.value.substr(9, 2);  // {"user":"uN"}
        EXPECT_EQ(r.partition, hashToPartition(fnv1a32(user), kPartitions)) << r.value;
    }
}

TEST(KafkaOutputTest, RoundRobinSendsGroupEventsToEachPartitionInTurn) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  partition.round_robin.group_events: 2\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    std::vector<encode::EncodedEvent> events;
    for (int i = 0; i < 16; ++i) {
        events.push_back(makeEvent("{\"n\":" + std::to_string(i) + "}", "same-call"));
    }
    EXPECT_EQ(k.send(events)->signal, Outcome::Signal::Ack);
    k.client().close();
    auto got = consume(cluster, topic, events.size());
    ASSERT_EQ(got.size(), events.size());
    std::map<int, int32_t> partition_of;
    std::map<int32_t, int> per_partition;
    for (const auto& r : got) {
        partition_of[std::stoi(r.value.substr(5))] = r.partition;
        ++per_partition[r.partition];
    }
    for (int i = 0; i < 16; i += 2) {
        EXPECT_EQ(partition_of[i], partition_of[i + 1]) << i;
        EXPECT_NE(partition_of[i], partition_of[(i + 2) % 16]) << i;
    }
    ASSERT_EQ(per_partition.size(), 4u);
    for (const auto& [p, n] : per_partition) {
        EXPECT_EQ(n, 4) << p;
    }
}

TEST(KafkaOutputTest, RandomPartitionerKeepsGroupEventsTogether) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  partition.random.group_events: 4\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    std::vector<encode::EncodedEvent> events;
    for (int i = 0; i < 40; ++i) {
        events.push_back(makeEvent("{\"n\":" + std::to_string(i) + "}", "k" + std::to_string(i)));
    }
    EXPECT_EQ(k.send(events)->signal, Outcome::Signal::Ack);
    k.client().close();
    auto got = consume(cluster, topic, events.size());
    ASSERT_EQ(got.size(), events.size());
    std::map<int, int32_t> partition_of;
    for (const auto& r : got) {
        partition_of[std::stoi(r.value.substr(5))] = r.partition;
    }
    std::set<int32_t> used;
    for (int group = 0; group < 10; ++group) {
        for (int i = 1; i < 4; ++i) {
            EXPECT_EQ(partition_of[group * 4 + i], partition_of[group * 4]) << group;
        }
        used.insert(partition_of[group * 4]);
    }
    // Ten random picks among four partitions all alike: (1/4)^9, about 4e-6.
    EXPECT_GT(used.size(), 1u);
}

TEST(KafkaOutputTest, TopicFromEventFieldAndRulesAndNoTopicDropped) {
    MockCluster& cluster = sharedCluster();
    cluster.createTopic("calls-a");
    cluster.createTopic("calls-b");
    cluster.createTopic("registrations");
    {
        KafkaSetup k("output.kafka:\n  hosts: " + cluster.hostsYaml() +
                     "\n  topic: 'calls-%{[site]}'\n");
        ASSERT_EQ(k.error, "");
        ASSERT_TRUE(k.client().connect());
        auto outcome =
            k.send({makeEvent("{\"site\":\"a\"}", "1"), makeEvent("{\"site\":\"b\"}", "2"),
                    makeEvent("{\"other\":1}", "3")});
        EXPECT_EQ(outcome->signal, Outcome::Signal::RetryEvents);
        EXPECT_TRUE(outcome->indices.empty());
        EXPECT_EQ(outcome->dropped, 1u);  // no site field, no default: no topic
        k.client().close();
    }
    EXPECT_EQ(consume(cluster, "calls-a", 1).at(0).value, "{\"site\":\"a\"}");
    EXPECT_EQ(consume(cluster, "calls-b", 1).at(0).value, "{\"site\":\"b\"}");
    {
        KafkaSetup k("output.kafka:\n  hosts: " + cluster.hostsYaml() +
                     "\n  topic: calls-a\n  topics:\n"
                     "    - topic: registrations\n      when.equals: {method: REGISTER}\n");
        ASSERT_EQ(k.error, "");
        ASSERT_TRUE(k.client().connect());
        EXPECT_EQ(k.send({makeEvent("{\"method\":\"REGISTER\"}", "r"),
                          makeEvent("{\"method\":\"INVITE\"}", "i")})
                      ->signal,
                  Outcome::Signal::Ack);
        k.client().close();
    }
    auto regs = consume(cluster, "registrations", 1);
    ASSERT_EQ(regs.size(), 1u);
    EXPECT_EQ(regs[0].value, "{\"method\":\"REGISTER\"}");
    EXPECT_EQ(consume(cluster, "calls-a", 2).size(), 2u);
}

TEST(KafkaOutputTest, KeyFormatStringReplacesTheCallId) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  key: '%{[sip.from.user]}-x'\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    EXPECT_EQ(k.send({makeEvent("{\"sip\":{\"from\":{\"user\":\"alice\"}}}", "call-id-1")})->signal,
              Outcome::Signal::Ack);
    k.client().close();
    auto got = consume(cluster, topic, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key, "alice-x");
}

TEST(KafkaOutputTest, EmptyKeyMeansNoKey) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    EXPECT_EQ(k.send({makeEvent("{\"counters\":1}", "")})->signal, Outcome::Signal::Ack);
    k.client().close();
    auto got = consume(cluster, topic, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key, "");
}

TEST(KafkaOutputTest, EventBiggerThanMaxMessageBytesIsDroppedAndCounted) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  max_message_bytes: 200\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    auto outcome = k.send({makeEvent("{\"pad\":\"" + std::string(500, 'p') + "\"}", "big"),
                           makeEvent("{\"small\":1}", "small")});
    EXPECT_EQ(outcome->signal, Outcome::Signal::RetryEvents);
    EXPECT_TRUE(outcome->indices.empty());
    EXPECT_EQ(outcome->dropped, 1u);
    k.client().close();
    auto got = consume(cluster, topic, 2, 2s);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key, "small");
}

TEST(KafkaOutputTest, EveryCompressionCodecDelivers) {
    MockCluster& cluster = sharedCluster();
    for (const std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
        cluster.createTopic("c-" + codec);
        KafkaSetup k("output.kafka:\n  hosts: " + cluster.hostsYaml() + "\n  topic: c-" + codec +
                     "\n  compression: " + codec + "\n");
        ASSERT_EQ(k.error, "") << codec;
        ASSERT_TRUE(k.client().connect());
        std::vector<encode::EncodedEvent> events;
        for (int i = 0; i < 20; ++i) {
            events.push_back(makeEvent(
                "{\"text\":\"" + std::string(100, 'z') + "\",\"n\":" + std::to_string(i) + "}",
                "k" + std::to_string(i % 3)));
        }
        EXPECT_EQ(k.send(events)->signal, Outcome::Signal::Ack) << codec;
        k.client().close();
        auto got = consume(cluster, "c-" + codec, events.size());
        ASSERT_EQ(got.size(), events.size()) << codec;
        std::set<std::string> values;
        for (const auto& r : got) {
            values.insert(r.value);
        }
        for (const auto& e : events) {
            EXPECT_EQ(values.count(e.json), 1u) << codec;
        }
    }
}

TEST(KafkaOutputTest, RequiredAcksAllDelivers) {
    MockCluster& cluster = sharedCluster();
    const std::string topic = freshTopic();
    KafkaSetup k(kafkaYaml(cluster, "  required_acks: -1\n", topic));
    ASSERT_EQ(k.error, "");
    ASSERT_TRUE(k.client().connect());
    EXPECT_EQ(k.send({makeEvent("{\"a\":1}", "k")})->signal, Outcome::Signal::Ack);
    k.client().close();
    EXPECT_EQ(consume(cluster, topic, 1).size(), 1u);
}

TEST(KafkaOutputTest, ConnectFailsWhileEveryBrokerIsDown) {
    MockCluster cluster;
    KafkaSetup k(kafkaYaml(cluster, "  timeout: 500ms\n"));
    ASSERT_EQ(k.error, "");
    cluster.setAll(false);
    const core::Status st = k.client().connect();
    EXPECT_FALSE(st);
    EXPECT_NE(st.message().find("unreachable"), std::string::npos) << st.message();
    cluster.setAll(true);
}

TEST(KafkaOutputTest, OutageOfAllBrokersLosesNothing) {
    MockCluster cluster;
    KafkaSetup k(kafkaYaml(cluster,
                           "  timeout: 1s\n  backoff.init: 100ms\n  backoff.max: 400ms\n"
                           "  bulk_max_size: 10\n"));
    ASSERT_EQ(k.error, "");
    pipeline::QueueSettings q;
    q.events = 1000;
    q.flush_min_events = 1;
    q.flush_timeout_ns = 1'000'000;
    pipeline::Pipeline pipe(std::move(k.group), q, k.metrics);
    pipe.start();
    auto publish = [&](int from, int to) {
        for (int i = from; i < to; ++i) {
            pipe.publish(
                makeEvent("{\"n\":" + std::to_string(i) + "}", "call-" + std::to_string(i % 7)));
        }
    };
    auto waitAcked = [&](uint64_t n, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (pipe.acked() < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        return pipe.acked();
    };
    publish(0, 50);
    ASSERT_EQ(waitAcked(50, 10s), 50u);
    cluster.setAll(false);
    publish(50, 150);
    std::this_thread::sleep_for(3s);
    EXPECT_LT(pipe.acked(), 150u);  // nothing can be delivered while the brokers are down
    cluster.setAll(true);
    EXPECT_EQ(waitAcked(150, 20s), 150u);
    pipe.close();
    EXPECT_EQ(pipe.dropped(), 0u);
    // The timed-out batches were cancelled (resent without using a retry), not failed.
    EXPECT_EQ(k.metrics.counter("libbeat.output.events.failed").get(), 0u);
    EXPECT_GT(k.metrics.counter("libbeat.output.write.errors").get(), 0u);

    auto got = consume(cluster, "sipbeat", 150);
    std::set<std::string> values;
    for (const auto& r : got) {
        values.insert(r.value);
    }
    for (int i = 0; i < 150; ++i) {
        EXPECT_EQ(values.count("{\"n\":" + std::to_string(i) + "}"), 1u) << i;
    }
}

TEST(KafkaOutputTest, BadConfigErrorsNameTheKey) {
    const std::string hosts = "output.kafka:\n  hosts: ['127.0.0.1:9092']\n";
    {
        KafkaSetup k(hosts);
        EXPECT_NE(k.error.find("missing required field accessing 'output.kafka.topic'"),
                  std::string::npos)
            << k.error;
    }
    {
        KafkaSetup k("output.kafka:\n  topic: t\n");
        EXPECT_NE(k.error.find("'output.kafka.hosts'"), std::string::npos) << k.error;
    }
    try {
        KafkaSetup k(hosts + "  topic: t\n  compression: brotli\n");
        ADD_FAILURE() << "brotli accepted";
    } catch (const config::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("output.kafka.compression"), std::string::npos)
            << e.what();
    }
    for (const std::string bad : {"0.7.0", "5.0.0", "2.x", "1"}) {
        KafkaSetup k(hosts + "  topic: t\n  version: '" + bad + "'\n");
        EXPECT_NE(k.error.find("accessing 'output.kafka.version' (source:'test.yml'"),
                  std::string::npos)
            << bad << ": " << k.error;
    }
    for (const std::string good : {"0.8.2.0", "2.1.0", "3.6", "4.0.0"}) {
        KafkaSetup k(hosts + "  topic: t\n  version: '" + good + "'\n");
        EXPECT_EQ(k.error, "") << good;
    }
    {
        KafkaSetup k(hosts + "  topic: t\n  kerberos: {keytab: /etc/k.keytab}\n");
        EXPECT_NE(k.error.find("kerberos is not supported"), std::string::npos) << k.error;
        EXPECT_NE(k.error.find("'output.kafka.kerberos'"), std::string::npos) << k.error;
    }
    {
        KafkaSetup k(hosts + "  topic: t\n  kerberos: {enabled: false}\n");
        EXPECT_EQ(k.error, "");
    }
    {
        KafkaSetup k(hosts +
                     "  topic: t\n  username: u\n  password: p\n"
                     "  sasl.mechanism: GSSAPI\n");
        EXPECT_NE(k.error.find("'output.kafka.sasl.mechanism'"), std::string::npos) << k.error;
    }
    {
        KafkaSetup k(hosts + "  topic: t\n  ssl.ca_trusted_fingerprint: " + std::string(64, 'a') +
                     "\n");
        EXPECT_NE(k.error.find("'output.kafka.ssl.ca_trusted_fingerprint'"), std::string::npos)
            << k.error;
    }
    {
        // TLS and SASL settings map onto properties librdkafka accepts.
        KafkaSetup k(hosts +
                     "  topic: t\n  username: u\n  password: p\n  sasl.mechanism: SCRAM-SHA-512\n"
                     "  ssl:\n    verification_mode: certificate\n"
                     "    certificate_authorities: ['-----BEGIN CERTIFICATE-----\\nMIIB\\n"
                     "-----END CERTIFICATE-----\\n']\n");
        EXPECT_EQ(k.error, "");
    }
    {
        KafkaSetup k(hosts + "  topic: t\n  partition:\n    random: {}\n    round_robin: {}\n");
        EXPECT_NE(k.error.find("'output.kafka.partition'"), std::string::npos) << k.error;
    }
}

TEST(KafkaOutputTest, TestOutputTranscriptOk) {
    MockCluster cluster;
    const std::string host = cluster.bootstrap().substr(0, cluster.bootstrap().find(','));
    KafkaSetup k("output.kafka:\n  hosts: ['" + host + "']\n  topic: sipbeat\n");
    ASSERT_EQ(k.error, "");
    std::ostringstream out;
    ConsoleTestDriver driver(out);
    k.client().test(driver);
    EXPECT_FALSE(driver.failed()) << out.str();
    EXPECT_EQ(out.str(), "Kafka: " + host +
                             "...\n"
                             "  parse host... OK\n"
                             "  dns lookup... OK\n"
                             "  addresses: 127.0.0.1\n"
                             "  dial up... OK\n"
                             "  talk to server... OK\n");
}

TEST(KafkaOutputTest, TestOutputTranscriptErrorWithoutCluster) {
    // A port nobody listens on: bound, then released.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    const std::string host = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    KafkaSetup k("output.kafka:\n  hosts: ['" + host + "']\n  topic: sipbeat\n  timeout: 1s\n");
    ASSERT_EQ(k.error, "");
    std::ostringstream out;
    ConsoleTestDriver driver(out);
    k.client().test(driver);
    EXPECT_TRUE(driver.failed());
    EXPECT_NE(out.str().find("Kafka: " + host + "...\n  parse host... OK\n"), std::string::npos)
        << out.str();
    EXPECT_NE(
        out.str().find("  dial up... ERROR dial tcp " + host + ": connect: connection refused"),
        std::string::npos)
        << out.str();
    EXPECT_EQ(out.str().find("talk to server"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace sipbeat::outputs::kafka
