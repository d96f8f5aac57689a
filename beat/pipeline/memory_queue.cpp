// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/memory_queue.h"

#include <algorithm>
#include <chrono>

namespace sipbeat::pipeline {

MemoryQueue::MemoryQueue(MemoryQueueSettings settings, int64_t batch_limit) : settings_(settings) {
    settings_.events = std::max<size_t>(settings_.events, 1);
    size_t limit = settings_.events;
    if (batch_limit > 0) {
        limit = std::min(limit, static_cast<size_t>(batch_limit));
    }
    settings_.flush_min_events = std::clamp<size_t>(settings_.flush_min_events, 1, limit);
    // libbeat: a batch is at most flush.min_events (events/2 when synchronous), so the
    // producer fills the other part of the queue while a batch is being delivered.
    batch_cap_ = settings_.flush_min_events > 1 ? settings_.flush_min_events
                                                : std::max<size_t>(settings_.events / 2, 1);
    batch_cap_ = std::min(batch_cap_, limit);
}

EventQueue::PushResult MemoryQueue::push(encode::EncodedEvent&& event, bool wait) {
    std::unique_lock lock(mutex_);
    const auto has_room = [&] { return queue_.size() + taken_events_ < settings_.events; };
    if (wait) {
        not_full_.wait(lock, [&] { return closed_ || has_room(); });
    }
    if (closed_) {
        return PushResult::Closed;
    }
    if (!has_room()) {
        return PushResult::Full;
    }
    queue_.push_back(std::move(event));
    // The first event wakes a worker so that it starts the flush timeout; a full batch
    // wakes it to send at once.
    if (queue_.size() == 1 || queue_.size() >= settings_.flush_min_events) {
        not_empty_.notify_one();
    }
    return PushResult::Ok;
}

uint64_t MemoryQueue::take(std::vector<encode::EncodedEvent>& out, size_t max, bool wait) {
    out.clear();
    std::unique_lock lock(mutex_);
    if (wait) {
        not_empty_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        // A fuller batch is worth waiting for, at most flush.timeout (libbeat memqueue).
        if (!closed_ && queue_.size() < settings_.flush_min_events &&
            settings_.flush_timeout_ns > 0) {
            not_empty_.wait_for(lock, std::chrono::nanoseconds(settings_.flush_timeout_ns), [&] {
                return closed_ || queue_.size() >= settings_.flush_min_events;
            });
        }
    }
    const size_t n = std::min({queue_.size(), std::max<size_t>(max, 1), batch_cap_});
    if (n == 0) {
        return 0;
    }
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    const uint64_t ticket = next_ticket_++;
    taken_.emplace_back(ticket, n);
    taken_events_ += n;
    if (!queue_.empty()) {
        not_empty_.notify_one();  // another worker may take the rest
    }
    return ticket;
}

void MemoryQueue::done(uint64_t ticket) {
    std::lock_guard lock(mutex_);
    for (auto it = taken_.begin(); it != taken_.end(); ++it) {
        if (it->first == ticket) {
            taken_events_ -= it->second;
            taken_.erase(it);
            not_full_.notify_all();
            return;
        }
    }
}

void MemoryQueue::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
}

size_t MemoryQueue::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

encode::EncodedEvent MemoryQueue::takeSpare() {
    std::lock_guard lock(spare_mutex_);
    if (spare_.empty()) {
        return {};
    }
    encode::EncodedEvent ev = std::move(spare_.back());
    spare_.pop_back();
    return ev;
}

void MemoryQueue::recycle(std::vector<encode::EncodedEvent>& events) {
    // Buffers go back to the publisher instead of being freed on this thread and
    // allocated again on the capture thread. Bounded by the queue size; unusually large
    // buffers are freed.
    constexpr size_t kMaxSpareCapacity = 64 * 1024;
    std::lock_guard lock(spare_mutex_);
    for (encode::EncodedEvent& ev : events) {
        if (spare_.size() >= settings_.events) {
            break;
        }
        if (ev.json.capacity() > kMaxSpareCapacity) {
            continue;
        }
        ev.json.clear();
        ev.key.clear();
        spare_.push_back(std::move(ev));
    }
    events.clear();
}

}  // namespace sipbeat::pipeline
