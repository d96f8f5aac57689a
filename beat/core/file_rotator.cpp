// SPDX-License-Identifier: Apache-2.0
#include "beat/core/file_rotator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <tuple>

namespace sipbeat::core {

namespace fs = std::filesystem;

namespace {

struct FileOrder {
    std::string date;  // YYYYMMDD, compares as text
    uint64_t index = 0;
};

// Parses `<prefix>YYYYMMDD[-N]<ext>`; anything else is not one of ours (a file named
// `sipbeat-events-data-…` must not be taken for a rotated `sipbeat-…` file).
bool parseName(std::string_view name, std::string_view prefix, std::string_view ext,
               FileOrder& order) {
    if (name.size() < prefix.size() + 8 + ext.size() || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - ext.size()) != ext) {
        return false;
    }
    std::string_view mid = name.substr(prefix.size(), name.size() - prefix.size() - ext.size());
    for (size_t i = 0; i < 8; ++i) {
        if (mid[i] < '0' || mid[i] > '9') {
            return false;
        }
    }
    order.date = std::string(mid.substr(0, 8));
    order.index = 0;
    mid.remove_prefix(8);
    if (mid.empty()) {
        return true;
    }
    if (mid[0] != '-' || mid.size() < 2 || mid.size() > 10) {
        return false;
    }
    for (char c : mid.substr(1)) {
        if (c < '0' || c > '9') {
            return false;
        }
        order.index = order.index * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
}

Status errnoStatus(const std::string& what, const std::string& path) {
    return Status::error(what + " '" + path + "': " + std::strerror(errno));
}

constexpr size_t kBufferSize = 256 * 1024;

}  // namespace

Status writeFully(int fd, std::string_view data, const std::string& what) {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Status::error("failed to write to " + what + ": " + std::strerror(errno));
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    return Status::ok();
}

Status makeDirectories(const std::string& path, mode_t mode) {
    // Created one level at a time with `mode` (as MkdirAll does); existing directories
    // keep their mode.
    std::string partial;
    std::string_view rest = path;
    while (!rest.empty()) {
        const size_t slash = rest.find('/', 1);
        partial.append(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
            return errnoStatus("failed to create directory", partial);
        }
    }
    return Status::ok();
}

FileRotator::FileRotator(RotatorOptions options) : options_(std::move(options)) {
    if (options_.clock == nullptr) {
        options_.clock = &SystemClock::instance();
    }
}

FileRotator::~FileRotator() {
    close();
}

Result<std::unique_ptr<FileRotator>> FileRotator::open(RotatorOptions options) {
    if (options.max_size_bytes == 0) {
        return Status::error("file rotator max file size must be greater than 0");
    }
    if (options.max_backups > 1024) {
        return Status::error("file rotator max backups is greater than the limit of 1024");
    }
    std::unique_ptr<FileRotator> r(new FileRotator(std::move(options)));
    // The directory mode follows the file mode, as in Beats: readable by group or others
    // only when the files are.
    mode_t dir_mode = 0700;
    if ((r->options_.permissions & 0070) != 0) {
        dir_mode |= 0050;
    }
    if ((r->options_.permissions & 0007) != 0) {
        dir_mode |= 0005;
    }
    if (Status st = makeDirectories(r->options_.directory, dir_mode); !st) {
        return st;
    }

    const std::vector<std::string> existing = r->matchingFiles();
    const TimestampNs now = r->options_.clock->now();
    if (existing.empty()) {
        r->active_ = r->options_.directory + "/" + r->options_.filename + "-" + formatDateYmd(now) +
                     "." + r->options_.extension;
        if (Status st = r->openActive(true); !st) {
            return st;
        }
    } else {
        // Continue from the newest file, or start a new one when asked to rotate on start.
        r->active_ = existing.back();
        if (r->options_.rotate_on_startup) {
            if (Status st = r->rotateAt(now); !st) {
                return st;
            }
        } else if (Status st = r->openActive(false); !st) {
            return st;
        }
    }
    return r;
}

std::vector<std::string> FileRotator::matchingFiles() const {
    const std::string prefix = options_.filename + "-";
    const std::string ext = "." + options_.extension;
    std::vector<std::pair<FileOrder, std::string>> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.directory, ec)) {
        FileOrder order;
        const std::string name = entry.path().filename().string();
        if (parseName(name, prefix, ext, order)) {
            found.emplace_back(std::move(order), entry.path().string());
        }
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first.date, a.first.index) < std::tie(b.first.date, b.first.index);
    });
    std::vector<std::string> out;
    out.reserve(found.size());
    for (auto& f : found) {
        out.push_back(std::move(f.second));
    }
    return out;
}

std::vector<std::string> FileRotator::rotatedFiles() const {
    std::vector<std::string> files = matchingFiles();
    files.erase(std::remove(files.begin(), files.end(), active_), files.end());
    return files;
}

Status FileRotator::openActive(bool truncate) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND;
    if (truncate) {
        flags |= O_TRUNC;
    }
    fd_ = ::open(active_.c_str(), flags, options_.permissions);
    if (fd_ < 0) {
        return errnoStatus("failed to open file", active_);
    }
    // open() honours the umask; the configured permissions are what the user asked for.
    ::fchmod(fd_, options_.permissions);
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    opened_at_ = options_.clock->now();
    return Status::ok();
}

Status FileRotator::rotateAt(TimestampNs when) {
    if (Status st = flush(); !st) {
        return st;
    }
    close();
    const std::string base =
        options_.directory + "/" + options_.filename + "-" + formatDateYmd(when);
    const std::string prefix = options_.filename + "-";
    const std::string ext = "." + options_.extension;
    // The next index after the newest file of that day.
    bool any = false;
    uint64_t max_index = 0;
    for (const std::string& path : matchingFiles()) {
        FileOrder order;
        if (parseName(fs::path(path).filename().string(), prefix, ext, order) &&
            order.date == formatDateYmd(when)) {
            any = true;
            max_index = std::max(max_index, order.index);
        }
    }
    active_ = any ? base + "-" + std::to_string(max_index + 1) + ext : base + ext;
    if (Status st = openActive(true); !st) {
        return st;
    }
    return purge();
}

Status FileRotator::purge() {
    std::vector<std::string> rotated = rotatedFiles();
    if (rotated.size() <= options_.max_backups) {
        return Status::ok();
    }
    const size_t excess = rotated.size() - options_.max_backups;
    for (size_t i = 0; i < excess; ++i) {
        if (::unlink(rotated[i].c_str()) != 0 && errno != ENOENT) {
            return errnoStatus("failed to delete during rotation", rotated[i]);
        }
    }
    return Status::ok();
}

Status FileRotator::rotate() {
    return rotateAt(options_.clock->now());
}

Status FileRotator::write(std::string_view data) {
    const TimestampNs now = options_.clock->now();
    const bool by_size = size_ > 0 && size_ + data.size() > options_.max_size_bytes;
    const bool by_time = options_.interval_ns > 0 && now - opened_at_ >= options_.interval_ns;
    if (fd_ < 0 || by_size || by_time) {
        if (Status st = rotateAt(now); !st) {
            return st;
        }
    }
    size_ += data.size();
    if (!options_.buffered) {
        return writeAll(data);
    }
    if (buffer_.size() + data.size() > kBufferSize) {
        if (Status st = flush(); !st) {
            return st;
        }
    }
    if (data.size() >= kBufferSize) {
        return writeAll(data);
    }
    buffer_.append(data);
    return Status::ok();
}

Status FileRotator::writeAll(std::string_view data) {
    return writeFully(fd_, data, "file '" + active_ + "'");
}

Status FileRotator::flush() {
    if (buffer_.empty() || fd_ < 0) {
        return Status::ok();
    }
    Status st = writeAll(buffer_);
    buffer_.clear();
    return st;
}

Status FileRotator::sync() {
    if (Status st = flush(); !st) {
        return st;
    }
    if (fd_ >= 0 && ::fsync(fd_) != 0) {
        return errnoStatus("failed to sync file", active_);
    }
    return Status::ok();
}

void FileRotator::close() {
    if (fd_ >= 0) {
        (void)flush();
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace sipbeat::core
