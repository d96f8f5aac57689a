// SPDX-License-Identifier: Apache-2.0
// Decoder internals shared by the per-layer files (link.cpp, ipv4.cpp, ipv6.cpp, udp.cpp,
// tcp.cpp, sctp.cpp, gre.cpp, vxlan.cpp). Each layer checks its header, counts what is
// wrong as an anomaly and calls the next layer with the bytes that follow.
#pragma once

#include <bitset>
#include <cstdint>
#include <span>
#include <string_view>

#include "beat/decode/bytes.h"
#include "beat/decode/counters.h"
#include "beat/decode/decoder.h"
#include "beat/decode/ip_defrag.h"
#include "beat/decode/tcp_stream.h"

namespace sipbeat::decode {

/// What the layers of one frame share.
struct PacketContext {
    core::TimestampNs ts = 0;
    uint16_t vlan = 0;      ///< outermost 802.1Q/802.1ad id
    uint8_t depth = 0;      ///< encapsulations entered (IP-in-IP, GRE, ERSPAN, VXLAN)
    bool cut = false;       ///< the snaplen cut the frame (wire length > captured length)
    bool cut_seen = false;  ///< SnaplenTruncated already counted for this frame
};

/// The network layer of the datagram in hand.
struct IpInfo {
    IpAddress src;
    IpAddress dst;
};

struct Decoder::Impl final : detail::StreamEvents {
    Impl(DecodeConfig config, SipSink& sink, monitoring::Registry& metrics);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // link.cpp
    void decodeLink(uint16_t linktype, detail::Bytes data, PacketContext& ctx) noexcept;
    void decodeEthernet(detail::Bytes data, PacketContext& ctx) noexcept;
    void decodeEtherType(uint16_t type, detail::Bytes data, PacketContext& ctx) noexcept;
    // ipv4.cpp / ipv6.cpp
    void decodeIpv4(detail::Bytes data, PacketContext& ctx) noexcept;
    void decodeIpv6(detail::Bytes data, PacketContext& ctx) noexcept;
    /// Dispatches on the IP protocol number. `missing` = bytes of this payload the snaplen
    /// cut off (0 normally).
    void decodeIpPayload(uint8_t protocol, const IpInfo& ip, detail::Bytes payload, size_t missing,
                         PacketContext& ctx) noexcept;
    /// Counts the snaplen cut once per frame; false when the shortfall is not explained by
    /// it (so the length field is wrong).
    bool snaplenExplains(PacketContext& ctx) noexcept;
    // udp.cpp, tcp.cpp, sctp.cpp
    void decodeUdp(const IpInfo& ip, detail::Bytes data, size_t missing,
                   PacketContext& ctx) noexcept;
    void decodeTcp(const IpInfo& ip, detail::Bytes data, size_t missing,
                   PacketContext& ctx) noexcept;
    void decodeSctp(const IpInfo& ip, detail::Bytes data, PacketContext& ctx) noexcept;
    // gre.cpp, vxlan.cpp
    void decodeGre(detail::Bytes data, PacketContext& ctx) noexcept;
    void decodeErspan(bool type3, detail::Bytes data, PacketContext& ctx) noexcept;
    void decodeVxlan(detail::Bytes data, PacketContext& ctx) noexcept;
    /// Enters one more encapsulation; false (and counted) past the depth limit.
    bool enterTunnel(PacketContext& ctx) noexcept;

    // decoder.cpp
    void handleHep(detail::Bytes data, core::TimestampNs ts) noexcept;
    void emit(const SipPayload& p) noexcept;
    bool sipPort(uint16_t a, uint16_t b) const noexcept {
        return all_sip_ || sip_ports_[a] || sip_ports_[b];
    }
    void housekeeping(core::TimestampNs now) noexcept;

    // detail::StreamEvents
    void onStreamMessage(const detail::FlowKey& key, uint16_t vlan, bool websocket,
                         std::string_view bytes, core::TimestampNs ts) noexcept override;
    void onStreamHep(std::span<const uint8_t> frame, core::TimestampNs ts) noexcept override;

    DecodeConfig config_;
    SipSink& sink_;
    detail::DecodeCounters counters_;
    bool all_sip_ = false;
    std::bitset<65536> sip_ports_;
    std::bitset<65536> vxlan_ports_;
    std::bitset<65536> ws_ports_;
    std::bitset<65536> hep_ports_;
    detail::IpDefragmenter defrag_;
    detail::TcpReassembler tcp_;
    core::TimestampNs next_housekeeping_ = 0;
    bool housekeeping_started_ = false;
};

/// Encapsulations followed at most (IP-in-IP in GRE in VXLAN ... ): enough for real
/// networks, and it bounds the recursion.
inline constexpr uint8_t kMaxTunnelDepth = 8;

}  // namespace sipbeat::decode
