// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
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
    /// Resend these events, acknowledge the others (e.g. per-item 429 from ES).
    virtual void retryEvents(std::vector<uint32_t> indices) = 0;
    virtual void cancel() = 0;  ///< Resend all without using a retry (reconnect, shutdown).
};
using BatchPtr = std::unique_ptr<Batch>;

/// One connection (or file) that publishes batches.
class Client {
public:
    virtual ~Client() = default;
    virtual core::Status connect() = 0;
    /// Publishes a batch; may signal it later from another thread.
    virtual void publish(BatchPtr batch) = 0;
    virtual void close() = 0;
    /// "file(/var/lib/sipbeat/events)", for logs.
    virtual std::string describe() const = 0;
};
using ClientPtr = std::unique_ptr<Client>;

/// What an output factory returns: its clients and batching rules.
struct Group {
    std::vector<ClientPtr> clients;
    int64_t bulk_max_size = 0;  ///< <= 0: no limit on batch size.
    int32_t max_retries = 3;    ///< < 0: retry forever.
};

/// What every output may use.
struct OutputContext {
    std::string beat = "sipbeat";
    std::string version;
    const core::Clock* clock = nullptr;
    monitoring::Registry* metrics = nullptr;
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

/// Registers file and console (and, as they land, elasticsearch, logstash, kafka).
void registerBuiltinOutputs(Registry& registry);

}  // namespace sipbeat::outputs
