// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "beat/core/status.h"
#include "outputs/common/tls.h"

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;

namespace sipbeat::outputs::logstash {

/// `host[:port]` (IPv6 as `[::1]:5044`).
struct HostPort {
    std::string host;
    uint16_t port = 0;
    std::string text() const;
};
core::Result<HostPort> parseHostPort(std::string_view text, uint16_t default_port);

/// One resolved address of a host.
struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string ip;  ///< "127.0.0.1"
};
core::Result<std::vector<Endpoint>> resolveHost(const HostPort& hp);
/// A connected TCP socket (blocking off) to the first endpoint that answers within
/// `timeout_ns` each; the error names the last failure as Go's dialer does.
core::Result<int> dialTcp(const HostPort& hp, const std::vector<Endpoint>& endpoints,
                          int64_t timeout_ns);

/// The OpenSSL client context built once from `ssl.*` (CAs, client certificate,
/// protocol range, verification mode, CA fingerprint pinning).
class TlsContext {
public:
    static core::Result<std::shared_ptr<TlsContext>> create(const TlsSettings& settings);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    SSL_CTX* get() const { return ctx_; }
    const TlsSettings& settings() const { return settings_; }

private:
    TlsContext() = default;
    SSL_CTX* ctx_ = nullptr;
    TlsSettings settings_;
};

/// A TCP or TLS connection used by two threads at once: one writes windows, one reads
/// ACKs. The socket is non-blocking and every wait is a poll() with a deadline; OpenSSL
/// calls are serialised by a mutex (an SSL object is not thread-safe), waits are not.
class Connection {
public:
    /// Resolves, dials and, with `tls`, handshakes; each step bounded by `timeout_ns`.
    static core::Result<std::unique_ptr<Connection>> open(const HostPort& hp, int64_t timeout_ns,
                                                          std::shared_ptr<TlsContext> tls);
    /// The TLS handshake over a connected socket (owned from now on, closed on failure).
    static core::Result<std::unique_ptr<Connection>> handshake(int fd, const HostPort& hp,
                                                               int64_t timeout_ns,
                                                               std::shared_ptr<TlsContext> tls);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Writes all of `data` within `timeout_ns`.
    core::Status writeAll(std::string_view data, int64_t timeout_ns);

    struct ReadOutcome {
        enum class Kind : uint8_t { Data, Timeout, Woken, Closed, Error };
        Kind kind = Kind::Error;
        size_t bytes = 0;
        std::string error;
    };
    /// Waits for bytes until `deadline_ns` (steady clock; < 0: no deadline) or until
    /// `wake_fd` (an eventfd, may be -1) becomes readable.
    ReadOutcome readSome(uint8_t* buf, size_t cap, int64_t deadline_ns, int wake_fd);

    /// Makes both threads' waits end (the socket is shut down, not yet closed).
    void shutdown();
    /// "TLSv1.3", or "" for plain TCP.
    std::string tlsVersion() const;
    const HostPort& peer() const { return peer_; }

private:
    Connection(int fd, HostPort peer)
        : fd_(fd),
          peer_(std::move(peer)),
          write_where_("write tcp " + peer_.text()),
          read_where_("read tcp " + peer_.text()) {}
    int fd_;
    HostPort peer_;
    std::string write_where_;  ///< error prefixes, built once
    std::string read_where_;
    std::shared_ptr<TlsContext> tls_;
    SSL* ssl_ = nullptr;
    std::mutex ssl_mutex_;
};

/// Steady-clock nanoseconds, for I/O deadlines (real time, not the injected event clock).
int64_t steadyNowNs();

}  // namespace sipbeat::outputs::logstash
