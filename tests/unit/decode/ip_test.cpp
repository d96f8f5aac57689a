// SPDX-License-Identifier: Apache-2.0
// IPv4 and IPv6 headers, extension headers, IP-in-IP, UDP.
#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

const std::string kMsg = sipRequest("OPTIONS");

TEST(Ipv4Test, PaddingIsTrimmed) {
    Harness h;
    // A 5-byte payload in a minimum-size (60-byte) Ethernet frame.
    Bytes f = ethernet(0x0800, ipv4(17, udp(5060, 5060, std::string_view("\r\n\r\n\0", 5))));
    f.resize(60, 0xee);
    h.feed(f);
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, std::string("\r\n\r\n\0", 5));
}

TEST(Ipv4Test, OptionsAreSkipped) {
    Harness h;
    Ipv4Options o;
    o.version_ihl = 0x46;
    o.options = {1, 1, 1, 0};
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, kMsg), o)));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, kMsg);
}

TEST(Ipv4Test, ZeroTotalLengthFromSegmentationOffload) {
    Harness h;
    Ipv4Options o;
    o.total = 0;
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, kMsg), o)));
    EXPECT_EQ(h.sink.got.size(), 1U);
}

TEST(Ipv4Test, Truncated) {
    Harness h;
    h.feed(ethernet(0x0800, Bytes(19, 0x45)));
    EXPECT_EQ(h.count(Anomaly::TruncatedIpv4), 1U);
    Ipv4Options o;
    o.version_ihl = 0x4f;  // 60-byte header in a 28-byte packet
    h.feed(ethernet(0x0800, ipv4(17, udp(1, 2, ""), o)));
    EXPECT_EQ(h.count(Anomaly::TruncatedIpv4), 2U);
}

TEST(Ipv4Test, BadVersion) {
    Harness h;
    Ipv4Options o;
    o.version_ihl = 0x55;
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, kMsg), o)));
    EXPECT_EQ(h.count(Anomaly::BadIpv4Version), 1U);
    // RAW with a version that is neither 4 nor 6.
    h.feed(ipv4(17, udp(5060, 5060, kMsg), o), 1, capture::LinkType::Raw);
    EXPECT_EQ(h.count(Anomaly::BadIpv4Version), 2U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(Ipv4Test, BadHeaderLength) {
    Harness h;
    Ipv4Options o;
    o.version_ihl = 0x44;
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, kMsg), o)));
    EXPECT_EQ(h.count(Anomaly::BadIpv4HeaderLength), 1U);
}

TEST(Ipv4Test, BadTotalLength) {
    Harness h;
    Ipv4Options o;
    o.total = 10;  // shorter than the header
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, kMsg), o)));
    o.total = 1400;  // longer than the packet, and no snaplen to explain it
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, kMsg), o)));
    EXPECT_EQ(h.count(Anomaly::BadIpv4TotalLength), 2U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(Ipv4Test, SnaplenCutUdpStillEmitted) {
    Harness h;
    const std::string body(200, 'x');
    const std::string msg = sipRequest("MESSAGE", body);
    Bytes f = ethIpv4Udp(5060, 5060, msg);
    const auto wire = static_cast<uint32_t>(f.size());
    f.resize(f.size() - 100);
    h.feed(f, 1, capture::LinkType::Ethernet, wire);
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, msg.substr(0, msg.size() - 100));
    EXPECT_EQ(h.count(Anomaly::SnaplenTruncated), 1U);
    EXPECT_EQ(h.count(Anomaly::BadIpv4TotalLength), 0U);
}

TEST(Ipv4Test, UnsupportedProtocolAndIcmp) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(50, Bytes(20, 0))));  // ESP
    EXPECT_EQ(h.count(Anomaly::UnsupportedIpProtocol), 1U);
    h.feed(ethernet(0x0800, ipv4(1, Bytes(8, 0))));
    EXPECT_EQ(h.counter("decode.icmp"), 1U);
    EXPECT_EQ(h.count(Anomaly::UnsupportedIpProtocol), 1U);
}

TEST(Ipv6Test, Udp) {
    Harness h;
    h.feed(ethernet(0x86dd, ipv6(17, udp(5062, 5060, kMsg))));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].src.text(), "2001:db8::1");
    EXPECT_EQ(h.sink.got[0].src_port, 5062);
    EXPECT_EQ(h.counter("decode.ipv6"), 1U);
}

TEST(Ipv6Test, ExtensionHeadersAreWalked) {
    Harness h;
    // hop-by-hop → destination options → routing → UDP.
    Bytes ext = ipv6Ext(60, ipv6Ext(43, ipv6Ext(17, udp(5060, 5060, kMsg))));
    h.feed(ethernet(0x86dd, ipv6(0, ext)));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, kMsg);
    // AH: length in 4-byte units minus 2 → 12 bytes here (payload len 1).
    Bytes ah = cat({Builder().u8(17).u8(1).zeros(10).take(), udp(5060, 5060, kMsg)});
    h.feed(ethernet(0x86dd, ipv6(51, ah)));
    EXPECT_EQ(h.sink.got.size(), 2U);
    // No next header: nothing to decode, nothing wrong.
    h.feed(ethernet(0x86dd, ipv6(59, {})));
    EXPECT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.count(Anomaly::BadIpv6ExtensionHeader), 0U);
}

TEST(Ipv6Test, BadExtensionHeaders) {
    Harness h;
    h.feed(ethernet(0x86dd, ipv6(0, Bytes(4, 0))));           // shorter than 8 bytes
    Bytes too_long = Builder().u8(17).u8(4).zeros(6).take();  // claims 40 bytes
    h.feed(ethernet(0x86dd, ipv6(60, too_long)));
    Bytes chain;
    for (int i = 0; i < 17; ++i) {
        chain = ipv6Ext(60, chain);
    }
    h.feed(ethernet(0x86dd, ipv6(60, chain)));
    EXPECT_EQ(h.count(Anomaly::BadIpv6ExtensionHeader), 3U);
}

TEST(Ipv6Test, TruncatedBadVersionBadLength) {
    Harness h;
    h.feed(ethernet(0x86dd, Bytes(39, 0x60)));
    EXPECT_EQ(h.count(Anomaly::TruncatedIpv6), 1U);
    Bytes v = ipv6(17, udp(5060, 5060, kMsg));
    v[0] = 0x40;
    h.feed(ethernet(0x86dd, v));
    EXPECT_EQ(h.count(Anomaly::BadIpv6Version), 1U);
    h.feed(ethernet(0x86dd, ipv6(17, udp(5060, 5060, kMsg), kA6, kB6, 4000)));
    EXPECT_EQ(h.count(Anomaly::BadIpv6PayloadLength), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(IpInIpTest, AllFourCombinations) {
    Harness h;
    const Bytes in4 = ipv4(17, udp(5060, 5060, kMsg), {}, {172, 16, 0, 1}, {172, 16, 0, 2});
    const Bytes in6 = ipv6(17, udp(5060, 5060, kMsg));
    h.feed(ethernet(0x0800, ipv4(4, in4)));   // 4in4
    h.feed(ethernet(0x0800, ipv4(41, in6)));  // 6in4
    h.feed(ethernet(0x86dd, ipv6(4, in4)));   // 4in6
    h.feed(ethernet(0x86dd, ipv6(41, in6)));  // 6in6
    ASSERT_EQ(h.sink.got.size(), 4U);
    // The inner addresses are the message's.
    EXPECT_EQ(h.sink.got[0].src.text(), "172.16.0.1");
    EXPECT_EQ(h.sink.got[1].src.text(), "2001:db8::1");
    EXPECT_EQ(h.counter("decode.ipip"), 4U);
}

TEST(IpInIpTest, TunnelDepthIsBounded) {
    Harness h;
    Bytes p = ipv4(17, udp(5060, 5060, kMsg));
    for (int i = 0; i < 9; ++i) {
        p = ipv4(4, p);
    }
    h.feed(ethernet(0x0800, p));
    EXPECT_EQ(h.count(Anomaly::TunnelDepthExceeded), 1U);
    EXPECT_TRUE(h.sink.got.empty());
    // Eight levels are fine.
    Bytes ok = ipv4(17, udp(5060, 5060, kMsg));
    for (int i = 0; i < 8; ++i) {
        ok = ipv4(4, ok);
    }
    h.feed(ethernet(0x0800, ok));
    EXPECT_EQ(h.sink.got.size(), 1U);
}

TEST(UdpTest, EveryPayloadIsEmittedWhenNoSipPorts) {
    Harness h;
    h.feed(ethIpv4Udp(3478, 40000, std::string_view("\x00\x01\x00\x00", 4)));  // STUN-like, not SIP
    h.feed(ethIpv4Udp(5060, 5060, "\r\n\r\n"));                                // keep-alive
    h.feed(ethIpv4Udp(5060, 5060, ""));                                        // empty
    ASSERT_EQ(h.sink.got.size(), 3U);
    EXPECT_EQ(h.sink.got[0].bytes, std::string("\x00\x01\x00\x00", 4));
    EXPECT_EQ(h.sink.got[2].bytes, "");
    EXPECT_EQ(h.counter("decode.payloads"), 3U);
}

TEST(UdpTest, SipPortsFilterEitherDirection) {
    DecodeConfig c;
    c.sip_ports = {5060, 5080};
    Harness h(c);
    h.feed(ethIpv4Udp(5060, 40000, kMsg));
    h.feed(ethIpv4Udp(40000, 5080, kMsg));
    h.feed(ethIpv4Udp(40000, 40001, kMsg));
    EXPECT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.counter("decode.udp"), 3U);
}

TEST(UdpTest, TruncatedAndBadLength) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(17, Bytes(7, 0))));
    EXPECT_EQ(h.count(Anomaly::TruncatedUdp), 1U);
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, toBytes(kMsg), 4))));
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, toBytes(kMsg), 2000))));
    EXPECT_EQ(h.count(Anomaly::BadUdpLength), 2U);
    // Shorter than the IP payload is fine: the UDP length wins.
    h.feed(ethernet(0x0800, ipv4(17, udp(5060, 5060, toBytes("abcdef"), 8 + 3))));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, "abc");
}

}  // namespace
}  // namespace sipbeat::decode::test
