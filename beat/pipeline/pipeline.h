// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "beat/core/status.h"
#include "beat/encode/encoded_event.h"
#include "beat/monitoring/registry.h"
#include "beat/pipeline/memory_queue.h"
#include "beat/pipeline/queue.h"
#include "outputs/output.h"

namespace sipbeat::pipeline {

/// `queue.mem.*` (reference/beats.md §2.5); the backoff is the output's (outputs::Group).
struct QueueSettings {
    size_t events = 3200;
    size_t flush_min_events = 1600;
    int64_t flush_timeout_ns = 10'000'000'000;
};

/// Moves events from the queue to one output with libbeat's delivery semantics: an event
/// is done only when the output acknowledged it (or gave up on it), and only then is it
/// released from the queue (the disk queue forgets it). Each client has a worker thread
/// that keeps up to `maxInFlight()` batches outstanding. A failed batch is retried with
/// exponential backoff within the output's retry budget (`max_retries`); a client that
/// cannot connect is retried with backoff without using any batch's budget, and its
/// batches go back to be sent by any worker (libbeat cancelled batches), so an outage
/// loses nothing while the queue has room.
class Pipeline {
public:
    /// With the memory queue of `settings`.
    Pipeline(outputs::Group group, QueueSettings settings, monitoring::Registry& metrics);
    /// With a queue built by the caller (the disk queue).
    Pipeline(outputs::Group group, std::unique_ptr<EventQueue> queue, QueueSettings settings,
             monitoring::Registry& metrics);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    /// Starts one worker per client; each connects on its own (failures logged, retried).
    void start();
    /// Live capture must not stall: a full queue drops the newest event (counted as
    /// `libbeat.pipeline.events.dropped`, packetbeat's DropIfFull). Reading files waits.
    void setDropIfFull(bool drop) { drop_if_full_ = drop; }
    /// Queues one event; false when it was dropped (full, live) or the pipeline is closed.
    bool publish(encode::EncodedEvent&& event);
    /// An event whose buffers were used before (empty, with their capacity), so publishing
    /// does not allocate once warm; a new one when none is spare.
    encode::EncodedEvent takeSpare() { return queue_->takeSpare(); }
    /// Stops accepting events and waits until every queued event is acknowledged or
    /// dropped, then stops the workers. With the disk queue, it does not wait for an output
    /// that is down: what is not delivered stays on disk for the next run.
    void close();
    /// Makes retries give up (events counted as dropped; with the disk queue they stay on
    /// disk), so close() returns even when the output is gone. For a second SIGINT.
    void abort();

    uint64_t acked() const { return acked_->get(); }
    uint64_t dropped() const { return dropped_->get(); }

    // Defined in pipeline.cpp; public only so that the batch type there can name them.
    struct Flight;
    struct Worker;

private:
    void run(Worker& worker);
    /// Next batch for `worker`: a resend first, else from the queue.
    std::shared_ptr<Flight> nextFlight(bool wait);
    void complete(Worker& worker, const std::shared_ptr<Flight>& flight);
    void release(Flight& flight, size_t events);
    bool connectWithBackoff(Worker& worker);
    /// Sleeps, woken early by abort() (or by close() with a persistent queue).
    void pause(int64_t ns);
    bool giveUp() const;

    outputs::Group group_;
    QueueSettings settings_;
    std::unique_ptr<EventQueue> queue_;
    size_t batch_limit_;
    bool drop_if_full_ = false;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Flight>> resend_;
    bool closing_ = false;
    std::atomic<bool> aborted_{false};
    std::vector<std::unique_ptr<Worker>> workers_;

    monitoring::Counter* published_;
    monitoring::Counter* pipeline_dropped_;
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
