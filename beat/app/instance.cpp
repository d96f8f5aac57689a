// SPDX-License-Identifier: Apache-2.0
#include "beat/app/instance.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>

#include "beat/core/file_rotator.h"
#include "beat/core/json_escape.h"
#include "beat/core/uuid.h"

namespace sipbeat::app {

core::Status ensureDirectory(const std::string& path) {
    return core::makeDirectories(path, 0750);
}

std::string hostName() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "localhost";
    }
    return buf;
}

core::Result<Meta> loadOrCreateMeta(const std::string& data_dir, const core::Clock& clock) {
    const std::string path = data_dir + "/meta.json";
    std::ifstream in(path);
    if (in) {
        std::stringstream buf;
        buf << in.rdbuf();
        rapidjson::Document doc;
        doc.Parse(buf.str().c_str());
        if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("uuid") ||
            !doc["uuid"].IsString()) {
            return core::Status::error("meta file " + path +
                                       " is corrupt: remove it to create "
                                       "a new identity");
        }
        Meta m;
        m.uuid = doc["uuid"].GetString();
        if (doc.HasMember("first_start") && doc["first_start"].IsString()) {
            m.first_start = doc["first_start"].GetString();
        }
        return m;
    }
    Meta m{core::newUuidV4(), core::formatRfc3339(clock.now(), core::Precision::Nanosecond)};
    std::string json = "{\"uuid\":";
    core::appendJsonString(json, m.uuid);
    json += ",\"first_start\":";
    core::appendJsonString(json, m.first_start);
    json += "}\n";
    const std::string tmp = path + ".new";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::Status::error("failed to create meta file " + tmp + ": " +
                                   std::strerror(errno));
    }
    const bool written =
        ::write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return core::Status::error("failed to write meta file " + path + ": " +
                                   std::strerror(errno));
    }
    return m;
}

DataPathLock::~DataPathLock() {
    release();
}

core::Status DataPathLock::acquire(const std::string& data_dir) {
    path_ = data_dir + "/sipbeat.lock";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        return core::Status::error("failed to open lock file " + path_ + ": " +
                                   std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK) {
            return core::Status::error(
                "data path already locked by another beat. Please make sure that multiple "
                "beats are not sharing the same data path (path.data)");
        }
        return core::Status::error("failed to lock " + path_ + ": " + std::strerror(err));
    }
    // The PID helps an operator find the holder; the lock itself is the flock.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
    }
    return core::Status::ok();
}

void DataPathLock::release() {
    if (fd_ >= 0) {
        ::unlink(path_.c_str());
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace sipbeat::app
