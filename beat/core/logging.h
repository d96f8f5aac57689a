// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "beat/core/clock.h"
#include "beat/core/file_rotator.h"
#include "beat/core/status.h"

namespace sipbeat::core::logging {

/// Where a log call stands (`log.origin`). std::source_location needs consteval support
/// that clang 14 (the libFuzzer build) lacks with libstdc++ 12; the builtins both compilers
/// have give the same.
class SourceLocation {
public:
    static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                            unsigned line = __builtin_LINE()) noexcept {
        return SourceLocation(file, line);
    }
    constexpr const char* file_name() const noexcept { return file_; }
    constexpr unsigned line() const noexcept { return line_; }

private:
    constexpr SourceLocation(const char* file, unsigned line) noexcept : file_(file), line_(line) {}
    const char* file_;
    unsigned line_;
};

enum class Level : uint8_t { Debug, Info, Warning, Error, Critical };

/// Parses `debug`, `info`, `warning` (or `warn`), `error`, `critical`.
bool parseLevel(std::string_view text, Level& level);
std::string_view levelName(Level level);

/// What the `logging.*` keys say (reference/beats.md §2.3).
struct Config {
    Level level = Level::Info;
    std::vector<std::string> selectors;  ///< Debug selectors; `*` enables all.
    bool to_stderr = false;
    bool to_files = true;
    RotatorOptions files;  ///< directory/filename/size/keep/permissions/interval.
};

/// Applies the configuration to the process-wide logger. Until this is called, warnings
/// and errors go to stderr so early failures are visible.
Status configure(const Config& config, const Clock& clock = SystemClock::instance());
/// Back to the initial state (stderr, warnings and above). For tests and shutdown.
void reset();

/// True when a message of `level` from logger `selector` would be written. Debug messages
/// need their selector (or `*`) enabled, as in Beats; other levels only the level.
bool enabled(Level level, std::string_view selector);

/// Writes one ECS JSON log line (`log.level`, `@timestamp`, `log.logger`,
/// `log.origin`, `message`, `service.name`, `ecs.version`).
void write(Level level, std::string_view selector, std::string_view message,
           const SourceLocation& where);

/// Logger bound to one selector (libbeat's `logp.NewLogger("name")`).
class Logger {
public:
    explicit Logger(std::string_view selector) : selector_(selector) {}
    void debug(std::string_view msg,
               const SourceLocation& where = SourceLocation::current()) const {
        log(Level::Debug, msg, where);
    }
    void info(std::string_view msg, const SourceLocation& where = SourceLocation::current()) const {
        log(Level::Info, msg, where);
    }
    void warn(std::string_view msg, const SourceLocation& where = SourceLocation::current()) const {
        log(Level::Warning, msg, where);
    }
    void error(std::string_view msg,
               const SourceLocation& where = SourceLocation::current()) const {
        log(Level::Error, msg, where);
    }
    void critical(std::string_view msg,
                  const SourceLocation& where = SourceLocation::current()) const {
        log(Level::Critical, msg, where);
    }
    bool debugEnabled() const { return enabled(Level::Debug, selector_); }

private:
    void log(Level level, std::string_view msg, const SourceLocation& where) const {
        if (enabled(level, selector_)) {
            write(level, selector_, msg, where);
        }
    }
    std::string selector_;
};

}  // namespace sipbeat::core::logging
