// SPDX-License-Identifier: Apache-2.0
#include "outputs/logstash/logstash_output.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "beat/core/logging.h"
#include "outputs/common/codec.h"
#include "outputs/common/test_driver.h"
#include "outputs/common/tls.h"
#include "outputs/logstash/lumberjack.h"
#include "outputs/logstash/transport.h"

namespace sipbeat::outputs::logstash {

namespace {

const core::logging::Logger kLog("logstash");
constexpr uint16_t kDefaultPort = 5044;  // libbeat logstash.go defaultPort

std::string seconds(int64_t ns) {
    const int64_t ms = ns / 1'000'000;
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

/// What every client of one `output.logstash` shares, read once from the config.
struct Settings {
    int64_t ttl_ns = 0;
    int32_t pipelining = 2;
    int64_t bulk_max_size = 2048;
    bool slow_start = false;
    int compression_level = 3;
    bool escape_html = false;
    std::string index;  ///< `@metadata.beat` of every event
    int64_t timeout_ns = 30'000'000'000;
    std::shared_ptr<TlsContext> tls;                    ///< null: plain TCP
    std::shared_ptr<monitoring::Registry> own_metrics;  ///< when the context has none
    monitoring::Counter* write_bytes = nullptr;
    monitoring::Counter* write_errors = nullptr;
    monitoring::Counter* read_bytes = nullptr;
    monitoring::Counter* read_errors = nullptr;
};

/// A batch being sent, and how many of its first events the server has acknowledged
/// (its windows are acknowledged in order, so that is a prefix).
struct PendingBatch {
    BatchPtr batch;
    uint32_t size = 0;
    uint32_t acked = 0;
    bool signalled = false;
};

/// A window written and not yet fully acknowledged.
struct Window {
    std::shared_ptr<PendingBatch> batch;
    uint32_t count = 0;
};

class LogstashClient final : public Client {
public:
    LogstashClient(std::shared_ptr<const Settings> settings, std::vector<HostPort> hosts,
                   bool failover)
        : settings_(std::move(settings)),
          hosts_(std::move(hosts)),
          failover_(failover),
          codec_(CodecSettings{false, settings_->escape_html, {}}),
          encoder_(settings_->compression_level),
          window_(settings_->bulk_max_size > 0
                      ? static_cast<int32_t>(std::min<int64_t>(settings_->bulk_max_size, INT32_MAX))
                      : INT32_MAX),
          max_windows_(static_cast<size_t>(std::max(settings_->pipelining, 1))),
          rng_(std::random_device{}()) {
        wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }

    ~LogstashClient() override {
        close();
        if (wake_fd_ >= 0) {
            ::close(wake_fd_);
        }
    }

    LogstashClient(const LogstashClient&) = delete;
    LogstashClient& operator=(const LogstashClient&) = delete;

    core::Status connect() override {
        close();
        // Without loadbalance the worker sticks to one host and, on each reconnect, moves
        // to another one (libbeat failover client); the others are tried at once when the
        // chosen one cannot be reached.
        const size_t n = hosts_.size();
        size_t first = 0;
        if (failover_ && n > 1) {
            if (active_ < 0) {
                first = std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
            } else if (n == 2) {
                first = 1 - static_cast<size_t>(active_);
            } else {
                first = (static_cast<size_t>(active_) + 1 +
                         std::uniform_int_distribution<size_t>(0, n - 2)(rng_)) %
                        n;
            }
        }
        core::Status last = core::Status::error("no hosts");
        for (size_t i = 0; i < n; ++i) {
            const size_t idx = (first + i) % n;
            if (core::Status st = open(idx); st) {
                return st;
            } else {
                last = st;
                if (n > 1) {
                    kLog.warn("Failed to connect to " + hosts_[idx].text() + ": " + st.message());
                }
            }
        }
        return last;
    }

    core::Status publish(BatchPtr batch) override {
        const std::span<const encode::EncodedEvent> events = batch->events();
        if (events.empty()) {
            batch->ack();
            return core::Status::ok();
        }
        if (core::Status st = ensureUsable(); !st) {
            batch->cancel();
            return st;
        }
        auto pending = std::make_shared<PendingBatch>();
        pending->size = static_cast<uint32_t>(events.size());
        pending->batch = std::move(batch);
        uint32_t offset = 0;
        while (offset < pending->size) {
            uint32_t count = pending->size - offset;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return broken_ || windows_.size() < max_windows_; });
                if (broken_) {
                    signalFailed(*pending, /*sent=*/false);
                    return core::Status::error(broken_reason_);
                }
                if (settings_->slow_start) {
                    count = std::min(count, static_cast<uint32_t>(window_.get()));
                }
            }
            encoder_.begin(count);
            for (uint32_t i = offset; i < offset + count; ++i) {
                std::string_view json = codec_.apply(events[i], codec_scratch_);
                encoder_.add(withMetadataBeat(json, settings_->index, beat_scratch_));
            }
            core::Status st = encoder_.finish();
            {
                std::lock_guard lock(mutex_);
                if (!st) {
                    markBrokenLocked(st.message(), /*use_retry=*/true);
                }
                if (broken_) {  // while encoding
                    signalFailed(*pending, /*sent=*/false);
                    return core::Status::error(broken_reason_);
                }
                // Registered before the bytes go out: the ACK may come back at once.
                if (windows_.empty()) {
                    read_deadline_ns_ = steadyNowNs() + settings_->timeout_ns;
                    wakeReader();
                }
                windows_.push_back({pending, count});
                ack_reader_.expect(count);
            }
            st = conn_->writeAll(encoder_.bytes(), settings_->timeout_ns);
            if (!st) {
                std::lock_guard lock(mutex_);
                if (!broken_) {
                    settings_->write_errors->add();
                    markBrokenLocked(st.message(), /*use_retry=*/true);
                }
                signalFailed(*pending, /*sent=*/true);
                return core::Status::error(broken_reason_);
            }
            settings_->write_bytes->add(encoder_.bytes().size());
            offset += count;
        }
        return core::Status::ok();
    }

    void close() override {
        stopReader();
        std::lock_guard lock(mutex_);
        // The connection itself was fine (or its failure was already handled): what is
        // not acknowledged is sent again without using a retry.
        failAllLocked(/*use_retry=*/false);
        broken_ = false;
        conn_.reset();
    }

    std::string describe() const override {
        if (active_ >= 0) {
            return "logstash(" + hosts_[static_cast<size_t>(active_)].text() + ")";
        }
        std::string s = "logstash(";
        for (size_t i = 0; i < hosts_.size(); ++i) {
            s += (i > 0 ? ", " : "") + hosts_[i].text();
        }
        return s + ")";
    }

    size_t maxInFlight() const override { return max_windows_; }

    void test(TestDriver& driver) override {
        for (const HostPort& hp : hosts_) {
            testHost(driver, hp);
        }
    }

private:
    /// Opens a connection to hosts_[idx] and starts its ACK reader.
    core::Status open(size_t idx) {
        auto conn = Connection::open(hosts_[idx], settings_->timeout_ns, settings_->tls);
        if (!conn) {
            return conn.status();
        }
        conn_ = std::move(conn).value();
        active_ = static_cast<int>(idx);
        {
            std::lock_guard lock(mutex_);
            broken_ = false;
            broken_while_idle_ = false;
            broken_reason_.clear();
            stop_ = false;
            ack_reader_.reset();
            read_deadline_ns_ = -1;
        }
        connected_at_ns_ = steadyNowNs();
        reader_ = std::thread([this] { readLoop(); });
        return core::Status::ok();
    }

    /// Before a batch: a connection that the server closed while idle (Logstash closes
    /// inactive clients) is reopened to the same host, and `ttl` is honoured. Beats does
    /// not support ttl with pipelining (async client); here the connection is renewed
    /// between windows once nothing is in flight, so it works with pipelining too.
    core::Status ensureUsable() {
        if (!conn_) {
            return core::Status::error("not connected to " + describe());
        }
        bool reopen = false;
        {
            std::unique_lock lock(mutex_);
            if (broken_) {
                if (!broken_while_idle_) {
                    return core::Status::error(broken_reason_);
                }
                reopen = true;
            } else if (settings_->ttl_ns > 0 &&
                       steadyNowNs() - connected_at_ns_ >= settings_->ttl_ns) {
                cv_.wait(lock, [&] { return broken_ || windows_.empty(); });
                if (broken_ && !broken_while_idle_) {
                    return core::Status::error(broken_reason_);
                }
                reopen = true;
                kLog.debug("Connection to " + describe() + " reached its ttl; reconnecting");
            }
        }
        if (!reopen) {
            return core::Status::ok();
        }
        const size_t idx = static_cast<size_t>(std::max(active_, 0));
        close();
        return open(idx);
    }

    void stopReader() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        if (reader_.joinable()) {
            wakeReader();
            if (conn_) {
                conn_->shutdown();
            }
            reader_.join();
        }
    }

    void wakeReader() {
        const uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
    }

    /// The ACK reader: one per connection, signals batches as their last window is
    /// acknowledged, and fails the connection on a protocol error, a read error or no
    /// ACK (keepalives count) within `timeout` while windows are outstanding.
    void readLoop() {
        std::vector<uint8_t> buf(4096);
        std::vector<AckReader::Ack> acks;
        while (true) {
            int64_t deadline = -1;
            {
                std::lock_guard lock(mutex_);
                if (stop_ || broken_) {
                    return;
                }
                deadline = windows_.empty() ? -1 : read_deadline_ns_;
            }
            const Connection::ReadOutcome r =
                conn_->readSome(buf.data(), buf.size(), deadline, wake_fd_);
            using Kind = Connection::ReadOutcome::Kind;
            if (r.kind == Kind::Woken) {
                uint64_t v = 0;
                (void)!::read(wake_fd_, &v, sizeof v);
                continue;
            }
            std::lock_guard lock(mutex_);
            if (stop_) {
                return;
            }
            if (r.kind == Kind::Timeout) {
                if (windows_.empty() || steadyNowNs() < read_deadline_ns_) {
                    continue;  // answered meanwhile, or a newer window moved the deadline
                }
                settings_->read_errors->add();
                markBrokenLocked("no ACK from " + conn_->peer().text() + " within timeout " +
                                     seconds(settings_->timeout_ns),
                                 /*use_retry=*/true);
                return;
            }
            if (r.kind != Kind::Data) {
                if (windows_.empty() && r.kind == Kind::Closed) {
                    // Closed while idle: reopened before the next batch.
                    markBrokenLocked("connection closed by " + conn_->peer().text(), true);
                    broken_while_idle_ = true;
                    return;
                }
                settings_->read_errors->add();
                markBrokenLocked(r.error, /*use_retry=*/true);
                return;
            }
            settings_->read_bytes->add(r.bytes);
            const core::Status st = ack_reader_.feed({buf.data(), r.bytes}, acks);
            for (const AckReader::Ack& ack : acks) {
                // Any ACK, keepalives too, shows the server is alive and working.
                read_deadline_ns_ = steadyNowNs() + settings_->timeout_ns;
                if (ack.kind != AckReader::Kind::Complete) {
                    continue;
                }
                Window w = std::move(windows_.front());
                windows_.pop_front();
                PendingBatch& pb = *w.batch;
                pb.acked += w.count;
                if (settings_->slow_start) {
                    window_.grow(static_cast<int32_t>(pb.size));
                }
                if (pb.acked == pb.size && !pb.signalled) {
                    pb.signalled = true;
                    pb.batch->ack();
                    pb.batch.reset();
                }
            }
            if (!st) {
                settings_->read_errors->add();
                markBrokenLocked(st.message() + " from " + conn_->peer().text(),
                                 /*use_retry=*/true);
                return;
            }
            cv_.notify_all();
        }
    }

    /// A batch that will not be completed on this connection: acknowledged events stay
    /// acknowledged, the rest is sent again — as a retry when the server may have seen
    /// them, as a cancel when it cannot have.
    static void signalFailed(PendingBatch& pb, bool sent) {
        if (pb.signalled) {
            return;
        }
        pb.signalled = true;
        if (pb.acked == 0) {
            if (sent) {
                pb.batch->retry();
            } else {
                pb.batch->cancel();
            }
        } else {
            std::vector<uint32_t> rest;
            rest.reserve(pb.size - pb.acked);
            for (uint32_t i = pb.acked; i < pb.size; ++i) {
                rest.push_back(i);
            }
            pb.batch->retryEvents(std::move(rest), 0);
        }
        pb.batch.reset();
    }

    void failAllLocked(bool use_retry) {
        if (!windows_.empty()) {
            windows_.front().batch->acked += ack_reader_.headAcked();  // a partial ACK
        }
        for (Window& w : windows_) {
            signalFailed(*w.batch, use_retry);
        }
        windows_.clear();
        ack_reader_.reset();
        read_deadline_ns_ = -1;
    }

    void markBrokenLocked(const std::string& reason, bool use_retry) {
        if (broken_) {
            return;
        }
        const bool in_flight = !windows_.empty();
        broken_ = true;
        broken_reason_ = reason;
        if (in_flight) {
            kLog.error("Failed to publish events to " + describe() + ": " + reason);
            if (settings_->slow_start) {
                window_.shrink();
            }
        }
        failAllLocked(use_retry);
        cv_.notify_all();
        if (conn_) {
            conn_->shutdown();  // a writer blocked on the socket gives up at once
        }
    }

    void testHost(TestDriver& d, const HostPort& hp) {
        d.section("logstash: " + hp.text(), [&] {
            bool ok = true;
            d.section("connection",
                      [&] { ok = checkTcpConnection(d, hp.host, hp.port, settings_->timeout_ns); });
            if (!ok) {
                return;
            }
            if (!settings_->tls) {
                d.warn("TLS", "secure connection disabled");
            } else {
                d.section("TLS", [&] { ok = testTls(d, hp); });
            }
            if (!ok) {
                return;
            }
            (void)d.run("talk to server", [&] {
                auto conn = Connection::open(hp, settings_->timeout_ns, settings_->tls);
                return conn ? core::Status::ok() : conn.status();
            });
        });
    }

    bool testTls(TestDriver& d, const HostPort& hp) {
        auto endpoints = resolveHost(hp);
        core::Result<int> fd = endpoints ? dialTcp(hp, *endpoints, settings_->timeout_ns)
                                         : core::Result<int>(endpoints.status());
        if (!fd) {
            return d.run("dial up", [&] { return fd.status(); }).isOk();
        }
        if (settings_->tls->settings().verifyPeer()) {
            d.info("security", "server's certificate chain verification is enabled");
        } else {
            d.warn("security", "server's certificate chain verification is disabled");
        }
        std::unique_ptr<Connection> conn;
        const bool ok =
            d.run("handshake", [&] {
                 auto c = Connection::handshake(*fd, hp, settings_->timeout_ns, settings_->tls);
                 if (!c) {
                     return c.status();
                 }
                 conn = std::move(c).value();
                 return core::Status::ok();
             }).isOk();
        if (!ok) {
            return false;
        }
        d.info("TLS version", conn->tlsVersion());
        return d.run("dial up", [] { return core::Status::ok(); }).isOk();
    }

    std::shared_ptr<const Settings> settings_;
    std::vector<HostPort> hosts_;
    bool failover_;
    int active_ = -1;  ///< index in hosts_ of the current (or last) connection
    Codec codec_;
    WindowEncoder encoder_;  ///< publish thread only
    std::string codec_scratch_;
    std::string beat_scratch_;
    std::unique_ptr<Connection> conn_;  ///< set and reset only while no reader runs
    int64_t connected_at_ns_ = 0;
    std::thread reader_;
    int wake_fd_ = -1;

    std::mutex mutex_;
    std::condition_variable cv_;  ///< a window completed, or the connection broke
    // Guarded by mutex_:
    SlowStartWindow window_;
    std::deque<Window> windows_;
    AckReader ack_reader_;
    int64_t read_deadline_ns_ = -1;
    bool stop_ = false;
    bool broken_ = false;
    bool broken_while_idle_ = false;
    std::string broken_reason_;

    const size_t max_windows_;
    std::mt19937_64 rng_;
};

}  // namespace

config::Spec LogstashFactory::schema() const {
    return config::object({
        {"hosts", config::listOf(config::stringNoDefault())},
        {"loadbalance", config::boolean(false)},
        {"worker", config::integer(1, 1)},
        {"workers", config::integerNoDefault(1)},
        {"ttl", config::duration("0s", 0)},
        {"pipelining", config::integer(2, 0)},
        {"bulk_max_size", config::integer(2048)},
        {"slow_start", config::boolean(false)},
        {"compression_level", config::integer(3, 0, 9)},
        {"escape_html", config::boolean(false)},
        {"index", config::stringNoDefault()},
        {"timeout", config::duration("30s", 0)},
        {"max_retries", config::integer(3)},
        {"backoff", config::object({{"init", config::duration("1s", 0)},
                                    {"max", config::duration("60s", 0)}})},
        {"proxy_url", config::stringNoDefault()},
        {"proxy_use_local_resolver", config::boolean(false)},
        {"ssl", tlsSchema()},
    });
}

core::Result<Group> LogstashFactory::create(const OutputContext& ctx, const config::Config& cfg,
                                            const std::string& prefix) const {
    const std::string hosts_key = prefix + ".hosts";
    const std::vector<std::string> host_texts = cfg.getStringList(hosts_key);
    if (host_texts.empty()) {
        return core::Status::error(cfg.errorAt(hosts_key, "missing required field"));
    }
    std::vector<HostPort> hosts;
    for (const std::string& text : host_texts) {
        auto hp = parseHostPort(text, kDefaultPort);
        if (!hp) {
            return core::Status::error(cfg.errorAt(hosts_key, hp.status().message()));
        }
        hosts.push_back(std::move(hp).value());
    }
    if (const std::string key = prefix + ".proxy_url"; !cfg.getString(key).empty()) {
        return core::Status::error(
            cfg.errorAt(key, "SOCKS5 proxies are not implemented by sipbeat's logstash output"));
    }
    auto s = std::make_shared<Settings>();
    s->ttl_ns = cfg.getDurationNs(prefix + ".ttl");
    s->pipelining = static_cast<int32_t>(cfg.getInt(prefix + ".pipelining"));
    s->bulk_max_size = cfg.getInt(prefix + ".bulk_max_size");
    s->slow_start = cfg.getBool(prefix + ".slow_start");
    s->compression_level = static_cast<int>(cfg.getInt(prefix + ".compression_level"));
    s->escape_html = cfg.getBool(prefix + ".escape_html");
    s->index = cfg.has(prefix + ".index") ? cfg.getString(prefix + ".index") : ctx.beat;
    if (s->index.empty()) {
        return core::Status::error(cfg.errorAt(prefix + ".index", "must not be empty"));
    }
    std::transform(s->index.begin(), s->index.end(), s->index.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    s->timeout_ns = cfg.getDurationNs(prefix + ".timeout");
    if (s->timeout_ns <= 0) {
        return core::Status::error(cfg.errorAt(prefix + ".timeout", "must be positive"));
    }
    auto tls = tlsFromConfig(cfg, prefix + ".ssl");
    if (!tls) {
        return tls.status();
    }
    if (tls->enabled) {
        auto tls_ctx = TlsContext::create(*tls);
        if (!tls_ctx) {
            return core::Status::error(cfg.errorAt(prefix + ".ssl", tls_ctx.status().message()));
        }
        s->tls = std::move(tls_ctx).value();
    }
    monitoring::Registry* metrics = ctx.metrics;
    if (metrics == nullptr) {
        s->own_metrics = std::make_shared<monitoring::Registry>();
        metrics = s->own_metrics.get();
    }
    s->write_bytes = &metrics->counter("libbeat.output.write.bytes");
    s->write_errors = &metrics->counter("libbeat.output.write.errors");
    s->read_bytes = &metrics->counter("libbeat.output.read.bytes");
    s->read_errors = &metrics->counter("libbeat.output.read.errors");

    const int64_t workers = cfg.has(prefix + ".workers") ? cfg.getInt(prefix + ".workers")
                                                         : cfg.getInt(prefix + ".worker");
    const bool loadbalance = cfg.getBool(prefix + ".loadbalance");
    std::shared_ptr<const Settings> shared = s;
    Group g;
    if (loadbalance) {
        for (const HostPort& hp : hosts) {
            for (int64_t w = 0; w < workers; ++w) {
                g.clients.push_back(
                    std::make_unique<LogstashClient>(shared, std::vector<HostPort>{hp}, false));
            }
        }
    } else {
        for (int64_t w = 0; w < workers; ++w) {
            g.clients.push_back(std::make_unique<LogstashClient>(shared, hosts, true));
        }
    }
    g.bulk_max_size = s->bulk_max_size;
    g.max_retries = static_cast<int32_t>(cfg.getInt(prefix + ".max_retries"));
    g.backoff_init_ns = cfg.getDurationNs(prefix + ".backoff.init");
    g.backoff_max_ns = cfg.getDurationNs(prefix + ".backoff.max");
    return g;
}

}  // namespace sipbeat::outputs::logstash
