// SPDX-License-Identifier: Apache-2.0
// The stream framer's parts: start lines, resync points, header scan, the framing loop.
#include "beat/decode/sip_framing.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sipbeat::decode::detail {
namespace {

TEST(StartLineTest, Classifies) {
    EXPECT_EQ(classifyStartLine("SIP/2.0 200 OK\r\n", 1024), StartLine::Yes);
    EXPECT_EQ(classifyStartLine("sip/2.0 180 Ringing\r\n", 1024), StartLine::Yes);
    EXPECT_EQ(classifyStartLine("SIP/2.0 200\r\n", 1024), StartLine::Yes);
    EXPECT_EQ(classifyStartLine("INVITE sip:bob@b.example SIP/2.0\r\n", 1024), StartLine::Yes);
    EXPECT_EQ(classifyStartLine("MESSAGE tel:+123 SIP/2.0\n", 1024), StartLine::Yes);
    EXPECT_EQ(classifyStartLine("X-CUSTOM_1 sips:a@b;transport=tls SIP/2.0\r\n", 1024),
              StartLine::Yes);
    // Partial lines wait while they can still become one.
    EXPECT_EQ(classifyStartLine("", 1024), StartLine::NeedMore);
    EXPECT_EQ(classifyStartLine("SIP/2", 1024), StartLine::NeedMore);
    EXPECT_EQ(classifyStartLine("SIP/2.0 2", 1024), StartLine::NeedMore);
    EXPECT_EQ(classifyStartLine("INVITE sip:bob@b.example SIP/2", 1024), StartLine::NeedMore);
    EXPECT_EQ(classifyStartLine("INVITE sip:bob@b.example SIP/2.0", 1024), StartLine::NeedMore);
    EXPECT_EQ(classifyStartLine("INVITE", 1024), StartLine::NeedMore);
    EXPECT_EQ(classifyStartLine("INVITE", 6), StartLine::No);  // the line limit
    // Not start lines.
    EXPECT_EQ(classifyStartLine("SIP/2.0 2x0 OK\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("SIP/3.0 200 OK\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("Via: SIP/2.0/TCP a\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("invite sip:a SIP/2.0\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("INVITE  sip:a SIP/2.0\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("INVITE 1sip:a SIP/2.0\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("INVITE sip:a SIP/2.0 x\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("INVITE sip:a\tb SIP/2.0\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("GET / HTTP/1.1\r\n", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine("\x16\x03\x01", 1024), StartLine::No);
    EXPECT_EQ(classifyStartLine(std::string(40, 'A') + " sip:a SIP/2.0\r\n", 1024), StartLine::No);
}

TEST(StartLineTest, LeadingLineBreaks) {
    EXPECT_EQ(leadingLineBreaks("\r\n\r\nINVITE"), 4U);
    EXPECT_EQ(leadingLineBreaks("\n"), 1U);
    EXPECT_EQ(leadingLineBreaks("x\r\n"), 0U);
}

TEST(ResyncTest, FindsNextStartLine) {
    const std::string d = "dy of a lost message\r\nmore=1\r\nACK sip:a SIP/2.0\r\nVia: x\r\n";
    const ResyncPoint r = findResync(d, 1024);
    EXPECT_TRUE(r.found);
    EXPECT_EQ(d.substr(r.offset, 3), "ACK");
}

TEST(ResyncTest, KeepsAPartialLineThatMayStartAMessage) {
    const std::string d = "junk\r\nSIP/2.0 1";
    const ResyncPoint r = findResync(d, 1024);
    EXPECT_FALSE(r.found);
    EXPECT_EQ(r.offset, 6U);
    const ResyncPoint none = findResync("junk\r\nmore junk", 1024);
    EXPECT_FALSE(none.found);
    EXPECT_EQ(none.offset, 15U);
    const ResyncPoint nl = findResync("junk\r\n", 1024);
    EXPECT_FALSE(nl.found);
    EXPECT_EQ(nl.offset, 6U);
}

bool scan(std::string_view d, size_t limit, HeaderScan& h) {
    h = HeaderScan{};
    return scanHeaders(d, limit, h);
}

TEST(HeaderScanTest, ContentLengthForms) {
    HeaderScan h;
    ASSERT_TRUE(scan("INVITE sip:a SIP/2.0\r\nContent-Length: 12\r\n\r\n", 1024, h));
    EXPECT_TRUE(h.has_content_length);
    EXPECT_EQ(h.content_length, 12U);
    EXPECT_EQ(h.header_length, 44U);
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nL:3\r\n\r\n", 1024, h));
    EXPECT_EQ(h.content_length, 3U);
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\ncontent-length \t: 7 \r\n\r\n", 1024, h));
    EXPECT_EQ(h.content_length, 7U);
    // Bare LF line ends.
    ASSERT_TRUE(scan("SIP/2.0 200 OK\nl: 1\n\nx", 1024, h));
    EXPECT_EQ(h.header_length, 21U);
    EXPECT_EQ(h.content_length, 1U);
    // Folded lines and lines without a colon are passed over.
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nSubject: a\r\n b\r\nnonsense\r\nl: 2\r\n\r\n", 1024, h));
    EXPECT_EQ(h.content_length, 2U);
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nCall-ID: 1\r\n\r\n", 1024, h));
    EXPECT_FALSE(h.has_content_length);
}

TEST(HeaderScanTest, BadValuesAndLimits) {
    HeaderScan h;
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nl: -1\r\n\r\n", 1024, h));
    EXPECT_TRUE(h.bad_content_length);
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nl:\r\n\r\n", 1024, h));
    EXPECT_TRUE(h.bad_content_length);
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nl: 12345678901\r\n\r\n", 1024, h));
    EXPECT_TRUE(h.bad_content_length);
    ASSERT_TRUE(scan("SIP/2.0 200 OK\r\nl: 1\r\nl: 1\r\n\r\n", 1024, h));
    EXPECT_FALSE(h.bad_content_length);  // repeated but equal
    EXPECT_FALSE(scan("SIP/2.0 200 OK\r\nl: 1\r\n", 1024, h));
    EXPECT_FALSE(scan("SIP/2.0 200 OK", 1024, h));
    EXPECT_FALSE(scan("SIP/2.0 200 OK\r\nl: 1\r\n\r\n", 20, h));  // end past the limit
}

TEST(HeaderScanTest, GoesOnWhereItStopped) {
    const std::string m = "SIP/2.0 200 OK\r\nl: 5\r\nVia: x\r\n\r\nhello";
    HeaderScan h;
    EXPECT_FALSE(scanHeaders(std::string_view(m).substr(0, 10), 1024, h));
    EXPECT_FALSE(scanHeaders(std::string_view(m).substr(0, 25), 1024, h));
    EXPECT_TRUE(h.has_content_length);  // read before the end was there
    EXPECT_GT(h.resume, 16U);
    ASSERT_TRUE(scanHeaders(m, 1024, h));
    EXPECT_EQ(h.content_length, 5U);
    EXPECT_EQ(h.header_length, m.size() - 5);
    EXPECT_TRUE(scanHeaders(m, 1024, h));  // done stays done
}

class Recorder final : public FrameSink {
public:
    void message(std::string_view b) noexcept override { messages.emplace_back(b); }
    void anomaly(Anomaly a) noexcept override { anomalies.push_back(a); }
    void dropped(size_t n) noexcept override { dropped_bytes += n; }
    std::vector<std::string> messages;
    std::vector<Anomaly> anomalies;
    size_t dropped_bytes = 0;
};

TEST(FrameSipStreamTest, FramesAndReportsWhatIsLeft) {
    Recorder r;
    SipFramerState st;
    const std::string a = "BYE sip:a SIP/2.0\r\nl: 0\r\n\r\n";
    const std::string b = "SIP/2.0 200 OK\r\nl: 2\r\n\r\nok";
    const std::string data = "\r\n" + a + b + "SIP/2.0 1";
    const size_t used = frameSipStream(data, 4096, st, r);
    EXPECT_EQ(r.messages, (std::vector<std::string>{a, b}));
    EXPECT_EQ(used, data.size() - 9);
    EXPECT_TRUE(r.anomalies.empty());
    EXPECT_EQ(r.dropped_bytes, 0U);
}

TEST(FrameSipStreamTest, OversizedMessageIsSkippedAcrossCalls) {
    Recorder r;
    SipFramerState st;
    const std::string big = "MESSAGE sip:a SIP/2.0\r\nl: 1000\r\n\r\n" + std::string(1000, 'x');
    const std::string next = "ACK sip:a SIP/2.0\r\nl: 0\r\n\r\n";
    EXPECT_EQ(frameSipStream(big.substr(0, 600), 512, st, r), 600U);
    EXPECT_GT(st.skip_remaining, 0U);
    const std::string rest = big.substr(600) + next;
    EXPECT_EQ(frameSipStream(rest, 512, st, r), rest.size());
    EXPECT_EQ(r.messages, std::vector<std::string>{next});
    EXPECT_EQ(r.anomalies, std::vector<Anomaly>{Anomaly::SipMessageTooLarge});
    EXPECT_EQ(r.dropped_bytes, big.size());
}

}  // namespace
}  // namespace sipbeat::decode::detail
