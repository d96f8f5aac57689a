// SPDX-License-Identifier: Apache-2.0
// Authorization / Proxy-Authorization credentials and WWW-/Proxy-Authenticate challenges
// (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1; Digest params from RFC 2617 §3.2).
#include <span>

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

namespace {

struct ParamSlot {
    std::string_view name;
    std::string_view* field;
};

// Fills the fields named in `slots` from comma-separated auth-params (RFC 3261 §25.1
// digest-cln / digest-response); the first occurrence of a parameter wins, unknown ones are
// skipped.
void fillAuthParams(std::string_view params, std::span<const ParamSlot> slots) noexcept {
    lex::ParamList list(params, ',');
    std::string_view name;
    std::string_view value;
    bool has_value = false;
    while (list.next(name, value, has_value)) {
        for (const ParamSlot& slot : slots) {
            if (lex::iequals(name, slot.name)) {
                if (slot.field->empty()) {
                    *slot.field = value;
                }
                break;
            }
        }
    }
}

}  // namespace

bool Message::credentials(Credentials& out) const noexcept {
    out = Credentials{};
    const Header* h = firstOf(*this, HeaderType::Authorization, HeaderType::ProxyAuthorization);
    std::string_view params;
    if (h == nullptr || !splitScheme(h->value, out.scheme, params)) {
        return false;
    }
    // Unknown schemes (RFC 4475 §3.3.7) keep their scheme and leave the Digest fields empty
    // unless they happen to use the same parameter names.
    const ParamSlot slots[] = {
        {"username", &out.username}, {"realm", &out.realm},
        {"nonce", &out.nonce},       {"uri", &out.uri},
        {"response", &out.response}, {"algorithm", &out.algorithm},
        {"cnonce", &out.cnonce},     {"opaque", &out.opaque},
        {"qop", &out.qop},           {"nc", &out.nc},
    };
    fillAuthParams(params, slots);
    return true;
}

bool Message::challenge(Challenge& out) const noexcept {
    out = Challenge{};
    const Header* h = firstOf(*this, HeaderType::WwwAuthenticate, HeaderType::ProxyAuthenticate);
    std::string_view params;
    if (h == nullptr || !splitScheme(h->value, out.scheme, params)) {
        return false;
    }
    const ParamSlot slots[] = {
        {"realm", &out.realm},         {"nonce", &out.nonce}, {"opaque", &out.opaque},
        {"algorithm", &out.algorithm}, {"qop", &out.qop},     {"domain", &out.domain},
        {"stale", &out.stale},
    };
    fillAuthParams(params, slots);
    return true;
}

}  // namespace sipbeat::sip
