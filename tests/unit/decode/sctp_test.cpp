// SPDX-License-Identifier: Apache-2.0
// SCTP DATA / I-DATA chunks as SIP messages (RFC 4168).
#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

Bytes ethSctp(const Bytes& chunks, uint16_t sport = 5060, uint16_t dport = 5060) {
    return ethernet(0x0800, ipv4(132, sctp(sport, dport, chunks)));
}

TEST(SctpTest, OneMessagePerDataChunk) {
    Harness h;
    const std::string a = sipRequest("INVITE");
    const std::string b = sipResponse(100);
    // INIT-ACK-like control chunk first, then two bundled DATA chunks.
    Bytes control = Builder().u8(3).u8(0).u16(8).u32(0).take();  // SACK
    h.feed(ethSctp(cat({control, sctpData(a), sctpData(b, 0x03, 2)})), 5);
    ASSERT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.sink.got[0].bytes, a);
    EXPECT_EQ(h.sink.got[1].bytes, b);
    EXPECT_EQ(h.sink.got[0].transport, Transport::Sctp);
    EXPECT_EQ(h.sink.got[0].timestamp, 5);
    EXPECT_EQ(h.counter("decode.sctp"), 1U);
}

TEST(SctpTest, IData) {
    Harness h;
    const std::string a = sipRequest("OPTIONS");
    Bytes idata = Builder()
                      .u8(64)
                      .u8(0x03)
                      .u16(static_cast<unsigned>(20 + a.size()))
                      .u32(1)
                      .u16(0)
                      .u16(0)
                      .u32(0)
                      .u32(0)
                      .str(a)
                      .take();
    while (idata.size() % 4 != 0) {
        idata.push_back(0);
    }
    h.feed(ethSctp(idata));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, a);
}

TEST(SctpTest, PortFilter) {
    DecodeConfig c;
    c.sip_ports = {5060};
    Harness h(c);
    h.feed(ethSctp(sctpData("x"), 2905, 2905));  // M3UA
    EXPECT_TRUE(h.sink.got.empty());
    h.feed(ethSctp(sctpData("x"), 2905, 5060));
    EXPECT_EQ(h.sink.got.size(), 1U);
}

TEST(SctpTest, FragmentedUserMessage) {
    Harness h;
    h.feed(ethSctp(sctpData("INVITE sip:a SIP/2.0\r\n", 0x02)));
    h.feed(ethSctp(sctpData("\r\n", 0x01)));
    EXPECT_EQ(h.count(Anomaly::SctpFragmentedData), 2U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(SctpTest, BadAndTruncatedChunks) {
    Harness h;
    h.feed(ethernet(0x0800, ipv4(132, Bytes(11, 0))));
    EXPECT_EQ(h.count(Anomaly::TruncatedSctp), 1U);
    h.feed(ethSctp(Builder().u8(0).u8(3).u16(2).take()));             // length < 4
    h.feed(ethSctp(Builder().u8(0).u8(3).u16(16).zeros(12).take()));  // DATA without data
    h.feed(ethSctp({0, 3}));                                          // 2 stray bytes
    EXPECT_EQ(h.count(Anomaly::BadSctpChunk), 3U);
    h.feed(ethSctp(Builder().u8(0).u8(3).u16(200).zeros(12).take()));  // runs past the end
    EXPECT_EQ(h.count(Anomaly::TruncatedSctp), 2U);
    EXPECT_TRUE(h.sink.got.empty());
}

}  // namespace
}  // namespace sipbeat::decode::test
