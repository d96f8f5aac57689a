// SPDX-License-Identifier: Apache-2.0
// Via (RFC 3261 §20.42, §25.1): every via-parm of every Via header, in order.
#include "beat/sip/lex.h"
#include "beat/sip/message.h"

namespace sipbeat::sip {

namespace {

// via-parm = sent-protocol LWS sent-by *( SEMI via-params )
// sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS
bool parseVia(std::string_view text, Via& out) noexcept {
    out.original = text;
    out.protocol = {};
    out.transport = {};
    out.host = {};
    out.port = 0;
    out.branch = {};
    out.received = {};
    out.rport = {};
    out.has_rport = false;
    size_t i = 0;
    size_t token_end = 0;
    for (int part = 0; part < 3; ++part) {
        if (part > 0) {
            i = lex::skipLws(text, i);
            if (i >= text.size() || text[i] != '/') {
                return false;
            }
            i = lex::skipLws(text, i + 1);
        }
        const size_t b = i;
        i = lex::skipToken(text, i);
        if (i == b) {
            return false;
        }
        token_end = i;
        if (part == 2) {
            out.transport = text.substr(b, i - b);
        }
    }
    // As written: "SIP/2.0/UDP", or with the LWS a sender put around the slashes
    // (RFC 4475 §3.1.1.1).
    out.protocol = text.substr(0, token_end);
    const size_t by = lex::skipLws(text, i);
    if (by == i) {
        return false;
    }
    i = by;
    // sent-by = host [ COLON port ]; host may be an IPv6 reference.
    if (i < text.size() && text[i] == '[') {
        const size_t close = text.find(']', i);
        if (close == std::string_view::npos) {
            return false;
        }
        i = close + 1;
    } else {
        while (i < text.size() && lex::is(text[i], lex::kHost)) {
            ++i;
        }
    }
    out.host = text.substr(by, i - by);
    if (out.host.empty()) {
        return false;
    }
    i = lex::skipLws(text, i);
    if (i < text.size() && text[i] == ':') {
        i = lex::skipLws(text, i + 1);
        const size_t p = i;
        while (i < text.size() && lex::isDigit(text[i])) {
            ++i;
        }
        uint64_t port = 0;
        if (!lex::parseUint(text.substr(p, i - p), 65535, port)) {
            return false;
        }
        out.port = static_cast<uint16_t>(port);
        i = lex::skipLws(text, i);
    }
    if (i >= text.size()) {
        return true;
    }
    if (text[i] != ';') {
        return false;
    }
    lex::ParamList params(text.substr(i + 1), ';');
    std::string_view name;
    std::string_view value;
    bool has_value = false;
    while (params.next(name, value, has_value)) {
        if (lex::iequals(name, "branch")) {
            out.branch = value;
        } else if (lex::iequals(name, "received")) {
            out.received = value;
        } else if (lex::iequals(name, "rport")) {
            // RFC 3581 §3: a flag in requests, with the source port in responses.
            out.rport = value;
            out.has_rport = true;
        }
    }
    return true;
}

}  // namespace

size_t Message::vias(std::span<Via> out) const noexcept {
    size_t count = 0;
    for (size_t i = 0; i < header_count_ && count < out.size(); ++i) {
        if (headers_[i].type != HeaderType::Via) {
            continue;
        }
        lex::CommaList list(headers_[i].value);
        std::string_view item;
        while (count < out.size() && list.next(item)) {
            // Empty or broken values (RFC 4475 §3.1.2.1: "192.0.2.15;;,;,,") are skipped.
            if (parseVia(item, out[count])) {
                ++count;
            }
        }
    }
    return count;
}

}  // namespace sipbeat::sip
