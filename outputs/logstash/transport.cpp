// SPDX-License-Identifier: Apache-2.0
#include "outputs/logstash/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <netdb.h>
#include <pthread.h>

namespace sipbeat::outputs::logstash {

int64_t steadyNowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {

/// OpenSSL writes to the socket with write(), which raises SIGPIPE when the peer has
/// gone; the beat does not ignore SIGPIPE process-wide. The signal is blocked in this
/// thread for the call and a SIGPIPE it raised is consumed, so the call just fails.
class SigpipeGuard {
public:
    SigpipeGuard() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~SigpipeGuard() {
        if (!was_pending_) {
            sigset_t pending;
            sigpending(&pending);
            if (sigismember(&pending, SIGPIPE) == 1) {
                const timespec zero{};
                (void)sigtimedwait(&pipe_, nullptr, &zero);
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
    sigset_t pipe_{};
    sigset_t old_{};
    bool was_pending_ = false;
};

/// Error text as Go prints it ("connection refused"), since `test output` transcripts
/// and logs are compared with Beats'.
std::string errnoText(int err) {
    std::string s = std::strerror(err);
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && (s.size() < 2 || s[1] < 'A' || s[1] > 'Z')) {
        s[0] = static_cast<char>(s[0] - 'A' + 'a');
    }
    return s;
}

enum class Wait : uint8_t { Ready, Timeout, Woken, Error };

/// poll() on `fd` for `events` until the absolute steady-clock deadline (< 0: none).
Wait waitFor(int fd, short events, int64_t deadline_ns, int wake_fd) {
    while (true) {
        int timeout_ms = -1;
        if (deadline_ns >= 0) {
            const int64_t left = deadline_ns - steadyNowNs();
            if (left <= 0) {
                return Wait::Timeout;
            }
            timeout_ms = static_cast<int>(
                std::min<int64_t>((left + 999'999) / 1'000'000, 24LL * 3600 * 1000));
        }
        pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
        const int rc = ::poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Wait::Error;
        }
        if (rc == 0) {
            continue;  // the loop checks the deadline
        }
        if (wake_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
            return Wait::Woken;
        }
        if (fds[0].revents != 0) {
            return Wait::Ready;
        }
    }
}

std::string opensslError(std::string_view what) {
    std::string msg(what);
    unsigned long code = ERR_get_error();
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        msg += ": ";
        msg += buf;
    }
    ERR_clear_error();
    return msg;
}

bool isIpLiteral(const std::string& host) {
    in6_addr a6{};
    in_addr a4{};
    return inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

core::Result<std::string> pemText(const std::string& value, const std::string& what) {
    if (isInlinePem(value)) {
        return value;
    }
    std::ifstream in(value, std::ios::binary);
    if (!in) {
        return core::Status::error("cannot read " + what + " file " + value + ": " +
                                   errnoText(errno));
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Every certificate of a PEM text.
core::Result<std::vector<X509*>> readCerts(const std::string& pem, const std::string& what) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    std::vector<X509*> certs;
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        certs.push_back(x);
    }
    BIO_free(bio);
    ERR_clear_error();  // the loop ends on "no start line"
    if (certs.empty()) {
        return core::Status::error("no PEM certificate found in " + what);
    }
    return certs;
}

int tlsVersionCode(const std::string& name) {
    if (name == "TLSv1.0") {
        return TLS1_VERSION;
    }
    if (name == "TLSv1.1") {
        return TLS1_1_VERSION;
    }
    if (name == "TLSv1.2") {
        return TLS1_2_VERSION;
    }
    return TLS1_3_VERSION;
}

}  // namespace

std::string HostPort::text() const {
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + std::to_string(port);
    }
    return host + ":" + std::to_string(port);
}

core::Result<HostPort> parseHostPort(std::string_view text, uint16_t default_port) {
    HostPort hp;
    hp.port = default_port;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) {
            return core::Status::error("missing ']' in address " + std::string(text));
        }
        hp.host = std::string(text.substr(1, close - 1));
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') {
                return core::Status::error("invalid address " + std::string(text));
            }
            port_text = text.substr(close + 2);
        }
    } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
        if (text.find(':') != colon) {
            return core::Status::error("address " + std::string(text) +
                                       ": too many colons in address (use [ipv6]:port)");
        }
        hp.host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    } else {
        hp.host = std::string(text);
    }
    if (hp.host.empty()) {
        return core::Status::error("missing host in address " + std::string(text));
    }
    if (!port_text.empty() || text.ends_with(":")) {
        uint32_t port = 0;
        for (char c : port_text) {
            if (c < '0' || c > '9' || port > 65535) {
                port = 70000;
                break;
            }
            port = port * 10 + static_cast<uint32_t>(c - '0');
        }
        if (port == 0 || port > 65535) {
            return core::Status::error("invalid port in address " + std::string(text));
        }
        hp.port = static_cast<uint16_t>(port);
    }
    return hp;
}

core::Result<std::vector<Endpoint>> resolveHost(const HostPort& hp) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(hp.port);
    if (int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        return core::Status::error("lookup " + hp.host + ": " + gai_strerror(rc));
    }
    std::vector<Endpoint> out;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
        Endpoint e;
        std::memcpy(&e.addr, ai->ai_addr, ai->ai_addrlen);
        e.len = ai->ai_addrlen;
        char buf[INET6_ADDRSTRLEN] = {};
        const void* src =
            ai->ai_family == AF_INET6
                ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr);
        inet_ntop(ai->ai_family, src, buf, sizeof buf);
        e.ip = buf;
        bool dup = false;
        for (const Endpoint& o : out) {
            dup = dup || o.ip == e.ip;
        }
        if (!dup) {
            out.push_back(std::move(e));
        }
    }
    freeaddrinfo(res);
    if (out.empty()) {
        return core::Status::error("lookup " + hp.host + ": no addresses");
    }
    return out;
}

core::Result<int> dialTcp(const HostPort& hp, const std::vector<Endpoint>& endpoints,
                          int64_t timeout_ns) {
    std::string last = "no addresses";
    for (const Endpoint& e : endpoints) {
        const std::string where = "dial tcp " +
                                  (e.addr.ss_family == AF_INET6 ? "[" + e.ip + "]" : e.ip) + ":" +
                                  std::to_string(hp.port);
        const int fd = ::socket(e.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = where + ": socket: " + errnoText(errno);
            continue;
        }
        int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len);
        if (rc < 0 && errno == EINPROGRESS) {
            const Wait w = waitFor(fd, POLLOUT, steadyNowNs() + timeout_ns, -1);
            if (w == Wait::Timeout) {
                ::close(fd);
                last = where + ": i/o timeout";
                continue;
            }
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                errno = err;
                rc = -1;
            } else {
                rc = 0;
            }
        }
        if (rc < 0) {
            last = where + ": connect: " + errnoText(errno);
            ::close(fd);
            continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as Go's dialer
        return fd;
    }
    return core::Status::error(last);
}

core::Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsSettings& settings) {
    std::shared_ptr<TlsContext> t(new TlsContext());
    t->settings_ = settings;
    t->ctx_ = SSL_CTX_new(TLS_client_method());
    if (t->ctx_ == nullptr) {
        return core::Status::error(opensslError("cannot create TLS context"));
    }
    SSL_CTX* ctx = t->ctx_;
    SSL_CTX_set_min_proto_version(ctx, tlsVersionCode(settings.min_version));
    SSL_CTX_set_max_proto_version(ctx, tlsVersionCode(settings.max_version));
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (settings.certificate_authorities.empty()) {
        SSL_CTX_set_default_verify_paths(ctx);
    } else {
        X509_STORE* store = SSL_CTX_get_cert_store(ctx);
        for (const std::string& ca : settings.certificate_authorities) {
            const std::string what = isInlinePem(ca) ? "ssl.certificate_authorities" : ca;
            auto pem = pemText(ca, "certificate authority");
            if (!pem) {
                return pem.status();
            }
            auto certs = readCerts(*pem, what);
            if (!certs) {
                return certs.status();
            }
            for (X509* x : *certs) {
                X509_STORE_add_cert(store, x);
                X509_free(x);
            }
            ERR_clear_error();
        }
    }
    if (!settings.certificate.empty()) {
        auto cert_pem = pemText(settings.certificate, "certificate");
        if (!cert_pem) {
            return cert_pem.status();
        }
        auto certs = readCerts(*cert_pem, "ssl.certificate");
        if (!certs) {
            return certs.status();
        }
        bool ok = SSL_CTX_use_certificate(ctx, certs->front()) == 1;
        X509_free(certs->front());
        for (size_t i = 1; i < certs->size(); ++i) {
            ok = ok && SSL_CTX_add0_chain_cert(ctx, (*certs)[i]) == 1;  // takes ownership
        }
        if (!ok) {
            return core::Status::error(opensslError("cannot use ssl.certificate"));
        }
        auto key_pem = pemText(settings.key, "key");
        if (!key_pem) {
            return key_pem.status();
        }
        BIO* bio = BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size()));
        std::string pass = settings.key_passphrase;
        EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, pass.data());
        BIO_free(bio);
        if (key == nullptr) {
            return core::Status::error(
                opensslError("cannot read ssl.key (wrong key_passphrase or not a PEM key)"));
        }
        ok = SSL_CTX_use_PrivateKey(ctx, key) == 1;
        EVP_PKEY_free(key);
        if (!ok || SSL_CTX_check_private_key(ctx) != 1) {
            return core::Status::error(opensslError("ssl.key does not match ssl.certificate"));
        }
    }
    if (settings.verifyPeer()) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (!settings.ca_trusted_fingerprint.empty()) {
            pinTrustedCa(ctx, &t->settings_.ca_trusted_fingerprint);
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    return t;
}

TlsContext::~TlsContext() {
    if (ctx_ != nullptr) {
        SSL_CTX_free(ctx_);
    }
}

core::Result<std::unique_ptr<Connection>> Connection::open(const HostPort& hp, int64_t timeout_ns,
                                                           std::shared_ptr<TlsContext> tls) {
    auto endpoints = resolveHost(hp);
    if (!endpoints) {
        return endpoints.status();
    }
    auto fd = dialTcp(hp, *endpoints, timeout_ns);
    if (!fd) {
        return fd.status();
    }
    if (tls) {
        return handshake(*fd, hp, timeout_ns, std::move(tls));
    }
    return std::unique_ptr<Connection>(new Connection(*fd, hp));
}

core::Result<std::unique_ptr<Connection>> Connection::handshake(int fd, const HostPort& hp,
                                                                int64_t timeout_ns,
                                                                std::shared_ptr<TlsContext> tls) {
    std::unique_ptr<Connection> c(new Connection(fd, hp));
    c->tls_ = std::move(tls);
    c->ssl_ = SSL_new(c->tls_->get());
    if (c->ssl_ == nullptr) {
        return core::Status::error(opensslError("cannot create TLS session"));
    }
    SSL_set_fd(c->ssl_, fd);
    const TlsSettings& s = c->tls_->settings();
    const bool ip = isIpLiteral(hp.host);
    if (!ip) {
        // SSL_set_tlsext_host_name, without the macro's C cast.
        SSL_ctrl(c->ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(hp.host.c_str()));
    }
    if (s.verifyHost()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(c->ssl_);
        if (s.verification == TlsSettings::Verification::Strict) {
            // strict: the name must be in the subjectAltName, never only in the CN.
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        }
        if (ip) {
            X509_VERIFY_PARAM_set1_ip_asc(param, hp.host.c_str());
        } else {
            SSL_set1_host(c->ssl_, hp.host.c_str());
        }
    }
    const int64_t deadline = steadyNowNs() + timeout_ns;
    while (true) {
        int rc = 0;
        int err = 0;
        {
            SigpipeGuard guard;
            rc = SSL_connect(c->ssl_);
            err = SSL_get_error(c->ssl_, rc);
        }
        if (rc == 1) {
            return c;
        }
        Wait w = Wait::Error;
        if (err == SSL_ERROR_WANT_READ) {
            w = waitFor(fd, POLLIN, deadline, -1);
        } else if (err == SSL_ERROR_WANT_WRITE) {
            w = waitFor(fd, POLLOUT, deadline, -1);
        } else {
            const long verify = SSL_get_verify_result(c->ssl_);
            if (verify != X509_V_OK) {
                ERR_clear_error();
                return core::Status::error(
                    "TLS handshake with " + hp.text() +
                    " failed: certificate verify failed: " + X509_verify_cert_error_string(verify));
            }
            if (ERR_peek_error() == 0) {
                return core::Status::error("TLS handshake with " + hp.text() +
                                           " failed: connection closed by the server");
            }
            return core::Status::error(opensslError("TLS handshake with " + hp.text() + " failed"));
        }
        if (w == Wait::Timeout) {
            return core::Status::error("TLS handshake with " + hp.text() + ": i/o timeout");
        }
        if (w != Wait::Ready) {
            return core::Status::error("TLS handshake with " + hp.text() + ": poll failed");
        }
    }
}

Connection::~Connection() {
    if (ssl_ != nullptr) {
        SigpipeGuard guard;
        (void)SSL_shutdown(ssl_);  // non-blocking: sends close_notify if it can
        SSL_free(ssl_);
        ERR_clear_error();
    }
    ::close(fd_);
}

void Connection::shutdown() {
    ::shutdown(fd_, SHUT_RDWR);
}

std::string Connection::tlsVersion() const {
    return ssl_ != nullptr ? SSL_get_version(ssl_) : "";
}

core::Status Connection::writeAll(std::string_view data, int64_t timeout_ns) {
    const int64_t deadline = steadyNowNs() + timeout_ns;
    const std::string& where = write_where_;
    while (!data.empty()) {
        short wait_for = POLLOUT;
        if (ssl_ == nullptr) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                data.remove_prefix(static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                return core::Status::error(where + ": " + errnoText(errno));
            }
        } else {
            int n = 0;
            int err = 0;
            {
                std::lock_guard lock(ssl_mutex_);
                SigpipeGuard guard;
                n = SSL_write(ssl_, data.data(),
                              static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
                err = SSL_get_error(ssl_, n);
            }
            if (n > 0) {
                data.remove_prefix(static_cast<size_t>(n));
                continue;
            }
            if (err == SSL_ERROR_WANT_READ) {
                wait_for = POLLIN;
            } else if (err != SSL_ERROR_WANT_WRITE) {
                const int e = errno;
                if (err == SSL_ERROR_SYSCALL && e != 0) {
                    ERR_clear_error();
                    return core::Status::error(where + ": " + errnoText(e));
                }
                return core::Status::error(opensslError(where));
            }
        }
        const Wait w = waitFor(fd_, wait_for, deadline, -1);
        if (w == Wait::Timeout) {
            return core::Status::error(where + ": i/o timeout");
        }
        if (w == Wait::Error) {
            return core::Status::error(where + ": poll: " + errnoText(errno));
        }
    }
    return core::Status::ok();
}

Connection::ReadOutcome Connection::readSome(uint8_t* buf, size_t cap, int64_t deadline_ns,
                                             int wake_fd) {
    using Kind = ReadOutcome::Kind;
    const std::string& where = read_where_;
    while (true) {
        short wait_for = POLLIN;
        if (ssl_ == nullptr) {
            const ssize_t n = ::recv(fd_, buf, cap, MSG_DONTWAIT);
            if (n > 0) {
                return {Kind::Data, static_cast<size_t>(n), {}};
            }
            if (n == 0) {
                return {Kind::Closed, 0, where + ": EOF"};
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                return {Kind::Error, 0, where + ": " + errnoText(errno)};
            }
        } else {
            int n = 0;
            int err = 0;
            int sys_errno = 0;
            {
                std::lock_guard lock(ssl_mutex_);
                SigpipeGuard guard;
                errno = 0;
                n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(cap, 1 << 30)));
                err = SSL_get_error(ssl_, n);
                sys_errno = errno;
            }
            if (n > 0) {
                return {Kind::Data, static_cast<size_t>(n), {}};
            }
            if (err == SSL_ERROR_WANT_WRITE) {
                wait_for = POLLOUT;
            } else if (err != SSL_ERROR_WANT_READ) {
                if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && sys_errno == 0)) {
                    ERR_clear_error();
                    return {Kind::Closed, 0, where + ": EOF"};
                }
                if (err == SSL_ERROR_SYSCALL) {
                    ERR_clear_error();
                    return {Kind::Error, 0, where + ": " + errnoText(sys_errno)};
                }
                const unsigned long code = ERR_peek_error();
                if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                    ERR_clear_error();
                    return {Kind::Closed, 0, where + ": EOF"};
                }
                return {Kind::Error, 0, opensslError(where)};
            }
        }
        switch (waitFor(fd_, wait_for, deadline_ns, wake_fd)) {
            case Wait::Ready:
                break;
            case Wait::Timeout:
                return {Kind::Timeout, 0, where + ": i/o timeout"};
            case Wait::Woken:
                return {Kind::Woken, 0, {}};
            case Wait::Error:
                return {Kind::Error, 0, where + ": poll: " + errnoText(errno)};
        }
    }
}

}  // namespace sipbeat::outputs::logstash
