// SPDX-License-Identifier: Apache-2.0
// SIP/SIPS/TEL URIs (RFC 3261 §19.1, RFC 3966).
#include <gtest/gtest.h>

#include "beat/sip/message.h"

namespace sipbeat::sip {
namespace {

TEST(SipUriTest, FullSipUri) {
    Uri u;
    ASSERT_TRUE(
        parseUri("sip:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=x&p=y", u));
    EXPECT_EQ(u.original, "sip:alice:secretword@atlanta.com:5061;transport=tcp;lr?subject=x&p=y");
    EXPECT_EQ(u.scheme, "sip");
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "secretword");
    EXPECT_EQ(u.host, "atlanta.com");
    EXPECT_TRUE(u.has_port);
    EXPECT_EQ(u.port, 5061);
    EXPECT_EQ(u.params, "transport=tcp;lr");
    EXPECT_EQ(u.headers, "subject=x&p=y");
}

TEST(SipUriTest, HostOnly) {
    Uri u;
    ASSERT_TRUE(parseUri("sip:registrar.biloxi.com", u));
    EXPECT_EQ(u.user, "");
    EXPECT_EQ(u.host, "registrar.biloxi.com");
    EXPECT_FALSE(u.has_port);
    EXPECT_EQ(u.port, 0);
    EXPECT_EQ(u.params, "");
    EXPECT_EQ(u.headers, "");
}

TEST(SipUriTest, SchemeIsCaseInsensitiveAndKeptAsWritten) {
    Uri u;
    ASSERT_TRUE(parseUri("SIPS:Bob@Biloxi.COM", u));
    EXPECT_EQ(u.scheme, "SIPS");
    EXPECT_EQ(u.user, "Bob");
    EXPECT_EQ(u.host, "Biloxi.COM");
}

TEST(SipUriTest, Ipv6References) {
    Uri u;
    ASSERT_TRUE(parseUri("sip:bob@[2001:db8::10]:5070;transport=udp", u));
    EXPECT_EQ(u.host, "[2001:db8::10]");
    EXPECT_EQ(u.port, 5070);
    EXPECT_EQ(u.params, "transport=udp");
    ASSERT_TRUE(parseUri("sip:[::ffff:192.0.2.1]", u));
    EXPECT_EQ(u.host, "[::ffff:192.0.2.1]");
    EXPECT_FALSE(u.has_port);
    ASSERT_TRUE(parseUri("sips:[2001:DB8::1];maddr=x", u));
    EXPECT_EQ(u.host, "[2001:DB8::1]");
    EXPECT_EQ(u.params, "maddr=x");
    EXPECT_FALSE(parseUri("sip:bob@[2001:db8::10", u));  // unterminated
    EXPECT_FALSE(parseUri("sip:bob@[]", u));
    EXPECT_FALSE(parseUri("sip:bob@[2001:zz::1]", u));
    EXPECT_FALSE(parseUri("sip:bob@[::1]junk", u));
}

TEST(SipUriTest, Params) {
    Uri u;
    ASSERT_TRUE(parseUri("sip:a@b;transport=TCP;lr;Maddr=239.255.255.1;ttl=15", u));
    std::string_view v = "unchanged";
    EXPECT_TRUE(u.param("transport", v));
    EXPECT_EQ(v, "TCP");
    EXPECT_TRUE(u.param("lr", v));  // flag parameter
    EXPECT_EQ(v, "");
    EXPECT_TRUE(u.param("maddr", v));  // case-insensitive name
    EXPECT_EQ(v, "239.255.255.1");
    v = "unchanged";
    EXPECT_FALSE(u.param("user", v));
    EXPECT_EQ(v, "unchanged");
    EXPECT_FALSE(u.param("t", v));  // no prefix match
}

TEST(SipUriTest, TelUri) {
    // RFC 3966: the number is the user part; there is no host.
    Uri u;
    ASSERT_TRUE(parseUri("tel:+1-201-555-0123;ext=1234;phone-context=example.com", u));
    EXPECT_EQ(u.scheme, "tel");
    EXPECT_EQ(u.user, "+1-201-555-0123");
    EXPECT_EQ(u.host, "");
    EXPECT_EQ(u.params, "ext=1234;phone-context=example.com");
    std::string_view v;
    EXPECT_TRUE(u.param("ext", v));
    EXPECT_EQ(v, "1234");
    ASSERT_TRUE(parseUri("tel:911", u));
    EXPECT_EQ(u.user, "911");
    EXPECT_FALSE(parseUri("tel:", u));
}

TEST(SipUriTest, OtherSchemesAreNotParsed) {
    Uri u;
    EXPECT_FALSE(parseUri("mailto:bob@example.com", u));
    EXPECT_EQ(u.scheme, "mailto");
    EXPECT_EQ(u.original, "mailto:bob@example.com");
    EXPECT_FALSE(parseUri("urn:service:sos", u));
    EXPECT_EQ(u.scheme, "urn");
}

TEST(SipUriTest, Malformed) {
    Uri u;
    EXPECT_FALSE(parseUri("", u));
    EXPECT_FALSE(parseUri("sip", u));
    EXPECT_FALSE(parseUri(":bob@host", u));
    EXPECT_FALSE(parseUri("sip:", u));
    EXPECT_FALSE(parseUri("sip:@host", u));
    EXPECT_FALSE(parseUri("sip:bob@", u));
    EXPECT_FALSE(parseUri("sip:bob@host:", u));
    EXPECT_FALSE(parseUri("sip:bob@host:70000", u));
    EXPECT_FALSE(parseUri("sip:bob@host:50a", u));
    EXPECT_FALSE(parseUri("sip:bob@ho st", u));
    EXPECT_FALSE(parseUri("sip:bob@host>", u));
    EXPECT_FALSE(parseUri("sip:bob@exa\x01mple.com", u));
}

TEST(SipUriTest, SurroundingWhitespaceIsIgnored) {
    Uri u;
    ASSERT_TRUE(parseUri("  sip:bob@example.com\r\n ", u));
    EXPECT_EQ(u.original, "sip:bob@example.com");
}

TEST(SipUriTest, PortLimits) {
    Uri u;
    ASSERT_TRUE(parseUri("sip:h:65535", u));
    EXPECT_EQ(u.port, 65535);
    ASSERT_TRUE(parseUri("sip:h:0", u));
    EXPECT_TRUE(u.has_port);
    EXPECT_EQ(u.port, 0);
    EXPECT_FALSE(parseUri("sip:h:65536", u));
    EXPECT_FALSE(parseUri("sip:h:99999999999999999999999", u));
}

}  // namespace
}  // namespace sipbeat::sip
