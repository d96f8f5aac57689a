// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <ostream>

#include "outputs/output.h"

namespace sipbeat::outputs {

/// The console driver of `sipbeat test output` (libbeat testing/console.go): two spaces
/// of indent per level, "name... OK", "name... WARN reason", "name... ERROR err".
class ConsoleTestDriver final : public TestDriver {
public:
    explicit ConsoleTestDriver(std::ostream& out) : out_(out) {}

    core::Status run(std::string_view name, const std::function<core::Status()>& check) override;
    void section(std::string_view name, const std::function<void()>& body) override;
    void info(std::string_view name, std::string_view value) override;
    void warn(std::string_view name, std::string_view reason) override;
    bool failed() const override { return failed_; }

private:
    void indent();
    std::ostream& out_;
    int depth_ = 0;
    bool failed_ = false;
};

}  // namespace sipbeat::outputs
