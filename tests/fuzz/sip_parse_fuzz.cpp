// SPDX-License-Identifier: Apache-2.0
// Fuzz target: untrusted bytes → SIP parse with datagram and stream semantics, then every
// accessor. Besides the sanitizers' checks, every non-empty view handed out must lie inside
// the input (zero-copy contract); anything else aborts.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "beat/sip/message.h"

namespace sipbeat::sip {
namespace {

struct Checker {
    std::string_view input;

    void view(std::string_view v) const {
        if (v.empty()) {
            return;
        }
        const char* b = input.data();
        if (b == nullptr || v.data() < b || v.data() + v.size() > b + input.size()) {
            std::abort();  // a view escaped the caller's buffer
        }
    }
    void uri(const Uri& u) const {
        for (std::string_view v :
             {u.original, u.scheme, u.user, u.password, u.host, u.params, u.headers}) {
            view(v);
        }
        std::string_view p;
        u.param("transport", p);
        view(p);
        u.param("lr", p);
        view(p);
    }
    void nameAddr(const NameAddr& na) const {
        view(na.display);
        view(na.params);
        view(na.tag);
        uri(na.uri);
        std::string_view p;
        na.param("expires", p);
        view(p);
    }
    void sdp(const Sdp& s) const {
        if (s.media_count > Sdp::kMaxMedia) {
            std::abort();
        }
        for (std::string_view v :
             {s.version, s.origin_username, s.origin_session_id, s.origin_version, s.origin_address,
              s.session_name, s.connection_address, s.connection_info, s.body}) {
            view(v);
        }
        for (size_t i = 0; i < s.media_count; ++i) {
            const SdpMedia& m = s.media[i];
            if (m.codec_count > SdpMedia::kMaxCodecs) {
                std::abort();
            }
            for (std::string_view v :
                 {m.media, m.protocol, m.formats, m.connection_address, m.direction}) {
                view(v);
            }
            for (size_t c = 0; c < m.codec_count; ++c) {
                view(m.codecs[c]);
            }
        }
    }

    void message(const Message& msg) const {
        view(msg.methodName());
        view(msg.requestUri());
        view(msg.reason());
        view(msg.version());
        view(msg.callId());
        view(msg.cseq().method);
        view(msg.body());
        view(msg.raw());
        if (msg.raw().size() + msg.trailingBytes() > input.size() ||
            msg.headers().size() > Message::kMaxHeaders) {
            std::abort();
        }
        for (const Header& h : msg.headers()) {
            view(h.name);
            view(h.value);
            if (headerTypeFromName(h.name) != h.type) {
                std::abort();
            }
            if (h.type == HeaderType::PAssertedIdentity || h.type == HeaderType::Route ||
                h.type == HeaderType::RecordRoute) {
                NameAddr na;
                if (parseNameAddr(h.value, na)) {
                    nameAddr(na);
                }
            }
        }
        (void)msg.first(HeaderType::UserAgent);
        (void)msg.maxForwards();
        (void)msg.expires();
        Uri ruri;
        parseUri(msg.requestUri(), ruri);
        uri(ruri);
        NameAddr na;
        if (msg.from(na)) {
            nameAddr(na);
        }
        if (msg.to(na)) {
            nameAddr(na);
        }
        std::array<Contact, 8> contacts;
        const size_t nc = msg.contacts(contacts);
        if (nc > contacts.size()) {
            std::abort();
        }
        for (size_t i = 0; i < nc; ++i) {
            nameAddr(contacts[i].addr);
        }
        std::array<Via, 8> vias;
        const size_t nv = msg.vias(vias);
        if (nv > vias.size()) {
            std::abort();
        }
        for (size_t i = 0; i < nv; ++i) {
            const Via& v = vias[i];
            for (std::string_view s :
                 {v.original, v.protocol, v.transport, v.host, v.branch, v.received, v.rport}) {
                view(s);
            }
        }
        Credentials cred;
        if (msg.credentials(cred)) {
            for (std::string_view s :
                 {cred.scheme, cred.username, cred.realm, cred.nonce, cred.uri, cred.response,
                  cred.algorithm, cred.cnonce, cred.opaque, cred.qop, cred.nc}) {
                view(s);
            }
        }
        Challenge ch;
        if (msg.challenge(ch)) {
            for (std::string_view s : {ch.scheme, ch.realm, ch.nonce, ch.opaque, ch.algorithm,
                                       ch.qop, ch.domain, ch.stale}) {
                view(s);
            }
        }
        Sdp s;
        if (msg.sdp(s)) {
            sdp(s);
        }
    }
};

}  // namespace
}  // namespace sipbeat::sip

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    namespace sip = sipbeat::sip;
    const sip::Checker check{input};
    static sip::Message msg;  // ~5 KiB: keep it off the stack and reuse it, as the shipper does
    for (const bool datagram : {true, false}) {
        for (const bool mandatory : {true, false}) {
            sip::ParseOptions options;
            options.datagram = datagram;
            options.require_mandatory = mandatory;
            sip::ParseError error = sip::ParseError::Count;
            const sip::ParseStatus status = sip::parse(input, msg, &error, options);
            if ((status == sip::ParseStatus::Ok) != (error == sip::ParseError::None) ||
                error == sip::ParseError::Count || msg.errorOffset() > size) {
                std::abort();
            }
            (void)sip::parseErrorName(error);
            // A Malformed message still exposes what was parsed: it must be as safe to read.
            check.message(msg);
        }
    }
    // The value parsers on their own, fed the raw bytes.
    sip::Uri u;
    sip::parseUri(input, u);
    check.uri(u);
    sip::NameAddr na;
    sip::parseNameAddr(input, na);
    check.nameAddr(na);
    static sip::Sdp sdp;
    if (sip::parseSdp(input, sdp)) {
        check.sdp(sdp);
    }
    return 0;
}
