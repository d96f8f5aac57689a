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

/// One take() from the queue; released when all of its events are acked or dropped,
/// even when parts of it were resent in separate batches.
struct Ticket {
    uint64_t id = 0;
    size_t remaining = 0;
};

}  // namespace

/// A batch handed to a client, and what the client said about it.
struct Pipeline::Flight {
    std::vector<encode::EncodedEvent> events;
    std::shared_ptr<Ticket> ticket;
    int32_t retries_left = 0;
    Signal signal = Signal::Pending;
    std::vector<uint32_t> retry_indices;
    uint32_t dropped_items = 0;  ///< with RetryEvents: items the output gave up on
};

struct Pipeline::Worker {
    outputs::Client* client = nullptr;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Flight>> completed;
    size_t in_flight = 0;
    bool connected = false;
    int64_t backoff_ns = 0;
};

namespace {

class PipelineBatch final : public outputs::Batch {
public:
    PipelineBatch(std::shared_ptr<Pipeline::Flight> flight, Pipeline::Worker* worker)
        : flight_(std::move(flight)), worker_(worker) {}
    ~PipelineBatch() override {
        // A client that drops a batch without a signal must not hang the pipeline: it is
        // resent, as a cancelled batch is.
        set(Signal::Cancel, {}, /*only_if_pending=*/true);
    }
    std::span<const encode::EncodedEvent> events() const override { return flight_->events; }
    void ack() override { set(Signal::Ack, {}); }
    void drop() override { set(Signal::Drop, {}); }
    void retry() override { set(Signal::Retry, {}); }
    void retryEvents(std::vector<uint32_t> indices, uint32_t dropped) override {
        set(Signal::RetryEvents, std::move(indices), false, dropped);
    }
    void cancel() override { set(Signal::Cancel, {}); }

private:
    void set(Signal s, std::vector<uint32_t> indices, bool only_if_pending = false,
             uint32_t dropped = 0) {
        std::lock_guard lock(worker_->mutex);
        if (flight_->signal != Signal::Pending) {
            if (!only_if_pending) {
                kLog.error("Output signalled a batch twice; the second signal is ignored");
            }
            return;
        }
        flight_->signal = s;
        flight_->retry_indices = std::move(indices);
        flight_->dropped_items = dropped;
        worker_->completed.push_back(flight_);
        worker_->cv.notify_all();
    }
    std::shared_ptr<Pipeline::Flight> flight_;
    Pipeline::Worker* worker_;
};

}  // namespace

Pipeline::Pipeline(outputs::Group group, QueueSettings settings, monitoring::Registry& metrics)
    : Pipeline(std::move(group), nullptr, settings, metrics) {}

Pipeline::Pipeline(outputs::Group group, std::unique_ptr<EventQueue> queue, QueueSettings settings,
                   monitoring::Registry& metrics)
    : group_(std::move(group)), settings_(settings), queue_(std::move(queue)) {
    if (!queue_) {
        queue_ = std::make_unique<MemoryQueue>(
            MemoryQueueSettings{settings_.events, settings_.flush_min_events,
                                settings_.flush_timeout_ns},
            group_.bulk_max_size);
    }
    batch_limit_ = group_.bulk_max_size > 0 ? static_cast<size_t>(group_.bulk_max_size)
                                            : std::max<size_t>(settings_.events, 1);
    published_ = &metrics.counter("libbeat.pipeline.events.published");
    pipeline_dropped_ = &metrics.counter("libbeat.pipeline.events.dropped");
    queue_acked_ = &metrics.counter("libbeat.pipeline.queue.acked");
    retry_ = &metrics.counter("libbeat.pipeline.events.retry");
    out_total_ = &metrics.counter("libbeat.output.events.total");
    acked_ = &metrics.counter("libbeat.output.events.acked");
    failed_ = &metrics.counter("libbeat.output.events.failed");
    dropped_ = &metrics.counter("libbeat.output.events.dropped");
    batches_ = &metrics.counter("libbeat.output.events.batches");
    active_ = &metrics.gauge("libbeat.output.events.active");
}

Pipeline::~Pipeline() {
    close();
}

void Pipeline::start() {
    for (auto& client : group_.clients) {
        auto w = std::make_unique<Worker>();
        w->client = client.get();
        w->backoff_ns = group_.backoff_init_ns;
        workers_.push_back(std::move(w));
    }
    for (auto& w : workers_) {
        Worker* raw = w.get();
        w->thread = std::thread([this, raw] { run(*raw); });
    }
}

bool Pipeline::publish(encode::EncodedEvent&& event) {
    switch (queue_->push(std::move(event), !drop_if_full_)) {
        case EventQueue::PushResult::Ok:
            published_->add();
            return true;
        case EventQueue::PushResult::Full:
            pipeline_dropped_->add();
            return false;
        case EventQueue::PushResult::Closed:
            return false;
    }
    return false;
}

bool Pipeline::giveUp() const {
    // Shutting down, a persistent queue keeps what an output that is down cannot take
    // now for the next run; a working output still gets everything.
    return aborted_.load() || (closing_ && queue_->persistent());
}

void Pipeline::pause(int64_t ns) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return giveUp(); });
}

bool Pipeline::connectWithBackoff(Worker& w) {
    while (!aborted_.load()) {
        if (core::Status st = w.client->connect(); st) {
            w.connected = true;
            w.backoff_ns = group_.backoff_init_ns;
            kLog.info("Connection to " + w.client->describe() + " established");
            return true;
        } else {
            kLog.error("Failed to connect to " + w.client->describe() + ": " + st.message() +
                       " (retrying in " + std::to_string(w.backoff_ns / 1'000'000) + " ms)");
        }
        {
            std::lock_guard lock(mutex_);
            if (giveUp()) {
                break;
            }
        }
        pause(w.backoff_ns);
        w.backoff_ns = std::min(w.backoff_ns * 2, group_.backoff_max_ns);
    }
    return false;
}

std::shared_ptr<Pipeline::Flight> Pipeline::nextFlight(bool wait) {
    {
        std::lock_guard lock(mutex_);
        if (!resend_.empty()) {
            auto f = std::move(resend_.front());
            resend_.pop_front();
            return f;
        }
    }
    auto f = std::make_shared<Flight>();
    const uint64_t id = queue_->take(f->events, batch_limit_, wait);
    if (id == 0) {
        return nullptr;
    }
    f->ticket = std::make_shared<Ticket>(Ticket{id, f->events.size()});
    // Events read from files and events in the disk queue are sent in libbeat's
    // guaranteed mode: retried until delivered. max_retries bounds live capture only.
    const bool guaranteed = !drop_if_full_ || queue_->persistent();
    f->retries_left = guaranteed ? -1 : group_.max_retries;
    return f;
}

void Pipeline::release(Flight& flight, size_t events) {
    Ticket& t = *flight.ticket;
    t.remaining -= std::min(t.remaining, events);
    if (t.remaining == 0) {
        queue_->done(t.id);
    }
}

void Pipeline::complete(Worker& w, const std::shared_ptr<Flight>& f) {
    const size_t n = f->events.size();
    active_->set(active_->get() - std::min<uint64_t>(active_->get(), n));
    bool resend = false;
    switch (f->signal) {
        case Signal::Ack:
            acked_->add(n);
            queue_acked_->add(n);
            w.backoff_ns = group_.backoff_init_ns;
            if (kLog.debugEnabled()) {
                kLog.debug("Batch of " + std::to_string(n) + " events acknowledged by " +
                           w.client->describe());
            }
            release(*f, n);
            queue_->recycle(f->events);
            return;
        case Signal::Drop:
            dropped_->add(n);
            kLog.error("Dropping " + std::to_string(n) + " events: the output gave up");
            release(*f, n);
            return;
        case Signal::RetryEvents: {
            std::vector<encode::EncodedEvent> again;
            std::vector<bool> chosen(n, false);
            for (uint32_t idx : f->retry_indices) {
                if (idx < n && !chosen[idx]) {
                    chosen[idx] = true;
                    again.push_back(std::move(f->events[idx]));
                }
            }
            // Items the output gave up on are done for the queue too (libbeat acks them
            // to the queue and counts them dropped).
            const size_t dropped = std::min<size_t>(f->dropped_items, n - again.size());
            if (dropped > 0) {
                dropped_->add(dropped);
                kLog.error("Dropping " + std::to_string(dropped) +
                           " events the output could not deliver");
            }
            acked_->add(n - again.size() - dropped);
            queue_acked_->add(n - again.size());
            release(*f, n - again.size());
            f->events = std::move(again);
            if (f->events.empty()) {
                return;
            }
            [[fallthrough]];
        }
        case Signal::Retry:
            failed_->add(f->events.size());
            if (f->retries_left == 0 || aborted_.load()) {
                dropped_->add(f->events.size());
                kLog.error("Dropping " + std::to_string(f->events.size()) +
                           " events after retries were exhausted");
                release(*f, f->events.size());
                return;
            }
            if (f->retries_left > 0) {
                --f->retries_left;
            }
            retry_->add(f->events.size());
            resend = true;
            // libbeat backs off after a failed publish before the next one.
            pause(w.backoff_ns);
            w.backoff_ns = std::min(w.backoff_ns * 2, group_.backoff_max_ns);
            if (giveUp()) {
                // Shutting down with an output that fails: stop (see connectWithBackoff).
                w.client->close();
                w.connected = false;
            }
            break;
        case Signal::Cancel:
            if (aborted_.load() && !queue_->persistent()) {
                dropped_->add(n);
                release(*f, n);
                return;
            }
            resend = true;
            break;
        case Signal::Pending:
            break;
    }
    if (resend) {
        f->signal = Signal::Pending;
        f->retry_indices.clear();
        f->dropped_items = 0;
        std::lock_guard lock(mutex_);
        resend_.push_front(f);
    }
}

void Pipeline::run(Worker& w) {
    const size_t max_in_flight = std::max<size_t>(w.client->maxInFlight(), 1);
    std::deque<std::shared_ptr<Flight>> done;
    while (true) {
        {
            std::lock_guard lock(w.mutex);
            done.swap(w.completed);
        }
        for (auto& f : done) {
            --w.in_flight;
            complete(w, f);
        }
        done.clear();

        if (!w.connected) {
            if (w.in_flight > 0) {
                // Batches of the broken connection are still to be signalled.
                std::unique_lock lock(w.mutex);
                w.cv.wait_for(lock, std::chrono::milliseconds(50),
                              [&] { return !w.completed.empty(); });
                continue;
            }
            if (!connectWithBackoff(w)) {
                break;  // shutting down; undelivered events stay in the (disk) queue
            }
        }

        bool drained = false;
        while (w.connected && w.in_flight < max_in_flight) {
            std::shared_ptr<Flight> f = nextFlight(/*wait=*/w.in_flight == 0);
            if (!f) {
                drained = w.in_flight == 0;
                break;
            }
            const size_t n = f->events.size();
            ++w.in_flight;
            out_total_->add(n);
            active_->add(n);
            batches_->add();
            if (core::Status st = w.client->publish(std::make_unique<PipelineBatch>(f, &w)); !st) {
                kLog.error("Failed to publish events to " + w.client->describe() + ": " +
                           st.message());
                w.client->close();
                w.connected = false;
                break;
            }
        }
        if (drained) {
            // The queue is closed and empty; resends of other workers' batches remain.
            std::lock_guard lock(mutex_);
            if (resend_.empty()) {
                break;
            }
            continue;
        }
        if (w.in_flight > 0) {
            // More could be sent (pipelining) when the queue fills: look again soon.
            const auto limit = w.in_flight < max_in_flight ? std::chrono::milliseconds(5)
                                                           : std::chrono::milliseconds(500);
            std::unique_lock lock(w.mutex);
            w.cv.wait_for(lock, limit, [&] { return !w.completed.empty(); });
        }
    }
    w.client->close();
    w.connected = false;
}

void Pipeline::close() {
    {
        std::lock_guard lock(mutex_);
        if (closing_ && workers_.empty()) {
            return;
        }
        closing_ = true;
        wake_.notify_all();
    }
    queue_->close();
    for (auto& w : workers_) {
        if (w->thread.joinable()) {
            w->thread.join();
        }
    }
    workers_.clear();
    if (!queue_->persistent()) {
        // Only after abort(): nobody will send these any more.
        std::lock_guard lock(mutex_);
        for (const auto& f : resend_) {
            dropped_->add(f->events.size());
        }
        resend_.clear();
    }
}

void Pipeline::abort() {
    aborted_.store(true);
    std::lock_guard lock(mutex_);
    wake_.notify_all();
}

}  // namespace sipbeat::pipeline
