// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "beat/pipeline/queue.h"

namespace sipbeat::pipeline {

/// `queue.mem.*` (reference/beats.md §2.5).
struct MemoryQueueSettings {
    size_t events = 3200;
    size_t flush_min_events = 1600;
    int64_t flush_timeout_ns = 10'000'000'000;
};

/// The bounded memory queue. `events` bounds the events queued and not yet acknowledged
/// (taken batches count until done(), as in libbeat's memqueue), so a slow output holds
/// the producer back instead of letting memory grow.
class MemoryQueue final : public EventQueue {
public:
    /// `batch_limit` is the output's bulk_max_size (<= 0: none); flush.min_events is
    /// clamped to it.
    MemoryQueue(MemoryQueueSettings settings, int64_t batch_limit);

    PushResult push(encode::EncodedEvent&& event, bool wait) override;
    uint64_t take(std::vector<encode::EncodedEvent>& out, size_t max, bool wait) override;
    void done(uint64_t ticket) override;
    void close() override;
    size_t queued() const override;
    bool persistent() const override { return false; }
    void recycle(std::vector<encode::EncodedEvent>& events) override;
    encode::EncodedEvent takeSpare() override;

private:
    MemoryQueueSettings settings_;
    size_t batch_cap_ = 1;
    mutable std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<encode::EncodedEvent> queue_;
    /// Events of each batch taken and not yet done, by ticket.
    std::deque<std::pair<uint64_t, size_t>> taken_;
    size_t taken_events_ = 0;
    uint64_t next_ticket_ = 1;
    bool closed_ = false;

    std::mutex spare_mutex_;
    std::vector<encode::EncodedEvent> spare_;  ///< at most `events`
};

}  // namespace sipbeat::pipeline
