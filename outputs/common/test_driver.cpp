// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/test_driver.h"

namespace sipbeat::outputs {

void ConsoleTestDriver::indent() {
    for (int i = 0; i < depth_; ++i) {
        out_ << "  ";
    }
}

core::Status ConsoleTestDriver::run(std::string_view name,
                                    const std::function<core::Status()>& check) {
    indent();
    out_ << name << "... " << std::flush;
    core::Status st = check();
    if (st) {
        out_ << "OK\n";
    } else {
        out_ << "ERROR " << st.message() << '\n';
        failed_ = true;
    }
    out_.flush();
    return st;
}

void ConsoleTestDriver::section(std::string_view name, const std::function<void()>& body) {
    indent();
    out_ << name << "...\n";
    ++depth_;
    body();
    --depth_;
}

void ConsoleTestDriver::info(std::string_view name, std::string_view value) {
    indent();
    out_ << name << ": " << value << '\n';
}

void ConsoleTestDriver::warn(std::string_view name, std::string_view reason) {
    indent();
    out_ << name << "... WARN " << reason << '\n';
}

}  // namespace sipbeat::outputs
