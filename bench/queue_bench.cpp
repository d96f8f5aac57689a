// SPDX-License-Identifier: Apache-2.0
// The disk queue's write and read rate (SPEC §9, issue 6): events of a call event's size
// (about 3 KB of JSON with a Call-ID key) pushed into a DiskQueue, then taken and
// acknowledged in batches of 1600 (the Elasticsearch output's bulk_max_size); then both at
// once, the writer and an output worker on two threads, as in a run.
//   queue_bench [DIR] [EVENTS] [EVENT_BYTES]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "beat/monitoring/registry.h"
#include "beat/pipeline/disk_queue.h"

namespace {

using sipbeat::encode::EncodedEvent;
using sipbeat::pipeline::DiskQueue;
using sipbeat::pipeline::DiskQueueSettings;
using sipbeat::pipeline::EventQueue;

constexpr size_t kBatch = 1600;

double seconds(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

EncodedEvent makeEvent(size_t i, size_t bytes) {
    EncodedEvent ev;
    ev.key = "a84b4c76e66710-" + std::to_string(i / 6) + "@pc33.atlanta.example.com";
    ev.timestamp = static_cast<int64_t>(i) * 1000;
    ev.json = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
    ev.json.append(bytes > ev.json.size() + 2 ? bytes - ev.json.size() - 2 : 0, 'x');
    ev.json += "\"}";
    return ev;
}

std::unique_ptr<DiskQueue> openQueue(const std::string& dir, sipbeat::monitoring::Registry& m) {
    DiskQueueSettings s;
    s.path = dir;
    s.max_size = 0;  // unbounded: the bench measures rate, not the full-queue path
    auto q = DiskQueue::open(s, m);
    if (!q) {
        std::fprintf(stderr, "queue_bench: %s\n", q.status().message().c_str());
        std::exit(1);
    }
    return std::move(q).value();
}

size_t drain(EventQueue& q, size_t want) {
    std::vector<EncodedEvent> out;
    size_t got = 0;
    while (got < want) {
        out.clear();
        const uint64_t ticket = q.take(out, kBatch, true);
        if (ticket == 0) {
            break;
        }
        got += out.size();
        q.done(ticket);
    }
    return got;
}

void report(const char* what, size_t events, size_t bytes, double secs) {
    std::printf("%-34s %9.0f events/s  %7.1f MB/s  (%zu events, %.2f s)\n", what,
                static_cast<double>(events) / secs, static_cast<double>(bytes) / secs / 1e6, events,
                secs);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "/tmp/sipbeat-queue-bench";
    const size_t events = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200000;
    const size_t event_bytes = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 3000;
    std::filesystem::remove_all(dir);
    std::vector<EncodedEvent> sample;
    for (size_t i = 0; i < 64; ++i) {
        sample.push_back(makeEvent(i, event_bytes));
    }
    const size_t bytes = events * event_bytes;
    {
        sipbeat::monitoring::Registry metrics;
        auto q = openQueue(dir, metrics);
        auto start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < events; ++i) {
            EncodedEvent ev = sample[i % sample.size()];
            if (q->push(std::move(ev), true) != EventQueue::PushResult::Ok) {
                std::fprintf(stderr, "queue_bench: push refused\n");
                return 1;
            }
        }
        report("disk queue write", events, bytes, seconds(start));
        start = std::chrono::steady_clock::now();
        const size_t got = drain(*q, events);
        report("disk queue read + ack", got, bytes, seconds(start));
        if (got != events) {
            std::fprintf(stderr, "queue_bench: read %zu of %zu\n", got, events);
            return 1;
        }
    }
    std::filesystem::remove_all(dir);
    {
        sipbeat::monitoring::Registry metrics;
        auto q = openQueue(dir, metrics);
        auto start = std::chrono::steady_clock::now();
        size_t got = 0;
        std::thread reader([&] { got = drain(*q, events); });
        for (size_t i = 0; i < events; ++i) {
            EncodedEvent ev = sample[i % sample.size()];
            (void)q->push(std::move(ev), true);
        }
        reader.join();
        report("disk queue write || read + ack", got, bytes, seconds(start));
    }
    std::filesystem::remove_all(dir);
    return 0;
}
