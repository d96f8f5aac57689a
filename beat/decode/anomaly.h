// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

namespace sipbeat::decode {

/// Every malformed or unexpected input the decoder meets has a name and a counter
/// (`decode.anomaly.<name>`). Values are listed by layer; Count must stay last.
enum class Anomaly : uint16_t {
    UnknownLinkType,
    TruncatedLinkHeader,
    UnsupportedEtherType,
    TruncatedVlan,
    SnaplenTruncated,
    TruncatedIpv4,
    BadIpv4Version,
    BadIpv4HeaderLength,
    BadIpv4TotalLength,
    TruncatedIpv6,
    BadIpv6Version,
    BadIpv6PayloadLength,
    BadIpv6ExtensionHeader,
    UnsupportedIpProtocol,
    FragmentOverlap,
    FragmentTooLarge,
    FragmentLimitReached,
    FragmentTimeout,
    BadFragment,
    FragmentIncomplete,
    TruncatedUdp,
    BadUdpLength,
    TruncatedTcp,
    BadTcpHeaderLength,
    TcpStreamLimitReached,
    TcpBufferLimitReached,
    TcpGap,
    TcpResync,
    TcpStreamTimeout,
    TcpMemoryLimitReached,
    SipFramingNoContentLength,
    SipFramingBadContentLength,
    SipFramingIncomplete,
    SipMessageTooLarge,
    TruncatedGre,
    UnsupportedGreProtocol,
    TruncatedErspan,
    BadErspanHeader,
    TruncatedVxlan,
    BadVxlanFlags,
    TruncatedSctp,
    BadSctpChunk,
    SctpFragmentedData,
    WebSocketBadFrame,
    WebSocketBadHandshake,
    WebSocketCompressed,
    WebSocketMessageTooLarge,
    TunnelDepthExceeded,
    TruncatedHep,
    BadHepVersion,
    BadHepLength,
    BadHepChunk,
    HepMissingPayload,
    HepBadPassword,
    HepCompressedPayload,
    HepNotSip,
    Count
};

/// snake_case name, e.g. "bad_ipv4_header_length".
std::string_view anomalyName(Anomaly a) noexcept;

}  // namespace sipbeat::decode
