// SPDX-License-Identifier: Apache-2.0
#include "beat/core/logging.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "beat/core/json_escape.h"
#include "beat/core/version.h"

namespace sipbeat::core::logging {

namespace {

struct State {
    std::mutex mutex;
    Config config;
    const Clock* clock = &SystemClock::instance();
    std::unique_ptr<FileRotator> file;
    bool configured = false;
    bool all_selectors = false;
};

State& state() {
    static State s;
    return s;
}

std::atomic<Level> g_level{Level::Warning};

}  // namespace

bool parseLevel(std::string_view text, Level& level) {
    if (text == "debug") {
        level = Level::Debug;
    } else if (text == "info") {
        level = Level::Info;
    } else if (text == "warning" || text == "warn") {
        level = Level::Warning;
    } else if (text == "error") {
        level = Level::Error;
    } else if (text == "critical") {
        level = Level::Critical;
    } else {
        return false;
    }
    return true;
}

std::string_view levelName(Level level) {
    switch (level) {
        case Level::Debug:
            return "debug";
        case Level::Info:
            return "info";
        case Level::Warning:
            return "warn";
        case Level::Error:
            return "error";
        case Level::Critical:
            return "critical";
    }
    return "info";
}

Status configure(const Config& config, const Clock& clock) {
    State& s = state();
    std::unique_ptr<FileRotator> file;
    // stderr wins over files, as in libbeat's createLogOutput.
    if (!config.to_stderr && config.to_files) {
        RotatorOptions opts = config.files;
        opts.clock = &clock;
        auto opened = FileRotator::open(opts);
        if (!opened) {
            return Status::error("failed to open log file: " + opened.status().message());
        }
        file = std::move(opened).value();
    }
    std::lock_guard lock(s.mutex);
    s.config = config;
    s.clock = &clock;
    s.file = std::move(file);
    s.configured = true;
    s.all_selectors =
        std::find(config.selectors.begin(), config.selectors.end(), "*") != config.selectors.end();
    g_level.store(config.level);
    return Status::ok();
}

void reset() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.file.reset();
    s.config = Config{};
    s.clock = &SystemClock::instance();
    s.configured = false;
    s.all_selectors = false;
    g_level.store(Level::Warning);
}

bool enabled(Level level, std::string_view selector) {
    if (level < g_level.load(std::memory_order_relaxed)) {
        return false;
    }
    if (level != Level::Debug) {
        return true;
    }
    State& s = state();
    std::lock_guard lock(s.mutex);
    return s.all_selectors || std::find(s.config.selectors.begin(), s.config.selectors.end(),
                                        selector) != s.config.selectors.end();
}

void write(Level level, std::string_view selector, std::string_view message,
           const SourceLocation& where) {
    State& s = state();
    std::string line;
    line.reserve(256 + message.size());
    line.append("{\"log.level\":\"");
    line.append(levelName(level));
    line.append("\",\"@timestamp\":\"");
    std::lock_guard lock(s.mutex);
    appendRfc3339(line, s.clock->now(), Precision::Millisecond);
    line.append("\"");
    if (!selector.empty()) {
        line.append(",\"log.logger\":");
        appendJsonString(line, selector);
    }
    // Path relative to the source tree, like Go's short file names.
    std::string_view file = where.file_name();
    for (std::string_view root : {"/beat/", "/outputs/"}) {
        if (const size_t pos = file.rfind(root); pos != std::string_view::npos) {
            file.remove_prefix(pos + 1);
            break;
        }
    }
    line.append(",\"log.origin\":{\"file.name\":");
    appendJsonString(line, file);
    line.append(",\"file.line\":");
    line.append(std::to_string(where.line()));
    line.append("},\"message\":");
    appendJsonString(line, message);
    line.append(",\"service.name\":\"");
    line.append(kBeatName);
    line.append("\",\"ecs.version\":\"1.6.0\"}\n");
    if (s.file) {
        // A log line that cannot be written has nowhere else to go; stderr is the last
        // resort so the operator still sees it.
        if (!s.file->write(line)) {
            [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
        }
    } else if (!s.configured || s.config.to_stderr || !s.config.to_files) {
        if (s.configured && !s.config.to_stderr && !s.config.to_files) {
            return;  // logging to nowhere was asked for
        }
        [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    }
}

}  // namespace sipbeat::core::logging
