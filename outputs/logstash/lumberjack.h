// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include "beat/core/status.h"

namespace sipbeat::outputs::logstash {

/// Lumberjack v2 as Beats speak it (reference/beats.md §4, go-lumber client/v2/client.go):
/// pure protocol, no I/O, so it can be tested byte by byte and fuzzed.
inline constexpr char kVersion = '2';
inline constexpr char kWindowFrame = 'W';
inline constexpr char kJsonFrame = 'J';
inline constexpr char kCompressedFrame = 'C';
inline constexpr char kAckFrame = 'A';
inline constexpr size_t kAckFrameSize = 6;

/// Builds one window into a buffer reused from window to window: `2W` count, then the
/// `2J seq len payload` frames with seq 1..N, raw or inside one `2C` zlib block whose
/// length is written once the block is complete.
class WindowEncoder {
public:
    /// `compression_level` 0 writes the J frames raw; 1..9 wraps them in `2C`.
    explicit WindowEncoder(int compression_level);
    ~WindowEncoder();
    WindowEncoder(const WindowEncoder&) = delete;
    WindowEncoder& operator=(const WindowEncoder&) = delete;

    /// Starts a window of `count` events (clears the buffer).
    void begin(uint32_t count);
    /// Appends the next event's JSON (its seq is its position in the window, from 1).
    void add(std::string_view json);
    /// Completes the window; the bytes to send are then in bytes().
    core::Status finish();
    const std::string& bytes() const { return out_; }
    uint32_t count() const { return count_; }

private:
    int level_;
    bool zinit_ = false;
    z_stream zs_{};
    uint32_t count_ = 0;
    uint32_t next_seq_ = 1;
    std::string frames_;  ///< J frames before compression (compressed windows only)
    std::string out_;
};

/// Appends `v` as 4 bytes, big-endian.
void appendU32(std::string& out, uint32_t v);

/// Reads the server's ACK frames (`2A` + u32 seq) from the bytes received, in any
/// pieces, against the windows sent, matched in FIFO order. seq 0 is a keepalive;
/// 0 < seq < N a partial ACK; seq == N completes the window. Anything else — another
/// frame type, seq > N, an ACK with no window outstanding — is a protocol error, after
/// which the reader stays failed (the connection must be closed).
class AckReader {
public:
    enum class Kind : uint8_t { Keepalive, Partial, Complete };
    struct Ack {
        Kind kind;
        uint32_t seq;    ///< events of the head window acknowledged so far
        uint32_t count;  ///< size of the window the ACK is about (0 for keepalives)
    };

    /// A window of `count` events (> 0) was sent.
    void expect(uint32_t count) { windows_.push_back(count); }
    /// Consumes `bytes`; appends what they said to `acks` (cleared first). On error the
    /// ACKs decoded before it are still in `acks`.
    core::Status feed(std::span<const uint8_t> bytes, std::vector<Ack>& acks);

    size_t outstanding() const { return windows_.size(); }
    /// Events of the head window acknowledged so far (partial ACKs).
    uint32_t headAcked() const { return head_acked_; }
    bool failed() const { return !error_.empty(); }
    /// Forgets everything (a new connection).
    void reset();

private:
    std::deque<uint32_t> windows_;
    uint32_t head_acked_ = 0;
    uint8_t partial_[kAckFrameSize] = {};
    size_t partial_len_ = 0;
    std::string error_;
};

/// libbeat's slow start window (libbeat/outputs/logstash/window.go): starts at 10 events,
/// grows by half per acknowledged window up to `max` (and not beyond the batch being
/// sent once a size has worked), halves on error down to 1.
class SlowStartWindow {
public:
    static constexpr int32_t kStart = 10;  ///< defaultStartMaxWindowSize
    static constexpr int32_t kMin = 1;     ///< minWindowSize
    explicit SlowStartWindow(int32_t max) : size_(kStart), max_(max) {}
    int32_t get() const { return size_; }
    /// A window of a batch of `batch_size` events was fully acknowledged.
    void grow(int32_t batch_size);
    /// Sending failed.
    void shrink();

private:
    int32_t size_;
    int32_t max_ok_ = 0;  ///< largest window size that was acknowledged
    int32_t max_;
};

/// `json` with the value of its top-level `@metadata.beat` set to `beat` (the logstash
/// `index` option). The encoder writes `{"@timestamp":"…","@metadata":{"beat":"…"`, so
/// the common case is a splice; other documents are parsed. Returns `json` itself when
/// nothing changes, else a view of `scratch`.
std::string_view withMetadataBeat(std::string_view json, std::string_view beat,
                                  std::string& scratch);

/// Decodes a client's byte stream (as a Logstash server would): W, J and C frames, C
/// unpacked recursively. For tests and the fuzz target; bounded by `max_events` and
/// `max_inflate` bytes so hostile input cannot exhaust memory.
struct DecodedWindow {
    uint32_t count = 0;
    std::vector<std::pair<uint32_t, std::string>> events;  ///< seq, JSON
};
core::Status decodeWindows(std::string_view bytes, std::vector<DecodedWindow>& out,
                           size_t max_events = 100000, size_t max_inflate = 64u << 20);

}  // namespace sipbeat::outputs::logstash
