// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

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

/// The connection checks of every network output's test (libbeat transport/testing):
/// "parse host", "dns lookup", "addresses: a, b", "dial up" — each resolved address in
/// turn, as Go's dialer, with Go's error wording ("dial tcp 127.0.0.1:9: connect:
/// connection refused"). Printed at the driver's current depth; true when one dialled.
bool checkTcpConnection(TestDriver& driver, const std::string& host, uint16_t port,
                        int64_t timeout_ns);

}  // namespace sipbeat::outputs
