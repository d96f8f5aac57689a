// SPDX-License-Identifier: Apache-2.0
// SDP (RFC 4566) and multipart bodies (RFC 2046 §5.1) carrying it.
#include <string>

#include <gtest/gtest.h>

#include "beat/sip/message.h"
#include "unit/sip/sip_test_util.h"

namespace sipbeat::sip {
namespace {

using test::crlf;

const std::string kOffer = crlf(
    "v=0\n"
    "o=alice 2890844526 2890844527 IN IP4 host.atlanta.example.com\n"
    "s=Session SDP\n"
    "c=IN IP4 192.0.2.101\n"
    "t=0 0\n"
    "a=sendrecv\n"
    "m=audio 49172 RTP/AVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "m=video 51372/2 RTP/AVPF 99\n"
    "c=IN IP6 2001:db8::2\n"
    "a=rtpmap:99 H264/90000/1\n"
    "a=recvonly\n");

TEST(SipSdpTest, SessionAndMedia) {
    Sdp sdp;
    ASSERT_TRUE(parseSdp(kOffer, sdp));
    EXPECT_EQ(sdp.body, kOffer);
    EXPECT_EQ(sdp.version, "0");
    EXPECT_EQ(sdp.origin_username, "alice");
    EXPECT_EQ(sdp.origin_session_id, "2890844526");
    EXPECT_EQ(sdp.origin_version, "2890844527");
    EXPECT_EQ(sdp.origin_address, "host.atlanta.example.com");
    EXPECT_EQ(sdp.session_name, "Session SDP");
    EXPECT_EQ(sdp.connection_info, "IN IP4 192.0.2.101");
    EXPECT_EQ(sdp.connection_address, "192.0.2.101");
    ASSERT_EQ(sdp.media_count, 2u);

    const SdpMedia& a = sdp.media[0];
    EXPECT_EQ(a.media, "audio");
    EXPECT_EQ(a.port, 49172);
    EXPECT_EQ(a.port_count, 1);
    EXPECT_EQ(a.protocol, "RTP/AVP");
    EXPECT_EQ(a.formats, "0 8 101");
    EXPECT_EQ(a.connection_address, "192.0.2.101");  // from the session
    EXPECT_EQ(a.direction, "sendrecv");              // from the session
    ASSERT_EQ(a.codec_count, 3u);
    EXPECT_EQ(a.codecs[0], "PCMU");
    EXPECT_EQ(a.codecs[1], "PCMA");
    EXPECT_EQ(a.codecs[2], "telephone-event");

    const SdpMedia& v = sdp.media[1];
    EXPECT_EQ(v.media, "video");
    EXPECT_EQ(v.port, 51372);
    EXPECT_EQ(v.port_count, 2);
    EXPECT_EQ(v.protocol, "RTP/AVPF");
    EXPECT_EQ(v.formats, "99");
    EXPECT_EQ(v.connection_address, "2001:db8::2");  // media-level c=
    EXPECT_EQ(v.direction, "recvonly");
    ASSERT_EQ(v.codec_count, 1u);
    EXPECT_EQ(v.codecs[0], "H264");
}

TEST(SipSdpTest, HoldAndInactiveAndMulticast) {
    Sdp sdp;
    ASSERT_TRUE(
        parseSdp("v=0\nc=IN IP4 224.2.36.42/127\nm=audio 0 RTP/AVP 0\na=inactive\n"
                 "m=audio 5004 RTP/AVP 0\na=sendonly\n",
                 sdp));
    EXPECT_EQ(sdp.connection_address, "224.2.36.42");
    EXPECT_EQ(sdp.connection_info, "IN IP4 224.2.36.42/127");
    ASSERT_EQ(sdp.media_count, 2u);
    EXPECT_EQ(sdp.media[0].port, 0);  // rejected stream
    EXPECT_EQ(sdp.media[0].direction, "inactive");
    EXPECT_EQ(sdp.media[0].codec_count, 0u);
    EXPECT_EQ(sdp.media[1].direction, "sendonly");
}

TEST(SipSdpTest, NotSdp) {
    Sdp sdp;
    EXPECT_FALSE(parseSdp("", sdp));
    EXPECT_FALSE(parseSdp("\r\n\r\n", sdp));
    EXPECT_FALSE(parseSdp("<xml/>", sdp));
    EXPECT_FALSE(parseSdp("o=a 1 1 IN IP4 h\r\nv=0\r\n", sdp));
    EXPECT_TRUE(parseSdp("\r\nv=0", sdp));  // leading empty lines are tolerated
    EXPECT_EQ(sdp.media_count, 0u);
}

TEST(SipSdpTest, JunkLinesAndBadMediaAreSkipped) {
    Sdp sdp;
    ASSERT_TRUE(
        parseSdp("v=0\r\nnonsense\r\nm =video 1 RTP/AVP 0\r\nm=audio x RTP/AVP 0\r\n"
                 "m=audio 70000 RTP/AVP 0\r\nm=\r\na=rtpmap:0 PCMU/8000\r\n"
                 "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0\r\na=rtpmap:\r\n",
                 sdp));
    ASSERT_EQ(sdp.media_count, 1u);
    EXPECT_EQ(sdp.media[0].port, 4000);
    EXPECT_EQ(sdp.media[0].codec_count, 0u);
}

TEST(SipSdpTest, LimitsOnMediaAndCodecs) {
    std::string body = "v=0\n";
    for (int i = 0; i < 10; ++i) {
        body += "m=audio " + std::to_string(1000 + i) + " RTP/AVP 0\n";
        for (int c = 0; c < 10; ++c) {
            body += "a=rtpmap:" + std::to_string(96 + c) + " C" + std::to_string(c) + "/8000\n";
        }
    }
    Sdp sdp;
    ASSERT_TRUE(parseSdp(body, sdp));
    ASSERT_EQ(sdp.media_count, Sdp::kMaxMedia);
    EXPECT_EQ(sdp.media[7].port, 1007);
    EXPECT_EQ(sdp.media[7].codec_count, SdpMedia::kMaxCodecs);
    EXPECT_EQ(sdp.media[7].codecs[7], "C7");
}

TEST(SipSdpTest, SessionLevelRtpmapIsIgnored) {
    Sdp sdp;
    ASSERT_TRUE(parseSdp("v=0\na=rtpmap:0 PCMU/8000\nm=audio 1 RTP/AVP 0\n", sdp));
    EXPECT_EQ(sdp.media[0].codec_count, 0u);
}

// ---- through the message ----

class SipMessageSdpTest : public ::testing::Test {
protected:
    bool load(std::string_view content_type, std::string_view body) {
        data_ = crlf(
                    "INVITE sip:bob@example.com SIP/2.0\n"
                    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n"
                    "From: <sip:a@example.com>;tag=1\n"
                    "To: <sip:b@example.com>\n"
                    "Call-ID: sdp@h\n"
                    "CSeq: 1 INVITE\n"
                    "Content-Type: " +
                    std::string(content_type) + "\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\n\n") +
                std::string(body);
        ParseError e = ParseError::None;
        EXPECT_EQ(parse(data_, msg_, &e), ParseStatus::Ok) << parseErrorName(e);
        return msg_.sdp(sdp_);
    }
    std::string data_;
    Message msg_;
    Sdp sdp_;
};

TEST_F(SipMessageSdpTest, ApplicationSdp) {
    ASSERT_TRUE(load("application/sdp", kOffer));
    EXPECT_EQ(sdp_.media_count, 2u);
    EXPECT_EQ(sdp_.body, msg_.body());
    ASSERT_TRUE(load("Application/SDP ; charset=utf-8", kOffer));
    EXPECT_FALSE(load("text/plain", kOffer));
    EXPECT_FALSE(load("application/sdp", ""));
}

TEST_F(SipMessageSdpTest, NoContentType) {
    data_ = crlf(
                "INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@b>\n"
                "To: <sip:c@d>\nCall-ID: x\nCSeq: 1 INVITE\n\n") +
            kOffer;
    ASSERT_EQ(parse(data_, msg_), ParseStatus::Ok);
    EXPECT_FALSE(msg_.sdp(sdp_));
}

TEST_F(SipMessageSdpTest, MultipartMixedWithSdp) {
    // RFC 5621 style: SDP plus an ISUP-like binary part; quoted boundary.
    const std::string body = crlf(
                                 "--unique-boundary-1\n"
                                 "Content-Type: application/ISUP; version=itu-t92+\n"
                                 "Content-Disposition: signal; handling=optional\n"
                                 "\n"
                                 "\x01\x05\x49\x06\x04\x03\x02\x7f\x07\n"
                                 "--unique-boundary-1\n"
                                 "Content-Type: application/sdp\n"
                                 "\n") +
                             kOffer + crlf("\n--unique-boundary-1--\n");
    ASSERT_TRUE(load("multipart/mixed;boundary=\"unique-boundary-1\"", body));
    EXPECT_EQ(sdp_.media_count, 2u);
    EXPECT_EQ(sdp_.body, kOffer);  // the part's body, without the delimiter's CRLF
    EXPECT_EQ(sdp_.media[1].codecs[0], "H264");
}

TEST_F(SipMessageSdpTest, MultipartWithPreambleAndNesting) {
    const std::string inner = crlf(
                                  "--inner\n"
                                  "Content-Type: text/plain\n"
                                  "\n"
                                  "hello\n"
                                  "--inner\n"
                                  "content-type: application/sdp\n"
                                  "\n") +
                              kOffer + crlf("\n--inner--\n");
    const std::string body = crlf(
                                 "This is the preamble.\n"
                                 "--outer\n"
                                 "Content-Type: multipart/alternative; boundary=inner\n"
                                 "\n") +
                             inner + crlf("\n--outer--\nepilogue\n");
    ASSERT_TRUE(load("multipart/mixed; boundary=outer", body));
    EXPECT_EQ(sdp_.media_count, 2u);
    EXPECT_EQ(sdp_.body, kOffer);
}

TEST_F(SipMessageSdpTest, MultipartWithoutSdpOrBoundary) {
    const std::string text_only = crlf("--b\nContent-Type: text/plain\n\nv=0 but not sdp\n--b--\n");
    EXPECT_FALSE(load("multipart/mixed;boundary=b", text_only));
    EXPECT_FALSE(load("multipart/mixed", text_only));  // no boundary parameter
    EXPECT_FALSE(load("multipart/mixed;boundary=", text_only));
    // A part without headers is text/plain (RFC 2046 §5.1), even if it looks like SDP.
    EXPECT_FALSE(load("multipart/mixed;boundary=b", crlf("--b\n\nv=0\n--b--\n")));
    // A boundary string that only appears inside a line is not a delimiter.
    EXPECT_FALSE(
        load("multipart/mixed;boundary=b", crlf("x--b\nContent-Type: application/sdp\n\nv=0\n")));
    // Unterminated last part: still usable.
    EXPECT_TRUE(load("multipart/mixed;boundary=b",
                     crlf("--b\nContent-Type: application/sdp\n\nv=0\nm=audio 1 RTP/AVP 0\n")));
    EXPECT_EQ(sdp_.media_count, 1u);
}

TEST_F(SipMessageSdpTest, MultipartDepthIsBounded) {
    // Five levels of nesting: deeper than the parser follows, so no SDP (and no recursion
    // blow-up).
    std::string body = crlf("--b4\nContent-Type: application/sdp\n\nv=0\n--b4--\n");
    for (int level = 3; level >= 0; --level) {
        const std::string b = "b" + std::to_string(level);
        const std::string inner_b = "b" + std::to_string(level + 1);
        body = crlf("--" + b + "\nContent-Type: multipart/mixed;boundary=" + inner_b + "\n\n") +
               body + crlf("--" + b + "--\n");
    }
    EXPECT_FALSE(load("multipart/mixed;boundary=b0", body));
}

}  // namespace
}  // namespace sipbeat::sip
