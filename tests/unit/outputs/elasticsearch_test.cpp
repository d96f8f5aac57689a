// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>

#include "beat/config/node.h"
#include "beat/config/schema.h"
#include "beat/monitoring/registry.h"
#include "outputs/common/test_driver.h"
#include "outputs/elasticsearch/bulk_protocol.h"
#include "outputs/elasticsearch/es_output.h"
#include "unit/test_util.h"

namespace sipbeat::outputs::elasticsearch {
namespace {

namespace fs = std::filesystem;

// tests/unit/outputs/elasticsearch_test.cpp → tests/
const fs::path kTestsDir = fs::path(__FILE__).parent_path().parent_path().parent_path();
const fs::path kPeer = kTestsDir / "peers" / "es_peer.py";
const fs::path kCerts = kTestsDir / "peers" / "certs";

// ---------------------------------------------------------------------------------------
// Pure protocol functions

TEST(ElasticsearchOutputTest, SplitsMetadataOutOfTheSource) {
    EventMeta m;
    ASSERT_TRUE(splitMetadata(
        R"({"@timestamp":"t","@metadata":{"beat":"sipbeat","index":"Idx","raw_index":"Raw",)"
        R"("pipeline":"P","_id":"42","op_type":"index","x":{"a":"}"}},"a":1})",
        m));
    EXPECT_EQ(std::string(m.source_head) + std::string(m.source_tail),
              R"({"@timestamp":"t","a":1})");
    EXPECT_EQ(m.index, "Idx");
    EXPECT_EQ(m.raw_index, "Raw");
    EXPECT_EQ(m.pipeline, "P");
    EXPECT_EQ(m.id, "42");
    EXPECT_EQ(m.op_type, "index");

    ASSERT_TRUE(splitMetadata(R"({"@metadata":{"beat":"b"},"a":"x,}"})", m));
    EXPECT_EQ(std::string(m.source_head) + std::string(m.source_tail), R"({"a":"x,}"})");
    ASSERT_TRUE(splitMetadata(R"({"a":[1,{"b":2}],"@metadata":{}})", m));
    EXPECT_EQ(std::string(m.source_head) + std::string(m.source_tail), R"({"a":[1,{"b":2}]})");
    ASSERT_TRUE(splitMetadata(R"({"@metadata":{}})", m));
    EXPECT_EQ(std::string(m.source_head) + std::string(m.source_tail), "{}");
    ASSERT_TRUE(splitMetadata(R"({"a":1})", m));
    EXPECT_EQ(std::string(m.source_head) + std::string(m.source_tail), R"({"a":1})");
    EXPECT_FALSE(splitMetadata("[1]", m));
    EXPECT_FALSE(splitMetadata(R"({"a":)", m));
    EXPECT_FALSE(splitMetadata(R"({"a":"unterminated})", m));
}

TEST(ElasticsearchOutputTest, VersionsAndActions) {
    EXPECT_EQ(EsVersion::parse("8.15.0")->minor, 15);
    EXPECT_EQ(EsVersion::parse("7.17.3-SNAPSHOT")->patch, 3);
    EXPECT_FALSE(EsVersion::parse("x.1"));
    EXPECT_FALSE(EsVersion::parse("8.a"));
    EXPECT_TRUE(EsVersion::parse("7.4.9")->lessThan(*EsVersion::parse("7.5.0")));
    const EsVersion es8{8, 15, 0};
    const EsVersion es74{7, 4, 0};
    EXPECT_EQ(chooseOp(es8, "", ""), BulkOp::Create);
    EXPECT_EQ(chooseOp(es74, "", ""), BulkOp::Index);
    EXPECT_EQ(chooseOp(es74, "", "id1"), BulkOp::Create);
    EXPECT_EQ(chooseOp(es8, "index", "id1"), BulkOp::Index);
    EXPECT_EQ(chooseOp(es8, "delete", "id1"), BulkOp::Delete);
    EXPECT_EQ(chooseOp(es8, "delete", ""), BulkOp::Create);
    std::string body;
    appendActionLine(body, BulkOp::Create, "idx", "pipe", "a\"b", false);
    EXPECT_EQ(body, "{\"create\":{\"_index\":\"idx\",\"pipeline\":\"pipe\",\"_id\":\"a\\\"b\"}}\n");
    body.clear();
    appendActionLine(body, BulkOp::Index, "idx", "", "", true);
    EXPECT_EQ(body, "{\"index\":{\"_index\":\"idx\",\"_type\":\"doc\"}}\n");

    EXPECT_EQ(*parseRootResponse(R"({"version":{"number":"8.15.0"}})"), "8.15.0");
    EXPECT_FALSE(parseRootResponse("{}"));
    EXPECT_FALSE(parseRootResponse(R"({"version":{"number":7}})"));
    EXPECT_FALSE(parseRootResponse("<html>"));
}

TEST(ElasticsearchOutputTest, ParsesBulkAnswers) {
    BulkResponse r;
    ASSERT_TRUE(parseBulkResponse(
        R"({"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,)"
        R"("error":{"type":"x","reason":"y"}}},{"create":{"status":409}},{"index":{"status":429}},)"
        R"({"create":{"status":503}},{"create":{}}]})",
        r));
    ASSERT_EQ(r.items.size(), 6u);
    EXPECT_EQ(r.items[1].error, R"({"type":"x","reason":"y"})");
    std::vector<ItemOutcome> o;
    classifyItems(r, 7, o);
    EXPECT_EQ(o, (std::vector<ItemOutcome>{ItemOutcome::Acked, ItemOutcome::NonIndexable,
                                           ItemOutcome::Duplicate, ItemOutcome::TooMany,
                                           ItemOutcome::ServerError, ItemOutcome::ServerError,
                                           ItemOutcome::ServerError}));
    ASSERT_TRUE(parseBulkResponse(R"({"errors":false})", r));
    classifyItems(r, 2, o);
    EXPECT_EQ(o, (std::vector<ItemOutcome>{ItemOutcome::Acked, ItemOutcome::Acked}));
    EXPECT_FALSE(parseBulkResponse("garbage", r));
    EXPECT_FALSE(parseBulkResponse(R"({"errors":true})", r));
    EXPECT_FALSE(parseBulkResponse(R"({"errors":"yes","items":[]})", r));
    EXPECT_FALSE(parseBulkResponse(R"({"errors":true,"items":{}})", r));
}

TEST(ElasticsearchOutputTest, HostUrls) {
    std::string err;
    auto u = parseHostUrl("127.0.0.1", "", "", err);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->base(), "http://127.0.0.1:9200");
    u = parseHostUrl("es:9201", "https", "/pre/", err);
    EXPECT_EQ(u->base(), "https://es:9201/pre");
    u = parseHostUrl("http://user:pw@[::1]:9300/x", "", "/ignored", err);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->base(), "http://[::1]:9300/x");
    EXPECT_EQ(u->username, "user");
    EXPECT_EQ(u->password, "pw");
    EXPECT_FALSE(parseHostUrl("ftp://x", "", "", err));
    EXPECT_FALSE(parseHostUrl("host:99999", "", "", err));
    EXPECT_FALSE(parseHostUrl("[::1", "", "", err));
}

// ---------------------------------------------------------------------------------------
// Against the peer

/// es_peer.py as a subprocess, killed at the end of the test.
class Peer {
public:
    explicit Peer(std::vector<std::string> args, const std::string& out = "") {
        std::vector<std::string> argv = {"python3", kPeer.string(), "--port", "0"};
        if (!out.empty()) {
            argv.insert(argv.end(), {"--out", out});
        }
        argv.insert(argv.end(), args.begin(), args.end());
        int fds[2];
        if (pipe(fds) != 0) {
            return;
        }
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], 1);
            ::close(fds[0]);
            ::close(fds[1]);
            std::vector<char*> cargs;
            for (std::string& a : argv) {
                cargs.push_back(a.data());
            }
            cargs.push_back(nullptr);
            execvp("python3", cargs.data());
            _exit(127);
        }
        ::close(fds[1]);
        // The first line names the port; bounded by a poll-free read with a deadline.
        std::string line;
        char c = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline && ::read(fds[0], &c, 1) == 1 &&
               c != '\n') {
            line.push_back(c);
        }
        ::close(fds[0]);
        const size_t colon = line.rfind(':');
        if (colon != std::string::npos) {
            port_ = std::stoi(line.substr(colon + 1));
        }
    }
    ~Peer() { stop(); }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    void stop() {
        if (pid_ <= 0) {
            return;
        }
        kill(pid_, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

    /// POST /_peer/fault with a JSON body.
    void fault(const std::string& json) const { request("/_peer/fault", &json); }
    rapidjson::Document stats() const {
        rapidjson::Document d;
        const std::string body = request("/_peer/stats", nullptr);
        d.Parse(body.c_str());
        return d;
    }

private:
    std::string request(const std::string& path, const std::string* body) const {
        std::string answer;
        CURL* c = curl_easy_init();
        const std::string url = "http://" + host() + path;
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        if (body != nullptr) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->c_str());
        }
        curl_easy_setopt(
            c, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
                static_cast<std::string*>(u)->append(d, s * n);
                return s * n;
            });
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        EXPECT_EQ(curl_easy_perform(c), CURLE_OK) << url;
        curl_easy_cleanup(c);
        return answer;
    }

    pid_t pid_ = -1;
    int port_ = 0;
};

/// A batch that records the one signal it gets.
class FakeBatch final : public Batch {
public:
    enum class Signal { None, Ack, Drop, Retry, RetryEvents, Cancel };
    struct Record {
        Signal signal = Signal::None;
        int signals = 0;
        std::vector<uint32_t> indices;
        uint32_t dropped = 0;
    };
    FakeBatch(std::vector<encode::EncodedEvent> events, Record* record)
        : events_(std::move(events)), record_(record) {}
    std::span<const encode::EncodedEvent> events() const override { return events_; }
    void ack() override { set(Signal::Ack); }
    void drop() override { set(Signal::Drop); }
    void retry() override { set(Signal::Retry); }
    void retryEvents(std::vector<uint32_t> indices, uint32_t dropped) override {
        set(Signal::RetryEvents);
        record_->indices = std::move(indices);
        record_->dropped = dropped;
    }
    void cancel() override { set(Signal::Cancel); }

private:
    void set(Signal s) {
        record_->signal = s;
        ++record_->signals;
    }
    std::vector<encode::EncodedEvent> events_;
    Record* record_;
};

// 2024-03-05T07:08:09.123Z
constexpr core::TimestampNs kTs = 1709622489123000000LL;

encode::EncodedEvent event(const std::string& message, const std::string& meta_extra = "",
                           const std::string& fields = "") {
    encode::EncodedEvent e;
    e.json = R"({"@timestamp":"2024-03-05T07:08:09.123Z","@metadata":{"beat":"sipbeat",)"
             R"("type":"_doc","version":"0.1.0")" +
             meta_extra + R"(},"agent":{"version":"0.1.0"},"message":")" + message + "\"" + fields +
             "}";
    e.timestamp = kTs;
    return e;
}

std::vector<encode::EncodedEvent> events(int n) {
    std::vector<encode::EncodedEvent> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(event("m" + std::to_string(i)));
    }
    return out;
}

/// output.elasticsearch built from YAML.
struct Output {
    explicit Output(const std::string& yaml, const std::string& version = "0.1.0") {
        ElasticsearchFactory factory;
        auto spec = std::make_shared<config::Spec>(
            config::object({{"output", config::object({{"elasticsearch", factory.schema()}})}}));
        config::Node root = config::parseYaml(yaml, "sipbeat.yml");
        config::validate(root, *spec);
        config::Config cfg(std::move(root), spec);
        OutputContext ctx;
        ctx.version = version;
        ctx.metrics = &metrics;
        core::Result<Group> g = factory.create(ctx, cfg, "output.elasticsearch");
        if (!g) {
            error = g.status().message();
            return;
        }
        group = std::move(g).value();
    }
    Client& client(size_t i = 0) { return *group.clients.at(i); }
    FakeBatch::Record publish(std::vector<encode::EncodedEvent> evs, core::Status* st = nullptr,
                              size_t i = 0) {
        FakeBatch::Record rec;
        core::Status s = client(i).publish(std::make_unique<FakeBatch>(std::move(evs), &rec));
        if (st != nullptr) {
            *st = s;
        }
        return rec;
    }
    uint64_t counter(const std::string& name) { return metrics.counter(name).get(); }

    monitoring::Registry metrics;
    Group group;
    std::string error;
};

std::string outputYaml(const Peer& peer, const std::string& extra = "") {
    return "output.elasticsearch:\n  hosts: ['" + peer.host() + "']\n" + extra;
}

/// The documents the peer accepted.
std::vector<rapidjson::Document> received(const std::string& path) {
    std::vector<rapidjson::Document> out;
    for (const std::string& line : test::readLines(path)) {
        if (!line.empty()) {
            out.emplace_back();
            out.back().Parse(line.c_str());
        }
    }
    return out;
}

std::string str(const rapidjson::Value& v, const char* key) {
    auto it = v.FindMember(key);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

int64_t statOf(const rapidjson::Document& d, const char* key) {
    auto it = d.FindMember(key);
    return it != d.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

class ElasticsearchOutputPeerTest : public ::testing::Test {
protected:
    test::TempDir dir;
    std::string out = dir.path() + "/received.ndjson";
};

TEST_F(ElasticsearchOutputPeerTest, DeliversABatchExactlyWithGzip) {
    Peer peer({"--version", "8.15.0"}, out);
    ASSERT_GT(peer.port(), 0);
    Output o(outputYaml(peer));
    ASSERT_EQ(o.error, "");
    ASSERT_EQ(o.group.bulk_max_size, 1600);
    ASSERT_EQ(o.group.max_retries, 3);
    ASSERT_TRUE(o.client().connect());
    FakeBatch::Record rec = o.publish(events(3));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(rec.signals, 1);
    std::vector<rapidjson::Document> docs = received(out);
    ASSERT_EQ(docs.size(), 3u);
    for (size_t i = 0; i < docs.size(); ++i) {
        EXPECT_EQ(str(docs[i], "_index"), "sipbeat-0.1.0");
        EXPECT_EQ(str(docs[i], "op"), "create");
        const rapidjson::Value& src = docs[i]["_source"];
        EXPECT_FALSE(src.HasMember("@metadata"));
        EXPECT_EQ(str(src, "message"), "m" + std::to_string(i));
        EXPECT_EQ(str(src, "@timestamp"), "2024-03-05T07:08:09.123Z");
    }
    rapidjson::Document stats = peer.stats();
    EXPECT_EQ(statOf(stats, "gzip_requests"), 1);
    EXPECT_GT(o.counter("libbeat.output.write.bytes"), 0u);
    EXPECT_GT(o.counter("libbeat.output.read.bytes"), 0u);
    EXPECT_EQ(o.counter("libbeat.output.write.errors"), 0u);
    o.client().close();
}

TEST_F(ElasticsearchOutputPeerTest, HeadersAndParameters) {
    Peer peer({}, out);
    Output o(outputYaml(peer,
                        "  headers: {X-Extra: one, Accept: 'application/vnd+json'}\n"
                        "  parameters: {refresh: 'wait_for', a: 'b c'}\n"
                        "  path: /prefix\n"));
    ASSERT_TRUE(o.client().connect());
    EXPECT_EQ(o.publish(events(1)).signal, FakeBatch::Signal::Ack);
    rapidjson::Document stats = peer.stats();
    ASSERT_TRUE(stats.HasMember("last_bulk"));
    const rapidjson::Value& last = stats["last_bulk"];
    EXPECT_EQ(str(last, "path"),
              "/prefix/_bulk?filter_path=errors,items.*.error,items.*.status&a=b%20c&"
              "refresh=wait_for");
    const rapidjson::Value& h = last["headers"];
    EXPECT_EQ(str(h, "X-Extra"), "one");
    EXPECT_EQ(str(h, "Accept"), "application/vnd+json");
    EXPECT_EQ(str(h, "Content-Type"), "application/json; charset=UTF-8");
    EXPECT_EQ(str(h, "Content-Encoding"), "gzip");
    EXPECT_EQ(str(h, "X-Elastic-Product-Origin"), "beats");
    EXPECT_EQ(str(h, "User-Agent").rfind("Elastic-Sipbeat/0.1.0 (linux; ", 0), 0u)
        << str(h, "User-Agent");
}

TEST_F(ElasticsearchOutputPeerTest, NoCompressionAtLevelZero) {
    Peer peer({}, out);
    Output o(outputYaml(peer, "  compression_level: 0\n"));
    ASSERT_TRUE(o.client().connect());
    EXPECT_EQ(o.publish(events(2)).signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(statOf(peer.stats(), "gzip_requests"), 0);
    EXPECT_EQ(received(out).size(), 2u);
}

TEST_F(ElasticsearchOutputPeerTest, BasicAndApiKeyAuth) {
    Peer peer({"--user", "elastic", "--password", "changeme", "--api-key", "id1:secret"}, out);
    {
        Output none(outputYaml(peer));
        core::Status st = none.client().connect();
        EXPECT_FALSE(st);
        EXPECT_NE(st.message().find("401"), std::string::npos) << st.message();
    }
    {
        Output wrong(outputYaml(peer, "  username: elastic\n  password: nope\n"));
        EXPECT_FALSE(wrong.client().connect());
    }
    {
        Output basic(outputYaml(peer, "  username: elastic\n  password: changeme\n"));
        ASSERT_TRUE(basic.client().connect());
        EXPECT_EQ(basic.publish(events(1)).signal, FakeBatch::Signal::Ack);
    }
    {
        Output url("output.elasticsearch:\n  hosts: ['http://elastic:changeme@" + peer.host() +
                   "']\n");
        EXPECT_TRUE(url.client().connect());
    }
    {
        Output key(outputYaml(peer, "  api_key: 'id1:secret'\n"));
        ASSERT_TRUE(key.client().connect());
        EXPECT_EQ(key.publish(events(1)).signal, FakeBatch::Signal::Ack);
    }
    EXPECT_EQ(received(out).size(), 2u);
}

TEST_F(ElasticsearchOutputPeerTest, PerItemOutcomes) {
    Peer peer({}, out);
    Output o(outputYaml(peer));
    ASSERT_TRUE(o.client().connect());

    peer.fault(R"({"item_status":[409,1]})");
    FakeBatch::Record rec = o.publish(events(3));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::Ack);  // a duplicate is done, not retried
    EXPECT_EQ(o.counter("libbeat.output.events.duplicates"), 1u);

    peer.fault(R"({"item_status":[429,1]})");
    rec = o.publish(events(3));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::RetryEvents);
    EXPECT_EQ(rec.indices, std::vector<uint32_t>{0});
    EXPECT_EQ(rec.dropped, 0u);
    EXPECT_EQ(o.counter("libbeat.output.events.toomany"), 1u);

    peer.fault(R"({"item_status":[500,2]})");
    rec = o.publish(events(3));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::RetryEvents);
    EXPECT_EQ(rec.indices, (std::vector<uint32_t>{0, 1}));

    peer.fault(R"({"item_status":[400,1]})");
    rec = o.publish(events(3));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::RetryEvents);
    EXPECT_TRUE(rec.indices.empty());
    EXPECT_EQ(rec.dropped, 1u);

    peer.fault(R"({"item_status":[500,3]})");
    EXPECT_EQ(o.publish(events(3)).signal, FakeBatch::Signal::Retry);
    // 2 + 2 + 1 + 2 accepted.
    EXPECT_EQ(received(out).size(), 7u);
}

TEST_F(ElasticsearchOutputPeerTest, NonIndexableGoesToTheDeadLetterIndex) {
    Peer peer({}, out);
    Output o(outputYaml(peer, "  non_indexable_policy.dead_letter_index.index: Dead-Letters\n"));
    ASSERT_TRUE(o.client().connect());
    peer.fault(R"({"item_status":[400,1]})");
    FakeBatch::Record rec = o.publish(events(2));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(o.counter("libbeat.output.events.dead_letter"), 1u);
    std::vector<rapidjson::Document> docs = received(out);
    ASSERT_EQ(docs.size(), 2u);
    const rapidjson::Document& dead = str(docs[0], "_index") == "dead-letters" ? docs[0] : docs[1];
    ASSERT_EQ(str(dead, "_index"), "dead-letters");
    const rapidjson::Value& src = dead["_source"];
    EXPECT_EQ(str(src, "@timestamp"), "2024-03-05T07:08:09.123Z");
    EXPECT_EQ(src["error.type"].GetInt(), 400);
    rapidjson::Document original;
    original.Parse(str(src, "message").c_str());
    ASSERT_TRUE(original.IsObject());
    EXPECT_EQ(str(original, "message"), "m0");
    rapidjson::Document error;
    error.Parse(str(src, "error.message").c_str());
    ASSERT_TRUE(error.IsObject());
    EXPECT_EQ(str(error, "type"), "document_parsing_exception");
}

TEST_F(ElasticsearchOutputPeerTest, TooLargeBatchIsSplitAndTooLargeEventDropped) {
    // Each item is 122 bytes: 4 do not fit in 300, 2 do.
    Peer peer({"--max-body", "300"}, out);
    Output o(outputYaml(peer));
    ASSERT_TRUE(o.client().connect());
    FakeBatch::Record rec = o.publish(events(4));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(received(out).size(), 4u);
    EXPECT_EQ(statOf(peer.stats(), "bulk_requests"), 3);

    std::vector<encode::EncodedEvent> big = events(1);
    big.push_back(event(std::string(600, 'x')));
    rec = o.publish(std::move(big));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::RetryEvents);
    EXPECT_TRUE(rec.indices.empty());
    EXPECT_EQ(rec.dropped, 1u);
    EXPECT_EQ(received(out).size(), 5u);
}

TEST_F(ElasticsearchOutputPeerTest, WholeRequestErrorRetriesAll) {
    Peer peer({}, out);
    Output o(outputYaml(peer));
    ASSERT_TRUE(o.client().connect());
    peer.fault(R"({"request_status":[503,1]})");
    core::Status st;
    FakeBatch::Record rec = o.publish(events(2), &st);
    EXPECT_EQ(rec.signal, FakeBatch::Signal::Retry);
    EXPECT_TRUE(st);  // the connection itself is fine
    EXPECT_EQ(o.publish(events(2)).signal, FakeBatch::Signal::Ack);
}

TEST_F(ElasticsearchOutputPeerTest, StallTimesOutAndRetries) {
    Peer peer({}, out);
    Output o(outputYaml(peer, "  timeout: 1s\n"));
    ASSERT_TRUE(o.client().connect());
    peer.fault(R"({"stall":3})");
    core::Status st;
    const auto start = std::chrono::steady_clock::now();
    FakeBatch::Record rec = o.publish(events(2), &st);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2900));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::Retry);
    EXPECT_FALSE(st);
    EXPECT_EQ(o.counter("libbeat.output.write.errors"), 1u);
    // The pipeline reconnects before the next batch.
    o.client().close();
    ASSERT_TRUE(o.client().connect());
    EXPECT_EQ(o.publish(events(1)).signal, FakeBatch::Signal::Ack);
}

TEST_F(ElasticsearchOutputPeerTest, GarbageAnswerRetriesAndCountsAReadError) {
    Peer peer({}, out);
    Output o(outputYaml(peer));
    ASSERT_TRUE(o.client().connect());
    peer.fault(R"({"garbage":1})");
    core::Status st;
    EXPECT_EQ(o.publish(events(2), &st).signal, FakeBatch::Signal::Retry);
    EXPECT_TRUE(st);
    EXPECT_EQ(o.counter("libbeat.output.read.errors"), 1u);
}

TEST_F(ElasticsearchOutputPeerTest, VersionChecks) {
    {
        Peer peer({"--version", "6.8.0"}, out);
        Output o(outputYaml(peer));
        core::Status st = o.client().connect();
        EXPECT_FALSE(st);
        EXPECT_NE(st.message().find("6.8.0"), std::string::npos) << st.message();
    }
    {
        Peer peer({"--version", "8.15.0"}, out);
        Output older(outputYaml(peer, "  allow_older_versions: false\n"), "9.0.0");
        core::Status st = older.client().connect();
        EXPECT_FALSE(st);
        EXPECT_NE(st.message().find("Elasticsearch is too old"), std::string::npos) << st.message();
        Output allowed(outputYaml(peer), "9.0.0");
        EXPECT_TRUE(allowed.client().connect());
        Output same(outputYaml(peer, "  allow_older_versions: false\n"), "8.15.0");
        EXPECT_TRUE(same.client().connect());
    }
    {
        // ES 7.4: `index` action; ES 6 refused; `_type` only below 7 (not reachable).
        Peer peer({"--version", "7.4.0"}, out);
        Output o(outputYaml(peer));
        ASSERT_TRUE(o.client().connect());
        EXPECT_EQ(o.publish(events(1)).signal, FakeBatch::Signal::Ack);
        std::vector<rapidjson::Document> docs = received(out);
        ASSERT_EQ(docs.size(), 1u);
        EXPECT_EQ(str(docs[0], "op"), "index");
    }
}

TEST_F(ElasticsearchOutputPeerTest, IndexFormatStringsRulesAndDrops) {
    Peer peer({}, out);
    Output o(outputYaml(peer,
                        "  index: 'Calls-%{[sip.method]}-%{+yyyy.MM.dd}'\n"
                        "  indices:\n"
                        "    - index: 'errors-%{[agent.version]}'\n"
                        "      when.equals: {sip.method: BYE}\n"));
    ASSERT_EQ(o.error, "");
    ASSERT_TRUE(o.client().connect());
    std::vector<encode::EncodedEvent> evs;
    evs.push_back(event("a", "", R"(,"sip":{"method":"INVITE"})"));
    evs.push_back(event("b", "", R"(,"sip":{"method":"BYE"})"));
    evs.push_back(event("c"));  // no sip.method: no index, dropped
    FakeBatch::Record rec = o.publish(std::move(evs));
    EXPECT_EQ(rec.signal, FakeBatch::Signal::RetryEvents);
    EXPECT_TRUE(rec.indices.empty());
    EXPECT_EQ(rec.dropped, 1u);
    std::vector<rapidjson::Document> docs = received(out);
    ASSERT_EQ(docs.size(), 2u);
    EXPECT_EQ(str(docs[0], "_index"), "calls-invite-2024.03.05");
    EXPECT_EQ(str(docs[1], "_index"), "errors-0.1.0");
}

TEST_F(ElasticsearchOutputPeerTest, MetadataOverridesAndPipelines) {
    Peer peer({}, out);
    Output o(outputYaml(peer, "  pipeline: 'Pipe-%{[message]}'\n"));
    ASSERT_TRUE(o.client().connect());
    std::vector<encode::EncodedEvent> evs;
    evs.push_back(event("a", R"(,"index":"My-Index")"));
    evs.push_back(event("b", R"(,"raw_index":"Raw-Index","pipeline":"Other")"));
    evs.push_back(event("c", R"(,"_id":"doc-1","op_type":"index")"));
    evs.push_back(event("d", R"(,"_id":"doc-2")"));
    EXPECT_EQ(o.publish(std::move(evs)).signal, FakeBatch::Signal::Ack);
    std::vector<rapidjson::Document> docs = received(out);
    ASSERT_EQ(docs.size(), 4u);
    EXPECT_EQ(str(docs[0], "_index"), "my-index");
    EXPECT_EQ(str(docs[0], "pipeline"), "pipe-a");
    EXPECT_EQ(str(docs[1], "_index"), "Raw-Index");
    EXPECT_EQ(str(docs[1], "pipeline"), "other");
    EXPECT_EQ(str(docs[2], "_id"), "doc-1");
    EXPECT_EQ(str(docs[2], "op"), "index");
    EXPECT_EQ(str(docs[3], "op"), "create");
    // The same _id created again is a duplicate (409), not an error.
    std::vector<encode::EncodedEvent> again;
    again.push_back(event("d", R"(,"_id":"doc-2")"));
    EXPECT_EQ(o.publish(std::move(again)).signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(o.counter("libbeat.output.events.duplicates"), 1u);
}

std::string tlsYaml(const Peer& peer, const std::string& ca, const std::string& mode) {
    return "output.elasticsearch:\n  hosts: ['https://" + peer.host() +
           "']\n  timeout: 5s\n  ssl.certificate_authorities: ['" + (kCerts / ca).string() +
           "']\n  ssl.verification_mode: " + mode + "\n";
}

TEST_F(ElasticsearchOutputPeerTest, TlsWithTheTestCa) {
    Peer peer({"--tls-cert", (kCerts / "server.crt").string(), "--tls-key",
               (kCerts / "server.key").string()},
              out);
    {
        Output full(tlsYaml(peer, "ca.crt", "full"));
        ASSERT_EQ(full.error, "");
        ASSERT_TRUE(full.client().connect());
        EXPECT_EQ(full.publish(events(1)).signal, FakeBatch::Signal::Ack);
    }
    {
        Output none(tlsYaml(peer, "other-ca.crt", "none"));
        EXPECT_TRUE(none.client().connect());
    }
    {
        Output wrong(tlsYaml(peer, "other-ca.crt", "full"));
        EXPECT_FALSE(wrong.client().connect());
    }
    {
        // An ssl section makes bare hosts https.
        Output bare("output.elasticsearch:\n  hosts: ['" + peer.host() +
                    "']\n  ssl.certificate_authorities: ['" + (kCerts / "ca.crt").string() +
                    "']\n");
        EXPECT_TRUE(bare.client().connect());
    }
    EXPECT_EQ(received(out).size(), 1u);
}

/// SHA-256 of a PEM certificate file, lower-case hex (what ssl.ca_trusted_fingerprint takes).
std::string fingerprintOf(const std::filesystem::path& pem) {
    FILE* f = std::fopen(pem.c_str(), "r");
    if (f == nullptr) {
        return "";
    }
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (cert == nullptr) {
        return "";
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(cert, EVP_sha256(), md, &len);
    X509_free(cert);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back("0123456789abcdef"[md[i] >> 4]);
        hex.push_back("0123456789abcdef"[md[i] & 15]);
    }
    return hex;
}

TEST_F(ElasticsearchOutputPeerTest, CaTrustedFingerprintTrustsThePresentedCa) {
    // The server presents its certificate and the test CA; no certificate_authorities is
    // configured, only the CA's fingerprint (libbeat: ssl.ca_trusted_fingerprint).
    const std::string chain = dir.path() + "/chain.crt";
    {
        std::ofstream c(chain);
        for (const char* part : {"server.crt", "ca.crt"}) {
            std::ifstream in(kCerts / part);
            c << in.rdbuf();
        }
    }
    Peer peer({"--tls-cert", chain, "--tls-key", (kCerts / "server.key").string()}, out);
    const auto yaml = [&](const std::string& extra) {
        return "output.elasticsearch:\n  hosts: ['https://" + peer.host() + "']\n  timeout: 5s\n" +
               extra;
    };
    const std::string pin = fingerprintOf(kCerts / "ca.crt");
    ASSERT_EQ(pin.size(), 64u);
    {
        Output pinned(yaml("  ssl.ca_trusted_fingerprint: '" + pin + "'\n"));
        ASSERT_EQ(pinned.error, "");
        ASSERT_TRUE(pinned.client().connect());
        EXPECT_EQ(pinned.publish(events(1)).signal, FakeBatch::Signal::Ack);
    }
    {
        Output other(yaml("  ssl.ca_trusted_fingerprint: '" +
                          fingerprintOf(kCerts / "other-ca.crt") + "'\n"));
        ASSERT_EQ(other.error, "");
        EXPECT_FALSE(other.client().connect());
    }
    {
        Output unpinned(yaml("  ssl.verification_mode: full\n"));
        ASSERT_EQ(unpinned.error, "");
        EXPECT_FALSE(unpinned.client().connect());  // the test CA is no system CA
    }
    EXPECT_EQ(received(out).size(), 1u);
}

TEST(ElasticsearchOutputTest, PresetsOverrideTheirKeysAndTheMemoryQueue) {
    // libbeat's config_presets.go: the preset's values win over the user's.
    Output throughput(
        "output.elasticsearch:\n  hosts: ['127.0.0.1:9200']\n  preset: throughput\n"
        "  worker: 2\n  bulk_max_size: 10\n");
    ASSERT_EQ(throughput.error, "");
    EXPECT_EQ(throughput.group.clients.size(), 4u);
    EXPECT_EQ(throughput.group.bulk_max_size, 1600);
    ASSERT_TRUE(throughput.group.mem_queue.has_value());
    EXPECT_EQ(throughput.group.mem_queue->events, 12800);
    EXPECT_EQ(throughput.group.mem_queue->flush_min_events, 1600);
    EXPECT_EQ(throughput.group.mem_queue->flush_timeout_ns, 5'000'000'000);

    Output latency("output.elasticsearch:\n  hosts: ['127.0.0.1:9200']\n  preset: latency\n");
    ASSERT_EQ(latency.error, "");
    EXPECT_EQ(latency.group.bulk_max_size, 50);
    EXPECT_EQ(latency.group.mem_queue->events, 4100);
    EXPECT_EQ(latency.group.mem_queue->flush_timeout_ns, 1'000'000'000);

    Output custom("output.elasticsearch:\n  hosts: ['127.0.0.1:9200']\n  worker: 2\n");
    ASSERT_EQ(custom.error, "");
    EXPECT_EQ(custom.group.clients.size(), 2u);
    EXPECT_FALSE(custom.group.mem_queue.has_value());  // the configured queue stays
}

int unusedPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

TEST_F(ElasticsearchOutputPeerTest, FailoverWithoutLoadBalancing) {
    Peer first({}, out);
    Peer second({}, out);
    const std::string dead = "127.0.0.1:" + std::to_string(unusedPort());
    Output o("output.elasticsearch:\n  hosts: ['" + dead + "', '" + first.host() + "', '" +
             second.host() + "']\n  loadbalance: false\n");
    ASSERT_EQ(o.group.clients.size(), 1u);
    ASSERT_TRUE(o.client().connect());
    EXPECT_EQ(o.publish(events(1)).signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(statOf(first.stats(), "accepted"), 1);
    first.stop();
    core::Status st;
    EXPECT_EQ(o.publish(events(1), &st).signal, FakeBatch::Signal::Retry);
    EXPECT_FALSE(st);
    o.client().close();
    ASSERT_TRUE(o.client().connect());
    EXPECT_EQ(o.publish(events(1)).signal, FakeBatch::Signal::Ack);
    EXPECT_EQ(statOf(second.stats(), "accepted"), 1);

    Output lb("output.elasticsearch:\n  hosts: ['" + dead + "', '" + second.host() +
              "']\n  worker: 2\n");
    EXPECT_EQ(lb.group.clients.size(), 4u);
}

TEST_F(ElasticsearchOutputPeerTest, TestOutputTranscript) {
    Peer peer({"--version", "8.15.0"}, out);
    Output o(outputYaml(peer));
    std::ostringstream text;
    ConsoleTestDriver driver(text);
    o.client().test(driver);
    EXPECT_FALSE(driver.failed()) << text.str();
    const std::string t = text.str();
    EXPECT_NE(t.find("elasticsearch: http://" + peer.host() + "...\n"), std::string::npos) << t;
    for (const char* line : {"  parse url... OK\n", "  connection...\n", "    parse host... OK\n",
                             "    dns lookup... OK\n", "    addresses: 127.0.0.1\n",
                             "    dial up... OK\n", "  TLS... WARN secure connection disabled\n",
                             "  talk to server... OK\n", "  version: 8.15.0\n"}) {
        EXPECT_NE(t.find(line), std::string::npos) << line << " in:\n" << t;
    }
    peer.stop();
    std::ostringstream failed_text;
    ConsoleTestDriver failed(failed_text);
    o.client().test(failed);
    EXPECT_TRUE(failed.failed());
    EXPECT_NE(failed_text.str().find("    dial up... ERROR"), std::string::npos)
        << failed_text.str();
}

TEST_F(ElasticsearchOutputPeerTest, TlsTranscriptAndConfigErrors) {
    Peer peer({"--tls-cert", (kCerts / "server.crt").string(), "--tls-key",
               (kCerts / "server.key").string()},
              out);
    Output o(tlsYaml(peer, "ca.crt", "full"));
    std::ostringstream text;
    ConsoleTestDriver driver(text);
    o.client().test(driver);
    EXPECT_FALSE(driver.failed()) << text.str();
    EXPECT_NE(text.str().find("    handshake... OK\n"), std::string::npos) << text.str();

    Output kerberos("output.elasticsearch:\n  kerberos.auth_type: password\n");
    EXPECT_NE(kerberos.error.find("output.elasticsearch.kerberos"), std::string::npos)
        << kerberos.error;
    Output bad_host("output.elasticsearch:\n  hosts: ['ftp://x']\n");
    EXPECT_NE(bad_host.error.find("output.elasticsearch.hosts"), std::string::npos);
    EXPECT_NE(bad_host.error.find("sipbeat.yml"), std::string::npos) << bad_host.error;
}

}  // namespace
}  // namespace sipbeat::outputs::elasticsearch
