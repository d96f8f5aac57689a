// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "beat/capture/packet.h"
#include "beat/core/status.h"
#include "beat/monitoring/registry.h"

namespace sipbeat::capture {

/// Receives every captured frame, in order, on the capture thread.
class PacketHandler {
public:
    virtual ~PacketHandler() = default;
    virtual void onPacket(const RawPacket& packet) = 0;
    /// Live capture saw no packet for a while; `wall_now` lets timers run on (SPEC §1).
    virtual void onIdle(core::TimestampNs wall_now) { (void)wall_now; }
};

/// Reading pcap/pcapng files (sipcmbeat `pcap`, `pcap_loop`, `replay*`; packetbeat `-I`,
/// `-t`, `-l`).
struct FileOptions {
    std::vector<std::string> files;
    uint32_t loops = 1;  ///< 0 = forever (packetbeat -l 0)
    std::string bpf;
    /// Honour the inter-packet gaps (sipcmbeat `replay`); otherwise as fast as possible.
    bool replay = false;
    double replay_scale = 0;          ///< gap multiplier; 0 = 1
    int64_t replay_min_delay_ns = 0;  ///< gaps shorter than this are not slept
    int64_t replay_max_delay_ns = 0;  ///< 0 = no maximum
    bool progress = false;            ///< progress line on stderr
};

/// Reads the files one after the other (loops times), applying the BPF, handing frames
/// to `handler`. Counts `pcap.<file>.recvd` like sipcmbeat (§9). Stops early when `stop`
/// becomes true. Fails on a file that cannot be opened or a BPF that does not compile.
core::Status readFiles(const FileOptions& options, PacketHandler& handler,
                       monitoring::Registry& metrics, const std::atomic<bool>& stop);

/// Live capture (sipcmbeat `iface`, `bpf`, `pcap_buf_kb`; packetbeat interfaces.*).
struct LiveOptions {
    std::string device = "any";
    std::string bpf;
    int snaplen = 65535;
    int buffer_kb = 0;  ///< 0 = libpcap default
    bool promiscuous = true;
    int64_t idle_timeout_ns = 250'000'000;  ///< max_blocked_timeout
};

/// Captures until `stop`; calls onIdle about every idle_timeout without packets. Counts
/// `pcap.<device>.recvd/drop/if_drop` from pcap_stats.
core::Status captureLive(const LiveOptions& options, PacketHandler& handler,
                         monitoring::Registry& metrics, const std::atomic<bool>& stop);

/// `port 5060 or port 5061 …` for the given ports (packetbeat builds its BPF the same way);
/// VXLAN and HEP ports are added so encapsulated SIP is seen too.
std::string buildBpf(const std::vector<uint16_t>& sip_ports,
                     const std::vector<uint16_t>& extra_udp);

}  // namespace sipbeat::capture
