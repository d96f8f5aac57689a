// SPDX-License-Identifier: Apache-2.0
// name-addr / addr-spec (From, To, Contact, P-Asserted-Identity) and Contact lists.
#include <array>
#include <string>

#include <gtest/gtest.h>

#include "beat/sip/message.h"
#include "unit/sip/sip_test_util.h"

namespace sipbeat::sip {
namespace {

TEST(SipNameAddrTest, QuotedDisplayName) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr(R"("Alice \"Al\" Smith" <sip:alice@atlanta.com>;tag=88sja8x)", na));
    EXPECT_EQ(na.display, R"(Alice \"Al\" Smith)");  // quotes removed, escapes kept
    EXPECT_EQ(na.uri.original, "sip:alice@atlanta.com");
    EXPECT_EQ(na.uri.user, "alice");
    EXPECT_EQ(na.params, "tag=88sja8x");
    EXPECT_EQ(na.tag, "88sja8x");
}

TEST(SipNameAddrTest, QuotedDisplayNameWithSpecialCharacters) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr(R"("a <b>, c;d" <sip:x@y>)", na));
    EXPECT_EQ(na.display, "a <b>, c;d");
    EXPECT_EQ(na.uri.host, "y");
    ASSERT_TRUE(parseNameAddr(R"("" <sip:x@y>)", na));
    EXPECT_EQ(na.display, "");
}

TEST(SipNameAddrTest, TokenDisplayName) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("Bob Smith <sip:bob@biloxi.com>", na));
    EXPECT_EQ(na.display, "Bob Smith");
    EXPECT_EQ(na.uri.host, "biloxi.com");
    EXPECT_EQ(na.params, "");
    EXPECT_EQ(na.tag, "");
}

TEST(SipNameAddrTest, NoDisplayName) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("<sips:bob@biloxi.com:5061;transport=tls>;tag=a6c85cf", na));
    EXPECT_EQ(na.display, "");
    EXPECT_EQ(na.uri.scheme, "sips");
    EXPECT_EQ(na.uri.port, 5061);
    EXPECT_EQ(na.uri.params, "transport=tls");
    EXPECT_EQ(na.tag, "a6c85cf");
}

TEST(SipNameAddrTest, AddrSpecParamsBelongToTheHeader) {
    // RFC 3261 §20.10: without <>, everything after ';' is a header parameter.
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("sip:+12125551212@server.phone2net.com;tag=887s", na));
    EXPECT_EQ(na.uri.original, "sip:+12125551212@server.phone2net.com");
    EXPECT_EQ(na.uri.params, "");
    EXPECT_EQ(na.tag, "887s");
}

TEST(SipNameAddrTest, TelUri) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("<tel:+15551234567;phone-context=x>;tag=1", na));
    EXPECT_EQ(na.uri.scheme, "tel");
    EXPECT_EQ(na.uri.user, "+15551234567");
    EXPECT_EQ(na.tag, "1");
}

TEST(SipNameAddrTest, ParamsWithLwsAndQuotedValues) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("<sip:a@b> ;\r\n tag = x1 ; foo=\"bar;baz\" ;Flag", na));
    EXPECT_EQ(na.tag, "x1");
    std::string_view v;
    ASSERT_TRUE(na.param("foo", v));
    EXPECT_EQ(v, "bar;baz");
    ASSERT_TRUE(na.param("flag", v));
    EXPECT_EQ(v, "");
    EXPECT_FALSE(na.param("missing", v));
}

TEST(SipNameAddrTest, Ipv6InNameAddr) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("\"v6\" <sip:alice@[2001:db8::1]:5060>;tag=9", na));
    EXPECT_EQ(na.uri.host, "[2001:db8::1]");
    EXPECT_EQ(na.uri.port, 5060);
    EXPECT_EQ(na.tag, "9");
}

TEST(SipNameAddrTest, Malformed) {
    NameAddr na;
    EXPECT_FALSE(parseNameAddr("", na));
    EXPECT_FALSE(parseNameAddr("   ", na));
    EXPECT_FALSE(parseNameAddr("\"unterminated <sip:a@b>", na));
    EXPECT_FALSE(parseNameAddr("\"quoted\" sip:a@b", na));  // quoted display needs <>
    EXPECT_FALSE(parseNameAddr("<sip:a@b", na));
    EXPECT_FALSE(parseNameAddr("<sip:a@b> junk", na));
    EXPECT_FALSE(parseNameAddr("<>", na));
    EXPECT_FALSE(parseNameAddr("<sip:a@b:badport>", na));
    EXPECT_FALSE(parseNameAddr("no uri here", na));
}

// ---- From/To/Contact as message accessors ----

class SipHeaderValuesTest : public ::testing::Test {
protected:
    void load(std::string_view extra) {
        data_ = test::crlf(
            "REGISTER sip:registrar.example.com SIP/2.0\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds7\n"
            "From: \"From Name\" <sip:from-user@from.example.com>;tag=from-tag\n"
            "To: \"To Name\" <sip:to-user@to.example.com>;tag=to-tag\n"
            "Call-ID: values@192.0.2.1\n"
            "CSeq: 1 REGISTER\n" +
            std::string(extra) + "Content-Length: 0\n\n");
        ParseError e = ParseError::None;
        ASSERT_EQ(parse(data_, msg_, &e), ParseStatus::Ok) << parseErrorName(e);
    }
    std::string data_;
    Message msg_;
    std::array<Contact, 8> c_{};
};

// Packetbeat filled sip.contact.* from the To header; each accessor must read its own header.
TEST_F(SipHeaderValuesTest, FromToAndContactAreDistinct) {
    load("Contact: \"Contact Name\" <sip:contact-user@contact.example.com:5070>;expires=60\n");
    NameAddr from;
    NameAddr to;
    ASSERT_TRUE(msg_.from(from));
    ASSERT_TRUE(msg_.to(to));
    ASSERT_EQ(msg_.contacts(c_), 1u);
    EXPECT_EQ(from.display, "From Name");
    EXPECT_EQ(from.uri.user, "from-user");
    EXPECT_EQ(from.uri.host, "from.example.com");
    EXPECT_EQ(from.tag, "from-tag");
    EXPECT_EQ(to.display, "To Name");
    EXPECT_EQ(to.uri.user, "to-user");
    EXPECT_EQ(to.uri.host, "to.example.com");
    EXPECT_EQ(to.tag, "to-tag");
    EXPECT_EQ(c_[0].addr.display, "Contact Name");
    EXPECT_EQ(c_[0].addr.uri.user, "contact-user");
    EXPECT_EQ(c_[0].addr.uri.host, "contact.example.com");
    EXPECT_EQ(c_[0].addr.uri.port, 5070);
    EXPECT_EQ(c_[0].addr.tag, "");
    EXPECT_EQ(c_[0].expires, 60);
}

TEST_F(SipHeaderValuesTest, NoContact) {
    load("");
    EXPECT_EQ(msg_.contacts(c_), 0u);
}

TEST_F(SipHeaderValuesTest, ContactStar) {
    // RFC 3261 §10.2.2: "Contact: *" with "Expires: 0" removes all bindings.
    load("Contact: *\nExpires: 0\n");
    ASSERT_EQ(msg_.contacts(c_), 1u);
    EXPECT_TRUE(c_[0].star);
    EXPECT_EQ(c_[0].expires, -1);
    EXPECT_EQ(msg_.expires(), 0);
}

TEST_F(SipHeaderValuesTest, ContactExpiresAndQ) {
    load(
        "Contact: <sip:a@h1>;q=0.7;expires=3600, <sip:b@h2>;q=1.0\n"
        "m: <sip:c@h3>;q=1, <sip:d@h4>;q=0, <sip:e@h5>;q=2;expires=x\n"
        "Contact: <sip:f@h6>;q=0.1234;expires=99999999999999\n");
    ASSERT_EQ(msg_.contacts(c_), 6u);
    EXPECT_DOUBLE_EQ(c_[0].q, 0.7);
    EXPECT_EQ(c_[0].expires, 3600);
    EXPECT_DOUBLE_EQ(c_[1].q, 1.0);
    EXPECT_EQ(c_[1].expires, -1);
    EXPECT_DOUBLE_EQ(c_[2].q, 1.0);
    EXPECT_DOUBLE_EQ(c_[3].q, 0.0);
    EXPECT_EQ(c_[4].q, -1);        // out of range
    EXPECT_EQ(c_[4].expires, -1);  // not a number
    EXPECT_EQ(c_[5].q, -1);        // more than 3 decimals
    EXPECT_EQ(c_[5].expires, 4294967295);
    EXPECT_EQ(c_[5].addr.uri.user, "f");
}

TEST_F(SipHeaderValuesTest, ContactsStopAtTheSpanSize) {
    load("Contact: <sip:a@h1>, <sip:b@h2>\nContact: <sip:c@h3>\n");
    std::array<Contact, 2> two;
    ASSERT_EQ(msg_.contacts(two), 2u);
    EXPECT_EQ(two[1].addr.uri.user, "b");
    EXPECT_EQ(msg_.contacts(std::span<Contact>()), 0u);
}

TEST_F(SipHeaderValuesTest, BrokenContactValuesAreSkipped) {
    load("Contact: <sip:a@h1>junk, <sip:b@h2>, \"x\" sip:c@h3, <sip:d@h4>\n");
    ASSERT_EQ(msg_.contacts(c_), 2u);
    EXPECT_EQ(c_[0].addr.uri.user, "b");
    EXPECT_EQ(c_[1].addr.uri.user, "d");
}

TEST_F(SipHeaderValuesTest, PAssertedIdentity) {
    load(
        "P-Asserted-Identity: \"Cullen Jennings\" <sip:fluffy@cisco.com>\n"
        "P-Asserted-Identity: tel:+14085264000\n");
    const Header* h = msg_.first(HeaderType::PAssertedIdentity);
    ASSERT_NE(h, nullptr);
    NameAddr na;
    ASSERT_TRUE(parseNameAddr(h->value, na));
    EXPECT_EQ(na.display, "Cullen Jennings");
    EXPECT_EQ(na.uri.user, "fluffy");
}

TEST_F(SipHeaderValuesTest, MissingFromOrToInLaxMode) {
    const std::string text = test::crlf("OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nCSeq: 1 OPTIONS\n\n");
    ParseOptions lax;
    lax.require_mandatory = false;
    ASSERT_EQ(parse(text, msg_, nullptr, lax), ParseStatus::Ok);
    NameAddr na;
    EXPECT_FALSE(msg_.from(na));
    EXPECT_FALSE(msg_.to(na));
}

}  // namespace
}  // namespace sipbeat::sip

namespace sipbeat::sip {
namespace {

// suricata-verify's sip-compact-form capture has `f: \"arik\" <sip:…>;tag=…`: the URI in
// brackets is unambiguous, so the header is read with the display name as written.
TEST(SipNameAddrTolerance, EscapedQuotesOutsideAQuotedString) {
    NameAddr na;
    ASSERT_TRUE(parseNameAddr("\\\"arik\\\" <sip:816666@voip.brurjula.net>;tag=6433ef9", na));
    EXPECT_EQ(na.display, "\\\"arik\\\"");
    EXPECT_EQ(na.uri.user, "816666");
    EXPECT_EQ(na.tag, "6433ef9");
}

}  // namespace
}  // namespace sipbeat::sip
