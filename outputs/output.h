// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "beat/config/schema.h"
#include "beat/core/clock.h"
#include "beat/core/status.h"
#include "beat/encode/encoded_event.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::outputs {

/// A batch handed to one client. Exactly one terminal signal is given, once, from any
/// thread; the pipeline acknowledges events upstream only on ack() (libbeat semantics,
/// reference/beats.md §3.1).
class Batch {
public:
    virtual ~Batch() = default;
    virtual std::span<const encode::EncodedEvent> events() const = 0;
    virtual void ack() = 0;    ///< All delivered.
    virtual void drop() = 0;   ///< Give up on all; counted as dropped.
    virtual void retry() = 0;  ///< Resend all; uses one retry of the batch's budget.
    /// Resend the events at `indices`; of the others, `dropped` were given up on (e.g. a
    /// per-item 400 from Elasticsearch with no dead-letter index) and the rest are
    /// acknowledged. Per-item 429 from ES is retried this way.
    virtual void retryEvents(std::vector<uint32_t> indices, uint32_t dropped) = 0;
    virtual void cancel() = 0;  ///< Resend all without using a retry (reconnect, shutdown).
};
using BatchPtr = std::unique_ptr<Batch>;

/// The check tree of `sipbeat test output` (reference/beats.md §1.5): each check prints
/// "name... OK", "name... WARN reason" or "name... ERROR err", indented two spaces per level.
class TestDriver {
public:
    virtual ~TestDriver() = default;
    /// Runs one check; its status decides OK or ERROR. A failed check fails the test.
    virtual core::Status run(std::string_view name, const std::function<core::Status()>& check) = 0;
    /// A group of checks: prints "name..." and runs `body` one level deeper.
    virtual void section(std::string_view name, const std::function<void()>& body) = 0;
    /// "name: value" (e.g. "addresses: 127.0.0.1", "version: 8.15.0").
    virtual void info(std::string_view name, std::string_view value) = 0;
    /// "name... WARN reason" (does not fail the test).
    virtual void warn(std::string_view name, std::string_view reason) = 0;
    virtual bool failed() const = 0;
};

/// One connection (or file) that publishes batches. The pipeline drives each client from
/// one worker thread; batch signals may come from any thread.
class Client {
public:
    virtual ~Client() = default;
    /// Opens the connection. A failure is retried by the pipeline with backoff
    /// (`backoff.init` doubling to `backoff.max`) without using any batch's retries:
    /// an outage loses nothing while the queue has room (libbeat: cancelled batches).
    virtual core::Status connect() = 0;
    /// Publishes a batch. The client signals it exactly once, now or later. A non-ok
    /// status says the connection is broken: the pipeline closes the client and connects
    /// again before the next batch; the batch must still be signalled (retry or cancel).
    virtual core::Status publish(BatchPtr batch) = 0;
    virtual void close() = 0;
    /// "file(/var/lib/sipbeat/events)", for logs.
    virtual std::string describe() const = 0;
    /// Batches this client may have unsignalled at once (logstash `pipelining`).
    virtual size_t maxInFlight() const { return 1; }
    /// `sipbeat test output`: really connects and reports each step, in a section headed
    /// by the host ("elasticsearch: http://localhost:9200..."). The default checks that
    /// connect() works.
    virtual void test(TestDriver& driver) {
        driver.section(describe(), [&] {
            (void)driver.run("connect", [this] {
                core::Status st = connect();
                close();
                return st;
            });
        });
    }
};
using ClientPtr = std::unique_ptr<Client>;

/// Memory-queue settings an output asks for (Elasticsearch `preset`, which libbeat applies
/// to the queue as a group).
struct MemQueuePreset {
    int64_t events = 3200;
    int64_t flush_min_events = 1600;
    int64_t flush_timeout_ns = 10'000'000'000;
    std::string source;  ///< "output.elasticsearch.preset: throughput", for logs
};

/// What an output factory returns: its clients and batching rules.
struct Group {
    std::vector<ClientPtr> clients;
    /// Set when the output's configuration dictates the memory queue (replaces queue.mem).
    std::optional<MemQueuePreset> mem_queue;
    int64_t bulk_max_size = 0;                ///< <= 0: no limit on batch size.
    int32_t max_retries = 3;                  ///< < 0: retry forever.
    int64_t backoff_init_ns = 1'000'000'000;  ///< `backoff.init`
    int64_t backoff_max_ns = 60'000'000'000;  ///< `backoff.max`
};

/// What every output may use.
struct OutputContext {
    std::string beat = "sipbeat";
    std::string version;
    const core::Clock* clock = nullptr;
    monitoring::Registry* metrics = nullptr;
    std::string data_path;  ///< `path.data` (default disk queue directory, …)
};

/// Knows one `output.<name>` section: its keys (schema) and how to build clients.
class Factory {
public:
    virtual ~Factory() = default;
    virtual std::string_view name() const = 0;
    /// Keys of `output.<name>` with defaults; `enabled` is added by the registry.
    virtual config::Spec schema() const = 0;
    /// Builds the clients from a validated config; `prefix` is "output.<name>".
    virtual core::Result<Group> create(const OutputContext& ctx, const config::Config& cfg,
                                       const std::string& prefix) const = 0;
};
using FactoryPtr = std::unique_ptr<Factory>;

/// The outputs compiled in, registered explicitly (no static self-registration, which
/// static libraries silently drop).
class Registry {
public:
    void add(FactoryPtr factory);
    const Factory* find(std::string_view name) const;
    std::vector<std::string_view> names() const;
    /// The `output:` schema: one section per factory, each with `enabled: true`.
    config::Spec schema() const;

private:
    std::vector<FactoryPtr> factories_;
};

/// The `queue:` section (reference/beats.md §2.5), valid at the top level or under the
/// output (not both): `mem` or `disk`.
config::Spec queueSchema();

/// Registers every output compiled in.
void registerBuiltinOutputs(Registry& registry);

}  // namespace sipbeat::outputs
