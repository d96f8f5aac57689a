// SPDX-License-Identifier: Apache-2.0
#include "beat/app/commands.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>

#include "beat/app/instance.h"
#include "beat/app/sip_job.h"
#include "beat/app/stats_schedule.h"
#include "beat/capture/pcap_source.h"
#include "beat/core/logging.h"
#include "beat/core/uuid.h"
#include "beat/core/version.h"
#include "beat/event/document.h"
#include "beat/monitoring/registry.h"
#include "beat/pipeline/disk_queue.h"
#include "beat/pipeline/pipeline.h"
#include "beat/pipeline/publisher.h"
#include "field_names.h"
#include "outputs/common/test_driver.h"

namespace sipbeat::app {

namespace {

const core::logging::Logger kLog("beat");

std::string arch() {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#else
    return "unknown";
#endif
}

[[noreturn]] void fatal(const std::string& reason) {
    throw config::ConfigError(reason);
}

/// Builds the counters event of sipcmbeat.md §9: `counters.<group>.<name>.val`.
/// A counters event (sipcmbeat.md §9): `counters.<group path>.<name>.val`, plus `.max` for
/// gauges (sipcmbeat's max counters), for the counters of the groups due.
void buildCountersEvent(event::Document& doc, const monitoring::Registry& metrics,
                        core::TimestampNs now, const std::vector<std::string>& groups) {
    doc.clear();
    doc.timestamp = now;
    doc.setString(fields::kType, "counters");
    doc.setString(fields::kEventKind, "metric");
    doc.setString(fields::kEventModule, "sip");
    doc.setString(fields::kEventDataset, "sip.counters");
    std::string key;
    for (const monitoring::Sample& c : metrics.samples()) {
        if (!StatsSchedule::selected(c.name, groups)) {
            continue;
        }
        key = "counters.";
        key += c.name;
        key += ".val";
        doc.setUint(key, c.value);
        if (c.gauge) {
            key.resize(key.size() - 3);
            key += "max";
            doc.setUint(key, c.max);
        }
    }
}

/// Everything run and test config share: config, logging, output group.
struct Setup {
    config::Config cfg;
    outputs::Registry outputs;
    std::string output_name;
};

std::unique_ptr<Setup> prepare(const CliOptions& cli, const std::string& binary_dir) {
    outputs::Registry registry;
    outputs::registerBuiltinOutputs(registry);
    config::Config cfg = loadConfig(cli, registry, binary_dir);
    std::string name = enabledOutput(cfg, registry);
    return std::make_unique<Setup>(Setup{std::move(cfg), std::move(registry), std::move(name)});
}

outputs::Group createOutput(const Setup& s, const outputs::OutputContext& ctx) {
    const outputs::Factory* factory = s.outputs.find(s.output_name);
    auto group = factory->create(ctx, s.cfg, "output." + s.output_name);
    if (!group) {
        fatal("error initializing output '" + s.output_name + "': " + group.status().message());
    }
    return std::move(group).value();
}

processors::ProcessorList compileProcessorList(const config::Config& cfg, const std::string& path,
                                               const processors::HostInfo& host) {
    const config::Node* node = cfg.node(path);
    if (node == nullptr || node->isNull()) {
        return {};
    }
    auto list = processors::compileProcessors(*node, path, host);
    if (!list) {
        fatal(list.status().message());
    }
    return std::move(list).value();
}

/// go-humanize's ParseBytes, as libbeat reads `queue.disk.max_size`: "10GB" (powers of
/// 1000), "10GiB" (powers of 1024), or a plain byte count.
bool parseByteSize(std::string text, uint64_t& out) {
    size_t i = 0;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
        ++i;
    }
    double value = 0;
    if (i == 0 || !config::parseFloat(text.substr(0, i), value)) {
        return false;
    }
    std::string unit;
    for (size_t j = i; j < text.size(); ++j) {
        if (text[j] != ' ') {
            unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[j]))));
        }
    }
    static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                            {"b", 1},
                                                            {"k", 1e3},
                                                            {"kb", 1e3},
                                                            {"kib", 1024.0},
                                                            {"ki", 1024.0},
                                                            {"m", 1e6},
                                                            {"mb", 1e6},
                                                            {"mib", 1048576.0},
                                                            {"mi", 1048576.0},
                                                            {"g", 1e9},
                                                            {"gb", 1e9},
                                                            {"gib", 1073741824.0},
                                                            {"gi", 1073741824.0},
                                                            {"t", 1e12},
                                                            {"tb", 1e12},
                                                            {"tib", 1099511627776.0},
                                                            {"ti", 1099511627776.0}};
    for (const auto& [name, factor] : kUnits) {
        if (unit == name) {
            out = static_cast<uint64_t>(value * factor);
            return true;
        }
    }
    return false;
}

/// The queue: `queue.*` at the top level or under the output, never both (libbeat).
struct QueueChoice {
    pipeline::QueueSettings mem;
    std::optional<pipeline::DiskQueueSettings> disk;
};

QueueChoice queueChoice(const config::Config& cfg, const std::string& output_name,
                        const std::string& data_path) {
    const std::string under_output = "output." + output_name + ".queue";
    const bool top = cfg.has("queue");
    const bool per_output = cfg.has(under_output);
    if (top && per_output) {
        fatal(
            "queue is set both at the top level and under the output; set only one "
            "accessing '" +
            under_output + "' " + cfg.originOf(under_output).describe());
    }
    const std::string prefix = per_output ? under_output : "queue";
    if (cfg.has(prefix + ".mem") && cfg.has(prefix + ".disk")) {
        fatal("only one queue type can be set (mem or disk) accessing '" + prefix + "' " +
              cfg.originOf(prefix).describe());
    }
    QueueChoice q;
    q.mem.events = static_cast<size_t>(cfg.getInt(prefix + ".mem.events"));
    q.mem.flush_min_events = static_cast<size_t>(cfg.getInt(prefix + ".mem.flush.min_events"));
    q.mem.flush_timeout_ns = cfg.getDurationNs(prefix + ".mem.flush.timeout");
    if (!cfg.has(prefix + ".disk")) {
        return q;
    }
    const auto size = [&](const std::string& key, uint64_t min, bool required) -> uint64_t {
        const std::string path = prefix + ".disk." + key;
        if (!cfg.has(path)) {
            if (required) {
                fatal("missing required field accessing '" + path + "' " +
                      cfg.originOf(prefix + ".disk").describe());
            }
            return 0;
        }
        uint64_t v = 0;
        if (!parseByteSize(cfg.getString(path), v)) {
            fatal("invalid size '" + cfg.getString(path) + "' (use bytes or e.g. 200MB, 10GiB) " +
                  "accessing '" + path + "' " + cfg.originOf(path).describe());
        }
        if (v != 0 && v < min) {
            fatal("value " + cfg.getString(path) + " is below the minimum of " +
                  std::to_string(min) + " bytes accessing '" + path + "' " +
                  cfg.originOf(path).describe());
        }
        return v;
    };
    pipeline::DiskQueueSettings d;
    d.path = cfg.has(prefix + ".disk.path") ? cfg.getString(prefix + ".disk.path")
                                            : data_path + "/diskqueue";
    // libbeat asks for at least 10 MB; sipbeat accepts 1 MiB for small devices and tests.
    d.max_size = size("max_size", 1024 * 1024, /*required=*/true);
    d.segment_size = size("segment_size", 64 * 1024, false);
    if (d.max_size > 0 && d.segment_size > 0 && d.max_size < 2 * d.segment_size) {
        fatal("max_size must be at least twice segment_size accessing '" + prefix +
              ".disk.segment_size' " + cfg.originOf(prefix + ".disk.segment_size").describe());
    }
    d.retry_interval_ns = cfg.getDurationNs(prefix + ".disk.retry_interval");
    d.max_retry_interval_ns =
        std::max(d.retry_interval_ns, cfg.getDurationNs(prefix + ".disk.max_retry_interval"));
    q.disk = d;
    return q;
}

std::unique_ptr<pipeline::Pipeline> makePipeline(outputs::Group group, QueueChoice q,
                                                 monitoring::Registry& metrics) {
    if (group.mem_queue) {
        const outputs::MemQueuePreset& p = *group.mem_queue;
        if (q.disk) {
            // libbeat would replace the queue; sipbeat never trades a disk queue (no loss
            // across outages and kill -9) for memory behind the user's back.
            kLog.warn(p.source + " sets the memory queue; the configured disk queue is kept");
        } else {
            q.mem.events = static_cast<size_t>(p.events);
            q.mem.flush_min_events = static_cast<size_t>(p.flush_min_events);
            q.mem.flush_timeout_ns = p.flush_timeout_ns;
            kLog.info("Memory queue from " + p.source + ": events " + std::to_string(p.events) +
                      ", flush.min_events " + std::to_string(p.flush_min_events));
        }
    }
    if (!q.disk) {
        return std::make_unique<pipeline::Pipeline>(std::move(group), q.mem, metrics);
    }
    auto disk = pipeline::DiskQueue::open(*q.disk, metrics);
    if (!disk) {
        fatal(disk.status().message());
    }
    kLog.info("Disk queue at " + q.disk->path + ", max_size " + std::to_string(q.disk->max_size) +
              " bytes");
    return std::make_unique<pipeline::Pipeline>(std::move(group), std::move(disk).value(), q.mem,
                                                metrics);
}

core::Precision timestampPrecision(const config::Config& cfg) {
    const std::string p = cfg.getString("timestamp.precision");
    if (p == "millisecond") {
        return core::Precision::Millisecond;
    }
    if (p == "nanosecond") {
        return core::Precision::Nanosecond;
    }
    return core::Precision::Microsecond;
}

}  // namespace

int runVersion() {
    std::cout << core::kBeatName << " version " << core::kVersion << " (" << arch() << "), libbeat "
              << core::kVersion << " [" << core::kCommit << " built " << core::kBuildTime << "]\n";
    return 0;
}

int runTestConfig(const CliOptions& cli, const std::string& binary_dir) {
    auto s = prepare(cli, binary_dir);
    // Build the output as run would (without opening files or connections), so a bad
    // output section fails here and not at start.
    monitoring::Registry metrics;
    outputs::OutputContext ctx{std::string(core::kBeatName), std::string(core::kVersion),
                               &core::SystemClock::instance(), &metrics,
                               s->cfg.getString("path.data")};
    outputs::Group group = createOutput(*s, ctx);
    (void)queueChoice(s->cfg, s->output_name, s->cfg.getString("path.data"));
    const processors::HostInfo host = processors::HostInfo::detect();
    for (const char* path :
         {"processors", "sipbeat.messages.processors", "sipbeat.calls.processors"}) {
        (void)compileProcessorList(s->cfg, path, host);
    }
    std::cout << "Config OK\n";
    return 0;
}

int runTestOutput(const CliOptions& cli, const std::string& binary_dir) {
    auto s = prepare(cli, binary_dir);
    // Quiet: only the check tree goes to stdout (libbeat prints nothing else either).
    monitoring::Registry metrics;
    outputs::OutputContext ctx{std::string(core::kBeatName), std::string(core::kVersion),
                               &core::SystemClock::instance(), &metrics,
                               s->cfg.getString("path.data")};
    outputs::Group group = createOutput(*s, ctx);
    outputs::ConsoleTestDriver driver(std::cout);
    for (auto& client : group.clients) {
        client->test(driver);  // each prints its own tree, headed by its host
    }
    return driver.failed() ? 1 : 0;
}

int runExportConfig(const CliOptions& cli, const std::string& binary_dir) {
    auto s = prepare(cli, binary_dir);
    std::cout << config::toYaml(s->cfg.root());
    return 0;
}

namespace {

std::vector<std::string> splitSpaces(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') {
            ++i;
        }
        const size_t j = s.find(' ', i);
        if (i < s.size()) {
            out.push_back(s.substr(i, j - i));
        }
        i = j == std::string::npos ? s.size() : j;
    }
    return out;
}

/// Takes SIGINT/SIGTERM synchronously on its own thread: the first stops the input, a
/// second one gives up on undelivered events (libbeat behaves alike).
class SignalWatcher {
public:
    SignalWatcher(const sigset_t& set, std::atomic<bool>& stop, pipeline::Pipeline& pipe)
        : set_(set), stop_(stop), pipe_(pipe), thread_([this] { run(); }) {}
    ~SignalWatcher() {
        done_.store(true);
        thread_.join();
    }
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    void run() {
        int seen = 0;
        while (!done_.load()) {
            timespec ts{0, 100'000'000};
            const int sig = sigtimedwait(&set_, nullptr, &ts);
            if (sig == SIGINT || sig == SIGTERM) {
                if (++seen == 1) {
                    kLog.info("Received signal " + std::to_string(sig) + ", stopping");
                    stop_.store(true);
                } else {
                    kLog.warn("Second signal: giving up on events not yet delivered");
                    pipe_.abort();
                }
            }
        }
    }
    sigset_t set_;
    std::atomic<bool>& stop_;
    pipeline::Pipeline& pipe_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

/// Publishes a counters event every stats_interval (wall time) while the beat runs.
class CountersTicker {
public:
    CountersTicker(int64_t interval_ns, std::function<void()> tick)
        : interval_ns_(interval_ns), tick_(std::move(tick)) {
        if (interval_ns_ > 0) {
            thread_ = std::thread([this] { run(); });
        }
    }
    ~CountersTicker() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    CountersTicker(const CountersTicker&) = delete;
    CountersTicker& operator=(const CountersTicker&) = delete;

private:
    void run() {
        std::unique_lock lock(mutex_);
        while (!cv_.wait_for(lock, std::chrono::nanoseconds(interval_ns_), [&] { return done_; })) {
            lock.unlock();
            tick_();
            lock.lock();
        }
    }
    int64_t interval_ns_;
    std::function<void()> tick_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

}  // namespace

int runBeat(const CliOptions& cli, const std::string& binary_dir) {
    // SIGINT/SIGTERM are blocked before any thread starts, so every thread inherits the
    // mask and only the SignalWatcher takes them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto s = prepare(cli, binary_dir);
    const config::Config& cfg = s->cfg;
    if (core::Status st = core::logging::configure(loggingConfig(cfg, cli)); !st) {
        fatal(st.message());
    }

    // What to read: -I wins, then sipbeat.pcap (space separated, as sipcmbeat), then live.
    capture::FileOptions files;
    files.files = cli.pcap_file.empty() ? splitSpaces(cfg.getString("sipbeat.pcap"))
                                        : std::vector<std::string>{cli.pcap_file};
    const std::string iface = cfg.getString("sipbeat.iface");
    capture::HepListenOptions hep_listen;
    hep_listen.udp = cfg.getString("sipbeat.hep.listen_udp");
    hep_listen.tcp = cfg.getString("sipbeat.hep.listen_tcp");
    const bool hep_collector = !hep_listen.udp.empty() || !hep_listen.tcp.empty();
    if (files.files.empty() && iface.empty() && !hep_collector) {
        fatal(
            "no packet source: set sipbeat.pcap (files), sipbeat.iface (live capture, "
            "'any' for all interfaces) or sipbeat.hep.listen_udp/listen_tcp (HEP "
            "collector), or run with -I FILE");
    }

    const std::string home = cfg.getString("path.home");
    const std::string data = cfg.getString("path.data");
    kLog.info("Home path: [" + home + "] Config path: [" + cfg.getString("path.config") +
              "] Data path: [" + data + "] Logs path: [" + cfg.getString("path.logs") + "]");
    if (core::Status st = ensureDirectory(data); !st) {
        fatal(st.message());
    }
    DataPathLock lock;
    if (core::Status st = lock.acquire(data); !st) {
        fatal(st.message());
    }
    const core::Clock& clock = core::SystemClock::instance();
    auto meta = loadOrCreateMeta(data, clock);
    if (!meta) {
        fatal(meta.status().message());
    }
    kLog.info("Beat ID: " + meta->uuid);

    monitoring::Registry metrics;
    outputs::OutputContext ctx{std::string(core::kBeatName), std::string(core::kVersion), &clock,
                               &metrics, data};
    const QueueChoice queue = queueChoice(cfg, s->output_name, data);
    auto pipe_owner = makePipeline(createOutput(*s, ctx), queue, metrics);
    pipeline::Pipeline& pipe = *pipe_owner;
    // Live capture and the HEP collector must not stall on a slow output; files wait.
    pipe.setDropIfFull(files.files.empty());
    pipe.start();

    pipeline::BeatInfo info;
    info.name = cfg.has("name") ? cfg.getString("name") : hostName();
    info.id = meta->uuid;
    info.ephemeral_id = core::newUuidV4();
    info.version = std::string(core::kVersion);
    pipeline::ProcessingSettings processing;
    processing.tags = cfg.getStringList("tags");
    if (const config::Node* f = cfg.node("fields")) {
        processing.fields = *f;
    }
    processing.fields_under_root = cfg.getBool("fields_under_root");
    const processors::HostInfo host = processors::HostInfo::detect();
    processing.processors = compileProcessorList(cfg, "processors", host);
    processing.filtered = &metrics.counter("libbeat.pipeline.events.filtered");
    encode::JsonOptions json;
    json.precision = timestampPrecision(cfg);
    json.version = std::string(core::kVersion);
    pipeline::Publisher publisher(pipe, info, std::move(processing), json);
    std::mutex publish_mutex;

    if (cfg.getInt("sipbeat.http_port") != 0) {
        kLog.warn(
            "sipbeat.http_port is set, but the web interface is not available in this "
            "version of sipbeat");
    }
    // Anonymisation comes with a later version: asked for, it must not silently ship the
    // addresses, URIs and Call-IDs in clear text.
    for (const char* key :
         {"sipbeat.encrypt_ip_addresses", "sipbeat.encrypt_uris", "sipbeat.encrypt_call_ids",
          "sipbeat.encrypt_ua", "sipbeat.encrypt_cbc_uri", "sipbeat.encrypt_ipcipher"}) {
        if (cfg.getBool(key)) {
            pipe.close();
            fatal(std::string("anonymisation is not available in this version of sipbeat; "
                              "refusing to ship events in clear text accessing '") +
                  key + "' " + cfg.originOf(key).describe());
        }
    }
    for (const char* key : {"sipbeat.geo_ip_on", "sipbeat.pcap_dump_on"}) {
        if (cfg.getBool(key)) {
            kLog.warn(std::string(key) +
                      " is set, but it is not available in this version of "
                      "sipbeat: events carry no geoip / attrs.filename");
        }
    }

    event::Document counters_doc;
    // The final counters event carries every group configured (all by default).
    std::vector<std::string> final_groups;
    auto publishCounters = [&](const std::vector<std::string>& groups) {
        std::lock_guard guard(publish_mutex);
        buildCountersEvent(counters_doc, metrics, clock.now(), groups);
        publisher.publish(counters_doc);
    };

    std::atomic<bool> stop{false};
    SignalWatcher signals(stop_signals, stop, pipe);
    SipJob job(cfg, publisher, publish_mutex, metrics);
    job.setProcessors(compileProcessorList(cfg, "sipbeat.messages.processors", host),
                      compileProcessorList(cfg, "sipbeat.calls.processors", host));
    std::unique_ptr<capture::HepListener> listener;
    if (hep_collector) {
        auto bound = capture::HepListener::bind(hep_listen, metrics);
        if (!bound) {
            fatal(bound.status().message());
        }
        listener = std::move(bound).value();
    }
    // stats_groups can name only counter groups that exist (sipcmbeat.md §5.1): checked
    // once the job has registered its counters.
    auto schedule = StatsSchedule::parse(cfg.getStringList("sipbeat.stats_groups"),
                                         cfg.getDurationNs("sipbeat.stats_interval"), metrics);
    if (!schedule) {
        fatal(schedule.status().message() + " accessing 'sipbeat.stats_groups' " +
              cfg.originOf("sipbeat.stats_groups").describe());
    }
    StatsSchedule stats = std::move(schedule).value();
    for (const StatsSchedule::Group& g : stats.groups()) {
        final_groups.push_back(g.name);
    }
    const auto started = std::chrono::steady_clock::now();
    auto statsTick = [&] {
        std::vector<std::string> due;
        bool keepalive = false;
        const int64_t elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - started)
                                    .count();
        if (stats.due(elapsed, due, keepalive)) {
            publishCounters(due);  // empty list: the keep-alive event
        }
    };
    kLog.info(std::string(core::kBeatName) + " start running.");
    {
        CountersTicker ticker(stats.tickNs(), statsTick);
        core::Status st;
        const bool packets = !files.files.empty() || !iface.empty();
        // With another input the collector gets its own thread; alone it is the job.
        std::atomic<bool> listener_stop{false};
        std::thread listener_thread;
        if (listener && packets) {
            listener_thread = std::thread([&] { listener->serve(job, listener_stop); });
        }
        if (!packets) {
            listener->serve(job, stop);
        } else if (!files.files.empty()) {
            files.bpf = cfg.getString("sipbeat.bpf");
            files.loops = static_cast<uint32_t>(
                cli.pcap_loops >= 0 ? cli.pcap_loops
                                    : std::max<int64_t>(cfg.getInt("sipbeat.pcap_loop"), 1));
            files.replay = cfg.getBool("sipbeat.replay") && !cli.pcap_fast;
            files.replay_scale = cfg.getFloat("sipbeat.replay_scale");
            files.replay_min_delay_ns = cfg.getDurationNs("sipbeat.replay_min_delay");
            files.replay_max_delay_ns = cfg.getDurationNs("sipbeat.replay_max_delay");
            files.progress = true;
            job.setIdleMovesClock(false);
            st = capture::readFiles(files, job, metrics, stop);
            // A file read to its end: every pending timer fires (SPEC §1); stopped early by
            // a signal, the rest is not invented.
            job.finish(!stop.load());
            // sipcmbeat's end_wait: stay a while after the input (counters, the web pages).
            const auto end_wait = std::chrono::nanoseconds(cfg.getDurationNs("sipbeat.end_wait"));
            const auto wait_until = std::chrono::steady_clock::now() + end_wait;
            while (!stop.load() && std::chrono::steady_clock::now() < wait_until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (st && cfg.getBool("sipbeat.run_forever") && !listener_thread.joinable()) {
                // The input is done; stay up (counters, later the web interface) until
                // told to stop.
                kLog.info(
                    "All input read and its events published; sipbeat.run_forever "
                    "keeps sipbeat running until it is stopped");
                while (!stop.load()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                }
            }
        } else {
            capture::LiveOptions live;
            live.device = iface;
            live.bpf = cfg.getString("sipbeat.bpf");
            if (live.bpf.empty()) {
                const decode::DecodeConfig dc = SipJob::decodeConfig(cfg);
                std::vector<uint16_t> extra = dc.vxlan_ports;
                extra.insert(extra.end(), dc.hep_ports.begin(), dc.hep_ports.end());
                live.bpf = capture::buildBpf(
                    dc.sip_ports.empty() ? std::vector<uint16_t>{5060, 5061} : dc.sip_ports, extra);
            }
            live.buffer_kb = static_cast<int>(cfg.getInt("sipbeat.pcap_buf_kb"));
            live.snaplen = static_cast<int>(cfg.getInt("sipbeat.snaplen"));
            live.promiscuous = cfg.getBool("sipbeat.promiscuous");
            live.idle_timeout_ns = cfg.getDurationNs("sipbeat.max_blocked_timeout");
            st = capture::captureLive(live, job, metrics, stop);
            job.finish(false);
        }
        if (listener_thread.joinable()) {
            if (!files.files.empty() && !cfg.getBool("sipbeat.run_forever")) {
                // A file run ends with the file; the collector stops with it.
                listener_stop.store(true);
            } else {
                while (!stop.load()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                }
                listener_stop.store(true);
            }
            listener_thread.join();
        }
        if (!st) {
            kLog.error(st.message());
            pipe.close();
            fatal(st.message());
        }
    }
    publishCounters(final_groups);
    pipe.close();
    kLog.info(std::string(core::kBeatName) + " stopped. Events acked: " +
              std::to_string(pipe.acked()) + ", dropped: " + std::to_string(pipe.dropped()));
    lock.release();
    core::logging::reset();
    return 0;
}

namespace {

// Beats accepts Go-style single-dash long flags (`-path.home x`, `-strict.perms=false`);
// libbeat rewrites them to double-dash before parsing (root.go init).
std::vector<std::string> normaliseArgs(int argc, char** argv) {
    static const char* const kLong[] = {"path.home", "path.config",  "path.data",
                                        "path.logs", "strict.perms", "environment"};
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
            const std::string name = a.substr(1, a.find('=') - 1);
            for (const char* l : kLong) {
                if (name == l) {
                    a = "-" + a;
                    break;
                }
            }
        }
        args.push_back(std::move(a));
    }
    return args;
}

std::string binaryDirectory(const char* argv0) {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        p = std::filesystem::absolute(argv0, ec);
    }
    return p.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
    CliOptions cli;
    CLI::App app{"sipbeat watches SIP signalling and ships events to the Elastic stack", "sipbeat"};
    app.set_help_flag("-h,--help", "help for sipbeat");
    app.fallthrough();
    std::string home, cfg_dir, data, logs, selectors;
    app.add_option("-c", cli.config_files, "Configuration file, relative to path.config")
        ->allow_extra_args(false);
    app.add_option("-E", cli.overrides, "Configuration overwrite")->allow_extra_args(false);
    app.add_flag("-e", cli.log_to_stderr, "Log to stderr and disable syslog/file output");
    app.add_option("-d", selectors, "Enable certain debug selectors");
    app.add_flag("-v", cli.verbose, "Log at INFO level");
    app.add_option("--path.home", home, "Home path");
    app.add_option("--path.config", cfg_dir, "Configuration path");
    app.add_option("--path.data", data, "Data path");
    app.add_option("--path.logs", logs, "Logs path");
    app.add_flag("--strict.perms", cli.strict_perms,
                 "Strict permission checking on config files (default true)");
    app.add_option("--environment", cli.environment, "set environment being ran in")
        ->check(
            CLI::IsMember({"default", "systemd", "container", "macos_service", "windows_service"}));

    app.add_option("-I", cli.pcap_file, "Read packet data from specified file");
    app.add_flag("-t", cli.pcap_fast, "Read packets as fast as possible, without sleeping");
    app.add_option("-l", cli.pcap_loops, "Loop file. 0 - loop forever");
    auto* run = app.add_subcommand("run", "Run sipbeat");
    auto* test = app.add_subcommand("test", "Test config");
    auto* test_config = test->add_subcommand("config", "Test configuration settings");
    auto* test_output = test->add_subcommand("output",
                                             "Test sipbeat can connect to the output by "
                                             "using the current settings");
    test->require_subcommand(1);
    auto* exp = app.add_subcommand("export", "Export current config or index template");
    auto* exp_config = exp->add_subcommand("config", "Export current config to stdout");
    exp->require_subcommand(1);
    auto* version = app.add_subcommand("version", "Show current version info");
    app.require_subcommand(0, 1);

    std::vector<std::string> args = normaliseArgs(argc, argv);
    std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    }

    // --path.* are -E overwrites of path.* (libbeat ConfigOverwriteFlag), applied after
    // the user's -E flags in the order libbeat registers them.
    if (!home.empty()) {
        cli.overrides.push_back("path.home=" + home);
    }
    if (!cfg_dir.empty()) {
        cli.overrides.push_back("path.config=" + cfg_dir);
    }
    if (!data.empty()) {
        cli.overrides.push_back("path.data=" + data);
    }
    if (!logs.empty()) {
        cli.overrides.push_back("path.logs=" + logs);
    }
    if (app.count("-d") > 0) {
        cli.debug = true;
        size_t start = 0;
        while (start <= selectors.size()) {
            const size_t comma = selectors.find(',', start);
            std::string sel = selectors.substr(start, comma - start);
            if (!sel.empty()) {
                cli.debug_selectors.push_back(sel);
            }
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    }

    const std::string dir = binaryDirectory(argv[0]);
    try {
        if (*version) {
            return runVersion();
        }
        if (*test && *test_config) {
            return runTestConfig(cli, dir);
        }
        if (*test && *test_output) {
            return runTestOutput(cli, dir);
        }
        if (*exp && *exp_config) {
            return runExportConfig(cli, dir);
        }
        (void)run;
        return runBeat(cli, dir);
    } catch (const config::ConfigError& e) {
        core::logging::reset();
        std::cerr << "Exiting: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "Exiting: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace sipbeat::app
