// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "beat/core/clock.h"
#include "beat/core/status.h"

namespace sipbeat::app {

/// The beat's persistent identity in `<path.data>/meta.json` (reference/beats.md §1.3):
/// `{"uuid":"<agent.id>","first_start":"<RFC3339>"}`, created on first start, written
/// atomically (`meta.json.new` renamed over it), mode 0600.
struct Meta {
    std::string uuid;
    std::string first_start;
};
core::Result<Meta> loadOrCreateMeta(const std::string& data_dir, const core::Clock& clock);

/// The exclusive lock on `<path.data>/sipbeat.lock`, so two instances never share a data
/// path. flock() is released by the kernel if the process dies, so a crash leaves no
/// stale lock; the file is removed on a clean exit.
class DataPathLock {
public:
    DataPathLock() = default;
    ~DataPathLock();
    DataPathLock(const DataPathLock&) = delete;
    DataPathLock& operator=(const DataPathLock&) = delete;

    core::Status acquire(const std::string& data_dir);
    void release();

private:
    int fd_ = -1;
    std::string path_;
};

/// Creates a directory (and parents) with mode 0750 when missing.
core::Status ensureDirectory(const std::string& path);

/// The host name, for `name`/`agent.name`/`host.name`.
std::string hostName();

}  // namespace sipbeat::app
