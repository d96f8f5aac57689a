// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/test_driver.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include <netdb.h>

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

namespace {

/// Go's errors are lower case ("connection refused"), strerror's are not.
std::string goError(int err) {
    std::string text = std::strerror(err);
    if (!text.empty()) {
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    }
    return text;
}

core::Status dialOne(const addrinfo& ai, const std::string& address, int timeout_ms) {
    const int fd =
        ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
    if (fd < 0) {
        return core::Status::error("dial tcp " + address + ": socket: " + goError(errno));
    }
    int err = 0;
    if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            const int rc = ::poll(&p, 1, timeout_ms);
            if (rc <= 0) {
                ::close(fd);
                return core::Status::error("dial tcp " + address + ": i/o timeout");
            }
            socklen_t len = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
    }
    ::close(fd);
    if (err != 0) {
        return core::Status::error("dial tcp " + address + ": connect: " + goError(err));
    }
    return core::Status::ok();
}

}  // namespace

bool checkTcpConnection(TestDriver& driver, const std::string& host, uint16_t port,
                        int64_t timeout_ns) {
    if (!driver.run("parse host", [&] {
            return host.empty() || port == 0 ? core::Status::error("invalid host '" + host + "'")
                                             : core::Status::ok();
        })) {
        return false;
    }
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (!driver.run("dns lookup", [&] {
            addrinfo hints{};
            hints.ai_socktype = SOCK_STREAM;
            const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
            return rc == 0 ? core::Status::ok()
                           : core::Status::error("lookup " + host + ": " + ::gai_strerror(rc));
        })) {
        return false;
    }
    std::vector<std::pair<const addrinfo*, std::string>> addresses;
    std::string listed;
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
        char text[NI_MAXHOST];
        if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0,
                          NI_NUMERICHOST) != 0) {
            continue;
        }
        const bool seen = std::any_of(addresses.begin(), addresses.end(),
                                      [&](const auto& e) { return e.second == text; });
        if (!seen) {
            listed += (listed.empty() ? "" : ", ") + std::string(text);
        }
        const bool v6 = a->ai_family == AF_INET6;
        addresses.emplace_back(
            a, v6 ? "[" + std::string(text) + "]:" + service : std::string(text) + ":" + service);
    }
    driver.info("addresses", listed);
    const int timeout_ms = static_cast<int>(
        std::clamp<int64_t>(timeout_ns / 1'000'000, 1, std::numeric_limits<int>::max()));
    const core::Status dialed = driver.run("dial up", [&] {
        core::Status st = core::Status::error("dial tcp " + host + ": no address");
        for (const auto& [ai, address] : addresses) {
            st = dialOne(*ai, address, timeout_ms);
            if (st) {
                break;
            }
        }
        return st;
    });
    ::freeaddrinfo(found);
    return static_cast<bool>(dialed);
}

}  // namespace sipbeat::outputs
