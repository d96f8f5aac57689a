// SPDX-License-Identifier: Apache-2.0
// IPv4/IPv6 fragment reassembly: order, overlaps, duplicates, limits, timeouts.
#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

constexpr uint16_t kMf = 0x2000;

// A UDP datagram big enough to need three fragments at 8-byte granularity.
Bytes bigUdp(const std::string& msg) {
    return udp(5060, 5060, msg);
}

std::string bigMessage() {
    return sipRequest("MESSAGE", std::string(1000, 'b'));
}

// IPv4 fragment of `whole` (the IP payload) at byte offset `off`, `len` bytes.
Bytes frag4(const Bytes& whole, size_t off, size_t len, bool more, uint16_t id = 7) {
    Ipv4Options o;
    o.id = id;
    o.frag = static_cast<uint16_t>((more ? kMf : 0) | off / 8);
    return ethernet(0x0800, ipv4(17,
                                 Bytes(whole.begin() + static_cast<long>(off),
                                       whole.begin() + static_cast<long>(off + len)),
                                 o));
}

Bytes frag6(const Bytes& whole, size_t off, size_t len, bool more, uint32_t id = 9) {
    return ethernet(0x86dd,
                    ipv6(44, ipv6Frag(17, static_cast<uint32_t>(off), more, id,
                                      Bytes(whole.begin() + static_cast<long>(off),
                                            whole.begin() + static_cast<long>(off + len)))));
}

TEST(DefragTest, Ipv4InOrder) {
    Harness h;
    const std::string msg = bigMessage();
    const Bytes whole = bigUdp(msg);
    h.feed(frag4(whole, 0, 400, true), 1);
    h.feed(frag4(whole, 400, 400, true), 2);
    EXPECT_TRUE(h.sink.got.empty());
    h.feed(frag4(whole, 800, whole.size() - 800, false), 3);
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, msg);
    EXPECT_EQ(h.sink.got[0].timestamp, 3);  // the packet that completed it
    EXPECT_EQ(h.counter("decode.fragments"), 3U);
    EXPECT_EQ(h.counter("decode.reassembled"), 1U);
    EXPECT_EQ(h.counter("decode.fragment_trains"), 0U);
}

TEST(DefragTest, Ipv4OutOfOrderAndInterleaved) {
    Harness h;
    const std::string msg = bigMessage();
    const Bytes whole = bigUdp(msg);
    h.feed(frag4(whole, 800, whole.size() - 800, false, 1));
    h.feed(frag4(whole, 400, 400, true, 2));
    h.feed(frag4(whole, 0, 400, true, 1));
    h.feed(frag4(whole, 0, 400, true, 2));
    h.feed(frag4(whole, 400, 400, true, 1));
    ASSERT_EQ(h.sink.got.size(), 1U);
    h.feed(frag4(whole, 800, whole.size() - 800, false, 2));
    ASSERT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.sink.got[0].bytes, msg);
    EXPECT_EQ(h.sink.got[1].bytes, msg);
}

TEST(DefragTest, ExactDuplicateIsNotAnOverlap) {
    Harness h;
    const Bytes whole = bigUdp(bigMessage());
    h.feed(frag4(whole, 0, 400, true));
    h.feed(frag4(whole, 0, 400, true));
    h.feed(frag4(whole, 400, whole.size() - 400, false));
    EXPECT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.count(Anomaly::FragmentOverlap), 0U);
    EXPECT_EQ(h.counter("decode.fragments_duplicate"), 1U);
}

TEST(DefragTest, Ipv4OverlapFirstCopyWins) {
    Harness h;
    const std::string msg = bigMessage();
    const Bytes whole = bigUdp(msg);
    Bytes evil = whole;
    for (size_t i = 300; i < 500; ++i) {
        evil[i] = 'X';
    }
    h.feed(frag4(whole, 0, 400, true));
    h.feed(frag4(evil, 296, 304, true));  // overlaps the first, fills 400..600
    h.feed(frag4(whole, 600, whole.size() - 600, false));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.count(Anomaly::FragmentOverlap), 1U);
    std::string expect = msg;
    for (size_t i = 400 - 8; i < 500 - 8; ++i) {
        expect[i] = 'X';  // bytes 400..500 of the UDP datagram came only from the second copy
    }
    EXPECT_EQ(h.sink.got[0].bytes, expect);
}

TEST(DefragTest, Ipv6InOrderAndAtomic) {
    Harness h;
    const std::string msg = bigMessage();
    const Bytes whole = bigUdp(msg);
    h.feed(frag6(whole, 0, 512, true));
    h.feed(frag6(whole, 512, whole.size() - 512, false));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, msg);
    EXPECT_EQ(h.sink.got[0].src.family, 6);
    // RFC 6946 atomic fragment: offset 0, M = 0.
    h.feed(frag6(whole, 0, whole.size(), false, 10));
    EXPECT_EQ(h.sink.got.size(), 2U);
    EXPECT_EQ(h.counter("decode.reassembled"), 1U);
}

TEST(DefragTest, Ipv6ExtensionHeaderAfterFragmentHeader) {
    Harness h;
    const std::string msg = sipRequest("OPTIONS");
    // Fragmentable part: destination options then UDP.
    const Bytes part = ipv6Ext(17, udp(5060, 5060, msg));
    auto frag = [&](size_t off, size_t len, bool more) {
        return ethernet(0x86dd,
                        ipv6(44, ipv6Frag(60, static_cast<uint32_t>(off), more, 5,
                                          Bytes(part.begin() + static_cast<long>(off),
                                                part.begin() + static_cast<long>(off + len)))));
    };
    h.feed(frag(64, part.size() - 64, false));
    h.feed(frag(0, 64, true));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, msg);
}

TEST(DefragTest, Ipv6OverlapDropsTheDatagram) {
    Harness h;
    const Bytes whole = bigUdp(bigMessage());
    Bytes evil = whole;
    evil[450] = 'X';
    h.feed(frag6(whole, 0, 512, true));
    h.feed(frag6(evil, 256, 512, true));
    h.feed(frag6(whole, 512, whole.size() - 512, false));
    EXPECT_TRUE(h.sink.got.empty());
    EXPECT_EQ(h.count(Anomaly::FragmentOverlap), 1U);
}

TEST(DefragTest, BadFragments) {
    Harness h;
    const Bytes whole = bigUdp(bigMessage());
    h.feed(frag4(whole, 0, 401, true));  // not a multiple of 8
    EXPECT_EQ(h.count(Anomaly::BadFragment), 1U);
    // Two different ends.
    h.feed(frag4(whole, 400, 100, false, 3));
    h.feed(frag4(whole, 400, 200, false, 3));
    EXPECT_EQ(h.count(Anomaly::BadFragment), 2U);
    // Data past a known end.
    h.feed(frag4(whole, 400, 100, false, 4));
    h.feed(frag4(whole, 480, 200, true, 4));
    EXPECT_EQ(h.count(Anomaly::BadFragment), 3U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(DefragTest, TooLarge) {
    Harness h;
    Ipv4Options o;
    o.frag = 8189;  // offset 65512 + 100 bytes > 65515
    h.feed(ethernet(0x0800, ipv4(17, Bytes(100, 0), o)));
    EXPECT_EQ(h.count(Anomaly::FragmentTooLarge), 1U);
    h.feed(ethernet(0x86dd, ipv6(44, ipv6Frag(17, 65528, false, 1, Bytes(16, 0)))));
    EXPECT_EQ(h.count(Anomaly::FragmentTooLarge), 2U);
}

TEST(DefragTest, TrainLimitEvictsOldest) {
    DecodeConfig c;
    c.max_fragment_trains = 2;
    Harness h(c);
    const std::string msg = bigMessage();
    const Bytes whole = bigUdp(msg);
    h.feed(frag4(whole, 0, 400, true, 1));
    h.feed(frag4(whole, 0, 400, true, 2));
    h.feed(frag4(whole, 0, 400, true, 3));  // evicts train 1
    EXPECT_EQ(h.count(Anomaly::FragmentLimitReached), 1U);
    h.feed(frag4(whole, 400, whole.size() - 400, false, 1));  // train 1 is gone: a new one
    h.feed(frag4(whole, 400, whole.size() - 400, false, 3));
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, msg);
}

TEST(DefragTest, ByteLimit) {
    DecodeConfig c;
    c.max_fragment_bytes = 2500;
    Harness h(c);
    const std::string msg = bigMessage();
    const Bytes whole = bigUdp(msg);
    h.feed(frag4(whole, 0, 800, true, 1));
    h.feed(frag4(whole, 0, 800, true, 2));
    h.feed(frag4(whole, 0, 800, true, 3));
    EXPECT_EQ(h.count(Anomaly::FragmentLimitReached), 0U);
    // Completing train 3 needs more room: the oldest train goes.
    h.feed(frag4(whole, 800, whole.size() - 800, false, 3));
    EXPECT_EQ(h.count(Anomaly::FragmentLimitReached), 1U);
    ASSERT_EQ(h.sink.got.size(), 1U);
    EXPECT_EQ(h.sink.got[0].bytes, msg);
    h.feed(frag4(whole, 800, whole.size() - 800, false, 2));
    EXPECT_EQ(h.sink.got.size(), 2U);
}

TEST(DefragTest, DatagramLargerThanTheBudget) {
    DecodeConfig c;
    c.max_fragment_bytes = 1000;
    Harness h(c);
    const Bytes whole = bigUdp(bigMessage());
    ASSERT_GT(whole.size(), 1000U);
    h.feed(frag4(whole, 0, 800, true, 4));
    h.feed(frag4(whole, 800, whole.size() - 800, false, 4));
    EXPECT_EQ(h.count(Anomaly::FragmentLimitReached), 1U);
    EXPECT_TRUE(h.sink.got.empty());
}

TEST(DefragTest, TooManyFragmentsInOneTrain) {
    Harness h;
    const Bytes whole(8 * 200, 0x41);
    for (size_t i = 0; i < 130; ++i) {
        h.feed(frag4(whole, i * 8, 8, true, 11));
    }
    EXPECT_EQ(h.count(Anomaly::FragmentLimitReached), 1U);
}

TEST(DefragTest, TimeoutAndIncompleteAtFinish) {
    DecodeConfig c;
    c.fragment_timeout_ns = 5'000'000'000;
    Harness h(c);
    const Bytes whole = bigUdp(bigMessage());
    h.feed(frag4(whole, 0, 400, true, 1), 1'000'000'000);
    h.decoder.advanceTime(3'000'000'000);
    EXPECT_EQ(h.count(Anomaly::FragmentTimeout), 0U);
    h.decoder.advanceTime(7'000'000'000);
    EXPECT_EQ(h.count(Anomaly::FragmentTimeout), 1U);
    // The late fragment starts a new train that never completes.
    h.feed(frag4(whole, 400, whole.size() - 400, false, 1), 7'500'000'000);
    EXPECT_TRUE(h.sink.got.empty());
    h.decoder.finish(8'000'000'000);
    EXPECT_EQ(h.count(Anomaly::FragmentIncomplete), 1U);
    EXPECT_EQ(h.counter("decode.fragments_dropped"), 2U);
}

TEST(DefragTest, TimeoutAlsoRunsFromPacketClock) {
    DecodeConfig c;
    c.fragment_timeout_ns = 5'000'000'000;
    Harness h(c);
    const Bytes whole = bigUdp(bigMessage());
    h.feed(frag4(whole, 0, 400, true, 1), 1'000'000'000);
    h.feed(ethIpv4Udp(5060, 5060, "x"), 10'000'000'000);
    EXPECT_EQ(h.count(Anomaly::FragmentTimeout), 1U);
}

TEST(DefragTest, SnaplenCutFragmentIsDropped) {
    Harness h;
    const Bytes whole = bigUdp(bigMessage());
    Bytes f = frag4(whole, 0, 400, true);
    const auto wire = static_cast<uint32_t>(f.size());
    f.erase(f.end() - 50, f.end());
    h.feed(f, 1, capture::LinkType::Ethernet, wire);
    EXPECT_EQ(h.count(Anomaly::SnaplenTruncated), 1U);
    EXPECT_EQ(h.counter("decode.fragments_dropped"), 1U);
}

}  // namespace
}  // namespace sipbeat::decode::test
