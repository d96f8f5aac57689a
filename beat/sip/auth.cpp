// SPDX-License-Identifier: Apache-2.0
// Authorization / Proxy-Authorization credentials and WWW-/Proxy-Authenticate challenges
// (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1; Digest params from RFC 2617 §3.2).
#include "beat/sip/lex.h"
#include "beat/sip/message.h"

namespace sipbeat::sip {

namespace {

// challenge / credentials = auth-scheme LWS auth-param *(COMMA auth-param). Returns the
// scheme and the parameter list; false when there is no scheme token.
bool splitScheme(std::string_view value, std::string_view& scheme,
                 std::string_view& params) noexcept {
    value = lex::trim(value);
    const size_t e = lex::skipToken(value, 0);
    if (e == 0 || (e < value.size() && !lex::isLws(value[e]))) {
        return false;
    }
    scheme = value.substr(0, e);
    params = value.substr(e);
    return true;
}

const Header* firstOf(const Message& m, HeaderType a, HeaderType b) noexcept {
    const Header* h = m.first(a);
    return h != nullptr ? h : m.first(b);
}

}  // namespace

bool Message::credentials(Credentials& out) const noexcept {
    out.scheme = out.username = out.realm = out.nonce = out.uri = out.response = {};
    out.algorithm = out.cnonce = out.opaque = out.qop = out.nc = {};
    const Header* h = firstOf(*this, HeaderType::Authorization, HeaderType::ProxyAuthorization);
    std::string_view params;
    if (h == nullptr || !splitScheme(h->value, out.scheme, params)) {
        return false;
    }
    // Unknown schemes (RFC 4475 §3.3.7) keep their scheme and leave the Digest fields empty
    // unless they happen to use the same parameter names.
    lex::ParamList list(params, ',');
    std::string_view name;
    std::string_view value;
    bool has_value = false;
    while (list.next(name, value, has_value)) {
        std::string_view* field = nullptr;
        if (lex::iequals(name, "username")) {
            field = &out.username;
        } else if (lex::iequals(name, "realm")) {
            field = &out.realm;
        } else if (lex::iequals(name, "nonce")) {
            field = &out.nonce;
        } else if (lex::iequals(name, "uri")) {
            field = &out.uri;
        } else if (lex::iequals(name, "response")) {
            field = &out.response;
        } else if (lex::iequals(name, "algorithm")) {
            field = &out.algorithm;
        } else if (lex::iequals(name, "cnonce")) {
            field = &out.cnonce;
        } else if (lex::iequals(name, "opaque")) {
            field = &out.opaque;
        } else if (lex::iequals(name, "qop")) {
            field = &out.qop;
        } else if (lex::iequals(name, "nc")) {
            field = &out.nc;
        }
        if (field != nullptr && field->empty()) {
            *field = value;
        }
    }
    return true;
}

bool Message::challenge(Challenge& out) const noexcept {
    out.scheme = out.realm = out.nonce = out.opaque = {};
    out.algorithm = out.qop = out.domain = out.stale = {};
    const Header* h = firstOf(*this, HeaderType::WwwAuthenticate, HeaderType::ProxyAuthenticate);
    std::string_view params;
    if (h == nullptr || !splitScheme(h->value, out.scheme, params)) {
        return false;
    }
    lex::ParamList list(params, ',');
    std::string_view name;
    std::string_view value;
    bool has_value = false;
    while (list.next(name, value, has_value)) {
        std::string_view* field = nullptr;
        if (lex::iequals(name, "realm")) {
            field = &out.realm;
        } else if (lex::iequals(name, "nonce")) {
            field = &out.nonce;
        } else if (lex::iequals(name, "opaque")) {
            field = &out.opaque;
        } else if (lex::iequals(name, "algorithm")) {
            field = &out.algorithm;
        } else if (lex::iequals(name, "qop")) {
            field = &out.qop;
        } else if (lex::iequals(name, "domain")) {
            field = &out.domain;
        } else if (lex::iequals(name, "stale")) {
            field = &out.stale;
        }
        if (field != nullptr && field->empty()) {
            *field = value;
        }
    }
    return true;
}

}  // namespace sipbeat::sip
