// SPDX-License-Identifier: Apache-2.0
// Message framing: start line, header lines, every ParseError path, datagram vs stream.
#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "beat/sip/message.h"
#include "unit/sip/sip_test_util.h"

namespace sipbeat::sip {
namespace {

using test::crlf;

// Mandatory headers (RFC 3261 §8.1.1) for building test requests.
constexpr std::string_view kMandatory =
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\n"
    "From: <sip:alice@example.com>;tag=1928301774\n"
    "To: <sip:bob@example.com>\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\n"
    "CSeq: 314159 INVITE\n";

std::string invite(std::string_view extra = {}, std::string_view body = {}) {
    std::string m = "INVITE sip:bob@example.com SIP/2.0\n";
    m += kMandatory;
    m += extra;
    m += "\n";
    std::string out = crlf(m);
    out += body;
    return out;
}

struct Result {
    ParseStatus status;
    ParseError error;
};

class SipParserTest : public ::testing::Test {
protected:
    Result run(std::string text, const ParseOptions& options = {}) {
        data_ = std::move(text);
        ParseError e = ParseError::Count;
        const ParseStatus s = parse(data_, msg_, &e, options);
        return {s, e};
    }
    void expectError(std::string text, ParseError expected, const ParseOptions& options = {}) {
        const Result r = run(std::move(text), options);
        EXPECT_EQ(r.status, ParseStatus::Malformed);
        EXPECT_EQ(r.error, expected) << "got " << parseErrorName(r.error);
    }
    static ParseOptions stream() {
        ParseOptions o;
        o.datagram = false;
        return o;
    }

    std::string data_;
    Message msg_;
};

TEST_F(SipParserTest, TypicalInvite) {
    const Result r =
        run(invite("Max-Forwards: 70\nContent-Type: application/sdp\n"
                   "Content-Length: 4\n",
                   "v=0\n"));
    ASSERT_EQ(r.status, ParseStatus::Ok);
    EXPECT_EQ(r.error, ParseError::None);
    EXPECT_TRUE(msg_.isRequest());
    EXPECT_EQ(msg_.method(), Method::Invite);
    EXPECT_EQ(msg_.methodName(), "INVITE");
    EXPECT_EQ(msg_.requestUri(), "sip:bob@example.com");
    EXPECT_EQ(msg_.version(), "2.0");
    EXPECT_EQ(msg_.callId(), "a84b4c76e66710@pc33.example.com");
    EXPECT_EQ(msg_.cseq().number, 314159u);
    EXPECT_EQ(msg_.cseq().method, "INVITE");
    EXPECT_EQ(msg_.maxForwards(), 70);
    EXPECT_EQ(msg_.contentLength(), 4);
    EXPECT_EQ(msg_.body(), "v=0\n");
    EXPECT_EQ(msg_.raw(), data_);
    EXPECT_EQ(msg_.trailingBytes(), 0u);
    EXPECT_EQ(msg_.errorOffset(), 0u);
    ASSERT_EQ(msg_.headers().size(), 8u);
    EXPECT_EQ(msg_.headers()[0].type, HeaderType::Via);
    EXPECT_EQ(msg_.headers()[0].name, "Via");
    EXPECT_EQ(msg_.headers()[0].value, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds");
    EXPECT_EQ(msg_.first(HeaderType::ContentType)->value, "application/sdp");
    EXPECT_EQ(msg_.first(HeaderType::Expires), nullptr);
}

TEST_F(SipParserTest, Response) {
    const Result r =
        run(crlf("SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                 "From: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: x\n"
                 "CSeq: 1 INVITE\nContent-Length: 0\n\n"));
    ASSERT_EQ(r.status, ParseStatus::Ok) << parseErrorName(r.error);
    EXPECT_FALSE(msg_.isRequest());
    EXPECT_EQ(msg_.statusCode(), 486);
    EXPECT_EQ(msg_.reason(), "Busy Here");
    EXPECT_EQ(msg_.version(), "2.0");
    EXPECT_EQ(msg_.method(), Method::Other);
    EXPECT_EQ(msg_.cseq().method, "INVITE");  // responses may carry any CSeq method
}

TEST_F(SipParserTest, ResponseVersionIsCaseInsensitiveAndReasonOptional) {
    // RFC 3261 §7.1: SIP-Version is case-insensitive.
    ASSERT_EQ(run(crlf("sip/2.0 180\nVia: SIP/2.0/UDP h\nFrom: <sip:a@b>\nTo: <sip:c@d>\n"
                       "Call-ID: x\nCSeq: 1 INVITE\n\n"))
                  .status,
              ParseStatus::Ok);
    EXPECT_EQ(msg_.statusCode(), 180);
    EXPECT_EQ(msg_.reason(), "");
}

TEST_F(SipParserTest, MessageIsClearedBetweenParses) {
    ASSERT_EQ(run(invite("Content-Length: 0\n")).status, ParseStatus::Ok);
    expectError("garbage", ParseError::BadFirstLine);
    EXPECT_EQ(msg_.callId(), "");
    EXPECT_EQ(msg_.headers().size(), 0u);
    EXPECT_EQ(msg_.contentLength(), -1);
    EXPECT_EQ(msg_.cseq().number, 0u);
}

TEST_F(SipParserTest, LeadingCrlfIsSkipped) {
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    const std::string msg = invite("Content-Length: 0\n");
    ASSERT_EQ(run("\r\n\r\n" + msg).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.raw(), msg);
}

TEST_F(SipParserTest, BareLfLineEndingsAreAccepted) {
    std::string m = "OPTIONS sip:b@example.com SIP/2.0\n";
    m += kMandatory;
    m.replace(m.find("INVITE"), 6, "OPTIONS");
    m += "Content-Length: 0\n\n";
    const Result r = run(m);
    ASSERT_EQ(r.status, ParseStatus::Ok) << parseErrorName(r.error);
    EXPECT_EQ(msg_.callId(), "a84b4c76e66710@pc33.example.com");
    EXPECT_EQ(msg_.cseq().method, "OPTIONS");
}

// ---- header names ----

TEST_F(SipParserTest, HeaderNamesAreCaseInsensitive) {
    EXPECT_EQ(headerTypeFromName("Call-ID"), HeaderType::CallId);
    EXPECT_EQ(headerTypeFromName("call-id"), HeaderType::CallId);
    EXPECT_EQ(headerTypeFromName("CALL-ID"), HeaderType::CallId);
    EXPECT_EQ(headerTypeFromName("cSeQ"), HeaderType::CSeq);
    EXPECT_EQ(headerTypeFromName("WWW-Authenticate"), HeaderType::WwwAuthenticate);
    EXPECT_EQ(headerTypeFromName("p-asserted-identity"), HeaderType::PAssertedIdentity);
    EXPECT_EQ(headerTypeFromName("P-Associated-URI"), HeaderType::PAssociatedUri);
    EXPECT_EQ(headerTypeFromName("Record-Route"), HeaderType::RecordRoute);
    EXPECT_EQ(headerTypeFromName("User-Agent"), HeaderType::UserAgent);
    EXPECT_EQ(headerTypeFromName("X-Custom"), HeaderType::Other);
    EXPECT_EQ(headerTypeFromName("Call-IDs"), HeaderType::Other);
    EXPECT_EQ(headerTypeFromName(""), HeaderType::Other);
}

TEST_F(SipParserTest, CompactHeaderNames) {
    // RFC 3261 §7.3.3 and the IANA registry.
    EXPECT_EQ(headerTypeFromName("i"), HeaderType::CallId);
    EXPECT_EQ(headerTypeFromName("m"), HeaderType::Contact);
    EXPECT_EQ(headerTypeFromName("e"), HeaderType::ContentEncoding);
    EXPECT_EQ(headerTypeFromName("l"), HeaderType::ContentLength);
    EXPECT_EQ(headerTypeFromName("c"), HeaderType::ContentType);
    EXPECT_EQ(headerTypeFromName("f"), HeaderType::From);
    EXPECT_EQ(headerTypeFromName("k"), HeaderType::Supported);
    EXPECT_EQ(headerTypeFromName("t"), HeaderType::To);
    EXPECT_EQ(headerTypeFromName("v"), HeaderType::Via);
    EXPECT_EQ(headerTypeFromName("V"), HeaderType::Via);
    EXPECT_EQ(headerTypeFromName("I"), HeaderType::CallId);
    // Registered compact forms of headers that are not indexed stay Other.
    for (std::string_view other : {"a", "b", "d", "j", "n", "o", "r", "s", "u", "x", "y"}) {
        EXPECT_EQ(headerTypeFromName(other), HeaderType::Other) << other;
    }
}

TEST_F(SipParserTest, EveryIndexedHeaderName) {
    const std::pair<std::string_view, HeaderType> names[] = {
        {"Accept", HeaderType::Accept},
        {"Allow", HeaderType::Allow},
        {"Authorization", HeaderType::Authorization},
        {"Call-ID", HeaderType::CallId},
        {"Contact", HeaderType::Contact},
        {"Content-Encoding", HeaderType::ContentEncoding},
        {"Content-Length", HeaderType::ContentLength},
        {"Content-Type", HeaderType::ContentType},
        {"CSeq", HeaderType::CSeq},
        {"Expires", HeaderType::Expires},
        {"From", HeaderType::From},
        {"Max-Forwards", HeaderType::MaxForwards},
        {"P-Asserted-Identity", HeaderType::PAssertedIdentity},
        {"P-Associated-URI", HeaderType::PAssociatedUri},
        {"Proxy-Authenticate", HeaderType::ProxyAuthenticate},
        {"Proxy-Authorization", HeaderType::ProxyAuthorization},
        {"Reason", HeaderType::Reason},
        {"Record-Route", HeaderType::RecordRoute},
        {"Route", HeaderType::Route},
        {"Server", HeaderType::Server},
        {"Supported", HeaderType::Supported},
        {"To", HeaderType::To},
        {"User-Agent", HeaderType::UserAgent},
        {"Via", HeaderType::Via},
        {"WWW-Authenticate", HeaderType::WwwAuthenticate},
    };
    static_assert(std::size(names) == static_cast<size_t>(HeaderType::Count) - 1);
    for (const auto& [name, type] : names) {
        EXPECT_EQ(headerTypeFromName(name), type) << name;
        std::string upper(name);
        for (char& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        EXPECT_EQ(headerTypeFromName(upper), type) << upper;
        // Same length and first letter, one letter off: not a match.
        std::string off(name);
        off.back() = off.back() == 'x' ? 'y' : 'x';
        EXPECT_EQ(headerTypeFromName(off), HeaderType::Other) << off;
    }
}

TEST_F(SipParserTest, CanonicalHeaderNames) {
    EXPECT_EQ(canonicalHeaderName("s"), "Subject");
    EXPECT_EQ(canonicalHeaderName("O"), "Event");
    EXPECT_EQ(canonicalHeaderName("u"), "Allow-Events");
    EXPECT_EQ(canonicalHeaderName("r"), "Refer-To");
    EXPECT_EQ(canonicalHeaderName("b"), "Referred-By");
    EXPECT_EQ(canonicalHeaderName("j"), "Reject-Contact");
    EXPECT_EQ(canonicalHeaderName("a"), "Accept-Contact");
    EXPECT_EQ(canonicalHeaderName("d"), "Request-Disposition");
    EXPECT_EQ(canonicalHeaderName("x"), "Session-Expires");
    EXPECT_EQ(canonicalHeaderName("y"), "Identity");
    EXPECT_EQ(canonicalHeaderName("n"), "Identity-Info");
    EXPECT_EQ(canonicalHeaderName("i"), "Call-ID");
    EXPECT_EQ(canonicalHeaderName("v"), "Via");
    EXPECT_EQ(canonicalHeaderName("z"), "z");
    EXPECT_EQ(canonicalHeaderName("Subject"), "Subject");
    EXPECT_EQ(canonicalHeaderName(""), "");
    // Every compact form that is indexed maps to a full name of the same type.
    for (char c = 'a'; c <= 'z'; ++c) {
        const std::string compact(1, c);
        if (headerTypeFromName(compact) != HeaderType::Other) {
            EXPECT_EQ(headerTypeFromName(canonicalHeaderName(compact)), headerTypeFromName(compact))
                << compact;
        }
    }
}

TEST_F(SipParserTest, CompactFormMessage) {
    const std::string text = crlf(
        "INVITE sip:bob@example.com SIP/2.0\n"
        "v: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8\n"
        "f: \"Alice\" <sip:alice@example.com>;tag=1928301774\n"
        "t: Bob <sip:bob@example.com>\n"
        "i: compact@pc33\n"
        "CSeq: 1 INVITE\n"
        "m: <sip:alice@pc33.example.com>\n"
        "k: timer, 100rel\n"
        "e: identity\n"
        "s: lunch\n"
        "c: application/sdp\n"
        "l: 4\n"
        "\n"
        "v=0\n");
    const Result r = run(text);
    ASSERT_EQ(r.status, ParseStatus::Ok) << parseErrorName(r.error);
    EXPECT_EQ(msg_.callId(), "compact@pc33");
    EXPECT_EQ(msg_.contentLength(), 4);
    EXPECT_EQ(msg_.body(), "v=0\r");
    EXPECT_EQ(msg_.first(HeaderType::Supported)->value, "timer, 100rel");
    EXPECT_EQ(msg_.first(HeaderType::ContentEncoding)->value, "identity");
    EXPECT_EQ(msg_.first(HeaderType::ContentType)->name, "c");
    NameAddr na;
    ASSERT_TRUE(msg_.from(na));
    EXPECT_EQ(na.display, "Alice");
    ASSERT_TRUE(msg_.to(na));
    EXPECT_EQ(na.display, "Bob");
    std::array<Contact, 2> contacts;
    ASSERT_EQ(msg_.contacts(contacts), 1u);
    std::array<Via, 2> vias;
    ASSERT_EQ(msg_.vias(vias), 1u);
    EXPECT_EQ(vias[0].branch, "z9hG4bKnashds8");
}

TEST_F(SipParserTest, SpaceBeforeColonAndEmptyValue) {
    // HCOLON = *( SP / HTAB ) ":" SWS
    ASSERT_EQ(run(invite("Subject \t:\nX-Empty:\n")).status, ParseStatus::Ok);
    ASSERT_EQ(msg_.headers().size(), 7u);
    EXPECT_EQ(msg_.headers()[5].name, "Subject");
    EXPECT_EQ(msg_.headers()[5].value, "");
    EXPECT_EQ(msg_.headers()[6].value, "");
}

// ---- folding and repetition (RFC 3261 §7.3.1) ----

TEST_F(SipParserTest, FoldedHeaders) {
    const std::string text = crlf(
        "INVITE sip:bob@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.1\n"
        "  ;branch=z9hG4bKfold\n"
        "From:\n"
        "\t<sip:alice@example.com>\n"
        " ;tag=77\n"
        "To: <sip:bob@example.com>\n"
        "Call-ID:\n"
        "   folded-call-id\n"
        "CSeq: 7\n"
        "\tINVITE\n"
        "Subject: I know you're there,\n"
        "         pick up the phone\n"
        "         and talk to me!\n"
        "\n");
    const Result r = run(text);
    ASSERT_EQ(r.status, ParseStatus::Ok) << parseErrorName(r.error);
    EXPECT_EQ(msg_.headers().size(), 6u);
    EXPECT_EQ(msg_.callId(), "folded-call-id");  // leading fold trimmed
    EXPECT_EQ(msg_.cseq().number, 7u);
    EXPECT_EQ(msg_.cseq().method, "INVITE");
    EXPECT_EQ(msg_.headers()[5].value,
              "I know you're there,\r\n         pick up the phone\r\n         and talk to me!");
    NameAddr na;
    ASSERT_TRUE(msg_.from(na));
    EXPECT_EQ(na.uri.user, "alice");
    EXPECT_EQ(na.tag, "77");
    std::array<Via, 2> vias;
    ASSERT_EQ(msg_.vias(vias), 1u);
    EXPECT_EQ(vias[0].branch, "z9hG4bKfold");
}

TEST_F(SipParserTest, RepeatedAndCommaJoinedHeaders) {
    const std::string text = invite(
        "Via: SIP/2.0/TCP proxy1.example.com;branch=z9hG4bK1, SIP/2.0/UDP "
        "[2001:db8::9]:5080;branch=z9hG4bK2\n"
        "Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>\n"
        "Route: <sip:p3.example.com;lr>\n"
        "Contact: \"Doe, John\" <sip:john@a.example.com;x=\"1,2\">, <sip:j@b.example.com>\n"
        "Contact: sip:j@c.example.com;q=0.1\n");
    ASSERT_EQ(run(text).status, ParseStatus::Ok);
    std::array<Via, 8> vias;
    ASSERT_EQ(msg_.vias(vias), 3u);
    EXPECT_EQ(vias[0].host, "192.0.2.1");
    EXPECT_EQ(vias[1].host, "proxy1.example.com");
    EXPECT_EQ(vias[1].transport, "TCP");
    EXPECT_EQ(vias[2].host, "[2001:db8::9]");
    EXPECT_EQ(vias[2].port, 5080);
    std::array<Contact, 8> contacts;
    ASSERT_EQ(msg_.contacts(contacts), 3u);
    EXPECT_EQ(contacts[0].addr.display, "Doe, John");
    EXPECT_EQ(contacts[0].addr.uri.host, "a.example.com");
    EXPECT_EQ(contacts[0].addr.uri.params, "x=\"1,2\"");
    EXPECT_EQ(contacts[1].addr.uri.host, "b.example.com");
    EXPECT_EQ(contacts[2].addr.uri.host, "c.example.com");
    EXPECT_DOUBLE_EQ(contacts[2].q, 0.1);
    size_t routes = 0;
    for (const Header& h : msg_.headers()) {
        routes += h.type == HeaderType::Route ? 1 : 0;
    }
    EXPECT_EQ(routes, 2u);
}

TEST_F(SipParserTest, SameContentLengthTwiceIsFine) {
    ASSERT_EQ(run(invite("Content-Length: 2\nl: 2\n", "ab")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.body(), "ab");
}

// ---- body framing (RFC 3261 §18.3) ----

TEST_F(SipParserTest, DatagramWithoutContentLengthTakesTheRest) {
    ASSERT_EQ(run(invite("", "v=0\r\nrest")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.contentLength(), -1);
    EXPECT_EQ(msg_.body(), "v=0\r\nrest");
    EXPECT_EQ(msg_.trailingBytes(), 0u);
}

TEST_F(SipParserTest, DatagramTrailingBytesAreCounted) {
    ASSERT_EQ(run(invite("Content-Length: 3\n", "abcXYZ\r\n")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.body(), "abc");
    EXPECT_EQ(msg_.trailingBytes(), 5u);
    EXPECT_EQ(msg_.raw().size() + 5, data_.size());
}

TEST_F(SipParserTest, DatagramShortBodyIsKeptTruncated) {
    ASSERT_EQ(run(invite("Content-Length: 100\n", "v=0\r\n")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.contentLength(), 100);
    EXPECT_EQ(msg_.body(), "v=0\r\n");
}

TEST_F(SipParserTest, StreamFramesByContentLength) {
    const std::string first = invite("Content-Length: 3\n", "abc");
    const std::string second = invite("Content-Length: 0\n");
    ASSERT_EQ(run(first + second, stream()).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.body(), "abc");
    EXPECT_EQ(msg_.raw(), first);
    EXPECT_EQ(msg_.trailingBytes(), second.size());
}

TEST_F(SipParserTest, StreamTruncatedBody) {
    expectError(invite("Content-Length: 10\n", "abc"), ParseError::TruncatedBody, stream());
    EXPECT_EQ(msg_.callId(), "a84b4c76e66710@pc33.example.com");
    EXPECT_EQ(msg_.errorOffset(), data_.size() - 3);
    EXPECT_EQ(msg_.body(), "abc");
}

TEST_F(SipParserTest, StreamRequiresContentLength) {
    expectError(invite("", "abc"), ParseError::BadContentLength, stream());
    EXPECT_EQ(msg_.contentLength(), -1);  // the event layer reports "missing Content-Length"
}

// ---- every ParseError ----

TEST_F(SipParserTest, ErrorNames) {
    for (int i = 0; i < static_cast<int>(ParseError::Count); ++i) {
        const auto e = static_cast<ParseError>(i);
        EXPECT_NE(parseErrorName(e), "unknown") << i;
        for (int j = 0; j < i; ++j) {
            EXPECT_NE(parseErrorName(e), parseErrorName(static_cast<ParseError>(j)));
        }
    }
    EXPECT_EQ(parseErrorName(ParseError::MissingCallId), "missing Call-ID");
    EXPECT_EQ(parseErrorName(ParseError::Count), "unknown");
}

TEST_F(SipParserTest, ErrorEmpty) {
    expectError("", ParseError::Empty);
    expectError("\r\n\r\n", ParseError::Empty);
    Message m;
    EXPECT_EQ(parse({}, m), ParseStatus::Malformed);  // error pointer is optional
}

TEST_F(SipParserTest, ErrorBadFirstLine) {
    expectError("garbage\r\n\r\n", ParseError::BadFirstLine);
    expectError(" INVITE sip:a@b SIP/2.0\r\n\r\n", ParseError::BadFirstLine);
    expectError("INVITE sip:bob@example.com\r\n\r\n", ParseError::BadFirstLine);
    expectError("INV@TE sip:bob@example.com SIP/2.0\r\n\r\n", ParseError::BadFirstLine);
    expectError("\x16\x03\x01 \x02 \x03\r\n\r\n", ParseError::BadFirstLine);
    expectError("SIP/2.0\r\n\r\n", ParseError::BadFirstLine);
}

TEST_F(SipParserTest, ErrorBadRequestUri) {
    expectError("INVITE bob@example.com SIP/2.0\r\n\r\n", ParseError::BadRequestUri);
    expectError("INVITE <sip:bob@example.com> SIP/2.0\r\n\r\n", ParseError::BadRequestUri);
    expectError("INVITE sip:bob@example.com ;lr SIP/2.0\r\n\r\n", ParseError::BadRequestUri);
    expectError("INVITE sip:bob\x01@example.com SIP/2.0\r\n\r\n", ParseError::BadRequestUri);
    expectError("INVITE 1sip:bob SIP/2.0\r\n\r\n", ParseError::BadRequestUri);
    EXPECT_EQ(msg_.errorOffset(), 7u);
    EXPECT_EQ(msg_.methodName(), "INVITE");
}

TEST_F(SipParserTest, ErrorBadVersion) {
    expectError("INVITE sip:bob@example.com SIP/3.0\r\n\r\n", ParseError::BadVersion);
    EXPECT_EQ(msg_.errorOffset(), 27u);
    expectError("GET /index.html HTTP/1.1\r\n\r\n", ParseError::BadVersion);
    expectError("SIP/1.0 200 OK\r\n\r\n", ParseError::BadVersion);
    expectError("INVITE sip:bob@example.com SIP/2.00\r\n\r\n", ParseError::BadVersion);
}

TEST_F(SipParserTest, ErrorBadStatusCode) {
    expectError("SIP/2.0 20 OK\r\n\r\n", ParseError::BadStatusCode);
    expectError("SIP/2.0 2000 OK\r\n\r\n", ParseError::BadStatusCode);
    expectError("SIP/2.0 abc OK\r\n\r\n", ParseError::BadStatusCode);
    expectError("SIP/2.0 099 Low\r\n\r\n", ParseError::BadStatusCode);
    expectError("SIP/2.0 700 High\r\n\r\n", ParseError::BadStatusCode);
    expectError("SIP/2.0 200OK\r\n\r\n", ParseError::BadStatusCode);
    EXPECT_EQ(msg_.errorOffset(), 8u);
}

TEST_F(SipParserTest, ErrorBadHeaderLine) {
    expectError(invite("No colon here\n"), ParseError::BadHeaderLine);
    EXPECT_EQ(data_.substr(msg_.errorOffset(), 8), "No colon");
    EXPECT_EQ(msg_.callId(), "a84b4c76e66710@pc33.example.com");  // reached before the error
    expectError(crlf("INVITE sip:b@c SIP/2.0\n continuation of nothing\n\n"),
                ParseError::BadHeaderLine);
    expectError(crlf("INVITE sip:b@c SIP/2.0\n: no name\n\n"), ParseError::BadHeaderLine);
    expectError(crlf("INVITE sip:b@c SIP/2.0\nBad[Name]: x\n\n"), ParseError::BadHeaderLine);
    expectError("INVITE sip:b@c SIP/2.0\r\nA: b\r\n\rX\r\n\r\n", ParseError::BadHeaderLine);
}

TEST_F(SipParserTest, ErrorTooManyHeaders) {
    std::string extra;
    for (size_t i = 0; i < Message::kMaxHeaders; ++i) {
        extra += "X-Filler: " + std::to_string(i) + "\n";
    }
    expectError(invite(extra), ParseError::TooManyHeaders);
    EXPECT_EQ(msg_.headers().size(), Message::kMaxHeaders);
    // Exactly the limit is fine.
    std::string fits;
    for (size_t i = 0; i < Message::kMaxHeaders - 5; ++i) {
        fits += "X-Filler: " + std::to_string(i) + "\n";
    }
    EXPECT_EQ(run(invite(fits)).status, ParseStatus::Ok);
}

TEST_F(SipParserTest, ErrorNoHeaderEnd) {
    expectError("INVITE sip:bob@example.com SIP/2.0", ParseError::NoHeaderEnd);
    expectError("INVITE sip:bob@example.com SIP/2.0\r\n", ParseError::NoHeaderEnd);
    std::string cut = invite();
    cut.resize(cut.size() - 2);  // no empty line
    // On a stream the empty line may still come; in a datagram its end ends the headers.
    expectError(cut, ParseError::NoHeaderEnd, stream());
    EXPECT_EQ(msg_.errorOffset(), cut.size());
    ASSERT_EQ(run(cut).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.body(), "");
    EXPECT_EQ(msg_.callId(), "a84b4c76e66710@pc33.example.com");
    cut.resize(cut.size() - 10);  // cut inside a header line: malformed either way
    expectError(cut, ParseError::NoHeaderEnd);
    EXPECT_EQ(msg_.callId(), "a84b4c76e66710@pc33.example.com");
    expectError(invite().substr(0, invite().size() - 1), ParseError::NoHeaderEnd);  // "\r"
    // A fold at the very end never terminates the header.
    expectError("INVITE sip:b@c SIP/2.0\r\nA: b\r\n ", ParseError::NoHeaderEnd);
}

TEST_F(SipParserTest, ErrorBadContentLength) {
    expectError(invite("Content-Length: abc\n"), ParseError::BadContentLength);
    expectError(invite("Content-Length: -1\n"), ParseError::BadContentLength);
    expectError(invite("Content-Length:\n"), ParseError::BadContentLength);
    expectError(invite("Content-Length: 99999999999999999999999\n"), ParseError::BadContentLength);
    expectError(invite("Content-Length: 1 2\n"), ParseError::BadContentLength);
    expectError(invite("Content-Length: 2\nContent-Length: 3\n", "abc"),
                ParseError::BadContentLength);
    EXPECT_EQ(data_.substr(msg_.errorOffset(), 17), "Content-Length: 3");
}

TEST_F(SipParserTest, ErrorMissingMandatoryHeaders) {
    const auto without = [](std::string_view header) {
        std::string m = "INVITE sip:bob@example.com SIP/2.0\n";
        m += kMandatory;
        const size_t at = m.find(header);
        m.erase(at, m.find('\n', at) + 1 - at);
        return crlf(m + "\n");
    };
    expectError(without("Call-ID:"), ParseError::MissingCallId);
    EXPECT_EQ(msg_.errorOffset(), data_.size());
    expectError(without("CSeq:"), ParseError::MissingCSeq);
    expectError(without("From:"), ParseError::MissingFrom);
    expectError(without("To:"), ParseError::MissingTo);
    // Via is not required (sipcmbeat.md §10.5): a reply without it still parses.
    EXPECT_EQ(parse(without("Via:"), msg_), ParseStatus::Ok);
    std::string empty_call_id = invite();
    const size_t at = empty_call_id.find("Call-ID: ");
    empty_call_id.replace(at, empty_call_id.find('\r', at) - at, "Call-ID:   ");
    expectError(empty_call_id, ParseError::MissingCallId);
    ParseOptions lax;
    lax.require_mandatory = false;
    EXPECT_EQ(run(without("Via:"), lax).status, ParseStatus::Ok);
    EXPECT_EQ(run(crlf("OPTIONS sip:b@c SIP/2.0\n\n"), lax).status, ParseStatus::Ok);
}

TEST_F(SipParserTest, ErrorBadCSeq) {
    const auto withCSeq = [](std::string_view cseq) {
        std::string m = invite();
        const size_t at = m.find("CSeq: ");
        m.replace(at + 6, m.find('\r', at) - at - 6, cseq);
        return m;
    };
    expectError(withCSeq("abc INVITE"), ParseError::BadCSeq);
    expectError(withCSeq("12"), ParseError::BadCSeq);
    expectError(withCSeq("12INVITE"), ParseError::BadCSeq);
    expectError(withCSeq("2147483648 INVITE"), ParseError::BadCSeq);  // RFC 3261 §8.1.1.5
    expectError(withCSeq("1 INVITE extra"), ParseError::BadCSeq);
    expectError(withCSeq("1 BYE"), ParseError::BadCSeq);     // method mismatch
    expectError(withCSeq("1 invite"), ParseError::BadCSeq);  // methods are case-sensitive
    EXPECT_EQ(run(withCSeq("2147483647 INVITE")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.cseq().number, 2147483647u);
    EXPECT_EQ(run(withCSeq("0 INVITE")).status, ParseStatus::Ok);
    // A repeated identical CSeq is harmless; a different one is not.
    EXPECT_EQ(run(invite("CSeq: 314159 INVITE\n")).status, ParseStatus::Ok);
    expectError(invite("CSeq: 314160 INVITE\n"), ParseError::BadCSeq);
}

TEST_F(SipParserTest, ValueErrorKeepsScanningForCallId) {
    // The Call-ID comes after the bad CSeq: the parse-error still names the call.
    expectError(crlf("BYE sip:b@c SIP/2.0\nCSeq: x BYE\nCall-ID: late@h\n\n"), ParseError::BadCSeq);
    EXPECT_EQ(msg_.callId(), "late@h");
    EXPECT_EQ(msg_.errorOffset(), 21u);
}

// ---- methods ----

TEST_F(SipParserTest, Methods) {
    for (Method m :
         {Method::Invite, Method::Ack, Method::Bye, Method::Cancel, Method::Register,
          Method::Options, Method::Info, Method::Update, Method::Prack, Method::Subscribe,
          Method::Notify, Method::Publish, Method::Message, Method::Refer}) {
        EXPECT_EQ(methodFromName(methodName(m)), m) << methodName(m);
    }
    EXPECT_EQ(methodFromName("invite"), Method::Other);  // RFC 3261 §7.1: case-sensitive
    EXPECT_EQ(methodFromName("FOO"), Method::Other);
    EXPECT_EQ(methodName(Method::Other), "");
    EXPECT_EQ(methodName(Method::Register), "REGISTER");
}

TEST_F(SipParserTest, ExtensionMethod) {
    std::string m = invite();
    m.replace(0, 6, "PING");
    m.replace(m.find("314159 INVITE") + 7, 6, "PING");
    ASSERT_EQ(run(m).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.method(), Method::Other);
    EXPECT_EQ(msg_.methodName(), "PING");
}

// ---- simple accessors ----

TEST_F(SipParserTest, MaxForwardsAndExpires) {
    ASSERT_EQ(run(invite("Max-Forwards: 0070\nExpires: 3600\n")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.maxForwards(), 70);
    EXPECT_EQ(msg_.expires(), 3600);
    ASSERT_EQ(run(invite("Max-Forwards: 256\nExpires: soon\n")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.maxForwards(), -1);
    EXPECT_EQ(msg_.expires(), -1);
    ASSERT_EQ(run(invite("Expires: 99999999999999999999\n")).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.expires(), 4294967295);  // clamped, RFC 3261 §20.19
    ASSERT_EQ(run(invite()).status, ParseStatus::Ok);
    EXPECT_EQ(msg_.maxForwards(), -1);
    EXPECT_EQ(msg_.expires(), -1);
}

TEST_F(SipParserTest, NeverReadsPastTheInput) {
    // Every prefix of a message, in its own exactly-sized heap buffer so ASan catches any
    // read past the end.
    const std::string full = invite(
        "Contact: \"A\" <sip:a@[::1]:5060;transport=tcp>;expires=60\n"
        "Authorization: Digest username=\"a\", realm=\"r\", nonce=\"n\"\n"
        "Content-Type: multipart/mixed;boundary=xyz\nContent-Length: 60\n",
        "--xyz\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio 1 RTP/AVP 0\r\n--xyz--");
    for (size_t n = 0; n <= full.size(); ++n) {
        for (bool datagram : {true, false}) {
            const std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
            std::memcpy(buf.get(), full.data(), n);
            ParseOptions o;
            o.datagram = datagram;
            Message m;
            parse(std::string_view(buf.get(), n), m, nullptr, o);
            NameAddr na;
            m.from(na);
            m.to(na);
            std::array<Contact, 2> c;
            m.contacts(c);
            std::array<Via, 2> v;
            m.vias(v);
            Credentials cr;
            m.credentials(cr);
            Sdp sdp;
            m.sdp(sdp);
        }
    }
}

}  // namespace
}  // namespace sipbeat::sip
