// SPDX-License-Identifier: Apache-2.0
#include "beat/pipeline/hep_mirror.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "beat/core/logging.h"

#include <netdb.h>

namespace sipbeat::pipeline {

namespace {

const core::logging::Logger kLog("hep_mirror");

int64_t steadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

struct HepMirror::Target {
    std::string spec;
    bool tcp = false;
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    int fd = -1;
    bool connected = false;
    int64_t next_connect_ms = 0;
    std::string backlog;  ///< TCP bytes not yet written
    size_t backlog_off = 0;
};

core::Result<std::unique_ptr<HepMirror>> HepMirror::create(const HepMirrorConfig& config,
                                                           monitoring::Registry& metrics) {
    std::unique_ptr<HepMirror> m(new HepMirror());
    m->config_ = config;
    m->sent_ = &metrics.counter("hep_mirror.sent");
    m->dropped_ = &metrics.counter("hep_mirror.dropped");
    m->errors_ = &metrics.counter("hep_mirror.errors");
    m->too_big_ = &metrics.counter("hep_mirror.too_big");
    for (const std::string& spec : config.hosts) {
        auto t = std::make_unique<Target>();
        t->spec = spec;
        std::string rest = spec;
        if (rest.rfind("tcp://", 0) == 0) {
            t->tcp = true;
            rest = rest.substr(6);
        } else if (rest.rfind("udp://", 0) == 0) {
            rest = rest.substr(6);
        }
        // host:port, [v6]:port
        const size_t colon = rest.rfind(':');
        if (colon == std::string::npos) {
            return core::Status::error("hep_mirror host '" + spec + "' has no port");
        }
        std::string host = rest.substr(0, colon);
        const std::string port = rest.substr(colon + 1);
        if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        addrinfo hints{};
        hints.ai_socktype = t->tcp ? SOCK_STREAM : SOCK_DGRAM;
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* res = nullptr;
        if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
            return core::Status::error("hep_mirror host '" + spec + "': " + gai_strerror(rc));
        }
        std::memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
        t->addr_len = res->ai_addrlen;
        ::freeaddrinfo(res);
        if (!t->tcp) {
            t->fd = ::socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (t->fd < 0) {
                return core::Status::error("hep_mirror socket: " + std::string(strerror(errno)));
            }
        }
        kLog.info("Mirroring SIP as HEPv3 to " + spec);
        m->targets_.push_back(std::move(t));
    }
    return m;
}

HepMirror::~HepMirror() {
    for (auto& t : targets_) {
        if (t->fd >= 0) {
            ::close(t->fd);
        }
    }
}

bool HepMirror::connectTcp(Target& t) {
    const int64_t now = steadyMs();
    if (now < t.next_connect_ms) {
        return false;
    }
    t.next_connect_ms = now + 1000;
    if (t.fd >= 0) {
        ::close(t.fd);
    }
    t.fd = ::socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t.fd < 0) {
        errors_->add();
        return false;
    }
    if (::connect(t.fd, reinterpret_cast<const sockaddr*>(&t.addr), t.addr_len) != 0 &&
        errno != EINPROGRESS) {
        errors_->add();
        ::close(t.fd);
        t.fd = -1;
        return false;
    }
    t.connected = true;  // completion is seen by the first write
    // A new connection starts at a frame boundary: a partly sent frame is dropped.
    if (t.backlog_off != 0) {
        t.backlog.erase(0, t.backlog_off);
        t.backlog_off = 0;
    }
    return true;
}

void HepMirror::pump(Target& t) {
    while (t.connected && t.backlog_off < t.backlog.size()) {
        const ssize_t n = ::send(t.fd, t.backlog.data() + t.backlog_off,
                                 t.backlog.size() - t.backlog_off, MSG_NOSIGNAL);
        if (n > 0) {
            t.backlog_off += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS ||
                      errno == ENOTCONN)) {
            return;
        }
        errors_->add();
        kLog.warn("HEP mirror to " + t.spec + ": " + std::strerror(errno) +
                  "; reconnecting in a second");
        t.connected = false;
        if (t.backlog_off != 0) {
            // Part of a frame went out; the collector resyncs on the next connection.
            t.backlog.clear();
            t.backlog_off = 0;
        }
        return;
    }
    if (t.backlog_off == t.backlog.size()) {
        t.backlog.clear();
        t.backlog_off = 0;
    }
}

void HepMirror::sendTcp(Target& t, std::string_view packet) {
    if (!t.connected && !connectTcp(t)) {
        if (t.backlog.size() + packet.size() > config_.tcp_buffer_bytes) {
            dropped_->add();
            return;
        }
    }
    if (t.backlog.size() - t.backlog_off + packet.size() > config_.tcp_buffer_bytes) {
        dropped_->add();
        return;
    }
    t.backlog.append(packet);
    sent_->add();
    pump(t);
}

void HepMirror::send(const decode::SipPayload& msg, std::string_view call_id) {
    if (!encodeHep3(msg, call_id, config_.identity, packet_)) {
        too_big_->add();
        return;
    }
    for (auto& t : targets_) {
        if (t->tcp) {
            sendTcp(*t, packet_);
            continue;
        }
        const ssize_t n = ::sendto(t->fd, packet_.data(), packet_.size(), 0,
                                   reinterpret_cast<const sockaddr*>(&t->addr), t->addr_len);
        if (n == static_cast<ssize_t>(packet_.size())) {
            sent_->add();
        } else {
            // UDP to a collector that is down: ECONNREFUSED from an earlier ICMP, or a full
            // socket buffer. Counted, never retried (HEP over UDP is best effort).
            dropped_->add();
        }
    }
}

void HepMirror::flush(int timeout_ms) {
    const int64_t deadline = steadyMs() + timeout_ms;
    for (auto& t : targets_) {
        while (t->tcp && t->backlog_off < t->backlog.size() && steadyMs() < deadline) {
            if (!t->connected && !connectTcp(*t)) {
                ::usleep(10000);
                continue;
            }
            pollfd pfd{t->fd, POLLOUT, 0};
            ::poll(&pfd, 1, 50);
            pump(*t);
        }
        if (t->backlog_off < t->backlog.size()) {
            kLog.warn("HEP mirror to " + t->spec + ": " +
                      std::to_string(t->backlog.size() - t->backlog_off) +
                      " bytes not delivered at exit");
        }
    }
}

}  // namespace sipbeat::pipeline
