// SPDX-License-Identifier: Apache-2.0
// output.logstash: the Lumberjack v2 framing byte by byte, the ACK reader, and the
// client end to end against tests/peers/lumberjack_peer.py (started per test on
// 127.0.0.1, faults ordered by option or on its stdin).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <zlib.h>

#include "beat/config/node.h"
#include "beat/pipeline/pipeline.h"
#include "outputs/common/test_driver.h"
#include "outputs/logstash/logstash_output.h"
#include "outputs/logstash/lumberjack.h"
#include "outputs/logstash/transport.h"
#include "unit/test_util.h"

#include <spawn.h>

extern char** environ;

namespace sipbeat::outputs::logstash {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

const std::filesystem::path kPeers = std::filesystem::path(__FILE__).parent_path() / "../../peers";
const std::string kCerts = (kPeers / "certs-ls").lexically_normal().string();

// ---------------------------------------------------------------------------------------
// Helpers

/// The lumberjack peer as a child process: its port from the first stdout line, faults
/// switched on its stdin, stopped (SIGTERM, then SIGKILL) when the object goes away.
class Peer {
public:
    explicit Peer(std::vector<std::string> args, uint16_t fixed_port = 0) {
        args.insert(args.begin(), {"python3", (kPeers / "lumberjack_peer.py").string(), "--port",
                                   std::to_string(fixed_port)});
        int in[2];
        int out[2];
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
            ADD_FAILURE() << "pipe";
            return;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (posix_spawnp(&pid_, "python3", &fa, nullptr, argv.data(), environ) != 0) {
            pid_ = -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        while (line.find('\n') == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd p{stdout_, POLLIN, 0};
            if (::poll(&p, 1, 200) > 0) {
                char c = 0;
                if (::read(stdout_, &c, 1) != 1) {
                    break;
                }
                line.push_back(c);
            }
        }
        const size_t colon = line.rfind(':');
        if (line.rfind("listening on ", 0) != 0 || colon == std::string::npos) {
            ADD_FAILURE() << "peer did not start: " << line;
            return;
        }
        port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    }
    ~Peer() { stop(); }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    void control(const std::string& line) {
        const std::string l = line + "\n";
        ASSERT_EQ(::write(stdin_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
        std::this_thread::sleep_for(200ms);  // read by the peer's control thread
    }

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
                std::this_thread::sleep_for(50ms);
            }
            if (::waitpid(pid_, &status, WNOHANG) == 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
            pid_ = -1;
        }
        for (int* fd : {&stdin_, &stdout_}) {
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
        }
    }

    std::string host() const { return "127.0.0.1:" + std::to_string(port); }
    uint16_t port = 0;

private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
};

/// What a client said about one batch.
struct Signals {
    std::mutex mutex;
    std::condition_variable cv;
    std::string kind;  ///< "", ack, drop, retry, retryEvents, cancel
    std::vector<uint32_t> indices;
    int count = 0;

    void set(std::string k, std::vector<uint32_t> idx = {}) {
        std::lock_guard lock(mutex);
        kind = std::move(k);
        indices = std::move(idx);
        ++count;
        cv.notify_all();
    }
    /// The signal, waiting up to `limit` for it ("" when none came).
    std::string wait(std::chrono::milliseconds limit = 10s) {
        std::unique_lock lock(mutex);
        cv.wait_for(lock, limit, [&] { return count > 0; });
        return kind;
    }
    std::string now() {
        std::lock_guard lock(mutex);
        return kind;
    }
};

class FakeBatch final : public Batch {
public:
    FakeBatch(std::vector<encode::EncodedEvent> events, std::shared_ptr<Signals> signals)
        : events_(std::move(events)), signals_(std::move(signals)) {}
    std::span<const encode::EncodedEvent> events() const override { return events_; }
    void ack() override { signals_->set("ack"); }
    void drop() override { signals_->set("drop"); }
    void retry() override { signals_->set("retry"); }
    void retryEvents(std::vector<uint32_t> indices, uint32_t dropped) override {
        EXPECT_EQ(dropped, 0u);
        signals_->set("retryEvents", std::move(indices));
    }
    void cancel() override { signals_->set("cancel"); }

private:
    std::vector<encode::EncodedEvent> events_;
    std::shared_ptr<Signals> signals_;
};

std::string eventJson(int n, const std::string& beat = "sipbeat") {
    return "{\"@timestamp\":\"2026-12-07T04:00:00.000Z\",\"@metadata\":{\"beat\":\"" + beat +
           "\",\"type\":\"_doc\",\"version\":\"0.1.0\"},\"n\":" + std::to_string(n) + "}";
}

std::vector<encode::EncodedEvent> makeEvents(int first, int count) {
    std::vector<encode::EncodedEvent> out;
    for (int i = first; i < first + count; ++i) {
        encode::EncodedEvent e;
        e.json = eventJson(i);
        out.push_back(std::move(e));
    }
    return out;
}

/// Publishes `events` on `client`; returns the signals to wait on.
std::shared_ptr<Signals> send(Client& client, std::vector<encode::EncodedEvent> events,
                              core::Status* publish_status = nullptr) {
    auto signals = std::make_shared<Signals>();
    core::Status st = client.publish(std::make_unique<FakeBatch>(std::move(events), signals));
    if (publish_status != nullptr) {
        *publish_status = st;
    }
    return signals;
}

/// output.logstash built from YAML.
struct Output {
    explicit Output(const std::string& yaml, const std::string& beat = "sipbeat") {
        Registry reg;
        reg.add(std::make_unique<LogstashFactory>());
        auto spec = std::make_shared<config::Spec>(config::object({{"output", reg.schema()}}));
        config::Node root = config::parseYaml(yaml, "test.yml");
        config::validate(root, *spec);
        cfg = std::make_unique<config::Config>(std::move(root), spec);
        OutputContext ctx;
        ctx.beat = beat;
        ctx.metrics = &metrics;
        auto g = reg.find("logstash")->create(ctx, *cfg, "output.logstash");
        if (!g) {
            error = g.status().message();
            return;
        }
        group = std::move(g).value();
    }
    Client& client(size_t i = 0) { return *group.clients.at(i); }
    uint64_t counter(const std::string& name) { return metrics.counter(name).get(); }

    monitoring::Registry metrics;
    std::unique_ptr<config::Config> cfg;
    Group group;
    std::string error;
};

std::string yamlFor(const std::vector<std::string>& hosts, const std::string& extra = "") {
    std::string h;
    for (const auto& x : hosts) {
        h += (h.empty() ? "" : ", ") + ("'" + x + "'");
    }
    return "output.logstash:\n  hosts: [" + h + "]\n  timeout: 3s\n" + extra;
}

std::vector<std::string> lines(const std::string& path) {
    return test::readLines(path);
}

/// The `n` of each JSON line of the peer's --out file.
std::vector<int> numbers(const std::string& path) {
    std::vector<int> out;
    for (const std::string& l : lines(path)) {
        rapidjson::Document d;
        d.Parse(l.c_str());
        out.push_back(d.HasMember("n") ? d["n"].GetInt() : -1);
    }
    return out;
}

std::vector<int> range(int first, int count) {
    std::vector<int> v;
    for (int i = first; i < first + count; ++i) {
        v.push_back(i);
    }
    return v;
}

std::vector<uint32_t> urange(uint32_t first, uint32_t end) {
    std::vector<uint32_t> v;
    for (uint32_t i = first; i < end; ++i) {
        v.push_back(i);
    }
    return v;
}

std::string frameJ(uint32_t seq, const std::string& payload) {
    std::string f = "2J";
    appendU32(f, seq);
    appendU32(f, static_cast<uint32_t>(payload.size()));
    return f + payload;
}

std::vector<uint8_t> ack(uint32_t seq) {
    std::string s = "2A";
    appendU32(s, seq);
    return {s.begin(), s.end()};
}

// ---------------------------------------------------------------------------------------
// Protocol

TEST(LogstashOutputTest, EncodesAnUncompressedWindowByteForByte) {
    WindowEncoder enc(0);
    enc.begin(2);
    enc.add("{\"a\":1}");
    enc.add("{}");
    ASSERT_TRUE(enc.finish());
    const std::string expected(
        "2W\0\0\0\2"
        "2J\0\0\0\1\0\0\0\7{\"a\":1}"
        "2J\0\0\0\2\0\0\0\2{}",
        6 + 17 + 12);
    EXPECT_EQ(enc.bytes(), expected);
    // Reused for the next window: sequence numbers restart at 1.
    enc.begin(1);
    enc.add("x");
    ASSERT_TRUE(enc.finish());
    EXPECT_EQ(enc.bytes(), std::string("2W\0\0\0\1"
                                       "2J\0\0\0\1\0\0\0\1x",
                                       17));
}

TEST(LogstashOutputTest, EncodesACompressedWindowWithItsLengthBackPatched) {
    WindowEncoder enc(3);
    const std::string frames = frameJ(1, "{\"a\":1}") + frameJ(2, "{\"b\":\"xyz\"}");
    for (int round = 0; round < 2; ++round) {  // the zlib stream is reset between windows
        enc.begin(2);
        enc.add("{\"a\":1}");
        enc.add("{\"b\":\"xyz\"}");
        ASSERT_TRUE(enc.finish());
        const std::string& b = enc.bytes();
        ASSERT_GT(b.size(), 12u);
        EXPECT_EQ(b.substr(0, 8), std::string("2W\0\0\0\2"
                                              "2C",
                                              8));
        const uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(b[8])) << 24) |
                             (static_cast<uint32_t>(static_cast<uint8_t>(b[9])) << 16) |
                             (static_cast<uint32_t>(static_cast<uint8_t>(b[10])) << 8) |
                             static_cast<uint32_t>(static_cast<uint8_t>(b[11]));
        EXPECT_EQ(len, b.size() - 12);
        // Exactly what zlib's one-shot compress2 at level 3 makes of the J frames.
        std::string expected(compressBound(frames.size()), '\0');
        uLongf out_len = expected.size();
        ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(expected.data()), &out_len,
                            reinterpret_cast<const Bytef*>(frames.data()), frames.size(), 3),
                  Z_OK);
        expected.resize(out_len);
        EXPECT_EQ(b.substr(12), expected);
        std::vector<DecodedWindow> decoded;
        ASSERT_TRUE(decodeWindows(b, decoded));
        ASSERT_EQ(decoded.size(), 1u);
        EXPECT_EQ(decoded[0].count, 2u);
        ASSERT_EQ(decoded[0].events.size(), 2u);
        EXPECT_EQ(decoded[0].events[1], std::make_pair(2u, std::string("{\"b\":\"xyz\"}")));
    }
}

TEST(LogstashOutputTest, AckReaderFollowsKeepalivesPartialAndFinalAcksInAnyPieces) {
    AckReader r;
    r.expect(5);
    r.expect(2);
    std::vector<uint8_t> bytes;
    for (uint32_t seq : {0u, 3u, 0u, 5u, 2u}) {
        auto a = ack(seq);
        bytes.insert(bytes.end(), a.begin(), a.end());
    }
    std::vector<AckReader::Ack> all;
    std::vector<AckReader::Ack> some;
    // One byte at a time: frames split anywhere are put together.
    for (uint8_t b : bytes) {
        ASSERT_TRUE(r.feed({&b, 1}, some));
        all.insert(all.end(), some.begin(), some.end());
        if (all.size() == 2) {
            EXPECT_EQ(r.headAcked(), 3u);
        }
    }
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].kind, AckReader::Kind::Keepalive);
    EXPECT_EQ(all[1].kind, AckReader::Kind::Partial);
    EXPECT_EQ(all[1].seq, 3u);
    EXPECT_EQ(all[2].kind, AckReader::Kind::Keepalive);
    EXPECT_EQ(all[3].kind, AckReader::Kind::Complete);
    EXPECT_EQ(all[3].count, 5u);
    EXPECT_EQ(all[4].kind, AckReader::Kind::Complete);
    EXPECT_EQ(all[4].count, 2u);
    EXPECT_EQ(r.outstanding(), 0u);
    // A keepalive with nothing outstanding is fine.
    auto k = ack(0);
    EXPECT_TRUE(r.feed(k, some));
}

TEST(LogstashOutputTest, AckReaderRefusesBadSequenceGarbageAndUnexpectedAcks) {
    std::vector<AckReader::Ack> acks;
    {
        AckReader r;
        r.expect(3);
        auto a = ack(4);
        core::Status st = r.feed(a, acks);
        ASSERT_FALSE(st);
        EXPECT_EQ(st.message(), "invalid sequence number received (seq=4, expected=3)");
        EXPECT_TRUE(r.failed());
        auto good = ack(3);
        EXPECT_FALSE(r.feed(good, acks));  // stays failed
        r.reset();
        r.expect(3);
        EXPECT_TRUE(r.feed(good, acks));
    }
    {
        AckReader r;
        r.expect(3);
        const std::string junk = "HTTP/1.1 400";
        core::Status st =
            r.feed({reinterpret_cast<const uint8_t*>(junk.data()), junk.size()}, acks);
        ASSERT_FALSE(st);
        EXPECT_NE(st.message().find("lumberjack protocol error"), std::string::npos);
    }
    {
        AckReader r;
        auto a = ack(1);
        EXPECT_FALSE(r.feed(a, acks));  // no window outstanding
    }
}

TEST(LogstashOutputTest, SlowStartWindowGrowsAsLibbeatsAndHalvesOnError) {
    SlowStartWindow w(64);
    EXPECT_EQ(w.get(), 10);
    std::vector<int32_t> sizes;
    for (int i = 0; i < 6; ++i) {
        w.grow(1000);
        sizes.push_back(w.get());
    }
    EXPECT_EQ(sizes, (std::vector<int32_t>{15, 23, 35, 53, 64, 64}));
    w.shrink();
    EXPECT_EQ(w.get(), 32);
    w.grow(1000);  // back quickly to the size that worked
    EXPECT_EQ(w.get(), 48);
    w.grow(1000);
    EXPECT_EQ(w.get(), 64);
    for (int i = 0; i < 10; ++i) {
        w.shrink();
    }
    EXPECT_EQ(w.get(), 1);
    SlowStartWindow small(2048);
    small.grow(12);  // not beyond the batch that was sent
    EXPECT_EQ(small.get(), 12);
}

TEST(LogstashOutputTest, MetadataBeatIsRewrittenInPlaceOrByParsing) {
    std::string scratch;
    const std::string ev = eventJson(1);
    EXPECT_EQ(withMetadataBeat(ev, "sipbeat", scratch).data(), ev.data());  // unchanged
    EXPECT_EQ(withMetadataBeat(ev, "myidx", scratch), eventJson(1, "myidx"));
    EXPECT_EQ(withMetadataBeat("{\"a\":1,\"@metadata\":{\"x\":2}}", "b", scratch),
              "{\"a\":1,\"@metadata\":{\"x\":2,\"beat\":\"b\"}}");
    EXPECT_EQ(withMetadataBeat("{\"a\":1}", "b", scratch),
              "{\"a\":1,\"@metadata\":{\"beat\":\"b\"}}");
}

TEST(LogstashOutputTest, ConfigErrorsNameTheKey) {
    Output proxy(yamlFor({"127.0.0.1:1"}, "  proxy_url: socks5://127.0.0.1:1080\n"));
    EXPECT_NE(proxy.error.find("accessing 'output.logstash.proxy_url'"), std::string::npos)
        << proxy.error;
    EXPECT_NE(proxy.error.find("not implemented"), std::string::npos);
    Output no_hosts("output.logstash:\n  timeout: 1s\n");
    EXPECT_NE(no_hosts.error.find("'output.logstash.hosts'"), std::string::npos);
    Output bad_port(yamlFor({"127.0.0.1:99999"}));
    EXPECT_NE(bad_port.error.find("'output.logstash.hosts'"), std::string::npos);
    Output bad_ca(yamlFor({"127.0.0.1:1"}, "  ssl.certificate_authorities: [/nonexistent.pem]\n"));
    EXPECT_NE(bad_ca.error.find("'output.logstash.ssl'"), std::string::npos) << bad_ca.error;
}

TEST(LogstashOutputTest, DefaultsAndWorkers) {
    Output out(yamlFor({"a:1", "b"}, "  worker: 3\n"));
    ASSERT_TRUE(out.error.empty()) << out.error;
    EXPECT_EQ(out.group.clients.size(), 3u);  // failover clients, one per worker
    EXPECT_EQ(out.group.bulk_max_size, 2048);
    EXPECT_EQ(out.group.max_retries, 3);
    EXPECT_EQ(out.group.backoff_init_ns, 1'000'000'000);
    EXPECT_EQ(out.group.backoff_max_ns, 60'000'000'000);
    EXPECT_EQ(out.client().maxInFlight(), 2u);
    EXPECT_EQ(out.client().describe(), "logstash(a:1, b:5044)");
    Output lb(yamlFor({"a:1", "b"}, "  loadbalance: true\n  workers: 2\n  pipelining: 0\n"));
    ASSERT_EQ(lb.group.clients.size(), 4u);
    EXPECT_EQ(lb.client(0).describe(), "logstash(a:1)");
    EXPECT_EQ(lb.client(3).describe(), "logstash(b:5044)");
    EXPECT_EQ(lb.client().maxInFlight(), 1u);
}

// ---------------------------------------------------------------------------------------
// End to end against the peer

TEST(LogstashOutputTest, DeliversEveryEventExactlyWithAndWithoutCompression) {
    for (int level : {0, 3}) {
        SCOPED_TRACE(level);
        TempDir dir;
        Peer peer({"--out", dir.path() + "/out", "--trace", dir.path() + "/trace"});
        Output out(yamlFor({peer.host()}, "  compression_level: " + std::to_string(level) + "\n"));
        ASSERT_TRUE(out.client().connect());
        for (int b = 0; b < 3; ++b) {
            EXPECT_EQ(send(out.client(), makeEvents(b * 40, 40))->wait(), "ack");
        }
        out.client().close();
        EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 120));
        EXPECT_EQ(lines(dir.path() + "/out")[7], eventJson(7));
        const std::string kind = level == 0 ? "raw" : "compressed";
        auto trace = lines(dir.path() + "/trace");
        trace.resize(4);  // then "close", when the peer has seen it
        EXPECT_EQ(trace, (std::vector<std::string>{"connect", "window 40 " + kind,
                                                   "window 40 " + kind, "window 40 " + kind}));
        EXPECT_GT(out.counter("libbeat.output.write.bytes"), 0u);
        EXPECT_EQ(out.counter("libbeat.output.read.bytes"), 18u);  // three 6-byte ACKs
        EXPECT_EQ(out.counter("libbeat.output.write.errors"), 0u);
    }
}

TEST(LogstashOutputTest, PipeliningKeepsSeveralBatchesInFlight) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--delay-ack", "0.6"});
    Output out(yamlFor({peer.host()}, "  pipelining: 3\n"));
    ASSERT_EQ(out.client().maxInFlight(), 3u);
    ASSERT_TRUE(out.client().connect());
    auto s1 = send(out.client(), makeEvents(0, 5));
    auto s2 = send(out.client(), makeEvents(5, 5));
    auto s3 = send(out.client(), makeEvents(10, 5));
    // All three were written without waiting for an ACK.
    EXPECT_EQ(s1->now(), "");
    EXPECT_EQ(s3->now(), "");
    EXPECT_EQ(s1->wait(), "ack");
    EXPECT_EQ(s2->wait(), "ack");
    EXPECT_EQ(s3->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 15));
}

TEST(LogstashOutputTest, PartialAcksAdvanceAndTheFinalAckCompletes) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--partial", "3"});
    Output out(yamlFor({peer.host()}));
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 10))->wait(), "ack");
    EXPECT_EQ(out.counter("libbeat.output.read.bytes"), 4u * 6);  // 3, 6, 9, 10
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 10));
}

TEST(LogstashOutputTest, KeepalivesExtendTheWaitBeyondTheTimeout) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--delay-ack", "2.5", "--keepalive", "0.3"});
    Output out(yamlFor({peer.host()}) + "  timeout: 1s\n");
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 4))->wait(), "ack");
    EXPECT_EQ(out.counter("libbeat.output.read.errors"), 0u);
}

TEST(LogstashOutputTest, NoAckWithinTheTimeoutRetriesAndBreaksTheConnection) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--delay-ack", "3"});
    Output out(yamlFor({peer.host()}) + "  timeout: 500ms\n");
    ASSERT_TRUE(out.client().connect());
    const auto start = std::chrono::steady_clock::now();
    auto s = send(out.client(), makeEvents(0, 4));
    EXPECT_EQ(s->wait(), "retry");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_EQ(out.counter("libbeat.output.read.errors"), 1u);
    // The broken connection refuses the next batch without using its retries.
    core::Status st;
    EXPECT_EQ(send(out.client(), makeEvents(4, 1), &st)->wait(), "cancel");
    EXPECT_FALSE(st);
    out.client().close();
}

TEST(LogstashOutputTest, CloseMidWindowAcksTheFirstPartAndRetriesTheRest) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--partial", "3", "--close-after", "5"});
    Output out(yamlFor({peer.host()}));
    ASSERT_TRUE(out.client().connect());
    auto s = send(out.client(), makeEvents(0, 10));
    EXPECT_EQ(s->wait(), "retryEvents");
    EXPECT_EQ(s->indices, urange(3, 10));
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 3));
    // Reconnected, the rest goes through (the peer closes only once).
    out.client().close();
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(3, 7))->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 10));
}

TEST(LogstashOutputTest, WrongAckSequenceOrGarbageIsAProtocolError) {
    for (const char* fault : {"--bad-ack", "--garbage-ack"}) {
        SCOPED_TRACE(fault);
        TempDir dir;
        Peer peer({"--out", dir.path() + "/out", fault});
        Output out(yamlFor({peer.host()}, "  pipelining: 2\n"));
        ASSERT_TRUE(out.client().connect());
        auto s1 = send(out.client(), makeEvents(0, 3));
        EXPECT_EQ(s1->wait(), "retry");
        EXPECT_EQ(out.counter("libbeat.output.read.errors"), 1u);
        core::Status st;
        EXPECT_EQ(send(out.client(), makeEvents(3, 1), &st)->wait(), "cancel");
        EXPECT_FALSE(st);
        out.client().close();
    }
}

TEST(LogstashOutputTest, SlowStartWindowsGrowAndABatchSpansSeveralWindows) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--trace", dir.path() + "/trace"});
    // pipelining 1: one window at a time, so each size follows the previous ACK.
    Output out(yamlFor({peer.host()}, "  slow_start: true\n  pipelining: 1\n"));
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 100))->wait(), "ack");
    EXPECT_EQ(send(out.client(), makeEvents(100, 100))->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 200));
    EXPECT_EQ(lines(dir.path() + "/trace"),
              (std::vector<std::string>{"connect", "window 10 compressed", "window 15 compressed",
                                        "window 23 compressed", "window 35 compressed",
                                        "window 17 compressed", "window 80 compressed",
                                        "window 20 compressed"}));
}

TEST(LogstashOutputTest, SlowStartWindowHalvesAfterAnError) {
    TempDir dir;
    Peer peer({"--trace", dir.path() + "/trace", "--bad-ack"});
    Output out(yamlFor({peer.host()}, "  slow_start: true\n  pipelining: 1\n"));
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 30))->wait(), "retry");
    out.client().close();
    peer.control("bad-ack 0");
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 30))->wait(), "ack");
    const auto t = lines(dir.path() + "/trace");
    ASSERT_GE(t.size(), 4u);
    EXPECT_EQ(t[1], "window 10 compressed");
    EXPECT_EQ(t[4], "window 5 compressed");  // after: close, connect
}

TEST(LogstashOutputTest, LoadbalanceSendsToEveryHostAndFailoverMovesToTheOther) {
    TempDir dir;
    Peer a({"--out", dir.path() + "/a"});
    Peer b({"--out", dir.path() + "/b"});
    {
        Output lb(yamlFor({a.host(), b.host()}, "  loadbalance: true\n"));
        ASSERT_EQ(lb.group.clients.size(), 2u);
        ASSERT_TRUE(lb.client(0).connect());
        ASSERT_TRUE(lb.client(1).connect());
        EXPECT_EQ(send(lb.client(0), makeEvents(0, 2))->wait(), "ack");
        EXPECT_EQ(send(lb.client(1), makeEvents(2, 2))->wait(), "ack");
        EXPECT_EQ(numbers(dir.path() + "/a"), range(0, 2));
        EXPECT_EQ(numbers(dir.path() + "/b"), range(2, 2));
    }
    std::filesystem::remove(dir.path() + "/a");
    std::filesystem::remove(dir.path() + "/b");
    Output fo(yamlFor({a.host(), b.host()}));
    ASSERT_EQ(fo.group.clients.size(), 1u);
    Client& c = fo.client();
    ASSERT_TRUE(c.connect());
    EXPECT_EQ(send(c, makeEvents(0, 2))->wait(), "ack");
    const bool on_a = std::filesystem::exists(dir.path() + "/a");
    EXPECT_NE(on_a, std::filesystem::exists(dir.path() + "/b"));
    EXPECT_EQ(c.describe(), "logstash(" + (on_a ? a.host() : b.host()) + ")");
    (on_a ? a : b).stop();
    // The next batch fails on the dead host (refused at once or found broken later) …
    const std::string first = send(c, makeEvents(2, 2))->wait();
    EXPECT_TRUE(first == "cancel" || first == "retry") << first;
    c.close();
    // … and the reconnect goes to the other host.
    ASSERT_TRUE(c.connect());
    EXPECT_EQ(c.describe(), "logstash(" + (on_a ? b.host() : a.host()) + ")");
    EXPECT_EQ(send(c, makeEvents(2, 2))->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + (on_a ? "/b" : "/a")), range(2, 2));
    // With one host down, connect() itself fails over to the one that answers.
    c.close();
    ASSERT_TRUE(c.connect());
    EXPECT_EQ(c.describe(), "logstash(" + (on_a ? b.host() : a.host()) + ")");
}

TEST(LogstashOutputTest, IndexOptionSetsMetadataBeatAndEscapeHtmlApplies) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out"});
    {
        Output out(yamlFor({peer.host()}, "  index: MyIndex\n"));
        ASSERT_TRUE(out.client().connect());
        EXPECT_EQ(send(out.client(), makeEvents(0, 2))->wait(), "ack");
    }
    {
        Output out(yamlFor({peer.host()}), "OtherBeat");  // default: the beat name
        ASSERT_TRUE(out.client().connect());
        EXPECT_EQ(send(out.client(), makeEvents(2, 1))->wait(), "ack");
    }
    {
        Output out(yamlFor({peer.host()}, "  escape_html: true\n"));
        ASSERT_TRUE(out.client().connect());
        std::vector<encode::EncodedEvent> ev(1);
        ev[0].json = eventJson(3);
        ev[0].json.insert(ev[0].json.size() - 1, ",\"m\":\"<b>&\"");
        EXPECT_EQ(send(out.client(), std::move(ev))->wait(), "ack");
    }
    const auto l = lines(dir.path() + "/out");
    ASSERT_EQ(l.size(), 4u);
    EXPECT_EQ(l[0], eventJson(0, "myindex"));
    EXPECT_EQ(l[2], eventJson(2, "otherbeat"));
    EXPECT_NE(l[3].find("\"m\":\"\\u003cb\\u003e\\u0026\""), std::string::npos) << l[3];
}

TEST(LogstashOutputTest, TtlRenewsTheConnectionBetweenBatches) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--trace", dir.path() + "/trace"});
    Output out(yamlFor({peer.host()}, "  ttl: 300ms\n"));
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 2))->wait(), "ack");
    EXPECT_EQ(send(out.client(), makeEvents(2, 2))->wait(), "ack");
    std::this_thread::sleep_for(400ms);
    EXPECT_EQ(send(out.client(), makeEvents(4, 2))->wait(), "ack");
    out.client().close();
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 6));
    std::this_thread::sleep_for(200ms);
    // The peer serves each connection on its own thread: the first connection's close
    // may be traced after the second connect, so closes are counted, not ordered.
    std::vector<std::string> trace = lines(dir.path() + "/trace");
    const auto closes = std::count(trace.begin(), trace.end(), "close");
    trace.erase(std::remove(trace.begin(), trace.end(), "close"), trace.end());
    EXPECT_EQ(closes, 2);
    EXPECT_EQ(trace,
              (std::vector<std::string>{"connect", "window 2 compressed", "window 2 compressed",
                                        "connect", "window 2 compressed"}));
}

TEST(LogstashOutputTest, ServerClosingAnIdleConnectionIsReopenedTransparently) {
    TempDir dir;
    auto peer = std::make_unique<Peer>(
        std::vector<std::string>{"--out", dir.path() + "/out", "--trace", dir.path() + "/t1"});
    const uint16_t port = peer->port;
    Output out(yamlFor({peer->host()}));
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 2))->wait(), "ack");
    // Logstash closes inactive clients; here the server restarts on the same port.
    peer.reset();
    peer = std::make_unique<Peer>(
        std::vector<std::string>{"--out", dir.path() + "/out", "--trace", dir.path() + "/t2"},
        port);
    ASSERT_EQ(peer->port, port);
    std::this_thread::sleep_for(300ms);  // the reader sees the close
    EXPECT_EQ(send(out.client(), makeEvents(2, 2))->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 4));
    EXPECT_EQ(out.counter("libbeat.output.read.errors"), 0u);
}

// ---------------------------------------------------------------------------------------
// TLS

TEST(LogstashOutputTest, TlsFullVerificationWithTheTestCa) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--tls-cert", kCerts + "/server.pem", "--tls-key",
               kCerts + "/server.key"});
    Output out(yamlFor({peer.host()}, "  ssl.certificate_authorities: [" + kCerts + "/ca.pem]\n"));
    ASSERT_TRUE(out.error.empty()) << out.error;
    ASSERT_TRUE(out.client().connect());
    EXPECT_EQ(send(out.client(), makeEvents(0, 50))->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 50));
    out.client().close();

    // Inline PEM works as a file does.
    const std::string pem = test::readFile(kCerts + "/ca.pem");
    std::string indented;
    for (char c : pem) {
        indented += c;
        if (c == '\n') {
            indented += "      ";
        }
    }
    Output inline_ca(yamlFor({peer.host()},
                             "  ssl.certificate_authorities:\n    - |\n      " + indented + "\n"));
    ASSERT_TRUE(inline_ca.error.empty()) << inline_ca.error;
    EXPECT_TRUE(inline_ca.client().connect());
}

TEST(LogstashOutputTest, TlsWrongCaFailsAndVerificationNoneConnects) {
    Peer peer({"--tls-cert", kCerts + "/server.pem", "--tls-key", kCerts + "/server.key"});
    Output wrong(
        yamlFor({peer.host()}, "  ssl.certificate_authorities: [" + kCerts + "/other-ca.pem]\n"));
    core::Status st = wrong.client().connect();
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("certificate verify failed"), std::string::npos) << st.message();
    Output none(yamlFor({peer.host()}, "  ssl.certificate_authorities: [" + kCerts +
                                           "/other-ca.pem]\n  ssl.verification_mode: none\n"));
    ASSERT_TRUE(none.client().connect());
    EXPECT_EQ(send(none.client(), makeEvents(0, 1))->wait(), "ack");
}

TEST(LogstashOutputTest, TlsHostNameIsCheckedInFullModeOnly) {
    Peer peer({"--tls-cert", kCerts + "/wrongname.pem", "--tls-key", kCerts + "/wrongname.key"});
    const std::string ca = "  ssl.certificate_authorities: [" + kCerts + "/ca.pem]\n";
    Output full(yamlFor({peer.host()}, ca));
    core::Status st = full.client().connect();
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("certificate verify failed"), std::string::npos) << st.message();
    Output strict(yamlFor({peer.host()}, ca + "  ssl.verification_mode: strict\n"));
    EXPECT_FALSE(strict.client().connect());
    Output chain_only(yamlFor({peer.host()}, ca + "  ssl.verification_mode: certificate\n"));
    EXPECT_TRUE(chain_only.client().connect());
}

TEST(LogstashOutputTest, TlsCaTrustedFingerprintPinsACaOfThePresentedChain) {
    Peer peer({"--tls-cert", kCerts + "/server-chain.pem", "--tls-key", kCerts + "/server.key"});
    std::string fp = test::readFile(kCerts + "/ca.sha256");
    fp.erase(fp.find_last_not_of("\n") + 1);
    // No certificate_authorities: the system store does not know the test CA.
    Output unpinned(yamlFor({peer.host()}, "  ssl.enabled: true\n"));
    EXPECT_FALSE(unpinned.client().connect());
    Output pinned(yamlFor({peer.host()}, "  ssl.ca_trusted_fingerprint: " + fp + "\n"));
    ASSERT_TRUE(pinned.error.empty()) << pinned.error;
    ASSERT_TRUE(pinned.client().connect());
    EXPECT_EQ(send(pinned.client(), makeEvents(0, 1))->wait(), "ack");
    std::string other = fp;
    other[0] = other[0] == 'a' ? 'b' : 'a';
    Output wrong_pin(yamlFor({peer.host()}, "  ssl.ca_trusted_fingerprint: " + other + "\n"));
    EXPECT_FALSE(wrong_pin.client().connect());
}

TEST(LogstashOutputTest, TlsClientCertificateWhenTheServerRequiresOne) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--tls-cert", kCerts + "/server.pem", "--tls-key",
               kCerts + "/server.key", "--client-ca", kCerts + "/ca.pem"});
    const std::string ca = "  ssl.certificate_authorities: [" + kCerts + "/ca.pem]\n";
    {
        // TLS 1.3: the server refuses after the client's handshake is done, so the
        // failure shows on the connection, not necessarily in connect().
        Output anonymous(yamlFor({peer.host()}, ca));
        if (anonymous.client().connect()) {
            EXPECT_NE(send(anonymous.client(), makeEvents(0, 1))->wait(), "ack");
        }
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/out"));
    Output with_cert(yamlFor({peer.host()}, ca + "  ssl.certificate: " + kCerts +
                                                "/client.pem\n  ssl.key: " + kCerts +
                                                "/client.key\n"));
    ASSERT_TRUE(with_cert.error.empty()) << with_cert.error;
    ASSERT_TRUE(with_cert.client().connect());
    EXPECT_EQ(send(with_cert.client(), makeEvents(0, 3))->wait(), "ack");
    EXPECT_EQ(numbers(dir.path() + "/out"), range(0, 3));
}

// ---------------------------------------------------------------------------------------
// sipbeat test output

TEST(LogstashOutputTest, TestTranscriptPlainOkThenErrorWhenThePeerIsGone) {
    auto peer = std::make_unique<Peer>(std::vector<std::string>{});
    const std::string host = peer->host();
    Output out(yamlFor({host}));
    {
        std::ostringstream s;
        ConsoleTestDriver d(s);
        out.client().test(d);
        EXPECT_FALSE(d.failed());
        EXPECT_EQ(s.str(), "logstash: " + host +
                               "...\n"
                               "  connection...\n"
                               "    parse host... OK\n"
                               "    dns lookup... OK\n"
                               "    addresses: 127.0.0.1\n"
                               "    dial up... OK\n"
                               "  TLS... WARN secure connection disabled\n"
                               "  talk to server... OK\n");
    }
    peer.reset();
    std::ostringstream s;
    ConsoleTestDriver d(s);
    out.client().test(d);
    EXPECT_TRUE(d.failed());
    EXPECT_NE(
        s.str().find("    dial up... ERROR dial tcp " + host + ": connect: connection refused\n"),
        std::string::npos)
        << s.str();
    EXPECT_EQ(s.str().find("talk to server"), std::string::npos);
}

TEST(LogstashOutputTest, TestTranscriptWithTls) {
    Peer peer({"--tls-cert", kCerts + "/server.pem", "--tls-key", kCerts + "/server.key"});
    Output out(yamlFor({peer.host()}, "  ssl.certificate_authorities: [" + kCerts + "/ca.pem]\n"));
    std::ostringstream s;
    ConsoleTestDriver d(s);
    out.client().test(d);
    EXPECT_FALSE(d.failed()) << s.str();
    EXPECT_NE(s.str().find("  TLS...\n"
                           "    security: server's certificate chain verification is enabled\n"
                           "    handshake... OK\n"
                           "    TLS version: TLSv1.3\n"
                           "    dial up... OK\n"
                           "  talk to server... OK\n"),
              std::string::npos)
        << s.str();
    Output wrong(
        yamlFor({peer.host()}, "  ssl.certificate_authorities: [" + kCerts + "/other-ca.pem]\n"));
    std::ostringstream s2;
    ConsoleTestDriver d2(s2);
    wrong.client().test(d2);
    EXPECT_TRUE(d2.failed());
    EXPECT_NE(s2.str().find("    handshake... ERROR "), std::string::npos) << s2.str();
}

// ---------------------------------------------------------------------------------------
// Through the real pipeline

TEST(LogstashOutputTest, PipelineDeliversEverythingThroughPartialAcksAndARetry) {
    TempDir dir;
    Peer peer({"--out", dir.path() + "/out", "--partial", "7", "--close-after", "150"});
    Output out(yamlFor({peer.host()},
                       "  bulk_max_size: 64\n  backoff.init: 50ms\n"
                       "  backoff.max: 100ms\n  slow_start: true\n"));
    ASSERT_TRUE(out.error.empty()) << out.error;
    pipeline::QueueSettings q;
    q.flush_timeout_ns = 1'000'000;
    auto pipe = std::make_unique<pipeline::Pipeline>(std::move(out.group), q, out.metrics);
    pipe->start();
    for (int i = 0; i < 500; ++i) {
        encode::EncodedEvent e;
        e.json = eventJson(i);
        pipe->publish(std::move(e));
    }
    pipe->close();
    EXPECT_EQ(pipe->acked(), 500u);
    EXPECT_EQ(pipe->dropped(), 0u);
    std::vector<int> got = numbers(dir.path() + "/out");
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, range(0, 500));  // nothing lost, nothing twice: the peer writes what it ACKs
    EXPECT_EQ(out.counter("libbeat.output.read.errors"), 1u);
}

}  // namespace
}  // namespace sipbeat::outputs::logstash
