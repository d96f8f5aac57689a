// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "beat/core/status.h"
#include "beat/encode/encoded_event.h"
#include "beat/monitoring/registry.h"
#include "outputs/output.h"

namespace sipbeat::pipeline {

/// `queue.mem.*` (reference/beats.md §2.5).
struct QueueSettings {
    size_t events = 3200;
    size_t flush_min_events = 1600;
    int64_t flush_timeout_ns = 10'000'000'000;
    int64_t backoff_init_ns = 1'000'000'000;
    int64_t backoff_max_ns = 60'000'000'000;
};

/// The bounded memory queue between event production and one output, with libbeat's
/// delivery semantics: an event counts as done only when the output acknowledged it;
/// failed batches are retried with exponential backoff within the output's retry budget.
/// A full queue blocks the producer (backpressure): reading a file never loses events.
class Pipeline {
public:
    Pipeline(outputs::Group group, QueueSettings settings, monitoring::Registry& metrics);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    /// Connects the clients (a failure is logged and retried on publish) and starts one
    /// worker per client.
    void start();
    /// Queues one event; blocks while the queue is full. False once closed.
    bool publish(encode::EncodedEvent&& event);
    /// An event whose buffers were used before (empty, with their capacity), so publishing
    /// does not allocate once warm; a new one when none is spare.
    encode::EncodedEvent takeSpare();
    /// Stops accepting events and waits until every queued event is acknowledged or
    /// dropped, then stops the workers.
    void close();
    /// Makes retries give up (events counted as dropped), so close() returns even when
    /// the output is gone. For a second SIGINT.
    void abort();

    uint64_t acked() const { return acked_->get(); }
    uint64_t dropped() const { return dropped_->get(); }

private:
    struct Worker;
    void run(outputs::Client& client);
    /// Sends one batch until acked, dropped or aborted.
    void deliver(outputs::Client& client, std::vector<encode::EncodedEvent> events);
    void sleepBackoff(int64_t ns);

    outputs::Group group_;
    QueueSettings settings_;
    size_t batch_limit_;

    std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::condition_variable drained_;
    std::deque<encode::EncodedEvent> queue_;
    void recycle(std::vector<encode::EncodedEvent>& events);
    std::mutex spare_mutex_;
    std::vector<encode::EncodedEvent> spare_;  ///< at most the queue's size
    size_t in_flight_ = 0;
    bool closing_ = false;
    std::atomic<bool> aborted_{false};
    std::vector<std::thread> threads_;

    monitoring::Counter* published_;
    monitoring::Counter* queue_acked_;
    monitoring::Counter* out_total_;
    monitoring::Counter* acked_;
    monitoring::Counter* failed_;
    monitoring::Counter* dropped_;
    monitoring::Counter* batches_;
    monitoring::Counter* retry_;
    monitoring::Counter* active_;
};

}  // namespace sipbeat::pipeline
