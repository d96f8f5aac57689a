// SPDX-License-Identifier: Apache-2.0
// Via values (RFC 3261 §20.42, RFC 3581) and Digest credentials/challenges (RFC 3261 §22.4,
// RFC 2617).
#include <array>
#include <string>

#include <gtest/gtest.h>

#include "beat/sip/message.h"
#include "unit/sip/sip_test_util.h"

namespace sipbeat::sip {
namespace {

class SipViaAuthTest : public ::testing::Test {
protected:
    void load(std::string_view start, std::string_view headers) {
        data_ = test::crlf(std::string(start) + "\n" +
                           "From: <sip:a@example.com>;tag=1\n"
                           "To: <sip:b@example.com>\n"
                           "Call-ID: via-auth@h\n" +
                           std::string(headers) + "Content-Length: 0\n\n");
        ParseError e = ParseError::None;
        ASSERT_EQ(parse(data_, msg_, &e), ParseStatus::Ok) << parseErrorName(e);
    }
    void request(std::string_view headers) {
        load("REGISTER sip:example.com SIP/2.0",
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\nCSeq: 1 REGISTER\n" +
                 std::string(headers));
    }
    void response(std::string_view headers) {
        load("SIP/2.0 401 Unauthorized",
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\nCSeq: 1 REGISTER\n" +
                 std::string(headers));
    }
    std::string data_;
    Message msg_;
    std::array<Via, 8> v_{};
};

TEST_F(SipViaAuthTest, ViaFields) {
    load("SIP/2.0 200 OK",
         "Via: SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;"
         "received=192.0.2.101;rport=5067\n"
         "CSeq: 1 INVITE\n");
    ASSERT_EQ(msg_.vias(v_), 1u);
    EXPECT_EQ(v_[0].original,
              "SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.101;"
              "rport=5067");
    EXPECT_EQ(v_[0].protocol, "SIP/2.0/UDP");
    EXPECT_EQ(v_[0].transport, "UDP");
    EXPECT_EQ(v_[0].host, "pc33.atlanta.com");
    EXPECT_EQ(v_[0].port, 5066);
    EXPECT_EQ(v_[0].branch, "z9hG4bK776asdhds");
    EXPECT_EQ(v_[0].received, "192.0.2.101");
    EXPECT_TRUE(v_[0].has_rport);
    EXPECT_EQ(v_[0].rport, "5067");
}

TEST_F(SipViaAuthTest, ViaRportFlagAndParamCase) {
    request("");
    data_.clear();
    load("OPTIONS sip:a@b SIP/2.0",
         "Via: SIP/2.0/TCP client.example.com;rport;BRANCH=z9hG4bKx;Received=[2001:db8::5]\n"
         "CSeq: 2 OPTIONS\n");
    ASSERT_EQ(msg_.vias(v_), 1u);
    EXPECT_TRUE(v_[0].has_rport);
    EXPECT_EQ(v_[0].rport, "");
    EXPECT_EQ(v_[0].branch, "z9hG4bKx");
    EXPECT_EQ(v_[0].received, "[2001:db8::5]");
    EXPECT_EQ(v_[0].port, 0);
}

TEST_F(SipViaAuthTest, ViaIpv6SentByAndLws) {
    load("OPTIONS sip:a@b SIP/2.0",
         "Via: SIP / 2.0 / TLS [2001:db8::1] : 5061 ; branch = z9hG4bK9 , "
         "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKw\n"
         "v: SIP/2.0/UDP 10.0.0.1:5060\n"
         "CSeq: 2 OPTIONS\n");
    ASSERT_EQ(msg_.vias(v_), 3u);
    EXPECT_EQ(v_[0].protocol, "SIP / 2.0 / TLS");
    EXPECT_EQ(v_[0].transport, "TLS");
    EXPECT_EQ(v_[0].host, "[2001:db8::1]");
    EXPECT_EQ(v_[0].port, 5061);
    EXPECT_EQ(v_[0].branch, "z9hG4bK9");
    EXPECT_EQ(v_[1].transport, "WSS");
    EXPECT_EQ(v_[1].host, "df7jal23ls0d.invalid");
    EXPECT_EQ(v_[2].host, "10.0.0.1");
    EXPECT_EQ(v_[2].port, 5060);
    EXPECT_EQ(v_[2].branch, "");
    EXPECT_FALSE(v_[2].has_rport);
}

TEST_F(SipViaAuthTest, BrokenViaValuesAreSkipped) {
    load("OPTIONS sip:a@b SIP/2.0",
         "Via: SIP/2.0 h1, SIP/2.0/UDP, SIP/2.0/UDP h2:99999, SIP/2.0/UDP h3 junk, "
         "SIP/2.0/UDP [::1, SIP/2.0/UDP ok.example.com\n"
         "CSeq: 2 OPTIONS\n");
    ASSERT_EQ(msg_.vias(v_), 1u);
    EXPECT_EQ(v_[0].host, "ok.example.com");
}

TEST_F(SipViaAuthTest, ViasStopAtTheSpanSize) {
    load("OPTIONS sip:a@b SIP/2.0",
         "Via: SIP/2.0/UDP h1, SIP/2.0/UDP h2\nVia: SIP/2.0/UDP h3\nCSeq: 2 OPTIONS\n");
    std::array<Via, 2> two;
    ASSERT_EQ(msg_.vias(two), 2u);
    EXPECT_EQ(two[1].host, "h2");
    ASSERT_EQ(msg_.vias(v_), 3u);
    EXPECT_EQ(v_[2].host, "h3");
}

TEST_F(SipViaAuthTest, DigestCredentials) {
    request(
        "Authorization: Digest username=\"bob\", realm=\"biloxi.com\",\n"
        "  nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:bob@biloxi.com\",\n"
        "  qop=auth, nc=00000001, cnonce=\"0a4f113b\", algorithm=MD5,\n"
        "  response=\"6629fae49393a05397450978507c4ef1\",\n"
        "  opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\n");
    Credentials c;
    ASSERT_TRUE(msg_.credentials(c));
    EXPECT_EQ(c.scheme, "Digest");
    EXPECT_EQ(c.username, "bob");
    EXPECT_EQ(c.realm, "biloxi.com");
    EXPECT_EQ(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    EXPECT_EQ(c.uri, "sip:bob@biloxi.com");
    EXPECT_EQ(c.response, "6629fae49393a05397450978507c4ef1");
    EXPECT_EQ(c.algorithm, "MD5");
    EXPECT_EQ(c.cnonce, "0a4f113b");
    EXPECT_EQ(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    EXPECT_EQ(c.qop, "auth");
    EXPECT_EQ(c.nc, "00000001");
}

TEST_F(SipViaAuthTest, CredentialsParamNamesAreCaseInsensitiveAndLwsTolerant) {
    request("Authorization: Digest USERNAME = \"a,b\" ,Realm=r , uri = \"sip:x@y\"\n");
    Credentials c;
    ASSERT_TRUE(msg_.credentials(c));
    EXPECT_EQ(c.username, "a,b");  // comma inside the quoted value
    EXPECT_EQ(c.realm, "r");
    EXPECT_EQ(c.uri, "sip:x@y");
    EXPECT_EQ(c.nonce, "");
}

TEST_F(SipViaAuthTest, ProxyAuthorizationIsTheFallback) {
    request("Proxy-Authorization: Digest username=\"proxyuser\", realm=\"atlanta.com\"\n");
    Credentials c;
    ASSERT_TRUE(msg_.credentials(c));
    EXPECT_EQ(c.username, "proxyuser");
    request("Proxy-Authorization: Digest username=\"p\"\nAuthorization: Digest username=\"u\"\n");
    ASSERT_TRUE(msg_.credentials(c));
    EXPECT_EQ(c.username, "u");  // Authorization wins
}

TEST_F(SipViaAuthTest, NoOrBrokenCredentials) {
    request("");
    Credentials c;
    EXPECT_FALSE(msg_.credentials(c));
    request("Authorization: \"quoted\" x=y\n");
    EXPECT_FALSE(msg_.credentials(c));
    request("Authorization: Digest\n");
    ASSERT_TRUE(msg_.credentials(c));
    EXPECT_EQ(c.scheme, "Digest");
    EXPECT_EQ(c.username, "");
}

TEST_F(SipViaAuthTest, DigestChallenge) {
    response(
        "WWW-Authenticate: Digest realm=\"atlanta.com\",\n"
        " domain=\"sip:boxesbybob.com\", qop=\"auth,auth-int\",\n"
        " nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5\n");
    Challenge c;
    ASSERT_TRUE(msg_.challenge(c));
    EXPECT_EQ(c.scheme, "Digest");
    EXPECT_EQ(c.realm, "atlanta.com");
    EXPECT_EQ(c.domain, "sip:boxesbybob.com");
    EXPECT_EQ(c.qop, "auth,auth-int");
    EXPECT_EQ(c.nonce, "f84f1cec41e6cbe5aea9c8e88d359");
    EXPECT_EQ(c.opaque, "");
    EXPECT_EQ(c.stale, "FALSE");
    EXPECT_EQ(c.algorithm, "MD5");
}

TEST_F(SipViaAuthTest, ProxyAuthenticateIsTheFallback) {
    response("Proxy-Authenticate: Digest realm=\"proxy.example\", nonce=abc\n");
    Challenge c;
    ASSERT_TRUE(msg_.challenge(c));
    EXPECT_EQ(c.realm, "proxy.example");
    EXPECT_EQ(c.nonce, "abc");
    response("");
    EXPECT_FALSE(msg_.challenge(c));
}

}  // namespace
}  // namespace sipbeat::sip
