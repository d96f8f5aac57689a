// SPDX-License-Identifier: Apache-2.0
// HEP v1/v2/v3 decoding (reference/hep.md §1) and HEP found in captured UDP and TCP.
#include "beat/decode/hep.h"

#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

// hep.md §1.3: the spec's example, 113 bytes.
const Bytes kSpecExample =
    hex("48 45 50 33 00 71"
        "00 00 00 01 00 07 02"
        "00 00 00 02 00 07 11"
        "00 00 00 03 00 0a d4 ca 00 01"
        "00 00 00 04 00 0a 52 74 00 d3"
        "00 00 00 07 00 08 2e ea"
        "00 00 00 08 00 08 13 c4"
        "00 00 00 09 00 0a 4e 49 82 cb"
        "00 00 00 0a 00 0a 00 01 d4 c0"
        "00 00 00 0b 00 07 01"
        "00 00 00 0c 00 0a 00 00 00 e4"
        "00 00 00 0f 00 14 49 4e 56 49 54 45 20 73 69 70 3a 62 6f 62");

// hep.md §1.2: Kamailio 5.6.3 `hep_version 2`, IPv4, OPTIONS (verified on the wire).
const std::string kV2Payload = "OPTIONS sip:127.0.0.1:5062 SIP/2.0\r\n\r\n";
Bytes kamailioV2() {
    return cat({hex("02 10 02 11 13e7 13c6 7f000001 7f000001 a12a036b 52db0c00 d107 0000"),
                toBytes(kV2Payload)});
}

// hep.md §1.3: the first bytes of a Kamailio siptrace HEPv3 REGISTER, with a 345-byte
// payload as the 0x015f chunk length says.
std::string kamailioRegister() {
    std::string s = "REGISTER sip:127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n";
    s.resize(343, 'x');
    return s + "\r\n";
}
Bytes kamailioV3() {
    return cat({hex("48455033 01bc 0000 0001 0007 02 0000 0002 0007 11"
                    "0000 0003 000a 7f000001 0000 0004 000a 7f000001"
                    "0000 0007 0008 e326 0000 0008 0008 13c4"
                    "0000 0009 000a 6b032789 0000 000a 000a 000c4a51"
                    "0000 000b 0007 01 0000 000c 000a 000007d1 0000 000f 015f"),
                toBytes(kamailioRegister())});
}

bool decode(const Bytes& b, HepPacket& p, Anomaly& e) {
    return decodeHep(b, p, e);
}

TEST(HepTest, LooksLikeHep) {
    EXPECT_TRUE(looksLikeHep(kSpecExample));
    EXPECT_TRUE(looksLikeHep(kamailioV2()));
    EXPECT_TRUE(looksLikeHep(hex("01 00 0a 11")));
    EXPECT_FALSE(looksLikeHep(toBytes("INVITE sip:a SIP/2.0")));
    EXPECT_FALSE(looksLikeHep(hex("02 10 05 11")));  // family 5
    EXPECT_FALSE(looksLikeHep(hex("48 45 50")));
    EXPECT_FALSE(looksLikeHep({}));
}

TEST(HepTest, V3SpecExample) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    ASSERT_TRUE(decode(kSpecExample, p, e));
    EXPECT_EQ(p.version, 3);
    EXPECT_EQ(p.ip_protocol, 17);
    EXPECT_EQ(p.src.text(), "212.202.0.1");
    EXPECT_EQ(p.dst.text(), "82.116.0.211");
    EXPECT_EQ(p.src_port, 12010);
    EXPECT_EQ(p.dst_port, 5060);
    EXPECT_EQ(p.timestamp, 1313440459LL * 1'000'000'000 + 120'000'000);
    EXPECT_EQ(p.proto_type, 1);
    EXPECT_EQ(p.capture_id, 228U);
    EXPECT_EQ(p.payload, "INVITE sip:bob");
}

TEST(HepTest, V3KamailioCapture) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    const Bytes b = kamailioV3();
    ASSERT_EQ(b.size(), 0x1bcU);
    ASSERT_TRUE(decode(b, p, e));
    EXPECT_EQ(p.src.text(), "127.0.0.1");
    EXPECT_EQ(p.src_port, 0xe326);
    EXPECT_EQ(p.dst_port, 5060);
    EXPECT_EQ(p.timestamp, 0x6b032789LL * 1'000'000'000 + 0x000c4a51LL * 1000);
    EXPECT_EQ(p.capture_id, 2001U);
    EXPECT_EQ(p.payload, kamailioRegister());
    EXPECT_EQ(hepFrameLength(b), 0x1bc);
}

TEST(HepTest, V3OptionalChunksIpv6AndVendorChunks) {
    const V6 a = kA6;
    const V6 b = kB6;
    const Bytes pkt = hep3(cat({
        hepChunk(1, {10}),
        hepChunk(2, {6}),
        hepChunk(5, Bytes(a.begin(), a.end())),
        hepChunk(6, Bytes(b.begin(), b.end())),
        hepChunk(7, {0x13, 0xc4}),
        hepChunk(8, {0x13, 0xc4}),
        hepChunk(0x0011, toBytes("call-1@x")),
        hepChunk(0x0012, {0x00, 0x64}),
        hepChunk(0x0013, toBytes("node1")),
        hepChunk(0x000d, {0, 30}),
        hepChunk(0x000b, {0xff}, 0x0002),     // Kamailio vendor chunk: skipped
        hepChunk(0x0099, toBytes("future")),  // unknown generic chunk: skipped
        hepChunk(0x000e, toBytes("secret")),
        hepChunk(0x000f, toBytes("BYE sip:x SIP/2.0\r\n\r\n")),
    }));
    HepPacket p;
    Anomaly e = Anomaly::Count;
    ASSERT_TRUE(decode(pkt, p, e));
    EXPECT_EQ(p.src.text(), "2001:db8::1");
    EXPECT_EQ(p.dst.text(), "2001:db8::2");
    EXPECT_EQ(p.ip_protocol, 6);
    EXPECT_EQ(p.proto_type, 1);  // the vendor chunk did not override it
    EXPECT_EQ(p.correlation_id, "call-1@x");
    EXPECT_EQ(p.vlan, 100);
    EXPECT_EQ(p.node_name, "node1");
    EXPECT_EQ(p.password, "secret");
    EXPECT_EQ(p.timestamp, 0);
    const SipPayload sp = toSipPayload(p, 777);
    EXPECT_EQ(sp.timestamp, 777);  // no time chunks: the packet's time
    EXPECT_EQ(sp.transport, Transport::Tcp);
    EXPECT_TRUE(sp.via_hep);
    EXPECT_EQ(sp.vlan, 100);
}

TEST(HepTest, V2KamailioLayout) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    const Bytes b = kamailioV2();  // the packet's views point into it
    ASSERT_TRUE(decode(b, p, e));
    EXPECT_EQ(p.version, 2);
    EXPECT_EQ(p.ip_protocol, 17);
    EXPECT_EQ(p.src.text(), "127.0.0.1");
    EXPECT_EQ(p.src_port, 5095);
    EXPECT_EQ(p.dst_port, 5062);
    EXPECT_EQ(p.timestamp, 1795369633LL * 1'000'000'000 + 842578LL * 1000);
    EXPECT_EQ(p.capture_id, 2001U);
    EXPECT_EQ(p.payload, kV2Payload);  // starts after the 2 padding bytes
}

TEST(HepTest, V1AndV2Ipv6) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    const Bytes v1 =
        cat({hex("01 10 02 06 13c4 13c5 0a000001 0a000002"), toBytes("SIP/2.0 200 OK")});
    ASSERT_TRUE(decode(v1, p, e));
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(p.timestamp, 0);
    EXPECT_EQ(p.payload, "SIP/2.0 200 OK");
    EXPECT_EQ(toSipPayload(p, 5).timestamp, 5);
    EXPECT_EQ(toSipPayload(p, 5).transport, Transport::Tcp);
    const V6 a = kA6;
    const V6 b = kB6;
    const Bytes v2 =
        cat({hex("02 28 0a 84 13c4 13c5"), Bytes(a.begin(), a.end()), Bytes(b.begin(), b.end()),
             hex("01000000 02000000 0500 0000"), toBytes("OPTIONS")});
    ASSERT_TRUE(decode(v2, p, e));
    EXPECT_EQ(p.dst.text(), "2001:db8::2");
    EXPECT_EQ(p.timestamp, 1'000'002'000);
    EXPECT_EQ(p.capture_id, 5U);
    EXPECT_EQ(toSipPayload(p, 0).transport, Transport::Sctp);
    p.ip_protocol = 22;
    EXPECT_EQ(toSipPayload(p, 0).transport, Transport::Tls);
}

TEST(HepTest, LegacyErrors) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    EXPECT_FALSE(decode(hex("02 10 02"), p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
    EXPECT_FALSE(decode(hex("02 10 02 11 13e7 13c6 7f000001 7f000001 a12a036b"), p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
    EXPECT_FALSE(decode(hex("02 10 07 11 13e7 13c6 7f000001 7f000001"), p, e));
    EXPECT_EQ(e, Anomaly::BadHepVersion);
    EXPECT_FALSE(decode(hex("01 10 02 11 13e7 13c6 7f000001 7f000001"), p, e));
    EXPECT_EQ(e, Anomaly::HepMissingPayload);
    EXPECT_FALSE(decode(toBytes("EEP1\x00\x06"), p, e));
    EXPECT_EQ(e, Anomaly::BadHepVersion);
    EXPECT_FALSE(decode(hex("48"), p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
}

TEST(HepTest, V3LengthErrors) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    EXPECT_FALSE(decode(toBytes("HEP3\x00"), p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
    EXPECT_FALSE(decode(hex("48455033 0005"), p, e));
    EXPECT_EQ(e, Anomaly::BadHepLength);
    Bytes longer = kSpecExample;
    longer[5] = 0x80;  // says 128 bytes, has 113
    EXPECT_FALSE(decode(longer, p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
    // Trailing bytes after the packet are ignored.
    Bytes trailing = cat({kSpecExample, hex("00 00 00")});
    EXPECT_TRUE(decode(trailing, p, e));
}

TEST(HepTest, V3TruncatedChunks) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    // A chunk whose length runs past the packet.
    Bytes b = hep3(cat({hepChunk(1, {2}), hex("0000 000f 0040 4142")}));
    EXPECT_FALSE(decode(b, p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
    // Fewer than 6 bytes left for a chunk header.
    b = hep3(cat({hepChunk(1, {2}), hex("0000 00")}));
    EXPECT_FALSE(decode(b, p, e));
    EXPECT_EQ(e, Anomaly::TruncatedHep);
}

TEST(HepTest, V3BadChunks) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    EXPECT_FALSE(decode(hep3(hex("0000 0001 0004")), p, e));  // length < 6
    EXPECT_EQ(e, Anomaly::BadHepChunk);
    EXPECT_FALSE(decode(hep3(cat({hepChunk(1, {0, 2}), hepChunk(15, toBytes("x"))})), p, e));
    EXPECT_EQ(e, Anomaly::BadHepChunk);  // 2-byte family
    EXPECT_FALSE(decode(hep3(cat({hepChunk(3, {1, 2, 3}), hepChunk(15, toBytes("x"))})), p, e));
    EXPECT_EQ(e, Anomaly::BadHepChunk);
    EXPECT_FALSE(decode(hep3(cat({hepChunk(12, {0, 1}), hepChunk(15, toBytes("x"))})), p, e));
    EXPECT_EQ(e, Anomaly::BadHepChunk);
}

TEST(HepTest, V3MissingAndCompressedPayload) {
    HepPacket p;
    Anomaly e = Anomaly::Count;
    EXPECT_FALSE(decode(hep3(hepChunk(1, {2})), p, e));
    EXPECT_EQ(e, Anomaly::HepMissingPayload);
    EXPECT_FALSE(decode(hep3(cat({hepChunk(1, {2}), hepChunk(0x10, hex("1f8b0800"))})), p, e));
    EXPECT_EQ(e, Anomaly::HepCompressedPayload);
    // With both, the plain payload is used.
    const Bytes both = hep3(cat({hepChunk(0x10, hex("1f8b")), hepChunk(15, toBytes("x"))}));
    EXPECT_TRUE(decode(both, p, e));
    EXPECT_EQ(p.payload, "x");
}

TEST(HepTest, FrameLength) {
    EXPECT_EQ(hepFrameLength({}), 0);
    EXPECT_EQ(hepFrameLength(toBytes("HE")), 0);
    EXPECT_EQ(hepFrameLength(toBytes("HEP3\x00")), 0);
    EXPECT_EQ(hepFrameLength(toBytes("HEX")), -1);
    EXPECT_EQ(hepFrameLength(toBytes("INVITE")), -1);
    EXPECT_EQ(hepFrameLength(hex("48455033 0003")), -1);
    const Bytes two = cat({kSpecExample, kSpecExample});
    EXPECT_EQ(hepFrameLength(two), 113);
    EXPECT_EQ(hepFrameLength(std::span<const uint8_t>(kSpecExample).first(112)), 0);
}

// --- HEP inside captured traffic -------------------------------------------------------

TEST(HepCaptureTest, UdpOnHepPortReplacesOuterAddresses) {
    Harness h;
    const std::string sip = sipRequest("INVITE");
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, hep3Sip(sip)))), 99);
    ASSERT_EQ(h.sink.got.size(), 1U);
    const Got& g = h.sink.got[0];
    EXPECT_TRUE(g.via_hep);
    EXPECT_EQ(g.bytes, sip);
    EXPECT_EQ(g.src.text(), "192.168.1.1");
    EXPECT_EQ(g.dst.text(), "192.168.1.2");
    EXPECT_EQ(g.src_port, 5060);
    EXPECT_EQ(g.dst_port, 5061);
    EXPECT_EQ(g.hep_capture_id, 2001U);
    EXPECT_EQ(g.timestamp, 0x5f5e1000LL * 1'000'000'000 + 7000);
    EXPECT_EQ(h.counter("decode.hep"), 1U);
}

TEST(HepCaptureTest, V1AndV2OverUdp) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, kamailioV2()))));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_TRUE(h.sink.got[0].via_hep);
    EXPECT_EQ(h.sink.got[0].src_port, 5095);
}

TEST(HepCaptureTest, NotHepOnHepPortIsPlainUdpAndHepElsewhereIsNotDecoded) {
    Harness h;
    h.feed(ethIpv4Udp(40000, 9060, "OPTIONS sip:a SIP/2.0\r\n\r\n"));
    const Bytes hep = hep3Sip("x");
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9999, hep))));
    ASSERT_EQ(h.sink.got.size(), 2U);
    EXPECT_FALSE(h.sink.got[0].via_hep);
    EXPECT_FALSE(h.sink.got[1].via_hep);
    EXPECT_EQ(h.sink.got[1].bytes.size(), hep.size());
}

TEST(HepCaptureTest, Password) {
    DecodeConfig c;
    c.hep_password = "s3cret";
    Harness h(c);
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, hep3Sip("A", "s3cret")))));
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, hep3Sip("B", "wrong")))));
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, hep3Sip("C")))));
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, kamailioV2()))));  // v2 has none
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, "A");
    EXPECT_EQ(h.count(Anomaly::HepBadPassword), 3U);
    EXPECT_EQ(h.counter("decode.anomaly.hep_bad_password"), 3U);
}

TEST(HepCaptureTest, NotSipAndBrokenHep) {
    Harness h;
    Bytes rtcp = hep3(cat({hepChunk(11, {5}), hepChunk(15, toBytes("{\"jitter\":1}"))}));
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, rtcp))));
    EXPECT_EQ(h.count(Anomaly::HepNotSip), 1U);
    h.feed(ethernet(0x0800, ipv4(17, udp(40000, 9060, hex("48455033 0005")))));
    EXPECT_EQ(h.count(Anomaly::BadHepLength), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(HepCaptureTest, TcpStreamOfFrames) {
    Harness h;
    const Bytes a = hep3Sip(sipRequest("INVITE"), {}, 1, 6);
    const Bytes b = hep3Sip(sipResponse(180), {}, 2, 6);
    const Bytes c = hep3Sip(sipResponse(200), {}, 3, 6);
    const std::string all = toString(cat({a, b, c}));
    uint32_t seq = 1000;
    h.feed(ethIpv4Tcp(40000, 9060, seq, kSyn, ""));
    ++seq;
    // First segment: one frame and a half; second: the rest of b and all of c.
    const size_t cut = a.size() + 20;
    h.feed(ethIpv4Tcp(40000, 9060, seq, kAck, std::string_view(all).substr(0, cut)));
    EXPECT_EQ(h.sink.got.size(), 1U);
    h.feed(ethIpv4Tcp(40000, 9060, seq + static_cast<uint32_t>(cut), kAck,
                      std::string_view(all).substr(cut)));
    ASSERT_EQ(h.sink.got.size(), 3U);
    EXPECT_EQ(h.sink.got[0].hep_capture_id, 1U);
    EXPECT_EQ(h.sink.got[2].hep_capture_id, 3U);
    EXPECT_EQ(h.sink.got[1].transport, Transport::Tcp);
    EXPECT_TRUE(h.sink.got[1].via_hep);
}

TEST(HepCaptureTest, TcpStreamResyncsOnMagic) {
    Harness h;
    const Bytes a = hep3Sip("A");
    const std::string stream = "garbage" + toString(a);
    h.feed(ethIpv4Tcp(40000, 9060, 1, kSyn, ""));
    // Starts with 'g': not HEP, and every port is SIP here, so it is framed as SIP.
    h.feed(ethIpv4Tcp(40000, 9060, 2, kAck, stream));
    EXPECT_TRUE(h.sink.got.empty());
    // A HEP stream that loses sync.
    const std::string hep_stream = toString(a) + "junk" + toString(a);
    h.feed(ethIpv4Tcp(40001, 9060, 1, kSyn, ""));
    h.feed(ethIpv4Tcp(40001, 9060, 2, kAck, hep_stream));
    EXPECT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.count(Anomaly::TcpResync), 1U);
}

TEST(HepCaptureTest, NonHepTcpOnHepPortIgnoredWhenPortsConfigured) {
    DecodeConfig c;
    c.sip_ports = {5060};
    Harness h(c);
    h.feed(ethIpv4Tcp(40000, 9060, 1, kSyn, ""));
    h.feed(ethIpv4Tcp(40000, 9060, 2, kAck, sipRequest("OPTIONS")));
    EXPECT_TRUE(h.sink.got.empty());
    EXPECT_GT(h.counter("decode.tcp_dropped_bytes"), 0U);
}

}  // namespace
}  // namespace sipbeat::decode::test
