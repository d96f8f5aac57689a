// SPDX-License-Identifier: Apache-2.0
#include "beat/capture/hep_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "beat/core/logging.h"

#include <netdb.h>

namespace sipbeat::capture {

namespace {

const core::logging::Logger kLog("hep");

core::Result<int> bindSocket(const std::string& spec, int type) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos) {
        return core::Status::error("HEP listen address '" + spec + "' must be host:port");
    }
    std::string host = spec.substr(0, colon);
    const std::string port = spec.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    addrinfo hints{};
    hints.ai_socktype = type;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (const int rc =
            ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
        rc != 0) {
        return core::Status::error("HEP listen address '" + spec + "': " + gai_strerror(rc));
    }
    const int fd = ::socket(res->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (type == SOCK_DGRAM) {
        // Bursts from busy proxies: a large receive buffer keeps the kernel from dropping.
        int rcvbuf = 8 << 20;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    const bool ok = fd >= 0 && ::bind(fd, res->ai_addr, res->ai_addrlen) == 0 &&
                    (type == SOCK_DGRAM || ::listen(fd, 64) == 0);
    const int err = errno;
    ::freeaddrinfo(res);
    if (!ok) {
        if (fd >= 0) {
            ::close(fd);
        }
        return core::Status::error("cannot listen for HEP on " + spec + ": " + std::strerror(err));
    }
    return fd;
}

uint16_t boundPort(int fd) {
    if (fd < 0) {
        return 0;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (ss.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    }
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

struct Connection {
    int fd = -1;
    std::vector<uint8_t> buf;
};

}  // namespace

struct HepListener::Impl {
    HepListenOptions options;
    int udp_fd = -1;
    int tcp_fd = -1;
    std::vector<Connection> conns;
    monitoring::Counter* udp_packets = nullptr;
    monitoring::Counter* tcp_frames = nullptr;
    monitoring::Counter* tcp_connections = nullptr;
    monitoring::Counter* tcp_refused = nullptr;
    monitoring::Counter* tcp_bad = nullptr;

    ~Impl() {
        for (int fd : {udp_fd, tcp_fd}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
        for (auto& c : conns) {
            ::close(c.fd);
        }
    }
};

HepListener::HepListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HepListener::~HepListener() = default;

core::Result<std::unique_ptr<HepListener>> HepListener::bind(const HepListenOptions& options,
                                                             monitoring::Registry& metrics) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    if (!options.udp.empty()) {
        auto fd = bindSocket(options.udp, SOCK_DGRAM);
        if (!fd) {
            return fd.status();
        }
        impl->udp_fd = *fd;
    }
    if (!options.tcp.empty()) {
        auto fd = bindSocket(options.tcp, SOCK_STREAM);
        if (!fd) {
            return fd.status();
        }
        impl->tcp_fd = *fd;
    }
    impl->udp_packets = &metrics.counter("hep.udp_packets");
    impl->tcp_frames = &metrics.counter("hep.tcp_frames");
    impl->tcp_connections = &metrics.counter("hep.tcp_connections");
    impl->tcp_refused = &metrics.counter("hep.tcp_refused");
    impl->tcp_bad = &metrics.counter("hep.tcp_bad_frames");
    return std::unique_ptr<HepListener>(new HepListener(std::move(impl)));
}

uint16_t HepListener::udpPort() const {
    return boundPort(impl_->udp_fd);
}
uint16_t HepListener::tcpPort() const {
    return boundPort(impl_->tcp_fd);
}

void HepListener::serve(HepHandler& handler, const std::atomic<bool>& stop) {
    Impl& s = *impl_;
    std::vector<uint8_t> dgram(65536);
    const core::Clock& clock = core::SystemClock::instance();
    if (s.udp_fd >= 0) {
        kLog.info("HEP collector listening on udp " + s.options.udp);
    }
    if (s.tcp_fd >= 0) {
        kLog.info("HEP collector listening on tcp " + s.options.tcp);
    }
    std::vector<pollfd> pfds;
    while (!stop.load(std::memory_order_relaxed)) {
        pfds.clear();
        if (s.udp_fd >= 0) {
            pfds.push_back({s.udp_fd, POLLIN, 0});
        }
        if (s.tcp_fd >= 0) {
            pfds.push_back({s.tcp_fd, POLLIN, 0});
        }
        for (const auto& c : s.conns) {
            pfds.push_back({c.fd, POLLIN, 0});
        }
        // Connections accepted below were not polled this round: only these have revents.
        const size_t polled_conns = s.conns.size();
        const int n = ::poll(pfds.data(), pfds.size(), s.options.idle_ms);
        if (n <= 0) {
            handler.onIdle(clock.now());
            continue;
        }
        size_t i = 0;
        if (s.udp_fd >= 0) {
            if ((pfds[i].revents & POLLIN) != 0) {
                // Drain what is queued, but yield to the other sockets after a while.
                for (int k = 0; k < 256; ++k) {
                    const ssize_t len = ::recv(s.udp_fd, dgram.data(), dgram.size(), 0);
                    if (len <= 0) {
                        break;
                    }
                    s.udp_packets->add();
                    handler.onHep({dgram.data(), static_cast<size_t>(len)}, clock.now());
                }
            }
            ++i;
        }
        if (s.tcp_fd >= 0) {
            if ((pfds[i].revents & POLLIN) != 0) {
                const int cfd = ::accept4(s.tcp_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd >= 0) {
                    if (s.conns.size() >= s.options.max_connections) {
                        s.tcp_refused->add();
                        ::close(cfd);
                    } else {
                        s.tcp_connections->add();
                        s.conns.push_back({cfd, {}});
                    }
                }
            }
            ++i;
        }
        const size_t first_conn = i;
        std::vector<size_t> closed;
        for (size_t c = 0; c < polled_conns; ++c) {
            if ((pfds[first_conn + c].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            Connection& conn = s.conns[c];
            uint8_t tmp[16384];
            const ssize_t len = ::recv(conn.fd, tmp, sizeof tmp, 0);
            if (len <= 0) {
                if (len == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    closed.push_back(c);
                }
                continue;
            }
            conn.buf.insert(conn.buf.end(), tmp, tmp + len);
            // Back-to-back HEPv3 frames: "HEP3" + u16 total length (hep.md §0 rule 1).
            size_t off = 0;
            bool bad = false;
            while (conn.buf.size() - off >= 6) {
                const uint8_t* p = conn.buf.data() + off;
                if (std::memcmp(p, "HEP3", 4) != 0) {
                    bad = true;
                    break;
                }
                const size_t flen = static_cast<size_t>(p[4]) << 8 | p[5];
                if (flen < 6) {
                    bad = true;
                    break;
                }
                if (conn.buf.size() - off < flen) {
                    break;
                }
                s.tcp_frames->add();
                handler.onHep({p, flen}, clock.now());
                off += flen;
            }
            conn.buf.erase(conn.buf.begin(), conn.buf.begin() + static_cast<std::ptrdiff_t>(off));
            if (bad) {
                s.tcp_bad->add();
                closed.push_back(c);
            }
        }
        for (auto it = closed.rbegin(); it != closed.rend(); ++it) {
            ::close(s.conns[*it].fd);
            s.conns.erase(s.conns.begin() + static_cast<std::ptrdiff_t>(*it));
        }
    }
}

}  // namespace sipbeat::capture
