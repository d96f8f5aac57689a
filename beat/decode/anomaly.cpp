// SPDX-License-Identifier: Apache-2.0
#include "beat/decode/anomaly.h"

namespace sipbeat::decode {

std::string_view anomalyName(Anomaly a) noexcept {
    // A switch without default: the compiler warns when a value has no name.
    switch (a) {
        case Anomaly::UnknownLinkType:
            return "unknown_link_type";
        case Anomaly::TruncatedLinkHeader:
            return "truncated_link_header";
        case Anomaly::UnsupportedEtherType:
            return "unsupported_ether_type";
        case Anomaly::TruncatedVlan:
            return "truncated_vlan";
        case Anomaly::SnaplenTruncated:
            return "snaplen_truncated";
        case Anomaly::TruncatedIpv4:
            return "truncated_ipv4";
        case Anomaly::BadIpv4Version:
            return "bad_ipv4_version";
        case Anomaly::BadIpv4HeaderLength:
            return "bad_ipv4_header_length";
        case Anomaly::BadIpv4TotalLength:
            return "bad_ipv4_total_length";
        case Anomaly::TruncatedIpv6:
            return "truncated_ipv6";
        case Anomaly::BadIpv6Version:
            return "bad_ipv6_version";
        case Anomaly::BadIpv6PayloadLength:
            return "bad_ipv6_payload_length";
        case Anomaly::BadIpv6ExtensionHeader:
            return "bad_ipv6_extension_header";
        case Anomaly::UnsupportedIpProtocol:
            return "unsupported_ip_protocol";
        case Anomaly::FragmentOverlap:
            return "fragment_overlap";
        case Anomaly::FragmentTooLarge:
            return "fragment_too_large";
        case Anomaly::FragmentLimitReached:
            return "fragment_limit_reached";
        case Anomaly::FragmentTimeout:
            return "fragment_timeout";
        case Anomaly::BadFragment:
            return "bad_fragment";
        case Anomaly::FragmentIncomplete:
            return "fragment_incomplete";
        case Anomaly::TruncatedUdp:
            return "truncated_udp";
        case Anomaly::BadUdpLength:
            return "bad_udp_length";
        case Anomaly::TruncatedTcp:
            return "truncated_tcp";
        case Anomaly::BadTcpHeaderLength:
            return "bad_tcp_header_length";
        case Anomaly::TcpStreamLimitReached:
            return "tcp_stream_limit_reached";
        case Anomaly::TcpBufferLimitReached:
            return "tcp_buffer_limit_reached";
        case Anomaly::TcpGap:
            return "tcp_gap";
        case Anomaly::TcpResync:
            return "tcp_resync";
        case Anomaly::TcpStreamTimeout:
            return "tcp_stream_timeout";
        case Anomaly::TcpMemoryLimitReached:
            return "tcp_memory_limit_reached";
        case Anomaly::SipFramingNoContentLength:
            return "sip_framing_no_content_length";
        case Anomaly::SipFramingBadContentLength:
            return "sip_framing_bad_content_length";
        case Anomaly::SipFramingIncomplete:
            return "sip_framing_incomplete";
        case Anomaly::SipMessageTooLarge:
            return "sip_message_too_large";
        case Anomaly::TruncatedGre:
            return "truncated_gre";
        case Anomaly::UnsupportedGreProtocol:
            return "unsupported_gre_protocol";
        case Anomaly::TruncatedErspan:
            return "truncated_erspan";
        case Anomaly::BadErspanHeader:
            return "bad_erspan_header";
        case Anomaly::TruncatedVxlan:
            return "truncated_vxlan";
        case Anomaly::BadVxlanFlags:
            return "bad_vxlan_flags";
        case Anomaly::TruncatedSctp:
            return "truncated_sctp";
        case Anomaly::BadSctpChunk:
            return "bad_sctp_chunk";
        case Anomaly::SctpFragmentedData:
            return "sctp_fragmented_data";
        case Anomaly::WebSocketBadFrame:
            return "websocket_bad_frame";
        case Anomaly::WebSocketBadHandshake:
            return "websocket_bad_handshake";
        case Anomaly::WebSocketCompressed:
            return "websocket_compressed";
        case Anomaly::WebSocketMessageTooLarge:
            return "websocket_message_too_large";
        case Anomaly::TunnelDepthExceeded:
            return "tunnel_depth_exceeded";
        case Anomaly::TruncatedHep:
            return "truncated_hep";
        case Anomaly::BadHepVersion:
            return "bad_hep_version";
        case Anomaly::BadHepLength:
            return "bad_hep_length";
        case Anomaly::BadHepChunk:
            return "bad_hep_chunk";
        case Anomaly::HepMissingPayload:
            return "hep_missing_payload";
        case Anomaly::HepBadPassword:
            return "hep_bad_password";
        case Anomaly::HepCompressedPayload:
            return "hep_compressed_payload";
        case Anomaly::HepNotSip:
            return "hep_not_sip";
        case Anomaly::Count:
            break;
    }
    return "unknown";
}

}  // namespace sipbeat::decode
