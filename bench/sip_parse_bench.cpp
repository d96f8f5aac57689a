// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark of the SIP parser (SPEC §13): messages/s on one core for a typical INVITE
// with SDP, its 200 OK, and a REGISTER, parse only and parse plus the accessors the call and
// message events use. Standalone:
//   g++ -std=c++20 -O2 -I. beat/sip/*.cpp bench/sip_parse_bench.cpp -o /tmp/sip_parse_bench
#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "beat/sip/message.h"

namespace {

namespace sip = sipbeat::sip;

std::string crlf(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') {
            out.push_back('\r');
        }
        out.push_back(c);
    }
    return out;
}

const std::string kSdp = crlf(
    "v=0\n"
    "o=- 3912541337 3912541337 IN IP4 198.51.100.7\n"
    "s=-\n"
    "c=IN IP4 198.51.100.7\n"
    "t=0 0\n"
    "m=audio 40000 RTP/AVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=sendrecv\n");

std::string withBody(std::string_view head, const std::string& body) {
    return crlf(std::string(head) + "Content-Length: " + std::to_string(body.size()) + "\n\n") +
           body;
}

const std::string kInvite = withBody(
    "INVITE sip:+4930555123@sip.example.net;user=phone SIP/2.0\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-524287-1---7c7e9c5c2a3b2f1d;rport\n"
    "Max-Forwards: 70\n"
    "Contact: <sip:alice@198.51.100.7:5060;transport=UDP>\n"
    "To: <sip:+4930555123@sip.example.net;user=phone>\n"
    "From: \"Alice\" <sip:alice@sip.example.net>;tag=8c4a1b6f\n"
    "Call-ID: NjA3ZGQ3YjM4MGI4ZmQ5ZWM2NjM4NzU0ZGM0ZTA2NzE\n"
    "CSeq: 1 INVITE\n"
    "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\n"
    "Content-Type: application/sdp\n"
    "Supported: replaces, norefersub, extended-refer, timer, outbound, path, X-cisco-serviceuri\n"
    "User-Agent: Z 5.5.12 v2.10.19.9\n"
    "Allow-Events: presence, kpml, talk\n",
    kSdp);

const std::string kOk = withBody(
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP "
    "198.51.100.7:5060;branch=z9hG4bK-524287-1---7c7e9c5c2a3b2f1d;rport=5060;received=203.0.113.9\n"
    "Record-Route: <sip:203.0.113.1;lr;ftag=8c4a1b6f>\n"
    "Contact: <sip:+4930555123@203.0.113.50:5060>\n"
    "To: <sip:+4930555123@sip.example.net;user=phone>;tag=as5f8e7c1d\n"
    "From: \"Alice\" <sip:alice@sip.example.net>;tag=8c4a1b6f\n"
    "Call-ID: NjA3ZGQ3YjM4MGI4ZmQ5ZWM2NjM4NzU0ZGM0ZTA2NzE\n"
    "CSeq: 1 INVITE\n"
    "Server: Asterisk PBX 18.10.0\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE\n"
    "Supported: replaces, timer\n"
    "Content-Type: application/sdp\n",
    kSdp);

const std::string kRegister = withBody(
    "REGISTER sip:sip.example.net SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.44:5060;branch=z9hG4bK-d8754z-1f2e3d4c5b6a7988\n"
    "Max-Forwards: 70\n"
    "Contact: <sip:bob@192.0.2.44:5060;rinstance=6ad3c7a3b5b6b1e2>;expires=3600\n"
    "To: <sip:bob@sip.example.net>\n"
    "From: <sip:bob@sip.example.net>;tag=0e5a7c3b\n"
    "Call-ID: ZjM2MjYxYzYwNDBhMzE4ZjQ3OWQ2ZjQ2NzI1MmQ4MTU.\n"
    "CSeq: 2 REGISTER\n"
    "Authorization: Digest username=\"bob\",realm=\"sip.example.net\",nonce=\"5f1c2e3d4b\","
    "uri=\"sip:sip.example.net\",response=\"0a1b2c3d4e5f60718293a4b5c6d7e8f9\",algorithm=MD5\n"
    "User-Agent: Z 5.5.12 v2.10.19.9\n",
    "");

template <typename T>
void keep(const T& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

double rate(const std::string& text, bool accessors, size_t iterations) {
    sip::Message msg;
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < iterations; ++i) {
        keep(text.data());
        sip::ParseError error = sip::ParseError::None;
        if (sip::parse(text, msg, &error) != sip::ParseStatus::Ok) {
            std::fprintf(stderr, "parse failed: %s\n", sip::parseErrorName(error).data());
            return 0;
        }
        keep(msg.callId().data());
        if (accessors) {
            // What the events read: From/To tags and URIs, top Via, Contact, auth, SDP.
            sip::NameAddr from;
            sip::NameAddr to;
            msg.from(from);
            msg.to(to);
            std::array<sip::Via, 1> via;
            msg.vias(via);
            std::array<sip::Contact, 1> contact;
            msg.contacts(contact);
            sip::Credentials cred;
            msg.credentials(cred);
            sip::Sdp sdp;
            msg.sdp(sdp);
            keep(from.tag.data());
            keep(to.tag.data());
            keep(via[0].branch.data());
            keep(contact[0].addr.uri.host.data());
            keep(cred.username.data());
            keep(sdp.media_count);
        }
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return static_cast<double>(iterations) / elapsed.count();
}

}  // namespace

int main() {
    constexpr size_t kIterations = 2'000'000;
    struct Case {
        const char* name;
        const std::string* text;
    };
    const std::array<Case, 3> cases{{
        {"INVITE+SDP", &kInvite},
        {"200 OK+SDP", &kOk},
        {"REGISTER+auth", &kRegister},
    }};
    std::printf("%-14s %6s %16s %22s\n", "message", "bytes", "parse msgs/s",
                "parse+accessors msgs/s");
    for (const Case& c : cases) {
        rate(*c.text, true, kIterations / 10);  // warm-up
        const double parse_only = rate(*c.text, false, kIterations);
        const double with_accessors = rate(*c.text, true, kIterations);
        std::printf("%-14s %6zu %16.0f %22.0f\n", c.name, c.text->size(), parse_only,
                    with_accessors);
    }
    return 0;
}
