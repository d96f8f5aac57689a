// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/disk_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "beat/core/logging.h"

#include <dirent.h>

namespace sipbeat::pipeline {

namespace {

const core::logging::Logger kLog("queue");

constexpr char kSegmentMagic[4] = {'S', 'B', 'D', 'Q'};
constexpr char kStateMagic[4] = {'S', 'B', 'S', 'T'};
// Version 2: CRC-32C (version 1, never released, used zlib's CRC-32).
constexpr uint32_t kFormatVersion = 2;
constexpr uint64_t kSegmentHeaderSize = 8;
constexpr uint64_t kFrameHeaderSize = 8;
constexpr uint64_t kStateSize = 4 + 4 + 8 + 8 + 4;
/// No event is this big (the largest SIP message is 64 KiB); a bigger size is corruption.
constexpr uint32_t kMaxFrameSize = 64U * 1024 * 1024;
constexpr uint64_t kMinSegmentSize = 1024 * 1024;
constexpr size_t kReadChunk = 256 * 1024;
constexpr int64_t kStateSaveIntervalNs = 100'000'000;
constexpr int64_t kLingerNs = 5'000'000;

void putU32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

void putU64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

uint32_t getU32(const unsigned char* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t getU64(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

/// CRC-32C (Castagnoli, RFC 3720 §B.4): the SSE4.2 instruction does 8 bytes in a few
/// cycles, where zlib's CRC-32 was the biggest cost of the queue (two passes over every
/// event). The table is the fallback for CPUs without SSE4.2.
struct Crc32cTable {
    uint32_t entries[256];
    Crc32cTable() : entries{} {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) {
                c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
            }
            entries[i] = c;
        }
    }
};

}  // namespace

namespace detail {

uint32_t crc32cPortable(const void* data, size_t len) {
    const auto* p = static_cast<const unsigned char*>(data);
    static const Crc32cTable table;
    uint32_t c = 0xFFFFFFFFU;
    for (size_t i = 0; i < len; ++i) {
        c = table.entries[(c ^ p[i]) & 0xFFU] ^ (c >> 8);
    }
    return ~c;
}

#if defined(__x86_64__)
static __attribute__((target("sse4.2"))) uint32_t crc32cSse42(const unsigned char* p, size_t len) {
    uint64_t c = 0xFFFFFFFFU;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t word = 0;
        std::memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
    }
    auto c32 = static_cast<uint32_t>(c);
    for (; len > 0; --len, ++p) {
        c32 = __builtin_ia32_crc32qi(c32, *p);
    }
    return ~c32;
}
#endif

uint32_t crc32c(const void* data, size_t len) {
#if defined(__x86_64__)
    static const bool has_sse42 = __builtin_cpu_supports("sse4.2") != 0;
    if (has_sse42) {
        return crc32cSse42(static_cast<const unsigned char*>(data), len);
    }
#endif
    return crc32cPortable(data, len);
}

}  // namespace detail

namespace {

uint32_t crc(const void* data, size_t len) {
    return detail::crc32c(data, len);
}

bool writeAll(int fd, const char* data, size_t len) {
    while (len > 0) {
        const ssize_t n = ::write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        data += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

bool preadAll(int fd, void* buf, size_t len, uint64_t offset) {
    auto* p = static_cast<char*>(buf);
    while (len > 0) {
        const ssize_t n = ::pread(fd, p, len, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return true;
}

int64_t steadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

DiskQueue::DiskQueue(DiskQueueSettings settings, monitoring::Registry& metrics)
    : settings_(std::move(settings)) {
    refused_ = &metrics.counter("libbeat.pipeline.queue.disk.refused");
    corrupt_ = &metrics.counter("libbeat.pipeline.queue.disk.corrupt_segments");
    written_ = &metrics.counter("libbeat.pipeline.queue.disk.written");
    read_events_ = &metrics.counter("libbeat.pipeline.queue.disk.read");
    bytes_gauge_ = &metrics.gauge("libbeat.pipeline.queue.disk.bytes");
}

core::Result<std::unique_ptr<DiskQueue>> DiskQueue::open(DiskQueueSettings settings,
                                                         monitoring::Registry& metrics) {
    if (settings.segment_size == 0) {
        settings.segment_size = std::max(settings.max_size / 10, kMinSegmentSize);
    }
    std::unique_ptr<DiskQueue> q(new DiskQueue(std::move(settings), metrics));
    if (core::Status st = q->recover(); !st) {
        return st;
    }
    return q;
}

DiskQueue::~DiskQueue() {
    close();
    std::lock_guard lock(mutex_);
    if (write_fd_ >= 0) {
        ::fdatasync(write_fd_);
        ::close(write_fd_);
    }
    if (read_fd_ >= 0) {
        ::close(read_fd_);
    }
}

std::string DiskQueue::segmentPath(uint64_t id) const {
    return settings_.path + "/" + std::to_string(id) + ".seg";
}

core::Status DiskQueue::recover() {
    const std::string& dir = settings_.path;
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
        return core::Status::error("cannot create the disk queue directory " + dir + ": " +
                                   std::strerror(errno));
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        return core::Status::error("cannot read the disk queue directory " + dir + ": " +
                                   std::strerror(errno));
    }
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() < 5 || name.compare(name.size() - 4, 4, ".seg") != 0) {
            continue;
        }
        const std::string digits = name.substr(0, name.size() - 4);
        if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 19) {
            continue;
        }
        struct stat st {};
        if (::stat((dir + "/" + name).c_str(), &st) != 0) {
            continue;
        }
        const uint64_t id = std::stoull(digits);
        segments_[id] = static_cast<uint64_t>(st.st_size);
        total_bytes_ += static_cast<uint64_t>(st.st_size);
    }
    ::closedir(d);

    // Where the acknowledged prefix ends.
    Position start{segments_.empty() ? 1 : segments_.begin()->first, kSegmentHeaderSize};
    const std::string state_path = dir + "/state.dat";
    const int sfd = ::open(state_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (sfd >= 0) {
        unsigned char buf[kStateSize];
        const bool ok = preadAll(sfd, buf, sizeof buf, 0);
        ::close(sfd);
        if (ok && std::memcmp(buf, kStateMagic, 4) == 0 && getU32(buf + 4) == kFormatVersion &&
            getU32(buf + 24) == crc(buf, 24)) {
            start = {getU64(buf + 8), getU64(buf + 16)};
        } else {
            // Events may be delivered twice, none is lost.
            kLog.warn("Disk queue state " + state_path +
                      " is damaged; reading again from the oldest segment");
        }
    }
    // Segments wholly acknowledged before a crash may still be there.
    for (auto it = segments_.begin(); it != segments_.end() && it->first < start.segment;) {
        ::unlink(segmentPath(it->first).c_str());
        total_bytes_ -= it->second;
        it = segments_.erase(it);
    }
    // A segment read and acknowledged to its end (the last one written before the stop).
    if (auto it = segments_.find(start.segment);
        it != segments_.end() && start.offset >= it->second) {
        ::unlink(segmentPath(it->first).c_str());
        total_bytes_ -= it->second;
        segments_.erase(it);
        start = {start.segment + 1, kSegmentHeaderSize};
    }
    if (!segments_.empty() && segments_.begin()->first > start.segment) {
        start = {segments_.begin()->first, kSegmentHeaderSize};
    }
    read_ = start;
    acked_ = start;
    saved_ = start;
    // New events go to a new segment, after every one that is there.
    const uint64_t next_id =
        segments_.empty() ? start.segment : std::max(segments_.rbegin()->first + 1, start.segment);
    if (core::Status st = openWriteSegment(next_id); !st) {
        return st;
    }
    if (read_.segment > write_segment_ || segments_.find(read_.segment) == segments_.end()) {
        read_ = {segments_.begin()->first, kSegmentHeaderSize};
    }
    if (segments_.size() > 1) {
        kLog.info("Disk queue " + dir + ": " + std::to_string(total_bytes_) + " bytes in " +
                  std::to_string(segments_.size() - 1) +
                  " segments from before are delivered first");
    }
    bytes_gauge_->set(total_bytes_);
    return core::Status::ok();
}

core::Status DiskQueue::openWriteSegment(uint64_t id) {
    if (write_fd_ >= 0) {
        // Complete segments are made durable before the next one starts.
        ::fdatasync(write_fd_);
        ::close(write_fd_);
        write_fd_ = -1;
    }
    const std::string path = segmentPath(id);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::Status::error("cannot create disk queue segment " + path + ": " +
                                   std::strerror(errno));
    }
    std::string header(kSegmentMagic, 4);
    putU32(header, kFormatVersion);
    if (!writeAll(fd, header.data(), header.size())) {
        const int err = errno;
        ::close(fd);
        return core::Status::error("cannot write disk queue segment " + path + ": " +
                                   std::strerror(err));
    }
    write_fd_ = fd;
    write_segment_ = id;
    write_offset_ = kSegmentHeaderSize;
    total_bytes_ += kSegmentHeaderSize;
    segments_[id] = kSegmentHeaderSize;
    return core::Status::ok();
}

EventQueue::PushResult DiskQueue::push(encode::EncodedEvent&& event, bool wait) {
    frame_.clear();
    putU32(frame_, 0);
    putU32(frame_, 0);
    putU64(frame_, static_cast<uint64_t>(event.timestamp));
    putU32(frame_, static_cast<uint32_t>(event.key.size()));
    frame_.append(event.key);
    frame_.append(event.json);
    const size_t payload = frame_.size() - kFrameHeaderSize;
    const uint32_t sum = crc(frame_.data() + kFrameHeaderSize, payload);
    for (int i = 0; i < 4; ++i) {
        frame_[static_cast<size_t>(i)] = static_cast<char>((payload >> (8 * i)) & 0xff);
        frame_[static_cast<size_t>(4 + i)] = static_cast<char>((sum >> (8 * i)) & 0xff);
    }

    std::unique_lock lock(mutex_);
    const uint64_t need = frame_.size() + kSegmentHeaderSize;
    const bool never_fits =
        payload > kMaxFrameSize || (settings_.max_size > 0 && need > settings_.max_size / 2);
    const auto has_room = [&] {
        return settings_.max_size == 0 || total_bytes_ + need <= settings_.max_size;
    };
    if (wait && !never_fits) {
        not_full_.wait(lock, [&] { return closed_ || has_room(); });
    }
    if (closed_) {
        return PushResult::Closed;
    }
    if (never_fits || !has_room()) {
        refused_->add();
        const int64_t now = steadyNs();
        if (now - last_full_warning_ns_ > 10'000'000'000 || last_full_warning_ns_ == 0) {
            last_full_warning_ns_ = now;
            kLog.warn("Disk queue " + settings_.path + " is full (" + std::to_string(total_bytes_) +
                      " of max_size " + std::to_string(settings_.max_size) +
                      " bytes): newest events are refused (" + std::to_string(refused_->get()) +
                      " so far)");
        }
        return PushResult::Full;
    }
    int64_t retry_ns = std::max<int64_t>(settings_.retry_interval_ns, 1'000'000);
    for (;;) {
        core::Status st = appendFrame();
        if (st) {
            break;
        }
        kLog.error(st.message());
        if (!wait) {
            refused_->add();
            return PushResult::Full;
        }
        // File input waits rather than lose the event: a full disk or a read-only remount
        // may be repaired while sipbeat runs.
        not_full_.wait_for(lock, std::chrono::nanoseconds(retry_ns), [&] { return closed_; });
        if (closed_) {
            return PushResult::Closed;
        }
        retry_ns = std::min(retry_ns * 2, std::max(settings_.max_retry_interval_ns, retry_ns));
    }
    write_offset_ += frame_.size();
    segments_[write_segment_] = write_offset_;
    total_bytes_ += frame_.size();
    bytes_gauge_->set(total_bytes_);
    written_->add();
    ++unread_events_;
    if (unread_events_ >= reader_wants_) {
        not_empty_.notify_one();
    }
    return PushResult::Ok;
}

core::Status DiskQueue::appendFrame() {
    if (write_fd_ < 0 || (write_offset_ + frame_.size() > settings_.segment_size &&
                          write_offset_ > kSegmentHeaderSize)) {
        // A new id even after a failed segment: readers find the next one by id order.
        if (core::Status st = openWriteSegment(write_segment_ + 1); !st) {
            return st;
        }
    }
    if (!writeAll(write_fd_, frame_.data(), frame_.size())) {
        const std::string err = std::strerror(errno);
        // What was written of the frame is garbage now: the segment ends here for readers
        // (they count it corrupt), and writing goes on in a new one.
        ::close(write_fd_);
        write_fd_ = -1;
        return core::Status::error("Cannot write to disk queue segment " +
                                   segmentPath(write_segment_) + ": " + err);
    }
    return core::Status::ok();
}

const unsigned char* DiskQueue::readAt(uint64_t offset, size_t len, uint64_t size) {
    if (chunk_segment_ != read_.segment || offset < chunk_begin_ ||
        offset + len > chunk_begin_ + chunk_.size()) {
        // Only bytes already written (below `size`) are read: they never change.
        const auto want = static_cast<size_t>(std::min<uint64_t>(
            std::max<size_t>(len, kReadChunk), size > offset ? size - offset : 0));
        if (want < len) {
            return nullptr;
        }
        chunk_.resize(want);
        chunk_segment_ = ~uint64_t{0};
        if (!preadAll(read_fd_, chunk_.data(), want, offset)) {
            return nullptr;
        }
        chunk_segment_ = read_.segment;
        chunk_begin_ = offset;
    }
    return reinterpret_cast<const unsigned char*>(chunk_.data()) + (offset - chunk_begin_);
}

bool DiskQueue::openReadSegment() {
    if (read_fd_ >= 0) {
        return true;
    }
    chunk_segment_ = ~uint64_t{0};
    read_fd_ = ::open(segmentPath(read_.segment).c_str(), O_RDONLY | O_CLOEXEC);
    if (read_fd_ < 0) {
        return false;
    }
    unsigned char header[kSegmentHeaderSize];
    if (!preadAll(read_fd_, header, sizeof header, 0) ||
        std::memcmp(header, kSegmentMagic, 4) != 0 || getU32(header + 4) != kFormatVersion) {
        return false;
    }
    return true;
}

void DiskQueue::skipSegment(const char* why) {
    corrupt_->add();
    kLog.warn("Disk queue segment " + segmentPath(read_.segment) + " " + why + " at offset " +
              std::to_string(read_.offset) + "; the rest of the segment is skipped");
    if (read_.segment == write_segment_) {
        // Readers cannot pass the writer: writing moves on to a new segment.
        (void)openWriteSegment(write_segment_ + 1);
    }
    if (read_fd_ >= 0) {
        ::close(read_fd_);
        read_fd_ = -1;
    }
    auto next = segments_.upper_bound(read_.segment);
    read_ = {next == segments_.end() ? write_segment_ : next->first, kSegmentHeaderSize};
}

bool DiskQueue::readFrame(encode::EncodedEvent& out) {
    while (true) {
        auto seg = segments_.find(read_.segment);
        if (seg == segments_.end()) {
            // Deleted or never there: move on to the next one, if any.
            auto next = segments_.upper_bound(read_.segment);
            if (next == segments_.end()) {
                return false;
            }
            read_ = {next->first, kSegmentHeaderSize};
            continue;
        }
        const uint64_t size = seg->second;
        if (read_.offset >= size) {
            if (read_.segment == write_segment_) {
                return false;  // everything written is read
            }
            if (read_fd_ >= 0) {
                ::close(read_fd_);
                read_fd_ = -1;
            }
            auto next = segments_.upper_bound(read_.segment);
            read_ = {next == segments_.end() ? write_segment_ : next->first, kSegmentHeaderSize};
            continue;
        }
        if (!openReadSegment()) {
            skipSegment("has no valid header");
            continue;
        }
        if (size - read_.offset < kFrameHeaderSize) {
            skipSegment("ends in a truncated frame");
            continue;
        }
        const unsigned char* header = readAt(read_.offset, kFrameHeaderSize, size);
        if (header == nullptr) {
            skipSegment("cannot be read");
            continue;
        }
        const uint32_t len = getU32(header);
        const uint32_t sum = getU32(header + 4);
        if (len < 12 || len > kMaxFrameSize) {
            skipSegment("has a frame of impossible size");
            continue;
        }
        if (size - read_.offset - kFrameHeaderSize < len) {
            skipSegment("ends in a truncated frame");
            continue;
        }
        const unsigned char* p = readAt(read_.offset + kFrameHeaderSize, len, size);
        if (p == nullptr) {
            skipSegment("cannot be read");
            continue;
        }
        if (crc(p, len) != sum) {
            skipSegment("has a frame with a wrong CRC");
            continue;
        }
        const uint64_t ts = getU64(p);
        const uint32_t key_len = getU32(p + 8);
        if (key_len > len - 12) {
            skipSegment("has a frame with an impossible key length");
            continue;
        }
        out.timestamp = static_cast<core::TimestampNs>(ts);
        out.key.assign(reinterpret_cast<const char*>(p) + 12, key_len);
        out.json.assign(reinterpret_cast<const char*>(p) + 12 + key_len, len - 12 - key_len);
        read_.offset += kFrameHeaderSize + len;
        return true;
    }
}

uint64_t DiskQueue::take(std::vector<encode::EncodedEvent>& out, size_t max, bool wait) {
    out.clear();
    max = std::max<size_t>(max, 1);
    std::unique_lock lock(mutex_);
    bool lingered = false;
    while (true) {
        while (out.size() < max) {
            encode::EncodedEvent ev;
            if (!readFrame(ev)) {
                break;
            }
            out.push_back(std::move(ev));
        }
        if (out.size() >= max || !wait || closed_) {
            break;
        }
        if (out.empty()) {
            reader_wants_ = 1;
            not_empty_.wait(lock);
            continue;
        }
        if (lingered) {
            break;
        }
        // A batch of one event costs the output a request and this queue a wake-up per
        // event: when events are coming, wait briefly for a fuller batch.
        lingered = true;
        reader_wants_ = max;
        not_empty_.wait_for(lock, std::chrono::nanoseconds(kLingerNs),
                            [&] { return closed_ || unread_events_ >= max; });
    }
    reader_wants_ = 1;
    if (out.empty()) {
        return 0;
    }
    read_events_->add(out.size());
    unread_events_ -= std::min<uint64_t>(unread_events_, out.size());
    const uint64_t ticket = next_ticket_++;
    taken_[ticket] = Taken{read_, false};
    return ticket;
}

void DiskQueue::done(uint64_t ticket) {
    std::lock_guard lock(mutex_);
    auto it = taken_.find(ticket);
    if (it == taken_.end()) {
        return;
    }
    it->second.done = true;
    // The acknowledged position advances over the contiguous prefix of done batches only:
    // an earlier batch still in flight must be read again after a crash.
    bool advanced = false;
    while (!taken_.empty() && taken_.begin()->first == frontier_ticket_ &&
           taken_.begin()->second.done) {
        acked_ = taken_.begin()->second.end;
        taken_.erase(taken_.begin());
        ++frontier_ticket_;
        advanced = true;
    }
    if (!advanced) {
        return;
    }
    // A position at the end of a finished segment is the start of the next.
    auto seg = segments_.find(acked_.segment);
    if (seg != segments_.end() && acked_.segment != write_segment_ &&
        acked_.offset >= seg->second) {
        auto next = segments_.upper_bound(acked_.segment);
        acked_ = {next == segments_.end() ? write_segment_ : next->first, kSegmentHeaderSize};
    }
    const int64_t now = steadyNs();
    if (acked_.segment != saved_.segment || now - last_save_ns_ >= kStateSaveIntervalNs) {
        // Always saved before segments are deleted, so the state never points before them.
        saveState(acked_);
        last_save_ns_ = now;
    }
    deleteSegmentsBefore(saved_.segment);
}

void DiskQueue::saveState(Position pos) {
    saved_ = pos;
    std::string buf(kStateMagic, 4);
    putU32(buf, kFormatVersion);
    putU64(buf, pos.segment);
    putU64(buf, pos.offset);
    putU32(buf, crc(buf.data(), buf.size()));
    const std::string path = settings_.path + "/state.dat";
    const std::string tmp = path + ".new";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !writeAll(fd, buf.data(), buf.size())) {
        kLog.error("Cannot write disk queue state " + tmp + ": " + std::strerror(errno) +
                   "; acknowledged events may be sent again after a restart");
        if (fd >= 0) {
            ::close(fd);
        }
        return;
    }
    ::close(fd);
    // rename() replaces the state atomically: a crash leaves the old or the new one.
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        kLog.error("Cannot replace disk queue state " + path + ": " + std::strerror(errno));
    }
}

void DiskQueue::deleteSegmentsBefore(uint64_t id) {
    bool freed = false;
    for (auto it = segments_.begin(); it != segments_.end() && it->first < id;) {
        if (it->first == write_segment_) {
            break;
        }
        if (read_fd_ >= 0 && it->first == read_.segment) {
            ::close(read_fd_);
            read_fd_ = -1;
        }
        ::unlink(segmentPath(it->first).c_str());
        total_bytes_ -= it->second;
        it = segments_.erase(it);
        freed = true;
    }
    if (freed) {
        bytes_gauge_->set(total_bytes_);
        not_full_.notify_all();
    }
}

void DiskQueue::close() {
    std::lock_guard lock(mutex_);
    if (!(saved_ == acked_)) {
        saveState(acked_);
    }
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
}

size_t DiskQueue::queued() const {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(unread_events_);
}

uint64_t DiskQueue::sizeOnDisk() const {
    std::lock_guard lock(mutex_);
    return total_bytes_;
}

}  // namespace sipbeat::pipeline
