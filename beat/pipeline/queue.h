// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <vector>

#include "beat/encode/encoded_event.h"

namespace sipbeat::pipeline {

/// The queue between event production and the output workers (reference/beats.md §2.5):
/// `queue.mem` or `queue.disk`. Events are taken in batches; a batch is returned with
/// done() once every event of it is acknowledged by the output or dropped, and only then
/// may a persistent queue forget it (at-least-once delivery).
class EventQueue {
public:
    enum class PushResult : uint8_t { Ok, Full, Closed };

    virtual ~EventQueue() = default;
    /// Adds one event. With `wait`, blocks while the queue is full (reading files:
    /// backpressure); without, a full queue refuses the event (live capture must not stall).
    virtual PushResult push(encode::EncodedEvent&& event, bool wait) = 0;
    /// Takes up to `max` events into `out` (cleared first) and returns the batch's ticket.
    /// With `wait`, blocks until events are there (waiting up to the flush timeout for a
    /// fuller batch) or the queue is closed; without, returns at once. 0 = nothing taken.
    virtual uint64_t take(std::vector<encode::EncodedEvent>& out, size_t max, bool wait) = 0;
    /// Every event of batch `ticket` is acknowledged or dropped.
    virtual void done(uint64_t ticket) = 0;
    /// Stops accepting events; take() still returns what is queued. Wakes waiters.
    virtual void close() = 0;
    /// Events not yet taken.
    virtual size_t queued() const = 0;
    /// Events stay in it across restarts: at shutdown the workers need not wait for an
    /// output that is down.
    virtual bool persistent() const = 0;
    /// Buffers of a delivered event, for reuse by the producer (memory queue only).
    virtual void recycle(std::vector<encode::EncodedEvent>& events) { events.clear(); }
    virtual encode::EncodedEvent takeSpare() { return {}; }
};

}  // namespace sipbeat::pipeline
