// SPDX-License-Identifier: Apache-2.0
// SIP over WebSocket (RFC 7118, RFC 6455 framing) on configured TCP ports.
#include "beat/decode/websocket.h"

#include <gtest/gtest.h>

#include "tests/unit/decode/packet_builder.h"

namespace sipbeat::decode::test {
namespace {

const std::string kUpgrade =
    "GET / HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";
const std::string kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n";

/// One RFC 6455 frame; `mask` set = client frame with masking key 37 fa 21 3d.
std::string frame(uint8_t opcode, std::string_view payload, bool fin = true, bool mask = false,
                  uint8_t rsv = 0) {
    Builder b;
    b.u8((fin ? 0x80U : 0U) | static_cast<unsigned>(rsv) << 4 | opcode);
    const unsigned m = mask ? 0x80 : 0;
    if (payload.size() < 126) {
        b.u8(m | static_cast<unsigned>(payload.size()));
    } else if (payload.size() < 65536) {
        b.u8(m | 126).u16(static_cast<unsigned>(payload.size()));
    } else {
        b.u8(m | 127).u32(0).u32(static_cast<uint32_t>(payload.size()));
    }
    std::string out = toString(b.take());
    const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (mask) {
        out.append(reinterpret_cast<const char*>(key), 4);
    }
    std::string p(payload);
    if (mask) {
        for (size_t i = 0; i < p.size(); ++i) {
            p[i] = static_cast<char>(p[i] ^ static_cast<char>(key[i % 4]));
        }
    }
    return out + p;
}

class WebSocketTest : public ::testing::Test {
protected:
    WebSocketTest() : h_(config()) {}
    static DecodeConfig config() {
        DecodeConfig c;
        c.websocket_ports = {8080};
        c.tcp_stream_buffer_max = 4096;
        return c;
    }
    // Client → server on the stream's next sequence number.
    void client(std::string_view data) {
        h_.feed(ethIpv4Tcp(40000, 8080, cseq_, kAck, data));
        cseq_ += static_cast<uint32_t>(data.size());
    }
    void server(std::string_view data) {
        h_.feed(ethIpv4Tcp(8080, 40000, sseq_, kAck, data, kB4, kA4));
        sseq_ += static_cast<uint32_t>(data.size());
    }
    void open() {
        h_.feed(ethIpv4Tcp(40000, 8080, cseq_++, kSyn, ""));
        h_.feed(ethIpv4Tcp(8080, 40000, sseq_++, kSyn | kAck, "", kB4, kA4));
        client(kUpgrade);
        server(kSwitching);
    }
    Harness h_;
    uint32_t cseq_ = 100;
    uint32_t sseq_ = 900;
};

TEST_F(WebSocketTest, MaskedClientAndUnmaskedServerFrames) {
    open();
    const std::string inv = sipRequest("INVITE");
    const std::string ok = sipResponse(200);
    client(frame(1, inv, true, true));
    server(frame(1, ok));
    ASSERT_EQ(h_.sink.got.size(), 2U);
    EXPECT_EQ(h_.sink.got[0].bytes, inv);
    EXPECT_EQ(h_.sink.got[0].transport, Transport::Ws);
    EXPECT_EQ(h_.sink.got[0].dst_port, 8080);
    EXPECT_EQ(h_.sink.got[1].bytes, ok);
    EXPECT_EQ(h_.counter("decode.websocket"), 2U);
    EXPECT_EQ(h_.count(Anomaly::WebSocketBadHandshake), 0U);
}

TEST_F(WebSocketTest, FragmentedMessageWithPingInBetween) {
    open();
    const std::string inv = sipRequest("INVITE", std::string(300, 's'));
    client(frame(1, inv.substr(0, 100), false, true) + frame(9, "ping", true, true));
    client(frame(0, inv.substr(100, 200), false, true));
    EXPECT_TRUE(h_.sink.got.empty());
    client(frame(0, inv.substr(300), true, true));
    ASSERT_EQ(h_.sink.got.size(), 1U);
    EXPECT_EQ(h_.sink.got[0].bytes, inv);
}

TEST_F(WebSocketTest, FramesSplitAcrossSegmentsAndLongLengths) {
    open();
    const std::string big = sipRequest("MESSAGE", std::string(1000, 'b'));  // 16-bit length
    const std::string f = frame(2, big, true, true) + frame(1, sipRequest("ACK"), true, true);
    client(f.substr(0, 1));
    client(f.substr(1, 3));
    client(f.substr(4, 500));
    client(f.substr(504));
    ASSERT_EQ(h_.sink.got.size(), 2U);
    EXPECT_EQ(h_.sink.got[0].bytes, big);
}

TEST_F(WebSocketTest, SixtyFourBitLengthTooLarge) {
    open();
    const std::string huge(70000, 'h');
    client(frame(1, huge, true, true).substr(0, 1400));
    EXPECT_EQ(h_.count(Anomaly::WebSocketMessageTooLarge), 1U);
    // The rest of the frame is skipped; the next one is read.
    const std::string rest = frame(1, huge, true, true).substr(1400);
    for (size_t i = 0; i < rest.size(); i += 1400) {
        client(rest.substr(i, 1400));
    }
    client(frame(1, "OPTIONS", true, true));
    ASSERT_EQ(h_.sink.got.size(), 1U);
    EXPECT_EQ(h_.sink.got[0].bytes, "OPTIONS");
}

TEST_F(WebSocketTest, StreamWithoutHandshake) {
    // Capture started after the upgrade: frames straight away.
    client(frame(1, "SIP/2.0 200 OK\r\n\r\n", true, true));
    ASSERT_EQ(h_.sink.got.size(), 1U);
}

TEST_F(WebSocketTest, RefusedHandshakes) {
    server("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    server(frame(1, "x"));
    client("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    client(frame(1, "y", true, true));
    EXPECT_EQ(h_.count(Anomaly::WebSocketBadHandshake), 2U);
    EXPECT_TRUE(h_.sink.got.empty());
}

TEST_F(WebSocketTest, HandshakeTooLong) {
    client("GET / HTTP/1.1\r\n" + std::string(4100, 'h'));
    EXPECT_EQ(h_.count(Anomaly::WebSocketBadHandshake), 1U);
}

TEST_F(WebSocketTest, BadFrames) {
    open();
    client(frame(3, "reserved opcode", true, true));
    client(frame(1, "rsv2", true, true, 2));
    client(frame(0, "continuation of nothing", true, true));
    client(frame(9, "fragmented ping", false, true));
    client(frame(1, "first part", false, true));
    client(frame(1, "a new message before the end", true, true));
    EXPECT_EQ(h_.count(Anomaly::WebSocketBadFrame), 5U);
    ASSERT_EQ(h_.sink.got.size(), 1U);
    EXPECT_EQ(h_.sink.got[0].bytes, "a new message before the end");
    // A 64-bit length with the top bit set: framing is lost for good.
    client(toString(hex("81 ff 80 00 00 00 00 00 00 01")) + frame(1, "z", true, true));
    EXPECT_EQ(h_.count(Anomaly::WebSocketBadFrame), 6U);
    EXPECT_EQ(h_.sink.got.size(), 1U);
}

TEST_F(WebSocketTest, CompressedMessagesAreDropped) {
    open();
    client(frame(1, "deflated", false, true, 4) + frame(0, "more", true, true));
    client(frame(1, "plain", true, true));
    EXPECT_EQ(h_.count(Anomaly::WebSocketCompressed), 1U);
    ASSERT_EQ(h_.sink.got.size(), 1U);
    EXPECT_EQ(h_.sink.got[0].bytes, "plain");
}

TEST_F(WebSocketTest, GapLosesTheStream) {
    open();
    const std::string f = frame(1, sipRequest("INVITE"), true, true);
    h_.feed(ethIpv4Tcp(40000, 8080, cseq_ + 10, kAck, f));  // 10 bytes missing
    h_.decoder.finish(2'000'000'000);
    EXPECT_EQ(h_.count(Anomaly::TcpGap), 1U);
    EXPECT_TRUE(h_.sink.got.empty());
}

TEST(WsFrameHeaderTest, Parses) {
    detail::WsFrameHeader h;
    EXPECT_EQ(detail::parseWsFrameHeader(hex("81"), h), detail::WsParse::NeedMore);
    EXPECT_EQ(detail::parseWsFrameHeader(hex("81 fe 00"), h), detail::WsParse::NeedMore);
    EXPECT_EQ(detail::parseWsFrameHeader(hex("81 ff 00 00 00 00"), h), detail::WsParse::NeedMore);
    EXPECT_EQ(detail::parseWsFrameHeader(hex("81 85 01 02"), h), detail::WsParse::NeedMore);
    ASSERT_EQ(detail::parseWsFrameHeader(hex("81 85 01 02 03 04"), h), detail::WsParse::Ok);
    EXPECT_TRUE(h.fin);
    EXPECT_TRUE(h.masked);
    EXPECT_EQ(h.payload_length, 5U);
    EXPECT_EQ(h.header_length, 6U);
    ASSERT_EQ(detail::parseWsFrameHeader(hex("02 7e 01 00"), h), detail::WsParse::Ok);
    EXPECT_FALSE(h.fin);
    EXPECT_EQ(h.opcode, 2);
    EXPECT_EQ(h.payload_length, 256U);
    ASSERT_EQ(detail::parseWsFrameHeader(hex("82 7f 00 00 00 01 00 00 00 00"), h),
              detail::WsParse::Ok);
    EXPECT_EQ(h.payload_length, 1ULL << 32);
    EXPECT_EQ(detail::parseWsFrameHeader(hex("82 7f 80 00 00 00 00 00 00 00"), h),
              detail::WsParse::Bad);
}

}  // namespace
}  // namespace sipbeat::decode::test
