// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "beat/core/logging.h"

namespace sipbeat::pipeline {

namespace {

const core::logging::Logger kLog("publisher");

enum class Signal : uint8_t { Pending, Ack, Drop, Retry, RetryEvents, Cancel };

/// Shared between a batch handed to a client and the worker waiting for its fate.
struct BatchState {
    std::mutex mutex;
    std::condition_variable cv;
    Signal signal = Signal::Pending;
    std::vector<uint32_t> retry_indices;
    std::vector<encode::EncodedEvent> events;
};

class PipelineBatch final : public outputs::Batch {
public:
    explicit PipelineBatch(std::shared_ptr<BatchState> state) : state_(std::move(state)) {}
    ~PipelineBatch() override {
        // A client that drops a batch without a signal must not hang the pipeline: it is
        // resent, as a cancelled batch is.
        set(Signal::Cancel, {}, /*only_if_pending=*/true);
    }
    std::span<const encode::EncodedEvent> events() const override { return state_->events; }
    void ack() override { set(Signal::Ack, {}); }
    void drop() override { set(Signal::Drop, {}); }
    void retry() override { set(Signal::Retry, {}); }
    void retryEvents(std::vector<uint32_t> indices) override {
        set(Signal::RetryEvents, std::move(indices));
    }
    void cancel() override { set(Signal::Cancel, {}); }

private:
    void set(Signal s, std::vector<uint32_t> indices, bool only_if_pending = false) {
        std::lock_guard lock(state_->mutex);
        if (state_->signal != Signal::Pending) {
            if (!only_if_pending) {
                kLog.error("Output signalled a batch twice; the second signal is ignored");
            }
            return;
        }
        state_->signal = s;
        state_->retry_indices = std::move(indices);
        state_->cv.notify_all();
    }
    std::shared_ptr<BatchState> state_;
};

}  // namespace

Pipeline::Pipeline(outputs::Group group, QueueSettings settings, monitoring::Registry& metrics)
    : group_(std::move(group)), settings_(settings) {
    settings_.events = std::max<size_t>(settings_.events, 1);
    batch_limit_ = settings_.events;
    if (group_.bulk_max_size > 0) {
        batch_limit_ = std::min(batch_limit_, static_cast<size_t>(group_.bulk_max_size));
    }
    settings_.flush_min_events = std::clamp<size_t>(settings_.flush_min_events, 1, batch_limit_);
    published_ = &metrics.counter("libbeat.pipeline.events.published");
    queue_acked_ = &metrics.counter("libbeat.pipeline.queue.acked");
    retry_ = &metrics.counter("libbeat.pipeline.events.retry");
    out_total_ = &metrics.counter("libbeat.output.events.total");
    acked_ = &metrics.counter("libbeat.output.events.acked");
    failed_ = &metrics.counter("libbeat.output.events.failed");
    dropped_ = &metrics.counter("libbeat.output.events.dropped");
    batches_ = &metrics.counter("libbeat.output.events.batches");
    active_ = &metrics.counter("libbeat.output.events.active");
}

Pipeline::~Pipeline() {
    close();
}

void Pipeline::start() {
    for (auto& client : group_.clients) {
        if (core::Status st = client->connect(); !st) {
            kLog.error("Failed to connect to " + client->describe() + ": " + st.message());
        }
        outputs::Client* c = client.get();
        threads_.emplace_back([this, c] { run(*c); });
    }
}

bool Pipeline::publish(encode::EncodedEvent&& event) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closing_ || queue_.size() < settings_.events; });
    if (closing_) {
        return false;
    }
    queue_.push_back(std::move(event));
    published_->add();
    if (queue_.size() >= settings_.flush_min_events) {
        not_empty_.notify_one();
    } else if (queue_.size() == 1) {
        // Wake a worker so it starts the flush timeout for this first event.
        not_empty_.notify_one();
    }
    return true;
}

encode::EncodedEvent Pipeline::takeSpare() {
    std::lock_guard lock(spare_mutex_);
    if (spare_.empty()) {
        return {};
    }
    encode::EncodedEvent ev = std::move(spare_.back());
    spare_.pop_back();
    return ev;
}

void Pipeline::recycle(std::vector<encode::EncodedEvent>& events) {
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

void Pipeline::run(outputs::Client& client) {
    while (true) {
        std::vector<encode::EncodedEvent> events;
        {
            std::unique_lock lock(mutex_);
            not_empty_.wait(lock, [&] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // closing and drained
            }
            // Wait for a full batch, at most flush.timeout after the first event.
            if (!closing_ && queue_.size() < settings_.flush_min_events &&
                settings_.flush_timeout_ns > 0) {
                not_empty_.wait_for(
                    lock, std::chrono::nanoseconds(settings_.flush_timeout_ns),
                    [&] { return closing_ || queue_.size() >= settings_.flush_min_events; });
            }
            const size_t n = std::min(queue_.size(), batch_limit_);
            if (n == 0) {
                continue;
            }
            events.reserve(n);
            for (size_t i = 0; i < n; ++i) {
                events.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            in_flight_ += n;
            not_full_.notify_all();
        }
        const size_t n = events.size();
        deliver(client, std::move(events));
        {
            std::lock_guard lock(mutex_);
            in_flight_ -= n;
            drained_.notify_all();
        }
    }
}

void Pipeline::deliver(outputs::Client& client, std::vector<encode::EncodedEvent> events) {
    int32_t retries_left = group_.max_retries;
    int64_t backoff = settings_.backoff_init_ns;
    while (!events.empty()) {
        auto state = std::make_shared<BatchState>();
        state->events = std::move(events);
        const size_t n = state->events.size();
        out_total_->add(n);
        active_->add(n);
        batches_->add();
        if (core::Status st = client.publish(std::make_unique<PipelineBatch>(state)); !st) {
            kLog.error("Failed to publish events to " + client.describe() + ": " + st.message());
        }
        std::unique_lock lock(state->mutex);
        state->cv.wait(lock, [&] { return state->signal != Signal::Pending; });
        active_->set(active_->get() - n);
        events = std::move(state->events);
        switch (state->signal) {
            case Signal::Ack:
                acked_->add(n);
                queue_acked_->add(n);
                if (kLog.debugEnabled()) {
                    kLog.debug("Batch of " + std::to_string(n) + " events acknowledged by " +
                               client.describe());
                }
                recycle(events);
                return;
            case Signal::Drop:
                dropped_->add(n);
                kLog.error("Dropping " + std::to_string(n) + " events: the output gave up");
                return;
            case Signal::RetryEvents: {
                std::vector<encode::EncodedEvent> again;
                for (uint32_t idx : state->retry_indices) {
                    if (idx < events.size()) {
                        again.push_back(std::move(events[idx]));
                    }
                }
                acked_->add(n - again.size());
                queue_acked_->add(n - again.size());
                events = std::move(again);
                [[fallthrough]];
            }
            case Signal::Retry:
                failed_->add(events.size());
                if (retries_left == 0 || aborted_.load()) {
                    dropped_->add(events.size());
                    kLog.error("Dropping " + std::to_string(events.size()) +
                               " events after retries were exhausted");
                    return;
                }
                if (retries_left > 0) {
                    --retries_left;
                }
                retry_->add(events.size());
                lock.unlock();
                sleepBackoff(backoff);
                backoff = std::min(backoff * 2, settings_.backoff_max_ns);
                break;
            case Signal::Cancel:
                if (aborted_.load()) {
                    dropped_->add(events.size());
                    return;
                }
                break;
            case Signal::Pending:
                break;
        }
    }
}

void Pipeline::sleepBackoff(int64_t ns) {
    std::unique_lock lock(mutex_);
    drained_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return aborted_.load(); });
}

void Pipeline::close() {
    {
        std::unique_lock lock(mutex_);
        if (closing_ && threads_.empty()) {
            return;
        }
        closing_ = true;
        not_empty_.notify_all();
        not_full_.notify_all();
    }
    for (auto& t : threads_) {
        t.join();
    }
    threads_.clear();
    for (auto& client : group_.clients) {
        client->close();
    }
}

void Pipeline::abort() {
    aborted_.store(true);
    std::lock_guard lock(mutex_);
    drained_.notify_all();
}

}  // namespace sipbeat::pipeline
