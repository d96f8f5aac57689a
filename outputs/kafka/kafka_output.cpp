// SPDX-License-Identifier: Apache-2.0
#include "outputs/kafka/kafka_output.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <librdkafka/rdkafka.h>

#include "beat/core/logging.h"
#include "beat/processors/field_source.h"
#include "outputs/common/codec.h"
#include "outputs/common/format_string.h"
#include "outputs/common/test_driver.h"
#include "outputs/common/tls.h"

#include <netdb.h>

namespace sipbeat::outputs::kafka {

uint32_t fnv1a32(std::string_view bytes, uint32_t hash) {
    for (const char c : bytes) {
        hash ^= static_cast<uint8_t>(c);
        hash *= 16777619u;
    }
    return hash;
}

int32_t hashToPartition(uint32_t hash, int32_t partitions) {
    if (partitions <= 0) {
        return 0;
    }
    // Go's int32(uint32) reinterprets the bits; `%` keeps the dividend's sign.
    int32_t p = static_cast<int32_t>(hash) % partitions;
    return p < 0 ? -p : p;
}

namespace {

const core::logging::Logger kLog("kafka");

constexpr int32_t kUnassignedPartition = -1;  // RD_KAFKA_PARTITION_UA
constexpr size_t kMaxInFlight = 4;

enum class PartitionerKind : uint8_t { Hash, Random, RoundRobin };

/// Everything a client needs, read once from the config.
struct Settings {
    std::vector<std::string> hosts;
    Selector topic;
    std::optional<FormatString> key;  ///< unset: the event's own key (the Call-ID)
    PartitionerKind partitioner = PartitionerKind::Hash;
    std::vector<std::string> hash_fields;
    bool reachable_only = false;
    int64_t group_events = 1;
    std::vector<std::pair<std::string, std::string>> headers;
    size_t headers_bytes = 0;
    uint64_t max_message_bytes = 1'000'000;
    int64_t timeout_ns = 30'000'000'000;
    std::string client_id = "beats";
    CodecSettings codec;
    /// librdkafka properties, global and topic-level alike (topic-level ones set on the
    /// global conf become the default topic conf, which every topic handle copies).
    std::vector<std::pair<std::string, std::string>> properties;
};

int64_t toMs(int64_t ns) {
    return ns / 1'000'000;
}

/// Creates a librdkafka conf from the settings; nullptr and `error` on a refused property.
rd_kafka_conf_t* makeConf(const std::vector<std::pair<std::string, std::string>>& properties,
                          std::string& error) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char errstr[512];
    for (const auto& [name, value] : properties) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            error = name + "=" + value + ": " + errstr;
            rd_kafka_conf_destroy(conf);
            return nullptr;
        }
    }
    return conf;
}

void logFromLibrdkafka(const rd_kafka_t* /*rk*/, int level, const char* facility,
                       const char* message) {
    const std::string line = std::string(facility) + ": " + message;
    if (level <= 3) {
        kLog.error(line);
    } else if (level == 4) {
        kLog.warn(line);
    } else if (level <= 6) {
        kLog.info(line);
    } else {
        kLog.debug(line);
    }
}

/// Errors librdkafka raises besides its log lines (which already tell of each broker
/// failure): only fatal ones are worth more than a debug line.
void errorFromLibrdkafka(rd_kafka_t* /*rk*/, int err, const char* reason, void* /*opaque*/) {
    const std::string line =
        std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        kLog.error(line);
    } else {
        kLog.debug(line);
    }
}

struct BatchState;

/// One produced message, passed to librdkafka as its opaque: the partitioner reads the
/// precomputed field hash, the delivery report finds its batch and index.
struct MessageRef {
    BatchState* batch = nullptr;
    uint32_t index = 0;
    bool has_hash = false;
    uint32_t hash = 0;
};

/// A batch while its messages are with librdkafka. It owns the batch, so the event bytes
/// librdkafka points at (values are not copied) live until the last delivery report.
struct BatchState {
    BatchPtr batch;
    std::vector<MessageRef> refs;
    std::deque<std::string> bodies;  ///< values re-encoded by a non-default codec
    std::mutex mutex;
    size_t pending = 1;  ///< messages with librdkafka, plus one while publish() produces
    uint32_t delivered = 0;
    uint32_t dropped = 0;
    std::vector<uint32_t> failed;     ///< to retry (uses a retry)
    std::vector<uint32_t> cancelled;  ///< broker unreachable or purged at close
};

/// Partition choice of one topic (Beats' partitioners), called by librdkafka from any
/// thread once the topic's partition count is known.
struct TopicState {
    const Settings* settings = nullptr;
    std::mutex mutex;
    std::mt19937 rng{std::random_device{}()};
    int32_t current = 0;
    int64_t left = 0;      ///< events still to send to `current` (group_events)
    uint32_t next_rr = 0;  ///< round robin position

    int32_t choose(const rd_kafka_topic_t* rkt, const void* key, size_t key_len,
                   int32_t partition_count, const MessageRef* ref) {
        // reachable_only: choose among partitions with a known leader; none: among all.
        int32_t available[1024];
        int32_t n = 0;
        if (settings->reachable_only) {
            for (int32_t p = 0; p < partition_count && n < 1024; ++p) {
                if (rd_kafka_topic_partition_available(rkt, p) != 0) {
                    available[n++] = p;
                }
            }
        }
        const bool subset = n > 0;
        if (!subset) {
            n = partition_count;
        }
        auto pick = [&](int32_t i) { return subset ? available[i] : i; };
        switch (settings->partitioner) {
            case PartitionerKind::Hash:
                if (ref != nullptr && ref->has_hash) {
                    return pick(hashToPartition(ref->hash, n));
                }
                if (key_len > 0) {
                    const std::string_view k(static_cast<const char*>(key), key_len);
                    return pick(hashToPartition(fnv1a32(k), n));
                }
                return pick(randomIndex(n));  // no key, no hash fields
            case PartitionerKind::Random: {
                std::lock_guard lock(mutex);
                if (left <= 0 || current >= n) {
                    current = randomIndexLocked(n);
                    left = settings->group_events;
                }
                --left;
                return pick(current);
            }
            case PartitionerKind::RoundRobin: {
                std::lock_guard lock(mutex);
                if (left <= 0 || current >= n) {
                    current = static_cast<int32_t>(next_rr % static_cast<uint32_t>(n));
                    ++next_rr;
                    left = settings->group_events;
                }
                --left;
                return pick(current);
            }
        }
        return 0;
    }

    int32_t randomIndex(int32_t n) {
        std::lock_guard lock(mutex);
        return randomIndexLocked(n);
    }
    int32_t randomIndexLocked(int32_t n) {
        return std::uniform_int_distribution<int32_t>(0, n - 1)(rng);
    }

    static int32_t partitionerCallback(const rd_kafka_topic_t* rkt, const void* key, size_t key_len,
                                       int32_t partition_count, void* topic_opaque,
                                       void* message_opaque) {
        return static_cast<TopicState*>(topic_opaque)
            ->choose(rkt, key, key_len, partition_count,
                     static_cast<const MessageRef*>(message_opaque));
    }
};

/// Errors that say the brokers are out of reach (or the client is closing), not that the
/// message is bad: such batches are cancelled, so an outage does not use up retries.
bool isConnectivityError(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
        case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        case RD_KAFKA_RESP_ERR__DESTROY:
            return true;
        default:
            return false;
    }
}

/// Errors that will not go away by sending the same message again.
bool isPermanentError(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
           err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE || err == RD_KAFKA_RESP_ERR__BAD_MSG;
}

std::string hashFieldBytes(const event::Field& f) {
    switch (f.kind) {
        case event::ValueKind::String:
            return std::string(f.s);
        case event::ValueKind::Int:
        case event::ValueKind::Uint: {
            // Beats writes integers little-endian into the hash (binary.Write).
            uint64_t v = f.kind == event::ValueKind::Int ? static_cast<uint64_t>(f.i) : f.u;
            std::string out(8, '\0');
            for (size_t i = 0; i < 8; ++i) {
                out[i] = static_cast<char>(v & 0xff);
                v >>= 8;
            }
            return out;
        }
        case event::ValueKind::Double: {
            std::ostringstream s;
            s.precision(17);
            s << f.d;
            return s.str();
        }
        case event::ValueKind::Bool:
            return f.b ? "true" : "false";
        case event::ValueKind::StringList: {
            std::string out;
            for (const auto& s : f.list) {
                out.append(s);
            }
            return out;
        }
        case event::ValueKind::IntList: {
            std::string out;
            for (const int64_t v : f.ints) {
                out += std::to_string(v);
            }
            return out;
        }
    }
    return {};
}

/// "host:port" split; false when there is no usable port.
bool splitHostPort(const std::string& host, std::string& name, std::string& port) {
    const size_t colon = host.rfind(':');
    if (colon == std::string::npos) {
        name = host;
        port = "9092";
    } else {
        name = host.substr(0, colon);
        port = host.substr(colon + 1);
    }
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }
    if (name.empty() || port.empty() ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    return std::stoul(port) <= 65535;
}

class KafkaClient final : public Client {
public:
    KafkaClient(std::shared_ptr<const Settings> settings, monitoring::Registry* metrics)
        : settings_(std::move(settings)), codec_(settings_->codec) {
        if (metrics != nullptr) {
            write_bytes_ = &metrics->counter("libbeat.output.write.bytes");
            write_errors_ = &metrics->counter("libbeat.output.write.errors");
        }
        default_codec_ = !settings_->codec.pretty && !settings_->codec.escape_html &&
                         settings_->codec.format.empty();
    }

    ~KafkaClient() override { close(); }

    core::Status connect() override {
        if (rk_ != nullptr) {
            return core::Status::ok();
        }
        std::string error;
        rd_kafka_conf_t* conf = makeConf(settings_->properties, error);
        if (conf == nullptr) {
            return core::Status::error(error);
        }
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_dr_msg_cb(conf, &KafkaClient::onDelivery);
        rd_kafka_conf_set_log_cb(conf, &logFromLibrdkafka);
        rd_kafka_conf_set_error_cb(conf, &errorFromLibrdkafka);
        char errstr[512];
        rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (rk_ == nullptr) {
            rd_kafka_conf_destroy(conf);
            return core::Status::error(std::string("creating the Kafka producer: ") + errstr);
        }
        broken_.store(false);
        polling_.store(true);
        poller_ = std::thread([this] {
            while (polling_.load()) {
                rd_kafka_poll(rk_, 100);
            }
        });
        // Like sarama's client, refuse to start while no broker answers: the pipeline
        // then retries connect() with backoff, using no batch's retries.
        const struct rd_kafka_metadata* md = nullptr;
        const rd_kafka_resp_err_t err =
            rd_kafka_metadata(rk_, 0, nullptr, &md, metadataTimeoutMs());
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            close();
            return core::Status::error("Kafka brokers " + joinedHosts() +
                                       " unreachable: " + rd_kafka_err2str(err));
        }
        kLog.info("Kafka producer connected to " + std::to_string(md->broker_cnt) +
                  " brokers via " + joinedHosts());
        rd_kafka_metadata_destroy(md);
        return core::Status::ok();
    }

    core::Status publish(BatchPtr batch) override {
        if (rk_ == nullptr) {
            batch->cancel();
            return core::Status::error("not connected");
        }
        if (broken_.load()) {
            batch->cancel();
            return core::Status::error("Kafka brokers unreachable: messages timed out after " +
                                       std::to_string(toMs(settings_->timeout_ns)) + " ms");
        }
        auto owned = std::make_unique<BatchState>();
        BatchState* state = owned.get();
        state->batch = std::move(batch);
        const std::span<const encode::EncodedEvent> events = state->batch->events();
        state->refs.resize(events.size());
        {
            std::lock_guard lock(outstanding_mutex_);
            outstanding_.emplace(state, std::move(owned));
        }
        uint32_t no_topic = 0;
        uint32_t too_big = 0;
        std::vector<rd_kafka_vu_t> vus;
        std::string key_buffer;
        std::string hash_buffer;
        for (uint32_t i = 0; i < events.size(); ++i) {
            const encode::EncodedEvent& ev = events[i];
            MessageRef& ref = state->refs[i];
            ref.batch = state;
            ref.index = i;
            std::optional<std::string> topic = settings_->topic.select(ev);
            if (!topic || topic->empty()) {
                ++no_topic;
                dropItem(*state);
                continue;
            }
            std::string_view value = ev.json;
            if (!default_codec_) {
                std::string scratch;
                const std::string_view encoded = codec_.apply(ev, scratch);
                state->bodies.emplace_back(encoded);
                value = state->bodies.back();
            }
            std::string_view key = ev.key;
            if (settings_->key || !settings_->hash_fields.empty()) {
                processors::JsonFieldSource fields(ev.json);
                if (settings_->key) {
                    std::optional<std::string> k = settings_->key->expand(ev, fields);
                    if (!k) {
                        // libbeat drops an event whose key cannot be formatted.
                        kLog.warn("Dropping event: the key format '" + settings_->key->text() +
                                  "' names a field the event lacks");
                        dropItem(*state);
                        continue;
                    }
                    key_buffer = std::move(*k);
                    key = key_buffer;
                }
                if (!settings_->hash_fields.empty()) {
                    hashFields(fields, hash_buffer, ref);
                }
            }
            if (value.size() + key.size() + settings_->headers_bytes >
                settings_->max_message_bytes) {
                ++too_big;
                dropItem(*state);
                continue;
            }
            rd_kafka_topic_t* rkt = topicHandle(*topic);
            if (rkt == nullptr) {
                failItem(*state, i, RD_KAFKA_RESP_ERR__INVALID_ARG);
                continue;
            }
            vus.clear();
            addVu(vus, RD_KAFKA_VTYPE_RKT).u.rkt = rkt;
            addVu(vus, RD_KAFKA_VTYPE_PARTITION).u.i32 = kUnassignedPartition;
            // No copy: the value lives in the batch until its delivery report.
            auto& v = addVu(vus, RD_KAFKA_VTYPE_VALUE);
            v.u.mem.ptr = const_cast<char*>(value.data());
            v.u.mem.size = value.size();
            addVu(vus, RD_KAFKA_VTYPE_MSGFLAGS).u.i = RD_KAFKA_MSG_F_BLOCK;
            if (!key.empty()) {
                auto& k = addVu(vus, RD_KAFKA_VTYPE_KEY);  // librdkafka copies keys
                k.u.mem.ptr = const_cast<char*>(key.data());
                k.u.mem.size = key.size();
            }
            if (ev.timestamp > 0) {
                addVu(vus, RD_KAFKA_VTYPE_TIMESTAMP).u.i64 = toMs(ev.timestamp);
            }
            addVu(vus, RD_KAFKA_VTYPE_OPAQUE).u.ptr = &ref;
            for (const auto& [hk, hv] : settings_->headers) {
                auto& h = addVu(vus, RD_KAFKA_VTYPE_HEADER);
                h.u.header.name = hk.c_str();
                h.u.header.val = hv.data();
                h.u.header.size = static_cast<ssize_t>(hv.size());
            }
            {
                std::lock_guard lock(state->mutex);
                ++state->pending;
            }
            rd_kafka_error_t* error = rd_kafka_produceva(rk_, vus.data(), vus.size());
            if (error != nullptr) {
                const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
                rd_kafka_error_destroy(error);
                kLog.error(std::string("Kafka producer refused an event: ") +
                           rd_kafka_err2str(code));
                settle(*state, i, code, 0);
            }
        }
        if (no_topic > 0) {
            kLog.warn("Dropping " + std::to_string(no_topic) +
                      " events: no topic could be selected");
        }
        if (too_big > 0) {
            kLog.warn("Dropping " + std::to_string(too_big) +
                      " events: bigger than max_message_bytes (" +
                      std::to_string(settings_->max_message_bytes) + ")");
        }
        finishProducing(*state);
        return core::Status::ok();
    }

    void close() override {
        if (rk_ == nullptr) {
            return;
        }
        polling_.store(false);
        if (poller_.joinable()) {
            poller_.join();
        }
        if (!broken_.load()) {
            // Bounded: with brokers gone the rest is purged and cancelled (resent later).
            rd_kafka_flush(
                rk_, static_cast<int>(std::min<int64_t>(toMs(settings_->timeout_ns), 10'000)));
        }
        rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (hasOutstanding() && std::chrono::steady_clock::now() < deadline) {
            rd_kafka_poll(rk_, 50);
        }
        for (auto& [name, topic] : topics_) {
            rd_kafka_topic_destroy(topic.handle);
        }
        rd_kafka_destroy(rk_);
        rk_ = nullptr;
        topics_.clear();
        // Batches whose reports never came (should not happen after purge): resend them.
        std::unordered_map<BatchState*, std::unique_ptr<BatchState>> left;
        {
            std::lock_guard lock(outstanding_mutex_);
            left.swap(outstanding_);
        }
        for (auto& [ptr, state] : left) {
            state->batch->cancel();
        }
    }

    std::string describe() const override { return "kafka(" + joinedHosts() + ")"; }

    size_t maxInFlight() const override { return kMaxInFlight; }

    void test(TestDriver& driver) override {
        for (const std::string& host : settings_->hosts) {
            driver.section("Kafka: " + host, [&] { testHost(driver, host); });
        }
    }

private:
    struct Topic {
        rd_kafka_topic_t* handle = nullptr;
        std::unique_ptr<TopicState> state;
    };

    static rd_kafka_vu_t& addVu(std::vector<rd_kafka_vu_t>& vus, rd_kafka_vtype_t type) {
        rd_kafka_vu_t vu;
        std::memset(&vu, 0, sizeof vu);
        vu.vtype = type;
        vus.push_back(vu);
        return vus.back();
    }

    int metadataTimeoutMs() const {
        return static_cast<int>(std::clamp<int64_t>(toMs(settings_->timeout_ns), 100, 30'000));
    }

    std::string joinedHosts() const {
        std::string out;
        for (const auto& h : settings_->hosts) {
            out += out.empty() ? h : "," + h;
        }
        return out;
    }

    void hashFields(const processors::JsonFieldSource& fields, std::string& buffer,
                    MessageRef& ref) const {
        uint32_t hash = 2166136261u;
        for (const std::string& name : settings_->hash_fields) {
            const event::Field* f = fields.lookup(name);
            if (f == nullptr) {
                return;  // a missing field: the key (or chance) decides instead
            }
            buffer = hashFieldBytes(*f);
            hash = fnv1a32(buffer, hash);
        }
        ref.has_hash = true;
        ref.hash = hash;
    }

    rd_kafka_topic_t* topicHandle(const std::string& name) {
        if (auto it = topics_.find(name); it != topics_.end()) {
            return it->second.handle;
        }
        Topic topic;
        topic.state = std::make_unique<TopicState>();
        topic.state->settings = settings_.get();
        rd_kafka_topic_conf_t* tconf = rd_kafka_default_topic_conf_dup(rk_);
        rd_kafka_topic_conf_set_opaque(tconf, topic.state.get());
        rd_kafka_topic_conf_set_partitioner_cb(tconf, &TopicState::partitionerCallback);
        topic.handle = rd_kafka_topic_new(rk_, name.c_str(), tconf);
        if (topic.handle == nullptr) {
            kLog.error("Kafka topic '" + name + "': " + rd_kafka_err2str(rd_kafka_last_error()));
            return nullptr;
        }
        rd_kafka_topic_t* handle = topic.handle;
        topics_.emplace(name, std::move(topic));
        return handle;
    }

    bool hasOutstanding() {
        std::lock_guard lock(outstanding_mutex_);
        return !outstanding_.empty();
    }

    static void dropItem(BatchState& state) {
        std::lock_guard lock(state.mutex);
        ++state.dropped;
    }

    void failItem(BatchState& state, uint32_t index, rd_kafka_resp_err_t err) {
        std::lock_guard lock(state.mutex);
        recordFailure(state, index, err);
    }

    void recordFailure(BatchState& state, uint32_t index, rd_kafka_resp_err_t err) {
        // Messages purged by close() were not refused by anyone: no write error.
        const bool closing = err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                             err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT ||
                             err == RD_KAFKA_RESP_ERR__DESTROY;
        if (!closing && write_errors_ != nullptr) {
            write_errors_->add();
        }
        if (isConnectivityError(err)) {
            state.cancelled.push_back(index);
            if (!closing) {
                broken_.store(true);
            }
        } else if (isPermanentError(err)) {
            ++state.dropped;
        } else {
            state.failed.push_back(index);
        }
    }

    /// One message is done (delivered when err is 0).
    void settle(BatchState& state, uint32_t index, rd_kafka_resp_err_t err, size_t bytes) {
        bool last = false;
        {
            std::lock_guard lock(state.mutex);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                ++state.delivered;
                if (write_bytes_ != nullptr) {
                    write_bytes_->add(bytes);
                }
            } else {
                recordFailure(state, index, err);
            }
            last = --state.pending == 0;
        }
        if (last) {
            signal(state);
        }
    }

    void finishProducing(BatchState& state) {
        bool last = false;
        {
            std::lock_guard lock(state.mutex);
            last = --state.pending == 0;
        }
        if (last) {
            signal(state);
        }
    }

    void signal(BatchState& state) {
        // Only this thread can reach the state now: its messages are all settled.
        if (!state.cancelled.empty() && state.delivered == 0) {
            // Brokers unreachable: resend all without using a retry (libbeat cancels the
            // batches of a broken connection). Items dropped here are judged again then.
            state.batch->cancel();
        } else if (state.cancelled.empty() && state.failed.empty() && state.dropped == 0) {
            state.batch->ack();
        } else {
            std::vector<uint32_t> again = std::move(state.failed);
            again.insert(again.end(), state.cancelled.begin(), state.cancelled.end());
            if (!again.empty()) {
                kLog.error("Kafka: " + std::to_string(again.size()) +
                           " events failed and will be retried");
            }
            state.batch->retryEvents(std::move(again), state.dropped);
        }
        std::unique_ptr<BatchState> owned;
        std::lock_guard lock(outstanding_mutex_);
        if (auto it = outstanding_.find(&state); it != outstanding_.end()) {
            owned = std::move(it->second);
            outstanding_.erase(it);
        }
    }

    static void onDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
        auto* self = static_cast<KafkaClient*>(opaque);
        auto* ref = static_cast<MessageRef*>(message->_private);
        if (ref == nullptr) {
            return;
        }
        self->settle(*ref->batch, ref->index, message->err, message->len);
    }

    void testHost(TestDriver& driver, const std::string& host) {
        std::string name;
        std::string port;
        uint16_t port_number = 0;
        if (splitHostPort(host, name, port)) {
            port_number = static_cast<uint16_t>(std::strtoul(port.c_str(), nullptr, 10));
        }
        if (!checkTcpConnection(driver, name, port_number,
                                static_cast<int64_t>(metadataTimeoutMs()) * 1'000'000)) {
            return;
        }
        (void)driver.run("talk to server", [&] { return metadataFrom(host); });
    }

    /// A metadata request to `host` alone, as the producer's first request would be.
    core::Status metadataFrom(const std::string& host) const {
        std::vector<std::pair<std::string, std::string>> props = settings_->properties;
        props.emplace_back("bootstrap.servers", host);
        std::string error;
        rd_kafka_conf_t* conf = makeConf(props, error);
        if (conf == nullptr) {
            return core::Status::error(error);
        }
        rd_kafka_conf_set_log_cb(conf, &logFromLibrdkafka);
        char errstr[512];
        rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (rk == nullptr) {
            rd_kafka_conf_destroy(conf);
            return core::Status::error(errstr);
        }
        const struct rd_kafka_metadata* md = nullptr;
        const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, nullptr, &md, metadataTimeoutMs());
        core::Status st = core::Status::ok();
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            st = core::Status::error(std::string("metadata request: ") + rd_kafka_err2str(err));
        } else {
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_destroy(rk);
        return st;
    }

    std::shared_ptr<const Settings> settings_;
    Codec codec_;
    bool default_codec_ = true;
    rd_kafka_t* rk_ = nullptr;
    std::thread poller_;
    std::atomic<bool> polling_{false};
    /// A message timed out or a broker link broke: the next publish() reports the
    /// connection broken, so the pipeline reconnects with backoff.
    std::atomic<bool> broken_{false};
    std::map<std::string, Topic, std::less<>> topics_;
    std::mutex outstanding_mutex_;
    std::unordered_map<BatchState*, std::unique_ptr<BatchState>> outstanding_;
    monitoring::Counter* write_bytes_ = nullptr;
    monitoring::Counter* write_errors_ = nullptr;
};

/// "2.1.0" → {2,1,0}; false unless 2 to 4 dot-separated numbers.
bool parseVersion(const std::string& text, std::vector<int>& parts) {
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, '.')) {
        if (item.empty() || item.size() > 4 ||
            !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return false;
        }
        parts.push_back(std::stoi(item));
    }
    if (!text.empty() && text.back() == '.') {
        return false;
    }
    return parts.size() >= 2 && parts.size() <= 4;
}

core::Status readPartitioner(const config::Config& cfg, const std::string& prefix, Settings& s) {
    const std::string base = prefix + ".partition";
    const config::Node* node = cfg.node(base);
    if (node == nullptr || !node->isMap() || node->entries().empty()) {
        return core::Status::ok();  // default: hash by key
    }
    if (node->entries().size() > 1) {
        return core::Status::error(cfg.errorAt(base, "only one partitioner may be configured"));
    }
    const std::string& kind = node->entries().front().first;
    const std::string path = base + "." + kind;
    s.reachable_only = cfg.getBool(path + ".reachable_only");
    if (kind == "hash") {
        s.partitioner = PartitionerKind::Hash;
        s.hash_fields = cfg.getStringList(path + ".hash");
    } else if (kind == "random") {
        s.partitioner = PartitionerKind::Random;
        s.group_events = cfg.getInt(path + ".group_events");
    } else {
        s.partitioner = PartitionerKind::RoundRobin;
        s.group_events = cfg.getInt(path + ".group_events");
    }
    return core::Status::ok();
}

core::Status readTls(const config::Config& cfg, const std::string& prefix, Settings& s,
                     bool& tls_on) {
    core::Result<TlsSettings> read = tlsFromConfig(cfg, prefix + ".ssl");
    if (!read) {
        return read.status();
    }
    const TlsSettings& tls = read.value();
    tls_on = tls.enabled;
    if (!tls.enabled) {
        return core::Status::ok();
    }
    if (!tls.ca_trusted_fingerprint.empty()) {
        const std::string key =
            cfg.has(prefix + ".ssl.ca_sha256") ? ".ssl.ca_sha256" : ".ssl.ca_trusted_fingerprint";
        return core::Status::error(
            cfg.errorAt(prefix + key,
                        "CA fingerprint pinning is not supported by the kafka output (use "
                        "certificate_authorities)"));
    }
    auto& p = s.properties;
    if (tls.certificate_authorities.size() == 1 && !isInlinePem(tls.certificate_authorities[0])) {
        p.emplace_back("ssl.ca.location", tls.certificate_authorities[0]);
    } else if (!tls.certificate_authorities.empty()) {
        // Several CAs, or inline PEM: librdkafka takes one PEM text holding them all.
        std::string pem;
        for (const std::string& ca : tls.certificate_authorities) {
            if (isInlinePem(ca)) {
                pem += ca;
            } else {
                std::ifstream in(ca);
                if (!in) {
                    return core::Status::error(cfg.errorAt(prefix + ".ssl.certificate_authorities",
                                                           "cannot read CA file '" + ca + "'"));
                }
                std::stringstream text;
                text << in.rdbuf();
                pem += text.str();
            }
            pem += "\n";
        }
        p.emplace_back("ssl.ca.pem", pem);
    }
    if (!tls.certificate.empty()) {
        p.emplace_back(
            isInlinePem(tls.certificate) ? "ssl.certificate.pem" : "ssl.certificate.location",
            tls.certificate);
    }
    if (!tls.key.empty()) {
        p.emplace_back(isInlinePem(tls.key) ? "ssl.key.pem" : "ssl.key.location", tls.key);
    }
    if (!tls.key_passphrase.empty()) {
        p.emplace_back("ssl.key.password", tls.key_passphrase);
    }
    p.emplace_back("enable.ssl.certificate.verification", tls.verifyPeer() ? "true" : "false");
    p.emplace_back("ssl.endpoint.identification.algorithm", tls.verifyHost() ? "https" : "none");
    return core::Status::ok();
}

config::Spec partitionerSpec(bool with_group_events) {
    std::vector<std::pair<std::string, config::Spec>> fields{
        {"reachable_only", config::boolean(false)}};
    if (with_group_events) {
        fields.emplace_back("group_events", config::integer(1, 1));
    } else {
        fields.emplace_back("hash", config::listOf(config::stringNoDefault()));
        fields.emplace_back("random", config::boolean(false));
    }
    return config::object(std::move(fields));
}

}  // namespace

config::Spec KafkaFactory::schema() const {
    return config::object({
        {"hosts", config::listOf(config::stringNoDefault())},
        {"topic", config::stringNoDefault()},
        {"topics", Selector::rulesSchema("topic")},
        {"key", config::stringNoDefault()},
        {"partition", config::object({
                          {"hash", partitionerSpec(false)},
                          {"random", partitionerSpec(true)},
                          {"round_robin", partitionerSpec(true)},
                      })},
        {"headers", config::listOf(config::object({
                        {"key", config::required(config::stringNoDefault())},
                        {"value", config::string("")},
                    }))},
        {"client_id", config::string("beats")},
        {"version", config::string("2.1.0")},
        {"username", config::stringNoDefault()},
        {"password", config::stringNoDefault()},
        {"sasl", config::object({{"mechanism", config::stringNoDefault()}})},
        {"kerberos", config::object({
                         {"enabled", config::boolean(true)},
                         {"auth_type", config::stringNoDefault()},
                         {"config_path", config::stringNoDefault()},
                         {"keytab", config::stringNoDefault()},
                         {"username", config::stringNoDefault()},
                         {"password", config::stringNoDefault()},
                         {"service_name", config::stringNoDefault()},
                         {"realm", config::stringNoDefault()},
                         {"enable_krb5_fast", config::boolean(false)},
                     })},
        {"codec", codecSchema()},
        {"metadata", config::object({
                         {"refresh_frequency", config::duration("10m", 0)},
                         {"full", config::boolean(false)},
                         {"retry", config::object({
                                       {"max", config::integer(3, 0)},
                                       {"backoff", config::duration("250ms", 0)},
                                   })},
                     })},
        {"max_retries", config::integer(3)},
        {"backoff", config::object({
                        {"init", config::duration("1s", 0)},
                        {"max", config::duration("60s", 0)},
                    })},
        {"bulk_max_size", config::integer(2048)},
        {"bulk_flush_frequency", config::duration("0s", 0)},
        {"timeout", config::duration("30s", 0.001)},
        {"broker_timeout", config::duration("10s", 0.001)},
        {"channel_buffer_size", config::integer(256, 1)},
        {"keep_alive", config::duration("0s", 0)},
        {"compression", config::oneOf("gzip", {"none", "snappy", "lz4", "gzip", "zstd"})},
        {"compression_level", config::integer(4, 0, 9)},
        {"max_message_bytes", config::integer(1000000, 1)},
        {"required_acks", config::integer(1, -1, 1)},
        {"ssl", tlsSchema()},
    });
}

core::Result<Group> KafkaFactory::create(const OutputContext& ctx, const config::Config& cfg,
                                         const std::string& prefix) const {
    auto s = std::make_shared<Settings>();
    s->hosts = cfg.getStringList(prefix + ".hosts");
    if (s->hosts.empty()) {
        return core::Status::error(cfg.errorAt(prefix + ".hosts", "missing required field"));
    }
    core::Result<Selector> topic = Selector::fromConfig(cfg, prefix, "topic", "topics", false);
    if (!topic) {
        return topic.status();
    }
    if (topic.value().empty()) {
        return core::Status::error(cfg.errorAt(prefix + ".topic", "missing required field"));
    }
    s->topic = std::move(topic).value();
    if (const config::Node* k = cfg.node(prefix + ".key"); k != nullptr && k->isScalar()) {
        core::Result<FormatString> key = FormatString::parse(k->text());
        if (!key) {
            return core::Status::error(cfg.errorAt(prefix + ".key", key.status().message()));
        }
        s->key = std::move(key).value();
    }
    if (core::Status st = readPartitioner(cfg, prefix, *s); !st) {
        return st;
    }
    if (const config::Node* h = cfg.node(prefix + ".headers"); h != nullptr && h->isSequence()) {
        // List items have no schema paths of their own: read their nodes directly.
        for (const config::Node& item : h->items()) {
            const config::Node* key = item.child("key");
            const config::Node* value = item.child("value");
            s->headers.emplace_back(key != nullptr ? key->text() : "",
                                    value != nullptr ? value->text() : "");
            s->headers_bytes += s->headers.back().first.size() + s->headers.back().second.size();
        }
    }
    if (cfg.has(prefix + ".kerberos") && cfg.getBool(prefix + ".kerberos.enabled")) {
        return core::Status::error(cfg.errorAt(
            prefix + ".kerberos",
            "kerberos is not supported by sipbeat's kafka output (use username/password with "
            "sasl.mechanism, or set kerberos.enabled: false)"));
    }
    const std::string version = cfg.getString(prefix + ".version");
    std::vector<int> v;
    if (!parseVersion(version, v) || v < std::vector<int>{0, 8, 2, 0} || v[0] > 4) {
        return core::Status::error(cfg.errorAt(
            prefix + ".version", "unsupported Kafka version '" + version + "' (0.8.2.0 to 4.x)"));
    }
    s->codec = readCodec(cfg, prefix);
    s->client_id = cfg.getString(prefix + ".client_id");
    s->timeout_ns = cfg.getDurationNs(prefix + ".timeout");
    s->max_message_bytes = static_cast<uint64_t>(cfg.getInt(prefix + ".max_message_bytes"));

    auto& p = s->properties;
    std::string bootstrap;
    for (const auto& h : s->hosts) {
        bootstrap += bootstrap.empty() ? h : "," + h;
    }
    p.emplace_back("bootstrap.servers", bootstrap);
    p.emplace_back("client.id", s->client_id);
    if (v < std::vector<int>{0, 10}) {
        // Brokers before 0.10 do not answer ApiVersion requests.
        p.emplace_back("api.version.request", "false");
        p.emplace_back("broker.version.fallback", version);
    } else {
        p.emplace_back("api.version.request", "true");
    }
    const int64_t timeout_ms = std::max<int64_t>(toMs(s->timeout_ns), 1);
    const int64_t broker_timeout_ms =
        std::max<int64_t>(toMs(cfg.getDurationNs(prefix + ".broker_timeout")), 1);
    // `timeout` bounds how long a message may wait for the brokers in all (librdkafka
    // retries inside it); one that times out is cancelled and resent by the pipeline.
    p.emplace_back("message.timeout.ms", std::to_string(timeout_ms));
    // `broker_timeout`: how long the leader waits for required_acks (sarama's
    // Producer.Timeout), which librdkafka sends as the request timeout.
    p.emplace_back("request.timeout.ms", std::to_string(std::min(broker_timeout_ms, timeout_ms)));
    p.emplace_back("socket.timeout.ms", std::to_string(std::max<int64_t>(timeout_ms, 10)));
    p.emplace_back("acks", std::to_string(cfg.getInt(prefix + ".required_acks")));
    const std::string compression = cfg.getString(prefix + ".compression");
    p.emplace_back("compression.codec", compression);
    if (compression == "gzip") {
        // Beats applies compression_level to gzip only.
        p.emplace_back("compression.level",
                       std::to_string(cfg.getInt(prefix + ".compression_level")));
    }
    // Room for the record batch framing around the largest message we let through.
    p.emplace_back("message.max.bytes", std::to_string(std::clamp<uint64_t>(
                                            s->max_message_bytes + 1024, 1000, 1'000'000'000)));
    p.emplace_back("linger.ms",
                   std::to_string(toMs(cfg.getDurationNs(prefix + ".bulk_flush_frequency"))));
    const int64_t bulk = cfg.getInt(prefix + ".bulk_max_size");
    // Every message of the batches in flight fits, so produce() does not wait for room.
    p.emplace_back("queue.buffering.max.messages",
                   std::to_string(std::max<int64_t>(100'000, bulk * 2 * int64_t{kMaxInFlight})));
    p.emplace_back("topic.metadata.refresh.interval.ms",
                   std::to_string(toMs(cfg.getDurationNs(prefix + ".metadata.refresh_frequency"))));
    p.emplace_back("topic.metadata.refresh.sparse",
                   cfg.getBool(prefix + ".metadata.full") ? "false" : "true");
    p.emplace_back("topic.metadata.refresh.fast.interval.ms",
                   std::to_string(std::max<int64_t>(
                       toMs(cfg.getDurationNs(prefix + ".metadata.retry.backoff")), 1)));
    if (cfg.getDurationNs(prefix + ".keep_alive") > 0) {
        p.emplace_back("socket.keepalive.enable", "true");
    }
    bool tls_on = false;
    if (core::Status st = readTls(cfg, prefix, *s, tls_on); !st) {
        return st;
    }
    const std::string username = cfg.getString(prefix + ".username");
    if (!username.empty()) {
        std::string mechanism = cfg.getString(prefix + ".sasl.mechanism");
        if (mechanism.empty()) {
            mechanism = "PLAIN";
        }
        if (mechanism != "PLAIN" && mechanism != "SCRAM-SHA-256" && mechanism != "SCRAM-SHA-512") {
            return core::Status::error(cfg.errorAt(prefix + ".sasl.mechanism",
                                                   "unknown SASL mechanism '" + mechanism +
                                                       "' (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"));
        }
        p.emplace_back("security.protocol", tls_on ? "SASL_SSL" : "SASL_PLAINTEXT");
        p.emplace_back("sasl.mechanisms", mechanism);
        p.emplace_back("sasl.username", username);
        p.emplace_back("sasl.password", cfg.getString(prefix + ".password"));
    } else {
        p.emplace_back("security.protocol", tls_on ? "SSL" : "PLAINTEXT");
    }
    // Refused properties (a codec this librdkafka lacks, …) are reported now, not at
    // every reconnect.
    std::string error;
    if (rd_kafka_conf_t* conf = makeConf(p, error); conf != nullptr) {
        rd_kafka_conf_destroy(conf);
    } else {
        return core::Status::error("librdkafka refused " + error + " (from " + prefix + ")");
    }

    Group g;
    g.clients.push_back(std::make_unique<KafkaClient>(s, ctx.metrics));
    g.bulk_max_size = bulk;
    g.max_retries = static_cast<int32_t>(cfg.getInt(prefix + ".max_retries"));
    g.backoff_init_ns = cfg.getDurationNs(prefix + ".backoff.init");
    g.backoff_max_ns = cfg.getDurationNs(prefix + ".backoff.max");
    return g;
}

}  // namespace sipbeat::outputs::kafka
