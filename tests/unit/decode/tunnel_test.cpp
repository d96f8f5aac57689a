// SPDX-License-Identifier: Apache-2.0
// GRE (plain, key/sequence, transparent Ethernet bridging), ERSPAN I/II/III, VXLAN.
#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

const std::string kMsg = sipRequest("OPTIONS");

Bytes innerIp() {
    return ipv4(17, udp(5060, 5060, kMsg), {}, {192, 168, 0, 1}, {192, 168, 0, 2});
}
Bytes innerEth(std::vector<uint16_t> vlans = {}) {
    return ethernet(0x0800, innerIp(), vlans);
}

TEST(GreTest, Ipv4Ipv6AndOptionalFields) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(47, gre(0x0800, innerIp()))));
    h.feed(ethernet(0x0800, ipv4(47, gre(0x86dd, ipv6(17, udp(5060, 5060, kMsg))))));
    h.feed(ethernet(0x0800, ipv4(47, gre(0x0800, innerIp(), 0x8000 | 0x2000 | 0x1000))));
    h.feed(ethernet(0x86dd, ipv6(47, gre(0x0800, innerIp(), 0x2000))));
    ASSERT_EQ(h.sink.got.size(), 4U);
    EXPECT_EQ(h.sink.got[0].src.text(), "192.168.0.1");
    EXPECT_EQ(h.counter("decode.gre"), 4U);
}

TEST(GreTest, TransparentEthernetBridging) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(47, gre(0x6558, innerEth({42})))));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].vlan, 42);
}

TEST(GreTest, OuterVlanWins) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(47, gre(0x6558, innerEth({42}))), {7}));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].vlan, 7);
}

TEST(GreTest, Anomalies) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(47, {0x00, 0x00, 0x08})));
    h.feed(ethernet(0x0800, ipv4(47, Builder().u16(0x2000).u16(0x0800).u16(0).take())));
    EXPECT_EQ(h.count(Anomaly::TruncatedGre), 2U);
    h.feed(ethernet(0x0800, ipv4(47, gre(0x880b, Bytes(20, 0), 0x0001))));  // PPTP (version 1)
    h.feed(ethernet(0x0800, ipv4(47, gre(0x0800, innerIp(), 0x4000))));     // source routing
    h.feed(ethernet(0x0800, ipv4(47, gre(0x8847, Bytes(20, 0)))));          // MPLS
    EXPECT_EQ(h.count(Anomaly::UnsupportedGreProtocol), 3U);
    EXPECT_TRUE(h.sink.got.empty());
}

Bytes erspan2(const Bytes& frame, unsigned version = 1) {
    return cat({Builder().u16(version << 12 | 10).u16(0x0064).u32(0).take(), frame});
}

Bytes erspan3(const Bytes& frame, bool subheader = false, unsigned ft = 0, unsigned version = 2) {
    Builder b;
    b.u16(version << 12 | 10).u16(0x0064).u32(0x11223344).u16(0);
    b.u16((ft & 0x1f) << 10 | (subheader ? 1U : 0U));
    if (subheader) {
        b.zeros(8);
    }
    return cat({b.take(), frame});
}

TEST(ErspanTest, TypesOneTwoThree) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(47, gre(0x88be, innerEth()))));                   // type I
    h.feed(ethernet(0x0800, ipv4(47, gre(0x88be, erspan2(innerEth()), 0x1000))));  // type II
    h.feed(ethernet(0x0800, ipv4(47, gre(0x22eb, erspan3(innerEth()), 0x1000))));  // type III
    h.feed(ethernet(0x0800, ipv4(47, gre(0x22eb, erspan3(innerEth(), true)))));    // + subheader
    ASSERT_EQ(h.sink.got.size(), 4U);
    for (const Got& g : h.sink.got) {
        EXPECT_EQ(g.src.text(), "192.168.0.1");
        EXPECT_EQ(g.bytes, kMsg);
    }
    EXPECT_EQ(h.counter("decode.erspan"), 4U);
}

TEST(ErspanTest, Anomalies) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(47, gre(0x88be, Bytes(6, 0x10), 0x1000))));
    h.feed(ethernet(0x0800, ipv4(47, gre(0x22eb, Bytes(10, 0x20)))));
    h.feed(ethernet(0x0800, ipv4(47, gre(0x22eb, Builder().u16(0x2000).zeros(9).u8(1).take()))));
    EXPECT_EQ(h.count(Anomaly::TruncatedErspan), 3U);
    h.feed(ethernet(0x0800, ipv4(47, gre(0x88be, erspan2(innerEth(), 2), 0x1000))));
    h.feed(ethernet(0x0800, ipv4(47, gre(0x22eb, erspan3(innerEth(), false, 0, 1)))));
    h.feed(ethernet(0x0800, ipv4(47, gre(0x22eb, erspan3(innerEth(), false, 2)))));
    EXPECT_EQ(h.count(Anomaly::BadErspanHeader), 3U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(VxlanTest, DefaultPort) {
    Harness h;
    h.feed(ethIpv4Udp(40000, 4789, std::string()), 1);  // empty: truncated
    EXPECT_EQ(h.count(Anomaly::TruncatedVxlan), 1U);
    const Bytes v = vxlan(100, innerEth({5}));
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 4789, v))));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].src.text(), "192.168.0.1");
    EXPECT_EQ(h.sink.got[0].vlan, 5);
    EXPECT_EQ(h.counter("decode.vxlan"), 1U);
    // The source port does not count (RFC 7348 §5: it is a hash of the inner flow).
    h.feed(ethernet(0x0800, ipv4(17, udp(4789, 40000, v))));
    ASSERT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.sink.got[1].src.text(), "10.0.0.1");
}

TEST(VxlanTest, ConfiguredPortsAndBadFlags) {
    DecodeConfig c;
    c.vxlan_ports = {8472};  // Linux's old default
    Harness h(c);
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 8472, vxlan(1, innerEth())))));
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 4789, vxlan(1, innerEth())))));
    ASSERT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.sink.got[0].src.text(), "192.168.0.1");
    EXPECT_EQ(h.sink.got[1].src.text(), "10.0.0.1");  // 4789 is not configured here
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 8472, vxlan(1, innerEth(), 0x00)))));
    EXPECT_EQ(h.count(Anomaly::BadVxlanFlags), 1U);
}

TEST(VxlanTest, NestedTunnelsAreBounded) {
    Harness h;
    Bytes p = innerIp();
    for (int i = 0; i < 12; ++i) {
        p = ipv4(17, udp(40000, 4789, vxlan(1, ethernet(0x0800, p))));
    }
    h.feed(ethernet(0x0800, p));
    EXPECT_EQ(h.count(Anomaly::TunnelDepthExceeded), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

}  // namespace
}  // namespace sipbeat::decode::test
