// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "beat/core/clock.h"
#include "beat/core/status.h"

namespace sipbeat::core {

/// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status writeFully(int fd, std::string_view data, const std::string& what);

/// `mkdir -p` with `mode` for the directories it creates.
Status makeDirectories(const std::string& path, mode_t mode);

/// Options of a rotating file, with the defaults of the Beats rotator
/// (elastic-agent-libs file/rotator.go, reference/beats.md §2.3 and §3.5).
struct RotatorOptions {
    std::string directory;
    std::string filename;  ///< Files are `<filename>-YYYYMMDD[-N].<extension>`.
    std::string extension = "ndjson";
    uint64_t max_size_bytes = 10 * 1024 * 1024;
    uint32_t max_backups = 7;  ///< Rotated files kept besides the active one.
    mode_t permissions = 0600;
    bool rotate_on_startup = true;
    int64_t interval_ns = 0;       ///< Also rotate after this long; 0 = by size only.
    const Clock* clock = nullptr;  ///< Defaults to the system clock.
    /// Collect writes in memory and write them out on flush() or when 256 KiB are
    /// pending: one syscall per batch instead of one per event.
    bool buffered = false;
};

/// A file that rotates by size (and optionally time) the way Beats 8 does: the active
/// file is the newest `<name>-<date>[-N].ndjson`; rotating starts `<name>-<today>.ndjson`
/// or, when files of today exist, the next `-N`; only `max_backups` older files are kept.
/// Not thread-safe: each owner serialises its writes.
class FileRotator {
public:
    static Result<std::unique_ptr<FileRotator>> open(RotatorOptions options);
    ~FileRotator();
    FileRotator(const FileRotator&) = delete;
    FileRotator& operator=(const FileRotator&) = delete;

    /// Writes `data` whole into one file, rotating first when it would not fit.
    /// Unlike Beats, a record bigger than `max_size_bytes` is not refused: it is written
    /// alone into a fresh file, so no event is lost to a small rotate_every_kb.
    Status write(std::string_view data);
    Status rotate();
    /// Writes out buffered data (no-op when unbuffered).
    Status flush();
    Status sync();
    void close();

    const std::string& activeFile() const { return active_; }
    /// Rotated files, oldest first.
    std::vector<std::string> rotatedFiles() const;

private:
    explicit FileRotator(RotatorOptions options);
    Status openActive(bool truncate);
    Status rotateAt(TimestampNs when);
    Status purge();
    Status writeAll(std::string_view data);
    std::vector<std::string> matchingFiles() const;

    RotatorOptions options_;
    std::string active_;
    int fd_ = -1;
    uint64_t size_ = 0;  ///< Bytes in the active file, buffered ones included.
    std::string buffer_;
    TimestampNs opened_at_ = 0;
};

}  // namespace sipbeat::core
