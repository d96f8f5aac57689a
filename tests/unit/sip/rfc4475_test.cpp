// SPDX-License-Identifier: Apache-2.0
// RFC 4475 torture messages, one test each. The .dat files (resiprocate's copies) are read
// from the shared corpus at run time and never copied into this repository.
//
// §3.1.1 (valid) messages parse with the values the RFC points out. For §3.1.2 (invalid)
// and §3.2-§3.4 (semantics) messages, each test says whether the parser reports a
// ParseError or, where the RFC lets an element be liberal, parses tolerantly. A monitor only
// observes: it rejects what cannot be framed or identified (start line, Content-Length,
// CSeq) and is tolerant about what it can read unambiguously.
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "beat/sip/message.h"

#ifndef SIPBEAT_SHARED_DIR
#define SIPBEAT_SHARED_DIR ""
#endif

namespace sipbeat::sip {
namespace {

class SipRfc4475Test : public ::testing::Test {
protected:
    static std::string dir() { return std::string(SIPBEAT_SHARED_DIR) + "/corpus/rfc4475"; }

    void SetUp() override {
        if (!std::filesystem::is_directory(dir())) {
            GTEST_SKIP() << "RFC 4475 torture messages not found in " << dir()
                         << " (shared corpus absent)";
        }
    }

    /// Reads `name` from the corpus and parses it; data_ keeps the bytes msg_ points into.
    ParseStatus load(const std::string& name, const ParseOptions& options = {}) {
        std::ifstream in(dir() + "/" + name, std::ios::binary);
        EXPECT_TRUE(in.good()) << name;
        data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        error_ = ParseError::Count;
        return parse(data_, msg_, &error_, options);
    }

    NameAddr from() {
        NameAddr na;
        EXPECT_TRUE(msg_.from(na));
        return na;
    }
    NameAddr to() {
        NameAddr na;
        EXPECT_TRUE(msg_.to(na));
        return na;
    }
    size_t vias() { return msg_.vias(via_); }
    size_t contacts() { return msg_.contacts(contact_); }

    std::string data_;
    Message msg_;
    ParseError error_ = ParseError::Count;
    std::array<Via, 40> via_{};
    std::array<Contact, 8> contact_{};
};

// ---- §3.1.1 valid messages ----

// §3.1.1.1 A Short Tortuous INVITE: LWS everywhere, folding, compact forms, escaped quotes.
TEST_F(SipRfc4475Test, Wsinv) {
    ASSERT_EQ(load("wsinv.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(error_, ParseError::None);
    EXPECT_TRUE(msg_.isRequest());
    EXPECT_EQ(msg_.method(), Method::Invite);
    EXPECT_EQ(msg_.requestUri(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
    EXPECT_EQ(msg_.callId(), "wsinv.ndaksdj@192.0.2.1");
    EXPECT_EQ(msg_.cseq().number, 9u);  // "0009\r\n  INVITE"
    EXPECT_EQ(msg_.cseq().method, "INVITE");
    EXPECT_EQ(msg_.maxForwards(), 68);  // "MaX-fOrWaRdS: 0068"
    EXPECT_EQ(msg_.contentLength(), 150);
    EXPECT_EQ(msg_.body().size(), 150u);
    EXPECT_EQ(msg_.trailingBytes(), 0u);

    const NameAddr t = to();
    EXPECT_EQ(t.uri.user, "vivekg");
    EXPECT_EQ(t.uri.host, "chair-dnrc.example.com");
    EXPECT_EQ(t.tag, "1918181833n");  // "tag    = 1918181833n"
    const NameAddr f = from();
    EXPECT_EQ(f.display, R"(J Rosenberg \\\")");  // quotes removed, escapes kept
    EXPECT_EQ(f.uri.user, "jdrosen");
    EXPECT_EQ(f.tag, "98asjd8");  // after a folded ";"

    ASSERT_EQ(vias(), 3u);
    EXPECT_EQ(via_[0].transport, "UDP");  // "SIP  /   2.0\r\n /UDP"
    EXPECT_EQ(via_[0].host, "192.0.2.2");
    EXPECT_EQ(via_[0].branch, "390skdjuw");
    EXPECT_EQ(via_[0].protocol.substr(0, 3), "SIP");
    EXPECT_EQ(via_[1].transport, "TCP");
    EXPECT_EQ(via_[1].host, "spindle.example.com");
    EXPECT_EQ(via_[1].branch, "z9hG4bK9ikj8");
    EXPECT_EQ(via_[2].transport, "UDP");
    EXPECT_EQ(via_[2].host, "192.168.255.111");
    EXPECT_EQ(via_[2].branch, "z9hG4bK30239");

    ASSERT_EQ(contacts(), 1u);  // "m:" compact form
    const Contact& c = contact_[0];
    EXPECT_EQ(c.addr.display, R"(Quoted string \"\")");
    EXPECT_EQ(c.addr.uri.user, "jdrosen");
    EXPECT_DOUBLE_EQ(c.q, 0.33);
    std::string_view v;
    EXPECT_TRUE(c.addr.param("newparam", v));
    EXPECT_EQ(v, "newvalue");
    EXPECT_TRUE(c.addr.param("secondparam", v));
    EXPECT_EQ(v, "");

    bool saw_subject = false;
    for (const Header& h : msg_.headers()) {
        if (h.name == "s") {
            saw_subject = true;
            EXPECT_EQ(h.value, "");  // "s :" (Subject, empty)
        }
        if (h.name == "NewFangledHeader") {
            EXPECT_EQ(h.value, "newfangled value\r\n continued newfangled value");
        }
    }
    EXPECT_TRUE(saw_subject);
    const Header* route = msg_.first(HeaderType::Route);
    ASSERT_NE(route, nullptr);
    EXPECT_EQ(route->value, "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>");

    Sdp sdp;
    ASSERT_TRUE(msg_.sdp(sdp));
    EXPECT_EQ(sdp.connection_address, "192.0.2.4");
    EXPECT_EQ(sdp.media_count, 2u);
}

// §3.1.1.2 Wide Range of Valid Characters: every token character in method, URI, params.
TEST_F(SipRfc4475Test, Intmeth) {
    ASSERT_EQ(load("intmeth.dat"), ParseStatus::Ok) << parseErrorName(error_);
    const std::string_view method = "!interesting-Method0123456789_*+`.%indeed'~";
    EXPECT_EQ(msg_.method(), Method::Other);
    EXPECT_EQ(msg_.methodName(), method);
    EXPECT_EQ(msg_.cseq().number, 139122385u);
    EXPECT_EQ(msg_.cseq().method, method);
    EXPECT_EQ(msg_.callId(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    EXPECT_EQ(msg_.maxForwards(), 255);

    Uri ruri;
    ASSERT_TRUE(parseUri(msg_.requestUri(), ruri));
    EXPECT_EQ(ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    EXPECT_EQ(ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    EXPECT_EQ(ruri.host, "example.com");

    // To's display name holds escaped BEL, NUL and DEL bytes.
    std::string display = "BEL:\\\x07 NUL:\\";
    display.push_back('\0');
    display += " DEL:\\\x7f";
    const NameAddr t = to();
    EXPECT_EQ(t.display, display);
    EXPECT_EQ(t.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    EXPECT_EQ(t.uri.host, "example.com");

    const NameAddr f = from();
    EXPECT_EQ(f.display, "token1~` token2'+_ token3*%!.-");  // unquoted token display name
    EXPECT_EQ(f.uri.user, "mundane");
    EXPECT_EQ(f.tag, "_token~1'+`*%!-.");
    std::string_view v;
    EXPECT_TRUE(f.param("fromParam''~+*_!.-%", v));
    EXPECT_EQ(v, "работающий");  // quoted UTF-8 value, quotes removed

    ASSERT_EQ(vias(), 1u);
    EXPECT_EQ(via_[0].branch, "z9hG4bK-.!%66*_+`'~");
    bool saw_ext = false;
    for (const Header& h : msg_.headers()) {
        if (h.name == "extensionHeader-!.%*+_`'~") {
            saw_ext = true;
            EXPECT_EQ(h.type, HeaderType::Other);
            EXPECT_EQ(h.value, "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb");
        }
    }
    EXPECT_TRUE(saw_ext);
}

// §3.1.1.3 Valid Use of the % Escaping Mechanism: escapes are kept as written.
TEST_F(SipRfc4475Test, Esc01) {
    ASSERT_EQ(load("esc01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.callId(), "esc01.239409asdfakjkn23onasd0-3234");  // "i:"
    Uri ruri;
    ASSERT_TRUE(parseUri(msg_.requestUri(), ruri));
    EXPECT_EQ(ruri.user, "sips%3Auser%40example.com");
    EXPECT_EQ(ruri.host, "example.net");
    EXPECT_EQ(to().uri.user, "%75se%72");
    const NameAddr f = from();
    EXPECT_EQ(f.uri.user, "I%20have%20spaces");
    EXPECT_EQ(f.tag, "938");
    // "Contact:" with the value on a folded continuation line.
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.uri.user, "cal%6Cer");
    EXPECT_EQ(contact_[0].addr.uri.host, "host5.example.net");
    EXPECT_EQ(contact_[0].addr.uri.params, "%6C%72;n%61me=v%61lue%25%34%31");
    Sdp sdp;
    EXPECT_TRUE(msg_.sdp(sdp));  // Content-Type as compact "C:"
}

// §3.1.1.4 Escaped Nulls in URIs.
TEST_F(SipRfc4475Test, Escnull) {
    ASSERT_EQ(load("escnull.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.method(), Method::Register);
    EXPECT_EQ(to().uri.user, "null-%00-null");
    EXPECT_EQ(from().uri.user, "null-%00-null");
    ASSERT_EQ(contacts(), 2u);
    EXPECT_EQ(contact_[0].addr.uri.user, "%00");
    EXPECT_EQ(contact_[1].addr.uri.user, "%00%00");
    EXPECT_EQ(msg_.contentLength(), 0);  // "L:0"
}

// §3.1.1.5 Use of % When It Is Not an Escape: "RE%47IST%45R" is not REGISTER and
// "C%6Fntact" is not Contact.
TEST_F(SipRfc4475Test, Esc02) {
    ASSERT_EQ(load("esc02.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.method(), Method::Other);
    EXPECT_EQ(msg_.methodName(), "RE%47IST%45R");
    EXPECT_EQ(msg_.cseq().method, "RE%47IST%45R");
    EXPECT_EQ(to().display, "%Z%45");
    EXPECT_EQ(from().display, "%Z%45");
    ASSERT_EQ(vias(), 1u);
    EXPECT_EQ(via_[0].transport, "TCP");
    EXPECT_EQ(via_[0].branch, "z9hG4bK209%fzsnel234");
    ASSERT_EQ(contacts(), 2u);
    EXPECT_EQ(contact_[0].addr.uri.user, "alias1");
    EXPECT_EQ(contact_[1].addr.uri.user, "alias3");
    bool saw = false;
    for (const Header& h : msg_.headers()) {
        if (h.name == "C%6Fntact") {
            saw = true;
            EXPECT_EQ(h.type, HeaderType::Other);
        }
    }
    EXPECT_TRUE(saw);
}

// §3.1.1.6 Message with No LWS between Display Name and <.
TEST_F(SipRfc4475Test, Lwsdisp) {
    ASSERT_EQ(load("lwsdisp.dat"), ParseStatus::Ok) << parseErrorName(error_);
    const NameAddr f = from();
    EXPECT_EQ(f.display, "caller");
    EXPECT_EQ(f.uri.user, "caller");
    EXPECT_EQ(f.tag, "323");
}

// §3.1.1.7 Long Values in Header Fields: 34 Via values written with every case and
// spacing of "Via"/"v".
TEST_F(SipRfc4475Test, Longreq) {
    ASSERT_EQ(load("longreq.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.callId().substr(0, 17), "longreq.onereally");
    EXPECT_EQ(msg_.callId().size(), 141u);  // "one" + 20 x "really" + "longcallid"
    EXPECT_EQ(msg_.contentLength(), 150);   // "l: 150"
    EXPECT_EQ(msg_.body().size(), 150u);
    ASSERT_EQ(vias(), 34u);
    EXPECT_EQ(via_[0].host, "sip33.example.com");
    EXPECT_EQ(via_[33].host, "host.example.com");
    EXPECT_EQ(via_[33].received, "192.0.2.5");
    EXPECT_EQ(via_[33].branch.substr(0, 12), "verylonglong");
    const NameAddr t = to();
    EXPECT_EQ(t.display.substr(0, 24), "I have a user name of ex");
    EXPECT_EQ(t.uri.port, 6000);
    std::string_view v;
    EXPECT_TRUE(
        t.uri.param("longparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamen"
                    "amenamenamenamenamenamenamenamenamenamename",
                    v));
    EXPECT_EQ(v, "shortvalue");
    const NameAddr f = from();  // "F:"
    EXPECT_EQ(f.uri.user.substr(0, 23), "amazinglylongcallername");
    EXPECT_EQ(f.tag.substr(0, 10), "1298298298");
    ASSERT_EQ(contacts(), 1u);
}

// §3.1.1.8 Extra Trailing Octets in a UDP Datagram: only the REGISTER counts; the INVITE
// after it is noise (RFC 3261 §18.3) reported as trailing bytes.
TEST_F(SipRfc4475Test, Dblreq) {
    ASSERT_EQ(load("dblreq.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.method(), Method::Register);
    EXPECT_EQ(msg_.callId(), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");  // "I:"
    EXPECT_EQ(msg_.contentLength(), 0);
    EXPECT_TRUE(msg_.body().empty());
    EXPECT_EQ(msg_.trailingBytes(), 450u);
    EXPECT_EQ(msg_.raw().size() + msg_.trailingBytes(), data_.size());
    EXPECT_EQ(msg_.raw().substr(msg_.raw().size() - 4), "\r\n\r\n");
    // Had it come on a stream, the rest would be the next message.
    const std::string_view rest = std::string_view(data_).substr(msg_.raw().size());
    Message next;
    ParseOptions stream;
    stream.datagram = false;
    ASSERT_EQ(parse(rest, next, nullptr, stream), ParseStatus::Ok);
    EXPECT_EQ(next.method(), Method::Invite);
    EXPECT_EQ(next.callId(), "dblreq.0ha0isnda977644900765@192.0.2.15");
    Sdp sdp;
    ASSERT_TRUE(next.sdp(sdp));
    EXPECT_EQ(sdp.media_count, 1u);  // "m =video" is not an SDP line
}

// §3.1.1.9 Semicolon-Separated Parameters in URI User Part.
TEST_F(SipRfc4475Test, Semiuri) {
    ASSERT_EQ(load("semiuri.dat"), ParseStatus::Ok) << parseErrorName(error_);
    Uri ruri;
    ASSERT_TRUE(parseUri(msg_.requestUri(), ruri));
    EXPECT_EQ(ruri.user, "user;par=u%40example.net");
    EXPECT_EQ(ruri.host, "example.com");
    EXPECT_TRUE(ruri.params.empty());
    const Header* accept = msg_.first(HeaderType::Accept);
    ASSERT_NE(accept, nullptr);
    EXPECT_EQ(accept->value.substr(0, 16), "application/sdp,");
    EXPECT_EQ(accept->value.substr(accept->value.size() - 15), "message/sipfrag");
}

// §3.1.1.10 Varied and Unknown Transport Types.
TEST_F(SipRfc4475Test, Transports) {
    ASSERT_EQ(load("transports.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.callId(), "transports.kijh4akdnaqjkwendsasfdj");
    ASSERT_EQ(vias(), 5u);
    EXPECT_EQ(via_[0].transport, "UDP");
    EXPECT_EQ(via_[1].transport, "SCTP");
    EXPECT_EQ(via_[2].transport, "TLS");
    EXPECT_EQ(via_[3].transport, "UNKNOWN");
    EXPECT_EQ(via_[4].transport, "TCP");
    EXPECT_EQ(via_[3].protocol, "SIP/2.0/UNKNOWN");
    EXPECT_EQ(via_[4].host, "t5.example.com");
}

// §3.1.1.11 Multipart MIME Message: text/plain and binary parts, no SDP.
TEST_F(SipRfc4475Test, Mpart01) {
    ASSERT_EQ(load("mpart01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.method(), Method::Message);
    EXPECT_EQ(msg_.callId(), "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..");
    EXPECT_EQ(msg_.contentLength(), 553);
    EXPECT_EQ(msg_.body().size(), 553u);
    EXPECT_EQ(msg_.trailingBytes(), 0u);
    Sdp sdp;
    EXPECT_FALSE(msg_.sdp(sdp));
    ASSERT_EQ(vias(), 1u);
    EXPECT_TRUE(via_[0].has_rport);
    EXPECT_EQ(via_[0].rport, "");
    EXPECT_EQ(via_[0].port, 5070);
}

// §3.1.1.12 Unusual Reason Phrase: UTF-8 and punctuation are kept as written.
TEST_F(SipRfc4475Test, Unreason) {
    ASSERT_EQ(load("unreason.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_FALSE(msg_.isRequest());
    EXPECT_EQ(msg_.statusCode(), 200);
    EXPECT_EQ(msg_.reason().substr(0, 14), "= 2**3 * 5**2 ");
    EXPECT_EQ(msg_.reason().substr(msg_.reason().size() - 14), "простое");
    EXPECT_EQ(msg_.cseq().method, "INVITE");
}

// §3.1.1.13 Empty Reason Phrase.
TEST_F(SipRfc4475Test, Noreason) {
    ASSERT_EQ(load("noreason.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.statusCode(), 100);
    EXPECT_EQ(msg_.reason(), "");
    EXPECT_EQ(msg_.callId(), "noreason.asndj203insdf99223ndf");
}

// ---- §3.1.2 invalid messages ----

// §3.1.2.1 Extraneous Header Field Separators. TOLERANT: the empty Via and Contact elements
// and parameters (";;,;,,") are skipped; the one real value of each is read.
TEST_F(SipRfc4475Test, Badinv01) {
    ASSERT_EQ(load("badinv01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(vias(), 1u);
    EXPECT_EQ(via_[0].host, "192.0.2.15");
    EXPECT_EQ(via_[0].branch, "");
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.display, "Joe");
    EXPECT_EQ(contact_[0].addr.uri.user, "joe");
}

// §3.1.2.2 Content Length Larger Than Message. Datagram: TOLERANT, the body is kept
// truncated (a monitor also sees first IP fragments). Stream: REJECTED, TruncatedBody.
TEST_F(SipRfc4475Test, Clerr) {
    ASSERT_EQ(load("clerr.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.contentLength(), 9999);
    EXPECT_EQ(msg_.body().size(), 154u);
    ParseOptions stream;
    stream.datagram = false;
    ASSERT_EQ(load("clerr.dat", stream), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::TruncatedBody);
    EXPECT_EQ(msg_.callId(), "clerr.0ha0isndaksdjweiafasdk3");
}

// §3.1.2.3 Negative Content-Length. REJECTED: BadContentLength (the body cannot be framed).
TEST_F(SipRfc4475Test, Ncl) {
    ASSERT_EQ(load("ncl.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadContentLength);
    EXPECT_EQ(msg_.callId(), "ncl.0ha0isndaksdj2193423r542w35");  // still reported
    EXPECT_EQ(std::string_view(data_).substr(msg_.errorOffset(), 15), "Content-Length:");
}

// §3.1.2.4 Request Scalar Fields with Overlarge Values. REJECTED: BadCSeq (CSeq number not
// below 2**31, RFC 3261 §8.1.1.5). The other values read as: Max-Forwards 300 is bad (-1),
// Expires values are clamped to 2**32-1 (RFC 3261 §20.19).
TEST_F(SipRfc4475Test, Scalar02) {
    ASSERT_EQ(load("scalar02.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadCSeq);
    EXPECT_EQ(msg_.callId(), "scalar02.23o0pd9vanlq3wnrlnewofjas9ui32");
    EXPECT_EQ(msg_.maxForwards(), -1);
    EXPECT_EQ(msg_.expires(), 4294967295);
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].expires, 4294967295);
}

// §3.1.2.5 Response Scalar Fields with Overlarge Values. REJECTED: BadCSeq.
TEST_F(SipRfc4475Test, Scalarlg) {
    ASSERT_EQ(load("scalarlg.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadCSeq);
    EXPECT_EQ(msg_.statusCode(), 503);
    EXPECT_EQ(msg_.callId(), "scalarlg.noase0of0234hn2qofoaf0232aewf2394r");
}

// §3.1.2.6 Unterminated Quoted String in Display Name. TOLERANT for the message (framing and
// identity are fine), but to() refuses the To value instead of guessing where the quote ends.
TEST_F(SipRfc4475Test, Quotbal) {
    ASSERT_EQ(load("quotbal.dat"), ParseStatus::Ok) << parseErrorName(error_);
    NameAddr na;
    EXPECT_FALSE(msg_.to(na));
    EXPECT_EQ(from().tag, "93334");
    EXPECT_EQ(msg_.callId(), "quotbal.aksdj");
}

// §3.1.2.7 <> Enclosing Request-URI. REJECTED: BadRequestUri.
TEST_F(SipRfc4475Test, Ltgtruri) {
    ASSERT_EQ(load("ltgtruri.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadRequestUri);
    EXPECT_EQ(msg_.errorOffset(), 7u);
}

// §3.1.2.8 Malformed SIP Request-URI (embedded LWS). REJECTED: BadRequestUri.
TEST_F(SipRfc4475Test, Lwsruri) {
    ASSERT_EQ(load("lwsruri.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadRequestUri);
}

// §3.1.2.9 Multiple SP Separating Request-Line Elements. TOLERANT, as the RFC allows.
TEST_F(SipRfc4475Test, Lwsstart) {
    ASSERT_EQ(load("lwsstart.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.method(), Method::Invite);
    EXPECT_EQ(msg_.requestUri(), "sip:user@example.com");
    EXPECT_EQ(msg_.version(), "2.0");
}

// §3.1.2.10 SP Characters at End of Request-Line. TOLERANT, as the RFC allows.
TEST_F(SipRfc4475Test, Trws) {
    ASSERT_EQ(load("trws.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.requestUri(), "sip:remote-target@example.com");
    EXPECT_EQ(msg_.version(), "2.0");
}

// §3.1.2.11 Escaped Headers in SIP Request-URI. TOLERANT, as the RFC allows; the headers
// are visible through parseUri.
TEST_F(SipRfc4475Test, Escruri) {
    ASSERT_EQ(load("escruri.dat"), ParseStatus::Ok) << parseErrorName(error_);
    Uri ruri;
    ASSERT_TRUE(parseUri(msg_.requestUri(), ruri));
    EXPECT_EQ(ruri.host, "example.com");
    EXPECT_EQ(ruri.headers, "Route=%3Csip:example.com%3E");
}

// §3.1.2.12 Invalid Time Zone in Date Header Field. TOLERANT: Date is not interpreted.
TEST_F(SipRfc4475Test, Baddate) {
    ASSERT_EQ(load("baddate.dat"), ParseStatus::Ok) << parseErrorName(error_);
    Sdp sdp;
    ASSERT_TRUE(msg_.sdp(sdp));
    EXPECT_EQ(sdp.media_count, 2u);
}

// §3.1.2.13 Failure to Enclose name-addr URI in <>. TOLERANT: the brackets are inferred, as
// the RFC allows when unambiguous.
TEST_F(SipRfc4475Test, Regbadct) {
    ASSERT_EQ(load("regbadct.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.uri.host, "example.com");
    EXPECT_EQ(contact_[0].addr.uri.headers, "Route=%3Csip:sip.example.com%3E");
}

// §3.1.2.14 Spaces within addr-spec. TOLERANT: the spaces inside <> are ignored.
TEST_F(SipRfc4475Test, Badaspec) {
    ASSERT_EQ(load("badaspec.dat"), ParseStatus::Ok) << parseErrorName(error_);
    const NameAddr t = to();
    EXPECT_EQ(t.display, "Watson, Thomas");
    EXPECT_EQ(t.uri.original, "sip:t.watson@example.org");
    EXPECT_EQ(from().display, "Bell, Alexander");
}

// §3.1.2.15 Non-token Characters in Display Name. The resiprocate copy of this message lacks
// the empty line that ends the headers: on a stream it is REJECTED as NoHeaderEnd; as a
// datagram its end ends the headers. Either way the display names are parsed TOLERANTLY,
// inferring the missing quotes as the RFC allows.
TEST_F(SipRfc4475Test, Baddn) {
    ASSERT_EQ(load("baddn.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ParseOptions on_stream;
    on_stream.datagram = false;
    ASSERT_EQ(parse(data_, msg_, &error_, on_stream), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::NoHeaderEnd);
    EXPECT_EQ(msg_.errorOffset(), data_.size());
    data_ += "\r\n";
    ASSERT_EQ(parse(data_, msg_, &error_), ParseStatus::Ok) << parseErrorName(error_);
    const NameAddr f = from();
    EXPECT_EQ(f.display, "Bell, Alexander");
    EXPECT_EQ(f.tag, "43");
    EXPECT_EQ(to().display, "Watson, Thomas");
    EXPECT_EQ(to().uri.user, "t.watson");
}

// §3.1.2.16 Unknown Protocol Version. REJECTED: BadVersion (a UAS answers 505).
TEST_F(SipRfc4475Test, Badvers) {
    ASSERT_EQ(load("badvers.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadVersion);
}

// §3.1.2.17 Start Line and CSeq Method Mismatch. REJECTED: BadCSeq.
TEST_F(SipRfc4475Test, Mismatch01) {
    ASSERT_EQ(load("mismatch01.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadCSeq);
    EXPECT_EQ(msg_.callId(), "mismatch01.dj0234sxdfl3");
}

// §3.1.2.18 Unknown Method with CSeq Method Mismatch. REJECTED: BadCSeq.
TEST_F(SipRfc4475Test, Mismatch02) {
    ASSERT_EQ(load("mismatch02.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadCSeq);
    EXPECT_EQ(msg_.methodName(), "NEWMETHOD");
}

// §3.1.2.19 Overlarge Response Code. REJECTED: BadStatusCode.
TEST_F(SipRfc4475Test, Bigcode) {
    ASSERT_EQ(load("bigcode.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadStatusCode);
    EXPECT_EQ(msg_.errorOffset(), 8u);
}

// ---- §3.2 transaction-layer semantics ----

// §3.2.1 Missing Transaction Identifier: syntactically fine; branch is just the cookie.
TEST_F(SipRfc4475Test, Badbranch) {
    ASSERT_EQ(load("badbranch.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(vias(), 1u);
    EXPECT_EQ(via_[0].branch, "z9hG4bK");
}

// ---- §3.3 application-layer semantics ----

// §3.3.1 Missing Required Header Fields. REJECTED: MissingCallId (first missing of Call-ID,
// From, To); accepted when mandatory headers are not required.
TEST_F(SipRfc4475Test, Insuf) {
    ASSERT_EQ(load("insuf.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::MissingCallId);
    ParseOptions lax;
    lax.require_mandatory = false;
    ASSERT_EQ(load("insuf.dat", lax), ParseStatus::Ok);
    EXPECT_EQ(msg_.cseq().number, 193942u);
    EXPECT_EQ(msg_.contentLength(), 152);
}

// §3.3.2 Request-URI with Unknown Scheme: a valid message; parseUri does not understand it.
TEST_F(SipRfc4475Test, Unkscm) {
    ASSERT_EQ(load("unkscm.dat"), ParseStatus::Ok) << parseErrorName(error_);
    Uri ruri;
    EXPECT_FALSE(parseUri(msg_.requestUri(), ruri));
    EXPECT_EQ(ruri.scheme, "nobodyKnowsThisScheme");
    EXPECT_EQ(ruri.original, "nobodyKnowsThisScheme:totallyopaquecontent");
}

// §3.3.3 Request-URI with Known but Atypical Scheme.
TEST_F(SipRfc4475Test, Novelsc) {
    ASSERT_EQ(load("novelsc.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.requestUri(), "soap.beep://192.0.2.103:3002");
    Uri ruri;
    EXPECT_FALSE(parseUri(msg_.requestUri(), ruri));
    EXPECT_EQ(ruri.scheme, "soap.beep");
}

// §3.3.4 Unknown URI Schemes in Header Fields: the name-addrs parse with opaque URIs.
TEST_F(SipRfc4475Test, Unksm2) {
    ASSERT_EQ(load("unksm2.dat"), ParseStatus::Ok) << parseErrorName(error_);
    const NameAddr t = to();
    EXPECT_EQ(t.uri.scheme, "isbn");
    EXPECT_EQ(t.uri.original, "isbn:2983792873");
    const NameAddr f = from();
    EXPECT_EQ(f.uri.scheme, "http");
    EXPECT_EQ(f.tag, "3234233");
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.uri.original, "name:John_Smith");
}

// §3.3.5 Proxy-Require and Require: nothing for the parser to object to.
TEST_F(SipRfc4475Test, Bext01) {
    ASSERT_EQ(load("bext01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(vias(), 1u);
    EXPECT_EQ(via_[0].transport, "TLS");
    EXPECT_EQ(via_[0].host, "fold-and-staple.example.com");
}

// §3.3.6 Unknown Content-Type: the body is kept, it just is not SDP.
TEST_F(SipRfc4475Test, Invut) {
    ASSERT_EQ(load("invut.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.body().size(), 40u);
    Sdp sdp;
    EXPECT_FALSE(msg_.sdp(sdp));
}

// §3.3.7 Unknown Authorization Scheme: the scheme is reported, no Digest fields.
TEST_F(SipRfc4475Test, Regaut01) {
    ASSERT_EQ(load("regaut01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    Credentials cred;
    ASSERT_TRUE(msg_.credentials(cred));
    EXPECT_EQ(cred.scheme, "NoOneKnowsThisScheme");
    EXPECT_EQ(cred.username, "");
    EXPECT_EQ(cred.opaque, "");  // "opaque-data" is another parameter
}

// §3.3.8 Multiple Values in Single Value Required Fields. REJECTED: BadCSeq, because the two
// CSeq values (5 and 59) contradict each other and transactions cannot be matched. The first
// Call-ID is kept for the parse-error event.
TEST_F(SipRfc4475Test, Multi01) {
    ASSERT_EQ(load("multi01.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadCSeq);
    EXPECT_EQ(msg_.callId(), "multi01.98asdh@192.0.2.1");
    EXPECT_EQ(msg_.cseq().number, 5u);
}

// §3.3.9 Multiple Content-Length Values. REJECTED: BadContentLength (framing is ambiguous).
TEST_F(SipRfc4475Test, Mcl01) {
    ASSERT_EQ(load("mcl01.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadContentLength);
    EXPECT_EQ(msg_.callId(), "mcl01.fhn2323orihawfdoa3o4r52o3irsdf");
}

// §3.3.10 200 OK Response with Broadcast Via Header Field Value.
TEST_F(SipRfc4475Test, Bcast) {
    ASSERT_EQ(load("bcast.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.statusCode(), 200);
    EXPECT_EQ(msg_.reason(), "OK");
    ASSERT_EQ(vias(), 2u);
    EXPECT_EQ(via_[1].host, "255.255.255.255");
    Sdp sdp;
    ASSERT_TRUE(msg_.sdp(sdp));
    EXPECT_EQ(sdp.origin_address, "192.0.2.198");
}

// §3.3.11 Max-Forwards of Zero.
TEST_F(SipRfc4475Test, Zeromf) {
    ASSERT_EQ(load("zeromf.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.maxForwards(), 0);
}

// §3.3.12 REGISTER with a Contact Header Parameter: "unknownparam" belongs to the header.
TEST_F(SipRfc4475Test, Cparam01) {
    ASSERT_EQ(load("cparam01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.uri.user, "+19725552222");
    EXPECT_EQ(contact_[0].addr.uri.params, "");
    EXPECT_EQ(contact_[0].addr.params, "unknownparam");
}

// §3.3.13 REGISTER with a URL Parameter: "unknownparam" belongs to the URI.
TEST_F(SipRfc4475Test, Cparam02) {
    ASSERT_EQ(load("cparam02.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.uri.params, "unknownparam");
    EXPECT_EQ(contact_[0].addr.params, "");
}

// §3.3.14 REGISTER with a URL Escaped Header (compact "M:").
TEST_F(SipRfc4475Test, Regescrt) {
    ASSERT_EQ(load("regescrt.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_EQ(contacts(), 1u);
    EXPECT_EQ(contact_[0].addr.uri.headers, "Route=%3Csip:sip.example.com%3E");
}

// §3.3.15 Unacceptable Accept Offering: the message itself is fine.
TEST_F(SipRfc4475Test, Sdp01) {
    ASSERT_EQ(load("sdp01.dat"), ParseStatus::Ok) << parseErrorName(error_);
    ASSERT_NE(msg_.first(HeaderType::Accept), nullptr);
    EXPECT_EQ(msg_.first(HeaderType::Accept)->value, "text/nobodyKnowsThis");
    Sdp sdp;
    ASSERT_TRUE(msg_.sdp(sdp));
    ASSERT_EQ(sdp.media_count, 2u);
    EXPECT_EQ(sdp.media[1].media, "video");
    EXPECT_EQ(sdp.media[1].port, 3227);
    ASSERT_EQ(sdp.media[1].codec_count, 1u);
    EXPECT_EQ(sdp.media[1].codecs[0], "LPC");
}

// ---- §3.4 backward compatibility ----

// §3.4.1 INVITE with RFC 2543 Syntax: no branch, no tag, no Max-Forwards, no Content-Length.
// Datagram: the body is the rest of the packet. Stream: REJECTED, BadContentLength (RFC 3261
// §18.3 requires Content-Length on streams).
TEST_F(SipRfc4475Test, Inv2543) {
    ASSERT_EQ(load("inv2543.dat"), ParseStatus::Ok) << parseErrorName(error_);
    EXPECT_EQ(msg_.contentLength(), -1);
    EXPECT_EQ(msg_.body().size(), 105u);
    EXPECT_EQ(msg_.maxForwards(), -1);
    EXPECT_EQ(from().tag, "");
    EXPECT_EQ(to().uri.user, "+16505552222");
    ASSERT_EQ(vias(), 1u);
    EXPECT_EQ(via_[0].branch, "");
    EXPECT_EQ(via_[0].host, "iftgw.example.com");
    Sdp sdp;
    ASSERT_TRUE(msg_.sdp(sdp));
    EXPECT_EQ(sdp.media_count, 1u);
    ParseOptions stream;
    stream.datagram = false;
    ASSERT_EQ(load("inv2543.dat", stream), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadContentLength);
    EXPECT_EQ(msg_.contentLength(), -1);
}

// test.dat is resiprocate's own (not in RFC 4475): a Request-Line without SIP-Version.
// REJECTED: BadFirstLine.
TEST_F(SipRfc4475Test, ResiprocateTestDat) {
    ASSERT_EQ(load("test.dat"), ParseStatus::Malformed);
    EXPECT_EQ(error_, ParseError::BadFirstLine);
}

// Every file in the directory parses without crashing under both semantics (ASan/UBSan
// builds check the "never read past the input" rule here too).
TEST_F(SipRfc4475Test, AllFilesBothSemantics) {
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir())) {
        if (e.path().extension() != ".dat") {
            continue;
        }
        ++files;
        for (bool datagram : {true, false}) {
            ParseOptions o;
            o.datagram = datagram;
            load(e.path().filename().string(), o);
            EXPECT_NE(error_, ParseError::Count) << e.path();
            std::array<Via, 4> v;
            std::array<Contact, 4> c;
            NameAddr na;
            Sdp sdp;
            Credentials cred;
            Challenge ch;
            msg_.vias(v);
            msg_.contacts(c);
            msg_.from(na);
            msg_.to(na);
            msg_.sdp(sdp);
            msg_.credentials(cred);
            msg_.challenge(ch);
        }
    }
    EXPECT_EQ(files, 50u);
}

}  // namespace
}  // namespace sipbeat::sip
