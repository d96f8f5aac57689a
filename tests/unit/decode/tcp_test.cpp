// SPDX-License-Identifier: Apache-2.0
// TCP stream reassembly and SIP framing over TCP (RFC 3261 §18.3, RFC 9293).
#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

// A client (10.0.0.1:40000) talking to a server (10.0.0.2:5060).
class TcpTest : public ::testing::Test {
protected:
    explicit TcpTest(DecodeConfig c = {}) : h_(std::make_unique<Harness>(std::move(c))) {}
    void reset(DecodeConfig c) { h_ = std::make_unique<Harness>(std::move(c)); }
    void syn(uint32_t isn = 1000, uint16_t sport = 40000) {
        h_->feed(ethIpv4Tcp(sport, 5060, isn, kSyn, ""), ts_);
        next_ = isn + 1;
    }
    // Sends `data` at the next sequence number (or `seq` when given) from the client.
    void send(std::string_view data, int64_t seq = -1, uint8_t flags = kAck,
              uint16_t sport = 40000) {
        const uint32_t s = seq >= 0 ? static_cast<uint32_t>(seq) : next_;
        h_->feed(ethIpv4Tcp(sport, 5060, s, flags, data), ts_);
        if (seq < 0) {
            next_ += static_cast<uint32_t>(data.size());
        }
    }
    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const Got& g : h_->sink.got) {
            out.push_back(g.bytes);
        }
        return out;
    }
    Harness& h() { return *h_; }

    std::unique_ptr<Harness> h_;
    uint32_t next_ = 0;
    int64_t ts_ = 1'000'000'000;
};

TEST_F(TcpTest, SeveralMessagesPerSegmentWithKeepAlives) {
    syn();
    const std::string a = sipRequest("INVITE", "v=0\r\n");
    const std::string b = sipResponse(100);
    send("\r\n\r\n" + a + "\r\n" + b + "\r\n\r\n");
    EXPECT_EQ(messages(), (std::vector<std::string>{a, b}));
    const Got& g = h().sink.got[0];
    EXPECT_EQ(g.transport, Transport::Tcp);
    EXPECT_EQ(g.src.text(), "10.0.0.1");
    EXPECT_EQ(g.src_port, 40000);
    EXPECT_EQ(g.dst_port, 5060);
    EXPECT_EQ(h().counter("decode.tcp_dropped_bytes"), 0U);
    for (size_t i = 0; i < static_cast<size_t>(Anomaly::Count); ++i) {
        EXPECT_EQ(h().count(static_cast<Anomaly>(i)), 0U) << anomalyName(static_cast<Anomaly>(i));
    }
}

TEST_F(TcpTest, MessageAcrossSegments) {
    syn();
    const std::string a = sipRequest("MESSAGE", std::string(300, 'z'));
    send(a.substr(0, 10));
    send(a.substr(10, 100));
    EXPECT_TRUE(h().sink.got.empty());
    ts_ = 5;
    send(a.substr(110));
    ASSERT_EQ(messages(), std::vector<std::string>{a});
    EXPECT_EQ(h().sink.got[0].timestamp, 5);  // the packet that completed it
}

TEST_F(TcpTest, OneByteSegments) {
    syn();
    const std::string a = sipRequest("INVITE", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n");
    for (char c : a) {
        send(std::string(1, c));
    }
    EXPECT_EQ(messages(), std::vector<std::string>{a});
}

TEST_F(TcpTest, OutOfOrderSegments) {
    syn();
    const std::string a = sipRequest("INVITE");
    const std::string b = sipRequest("ACK");
    const std::string all = a + b;
    const uint32_t base = next_;
    send(all.substr(100), base + 100);
    send(all.substr(40, 60), base + 40);
    EXPECT_TRUE(h().sink.got.empty());
    send(all.substr(0, 40), base);
    EXPECT_EQ(messages(), (std::vector<std::string>{a, b}));
    EXPECT_EQ(h().counter("decode.tcp_out_of_order"), 2U);
    EXPECT_EQ(h().count(Anomaly::TcpGap), 0U);
}

TEST_F(TcpTest, RetransmissionsAndOverlap) {
    syn();
    const std::string a = sipRequest("INVITE");
    const std::string b = sipRequest("BYE");
    const std::string all = a + b;
    const uint32_t base = next_;
    send(all.substr(0, 50), base);
    send(all.substr(0, 50), base);         // full retransmission
    send(all.substr(20, 100), base + 20);  // overlaps 30 old bytes
    send(all.substr(120), base + 120);
    send(all.substr(120), base + 120);  // after the messages went out
    EXPECT_EQ(messages(), (std::vector<std::string>{a, b}));
    EXPECT_EQ(h().counter("decode.tcp_retransmissions"), 2U);
}

TEST_F(TcpTest, SequenceNumbersWrap) {
    syn(0xffffff00);
    const std::string a = sipRequest("INVITE", std::string(400, 'w'));
    send(a.substr(0, 200));
    send(a.substr(200));
    EXPECT_EQ(messages(), std::vector<std::string>{a});
}

TEST_F(TcpTest, CompactAndCaseInsensitiveContentLength) {
    syn();
    const std::string a = "INVITE sip:b@x SIP/2.0\r\ni: 1\r\nl: 4\r\n\r\nbody";
    const std::string b = "SIP/2.0 200 OK\r\nCONTENT-length  :  2\r\n\r\nok";
    send(a + b);
    EXPECT_EQ(messages(), (std::vector<std::string>{a, b}));
}

TEST_F(TcpTest, MissingContentLengthIsHeadersOnly) {
    syn();
    const std::string head = "OPTIONS sip:b@x SIP/2.0\r\nCall-ID: 1\r\n\r\n";
    const std::string next = sipRequest("BYE");
    send(head + "a body nobody announced\r\n" + next);
    EXPECT_EQ(messages(), (std::vector<std::string>{head, next}));
    EXPECT_EQ(h().count(Anomaly::SipFramingNoContentLength), 1U);
    EXPECT_EQ(h().count(Anomaly::TcpResync), 1U);  // the body was skipped
}

TEST_F(TcpTest, BadContentLength) {
    syn();
    const std::string a = "INVITE sip:b@x SIP/2.0\r\nContent-Length: 12abc\r\n\r\n";
    const std::string b = "INVITE sip:b@x SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n";
    const std::string c = "INVITE sip:b@x SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
    send(a + b + c);
    EXPECT_EQ(messages(), (std::vector<std::string>{a, b, c}));
    EXPECT_EQ(h().count(Anomaly::SipFramingBadContentLength), 3U);
}

TEST_F(TcpTest, StartNotSeenIsAcceptedAfterResync) {
    // No SYN: the capture started in the middle of a message.
    const std::string a = sipRequest("INVITE", "v=0\r\n");
    const std::string b = sipRequest("ACK");
    send(a.substr(30) + b, 5000);
    EXPECT_EQ(messages(), std::vector<std::string>{b});
    EXPECT_EQ(h().count(Anomaly::TcpResync), 1U);
    // A stream that starts exactly at a message needs no resync.
    send(b, 9000, kAck, 40001);
    EXPECT_EQ(h().sink.got.size(), 2U);
    EXPECT_EQ(h().count(Anomaly::TcpResync), 1U);
}

TEST_F(TcpTest, StartLineSplitAcrossSegments) {
    syn();
    const std::string a = sipResponse(180);
    send(a.substr(0, 5));  // "SIP/2"
    send(a.substr(5, 9));
    send(a.substr(14));
    EXPECT_EQ(messages(), std::vector<std::string>{a});
    EXPECT_EQ(h().count(Anomaly::TcpResync), 0U);
}

TEST_F(TcpTest, GapThenResyncAtNextMessage) {
    DecodeConfig c;
    c.tcp_reorder_timeout_ns = 2'000'000'000;
    reset(c);
    syn();
    // SDP bodies end in CRLF, so the next message starts a line.
    const std::string a = sipRequest("INVITE", std::string(98, 'a') + "\r\n");
    const std::string b = sipRequest("BYE");
    const std::string c2 = sipRequest("ACK");
    const uint32_t base = next_;
    send(a.substr(0, 50), base);
    // 30 bytes of `a` are never captured.
    const std::string rest = a.substr(80) + b;
    send(rest, base + 80);
    EXPECT_TRUE(h().sink.got.empty());
    // The gap is given up after the reorder timeout (on the packet clock).
    ts_ += 3'000'000'000;
    h().decoder.advanceTime(ts_);
    EXPECT_EQ(h().count(Anomaly::TcpGap), 1U);
    EXPECT_EQ(h().count(Anomaly::TcpResync), 1U);
    EXPECT_EQ(messages(), std::vector<std::string>{b});
    send(c2, base + 80 + static_cast<uint32_t>(rest.size()));
    EXPECT_EQ(messages(), (std::vector<std::string>{b, c2}));
}

TEST_F(TcpTest, GapsAreSkippedAtFinish) {
    syn();
    const std::string a = sipRequest("INVITE");
    const std::string b = sipRequest("BYE");
    const uint32_t base = next_;
    send(a.substr(0, 20), base);
    send(a.substr(40) + b, base + 40);
    h().decoder.finish(ts_);
    EXPECT_EQ(messages(), std::vector<std::string>{b});
    EXPECT_EQ(h().count(Anomaly::TcpGap), 1U);
    EXPECT_EQ(h().counter("decode.tcp_streams"), 0U);
    EXPECT_EQ(h().counter("decode.tcp_buffered_bytes"), 0U);
}

TEST_F(TcpTest, IncompleteMessageAtFinish) {
    syn();
    send(sipRequest("INVITE", "0123456789").substr(0, 60));
    h().decoder.finish(ts_);
    EXPECT_TRUE(h().sink.got.empty());
    EXPECT_EQ(h().count(Anomaly::SipFramingIncomplete), 1U);
    EXPECT_EQ(h().counter("decode.tcp_dropped_bytes"), 60U);
}

TEST_F(TcpTest, MessageTooLargeIsSkippedInSync) {
    DecodeConfig c;
    c.tcp_stream_buffer_max = 1024;
    reset(c);
    syn();
    const std::string big = sipRequest("MESSAGE", std::string(3000, 'x'));
    const std::string small = sipRequest("ACK");
    send(big.substr(0, 1400));
    send(big.substr(1400) + small);
    EXPECT_EQ(messages(), std::vector<std::string>{small});
    EXPECT_EQ(h().count(Anomaly::SipMessageTooLarge), 1U);
    EXPECT_EQ(h().count(Anomaly::TcpResync), 0U);  // the skip kept the stream in step
    EXPECT_EQ(h().counter("decode.tcp_dropped_bytes"), big.size());
}

TEST_F(TcpTest, HeadersTooLarge) {
    DecodeConfig c;
    c.tcp_stream_buffer_max = 1024;
    reset(c);
    syn();
    std::string huge = "INVITE sip:b@x SIP/2.0\r\nX-Big: " + std::string(2000, 'h') + "\r\n";
    huge += "Content-Length: 0\r\n\r\n";
    const std::string small = sipRequest("ACK");
    send(huge.substr(0, 700));
    send(huge.substr(700, 700));
    send(huge.substr(1400) + small);
    EXPECT_EQ(messages(), std::vector<std::string>{small});
    EXPECT_EQ(h().count(Anomaly::SipMessageTooLarge), 1U);
}

TEST_F(TcpTest, NonSipStreamIsDroppedQuietly) {
    syn();
    std::string tls(3000, '\x17');
    send(tls.substr(0, 1500));
    send(tls.substr(1500));
    EXPECT_TRUE(h().sink.got.empty());
    EXPECT_EQ(h().counter("decode.tcp_dropped_bytes"), 3000U);
    EXPECT_EQ(h().count(Anomaly::SipMessageTooLarge), 0U);
    EXPECT_EQ(h().count(Anomaly::TcpResync), 0U);
}

TEST_F(TcpTest, StreamLimitEvictsLeastRecentlyUsed) {
    DecodeConfig c;
    c.max_tcp_streams = 2;
    reset(c);
    const std::string a = sipRequest("INVITE");
    send(a.substr(0, 30), 100, kAck, 40001);
    send(a.substr(0, 30), 100, kAck, 40002);
    send(a.substr(0, 30), 100, kAck, 40003);  // evicts 40001
    EXPECT_EQ(h().count(Anomaly::TcpStreamLimitReached), 1U);
    EXPECT_EQ(h().count(Anomaly::SipFramingIncomplete), 1U);
    send(a.substr(30), 130, kAck, 40003);
    send(a.substr(30), 130, kAck, 40001);  // a new stream, mid-message: resync finds nothing
    EXPECT_EQ(messages(), std::vector<std::string>{a});
    EXPECT_EQ(h().counter("decode.tcp_streams"), 2U);
}

TEST_F(TcpTest, OutOfOrderBufferLimit) {
    DecodeConfig c;
    c.tcp_stream_buffer_max = 1024;
    reset(c);
    syn();
    const std::string a = sipRequest("MESSAGE", std::string(500, 'm'));
    const std::string b = sipRequest("BYE");
    const uint32_t base = next_;
    // Hold 900 bytes after a hole; 300 more do not fit: the hole is given up.
    send(std::string(900, 'q'), base + 100);
    send(std::string(98, 'q') + "\r\n" + b, base + 1000);
    EXPECT_EQ(h().count(Anomaly::TcpBufferLimitReached), 1U);
    EXPECT_EQ(h().count(Anomaly::TcpGap), 1U);
    EXPECT_EQ(messages(), std::vector<std::string>{b});
}

TEST_F(TcpTest, TooManyHeldSegments) {
    syn();
    const uint32_t base = next_;
    for (uint32_t i = 0; i < 70; ++i) {
        send("x", base + 10 + 2 * i);
    }
    EXPECT_EQ(h().count(Anomaly::TcpBufferLimitReached), 1U);
}

TEST_F(TcpTest, MemoryLimit) {
    DecodeConfig c;
    c.max_tcp_bytes = 600;
    reset(c);
    const std::string a = sipRequest("MESSAGE", std::string(300, 'm'));
    send(a.substr(0, 400), 100, kAck, 40001);  // buffered: 400 bytes
    send(a.substr(0, 400), 100, kAck, 40002);  // 400 more: over the limit
    EXPECT_EQ(h().count(Anomaly::TcpMemoryLimitReached), 1U);
    // Held out-of-order data counts too.
    send(a.substr(0, 300), 1000, kAck, 40003);
    send(std::string(400, 'y'), 2000, kAck, 40003);
    EXPECT_EQ(h().count(Anomaly::TcpMemoryLimitReached), 3U);
}

TEST_F(TcpTest, IdleTimeout) {
    DecodeConfig c;
    c.tcp_idle_timeout_ns = 10'000'000'000;
    reset(c);
    syn();
    send(sipRequest("INVITE").substr(0, 40));
    h().decoder.advanceTime(ts_ + 5'000'000'000);
    EXPECT_EQ(h().counter("decode.tcp_streams"), 1U);
    h().decoder.advanceTime(ts_ + 11'000'000'000);
    EXPECT_EQ(h().count(Anomaly::TcpStreamTimeout), 1U);
    EXPECT_EQ(h().count(Anomaly::SipFramingIncomplete), 1U);
    EXPECT_EQ(h().counter("decode.tcp_streams"), 0U);
}

TEST_F(TcpTest, FinClosesAndLateCopiesAreIgnored) {
    syn();
    const std::string a = sipRequest("BYE");
    send(a, -1, kAck | kFin);
    ASSERT_EQ(messages(), std::vector<std::string>{a});
    send(a, 1001);  // a late retransmission after the FIN
    EXPECT_EQ(h().sink.got.size(), 1U);
    EXPECT_EQ(h().counter("decode.tcp_retransmissions"), 1U);
    EXPECT_EQ(h().counter("decode.tcp_buffered_bytes"), 0U);
    // The same ports reused by a new connection.
    syn(50000);
    send(a);
    EXPECT_EQ(h().sink.got.size(), 2U);
}

TEST_F(TcpTest, FinWithIncompleteMessage) {
    syn();
    send(sipRequest("INVITE").substr(0, 30), -1, kAck | kFin);
    EXPECT_EQ(h().count(Anomaly::SipFramingIncomplete), 1U);
}

TEST_F(TcpTest, RstClosesBothDirections) {
    syn();
    send(sipRequest("INVITE").substr(0, 30));
    h().feed(ethIpv4Tcp(5060, 40000, 7000, kAck, sipResponse(100).substr(0, 10), kB4, kA4));
    EXPECT_EQ(h().counter("decode.tcp_streams"), 2U);
    h().feed(ethIpv4Tcp(5060, 40000, 7010, kRst, "", kB4, kA4));
    EXPECT_EQ(h().counter("decode.tcp_streams"), 0U);
    EXPECT_EQ(h().count(Anomaly::SipFramingIncomplete), 2U);
}

TEST_F(TcpTest, BothDirectionsAreFramedApart) {
    syn();
    const std::string req = sipRequest("INVITE");
    const std::string resp = sipResponse(200, "v=0\r\n");
    send(req.substr(0, 50));
    h().feed(ethIpv4Tcp(5060, 40000, 9000, kAck, resp, kB4, kA4));
    send(req.substr(50));
    ASSERT_EQ(messages(), (std::vector<std::string>{resp, req}));
    EXPECT_EQ(h().sink.got[0].src.text(), "10.0.0.2");
    EXPECT_EQ(h().sink.got[0].src_port, 5060);
}

TEST_F(TcpTest, PortFilter) {
    DecodeConfig c;
    c.sip_ports = {5060};
    reset(c);
    h().feed(ethIpv4Tcp(40000, 8080, 1, kAck, sipRequest("INVITE")));
    EXPECT_TRUE(h().sink.got.empty());
    EXPECT_EQ(h().counter("decode.tcp_streams"), 0U);
    send(sipRequest("INVITE"), 1);
    EXPECT_EQ(h().sink.got.size(), 1U);
}

TEST_F(TcpTest, OptionsIpv6AndSnaplenCut) {
    const std::string a = sipRequest("INVITE");
    h().feed(ethernet(0x86dd, ipv6(6, tcp(40000, 5060, 1, kAck, a, 8))));
    ASSERT_EQ(h().sink.got.size(), 1U);
    EXPECT_EQ(h().sink.got[0].src.text(), "2001:db8::1");
    // A segment cut by the snaplen: what follows is out of step and is resynchronised.
    const std::string b = sipRequest("MESSAGE", std::string(200, 'c'));
    Bytes f = ethIpv4Tcp(40005, 5060, 1, kAck, b);
    const auto wire = static_cast<uint32_t>(f.size());
    f.erase(f.end() - 100, f.end());
    h().feed(f, 1, capture::LinkType::Ethernet, wire);
    const std::string c2 = sipRequest("ACK");
    h().feed(ethIpv4Tcp(40005, 5060, 1 + static_cast<uint32_t>(b.size()), kAck, c2));
    EXPECT_EQ(h().count(Anomaly::SnaplenTruncated), 1U);
    ASSERT_EQ(h().sink.got.size(), 2U);
    EXPECT_EQ(h().sink.got[1].bytes, c2);
}

TEST_F(TcpTest, HeaderAnomalies) {
    h().feed(ethernet(0x0800, ipv4(6, Bytes(19, 0))));
    EXPECT_EQ(h().count(Anomaly::TruncatedTcp), 1U);
    Bytes bad = tcp(40000, 5060, 1, kAck, "x");
    bad[12] = 0x40;  // 16-byte header
    h().feed(ethernet(0x0800, ipv4(6, bad)));
    EXPECT_EQ(h().count(Anomaly::BadTcpHeaderLength), 1U);
    bad[12] = 0xf0;  // 60-byte header in 21 bytes
    h().feed(ethernet(0x0800, ipv4(6, bad)));
    EXPECT_EQ(h().count(Anomaly::TruncatedTcp), 2U);
}

}  // namespace
}  // namespace sipbeat::decode::test
