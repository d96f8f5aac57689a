// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "beat/core/status.h"
#include "beat/monitoring/registry.h"
#include "beat/pipeline/queue.h"

namespace sipbeat::pipeline {

namespace detail {
/// CRC-32C of the queue's frames and state (hardware when the CPU has SSE4.2).
uint32_t crc32c(const void* data, size_t len);
/// The same without the CPU instruction (for tests and old CPUs).
uint32_t crc32cPortable(const void* data, size_t len);
}  // namespace detail

/// `queue.disk.*` (reference/beats.md §2.5).
struct DiskQueueSettings {
    std::string path;           ///< Directory: `<id>.seg` files and `state.dat`.
    uint64_t max_size = 0;      ///< Bytes of segment files; 0 = unbounded.
    uint64_t segment_size = 0;  ///< 0 = max_size / 10 (at least 1 MiB).
    /// After a write error a waiting push() tries again after retry_interval, doubling up
    /// to max_retry_interval (libbeat's writer loop); a non-waiting one refuses the event.
    int64_t retry_interval_ns = 1'000'000'000;
    int64_t max_retry_interval_ns = 30'000'000'000;
};

/// The disk queue: at-least-once delivery across output outages and `kill -9`.
///
/// Events are appended to segment files (`<id>.seg`) by push() — written to the file
/// before push() returns, so a killed process loses none it accepted — and read back by
/// the output workers. A frame is `size:u32le crc32:u32le payload`, the payload
/// `timestamp:u64le key_len:u32le key json`; the CRC (CRC-32C) covers the payload.
/// `state.dat` records the position before which every event is acknowledged; it is
/// replaced atomically (write, fsync, rename) as acknowledgements advance, and segments
/// wholly before it are deleted. Batches may be acknowledged out of order (several
/// workers); the position only advances over a contiguous acknowledged prefix. After a
/// restart, reading resumes at that position, so unacknowledged events are delivered
/// again (duplicates possible, never a loss). A frame whose size or CRC is wrong, or a
/// truncated segment, makes the reader skip the rest of that segment and count it
/// (`libbeat.pipeline.queue.disk.corrupt_segments`). A full queue refuses the newest
/// event (counted, warned) or, for file input, waits.
class DiskQueue final : public EventQueue {
public:
    /// Opens (creating the directory) and recovers the queue. Errors name the path.
    static core::Result<std::unique_ptr<DiskQueue>> open(DiskQueueSettings settings,
                                                         monitoring::Registry& metrics);
    ~DiskQueue() override;
    DiskQueue(const DiskQueue&) = delete;
    DiskQueue& operator=(const DiskQueue&) = delete;

    PushResult push(encode::EncodedEvent&& event, bool wait) override;
    uint64_t take(std::vector<encode::EncodedEvent>& out, size_t max, bool wait) override;
    void done(uint64_t ticket) override;
    void close() override;
    size_t queued() const override;
    bool persistent() const override { return true; }

    /// Bytes of segment files on disk.
    uint64_t sizeOnDisk() const;

private:
    struct Position {
        uint64_t segment = 0;
        uint64_t offset = 0;
        bool operator==(const Position&) const = default;
    };
    struct Taken {
        Position end;
        bool done = false;
    };

    DiskQueue(DiskQueueSettings settings, monitoring::Registry& metrics);
    core::Status recover();
    core::Status openWriteSegment(uint64_t id);
    std::string segmentPath(uint64_t id) const;
    /// Reads one frame at the read position; false when none is complete yet. Skips
    /// corrupt segments. Called with mutex_ held.
    bool readFrame(encode::EncodedEvent& out);
    void skipSegment(const char* why);
    bool openReadSegment();
    /// The `len` bytes at `offset` of the read segment (whose written size is `size`), or
    /// nullptr when they cannot be read. Called with mutex_ held.
    const unsigned char* readAt(uint64_t offset, size_t len, uint64_t size);
    void saveState(Position pos);
    /// Appends frame_ to the write segment (a new one when this one is full). Called with
    /// mutex_ held.
    core::Status appendFrame();
    void deleteSegmentsBefore(uint64_t id);

    DiskQueueSettings settings_;
    mutable std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    bool closed_ = false;

    // Writer.
    int write_fd_ = -1;
    uint64_t write_segment_ = 0;
    uint64_t write_offset_ = 0;
    std::string frame_;
    // Segment id → size in bytes, for every segment file present.
    std::map<uint64_t, uint64_t> segments_;
    uint64_t total_bytes_ = 0;

    // Reader.
    int read_fd_ = -1;
    Position read_;
    /// Bytes of the read segment from chunk_begin_, read ahead in large preads so that a
    /// frame costs no system call (frames are small, segments large).
    std::string chunk_;
    uint64_t chunk_segment_ = ~uint64_t{0};
    uint64_t chunk_begin_ = 0;
    uint64_t unread_events_ = 0;  ///< Known for events pushed by this process.
    uint64_t reader_wants_ = 1;   ///< push() wakes a waiting reader from this many unread.

    // Acknowledgement.
    uint64_t next_ticket_ = 1;
    uint64_t frontier_ticket_ = 1;  ///< Oldest ticket not yet done.
    std::map<uint64_t, Taken> taken_;
    Position acked_;
    /// state.dat is rewritten at most every kStateSaveIntervalNs (an open, a write and a
    /// rename per batch would cap the queue at a few thousand batches a second); a crash in
    /// between only means more events sent again, and close() saves the last position.
    Position saved_;
    int64_t last_save_ns_ = 0;

    monitoring::Counter* refused_;
    monitoring::Counter* corrupt_;
    monitoring::Counter* written_;
    monitoring::Counter* read_events_;
    monitoring::Counter* bytes_gauge_;
    int64_t last_full_warning_ns_ = 0;
};

}  // namespace sipbeat::pipeline
