// SPDX-License-Identifier: Apache-2.0
// Link layers: Ethernet, VLAN/QinQ, LLC/SNAP, PPPoE, SLL, SLL2, NULL/LOOP, RAW, DLT IPv4/IPv6.
#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

using capture::LinkType;

const std::string kOptions = sipRequest("OPTIONS");

Bytes ipv4Udp() {
    return ipv4(17, udp(5060, 5060, kOptions));
}
Bytes ipv6Udp() {
    return ipv6(17, udp(5060, 5060, kOptions));
}

TEST(LinkTest, EthernetIpv4Udp) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4Udp()), 42);
    ASSERT_EQ(h.sink.got.size(), 1U);
    const Got& g = h.sink.got[0];
    EXPECT_EQ(g.bytes, kOptions);
    EXPECT_EQ(g.src.text(), "10.0.0.1");
    EXPECT_EQ(g.dst.text(), "10.0.0.2");
    EXPECT_EQ(g.src_port, 5060);
    EXPECT_EQ(g.timestamp, 42);
    EXPECT_EQ(g.transport, Transport::Udp);
    EXPECT_EQ(g.vlan, 0);
    EXPECT_EQ(h.counter("decode.packets"), 1U);
    EXPECT_EQ(h.counter("decode.ipv4"), 1U);
    EXPECT_EQ(h.counter("decode.udp"), 1U);
}

TEST(LinkTest, VlanTagSetsVlan) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4Udp(), {0x2064}));  // PCP 1, VLAN 100
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].vlan, 100);
}

TEST(LinkTest, QinQKeepsOutermostVlan) {
    for (uint16_t outer_type : {uint16_t{0x88a8}, uint16_t{0x9100}}) {
        Harness h;
        h.feed(ethernet(0x86dd, ipv6Udp(), {200, 300}, outer_type));
        ASSERT_EQ(h.sink.got.size(), 1U) << outer_type;
        EXPECT_EQ(h.sink.got[0].vlan, 200);
        EXPECT_EQ(h.sink.got[0].src.family, 6);
    }
}

TEST(LinkTest, TruncatedVlan) {
    Harness h;
    Bytes f = ethernet(0x8100, {0x00, 0x64});
    h.feed(f);
    EXPECT_EQ(h.count(Anomaly::TruncatedVlan), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(LinkTest, TruncatedEthernet) {
    Harness h;
    h.feed(Bytes(13, 0));
    EXPECT_EQ(h.count(Anomaly::TruncatedLinkHeader), 1U);
}

TEST(LinkTest, UnsupportedEtherType) {
    Harness h;
    h.feed(ethernet(0x0806, Bytes(28, 0)));  // ARP
    EXPECT_EQ(h.count(Anomaly::UnsupportedEtherType), 1U);
}

TEST(LinkTest, TooManyTagsIsUnsupported) {
    Harness h;
    Bytes tags;
    for (int i = 0; i < 9; ++i) {
        tags = cat({tags, Builder().u16(1).u16(0x8100).take()});
    }
    h.feed(ethernet(0x8100, cat({tags, ipv4Udp()})));
    EXPECT_EQ(h.count(Anomaly::UnsupportedEtherType), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(LinkTest, LlcSnap) {
    Harness h;
    Bytes snap = cat({hex("aa aa 03 00 00 00 08 00"), ipv4Udp()});
    h.feed(ethernet(static_cast<uint16_t>(snap.size()), snap));
    ASSERT_EQ(h.sink.got.size(), 1U);
    // Plain LLC without SNAP (e.g. spanning tree) is not IP.
    h.feed(ethernet(38, cat({hex("42 42 03"), Bytes(35, 0)})));
    EXPECT_EQ(h.count(Anomaly::UnsupportedEtherType), 1U);
}

TEST(LinkTest, PppoeSession) {
    Harness h;
    const Bytes ip = ipv4Udp();
    Bytes pppoe = Builder()
                      .u8(0x11)
                      .u8(0)
                      .u16(0x1234)
                      .u16(static_cast<unsigned>(ip.size() + 2))
                      .u16(0x0021)
                      .bytes(ip)
                      .take();
    h.feed(ethernet(0x8864, pppoe));
    const Bytes ip6 = ipv6Udp();
    Bytes pppoe6 = Builder()
                       .u8(0x11)
                       .u8(0)
                       .u16(0x1234)
                       .u16(static_cast<unsigned>(ip6.size() + 2))
                       .u16(0x0057)
                       .bytes(ip6)
                       .take();
    h.feed(ethernet(0x8864, pppoe6));
    EXPECT_EQ(h.sink.got.size(), 2U);
    h.feed(ethernet(0x8864, Builder().u8(0x11).u8(0).u16(1).u16(4).u16(0xc021).u16(0).take()));
    EXPECT_EQ(h.count(Anomaly::UnsupportedEtherType), 1U);
    h.feed(ethernet(0x8864, {0x11, 0}));
    EXPECT_EQ(h.count(Anomaly::TruncatedLinkHeader), 1U);
}

TEST(LinkTest, LinuxSll) {
    Harness h;
    Bytes sll = Builder().u16(0).u16(1).u16(6).zeros(8).u16(0x0800).bytes(ipv4Udp()).take();
    h.feed(sll, 1, LinkType::LinuxSll);
    ASSERT_EQ(h.sink.got.size(), 1U);
    h.feed(Bytes(15, 0), 1, LinkType::LinuxSll);
    EXPECT_EQ(h.count(Anomaly::TruncatedLinkHeader), 1U);
}

TEST(LinkTest, LinuxSll2) {
    Harness h;
    Bytes sll2 =
        Builder().u16(0x86dd).u16(0).u32(3).u16(1).u8(0).u8(6).zeros(8).bytes(ipv6Udp()).take();
    h.feed(sll2, 1, LinkType::LinuxSll2);
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].dst.text(), "2001:db8::2");
    h.feed(Bytes(19, 0), 1, LinkType::LinuxSll2);
    EXPECT_EQ(h.count(Anomaly::TruncatedLinkHeader), 1U);
}

TEST(LinkTest, NullInBothByteOrders) {
    Harness h;
    h.feed(cat({hex("02000000"), ipv4Udp()}), 1, LinkType::Null);  // little-endian host
    h.feed(cat({hex("00000002"), ipv4Udp()}), 1, LinkType::Null);  // big-endian host
    h.feed(cat({hex("1e000000"), ipv6Udp()}), 1, LinkType::Null);  // macOS AF_INET6 = 30
    h.feed(cat({hex("18000000"), ipv6Udp()}), 1, LinkType::Null);  // OpenBSD AF_INET6 = 24
    EXPECT_EQ(h.sink.got.size(), 4U);
    h.feed(cat({hex("07000000"), ipv4Udp()}), 1, LinkType::Null);
    EXPECT_EQ(h.count(Anomaly::UnsupportedEtherType), 1U);
    h.feed(hex("020000"), 1, LinkType::Null);
    EXPECT_EQ(h.count(Anomaly::TruncatedLinkHeader), 1U);
}

TEST(LinkTest, LoopIsNetworkOrder) {
    Harness h;
    h.feed(cat({hex("00000002"), ipv4Udp()}), 1, LinkType::Loop);
    h.feed(cat({hex("0000001c"), ipv6Udp()}), 1, LinkType::Loop);  // FreeBSD AF_INET6 = 28
    EXPECT_EQ(h.sink.got.size(), 2U);
}

TEST(LinkTest, RawAndDltIp) {
    Harness h;
    h.feed(ipv4Udp(), 1, LinkType::Raw);
    h.feed(ipv6Udp(), 1, LinkType::Raw);
    h.feed(ipv4Udp(), 1, static_cast<LinkType>(12));  // DLT_RAW on Linux live captures
    h.feed(ipv4Udp(), 1, LinkType::Ipv4);
    h.feed(ipv6Udp(), 1, LinkType::Ipv6);
    EXPECT_EQ(h.sink.got.size(), 5U);
    h.feed({}, 1, LinkType::Raw);
    EXPECT_EQ(h.count(Anomaly::TruncatedLinkHeader), 1U);
}

TEST(LinkTest, UnknownLinkType) {
    Harness h;
    h.feed(ipv4Udp(), 1, static_cast<LinkType>(147));
    EXPECT_EQ(h.count(Anomaly::UnknownLinkType), 1U);
    EXPECT_EQ(h.counter("decode.anomaly.unknown_link_type"), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

}  // namespace
}  // namespace sipbeat::decode::test
