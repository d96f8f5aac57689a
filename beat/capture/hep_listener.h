// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

#include "beat/core/clock.h"
#include "beat/core/status.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::capture {

/// Receives each HEP packet (one UDP datagram or one HEPv3 frame of a TCP connection).
class HepHandler {
public:
    virtual ~HepHandler() = default;
    virtual void onHep(std::span<const uint8_t> packet, core::TimestampNs arrival) = 0;
    virtual void onIdle(core::TimestampNs wall_now) { (void)wall_now; }
};

/// The HEP collector's sockets (`sipbeat.hep.listen_udp` / `listen_tcp`, `host:port`).
struct HepListenOptions {
    std::string udp;
    std::string tcp;
    size_t max_connections = 256;
    size_t max_frame = 65535;  ///< HEP's length field is 16 bits (hep.md §0 rule 7)
    int idle_ms = 250;
};

/// Binds the sockets (fails with a message naming the address), then serves until `stop`.
/// TCP connections carry back-to-back HEPv3 frames; a connection that sends something
/// else is closed and counted (`hep.tcp_bad_frames`). Counters: `hep.udp_packets`,
/// `hep.tcp_frames`, `hep.tcp_connections`, `hep.tcp_refused`.
class HepListener {
public:
    static core::Result<std::unique_ptr<HepListener>> bind(const HepListenOptions& options,
                                                           monitoring::Registry& metrics);
    ~HepListener();
    HepListener(const HepListener&) = delete;
    HepListener& operator=(const HepListener&) = delete;

    void serve(HepHandler& handler, const std::atomic<bool>& stop);
    /// The bound UDP/TCP port (useful with port 0 in tests), 0 when not listening.
    uint16_t udpPort() const;
    uint16_t tcpPort() const;

private:
    struct Impl;
    explicit HepListener(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sipbeat::capture
