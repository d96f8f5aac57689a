// SPDX-License-Identifier: Apache-2.0
#include "beat/processors/condition.h"

#include <gtest/gtest.h>

#include "beat/config/node.h"
#include "beat/event/document.h"
#include "beat/processors/field_source.h"

namespace sipbeat::processors {
namespace {

ConditionPtr compileOk(const std::string& yaml) {
    const config::Node node = config::parseYaml(yaml, "cond.yml");
    core::Result<ConditionPtr> c = compileCondition(node, "when");
    EXPECT_TRUE(c.isOk()) << yaml << ": " << c.status().message();
    return c ? std::move(*c) : nullptr;
}

std::string compileError(const std::string& yaml, const std::string& path = "when") {
    const config::Node node = config::parseYaml(yaml, "cond.yml");
    core::Result<ConditionPtr> c = compileCondition(node, path);
    EXPECT_FALSE(c.isOk()) << yaml;
    return c ? std::string() : c.status().message();
}

/// A SIP message event, as a Document.
class ConditionTest : public ::testing::Test {
protected:
    void SetUp() override {
        doc_.setString("type", "sip");
        doc_.setString("sip.method", "INVITE");
        doc_.setInt("sip.status", 200);
        doc_.setUint("sip.size", 1500);
        doc_.setDouble("event.duration_s", 2.5);
        doc_.setBool("sip.retransmission", false);
        doc_.setString("source.ip", "192.168.1.10");
        doc_.setString("destination.ip", "8.8.8.8");
        doc_.setString("sip.from.uri", "sip:alice@example.com");
        doc_.setStringList("related.ip", {"10.0.0.1", "2001:db8::1"});
        doc_.setStringList("tags", {"forwarded", "lab"});
        doc_.setString("sip.user_agent", "Asterisk PBX 18.1");
    }

    bool check(const std::string& yaml) {
        ConditionPtr c = compileOk(yaml);
        if (!c) {
            return false;
        }
        const DocumentFieldSource src(doc_);
        return c->check(src);
    }

    event::Document doc_;
};

TEST_F(ConditionTest, EqualsStringsIntsAndBools) {
    EXPECT_TRUE(check("equals: {sip.method: INVITE}"));
    EXPECT_FALSE(check("equals: {sip.method: invite}"));
    EXPECT_TRUE(check("equals:\n  sip:\n    method: INVITE\n"));  // nested spelling
    EXPECT_TRUE(check("equals: {sip.status: 200}"));
    EXPECT_FALSE(check("equals: {sip.status: 404}"));
    EXPECT_TRUE(check("equals: {sip.size: 1500}"));
    // Beats compares types: a quoted "200" is a string and an int field never equals it.
    EXPECT_FALSE(check("equals: {sip.status: \"200\"}"));
    EXPECT_FALSE(check("equals: {sip.method: 200}"));
    EXPECT_TRUE(check("equals: {sip.retransmission: false}"));
    EXPECT_FALSE(check("equals: {sip.retransmission: true}"));
    EXPECT_FALSE(check("equals: {sip.retransmission: \"false\"}"));
    EXPECT_FALSE(check("equals: {missing.field: x}"));
    // Several fields are ANDed.
    EXPECT_TRUE(check("equals: {sip.method: INVITE, sip.status: 200}"));
    EXPECT_FALSE(check("equals: {sip.method: INVITE, sip.status: 404}"));
    // A list field is not a string.
    EXPECT_FALSE(check("equals: {tags: forwarded}"));
}

TEST_F(ConditionTest, EqualsNegativeIntsAndLeadingZeros) {
    doc_.setInt("n", -5);
    doc_.setString("code", "007");
    EXPECT_TRUE(check("equals: {n: -5}"));
    EXPECT_FALSE(check("equals: {n: 5}"));
    EXPECT_TRUE(check("equals: {code: 007}"));  // a leading zero keeps it a string
}

TEST_F(ConditionTest, ContainsOnStringsAndLists) {
    EXPECT_TRUE(check("contains: {sip.user_agent: Asterisk}"));
    EXPECT_TRUE(check("contains: {sip.user_agent: \"PBX 18\"}"));
    EXPECT_FALSE(check("contains: {sip.user_agent: asterisk}"));
    EXPECT_TRUE(check("contains: {tags: forward}"));  // any element of a list
    EXPECT_FALSE(check("contains: {tags: other}"));
    EXPECT_FALSE(check("contains: {sip.status: \"20\"}"));  // not a string field
    EXPECT_FALSE(check("contains: {nope: x}"));
    EXPECT_TRUE(check("contains: {sip.method: INV, sip.user_agent: PBX}"));
    EXPECT_FALSE(check("contains: {sip.method: INV, sip.user_agent: Kamailio}"));
    // Regexp metacharacters are plain text to contains.
    doc_.setString("p", "a.b*c");
    EXPECT_TRUE(check("contains: {p: \"b*c\"}"));
    EXPECT_FALSE(check("contains: {p: \"a?b\"}"));
}

TEST_F(ConditionTest, RegexpSearchesAnywhere) {
    EXPECT_TRUE(check("regexp: {sip.method: \"^INV\"}"));
    EXPECT_TRUE(check("regexp: {sip.method: \"VIT\"}"));
    EXPECT_FALSE(check("regexp: {sip.method: \"^VIT\"}"));
    EXPECT_TRUE(check("regexp: {sip.method: \"TE$\"}"));
    EXPECT_TRUE(check("regexp: {sip.from.uri: \"^sip:[a-z]+@example\\\\.com$\"}"));
    EXPECT_FALSE(check("regexp: {sip.from.uri: \"^sips:\"}"));
    EXPECT_TRUE(check("regexp: {tags: \"^lab$\"}"));
    EXPECT_FALSE(check("regexp: {sip.status: \"200\"}"));
    // RE2 syntax: flags, named groups, \A \z, \Q…\E, a leading ] in a class.
    EXPECT_TRUE(check("regexp: {sip.method: \"(?i)^invite$\"}"));
    EXPECT_TRUE(check("regexp: {sip.from.uri: \"(?P<scheme>sip):(?:alice)\"}"));
    EXPECT_TRUE(check("regexp: {sip.method: \"\\\\AINVITE\\\\z\"}"));
    EXPECT_TRUE(check("regexp: {sip.user_agent: \"\\\\QPBX 18.1\\\\E\"}"));
    EXPECT_FALSE(check("regexp: {sip.user_agent: \"\\\\QPBX 1.\\\\E\"}"));
    doc_.setString("br", "x]y");
    EXPECT_TRUE(check("regexp: {br: \"[]]\"}"));
    EXPECT_TRUE(check("regexp: {br: \"[[:alpha:]][]]\"}"));
    doc_.setString("ml", "first\nsecond");
    EXPECT_FALSE(check("regexp: {ml: \"^second\"}"));
    EXPECT_TRUE(check("regexp: {ml: \"(?m)^second\"}"));
    EXPECT_FALSE(check("regexp: {ml: \"first.second\"}"));
    EXPECT_TRUE(check("regexp: {ml: \"(?s)first.second\"}"));
}

TEST_F(ConditionTest, RegexpIsLinearOnHostileInput) {
    doc_.setString("long", std::string(100000, 'a'));
    // Exponential for a backtracking engine; RE2 (and the executor used here) is linear.
    EXPECT_FALSE(check("regexp: {long: \"(a+)+b\"}"));
    EXPECT_TRUE(check("regexp: {long: \"a$\"}"));
}

TEST_F(ConditionTest, RangeNestedAndFlattened) {
    EXPECT_TRUE(check("range: {sip.status: {gte: 200, lt: 300}}"));
    EXPECT_TRUE(check("range: {sip.status.gte: 200, sip.status.lt: 300}"));
    EXPECT_FALSE(check("range: {sip.status.gte: 400}"));
    EXPECT_FALSE(check("range: {sip.status: {gt: 200}}"));
    EXPECT_TRUE(check("range: {sip.status: {lte: 200}}"));
    EXPECT_FALSE(check("range: {sip.status: {lt: 200}}"));
    EXPECT_TRUE(check("range: {event.duration_s: {gt: 2, lt: 3.0}}"));
    EXPECT_TRUE(check("range: {sip.size: {gte: 1000}}"));
    EXPECT_TRUE(check("range: {sip.status.gte: 200, sip.size.lt: 1501}"));
    EXPECT_FALSE(check("range: {sip.status.gte: 200, sip.size.lt: 1500}"));
    EXPECT_FALSE(check("range: {sip.method.gte: 1}"));  // not a number
    EXPECT_FALSE(check("range: {missing.gte: 1}"));
    EXPECT_TRUE(check("range: {sip.status.gte: \"199.5\"}"));  // numeric strings, as Beats
}

TEST_F(ConditionTest, NetworkCidrsAndNames) {
    EXPECT_TRUE(check("network: {source.ip: 192.168.1.0/24}"));
    EXPECT_FALSE(check("network: {source.ip: 192.168.2.0/24}"));
    EXPECT_TRUE(check("network: {source.ip: private}"));
    EXPECT_FALSE(check("network: {source.ip: public}"));
    EXPECT_TRUE(check("network: {destination.ip: public}"));
    EXPECT_TRUE(check("network: {destination.ip: unicast}"));
    EXPECT_TRUE(check("network: {destination.ip: [loopback, 8.8.0.0/16]}"));
    EXPECT_FALSE(check("network: {destination.ip: [loopback, private]}"));
    EXPECT_TRUE(check("network: {source.ip: private, destination.ip: public}"));
    EXPECT_FALSE(check("network: {source.ip: private, destination.ip: private}"));
    // An array field matches when any address does; IPv6 too.
    EXPECT_TRUE(check("network: {related.ip: \"2001:db8::/32\"}"));
    EXPECT_TRUE(check("network: {related.ip: 10.0.0.0/8}"));
    EXPECT_FALSE(check("network: {related.ip: loopback}"));
    EXPECT_FALSE(check("network: {sip.method: public}"));  // not an address
    EXPECT_FALSE(check("network: {sip.status: public}"));
    EXPECT_FALSE(check("network: {missing: public}"));
}

struct NamedCase {
    const char* ip;
    const char* network;
    bool match;
};

class NamedNetworkTest : public ::testing::TestWithParam<NamedCase> {};

TEST_P(NamedNetworkTest, MatchesGoNetSemantics) {
    const NamedCase& c = GetParam();
    event::Document doc;
    doc.setString("ip", c.ip);
    ConditionPtr cond = compileOk(std::string("network: {ip: \"") + c.network + "\"}");
    ASSERT_NE(cond, nullptr);
    EXPECT_EQ(cond->check(DocumentFieldSource(doc)), c.match) << c.ip << " " << c.network;
}

INSTANTIATE_TEST_SUITE_P(
    Names, NamedNetworkTest,
    ::testing::Values(
        NamedCase{"127.0.0.1", "loopback", true}, NamedCase{"::1", "loopback", true},
        NamedCase{"128.0.0.1", "loopback", false}, NamedCase{"10.1.2.3", "private", true},
        NamedCase{"172.16.0.1", "private", true}, NamedCase{"172.32.0.1", "private", false},
        NamedCase{"192.168.0.1", "private", true}, NamedCase{"fd12::1", "private", true},
        NamedCase{"fc00::1", "private", false}, NamedCase{"8.8.8.8", "public", true},
        NamedCase{"2001:4860::8888", "public", true}, NamedCase{"10.0.0.1", "public", false},
        NamedCase{"169.254.1.1", "public", false}, NamedCase{"255.255.255.255", "public", false},
        NamedCase{"0.0.0.0", "unspecified", true}, NamedCase{"::", "unspecified", true},
        NamedCase{"0.0.0.1", "unspecified", false}, NamedCase{"224.0.0.251", "multicast", true},
        NamedCase{"ff02::1", "multicast", true}, NamedCase{"223.0.0.1", "multicast", false},
        NamedCase{"224.0.0.5", "link_local_multicast", true},
        NamedCase{"224.0.1.5", "link_local_multicast", false},
        NamedCase{"ff02::fb", "link_local_multicast", true},
        NamedCase{"ff01::1", "interface_local_multicast", true},
        NamedCase{"224.0.0.1", "interface_local_multicast", false},
        NamedCase{"169.254.0.9", "link_local_unicast", true},
        NamedCase{"fe80::1", "link_local_unicast", true},
        NamedCase{"fec0::1", "link_local_unicast", false}, NamedCase{"10.0.0.1", "unicast", true},
        NamedCase{"224.0.0.1", "unicast", false}, NamedCase{"127.0.0.1", "unicast", false},
        NamedCase{"::ffff:10.1.1.1", "10.0.0.0/8", true},
        NamedCase{"10.1.1.1", "::ffff:10.0.0.0/104", true},
        NamedCase{"11.1.1.1", "::ffff:10.0.0.0/104", false},
        NamedCase{"10.1.1.1", "10.1.1.1/32", true}, NamedCase{"10.1.1.2", "10.1.1.1/32", false},
        NamedCase{"1.2.3.4", "0.0.0.0/0", true}, NamedCase{"::1", "0.0.0.0/0", false},
        NamedCase{"2001:db8:ffff::1", "2001:db8:fff0::/44", true},
        NamedCase{"2001:db8:ffef::1", "2001:db8:fff0::/44", false},
        NamedCase{"not-an-ip", "public", false}, NamedCase{"10.0.0.1%eth0", "private", false}));

TEST_F(ConditionTest, HasFields) {
    EXPECT_TRUE(check("has_fields: [sip.method]"));
    EXPECT_TRUE(check("has_fields: [sip]"));  // an object with fields below it
    EXPECT_TRUE(check("has_fields: [sip.method, source.ip]"));
    EXPECT_FALSE(check("has_fields: [sip.method, nope]"));
    EXPECT_FALSE(check("has_fields: [si]"));
    EXPECT_TRUE(check("has_fields: sip.status"));  // a single name
}

TEST_F(ConditionTest, OrAndNot) {
    EXPECT_TRUE(check("or:\n  - equals: {sip.method: BYE}\n  - equals: {sip.method: INVITE}\n"));
    EXPECT_FALSE(check("or:\n  - equals: {sip.method: BYE}\n  - equals: {sip.status: 404}\n"));
    EXPECT_TRUE(
        check("and:\n  - equals: {sip.method: INVITE}\n  - range: {sip.status.gte: 200}\n"));
    EXPECT_FALSE(
        check("and:\n  - equals: {sip.method: INVITE}\n  - range: {sip.status.gt: 200}\n"));
    EXPECT_TRUE(check("not:\n  equals: {sip.method: BYE}\n"));
    EXPECT_FALSE(check("not:\n  equals: {sip.method: INVITE}\n"));
    EXPECT_TRUE(check("not:\n  not:\n    has_fields: [sip]\n"));
    // The Beats docs' example: or of equals and an and of two more.
    EXPECT_TRUE(
        check("or:\n"
              "  - equals: {http.response.code: 304}\n"
              "  - and:\n"
              "      - equals: {sip.status: 200}\n"
              "      - not: {contains: {tags: nope}}\n"));
}

TEST_F(ConditionTest, SeveralConditionsInOneMapAreAnded) {
    EXPECT_TRUE(check("equals: {sip.method: INVITE}\nrange: {sip.status.lt: 300}\n"));
    EXPECT_FALSE(check("equals: {sip.method: INVITE}\nrange: {sip.status.gt: 300}\n"));
}

TEST_F(ConditionTest, BeatsReferenceExamples) {
    // reference/beats.md §2.4 / Packetbeat's shipped processors.
    EXPECT_TRUE(check("contains.tags: forwarded"));
    doc_.setInt("http.response.code", 200);
    EXPECT_TRUE(check("equals:\n  http.response.code: 200\n"));
    EXPECT_TRUE(check("range:\n  http.response.code:\n    gte: 200\n    lt: 300\n"));
    EXPECT_TRUE(check("network:\n  source.ip: private\n  destination.ip: '8.8.8.0/24'\n"));
    EXPECT_TRUE(check("has_fields: ['http.response.code']"));
}

TEST(ConditionJsonTest, WorksOnEncodedEvents) {
    const std::string json =
        R"({"@timestamp":"x","sip":{"method":"REGISTER","status":401},"tags":["a","b"],)"
        R"("source":{"ip":"10.0.0.5"}})";
    const JsonFieldSource src(json);
    EXPECT_TRUE(compileOk("equals: {sip.method: REGISTER}")->check(src));
    EXPECT_TRUE(compileOk("range: {sip.status: {gte: 400}}")->check(src));
    EXPECT_TRUE(compileOk("contains: {tags: b}")->check(src));
    EXPECT_TRUE(compileOk("network: {source.ip: private}")->check(src));
    EXPECT_TRUE(compileOk("has_fields: [sip, '@timestamp']")->check(src));
    EXPECT_FALSE(compileOk("has_fields: [destination]")->check(src));
    EXPECT_FALSE(compileOk("regexp: {sip.method: '^INV'}")->check(src));
}

TEST(ConditionErrorTest, MessagesNameTheKeyAndFile) {
    std::string e = compileError("equals: {sip.method: [a, b]}", "processors.0.drop_event.when");
    EXPECT_NE(e.find("accessing 'processors.0.drop_event.when.equals.sip.method'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("(source:'cond.yml', line 1)"), std::string::npos) << e;

    e = compileError("bogus: {a: 1}");
    EXPECT_NE(e.find("unknown condition 'bogus'"), std::string::npos) << e;
    EXPECT_NE(e.find("accessing 'when.bogus'"), std::string::npos) << e;

    e = compileError("equals: {a: 1.5}");
    EXPECT_NE(e.find("only strings, ints, and booleans"), std::string::npos) << e;
    e = compileError("equals: x");
    EXPECT_NE(e.find("needs a map"), std::string::npos) << e;
    e = compileError("regexp: {a: '(unclosed'}");
    EXPECT_NE(e.find("invalid regexp '(unclosed'"), std::string::npos) << e;
    EXPECT_NE(e.find("accessing 'when.regexp.a'"), std::string::npos) << e;
    e = compileError("regexp: {a: 'x(?=y)'}");
    EXPECT_NE(e.find("unsupported group"), std::string::npos) << e;
    e = compileError("regexp: {a: '(a)\\1'}");
    EXPECT_NE(e.find("invalid regexp"), std::string::npos) << e;
    e = compileError("regexp: {a: '\\pL'}");
    EXPECT_NE(e.find("Unicode"), std::string::npos) << e;
    e = compileError("contains: {a: [x]}");
    EXPECT_NE(e.find("needs a string"), std::string::npos) << e;
    e = compileError("range: {a: {between: 1}}");
    EXPECT_NE(e.find("unexpected range operator 'between'"), std::string::npos) << e;
    EXPECT_NE(e.find("accessing 'when.range.a.between'"), std::string::npos) << e;
    e = compileError("range: {a.gte: x}");
    EXPECT_NE(e.find("needs a number"), std::string::npos) << e;
    e = compileError("range: {gte: 1}");
    EXPECT_NE(e.find("needs a field name"), std::string::npos) << e;
    e = compileError("network: {ip: privat}");
    EXPECT_NE(e.find("neither a named network nor a CIDR"), std::string::npos) << e;
    e = compileError("network: {ip: 10.0.0.1}");  // Go's ParseCIDR needs a prefix
    EXPECT_NE(e.find("CIDR"), std::string::npos) << e;
    e = compileError("network: {ip: 10.0.0.0/33}");
    EXPECT_NE(e.find("CIDR"), std::string::npos) << e;
    e = compileError("network: {ip: [private, {a: b}]}");
    EXPECT_NE(e.find("accessing 'when.network.ip.1'"), std::string::npos) << e;
    e = compileError("has_fields: []");
    EXPECT_NE(e.find("has_fields needs"), std::string::npos) << e;
    e = compileError("or: []");
    EXPECT_NE(e.find("or needs a non-empty list"), std::string::npos) << e;
    e = compileError("or:\n  - equals: {a: 1}\n  - nope: {}\n");
    EXPECT_NE(e.find("accessing 'when.or.1"), std::string::npos) << e;
    EXPECT_NE(e.find("line 3"), std::string::npos) << e;
    e = compileError("not: ~");
    EXPECT_NE(e.find("missing or invalid condition accessing 'when.not'"), std::string::npos) << e;
    EXPECT_NE(e.find("cond.yml"), std::string::npos) << e;
    e = compileError("{}");
    EXPECT_NE(e.find("missing or invalid condition"), std::string::npos) << e;
}

}  // namespace
}  // namespace sipbeat::processors
